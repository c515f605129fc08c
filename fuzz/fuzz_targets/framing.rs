//! The stream framer: never panics; every byte comes out once and in order, whatever the reads; an unknown
//! `--frame` spelling is an error, never a panic.
#![no_main]
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use wirepad::codec::framing::{End, Framer, Framing};

const SPELLINGS: [&str; 10] = [
    "line",
    "delim:0D0A",
    "delim:7E",
    "len:u8",
    "len:u16be",
    "len:u16le+header",
    "len:u32be",
    "len:u32le",
    "gap:5",
    "none",
];

fuzz_target!(|input: &[u8]| {
    let Some((&choice, rest)) = input.split_first() else {
        return;
    };
    let Some((&cut_every, stream)) = rest.split_first() else {
        return;
    };
    // Any text as a spelling: parses or refuses, and what parses prints back to itself.
    if let Ok(text) = std::str::from_utf8(stream)
        && let Ok(framing) = text.parse::<Framing>()
    {
        assert_eq!(framing.to_string().parse::<Framing>(), Ok(framing));
    }
    let framing: Framing = SPELLINGS[usize::from(choice) % SPELLINGS.len()]
        .parse()
        .expect("a known spelling");
    let mut framer = Framer::new(framing);
    let mut out = Vec::new();
    let start = Instant::now();
    for (nth, read) in stream.chunks(usize::from(cut_every).max(1)).enumerate() {
        framer.push(read, start + Duration::from_millis(nth as u64 * 3), &mut out);
    }
    out.extend(framer.finish());
    let joined: Vec<u8> = out.iter().flat_map(|m| m.bytes.iter().copied()).collect();
    assert_eq!(joined, stream);
    for message in &out {
        assert!(message.body.start <= message.body.end && message.body.end <= message.bytes.len());
        assert!(message.end != End::Whole || !message.bytes.is_empty());
    }
});
