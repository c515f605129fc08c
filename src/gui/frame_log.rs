//! `WIREPAD_FRAME_LOG=FILE`: one line per frame, "UNIX_MS UI_MS" (wall clock in ms, and the frame's CPU time in
//! ms as eframe measured it), appended by a writer thread so the UI thread never waits on the disk. What the
//! benchmark reads for frame-time percentiles.
use std::fs::OpenOptions;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Sender, TrySendError, bounded};

/// Lines waiting for the writer; beyond this a line is dropped (and counted) rather than stall a frame.
const QUEUE: usize = 4096;

pub struct FrameLog {
    lines: Sender<(u128, f32)>,
    pub dropped: u64,
}

impl FrameLog {
    /// The log `WIREPAD_FRAME_LOG` names, if set; a file that cannot be opened is reported once on stderr.
    pub fn from_env() -> Option<FrameLog> {
        let path = PathBuf::from(std::env::var_os("WIREPAD_FRAME_LOG")?);
        let file = match OpenOptions::new().create(true).append(true).open(&path) {
            Ok(file) => file,
            Err(error) => {
                eprintln!("wirepad: cannot write the frame log {}: {error}", path.display());
                return None;
            }
        };
        let (lines, queued) = bounded::<(u128, f32)>(QUEUE);
        std::thread::Builder::new()
            .name("wirepad-frame-log".into())
            .spawn(move || {
                let mut out = BufWriter::new(file);
                while let Ok((unix_ms, ui_ms)) = queued.recv() {
                    let _ = writeln!(out, "{unix_ms} {ui_ms:.3}");
                    if queued.is_empty() {
                        let _ = out.flush();
                    }
                }
            })
            .ok()?;
        Some(FrameLog { lines, dropped: 0 })
    }

    /// Records one frame's CPU time in seconds.
    pub fn record(&mut self, cpu_seconds: f32) {
        let unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_millis());
        if let Err(TrySendError::Full(_)) = self.lines.try_send((unix_ms, cpu_seconds * 1000.0)) {
            self.dropped += 1;
        }
    }
}
