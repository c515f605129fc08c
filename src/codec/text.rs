//! Text encodings: the dropdown list, an encoder that refuses what it cannot represent, and a
//! streaming decoder per peer so a character split across two reads still decodes right.

use std::fmt;
use std::str::FromStr;

use encoding_rs::{CoderResult, Decoder, EncoderResult, Encoding};

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

/// How an encoding's decoder can be in the middle of a character, which decides how the bytes it
/// holds between chunks are found. Every state is a suffix of the input except ISO-2022-JP's mode.
#[derive(Clone, Copy)]
enum Family {
    /// Decoded here: malformed runs in random bytes are 10× faster than in encoding_rs.
    Utf8,
    Utf16 {
        big_endian: bool,
    },
    /// GBK and GB18030 (one WHATWG decoder): up to 3 bytes of a 4-byte sequence.
    Gb18030,
    /// Big5, EUC-KR, Shift_JIS: one lead byte.
    LeadTrail(fn(u8) -> bool),
    /// A lead byte, or 0x8F and a lead byte (JIS X 0212).
    EucJp,
    SingleByte,
    /// A mode that lasts across characters: kept in an encoding_rs decoder.
    Stateful,
}

impl Family {
    fn of(encoding: &'static Encoding) -> Family {
        if encoding == encoding_rs::UTF_8 {
            Family::Utf8
        } else if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
            Family::Utf16 {
                big_endian: encoding == encoding_rs::UTF_16BE,
            }
        } else if encoding == encoding_rs::GBK || encoding == encoding_rs::GB18030 {
            Family::Gb18030
        } else if encoding == encoding_rs::BIG5 || encoding == encoding_rs::EUC_KR {
            Family::LeadTrail(|byte| matches!(byte, 0x81..=0xFE))
        } else if encoding == encoding_rs::SHIFT_JIS {
            Family::LeadTrail(|byte| matches!(byte, 0x81..=0x9F | 0xE0..=0xFC))
        } else if encoding == encoding_rs::EUC_JP {
            Family::EucJp
        } else if encoding.is_single_byte() {
            Family::SingleByte
        } else {
            Family::Stateful
        }
    }

    /// How many bytes at the end of `carry ++ bytes` are an unfinished character, following the
    /// WHATWG decoders' state machines (only the state, not the output). Each scan starts where
    /// the state is known to be empty: after an ASCII byte (after two for GB18030, whose 4-byte
    /// sequences have ASCII digits in them).
    fn pending(self, carry: &[u8], bytes: &[u8]) -> usize {
        match self {
            Family::Utf8 | Family::SingleByte | Family::Stateful => 0,
            Family::Utf16 { big_endian } => {
                let total = carry.len() + bytes.len();
                let odd = total % 2;
                let unit_at = |i: usize| {
                    if i < carry.len() {
                        carry[i]
                    } else {
                        bytes[i - carry.len()]
                    }
                };
                let whole = total - odd;
                if whole < 2 {
                    return odd;
                }
                let (first, second) = (unit_at(whole - 2), unit_at(whole - 1));
                let unit = if big_endian {
                    u16::from_be_bytes([first, second])
                } else {
                    u16::from_le_bytes([first, second])
                };
                // A lead surrogate waits for its trail.
                odd + if (0xD800..=0xDBFF).contains(&unit) { 2 } else { 0 }
            }
            Family::LeadTrail(is_lead) => scan(carry, bytes, 1, 0u8, |lead, byte| {
                if *lead != 0 {
                    *lead = 0;
                } else if is_lead(byte) {
                    *lead = byte;
                }
                usize::from(*lead != 0)
            }),
            Family::EucJp => scan(carry, bytes, 1, (0u8, false), |(lead, jis0212), byte| {
                if *lead == 0x8E && matches!(byte, 0xA1..=0xDF) {
                    *lead = 0;
                } else if *lead == 0x8F && matches!(byte, 0xA1..=0xFE) {
                    (*lead, *jis0212) = (byte, true);
                } else if *lead != 0 {
                    (*lead, *jis0212) = (0, false);
                } else if matches!(byte, 0x8E | 0x8F | 0xA1..=0xFE) {
                    *lead = byte;
                }
                match (*lead, *jis0212) {
                    (0, _) => 0,
                    (_, true) => 2,
                    (_, false) => 1,
                }
            }),
            Family::Gb18030 => scan(carry, bytes, 2, [0u8; 3], |[first, second, third], byte| {
                // An invalid fourth byte restores the second (ASCII) and third (a first byte),
                // which then pairs with this byte: every path out of the third state ends clean.
                if *third != 0 {
                    (*first, *second, *third) = (0, 0, 0);
                } else if *second != 0 {
                    if matches!(byte, 0x81..=0xFE) {
                        *third = byte;
                    } else {
                        (*first, *second) = (0, 0);
                    }
                } else if *first != 0 {
                    if byte.is_ascii_digit() {
                        *second = byte;
                    } else {
                        *first = 0;
                    }
                } else if matches!(byte, 0x81..=0xFE) {
                    *first = byte;
                }
                [*first, *second, *third].iter().filter(|&&b| b != 0).count()
            }),
        }
    }
}

