//! Text decoding speed: the stream decoder against encoding_rs's own streaming decoder (what it was
//! before the UTF-8 fast path and the double-byte tables), on random bytes (mostly malformed) and on
//! ASCII, UTF-8 and GBK text, in 64 KiB chunks.
//! `cargo bench --bench decode`
mod common;

use std::time::{Duration, Instant};

use wirepad::codec::text::TextEncoding;

const TOTAL: usize = 64 << 20;
const CHUNK: usize = 64 << 10;

fn time(mut run: impl FnMut() -> usize) -> (Duration, usize) {
    let started = Instant::now();
    let out = run();
    (started.elapsed(), out)
}

fn mb_per_s(elapsed: Duration) -> f64 {
    TOTAL as f64 / 1e6 / elapsed.as_secs_f64()
}

fn main() {
    if !common::measuring() {
        return;
    }
    let random = common::random_bytes(TOTAL);
    let line = "2024-05-06 12:00:00 sensor=42 temperature=21.5C humidity=40% 温度 正常\r\n";
    let gbk_line = TextEncoding::GBK.encode(line).expect("GBK has these characters");
    let random_encodings: &[&str] = &["utf-8", "gbk", "gb18030", "big5", "shift_jis", "euc-kr"];
    let samples: [(&str, Vec<u8>, &[&str]); 4] = [
        ("random", random, random_encodings),
        (
            "ascii",
            line.replace(" 温度 正常", "").bytes().cycle().take(TOTAL).collect(),
            &["utf-8"],
        ),
        ("utf-8 text", line.bytes().cycle().take(TOTAL).collect(), &["utf-8"]),
        (
            "gbk text",
            gbk_line.iter().copied().cycle().take(TOTAL).collect(),
            &["gbk"],
        ),
    ];
    println!("{TOTAL} bytes in {CHUNK}-byte chunks; MB/s of input");
    println!(
        "{:<12} {:<10} {:>10} {:>12} {:>7}",
        "input", "encoding", "wirepad", "encoding_rs", "ratio"
    );
    for (name, bytes, encodings) in &samples {
        for encoding in encodings.iter() {
            let encoding = TextEncoding::from_name(encoding).expect("known");
            let (ours, ours_len) = time(|| {
                let mut decoder = encoding.decoder();
                let mut out = String::new();
                let mut len = 0;
                for chunk in bytes.chunks(CHUNK) {
                    out.clear();
                    decoder.decode_into(chunk, &mut out);
                    len += out.len();
                }
                len
            });
            let (plain, plain_len) = time(|| {
                let mut decoder = encoding_rs::Encoding::for_label(encoding.name().as_bytes())
                    .expect("known")
                    .new_decoder_without_bom_handling();
                let mut out = String::new();
                let mut len = 0;
                for chunk in bytes.chunks(CHUNK) {
                    out.clear();
                    out.reserve(decoder.max_utf8_buffer_length(chunk.len()).unwrap_or(chunk.len()));
                    let _ = decoder.decode_to_string(chunk, &mut out, false);
                    len += out.len();
                }
                len
            });
            assert_eq!(ours_len, plain_len, "{name} {encoding}: outputs differ in length");
            println!(
                "{name:<12} {:<10} {:>10.0} {:>12.0} {:>6.1}×",
                encoding.name(),
                mb_per_s(ours),
                mb_per_s(plain),
                plain.as_secs_f64() / ours.as_secs_f64()
            );
        }
    }
}
