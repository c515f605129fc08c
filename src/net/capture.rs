//! Receive-to-file: every received byte, raw, in arrival order, written on a thread of its own.
//! The queue is bounded; a full queue tells the caller to stop reading its sockets (back-pressure).
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, TryRecvError, TrySendError, bounded};

use super::error::describe;

/// A capture file that could not be opened or written (or whose writer stopped), with its path.
#[derive(Debug, thiserror::Error)]
#[error("cannot write capture file {}: {}", path.display(), describe(source))]
pub struct CaptureError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// Chunks queued before back-pressure starts (each at most one socket read).
const QUEUE_CHUNKS: usize = 64;
/// Small chunks are gathered up to this; a chunk at least this big goes to the file without a copy.
const WRITE_BUFFER: usize = 64 * 1024;
/// Written chunks the writer hands back for reuse: a warm buffer instead of fresh pages for every read
/// (at 1 GiB/s the page faults of new allocations cost more than the copy). Bounds what the spares hold.
const SPARE_CHUNKS: usize = 8;

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
    path: PathBuf,
    chunks: Option<Sender<Vec<u8>>>,
    spares: Receiver<Vec<u8>>,
    /// A chunk the queue had no room for; nothing more is read until it is queued.
    held: Option<Vec<u8>>,
    writer: Option<JoinHandle<Result<(), CaptureError>>>,
    /// Set by the writer as it stops, before it wakes the worker.
    ended: Arc<AtomicBool>,
}

impl Capture {
    /// Opens (creates, truncates or appends to) the file at once, so a bad path is an immediate error.
    /// `on_exit` runs on the writer thread when it stops (the worker uses it to wake its poll).
    pub fn create(target: &CaptureFile, on_exit: impl FnOnce() + Send + 'static) -> Result<Capture, CaptureError> {
        let path = target.path.as_path();
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .append(target.append)
            .truncate(!target.append)
            .open(path)
            .map_err(|source| CaptureError {
                path: path.to_owned(),
                source,
            })?;
        let (tx, rx) = bounded(QUEUE_CHUNKS);
        let (spare_tx, spares) = bounded(SPARE_CHUNKS);
        let owned = path.to_owned();
        let ended = Arc::new(AtomicBool::new(false));
        let writer_ended = ended.clone();
        let writer = std::thread::Builder::new()
            .name("wirepad-capture".into())
            .spawn(move || {
                let result = write_all(file, &rx, &spare_tx, &owned);
                // Before the wake-up: the woken worker must find the writer ended, not still returning.
                writer_ended.store(true, Ordering::Release);
                on_exit();
                result
            })
            .map_err(|source| CaptureError {
                path: path.to_owned(),
                source,
            })?;
        Ok(Capture {
            path: path.to_owned(),
            chunks: Some(tx),
            spares,
            held: None,
            writer: Some(writer),
            ended,
        })
    }

    /// Queues a copy of `data`. Returns `false` when the queue is full: the copy is held and the caller must
    /// pause reading.
    pub fn push(&mut self, data: &[u8]) -> bool {
        debug_assert!(self.held.is_none(), "push while a chunk is held");
        let mut chunk = self.spares.try_recv().unwrap_or_default();
        chunk.clear();
        chunk.extend_from_slice(data);
        self.held = Some(chunk);
        self.retry()
    }

    /// Tries to queue the held chunk; `true` when nothing is held any more.
    pub fn retry(&mut self) -> bool {
        let (Some(chunk), Some(tx)) = (self.held.take(), &self.chunks) else {
            return true;
        };
        match tx.try_send(chunk) {
            Ok(()) => true,
            Err(TrySendError::Full(chunk)) => {
                self.held = Some(chunk);
                false
            }
            // The writer stopped on an error; `finished` reports it.
            Err(TrySendError::Disconnected(_)) => true,
        }
    }

    pub fn is_blocked(&self) -> bool {
        self.held.is_some()
    }

    /// The writer stopped by itself: the error it met. (`None` while it runs.)
    pub fn failed(&mut self) -> Option<CaptureError> {
        if self.writer.is_none() || !self.ended.load(Ordering::Acquire) {
            return None;
        }
        // The writer has written its result and is returning it: the join is at once.
        self.join().err()
    }

    /// Queues what is held, lets the writer drain and flush, and waits for it.
    pub fn finish(mut self) -> Result<(), CaptureError> {
        if let (Some(chunk), Some(tx)) = (self.held.take(), &self.chunks) {
            let _ = tx.send(chunk);
        }
        self.join()
    }

    fn join(&mut self) -> Result<(), CaptureError> {
        self.chunks = None;
        self.held = None;
        match self.writer.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(CaptureError {
                path: self.path.clone(),
                source: std::io::Error::other("the capture writer stopped unexpectedly"),
            }),
            None => Ok(()),
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.join();
    }
}

fn write_all(
    file: File,
    chunks: &Receiver<Vec<u8>>,
    spares: &Sender<Vec<u8>>,
    path: &Path,
) -> Result<(), CaptureError> {
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
        // Spares full: this one is freed instead.
        let _ = spares.try_send(chunk);
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
        let mut capture = Capture::create(&CaptureFile::truncate(&path), || {}).expect("create");
        let mut expected = Vec::new();
        for round in 0..200u32 {
            let chunk: Vec<u8> = (0..(200 - round) * 700).map(|i| (i ^ round) as u8).collect();
            // A full queue holds the chunk: wait for the writer to make room, as the worker does.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            let mut queued = capture.push(&chunk);
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