/// Runs a decoder's state machine over the end of `carry ++ bytes`, from just after the last run
/// of `sync` ASCII bytes (where the state is empty), or from the start; returns what `step` said
/// of the state after the last byte.
fn scan<S>(carry: &[u8], bytes: &[u8], sync: usize, mut state: S, mut step: impl FnMut(&mut S, u8) -> usize) -> usize {
    let mut ascii_run = 0;
    let mut from = None;
    for (i, &byte) in bytes.iter().enumerate().rev() {
        if byte.is_ascii() {
            ascii_run += 1;
            if ascii_run == sync {
                from = Some(i + sync);
                break;
            }
        } else {
            ascii_run = 0;
        }
    }
    let mut pending = 0;
    let rest = match from {
        Some(from) => &bytes[from..],
        None => {
            for &byte in carry {
                pending = step(&mut state, byte);
            }
            bytes
        }
    };
    for &byte in rest {
        pending = step(&mut state, byte);
    }
    pending
}

/// Bytes in a UTF-8 sequence that starts with `lead` (0 if it cannot start one).
fn utf8_len(lead: u8) -> usize {
    match lead {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 0,
    }
}

/// Decodes UTF-8 with U+FFFD for each maximal invalid subpart (what encoding_rs and
/// `String::from_utf8_lossy` do), keeping an unfinished character at the end in `carry`.
/// encoding_rs restarts its whole decode loop at each malformed sequence (80% of the time on random
/// bytes); here it costs a few comparisons.
fn decode_utf8(carry: &mut Carry, mut bytes: &[u8], out: &mut String) {
    if carry.len > 0 {
        // Complete the held character with the first bytes of this chunk.
        let held = usize::from(carry.len);
        let needed = utf8_len(carry.bytes[0]);
        let take = (needed - held).min(bytes.len());
        let mut buffer = [0; 4];
        buffer[..held].copy_from_slice(carry.as_slice());
        buffer[held..held + take].copy_from_slice(&bytes[..take]);
        let Some(first) = buffer[..held + take].utf8_chunks().next() else {
            return;
        };
        if let Some(ch) = first.valid().chars().next() {
            out.push(ch);
            bytes = &bytes[ch.len_utf8() - held..];
        } else if held + take < needed && first.invalid().len() == held + take {
            // Still a valid start with nothing more to read.
            *carry = Carry::tail_of(&[], &buffer[..held + take], held + take);
            return;
        } else {
            out.push(char::REPLACEMENT_CHARACTER);
            // The invalid part always covers the held bytes: they were a valid start.
            bytes = &bytes[first.invalid().len() - held..];
        }
        *carry = Carry::default();
    }
    // Valid text goes through the standard library's fast validation; from the first error on,
    // one pass over the bytes.
    let start = match std::str::from_utf8(bytes) {
        Ok(text) => return out.push_str(text),
        Err(error) => error.valid_up_to(),
    };
    out.push_str(std::str::from_utf8(&bytes[..start]).unwrap_or_default());
    out.reserve(3 * (bytes.len() - start));
    const REPLACEMENT: &[u8] = "\u{FFFD}".as_bytes();
    // SAFETY: only ASCII bytes, U+FFFD, and sequences checked to be well-formed UTF-8 (Unicode's
    // table 3-7: the lead's range for the second byte, 80..BF after it) are written.
    let out = unsafe { out.as_mut_vec() };
    let mut i = start;
    while i < bytes.len() {
        let lead = bytes[i];
        if lead.is_ascii() {
            let run = bytes[i..]
                .iter()
                .position(|byte| !byte.is_ascii())
                .unwrap_or(bytes.len() - i);
            out.extend_from_slice(&bytes[i..i + run]);
            i += run;
            continue;
        }
        let needed = utf8_len(lead);
        let second = match lead {
            0xE0 => 0xA0..=0xBF,
            0xED => 0x80..=0x9F,
            0xF0 => 0x90..=0xBF,
            0xF4 => 0x80..=0x8F,
            _ => 0x80..=0xBF,
        };
        // The well-formed prefix of the sequence starting here (the maximal subpart if short).
        let mut len = 1;
        if needed > 0 && bytes.get(i + 1).is_some_and(|byte| second.contains(byte)) {
            len = 2;
            while len < needed && bytes.get(i + len).is_some_and(|byte| (0x80..=0xBF).contains(byte)) {
                len += 1;
            }
        }
        if len == needed {
            out.extend_from_slice(&bytes[i..i + len]);
        } else if needed > 0 && i + len == bytes.len() {
            // An unfinished character at the very end: the next chunk may complete it.
            *carry = Carry::tail_of(&[], &bytes[i..], len);
        } else {
            out.extend_from_slice(REPLACEMENT);
        }
        i += len;
    }
}

