//! Escapes: never panic; what unescapes escapes back to the same segments; an error points at its backslash.
#![no_main]
use std::fmt::Write;

use libfuzzer_sys::fuzz_target;
use wirepad::codec::escape::{EscapeError, Segment, unescape};

fuzz_target!(|input: &str| {
    let chars: Vec<char> = input.chars().collect();
    let at = |position: usize| chars.get(position - 1).copied();
    match unescape(input) {
        Ok(segments) => {
            let mut escaped = String::new();
            for segment in &segments {
                match segment {
                    Segment::Text(text) => {
                        assert!(!text.is_empty(), "{input:?}: empty text segment");
                        for ch in text.chars() {
                            match ch {
                                '\\' => escaped.push_str(r"\\"),
                                '\r' => escaped.push_str(r"\r"),
                                '\n' => escaped.push_str(r"\n"),
                                '\t' => escaped.push_str(r"\t"),
                                '\0' => escaped.push_str(r"\0"),
                                ch => escaped.push(ch),
                            }
                        }
                    }
                    Segment::Byte(byte) => write!(escaped, r"\x{byte:02X}").expect("String"),
                }
            }
            assert!(
                segments
                    .windows(2)
                    .all(|pair| !matches!(pair, [Segment::Text(_), Segment::Text(_)])),
                "{input:?}: text segments are merged"
            );
            assert_eq!(unescape(&escaped), Ok(segments), "{input:?} → {escaped:?}");
        }
        Err(EscapeError::Unknown { position, ch }) => {
            assert_eq!((at(position), at(position + 1)), (Some('\\'), Some(ch)), "{input:?}");
        }
        Err(EscapeError::Trailing { position }) => {
            assert_eq!((position, at(position)), (chars.len(), Some('\\')), "{input:?}");
        }
        Err(EscapeError::BadHex { position, found }) => {
            assert_eq!((at(position), at(position + 1)), (Some('\\'), Some('x')), "{input:?}");
            let after: String = chars[position + 1..].iter().collect();
            assert!(after.starts_with(&found) && found.chars().count() <= 2, "{input:?}");
        }
    }
});
