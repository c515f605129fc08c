//! Text encodings: the dropdown list, an encoder that refuses what it cannot represent, and a
//! streaming decoder per peer so a character split across two reads still decodes right.

use std::fmt;
use std::str::FromStr;

use encoding_rs::{CoderResult, Decoder, EncoderResult, Encoding};

mod decoder;
mod family;
mod fast;

pub use decoder::{Malformed, StreamDecoder};

/// Why text could not be converted; positions are 1-based characters in the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("unknown encoding \"{name}\" (try {})", choices())]
    UnknownEncoding { name: String },
    #[error("'{ch}' at position {position} cannot be encoded in {encoding}")]
    Unencodable {
        ch: char,
        position: usize,
        encoding: &'static str,
    },
}

/// The dropdown names, for error messages.
fn choices() -> String {
    let names: Vec<_> = TextEncoding::all().iter().map(TextEncoding::name).collect();
    names.join(", ")
}

/// A text encoding, chosen by name. Serialized as its name so settings stay readable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextEncoding(&'static Encoding);

/// Names people type that the WHATWG label list (used by `Encoding::for_label`) lacks.
const EXTRA_ALIASES: &[(&str, TextEncoding)] = &[
    ("cp936", TextEncoding::GBK),
    ("utf16le", TextEncoding(&encoding_rs::UTF_16LE_INIT)),
    ("utf16be", TextEncoding(&encoding_rs::UTF_16BE_INIT)),
    ("eucjp", TextEncoding(&encoding_rs::EUC_JP_INIT)),
    ("euckr", TextEncoding(&encoding_rs::EUC_KR_INIT)),
    ("shiftjis", TextEncoding(&encoding_rs::SHIFT_JIS_INIT)),
];

/// The dropdown list: what people debugging devices in East Asia and Europe actually meet.
static ALL: [TextEncoding; 10] = [
    TextEncoding::UTF8,
    TextEncoding::GBK,
    TextEncoding(&encoding_rs::GB18030_INIT),
    TextEncoding(&encoding_rs::BIG5_INIT),
    TextEncoding(&encoding_rs::SHIFT_JIS_INIT),
    TextEncoding(&encoding_rs::EUC_JP_INIT),
    TextEncoding(&encoding_rs::EUC_KR_INIT),
    TextEncoding(&encoding_rs::WINDOWS_1252_INIT),
    TextEncoding(&encoding_rs::UTF_16LE_INIT),
    TextEncoding(&encoding_rs::UTF_16BE_INIT),
];

impl TextEncoding {
    pub const UTF8: TextEncoding = TextEncoding(&encoding_rs::UTF_8_INIT);
    pub const GBK: TextEncoding = TextEncoding(&encoding_rs::GBK_INIT);

    /// Looks an encoding up by name or alias, ignoring case (`GB2312`, `sjis`, `latin1`, …).
    pub fn from_name(name: &str) -> Result<Self, TextError> {
        let label = name.trim();
        EXTRA_ALIASES
            .iter()
            .find(|(alias, _)| alias.eq_ignore_ascii_case(label))
            .map(|&(_, encoding)| encoding)
            // "replacement" is not something anyone can send or read, so it is not offered.
            .or_else(|| Encoding::for_label_no_replacement(label.as_bytes()).map(TextEncoding))
            .ok_or_else(|| TextError::UnknownEncoding { name: name.to_owned() })
    }