/// Decodes one byte stream chunk by chunk. BOMs are data here, not hints: a debugging tool
/// shows what arrived and must not switch encodings behind the user's back.
///
/// Between chunks only the bytes of an unfinished character are kept ([`Carry`]), so a decoder
/// can resume anywhere from a saved carry; each chunk gets a fresh encoding_rs decoder.
pub struct StreamDecoder {
    encoding: &'static Encoding,
    family: Family,
    carry: Carry,
    /// ISO-2022-JP's mode outlives characters: that family keeps a real decoder.
    stateful: Option<Decoder>,
}

impl StreamDecoder {
    fn new(encoding: &'static Encoding, carry: Carry) -> StreamDecoder {
        let family = Family::of(encoding);
        StreamDecoder {
            encoding,
            family,
            carry,
            stateful: matches!(family, Family::Stateful).then(|| encoding.new_decoder_without_bom_handling()),
        }
    }

    /// Decodes the next chunk; an incomplete trailing character waits for the next call.
    /// Malformed sequences become U+FFFD.
    pub fn decode(&mut self, bytes: &[u8]) -> String {
        let mut out = String::new();
        self.decode_into(bytes, &mut out);
        out
    }

    /// Like [`decode`](Self::decode), appending to `out`.
    pub fn decode_into(&mut self, bytes: &[u8], out: &mut String) {
        // encoding_rs's Big5, Shift_JIS and EUC-KR decoders forget a pending lead byte when handed no input
        // (an empty UDP datagram), so that byte's U+FFFD would go missing.
        if bytes.is_empty() {
            return;
        }
        match self.family {
            Family::Utf8 => decode_utf8(&mut self.carry, bytes, out),
            Family::Stateful => {
                let decoder = self
                    .stateful
                    .get_or_insert_with(|| self.encoding.new_decoder_without_bom_handling());
                feed(decoder, bytes, out, false);
            }
            family => {
                let carry = self.carry;
                let pending = family.pending(carry.as_slice(), bytes);
                // The fresh decoder ends holding the same `pending` bytes; they are kept as the carry.
                let mut decoder = self.encoding.new_decoder_without_bom_handling();
                feed(&mut decoder, carry.as_slice(), out, false);
                feed(&mut decoder, bytes, out, false);
                self.carry = Carry::tail_of(carry.as_slice(), bytes, pending);
            }
        }
    }

