//! Hex text ⇄ bytes: what the user types in hex mode, and how received bytes are shown.

/// Why a hex string could not be parsed; positions are 1-based characters in the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    #[error("bad hex digit '{ch}' at position {position}")]
    BadDigit { position: usize, ch: char },
    #[error("odd number of hex digits in \"{token}\" at position {position}")]
    OddDigits { position: usize, token: String },
}

/// Characters that separate tokens; users paste hex from dumps, C arrays and spreadsheets.
fn is_separator(ch: char) -> bool {
    matches!(ch, ' ' | '\t' | ',' | '\n' | '\r')
}

/// Parses "0A 1b,ff 0x10 0A0B" into bytes.
///
/// A one-digit token is one byte (`A` = 0x0A), as NetAssist users expect; longer runs must pair up,
/// because guessing where a lone nibble belongs would silently send the wrong bytes.
pub fn parse_hex(input: &str) -> Result<Vec<u8>, HexError> {
    let mut bytes = Vec::with_capacity(input.len() / 2);
    let mut position = 1;
    for token in input.split(is_separator) {
        parse_token(token, position, &mut bytes)?;
        // A token that got this far is ASCII, so its byte length is its character count;
        // plus one for the separator that ended it.
        position += token.len() + 1;
    }
    Ok(bytes)
}

/// Appends one token's bytes to `out`; `position` is where the token starts in the input.
fn parse_token(token: &str, position: usize, out: &mut Vec<u8>) -> Result<(), HexError> {
    // A bare "0x" is not a prefix: its 'x' is reported as the bad digit.
    let (prefix_len, digits) = match token.get(..2) {
        Some("0x" | "0X") if token.len() > 2 => (2, &token[2..]),
        _ => (0, token),
    };
    let mut high = None;
    for (digit_position, ch) in (position + prefix_len..).zip(digits.chars()) {
        let value = ch.to_digit(16).ok_or(HexError::BadDigit {
            position: digit_position,
            ch,
        })? as u8;
        match high.take() {
            None => high = Some(value),
            Some(high) => out.push(high << 4 | value),
        }
    }
    match high {
        // Every digit was checked above, so the token is ASCII and its length counts digits.
        Some(value) if digits.len() == 1 => out.push(value),
        Some(_) => {
            return Err(HexError::OddDigits {
                position,
                token: token.to_owned(),
            });
        }
        None => {}
    }
    Ok(())
}

const DIGITS: &[u8; 16] = b"0123456789ABCDEF";

/// The two uppercase digits of every byte value, so rendering is one table load per byte.
static PAIRS: [[u8; 2]; 256] = {
    let mut pairs = [[0; 2]; 256];
    let mut i = 0;
    while i < 256 {
        pairs[i] = [DIGITS[i >> 4], DIGITS[i & 0xF]];
        i += 1;
    }
    pairs
};

/// Renders bytes as "48 65 6C": uppercase pairs, single spaces, no trailing space.
///
/// Big receive logs are re-rendered when the user toggles hex, so this fills a preallocated
/// buffer from a lookup table instead of formatting byte by byte.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut out = vec![b' '; bytes.len() * 3];
    for (cell, &byte) in out.chunks_exact_mut(3).zip(bytes) {
        cell[..2].copy_from_slice(&PAIRS[usize::from(byte)]);
    }
    out.pop();
    String::from_utf8(out).expect("hex digits and spaces are ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_valid_input() {
        let cases: &[(&str, &[u8])] = &[
            ("", &[]),
            ("   ", &[]),
            ("48 65 6C", &[0x48, 0x65, 0x6C]),
            ("0A 1b,ff 0x10", &[0x0A, 0x1B, 0xFF, 0x10]),
            ("A", &[0x0A]),
            ("a b 0xF", &[0x0A, 0x0B, 0x0F]),
            ("0A0B", &[0x0A, 0x0B]),
            ("0X0a0B", &[0x0A, 0x0B]),
            ("de\tAD,,be\r\nEF\n", &[0xDE, 0xAD, 0xBE, 0xEF]),
            (" 00 ", &[0x00]),
        ];
        for &(input, expected) in cases {
            assert_eq!(parse_hex(input).as_deref(), Ok(expected), "input {input:?}");
        }
    }

    #[test]
    fn reports_position_and_culprit() {
        let bad = |position, ch| Err(HexError::BadDigit { position, ch });
        let odd = |position, token: &str| {
            Err(HexError::OddDigits {
                position,
                token: token.to_owned(),
            })
        };
        let cases: &[(&str, Result<Vec<u8>, HexError>)] = &[
            ("0G", bad(2, 'G')),
            ("01 02 zz", bad(7, 'z')),
            ("0x", bad(2, 'x')),
            ("0x1g", bad(4, 'g')),
            ("12 0x0x12", bad(7, 'x')),
            // Positions count characters, not bytes.
            ("你 41", bad(1, '你')),
            ("41,你", bad(4, '你')),
            ("41 你好 4G", bad(4, '你')),
            ("ABC", odd(1, "ABC")),
            ("00 0x123", odd(4, "0x123")),
            ("00\r\n12345", odd(5, "12345")),
        ];
        for (input, expected) in cases {
            assert_eq!(&parse_hex(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn error_messages_name_position_and_text() {
        let cases = [
            ("01 0G", "bad hex digit 'G' at position 5"),
            ("01 ABC", "odd number of hex digits in \"ABC\" at position 4"),
        ];
        for (input, message) in cases {
            let error = parse_hex(input).expect_err(input);
            assert_eq!(error.to_string(), message);
        }
    }

    #[test]
    fn renders_uppercase_pairs() {
        let cases: &[(&[u8], &str)] = &[
            (&[], ""),
            (&[0x00], "00"),
            (b"Hel", "48 65 6C"),
            (&[0x0A, 0xFF, 0xab], "0A FF AB"),
        ];
        for &(bytes, expected) in cases {
            assert_eq!(to_hex(bytes), expected);
        }
    }

    #[test]
    fn round_trips_every_byte_value() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(parse_hex(&to_hex(&all)), Ok(all));
    }

    /// One byte as a user might type it: either case, maybe a 0x prefix, or a lone digit when it is below 0x10.
    fn typed_byte() -> impl Strategy<Value = (u8, String)> {
        (any::<u8>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(byte, upper, prefix, short)| {
            let digits = match (short && byte < 0x10, upper) {
                (true, true) => format!("{byte:X}"),
                (true, false) => format!("{byte:x}"),
                (false, true) => format!("{byte:02X}"),
                (false, false) => format!("{byte:02x}"),
            };
            let prefix = if prefix { "0x" } else { "" };
            (byte, format!("{prefix}{digits}"))
        })
    }

    proptest! {
        #[test]
        fn rendered_hex_parses_back(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(parse_hex(&to_hex(&bytes)), Ok(bytes));
        }

        /// Bytes typed one token each, with any of the separators, parse to those bytes.
        #[test]
        fn typed_hex_parses_to_its_bytes(
            typed in proptest::collection::vec((typed_byte(), proptest::sample::select(&[" ", ",", "\n", "\t", "\r\n", ", ", "  "][..])), 0..50),
        ) {
            let text: String = typed.iter().map(|((_, token), separator)| format!("{token}{separator}")).collect();
            let bytes: Vec<u8> = typed.iter().map(|((byte, _), _)| *byte).collect();
            prop_assert_eq!(parse_hex(&text), Ok(bytes), "{:?}", text);
        }
    }
}
