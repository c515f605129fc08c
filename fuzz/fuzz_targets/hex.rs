//! The hex parser: never panics; what parses re-renders to the same bytes; an error names its culprit.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wirepad::codec::hex::{HexError, parse_hex, to_hex};

fuzz_target!(|input: &str| {
    match parse_hex(input) {
        Ok(bytes) => {
            assert!(bytes.len() <= input.len());
            assert_eq!(parse_hex(&to_hex(&bytes)), Ok(bytes));
        }
        // Positions are 1-based characters.
        Err(HexError::BadDigit { position, ch }) => {
            assert_eq!(input.chars().nth(position - 1), Some(ch), "{input:?}");
        }
        Err(HexError::OddDigits { position, token }) => {
            let from: String = input.chars().skip(position - 1).collect();
            assert!(from.starts_with(&token), "{input:?}: {token:?} at {position}");
        }
    }
});
