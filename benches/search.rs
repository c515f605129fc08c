//! Find over a 64 MiB history as the window runs it: the view's snapshot searched chunk by chunk (reads of 1 to
//! 16 KiB, so matches cross chunk boundaries), the first match handed over at once. Prints one JSON line per case
//! (time to the snapshot, to the first match, to all, and the count) for bench/search.py, which runs Python over
//! the same bytes as the peer. `WIREPAD_SEARCH_DATA=FILE` also writes the bytes there.
//! `cargo bench --bench search`
mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use chrono::Local;
use wirepad::export::find::{FindMode, Query, run};
use wirepad::history::{Chunk, Direction, History};
use wirepad::view::{View, ViewOptions};

const TOTAL: usize = 64 << 20;

/// Lines of a device log; one in a thousand is an error, and only the last line has the marker.
fn history() -> Vec<u8> {
    let mut bytes = Vec::with_capacity(TOTAL + 256);
    let mut n = 0u64;
    while bytes.len() < TOTAL {
        let line = if n % 1000 == 999 {
            format!("2026-11-30 12:00:00.123 ERROR 4711 sensor=42 温度 异常 seq={n}\r\n")
        } else {
            format!("2026-11-30 12:00:00.123 sensor=42 temperature=21.5C humidity=40% 温度 正常 seq={n}\r\n")
        };
        bytes.extend_from_slice(line.as_bytes());
        n += 1;
    }
    bytes.truncate(TOTAL - 32);
    bytes.extend_from_slice(b"\r\nLAST-LINE-MARKER\r\n");
    bytes
}

fn main() {
    if !common::measuring() {
        return;
    }
    let bytes = history();
    if let Some(path) = std::env::var_os("WIREPAD_SEARCH_DATA") {
        std::fs::write(&path, &bytes).expect("write the history");
    }
    // TCP-sized reads, then the small reads (or datagrams) that make the most chunks.
    for largest in [16 << 10, 256] {
        let view = view_of(&bytes, largest);
        search(&view, largest);
    }
}

/// The view of `bytes` received in reads of 1 to `largest` bytes.
fn view_of(bytes: &[u8], largest: usize) -> View {
    let peer = SocketAddr::from(([127, 0, 0, 1], 5000));
    let mut log = History::new(TOTAL * 4);
    let mut sizes = common::random_bytes(TOTAL / 32).into_iter();
    let mut rest = bytes;
    while !rest.is_empty() {
        let noise = usize::from(sizes.next().unwrap_or(0)) << 8 | usize::from(sizes.next().unwrap_or(0));
        let len = (1 + noise % largest).min(rest.len());
        log.push(Chunk::new(Local::now(), peer, Direction::Rx, rest[..len].to_vec()));
        rest = &rest[len..];
    }
    let mut view = View::new(ViewOptions::STREAM);
    view.append(&log);
    while view.catching_up() {
        view.append(&log);
    }
    view
}

fn search(view: &View, largest: usize) {
    let cases: [(&str, FindMode, &str); 5] = [
        ("text, 1 line in 1000", FindMode::Text, "ERROR 4711"),
        ("CJK text, 1 line in 1000", FindMode::Text, "温度 异常"),
        ("hex, 1 line in 1000", FindMode::Hex, "45 52 52 4F 52 20 34 37 31 31"),
        ("regex, 1 line in 1000", FindMode::Regex, r"ERROR \d+"),
        ("text, only in the last line", FindMode::Text, "LAST-LINE-MARKER"),
    ];
    for (name, mode, pattern) in cases {
        let started = Instant::now();
        let snapshot = view.snapshot();
        let snapshot_time = started.elapsed();
        let query = Query::new(mode, pattern, ViewOptions::STREAM.encoding)
            .expect("valid")
            .expect("not empty");
        let (mut first, mut count) = (None, 0);
        let searching = Instant::now();
        run(
            query,
            snapshot.numbered(),
            Duration::from_millis(50),
            || false,
            |batch| {
                if first.is_none() && !batch.matches.is_empty() {
                    first = Some(searching.elapsed());
                }
                count += batch.matches.len();
            },
        );
        let all = searching.elapsed();
        let ms = |time: Duration| time.as_secs_f64() * 1000.0;
        println!(
            "{{\"case\": \"{name}\", \"reads\": \"1 to {largest} B\", \"mode\": \"{mode:?}\", \"pattern\": {pattern:?}, \"chunks\": {}, \"snapshot_ms\": {:.3}, \"first_ms\": {:.3}, \"all_ms\": {:.3}, \"count\": {count}}}",
            snapshot.len(),
            ms(snapshot_time),
            ms(snapshot_time + first.unwrap_or(all)),
            ms(snapshot_time + all),
        );
    }
}
