//! The streaming decoder: for every offered encoding, a stream cut anywhere decodes as it does whole, and
//! `finish` leaves the decoder ready for the next stream.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wirepad::codec::text::TextEncoding;

fuzz_target!(|data: &[u8]| {
    let [encoding, cuts, rest @ ..] = data else {
        return;
    };
    let encodings = TextEncoding::all();
    let encoding = encodings[usize::from(*encoding) % encodings.len()];
    // The cut lengths come from the stream's own bytes, so the fuzzer varies both at once.
    let lengths: Vec<usize> = rest
        .iter()
        .take(usize::from(*cuts % 16))
        .map(|&b| usize::from(b % 8))
        .collect();
    let whole = encoding.decode_all(rest);
    let mut decoder = encoding.decoder();
    for _ in 0..2 {
        let mut text = String::new();
        let mut at = 0;
        for &len in lengths.iter().cycle().take(rest.len()) {
            if at >= rest.len() {
                break;
            }
            let end = (at + len).min(rest.len());
            text.push_str(&decoder.decode(&rest[at..end]));
            at = end;
        }
        text.push_str(&decoder.decode(&rest[at..]));
        text.push_str(&decoder.finish());
        assert_eq!(text, whole, "{} {rest:02X?} cut {lengths:?}", encoding.name());
    }
});
