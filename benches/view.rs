//! How long the receive view takes to re-render a full 64 MiB log (what toggling hex or the encoding costs).
//! `cargo bench --bench view`
use std::time::Instant;

use wirepad::codec::text::TextEncoding;
use wirepad::log::{Chunk, Direction, Log};
use wirepad::view::{View, ViewOptions};

fn main() {
    let line = b"2024-05-06 12:00:00 sensor=42 temperature=21.5C humidity=40%\r\n";
    let block: Vec<u8> = line.iter().copied().cycle().take(64 * 1024).collect();
    let peer = "127.0.0.1:5000".parse().expect("address");
    let mut log = Log::default();
    while log.dropped_chunks() == 0 {
        log.push(Chunk {
            at: chrono::Local::now(),
            peer,
            direction: Direction::Rx,
            bytes: block.clone(),
        });
    }
    let stream = ViewOptions {
        log_mode: false,
        ..ViewOptions::default()
    };
    let runs = [
        ("text", stream.clone()),
        (
            "log mode",
            ViewOptions {
                log_mode: true,
                ..stream.clone()
            },
        ),
        (
            "hex",
            ViewOptions {
                hex: true,
                ..stream.clone()
            },
        ),
        (
            "gbk",
            ViewOptions {
                encoding: TextEncoding::GBK,
                ..stream.clone()
            },
        ),
        (
            "wrapped at 40",
            ViewOptions {
                wrap_columns: Some(40),
                ..stream.clone()
            },
        ),
    ];
    let mut view = View::new(ViewOptions {
        hex: true,
        log_mode: true,
        ..stream
    });
    for (name, options) in runs {
        let started = Instant::now();
        view.set_options(options, &log);
        let (mib, elapsed, rows) = (log.bytes() >> 20, started.elapsed(), view.rows());
        println!("{mib} MiB rendered as {name}: {elapsed:?} ({rows} rows)");
    }
}