    /// What this decoder holds between chunks; [`TextEncoding::resume`] continues from it.
    pub fn carry(&self) -> Carry {
        self.carry
    }

    /// Ends the stream: an incomplete trailing character becomes U+FFFD, and the decoder is
    /// ready for a new stream.
    pub fn finish(&mut self) -> String {
        let mut out = String::new();
        let mut decoder = match self.stateful.take() {
            Some(decoder) => decoder,
            None => self.encoding.new_decoder_without_bom_handling(),
        };
        feed(&mut decoder, self.carry.as_slice(), &mut out, true);
        self.carry = Carry::default();
        out
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
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Deserialize;
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error as DeError, StrDeserializer};

    fn enc(name: &str) -> TextEncoding {
        TextEncoding::from_name(name).expect(name)
    }

    #[test]
    fn names_and_aliases() {
        let cases = [
            ("utf-8", "utf-8"),
            ("UTF8", "utf-8"),
            ("gbk", "gbk"),
            ("GB2312", "gbk"),
            ("cp936", "gbk"),
            ("gb18030", "gb18030"),
            ("Big5", "big5"),
            ("shift_jis", "shift_jis"),
            ("SJIS", "shift_jis"),
            ("Shift-JIS", "shift_jis"),
            ("euc-jp", "euc-jp"),
            ("EUC-KR", "euc-kr"),
            ("windows-1252", "windows-1252"),
            ("cp1252", "windows-1252"),
            ("latin1", "windows-1252"),
            ("utf-16le", "utf-16le"),
            ("UTF-16BE", "utf-16be"),
            (" koi8-r ", "KOI8-R"),
            ("iso-8859-2", "ISO-8859-2"),
        ];
        for (input, name) in cases {
            assert_eq!(enc(input).name(), name, "input {input:?}");
        }
    }

    #[test]
    fn dropdown_names_round_trip() {
        let names: Vec<_> = TextEncoding::all().iter().map(|e| e.name()).collect();
        assert_eq!(
            names,
            [
                "utf-8",
                "gbk",
                "gb18030",
                "big5",
                "shift_jis",
                "euc-jp",
                "euc-kr",
                "windows-1252",
                "utf-16le",
                "utf-16be"
            ]
        );
        for &encoding in TextEncoding::all() {
            assert_eq!(encoding.name().parse(), Ok(encoding));
            assert_eq!(encoding.to_string(), encoding.name());
        }
        assert_eq!(TextEncoding::default(), TextEncoding::UTF8);
    }

    #[test]
    fn unknown_names_are_errors() {
        for name in ["xyz", "", "replacement", "iso-2022-kr"] {
            assert_eq!(
                TextEncoding::from_name(name),
                Err(TextError::UnknownEncoding { name: name.to_owned() })
            );
        }
        assert_eq!(
            TextEncoding::from_name("xyz").unwrap_err().to_string(),
            "unknown encoding \"xyz\" (try utf-8, gbk, gb18030, big5, shift_jis, euc-jp, euc-kr, \
             windows-1252, utf-16le, utf-16be)"
        );
    }

    #[test]
    fn serde_uses_the_name() {
        let de: StrDeserializer<DeError> = "GB2312".into_deserializer();
        assert_eq!(TextEncoding::deserialize(de), Ok(TextEncoding::GBK));
        let de: StrDeserializer<DeError> = "klingon".into_deserializer();
        let error = TextEncoding::deserialize(de).unwrap_err().to_string();
        assert!(error.starts_with("unknown encoding \"klingon\""), "{error}");
    }

