//! The receive view under load, as the window drives it (one `append` per frame, the visible rows
//! rendered every frame): what an option change costs per frame and in all, and the process's memory
//! during floods, after Clear, and under a million small datagrams.
//! `cargo bench --bench view`
mod common;

use std::time::{Duration, Instant};

use wirepad::codec::text::TextEncoding;
use wirepad::history::{Chunk, Direction, History};
use wirepad::view::{View, ViewOptions};

/// Rows a window shows at once.
const VISIBLE: usize = 60;

/// Resident memory in MB (Linux; elsewhere 0).
fn rss_mb() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0.0);
    pages * 4096.0 / 1e6
}

fn chunk(bytes: &[u8], port: u16) -> Chunk {
    Chunk::new(
        chrono::Local::now(),
        ([127, 0, 0, 1], port).into(),
        Direction::Rx,
        bytes.to_vec(),
    )
}

/// One frame's UI work on the view: index what arrived, lay out the rows at the bottom.
fn frame(view: &mut View, log: &History) -> Duration {
    let started = Instant::now();
    view.append(log);
    let rows = view.rows();
    let shown: usize = view
        .rows_in(rows.saturating_sub(VISIBLE)..rows)
        .map(|row| row.text.len())
        .sum();
    std::hint::black_box(shown);
    started.elapsed()
}

fn option_changes() {
    let line = b"2024-05-06 12:00:00 sensor=42 temperature=21.5C humidity=40%\r\n";
    let block: Vec<u8> = line.iter().copied().cycle().take(64 * 1024).collect();
    let mut log = History::default();
    while log.dropped_chunks() == 0 {
        log.push(chunk(&block, 5000));
    }
    let stream = ViewOptions::default();
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
    while view.catching_up() || view.rows() == 0 {
        view.append(&log);
    }
    println!(
        "option changes on a full {} MiB view (UI work per frame: set_options or append, plus {VISIBLE} rows laid out)",
        log.bytes() >> 20
    );
    for (name, options) in runs {
        let started = Instant::now();
        let mut first = Instant::now();
        view.set_options(options, &log);
        let rows = view.rows();
        std::hint::black_box(view.rows_in(rows.saturating_sub(VISIBLE)..rows).count());
        let first_frame = first.elapsed();
        let (mut frames, mut worst) = (1, first_frame);
        while view.catching_up() {
            first = Instant::now();
            frame(&mut view, &log);
            worst = worst.max(first.elapsed());
            frames += 1;
        }
        println!(
            "  {name:<14} first frame {first_frame:>9.2?}, worst frame {worst:>9.2?}, {frames:>3} frames, all rows in {:>9.2?} ({} rows)",
            started.elapsed(),
            view.rows()
        );
    }
    let (mut cold, mut warm) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..10 {
        view.set_options(ViewOptions::default(), &log);
        while view.catching_up() {
            view.append(&log);
        }
        let rows = view.rows();
        let started = Instant::now();
        std::hint::black_box(view.rows_in(rows - VISIBLE..rows).count());
        cold += started.elapsed();
        let started = Instant::now();
        std::hint::black_box(view.rows_in(rows - VISIBLE..rows).count());
        warm += started.elapsed();
        view.set_options(
            ViewOptions {
                hex: true,
                ..ViewOptions::default()
            },
            &log,
        );
    }
    println!(
        "  {VISIBLE} rows at the bottom of the text view: {:.2?} first, {:.2?} again",
        cold / 10,
        warm / 10
    );
    let started = Instant::now();
    let all = view.text_of_all();
    println!(
        "  text_of_all (save view, copy all): {:.2?} for {} MB",
        started.elapsed(),
        all.len() / 1_000_000
    );
}

/// 1 GiB of random bytes in 64 KiB reads, 16 reads a frame, into the default 64 MiB budget; then Clear.
fn flood(name: &str, options: ViewOptions, idle: f64) {
    const READ: usize = 64 << 10;
    let noise = common::random_bytes(16 << 20);
    let mut log = History::default();
    let mut view = View::new(options);
    let (mut peak, mut worst, mut behind) = (0.0_f64, Duration::ZERO, 0);
    let started = Instant::now();
    for n in 0..(1 << 30) / READ {
        let from = (n * 4099) % (noise.len() - READ);
        log.push(chunk(&noise[from..from + READ], 5000));
        if n % 16 == 15 {
            worst = worst.max(frame(&mut view, &log));
            behind += usize::from(view.catching_up());
            peak = peak.max(rss_mb());
        }
    }
    let elapsed = started.elapsed();
    drop(noise);
    log.clear();
    frame(&mut view, &log);
    println!(
        "  {name:<5} 1 GiB flood: peak RSS {:>6.1} MB above idle, worst frame {worst:>8.2?}, {behind} of {} frames still indexing, {:.0} MB/s; after Clear {:>5.1} MB above idle",
        peak - idle,
        (1 << 30) / READ / 16,
        1073.7 / elapsed.as_secs_f64(),
        rss_mb() - idle
    );
}

fn datagrams(idle: f64) {
    let mut log = History::default();
    let mut view = View::new(ViewOptions {
        log_mode: true,
        ..ViewOptions::default()
    });
    let payload = common::random_bytes(64);
    let mut peak = 0.0_f64;
    for n in 0..1_000_000u32 {
        log.push(chunk(&payload, 5000 + (n % 50) as u16));
        if n % 1000 == 999 {
            frame(&mut view, &log);
            peak = peak.max(rss_mb());
        }
    }
    println!(
        "  1,000,000 datagrams of 64 B (log mode, 50 peers): peak RSS {:>6.1} MB above idle, {} chunks held",
        peak - idle,
        log.len()
    );
}

fn main() {
    if !common::measuring() {
        return;
    }
    let idle = rss_mb();
    option_changes();
    println!(
        "memory (RSS of this process, idle {idle:.1} MB before anything ran, {:.1} MB now)",
        rss_mb()
    );
    flood("text", ViewOptions::default(), idle);
    // As the window shows text: malformed bytes as escapes (random bytes are mostly malformed in UTF-8).
    flood(
        "shown",
        ViewOptions {
            escape_malformed: true,
            ..ViewOptions::default()
        },
        idle,
    );
    flood(
        "hex",
        ViewOptions {
            hex: true,
            ..ViewOptions::default()
        },
        idle,
    );
    datagrams(idle);
}
