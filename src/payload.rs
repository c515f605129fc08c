//! What a send box means: the user's text or hex turned into the bytes that go on the wire.
//!
//! Order (contract): the payload (text with escapes, encoded; or hex), then the checksum over
//! the payload, then the line ending.

use crate::codec::checksum::Checksum;
use crate::codec::escape::{EscapeError, Segment, unescape};
use crate::codec::hex::{HexError, parse_hex, to_hex};
use crate::codec::text::{TextEncoding, TextError};

/// How the send box is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PayloadFormat {
    /// Text encoded with the chosen encoding; with `escapes`, `\r \n \t \0 \\ \xHH` are interpreted.
    Text { escapes: bool },
    /// Hex digits, e.g. "01 03 00 00 00 0A".
    Hex,
}

/// What is appended after the payload and its checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
#[value(rename_all = "lower")]
pub enum LineEnding {
    /// Nothing
    None,
    /// \r (0D)
    Cr,
    /// \n (0A)
    Lf,
    /// \r\n (0D 0A)
    CrLf,
}

impl LineEnding {
    /// The bytes appended to each send.
    pub fn bytes(self) -> &'static [u8] {
        match self {
            Self::None => b"",
            Self::Cr => b"\r",
            Self::Lf => b"\n",
            Self::CrLf => b"\r\n",
        }
    }
}

/// Everything that decides how a send box becomes bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PayloadSpec {
    pub format: PayloadFormat,
    pub encoding: TextEncoding,
    pub checksum: Option<Checksum>,
    pub append: LineEnding,
}