    #[test]
    fn encodes() {
        let cases: &[(&str, &str, &[u8])] = &[
            ("utf-8", "你好", &[0xE4, 0xBD, 0xA0, 0xE5, 0xA5, 0xBD]),
            ("gbk", "你好A", &[0xC4, 0xE3, 0xBA, 0xC3, 0x41]),
            ("gbk", "€", &[0x80]),
            ("gb18030", "😀", &[0x94, 0x39, 0xFC, 0x36]),
            ("big5", "中文", &[0xA4, 0xA4, 0xA4, 0xE5]),
            ("shift_jis", "あ", &[0x82, 0xA0]),
            ("euc-jp", "あ", &[0xA4, 0xA2]),
            ("euc-kr", "한", &[0xC7, 0xD1]),
            ("windows-1252", "é€", &[0xE9, 0x80]),
            ("utf-16le", "A你😀", &[0x41, 0x00, 0x60, 0x4F, 0x3D, 0xD8, 0x00, 0xDE]),
            ("utf-16be", "A你😀", &[0x00, 0x41, 0x4F, 0x60, 0xD8, 0x3D, 0xDE, 0x00]),
            ("gbk", "", &[]),
        ];
        for &(name, text, bytes) in cases {
            assert_eq!(enc(name).encode(text).as_deref(), Ok(bytes), "{name} {text:?}");
            assert_eq!(enc(name).decode_all(bytes), text, "{name} {bytes:02X?}");
        }
    }

    #[test]
    fn refuses_unencodable_characters() {
        let cases = [
            ("gbk", "ab😀", '😀', 3),
            ("gbk", "你好,한", '한', 4),
            ("big5", "中한x", '한', 2),
            ("shift_jis", "あ한", '한', 2),
            ("euc-kr", "😀", '😀', 1),
            ("windows-1252", "abc你", '你', 4),
        ];
        for (name, text, ch, position) in cases {
            let encoding = enc(name);
            assert_eq!(
                encoding.encode(text),
                Err(TextError::Unencodable {
                    ch,
                    position,
                    encoding: encoding.name()
                }),
                "{name} {text:?}"
            );
        }
        assert_eq!(
            enc("gbk").encode("ab😀").unwrap_err().to_string(),
            "'😀' at position 3 cannot be encoded in gbk"
        );
    }

    /// Feeds `chunks` to one stream decoder, one `decode` call each, then finishes it.
    fn stream(name: &str, chunks: &[&[u8]]) -> String {
        let mut decoder = enc(name).decoder();
        let mut text: String = chunks.iter().map(|chunk| decoder.decode(chunk)).collect();
        text.push_str(&decoder.finish());
        text
    }

    #[test]
    fn stream_decoding_survives_split_characters() {
        let cases: &[(&str, &[&[u8]], &str)] = &[
            ("gbk", &[&[0xC4], &[0xE3, 0xBA], &[0xC3]], "你好"),
            ("utf-8", &[&[0xE4, 0xBD], &[0xA0, 0xE5], &[0xA5, 0xBD]], "你好"),
            // A byte at a time: a held lead, then a held lead and one more byte, completed later.
            (
                "utf-8",
                &[&[0xE4], &[0xBD], &[0xA0], &[0xF0], &[0x9F], &[0x98], &[0x80]],
                "你😀",
            ),
            ("big5", &[&[0xA4], &[0xA4, 0xA4], &[0xE5]], "中文"),
            ("shift_jis", &[&[0x82], &[0xA0]], "あ"),
            ("euc-kr", &[&[0xC7], &[0xD1, 0x41]], "한A"),
            ("utf-16le", &[&[0x60], &[0x4F, 0x3D, 0xD8], &[0x00, 0xDE]], "你😀"),
            ("utf-16be", &[&[0x4F, 0x60, 0xD8], &[0x3D, 0xDE], &[0x00]], "你😀"),
            // A BOM is shown as data, never swallowed.
            ("utf-8", &[&[0xEF, 0xBB], &[0xBF, 0x41]], "\u{FEFF}A"),
            // Malformed input and an unfinished tail become U+FFFD.
            ("utf-8", &[&[0xFF, 0x41]], "\u{FFFD}A"),
            ("gbk", &[&[0x41, 0xC4]], "A\u{FFFD}"),
            ("utf-16le", &[&[0x41, 0x00, 0x42]], "A\u{FFFD}"),
            // An empty chunk between a lead byte and a byte that cannot follow it (proptest found it).
            ("big5", &[&[0x81], &[], &[0x30]], "\u{FFFD}0"),
            ("shift_jis", &[&[0x81], &[], &[0x00]], "\u{FFFD}\0"),
            ("euc-kr", &[&[0x81], &[], &[0x30]], "\u{FFFD}0"),
        ];
        for &(name, chunks, text) in cases {
            assert_eq!(stream(name, chunks), text, "{name} {chunks:02X?}");
        }
    }