    /// Lowercase short name for the dropdown list; other encodings keep their WHATWG name
    /// (e.g. "ISO-8859-2"), which `from_name` accepts back.
    pub fn name(&self) -> &'static str {
        match self.0.name() {
            "UTF-8" => "utf-8",
            "GBK" => "gbk",
            "Big5" => "big5",
            "Shift_JIS" => "shift_jis",
            "EUC-JP" => "euc-jp",
            "EUC-KR" => "euc-kr",
            "UTF-16LE" => "utf-16le",
            "UTF-16BE" => "utf-16be",
            other => other,
        }
    }

    /// The encodings offered in the dropdown, in display order.
    pub fn all() -> &'static [TextEncoding] {
        &ALL
    }

    /// Encodes `text`, refusing characters the encoding cannot represent: a device expecting
    /// GBK must not silently receive "&#128512;" instead of an emoji.
    pub fn encode(&self, text: &str) -> Result<Vec<u8>, TextError> {
        // encoding_rs only encodes UTF-16 as UTF-8 (the web never sends UTF-16), so do it here.
        if self.0 == encoding_rs::UTF_16LE {
            return Ok(text.encode_utf16().flat_map(u16::to_le_bytes).collect());
        }
        if self.0 == encoding_rs::UTF_16BE {
            return Ok(text.encode_utf16().flat_map(u16::to_be_bytes).collect());
        }
        let mut encoder = self.0.new_encoder();
        let mut out = Vec::new();
        let mut read = 0;
        loop {
            let rest = &text[read..];
            let needed = encoder
                .max_buffer_length_from_utf8_without_replacement(rest.len())
                .unwrap_or(rest.len());
            out.reserve(needed);
            let (result, consumed) = encoder.encode_from_utf8_to_vec_without_replacement(rest, &mut out, true);
            read += consumed;
            match result {
                EncoderResult::InputEmpty => return Ok(out),
                EncoderResult::OutputFull => {}
                // The unmappable character is the last one consumed.
                EncoderResult::Unmappable(ch) => {
                    return Err(TextError::Unencodable {
                        ch,
                        position: text[..read].chars().count(),
                        encoding: self.name(),
                    });
                }
            }
        }
    }

    /// A decoder for one byte stream (one peer): keeps an incomplete character between reads.
    pub fn decoder(&self) -> StreamDecoder {
        StreamDecoder::new(self.0, Carry::default())
    }

    /// A decoder that continues a stream whose decoder held `carry` (see [`StreamDecoder::carry`]).
    /// ISO-2022-JP's mode is not in a carry: such a decoder starts in ASCII mode.
    pub fn resume(&self, carry: Carry) -> StreamDecoder {
        StreamDecoder::new(self.0, carry)
    }

    /// Decodes a complete byte string exactly: `None` if any sequence is malformed.
    pub fn decode_exact(&self, bytes: &[u8]) -> Option<String> {
        self.0
            .decode_without_bom_handling_and_without_replacement(bytes)
            .map(|text| text.into_owned())
    }

    /// Whether ASCII bytes mean ASCII characters (every encoding offered but UTF-16).
    pub fn is_ascii_compatible(&self) -> bool {
        self.0.is_ascii_compatible()
    }

    /// Decodes a complete byte string; malformed sequences become U+FFFD.
    pub fn decode_all(&self, bytes: &[u8]) -> String {
        self.0.decode_without_bom_handling(bytes).0.into_owned()
    }
}

impl Default for TextEncoding {
    fn default() -> Self {
        Self::UTF8
    }
}

impl FromStr for TextEncoding {
    type Err = TextError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::from_name(name)
    }
}

impl fmt::Display for TextEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for TextEncoding {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for TextEncoding {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::from_name(&name).map_err(serde::de::Error::custom)
    }
}

/// The bytes of an unfinished character a stream decoder holds between chunks (at most 3 in every
/// encoding it handles). `Copy`, so the view keeps one per chunk and can decode any chunk again on
/// its own, exactly as the stream decoded it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Carry {
    bytes: [u8; 3],
    len: u8,
}

impl Carry {
    fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The last `len` bytes of `head` followed by `tail`.
    fn tail_of(head: &[u8], tail: &[u8], len: usize) -> Carry {
        let mut carry = Carry::default();
        let from_tail = len.min(tail.len());
        let from_head = len - from_tail;
        carry.bytes[..from_head].copy_from_slice(&head[head.len() - from_head..]);
        carry.bytes[from_head..len].copy_from_slice(&tail[tail.len() - from_tail..]);
        carry.len = len as u8;
        carry
    }
}

/// Runs an encoding_rs decoder over `bytes`, growing `out` as it needs.
fn feed(decoder: &mut Decoder, bytes: &[u8], out: &mut String, last: bool) {
    let mut read = 0;
    loop {
        let rest = &bytes[read..];
        let needed = decoder.max_utf8_buffer_length(rest.len()).unwrap_or(rest.len());
        out.reserve(needed);
        let (result, consumed, _) = decoder.decode_to_string(rest, out, last);
        read += consumed;
        if result == CoderResult::InputEmpty {
            return;
        }
    }
}

#[cfg(test)]
mod tests;
