//! Work the worker drives besides its sockets: a periodic send and a file send (framing, rules and scripts need every
//! read as it happens, so they live in `auto.rs`, with a turn of their own). Each job says when it wants a turn, and
//! the worker gives it one after serving the sockets.
use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::transport::{Ctx, Transport};
use super::{Bytes, EventKind, NetError, Outgoing, Target};

/// A file is read ahead only while less than this waits in the send queue.
const FILE_QUEUE: usize = 1024 * 1024;

/// One job of each kind runs at a time: a new one replaces the one before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum JobKind {
    Periodic,
    File,
}

/// When a job wants its next turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Turn {
    /// As soon as the worker comes round (the poll does not wait).
    Now,
    /// At this moment.
    At(Instant),
    /// Not until something else happens (a send queue drains).
    Waiting,
}

/// Why a job ends before it is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cancel {
    /// A new job of the same kind took its place.
    Replaced,
    /// The user stopped it.
    Asked,
    /// The session is stopping.
    Stopping,
}

pub(super) trait Job: Send {
    fn kind(&self) -> JobKind;
    fn next_turn(&self, link: &dyn Transport) -> Turn;
    /// Whether its turns are timed finer than the poll's whole milliseconds (the worker then sets its fine timer).
    fn precise(&self) -> bool {
        false
    }
    /// One turn; `true` when the job is done.
    fn turn(&mut self, now: Instant, ctx: &mut Ctx, link: &mut dyn Transport) -> bool;
    /// Ends the job early, reporting what the user needs to know.
    fn cancel(self: Box<Self>, ctx: &mut Ctx, why: Cancel);
}

/// A send repeated on an absolute schedule: tick k is due at `start + k * interval`, so lateness never adds up.
/// A tick the worker was too late for is skipped and counted, never sent in a burst.
pub(super) struct Periodic {
    to: Target,
    bytes: Outgoing,
    interval: Duration,
    remaining: Option<u64>,
    sent: u64,
    start: Instant,
    /// The tick due next.
    tick: u64,
    /// When it is due; `None` beyond what an `Instant` holds (an absurd interval): the schedule ends.
    next: Option<Instant>,
}

impl Periodic {
    pub fn new(to: Target, bytes: Outgoing, interval: Duration, count: Option<u64>, start: Instant) -> Periodic {
        Periodic {
            to,
            bytes,
            interval: interval.max(Duration::from_millis(1)),
            remaining: count,
            sent: 0,
            start,
            tick: 0,
            next: Some(start),
        }
    }

    fn due(&self, tick: u64) -> Option<Instant> {
        let nanos = self.interval.as_nanos().checked_mul(u128::from(tick))?;
        let secs = u64::try_from(nanos / 1_000_000_000).ok()?;
        self.start
            .checked_add(Duration::new(secs, (nanos % 1_000_000_000) as u32))
    }
}

impl Job for Periodic {
    fn kind(&self) -> JobKind {
        JobKind::Periodic
    }

    fn next_turn(&self, _link: &dyn Transport) -> Turn {
        self.next.map_or(Turn::Waiting, Turn::At)
    }

    fn precise(&self) -> bool {
        true
    }

    fn turn(&mut self, now: Instant, ctx: &mut Ctx, link: &mut dyn Transport) -> bool {
        if self.next.is_none_or(|next| now < next) {
            return self.next.is_none();
        }
        // The latest tick whose time has come; those before it that were never sent are skipped.
        let elapsed = now.saturating_duration_since(self.start).as_nanos() / self.interval.as_nanos();
        let latest = u64::try_from(elapsed).unwrap_or(u64::MAX).max(self.tick);
        ctx.counters.add_missed_ticks(latest - self.tick);
        let result = ctx.send(&self.bytes, self.to, link);
        self.sent += 1;
        self.remaining = self.remaining.map(|n| n.saturating_sub(1));
        self.tick = latest.saturating_add(1);
        self.next = self.due(self.tick);
        let done = result.is_err() || self.remaining == Some(0) || self.next.is_none();
        let sent = if result.is_ok() { self.sent } else { self.sent - 1 };
        if let Err(e) = result {
            ctx.error(e);
        }
        ctx.emit(EventKind::PeriodicProgress { sent, done });
        done
    }

    fn cancel(self: Box<Self>, ctx: &mut Ctx, why: Cancel) {
        if why == Cancel::Asked {
            ctx.emit(EventKind::PeriodicProgress {
                sent: self.sent,
                done: true,
            });
        }
    }
}