    #[test]
    fn finish_resets_for_the_next_stream() {
        let mut decoder = TextEncoding::GBK.decoder();
        assert_eq!(decoder.decode(&[0x41, 0xC4]), "A");
        assert_eq!(decoder.finish(), "\u{FFFD}");
        // The dropped 0xC4 must not pair up with what comes next.
        assert_eq!(decoder.decode(&[0xBA, 0xC3]), "好");
        assert_eq!(decoder.finish(), "");
    }

    /// Bytes worth decoding in `encoding`: text it encodes (characters it cannot encode left out), with some
    /// arbitrary bytes mixed in so malformed input is covered too.
    fn stream_bytes() -> impl Strategy<Value = (TextEncoding, Vec<u8>)> {
        let encoding = proptest::sample::select(TextEncoding::all());
        let pieces = proptest::collection::vec(
            prop_oneof![
                4 => any::<char>().prop_map(Ok),
                1 => any::<u8>().prop_map(Err),
            ],
            0..40,
        );
        (encoding, pieces).prop_map(|(encoding, pieces)| {
            let mut bytes = Vec::new();
            for piece in pieces {
                match piece {
                    Ok(ch) => bytes.extend(encoding.encode(ch.encode_utf8(&mut [0; 4])).unwrap_or_default()),
                    Err(byte) => bytes.push(byte),
                }
            }
            (encoding, bytes)
        })
    }

