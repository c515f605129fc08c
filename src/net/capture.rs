//! Receive-to-file: every received byte, raw, in arrival order, written on a thread of its own.
//! The queue is bounded; a full queue tells the caller to stop reading its sockets (back-pressure).
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crossbeam_channel::{Receiver, TryRecvError};

use super::error::CaptureError;
use super::spool::{Pool, Shared, Spool};

/// Chunks queued before back-pressure starts (each at most one socket read).
const QUEUE_CHUNKS: usize = 64;
/// Small chunks are gathered up to this; a chunk at least this big goes to the file without a copy.
const WRITE_BUFFER: usize = 64 * 1024;

/// Where to capture, and whether to keep what the file already holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureFile {
    pub path: PathBuf,
    pub append: bool,
}

impl CaptureFile {
    /// Starts the file afresh (the user chose it, and a save dialog asked before overwriting).
    pub fn truncate(path: impl Into<PathBuf>) -> Self {
        CaptureFile {
            path: path.into(),
            append: false,
        }
    }

    /// Goes on after what is there (a window reopening a session with the same capture).
    pub fn append(path: impl Into<PathBuf>) -> Self {
        CaptureFile {
            path: path.into(),
            append: true,
        }
    }
}

pub struct Capture {
    spool: Spool<Shared, CaptureError>,
}

impl Capture {
    /// Opens (creates, truncates or appends to) the file at once, so a bad path is an immediate error.
    /// `on_exit` runs on the writer thread when it stops (the worker uses it to wake its poll); written chunks go
    /// back to `pool`.
    pub fn create(
        target: &CaptureFile,
        pool: Pool,
        on_exit: impl FnOnce() + Send + 'static,
    ) -> Result<Capture, CaptureError> {
        let path = target.path.as_path();
        let error = |source| CaptureError {
            path: path.to_owned(),
            source,
        };
        let file = open(target).map_err(error)?;
        let owned = path.to_owned();
        let spool = Spool::spawn(
            "wirepad-capture",
            path,
            QUEUE_CHUNKS,
            move |chunks| write_all(file, chunks, &pool, &owned),
            on_exit,
            |path| CaptureError {
                path: path.to_owned(),
                source: std::io::Error::other("the capture writer stopped unexpectedly"),
            },
        )
        .map_err(error)?;
        Ok(Capture { spool })
    }

    /// Queues a copy of received data. Returns `false` when the queue is full: the copy is held and the caller
    /// must pause reading.
    pub fn push(&mut self, chunk: Shared) -> bool {
        self.spool.push(chunk)
    }

    /// Tries to queue what is held; `true` when nothing is held any more.
    pub fn retry(&mut self) -> bool {
        self.spool.retry()
    }

    pub fn is_blocked(&self) -> bool {
        self.spool.is_blocked()
    }

    /// The writer stopped by itself: the error it met. (`None` while it runs.)
    pub fn failed(&mut self) -> Option<CaptureError> {
        self.spool.failed()
    }

    /// Queues what is held, lets the writer drain and flush, and waits for it.
    pub fn finish(self) -> Result<(), CaptureError> {
        self.spool.finish()
    }
}

/// Creates, truncates or appends to the file, as `target` says.
pub(super) fn open(target: &CaptureFile) -> std::io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .append(target.append)
        .truncate(!target.append)
        .open(&target.path)
}

fn write_all(file: File, chunks: &Receiver<Shared>, pool: &Pool, path: &Path) -> Result<(), CaptureError> {
    let error = |source| CaptureError {
        path: path.to_owned(),
        source,
    };
    let mut out = BufWriter::with_capacity(WRITE_BUFFER, file);
    loop {
        let chunk = match chunks.try_recv() {
            Ok(chunk) => chunk,
            Err(TryRecvError::Empty) => {
                // Idle: put what we have on disk before waiting, so the file is current.
                out.flush().map_err(error)?;
                match chunks.recv() {
                    Ok(chunk) => chunk,
                    Err(_) => break,
                }
            }
            Err(TryRecvError::Disconnected) => break,
        };
        out.write_all(&chunk).map_err(error)?;
        pool.recycle(chunk);
    }
    out.flush().map_err(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Chunks of falling sizes, so reused spares (which held longer chunks) must be emptied before the copy.
    #[test]
    fn every_chunk_reaches_the_file_in_order_through_reused_buffers() {
        let dir = std::env::temp_dir().join(format!("wirepad-capture-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("capture.bin");
        let pool = Pool::new(8);
        let mut capture = Capture::create(&CaptureFile::truncate(&path), pool.clone(), || {}).expect("create");
        let mut expected = Vec::new();
        for round in 0..200u32 {
            let chunk: Vec<u8> = (0..(200 - round) * 700).map(|i| (i ^ round) as u8).collect();
            // A full queue holds the chunk: wait for the writer to make room, as the worker does.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            let mut queued = capture.push(pool.copy(&chunk));
            while !queued {
                assert!(std::time::Instant::now() < deadline, "the writer made no room in 10 s");
                std::thread::yield_now();
                queued = capture.retry();
            }
            expected.extend_from_slice(&chunk);
        }
        capture.finish().expect("finish");
        let written = std::fs::read(&path).expect("read back");
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(written.len(), expected.len());
        assert!(written == expected, "the file differs from what was pushed");
    }
}
