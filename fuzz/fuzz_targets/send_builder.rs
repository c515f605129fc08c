//! The send builder over every format, encoding, checksum and line ending: never panics, lays out payload,
//! checksum, line ending in that order, and an unencodable character's position is the one in the input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wirepad::codec::checksum::Checksum;
use wirepad::codec::hex::parse_hex;
use wirepad::codec::text::{TextEncoding, TextError};
use wirepad::payload::{LineEnding, PayloadError, PayloadFormat, PayloadSpec};

const ENDINGS: [LineEnding; 4] = [LineEnding::None, LineEnding::Cr, LineEnding::Lf, LineEnding::CrLf];

fuzz_target!(|data: &[u8]| {
    let [format, encoding, checksum, append, rest @ ..] = data else {
        return;
    };
    let Ok(input) = std::str::from_utf8(rest) else {
        return;
    };
    let format = match format % 3 {
        0 => PayloadFormat::Hex,
        1 => PayloadFormat::Text { escapes: false },
        _ => PayloadFormat::Text { escapes: true },
    };
    let encodings = TextEncoding::all();
    let checksums = Checksum::all();
    let spec = PayloadSpec {
        format,
        encoding: encodings[usize::from(*encoding) % encodings.len()],
        checksum: checksums.get(usize::from(*checksum) % (checksums.len() + 1)).copied(),
        append: ENDINGS[usize::from(*append) % ENDINGS.len()],
    };
    match spec.build(input) {
        Ok(bytes) => {
            let ending = spec.append.bytes();
            let sum_len = spec.checksum.map_or(0, |checksum| checksum.compute(&[]).len());
            assert!(bytes.ends_with(ending));
            let payload = &bytes[..bytes.len() - ending.len() - sum_len];
            if let Some(checksum) = spec.checksum {
                assert_eq!(
                    checksum.compute(payload),
                    &bytes[payload.len()..bytes.len() - ending.len()]
                );
            }
            match format {
                PayloadFormat::Hex => assert_eq!(parse_hex(input).as_deref(), Ok(payload)),
                PayloadFormat::Text { escapes: false } => {
                    assert_eq!(spec.encoding.encode(input).as_deref(), Ok(payload))
                }
                PayloadFormat::Text { escapes: true } => {}
            }
        }
        Err(PayloadError::Text(TextError::Unencodable { ch, position, .. })) => {
            assert_eq!(input.chars().nth(position - 1), Some(ch), "{spec:?} {input:?}");
        }
        Err(_) => {}
    }
});