    proptest! {
        /// However a stream is cut into reads, it decodes as it does whole, for every encoding offered.
        #[test]
        fn a_stream_cut_anywhere_decodes_as_whole(
            (encoding, bytes) in stream_bytes(),
            cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..8),
        ) {
            let mut cuts: Vec<usize> = cuts.iter().map(|cut| cut.index(bytes.len() + 1)).collect();
            cuts.sort_unstable();
            let mut decoder = encoding.decoder();
            let mut text = String::new();
            let mut from = 0;
            for cut in cuts.into_iter().chain([bytes.len()]) {
                text.push_str(&decoder.decode(&bytes[from..cut]));
                from = cut;
            }
            text.push_str(&decoder.finish());
            prop_assert_eq!(text, encoding.decode_all(&bytes), "{} {:02X?}", encoding.name(), bytes);
        }
    }

    /// Names the property tests cover: the dropdown's multi-byte encodings (the single-byte ones
    /// hold nothing between chunks).
    const STREAMED: [&str; 9] = [
        "utf-8",
        "gbk",
        "gb18030",
        "big5",
        "shift_jis",
        "euc-kr",
        "euc-jp",
        "utf-16le",
        "utf-16be",
    ];

    /// Input that is neither all valid nor all noise: random bytes mixed with encoded characters
    /// (ASCII, CJK, kana, Hangul, emoji) so splits land inside real multi-byte characters.
    fn mixed_input() -> impl Strategy<Value = Vec<(bool, u32)>> {
        proptest::collection::vec((any::<bool>(), any::<u32>()), 0..40)
    }

    fn materialize(encoding: TextEncoding, pieces: &[(bool, u32)]) -> Vec<u8> {
        const RANGES: [(u32, u32); 5] = [
            (0x20, 0x7F),
            (0x4E00, 0x9FA5),
            (0x3041, 0x30FF),
            (0xAC00, 0xD7A3),
            (0x1F600, 0x1F64F),
        ];
        let mut bytes = Vec::new();
        for &(raw, n) in pieces {
            if raw {
                bytes.push(n as u8);
                continue;
            }
            let (low, high) = RANGES[(n % 5) as usize];
            let ch = char::from_u32(low + (n >> 3) % (high - low)).unwrap_or('?');
            bytes.extend(encoding.encode(&ch.to_string()).unwrap_or_default());
        }
        bytes
    }

    /// `bytes` cut at the given points (taken modulo its length, in order).
    fn split(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
        let mut points: Vec<usize> = cuts.iter().map(|cut| cut % (bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut chunks = Vec::new();
        let mut from = 0;
        for point in points.into_iter().chain([bytes.len()]) {
            chunks.push(bytes[from..point].to_vec());
            from = point;
        }
        chunks
    }

    proptest! {
        /// The stream decoder (UTF-8's own fast path, the others' carried bytes) says exactly
        /// what encoding_rs says of the whole input at once, wherever the input is cut, and so
        /// does a decoder resumed from each chunk's carry (what the view does to render a chunk).
        #[test]
        fn streaming_equals_one_shot_decoding(
            pieces in mixed_input(),
            cuts in proptest::collection::vec(any::<usize>(), 0..8),
            noise in proptest::collection::vec(any::<u8>(), 0..24),
        ) {
            for name in STREAMED {
                let encoding = enc(name);
                let mut bytes = materialize(encoding, &pieces);
                bytes.extend(&noise);
                let chunks = split(&bytes, &cuts);
                let expected = encoding.0.decode_without_bom_handling(&bytes).0.into_owned();

                let mut decoder = encoding.decoder();
                let mut streamed: String = chunks.iter().map(|chunk| decoder.decode(chunk)).collect();
                streamed.push_str(&decoder.finish());
                prop_assert_eq!(&streamed, &expected, "{} {:02X?}", name, chunks);

                let mut carry = Carry::default();
                let mut resumed = String::new();
                for chunk in &chunks {
                    let mut decoder = encoding.resume(carry);
                    decoder.decode_into(chunk, &mut resumed);
                    carry = decoder.carry();
                }
                resumed.push_str(&encoding.resume(carry).finish());
                prop_assert_eq!(&resumed, &expected, "{} resumed {:02X?}", name, chunks);
            }
        }
    }

    #[test]
    fn carries_only_unfinished_characters() {
        // (encoding, chunk, bytes held after it)
        let cases: &[(&str, &[u8], &[u8])] = &[
            ("utf-8", &[0x41, 0xE4, 0xBD], &[0xE4, 0xBD]),
            ("utf-8", &[0xE4, 0xBD, 0xA0], &[]),
            ("utf-8", &[0xE0, 0x80], &[]),
            ("utf-8", &[0xFF], &[]),
            ("gb18030", &[0x81, 0x30, 0x81], &[0x81, 0x30, 0x81]),
            ("gb18030", &[0x41, 0x81, 0x30], &[0x81, 0x30]),
            ("gbk", &[0xC4, 0xE3, 0xBA], &[0xBA]),
            ("big5", &[0xA4, 0xA4, 0xA4], &[0xA4]),
            ("shift_jis", &[0x82, 0xA0, 0xA1], &[]),
            ("euc-jp", &[0x8F, 0xA1], &[0x8F, 0xA1]),
            ("utf-16le", &[0x3D, 0xD8, 0x00], &[0x3D, 0xD8, 0x00]),
            ("utf-16be", &[0x00, 0x41, 0x4F], &[0x4F]),
            ("windows-1252", &[0xE9], &[]),
        ];
        for &(name, chunk, held) in cases {
            let mut decoder = enc(name).decoder();
            decoder.decode(chunk);
            assert_eq!(decoder.carry().as_slice(), held, "{name} {chunk:02X?}");
        }
    }
}