/// A file sent as fast as the peer takes it, read ahead only while the send queue is short.
pub(super) struct FileSend {
    to: Target,
    path: PathBuf,
    file: File,
    sent: u64,
    total: u64,
}

impl FileSend {
    pub fn open(to: Target, path: PathBuf) -> Result<FileSend, NetError> {
        let read_error = |source| NetError::ReadFile {
            path: path.clone(),
            source,
        };
        let file = File::open(&path).map_err(read_error)?;
        let total = file.metadata().map_err(read_error)?.len();
        Ok(FileSend {
            to,
            path,
            file,
            sent: 0,
            total,
        })
    }

    fn progress(&self, done: bool) -> EventKind {
        EventKind::FileProgress {
            sent: self.sent,
            total: self.total,
            done,
        }
    }
}

impl Job for FileSend {
    fn kind(&self) -> JobKind {
        JobKind::File
    }

    fn next_turn(&self, link: &dyn Transport) -> Turn {
        if link.queued(self.to) < FILE_QUEUE {
            Turn::Now
        } else {
            Turn::Waiting
        }
    }

    fn turn(&mut self, _now: Instant, ctx: &mut Ctx, link: &mut dyn Transport) -> bool {
        let mut chunk = vec![0; link.file_chunk()];
        let mut budget = 4 * FILE_QUEUE;
        while budget > 0 && link.queued(self.to) < FILE_QUEUE {
            let n = match read_full(&mut self.file, &mut chunk) {
                Ok(n) => n,
                Err(source) => {
                    ctx.error(NetError::ReadFile {
                        path: self.path.clone(),
                        source,
                    });
                    return true;
                }
            };
            if n == 0 {
                ctx.emit(self.progress(true));
                return true;
            }
            if let Err(e) = link.send(ctx, self.to, Bytes::from(&chunk[..n]), false) {
                ctx.error(e);
                ctx.emit(self.progress(true));
                return true;
            }
            self.sent += n as u64;
            budget = budget.saturating_sub(n);
            ctx.emit(self.progress(false));
        }
        false
    }

    fn cancel(self: Box<Self>, ctx: &mut Ctx, why: Cancel) {
        // A file read to its end is all queued: what the drain cannot write is reported with the queue.
        if why == Cancel::Stopping && self.sent < self.total {
            ctx.error(NetError::FileStopped {
                path: self.path,
                left: self.total - self.sent,
                total: self.total,
            });
        }
    }
}

