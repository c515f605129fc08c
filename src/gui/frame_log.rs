//! `WIREPAD_FRAME_LOG=FILE`: one line per frame, "UNIX_MS UI_MS" (wall clock in ms, and the frame's CPU time in
//! ms as eframe measured it), appended by a writer thread so the UI thread never waits on the disk. What the
//! benchmark reads for frame-time percentiles.
//!
//! `WIREPAD_FRAME_CPU_LOG=FILE` (Unix): the same lines with the UI thread's own CPU time since the previous frame.
//! eframe's figure is the time the frame took, so it also counts waiting for a core or for the renderer; on a
//! machine without a GPU the renderer (llvmpipe) and the programs under test share the cores with the window, and
//! this log tells that apart from the window's own work.
use std::fs::OpenOptions;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Sender, TrySendError, bounded};

/// Lines waiting for the writer; beyond this a line is dropped (and counted) rather than stall a frame.
const QUEUE: usize = 4096;

pub struct FrameLog {
    lines: Sender<(u128, f32)>,
    pub dropped: u64,
}

impl FrameLog {
    /// The log the environment variable `var` names, if set; a file that cannot be opened is reported once on
    /// stderr.
    pub fn from_env(var: &str) -> Option<FrameLog> {
        FrameLog::open(PathBuf::from(std::env::var_os(var)?))
    }

    fn open(path: PathBuf) -> Option<FrameLog> {
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

/// `WIREPAD_FRAME_CPU_LOG`: the UI thread's CPU time from one frame to the next.
pub struct CpuLog {
    log: FrameLog,
    last: Duration,
}

impl CpuLog {
    pub fn from_env() -> Option<CpuLog> {
        CpuLog::over(FrameLog::from_env("WIREPAD_FRAME_CPU_LOG")?)
    }

    fn over(log: FrameLog) -> Option<CpuLog> {
        let last = thread_cpu_time()?;
        Some(CpuLog { log, last })
    }

    /// Called once a frame, on the UI thread.
    pub fn record(&mut self) {
        if let Some(now) = thread_cpu_time() {
            self.log.record(now.saturating_sub(self.last).as_secs_f32());
            self.last = now;
        }
    }
}

/// The calling thread's CPU time so far.
#[cfg(unix)]
fn thread_cpu_time() -> Option<Duration> {
    use nix::time::{ClockId, clock_gettime};
    clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).ok().map(Duration::from)
}

#[cfg(not(unix))]
fn thread_cpu_time() -> Option<Duration> {
    None
}

#[cfg(all(test, unix))]
mod tests {
    use std::time::Instant;

    use super::*;

    /// Each line is this thread's CPU time since the last: a frame that computed for 20 ms says so, one that
    /// slept (waiting is no work) says almost nothing.
    #[test]
    fn the_cpu_log_counts_the_threads_work_not_its_waiting() {
        let folder = tempfile::tempdir().expect("temp dir");
        let path = folder.path().join("cpu.log");
        let mut log = CpuLog::over(FrameLog::open(path.clone()).expect("opens")).expect("a thread CPU clock");
        let start = thread_cpu_time().expect("clock");
        let mut spin = 0u64;
        while thread_cpu_time().expect("clock") - start < Duration::from_millis(20) {
            spin = std::hint::black_box(spin.wrapping_add(1));
        }
        log.record();
        std::thread::sleep(Duration::from_millis(30));
        log.record();
        drop(log);
        let deadline = Instant::now() + Duration::from_secs(10);
        let lines = loop {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            if text.lines().count() == 2 || Instant::now() > deadline {
                break text;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let ms: Vec<f32> = lines
            .lines()
            .filter_map(|line| line.split(' ').nth(1)?.parse().ok())
            .collect();
        assert_eq!(ms.len(), 2, "two lines: {lines:?}");
        assert!(ms[0] >= 20.0, "the computing frame: {} ms", ms[0]);
        assert!(ms[1] < 10.0, "the sleeping frame: {} ms", ms[1]);
    }
}
