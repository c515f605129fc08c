//! Backslash escapes in text input: `\r \n \t \0 \\ \xHH`.

/// A piece of unescaped input.
///
/// `\xHH` means that exact byte on the wire, so it is kept apart from the text, which still has to
/// go through the chosen encoding (`\xC4` must not become the UTF-8 or GBK encoding of 'Ä').
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Text(String),
    Byte(u8),
}

/// Why an escape could not be read; positions are the 1-based character position of the backslash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EscapeError {
    #[error("unknown escape \\{ch} at position {position} (known: \\r \\n \\t \\0 \\\\ \\xHH)")]
    Unknown { position: usize, ch: char },
    #[error("lone \\ at the end of the input, position {position} (write \\\\ for a backslash)")]
    Trailing { position: usize },
    #[error("incomplete \\x escape at position {position}: expected two hex digits, found \"{found}\"")]
    BadHex { position: usize, found: String },
}

/// Control characters written as escapes (`\r \n \t`, others `\xHH`), for a one-line field: what
/// `unescape` reads back is the same text (the raw byte of a control character is its ASCII code). A regex
/// reads these escapes as the same characters too.
pub fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            ch if ch.is_ascii_control() => out.push_str(&format!("\\x{:02X}", ch as u32)),
            ch => out.push(ch),
        }
    }
    out
}

/// Splits `input` into text and raw bytes, interpreting the escapes.
///
/// Consecutive text (escaped or not) is merged into one segment so it is encoded in one go.
pub fn unescape(input: &str) -> Result<Vec<Segment>, EscapeError> {
    let mut segments = Vec::new();
    let mut text = String::with_capacity(input.len());
    let mut chars = (1..).zip(input.chars());
    while let Some((position, ch)) = chars.next() {
        if ch != '\\' {
            text.push(ch);
            continue;
        }
        let Some((_, escaped)) = chars.next() else {
            return Err(EscapeError::Trailing { position });
        };
        match escaped {
            'r' => text.push('\r'),
            'n' => text.push('\n'),
            't' => text.push('\t'),
            '0' => text.push('\0'),
            '\\' => text.push('\\'),
            'x' => {
                let byte = hex_byte(&mut chars, position)?;
                if !text.is_empty() {
                    segments.push(Segment::Text(std::mem::take(&mut text)));
                }
                segments.push(Segment::Byte(byte));
            }
            ch => return Err(EscapeError::Unknown { position, ch }),
        }
    }
    if !text.is_empty() {
        segments.push(Segment::Text(text));
    }
    Ok(segments)
}

/// Reads the `HH` of `\xHH`; `position` is that of the backslash, for the error.
fn hex_byte(chars: &mut impl Iterator<Item = (usize, char)>, position: usize) -> Result<u8, EscapeError> {
    let found: String = chars.take(2).map(|(_, ch)| ch).collect();
    let mut digits = found.chars().map(|ch| ch.to_digit(16));
    match (digits.next(), digits.next()) {
        (Some(Some(high)), Some(Some(low))) => Ok((high << 4 | low) as u8),
        _ => Err(EscapeError::BadHex { position, found }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Segment {
        Segment::Text(s.to_owned())
    }

    /// What a one-line field shows for text with control characters reads back as the same bytes.
    #[test]
    fn controls_become_escapes_that_read_back_the_same() {
        let raw = "PONG 你好\r\n\t\0\x7F";
        let escaped = escape_controls(raw);
        assert_eq!(escaped, "PONG 你好\\r\\n\\t\\x00\\x7F");
        let bytes = |input: &str| -> Vec<u8> {
            unescape(input)
                .expect("valid")
                .into_iter()
                .flat_map(|segment| match segment {
                    Segment::Text(text) => text.into_bytes(),
                    Segment::Byte(byte) => vec![byte],
                })
                .collect()
        };
        assert_eq!(bytes(&escaped), bytes(raw));
        assert_eq!(escape_controls("a\\b"), "a\\b", "escapes already there stay");
    }

    #[test]
    fn unescapes() {
        use Segment::Byte;
        let cases: &[(&str, &[Segment])] = &[
            ("", &[]),
            ("plain 你好", &[text("plain 你好")]),
            (r"a\r\n\t\0\\b", &[text("a\r\n\t\0\\b")]),
            (r"\x41", &[Byte(0x41)]),
            (r"\xff\xC4", &[Byte(0xFF), Byte(0xC4)]),
            (r"你\xC4好\r", &[text("你"), Byte(0xC4), text("好\r")]),
            (r"\\x41", &[text(r"\x41")]),
            (r"\x414", &[Byte(0x41), text("4")]),
        ];
        for (input, expected) in cases {
            assert_eq!(unescape(input).as_deref(), Ok(*expected), "input {input:?}");
        }
    }

    #[test]
    fn reports_position_of_the_backslash() {
        let bad_hex = |position, found: &str| {
            Err(EscapeError::BadHex {
                position,
                found: found.to_owned(),
            })
        };
        let cases: &[(&str, Result<Vec<Segment>, EscapeError>)] = &[
            (r"abc\q", Err(EscapeError::Unknown { position: 4, ch: 'q' })),
            (r"你好\é", Err(EscapeError::Unknown { position: 3, ch: 'é' })),
            (r"\r\", Err(EscapeError::Trailing { position: 3 })),
            (r"\\\", Err(EscapeError::Trailing { position: 3 })),
            (r"\x", bad_hex(1, "")),
            (r"ab\x4", bad_hex(3, "4")),
            (r"\xG1", bad_hex(1, "G1")),
            (r"\x1 ", bad_hex(1, "1 ")),
            (r"好\x你好", bad_hex(2, "你好")),
        ];
        for (input, expected) in cases {
            assert_eq!(&unescape(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn error_messages_name_position_and_text() {
        let cases = [
            (
                r"abc\q",
                r"unknown escape \q at position 4 (known: \r \n \t \0 \\ \xHH)",
            ),
            (
                r"abcdef\x4",
                r#"incomplete \x escape at position 7: expected two hex digits, found "4""#,
            ),
            (
                r"ab\",
                r"lone \ at the end of the input, position 3 (write \\ for a backslash)",
            ),
        ];
        for (input, message) in cases {
            let error = unescape(input).expect_err(input);
            assert_eq!(error.to_string(), message);
        }
    }
}