/// Fills `buf` unless the file ends first (so UDP datagrams are full-sized).
fn read_full(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use mio::Token;

    use super::*;
    use crate::net::Event;

    /// A link that records what is sent to it; its queue holds what was sent until `drain`.
    #[derive(Default)]
    struct Link {
        sent: Vec<Vec<u8>>,
        queued: usize,
        refuse: bool,
    }

    impl Transport for Link {
        fn ready(&mut self, _ctx: &mut Ctx, _token: Token, _readable: bool, _writable: bool) {}

        fn send(&mut self, _ctx: &mut Ctx, _to: Target, bytes: Bytes, _report: bool) -> Result<(), NetError> {
            if self.refuse {
                return Err(NetError::NoPeer(crate::net::Nobody::NotConnected));
            }
            self.queued += bytes.len();
            self.sent.push(bytes.to_vec());
            Ok(())
        }

        fn queued(&self, _to: Target) -> usize {
            self.queued
        }
    }

    fn events(ctx: &mut Ctx, rx: &crossbeam_channel::Receiver<Vec<Event>>) -> Vec<EventKind> {
        ctx.outbox.flush(Instant::now(), true);
        rx.try_iter().flatten().map(|event| event.kind).collect()
    }

    fn progress(kinds: &[EventKind]) -> Vec<(u64, bool)> {
        kinds
            .iter()
            .filter_map(|kind| match kind {
                EventKind::PeriodicProgress { sent, done } => Some((*sent, *done)),
                _ => None,
            })
            .collect()
    }

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn periodic_ticks_on_the_schedule_and_skips_what_it_was_late_for() {
        let (mut ctx, rx, _poll) = Ctx::for_test();
        let mut link = Link::default();
        let start = Instant::now();
        let mut job = Periodic::new(
            Target::Default,
            Bytes::from(&b"tick"[..]).into(),
            10 * MS,
            Some(4),
            start,
        );
        assert_eq!(job.next_turn(&link), Turn::At(start));
        // Each turn, and the progress events it left (one per send: the outbox keeps only the latest).
        let mut turn = |at: Duration, link: &mut Link| {
            let done = job.turn(start + at, &mut ctx, link);
            (
                done,
                progress(&events(&mut ctx, &rx)),
                ctx.counters.snapshot().missed_ticks,
                job.next_turn(link),
            )
        };
        assert_eq!(
            turn(Duration::ZERO, &mut link),
            (false, vec![(1, false)], 0, Turn::At(start + 10 * MS))
        );
        // Too early: nothing.
        assert_eq!(turn(9 * MS, &mut link), (false, vec![], 0, Turn::At(start + 10 * MS)));
        // 35 ms in: ticks 1 and 2 were missed, tick 3 goes now, tick 4 stays on the schedule.
        assert_eq!(
            turn(35 * MS, &mut link),
            (false, vec![(2, false)], 2, Turn::At(start + 40 * MS))
        );
        assert_eq!(
            turn(40 * MS, &mut link),
            (false, vec![(3, false)], 2, Turn::At(start + 50 * MS))
        );
        let (done, events, _, _) = turn(50 * MS, &mut link);
        assert!(done, "the fourth send ends it");
        assert_eq!(events, [(4, true)]);
        assert_eq!(link.sent, vec![b"tick".to_vec(); 4]);
    }

    #[test]
    fn periodic_stops_at_a_failed_send_and_reports_only_when_asked_to_stop() {
        let (mut ctx, rx, _poll) = Ctx::for_test();
        let mut link = Link::default();
        let start = Instant::now();
        let mut job = Periodic::new(Target::Default, Bytes::from(&b"x"[..]).into(), MS, None, start);
        assert!(!job.turn(start, &mut ctx, &mut link));
        link.refuse = true;
        assert!(job.turn(start + MS, &mut ctx, &mut link));
        let kinds = events(&mut ctx, &rx);
        assert!(kinds.iter().any(|kind| matches!(kind, EventKind::Error(_))));
        assert_eq!(
            progress(&kinds),
            [(1, false), (1, true)],
            "the failed send is not counted"
        );

        let periodic = || {
            Box::new(Periodic::new(
                Target::Default,
                Bytes::from(&b"x"[..]).into(),
                MS,
                None,
                start,
            ))
        };
        periodic().cancel(&mut ctx, Cancel::Replaced);
        assert!(progress(&events(&mut ctx, &rx)).is_empty());
        periodic().cancel(&mut ctx, Cancel::Asked);
        assert_eq!(progress(&events(&mut ctx, &rx)), [(0, true)]);
    }

    #[test]
    fn a_file_goes_out_whole_and_reads_ahead_only_while_the_queue_is_short() {
        let (mut ctx, rx, _poll) = Ctx::for_test();
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        let content: Vec<u8> = (0..3 * FILE_QUEUE + 123).map(|i| (i % 251) as u8).collect();
        file.write_all(&content).expect("write");
        let mut job = FileSend::open(Target::Default, file.path().to_owned()).expect("open");
        let mut link = Link::default();
        let now = Instant::now();
        let mut turns = 0;
        while job.next_turn(&link) == Turn::Now {
            turns += 1;
            assert!(turns < 100, "the file never ended");
            if job.turn(now, &mut ctx, &mut link) {
                break;
            }
            // A full queue stops the reading until the peer takes what is queued.
            assert!(link.queued >= FILE_QUEUE);
            assert_eq!(job.next_turn(&link), Turn::Waiting);
            link.queued = 0;
        }
        assert!(turns >= 3, "read ahead past the queue's bound");
        assert!(link.sent.concat() == content, "the bytes sent differ from the file");
        let last = events(&mut ctx, &rx).into_iter().last();
        assert!(matches!(last, Some(EventKind::FileProgress { sent, total, done: true })
            if sent == content.len() as u64 && total == sent));
    }

    #[test]
    fn a_file_stopped_with_the_session_reports_what_was_left() {
        let (mut ctx, rx, _poll) = Ctx::for_test();
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(&vec![7; 2 * FILE_QUEUE]).expect("write");
        let mut job = Box::new(FileSend::open(Target::Default, file.path().to_owned()).expect("open"));
        let mut link = Link::default();
        assert!(!job.turn(Instant::now(), &mut ctx, &mut link));
        let sent = link.sent.iter().map(Vec::len).sum::<usize>() as u64;
        job.cancel(&mut ctx, Cancel::Stopping);
        let stopped = events(&mut ctx, &rx).into_iter().find_map(|kind| match kind {
            EventKind::Error(error) => match &*error {
                NetError::FileStopped { left, total, .. } => Some((*left, *total)),
                _ => None,
            },
            _ => None,
        });
        assert_eq!(stopped, Some((2 * FILE_QUEUE as u64 - sent, 2 * FILE_QUEUE as u64)));
    }
}
