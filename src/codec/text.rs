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
        StreamDecoder {
            encoding: self.0,
            decoder: self.0.new_decoder_without_bom_handling(),
        }
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

/// Decodes one byte stream chunk by chunk. BOMs are data here, not hints: a debugging tool
/// shows what arrived and must not switch encodings behind the user's back.
pub struct StreamDecoder {
    encoding: &'static Encoding,
    decoder: Decoder,
}

impl StreamDecoder {
    /// Decodes the next chunk; an incomplete trailing character waits for the next call.
    /// Malformed sequences become U+FFFD.
    pub fn decode(&mut self, bytes: &[u8]) -> String {
        // encoding_rs's Big5, Shift_JIS and EUC-KR decoders forget a pending lead byte when handed no input
        // (an empty UDP datagram), so that byte's U+FFFD would go missing.
        if bytes.is_empty() {
            return String::new();
        }
        self.run(bytes, false)
    }

    /// Ends the stream: an incomplete trailing character becomes U+FFFD, and the decoder is
    /// ready for a new stream.
    pub fn finish(&mut self) -> String {
        let tail = self.run(&[], true);
        self.decoder = self.encoding.new_decoder_without_bom_handling();
        tail
    }

    fn run(&mut self, bytes: &[u8], last: bool) -> String {
        let mut out = String::new();
        let mut read = 0;
        loop {
            let rest = &bytes[read..];
            let needed = self.decoder.max_utf8_buffer_length(rest.len()).unwrap_or(rest.len());
            out.reserve(needed);
            let (result, consumed, _) = self.decoder.decode_to_string(rest, &mut out, last);
            read += consumed;
            if result == CoderResult::InputEmpty {
                return out;
            }
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
}