/// Why the send box could not be turned into bytes; nothing is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error(transparent)]
    Hex(#[from] HexError),
    #[error(transparent)]
    Escape(#[from] EscapeError),
    #[error(transparent)]
    Text(#[from] TextError),
}

impl PayloadSpec {
    /// The bytes to send for `input`: payload, then checksum, then line ending.
    pub fn build(&self, input: &str) -> Result<Vec<u8>, PayloadError> {
        Ok(self.finish(self.payload(input)?))
    }

    /// The payload alone, without checksum or line ending.
    pub fn payload(&self, input: &str) -> Result<Vec<u8>, PayloadError> {
        Ok(match self.format {
            PayloadFormat::Hex => parse_hex(input)?,
            PayloadFormat::Text { escapes: false } => self.encoding.encode(input)?,
            PayloadFormat::Text { escapes: true } => self.encode_escaped(input)?,
        })
    }

    /// The same payload written the other way round, for ticking or unticking HEX send (NetAssist converts the
    /// box): text becomes its bytes in hex; hex becomes text in the encoding. Returns the new text and whether
    /// it needs escapes on (bytes that are no text in this encoding, or control characters, become `\xHH`).
    pub fn convert(&self, input: &str) -> Result<(String, bool), PayloadError> {
        let bytes = self.payload(input)?;
        Ok(match self.format {
            PayloadFormat::Text { escapes } => (to_hex(&bytes), escapes),
            PayloadFormat::Hex => bytes_as_text(&bytes, self.encoding),
        })
    }

    /// Appends the checksum (over `payload`) and the line ending to an already-built payload.
    pub fn finish(&self, mut payload: Vec<u8>) -> Vec<u8> {
        if let Some(checksum) = self.checksum {
            checksum.append_to(&mut payload);
        }
        payload.extend_from_slice(self.append.bytes());
        payload
    }

    /// Encodes the text segments and passes `\xHH` bytes through untouched.
    fn encode_escaped(&self, input: &str) -> Result<Vec<u8>, PayloadError> {
        let mut out = Vec::with_capacity(input.len());
        for segment in unescape(input)? {
            match segment {
                Segment::Byte(byte) => out.push(byte),
                Segment::Text(text) => {
                    let bytes = self
                        .encoding
                        .encode(&text)
                        .map_err(|error| self.locate_in_input(error, input))?;
                    out.extend_from_slice(&bytes);
                }
            }
        }
        Ok(out)
    }

    /// Re-aims an encoding error at the user's input: positions inside a segment would be
    /// meaningless to them. Escapes only yield ASCII, which every encoding represents, so the
    /// first unencodable character of the segments is the first one of the raw input, and
    /// encoding the raw input finds its real position.
    fn locate_in_input(&self, error: TextError, input: &str) -> TextError {
        self.encoding.encode(input).err().unwrap_or(error)
    }
}

/// `bytes` as send-box text in `encoding`; `true` when it is written with escapes.
fn bytes_as_text(bytes: &[u8], encoding: TextEncoding) -> (String, bool) {
    let plain = |c: char| !c.is_control() || c == '\n' || c == '\t';
    if let Some(text) = encoding.decode_exact(bytes)
        && text.chars().all(plain)
    {
        return (text, false);
    }
    let mut out = String::with_capacity(bytes.len() * 2);
    match encoding.decode_exact(bytes) {
        // Valid text with control characters: escape those (and backslashes) only.
        Some(text) if encoding.is_ascii_compatible() && text.chars().all(|c| plain(c) || c.is_ascii()) => {
            for c in text.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\r' => out.push_str("\\r"),
                    '\0' => out.push_str("\\0"),
                    c if plain(c) => out.push(c),
                    // An ASCII control character: one byte in an ASCII-compatible encoding.
                    c => out.push_str(&format!("\\x{:02X}", c as u32)),
                }
            }
        }
        _ => {
            for &byte in bytes {
                match byte {
                    b'\\' if encoding.is_ascii_compatible() => out.push_str("\\\\"),
                    0x20..=0x7e if encoding.is_ascii_compatible() => out.push(char::from(byte)),
                    _ => out.push_str(&format!("\\x{byte:02X}")),
                }
            }
        }
    }
    (out, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(format: PayloadFormat, encoding: &str) -> PayloadSpec {
        PayloadSpec {
            format,
            encoding: TextEncoding::from_name(encoding).expect(encoding),
            checksum: None,
            append: LineEnding::None,
        }
    }

    const TEXT: PayloadFormat = PayloadFormat::Text { escapes: false };
    const ESCAPED: PayloadFormat = PayloadFormat::Text { escapes: true };
    const HEX: PayloadFormat = PayloadFormat::Hex;

    #[test]
    fn builds_payload_then_checksum_then_line_ending() {
        let cases: &[(PayloadSpec, &str, &[u8])] = &[
            (
                PayloadSpec {
                    checksum: Some(Checksum::Crc16Modbus),
                    ..spec(HEX, "utf-8")
                },
                "01 03 00 00 00 0A",
                &[0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCD],
            ),
            (
                spec(ESCAPED, "gbk"),
                r"你好\x41\r",
                &[0xC4, 0xE3, 0xBA, 0xC3, 0x41, 0x0D],
            ),
            (
                PayloadSpec {
                    checksum: Some(Checksum::Sum8),
                    append: LineEnding::CrLf,
                    ..spec(ESCAPED, "gbk")
                },
                r"你好\x41",
                // Sum8 covers the payload only: C4+E3+BA+C3+41 = 0x365 → 65.
                &[0xC4, 0xE3, 0xBA, 0xC3, 0x41, 0x65, 0x0D, 0x0A],
            ),
            (
                // \xHH is a raw byte, never re-encoded (UTF-8 would make C3 84 of it).
                spec(ESCAPED, "utf-8"),
                r"\xC4\\n",
                &[0xC4, 0x5C, 0x6E],
            ),
            (
                // Without escapes, backslashes are literal.
                PayloadSpec {
                    append: LineEnding::Lf,
                    ..spec(TEXT, "utf-8")
                },
                r"a\r\x41",
                &[0x61, 0x5C, 0x72, 0x5C, 0x78, 0x34, 0x31, 0x0A],
            ),
            (
                PayloadSpec {
                    append: LineEnding::Cr,
                    ..spec(ESCAPED, "utf-16be")
                },
                r"A\x00",
                &[0x00, 0x41, 0x00, 0x0D],
            ),
            (
                PayloadSpec {
                    checksum: Some(Checksum::Xor8),
                    ..spec(HEX, "utf-8")
                },
                "",
                &[0x00],
            ),
        ];
        for (spec, input, bytes) in cases {
            assert_eq!(spec.build(input).as_deref(), Ok(*bytes), "{spec:?} {input:?}");
        }
    }

    #[test]
    fn finish_applies_checksum_and_line_ending() {
        let spec = PayloadSpec {
            checksum: Some(Checksum::Crc16Ccitt),
            append: LineEnding::CrLf,
            ..spec(TEXT, "utf-8")
        };
        assert_eq!(spec.finish(b"123456789".to_vec()), b"123456789\x29\xB1\r\n");
    }

    #[test]
    fn errors_name_the_position_in_the_input() {
        let cases = [
            (spec(HEX, "utf-8"), "01 0G", "bad hex digit 'G' at position 5"),
            (
                spec(ESCAPED, "utf-8"),
                r"ab\q",
                r"unknown escape \q at position 3 (known: \r \n \t \0 \\ \xHH)",
            ),
            (spec(TEXT, "gbk"), "ab😀", "'😀' at position 3 cannot be encoded in gbk"),
            (
                // Position 10 in what the user typed, not 2 in the text after the \x41 byte.
                spec(ESCAPED, "gbk"),
                r"\r\n\x41好😀",
                "'😀' at position 10 cannot be encoded in gbk",
            ),
            (
                // An escape error before an unencodable character is reported first.
                spec(ESCAPED, "gbk"),
                r"😀\x4",
                r#"incomplete \x escape at position 2: expected two hex digits, found "4""#,
            ),
        ];
        for (spec, input, message) in cases {
            let error = spec.build(input).expect_err(input);
            assert_eq!(error.to_string(), message, "{spec:?} {input:?}");
        }
    }

    #[test]
    fn line_endings() {
        use clap::ValueEnum;
        use serde::Deserialize;
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error as DeError, StrDeserializer};
        let cases: &[(LineEnding, &str, &[u8])] = &[
            (LineEnding::None, "none", b""),
            (LineEnding::Cr, "cr", b"\r"),
            (LineEnding::Lf, "lf", b"\n"),
            (LineEnding::CrLf, "crlf", b"\r\n"),
        ];
        for &(ending, name, bytes) in cases {
            assert_eq!(ending.bytes(), bytes);
            assert_eq!(LineEnding::from_str(name, false), Ok(ending));
            let de: StrDeserializer<DeError> = name.into_deserializer();
            assert_eq!(LineEnding::deserialize(de), Ok(ending));
        }
    }

    #[test]
    fn hex_send_toggle_converts_the_box_both_ways_without_loss() {
        // (encoding, escapes on, text, its hex, back from hex: text and whether it needs escapes)
        type Case<'a> = (&'a str, bool, &'a str, &'a str, (&'a str, bool));
        let cases: &[Case] = &[
            ("utf-8", false, "AB", "41 42", ("AB", false)),
            ("gbk", false, "你好", "C4 E3 BA C3", ("你好", false)),
            ("utf-8", false, "你好", "E4 BD A0 E5 A5 BD", ("你好", false)),
            ("utf-8", true, "a\\r\\n", "61 0D 0A", ("a\\r\n", true)),
            ("utf-8", true, "\\x01\\x03", "01 03", ("\\x01\\x03", true)),
            // Empty stays empty.
            ("utf-8", false, "", "", ("", false)),
            // UTF-16 text with a control character: `\xHH` (and `\\`) stand for single bytes, not characters,
            // so every byte is escaped.
            (
                "utf-16le",
                true,
                r"\x41\x00\x01\x00",
                "41 00 01 00",
                (r"\x41\x00\x01\x00", true),
            ),
            (
                "utf-16le",
                true,
                r"\x5C\x00\x01\x00",
                "5C 00 01 00",
                (r"\x5C\x00\x01\x00", true),
            ),
        ];
        for (encoding, escapes, text, hex, (back, back_escapes)) in cases {
            let to_hex = PayloadSpec {
                format: PayloadFormat::Text { escapes: *escapes },
                ..spec(TEXT, encoding)
            };
            assert_eq!(to_hex.convert(text), Ok((hex.to_string(), *escapes)), "{text:?}");
            let from_hex = spec(HEX, encoding);
            assert_eq!(from_hex.convert(hex), Ok((back.to_string(), *back_escapes)), "{hex:?}");
            let again = spec(PayloadFormat::Text { escapes: *back_escapes }, encoding);
            assert_eq!(
                again.payload(back),
                from_hex.payload(hex),
                "{hex:?} round trips to the same bytes"
            );
        }
        let binary = spec(HEX, "gbk").convert("01 03 C5 CD 41 5C FF");
        assert_eq!(binary, Ok((r"\x01\x03\xC5\xCDA\\\xFF".to_string(), true)));
        assert_eq!(
            spec(PayloadFormat::Text { escapes: true }, "gbk").payload(&binary.expect("converted").0),
            Ok(vec![0x01, 0x03, 0xC5, 0xCD, 0x41, 0x5C, 0xFF])
        );
        assert!(spec(HEX, "utf-8").convert("4G").is_err(), "bad hex is not converted");
    }
}
