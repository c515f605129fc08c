//! A file written on a thread of its own behind a bounded queue, shared by receive-to-file and the live pcap.
//! What the queue has no room for is held here, and the worker stops reading (and, for the pcap, writing) until
//! it is queued: back-pressure, nothing dropped.
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};

/// A copy of received data, one for the capture and the pcap together.
pub(super) type Shared = Arc<Vec<u8>>;

/// Buffers for `Shared` copies, handed back by whichever writer is done with a copy last: a warm buffer instead
/// of fresh pages for every read (at 1 GiB/s the page faults of new allocations cost more than the copy).
#[derive(Clone)]
pub(super) struct Pool {
    spares: Receiver<Vec<u8>>,
    back: Sender<Vec<u8>>,
}

impl Pool {
    /// Keeps at most `bound` spare buffers.
    pub fn new(bound: usize) -> Pool {
        let (back, spares) = bounded(bound);
        Pool { spares, back }
    }

    pub fn copy(&self, data: &[u8]) -> Shared {
        let mut chunk = self.spares.try_recv().unwrap_or_default();
        chunk.clear();
        chunk.extend_from_slice(data);
        Arc::new(chunk)
    }

    /// The last holder of a copy hands its buffer back (spares full: it is freed).
    pub fn recycle(&self, chunk: Shared) {
        if let Ok(chunk) = Arc::try_unwrap(chunk) {
            let _ = self.back.try_send(chunk);
        }
    }
}

pub(super) struct Spool<T, E> {
    path: PathBuf,
    items: Option<Sender<T>>,
    /// Items the queue had no room for, in order; nothing more is read until they are queued.
    held: VecDeque<T>,
    writer: Option<JoinHandle<Result<(), E>>>,
    /// Set by the writer as it stops, before it wakes the worker.
    ended: Arc<AtomicBool>,
    /// The error for a writer that panicked.
    lost: fn(&Path) -> E,
}

impl<T: Send + 'static, E: Send + 'static> Spool<T, E> {
    /// Starts the writer thread `name`, which runs `write` over the queue (at most `bound` items) until it is
    /// closed. `on_exit` runs on that thread when it stops (the worker uses it to wake its poll).
    pub fn spawn(
        name: &str,
        path: &Path,
        bound: usize,
        write: impl FnOnce(&Receiver<T>) -> Result<(), E> + Send + 'static,
        on_exit: impl FnOnce() + Send + 'static,
        lost: fn(&Path) -> E,
    ) -> std::io::Result<Self> {
        let (tx, rx) = bounded(bound);
        let ended = Arc::new(AtomicBool::new(false));
        let writer_ended = ended.clone();
        let writer = std::thread::Builder::new().name(name.into()).spawn(move || {
            let result = write(&rx);
            // Before the wake-up: the woken worker must find the writer ended, not still returning.
            writer_ended.store(true, Ordering::Release);
            on_exit();
            result
        })?;
        Ok(Spool {
            path: path.to_owned(),
            items: Some(tx),
            held: VecDeque::new(),
            writer: Some(writer),
            ended,
            lost,
        })
    }

    /// Queues `item` after what is held. Returns `false` when the queue is full: the caller must pause.
    pub fn push(&mut self, item: T) -> bool {
        self.held.push_back(item);
        self.retry()
    }

    /// Tries to queue what is held; `true` when nothing is held any more.
    pub fn retry(&mut self) -> bool {
        let Some(tx) = &self.items else {
            self.held.clear();
            return true;
        };
        while let Some(item) = self.held.pop_front() {
            match tx.try_send(item) {
                Ok(()) => {}
                Err(TrySendError::Full(item)) => {
                    self.held.push_front(item);
                    return false;
                }
                // The writer stopped on an error; `failed` reports it.
                Err(TrySendError::Disconnected(_)) => {
                    self.held.clear();
                    return true;
                }
            }
        }
        true
    }

    pub fn is_blocked(&self) -> bool {
        !self.held.is_empty()
    }

    /// The writer stopped by itself: the error it met. (`None` while it runs.)
    pub fn failed(&mut self) -> Option<E> {
        if self.writer.is_none() || !self.ended.load(Ordering::Acquire) {
            return None;
        }
        // The writer has written its result and is returning it: the join is at once.
        self.join().err()
    }

    /// Queues what is held, lets the writer drain and finish, and waits for it.
    pub fn finish(mut self) -> Result<(), E> {
        if let Some(tx) = &self.items {
            for item in self.held.drain(..) {
                if tx.send(item).is_err() {
                    break;
                }
            }
        }
        self.join()
    }

    fn join(&mut self) -> Result<(), E> {
        self.items = None;
        self.held.clear();
        match self.writer.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err((self.lost)(&self.path)),
            None => Ok(()),
        }
    }
}

impl<T, E> Drop for Spool<T, E> {
    /// Not finished (a worker unwinding from a panic): what is held still reaches the writer, as `finish` does.
    fn drop(&mut self) {
        if let Some(tx) = self.items.take() {
            for item in self.held.drain(..) {
                if tx.send(item).is_err() {
                    break;
                }
            }
        }
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A spool whose writer waits for the gate to open, then sends each item on to `out`.
    fn gated_spool() -> (Spool<u32, String>, Sender<()>, Receiver<u32>) {
        let (gate, go) = bounded::<()>(0);
        let (out_tx, out) = crossbeam_channel::unbounded();
        let spool = Spool::spawn(
            "wirepad-spool-test",
            Path::new("test"),
            4,
            move |items| {
                go.recv().map_err(|e| e.to_string())?;
                for item in items.iter() {
                    out_tx.send(item).map_err(|e| e.to_string())?;
                }
                Ok(())
            },
            || {},
            |_| "lost".into(),
        )
        .expect("spawn");
        (spool, gate, out)
    }

    /// A writer held still: the queue takes `bound` items, the next push says "pause" and is held; once the writer
    /// goes on, every item arrives, in order.
    #[test]
    fn a_full_queue_holds_what_comes_next_and_loses_nothing() {
        // The gate is dropped before the spool (which joins the writer), so a failing assertion cannot leave it waiting.
        let (mut spool, go_tx, out) = gated_spool();
        for item in 0..4 {
            assert!(spool.push(item), "item {item} fits the queue");
        }
        assert!(!spool.push(4), "the fifth waits");
        assert!(!spool.push(5), "and what comes after it");
        assert!(spool.is_blocked());
        go_tx.send(()).expect("the writer goes on");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !spool.retry() {
            assert!(std::time::Instant::now() < deadline, "the writer made no room in 10 s");
            std::thread::yield_now();
        }
        assert!(!spool.is_blocked());
        assert!(spool.push(6));
        spool.finish().expect("finish");
        assert_eq!(out.try_iter().collect::<Vec<_>>(), (0..7).collect::<Vec<_>>());
    }

    /// A worker that panics drops its spool unfinished: what it held still reaches the file.
    #[test]
    fn a_spool_dropped_unfinished_still_hands_over_what_it_held() {
        let (mut spool, go_tx, out) = gated_spool();
        for item in 0..6 {
            spool.push(item);
        }
        assert!(spool.is_blocked(), "two items are held");
        let opener = std::thread::spawn(move || go_tx.send(()));
        drop(spool);
        opener.join().expect("opener").expect("the writer went on");
        assert_eq!(out.try_iter().collect::<Vec<_>>(), (0..6).collect::<Vec<_>>());
    }
}
