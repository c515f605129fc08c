//! The loop shared by TCP and UDP: one mio poll, the send budget, each connection's schedule, the progress
//! snapshots and the end of the run. The protocols plug in as a `Driver`.
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use mio::{Events, Poll, Token};

use super::report::Report;
use super::stats::Stats;
use super::{Config, Finished, Limit, Pace, Snapshot};
use crate::net::platform::FineTimer;
use crate::vars::Values;

pub const WAKER: Token = Token(usize::MAX);
const TIMER: Token = Token(usize::MAX - 1);
/// The longest the loop sleeps: a stop is seen within this.
const MAX_WAIT: Duration = Duration::from_millis(100);
const TICK: Duration = Duration::from_secs(1);

/// What a protocol does in the shared loop.
pub trait Driver {
    /// Work that is due: connections to open, connects that timed out, messages on their schedule.
    fn turn(&mut self, run: &mut Run, now: Instant);
    /// One readiness event of one of its sockets.
    fn event(&mut self, run: &mut Run, event: &mio::event::Event, now: Instant);
    /// The next moment `turn` has work of its own (besides the send schedule).
    fn next_wake(&self) -> Option<Instant>;
    /// Nothing is open and nothing more will be: the run cannot go on.
    fn all_gone(&self) -> bool;
    /// Sockets open now.
    fn open(&self) -> u64;
    /// At the end: what is still unanswered counts as timed out.
    fn finish(&mut self, run: &mut Run);
}

pub struct Run {
    pub config: Config,
    pub poll: Poll,
    stop: Arc<AtomicBool>,
    progress: Sender<Snapshot>,
    pub stats: Stats,
    pub started: Instant,
    /// Connections due to send, by when (the earliest first); a connection is in it at most once.
    pub due: BinaryHeap<Reverse<(Instant, usize)>>,
    /// Time between two messages of one connection; `None`: as fast as it can.
    pub interval: Option<Duration>,
    pub peer: String,
    /// Messages sent and not answered yet, over all connections.
    pub outstanding: u64,
    sending: bool,
    remaining: Option<u64>,
    send_until: Option<Instant>,
    drain_until: Option<Instant>,
    timer: Option<FineTimer>,
    next_tick: Instant,
    last: (u64, u64),
}

impl Run {
    pub fn new(config: Config, poll: Poll, stop: Arc<AtomicBool>, progress: Sender<Snapshot>) -> Run {
        let timer = FineTimer::new(poll.registry(), TIMER);
        let connections = f64::from(config.connections.max(1));
        let per_connection = match config.pace {
            Pace::PerConnection(rate) => rate,
            Pace::Total(rate) => rate / connections,
        };
        let interval = (per_connection > 0.0)
            .then(|| Duration::try_from_secs_f64(1.0 / per_connection).ok())
            .flatten();
        let now = Instant::now();
        let (remaining, send_until) = match config.limit {
            Limit::Count(n) => (Some(n), None),
            Limit::Duration(span) => (None, now.checked_add(span)),
            Limit::UntilStopped => (None, None),
        };
        Run {
            peer: config.target.to_string(),
            config,
            poll,
            stop,
            progress,
            stats: Stats::new(),
            started: now,
            due: BinaryHeap::new(),
            interval,
            outstanding: 0,
            sending: true,
            remaining,
            send_until,
            drain_until: None,
            timer,
            next_tick: now + TICK,
            last: (0, 0),
        }
    }

    /// Runs until the limit, a stop, or nothing left to talk to; then the report.
    pub fn drive<D: Driver>(mut self, make: impl FnOnce(&Run) -> D) -> Finished {
        let mut driver = make(&self);
        let mut events = Events::with_capacity(1024);
        while !self.stop.load(Ordering::SeqCst) {
            let now = Instant::now();
            driver.turn(&mut self, now);
            self.tick(now, driver.open());
            if self.ended(now, &driver) {
                break;
            }
            let wait = self.wait(now, driver.next_wake());
            if let Err(error) = self.poll.poll(&mut events, Some(wait))
                && error.kind() != io::ErrorKind::Interrupted
            {
                break;
            }
            let now = Instant::now();
            for event in events.iter() {
                if event.token() != WAKER && event.token() != TIMER {
                    driver.event(&mut self, event, now);
                }
            }
        }
        driver.finish(&mut self);
        let protocol = self.config.protocol.name();
        Finished {
            report: Report::new(self.peer.clone(), protocol, &self.stats, self.started.elapsed()),
            latency_buckets: self.stats.latency_buckets(),
        }
    }

    fn ended(&mut self, now: Instant, driver: &impl Driver) -> bool {
        if driver.all_gone() {
            return true;
        }
        self.may_send(now);
        !self.sending && (self.outstanding == 0 || self.drain_until.is_some_and(|until| now >= until))
    }

    /// How long the poll may sleep: until the next thing due, at most `MAX_WAIT`.
    fn wait(&self, now: Instant, driver: Option<Instant>) -> Duration {
        let schedule = self.due.peek().map(|Reverse((at, _))| *at).filter(|_| self.sending);
        let until = [
            schedule,
            driver,
            Some(self.next_tick),
            self.send_until,
            self.drain_until,
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(now + MAX_WAIT);
        let wait = until.saturating_duration_since(now).min(MAX_WAIT);
        if let Some(timer) = &self.timer
            && !wait.is_zero()
        {
            timer.set(wait);
        }
        wait
    }

    /// Whether sending goes on; when it ends, replies are waited for up to the timeout.
    pub fn may_send(&mut self, now: Instant) -> bool {
        let spent = self.remaining == Some(0) || self.send_until.is_some_and(|until| now >= until);
        if self.sending && spent {
            self.sending = false;
            self.drain_until = now.checked_add(self.config.timeout);
        }
        self.sending
    }

    /// The scheduled time of a connection's next message if it is due (always `now` when unpaced).
    pub fn due_at(&mut self, next: Instant, now: Instant) -> Option<Instant> {
        if !self.may_send(now) {
            return None;
        }
        match self.interval {
            Some(_) if next > now => None,
            Some(_) => Some(next),
            None => Some(now),
        }
    }

    /// How many more messages may be sent in all, when the run has a count.
    pub fn remaining(&self) -> Option<u64> {
        self.remaining
    }

    /// The schedule's next time after `next` (unpaced: the same).
    pub fn after(&self, next: Instant) -> Instant {
        self.interval
            .and_then(|interval| next.checked_add(interval))
            .unwrap_or(next)
    }

    /// One message handed to its connection: counted, and its connection's schedule moved on.
    pub fn sent_one(&mut self, next: &mut Instant, due: Instant, now: Instant) {
        self.stats.sent += 1;
        self.outstanding += 1;
        if let Some(remaining) = &mut self.remaining {
            *remaining = remaining.saturating_sub(1);
        }
        self.stats.slipped(now.saturating_duration_since(due));
        *next = self.after(*next);
    }

    /// Where connection `index` starts its schedule: spread evenly over one interval, so N connections at a total
    /// rate send one after another rather than in bursts.
    pub fn first_due(&self, index: usize, now: Instant) -> Instant {
        let Some(interval) = self.interval else { return now };
        let share = index as f64 / f64::from(self.config.connections.max(1));
        now.checked_add(interval.mul_f64(share)).unwrap_or(now)
    }

    /// Connection `index` waits for its next message.
    pub fn schedule(&mut self, index: usize, at: Instant) {
        if self.sending {
            self.due.push(Reverse((at, index)));
        }
    }

    /// Connections whose next message is due now, each once.
    pub fn take_due(&mut self, now: Instant) -> Vec<usize> {
        let mut ready = Vec::new();
        while let Some(Reverse((at, index))) = self.due.peek().copied() {
            if at > now {
                break;
            }
            self.due.pop();
            ready.push(index);
        }
        ready
    }

    /// The variables of connection `conn`'s message number `seq`.
    pub fn values(&self, conn: usize, seq: u64) -> Values<'_> {
        Values {
            seq,
            conn: conn as u64,
            count: self.stats.sent,
            peer: &self.peer,
        }
    }

    /// A progress snapshot once a second.
    fn tick(&mut self, now: Instant, open: u64) {
        if now < self.next_tick {
            return;
        }
        self.next_tick = now + TICK;
        let (sent, replies) = (self.stats.sent, self.stats.replies);
        let latency = &self.stats.latency;
        let ms = |q: f64| latency.value_at_quantile(q) as f64 / 1000.0;
        let snapshot = Snapshot {
            elapsed: now - self.started,
            open,
            sent,
            replies,
            failed: self.stats.failed.values().sum(),
            failed_by: self.stats.failed.clone(),
            dropped_by: self.stats.dropped.clone(),
            sent_per_s: (sent - self.last.0) as f64,
            replies_per_s: (replies - self.last.1) as f64,
            p50_ms: ms(0.5),
            p99_ms: ms(0.99),
        };
        self.last = (sent, replies);
        // A consumer that is behind misses a snapshot; the run never waits for it.
        let _ = self.progress.try_send(snapshot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::framing::Framing;
    use crate::net::load::Payload;
    use crate::net::load::Protocol;
    use crate::vars::Template;

    fn run(pace: Pace, limit: Limit, connections: u32) -> Run {
        let config = Config {
            protocol: Protocol::Tcp,
            target: "127.0.0.1:9".parse().expect("address"),
            connections,
            connect_rate: None,
            pace,
            limit,
            payload: Payload {
                template: Template::literal(b"x".to_vec()),
                checksum: None,
                append: b"",
            },
            framing: Framing::None,
            timeout: Duration::from_secs(1),
            in_flight: None,
        };
        let (progress, _) = crossbeam_channel::bounded(1);
        let poll = Poll::new().expect("a poll");
        Run::new(config, poll, Arc::new(AtomicBool::new(false)), progress)
    }

    /// Coordinated omission: a sender 300 ms late hands out every message that fell due meanwhile, each with the
    /// time it was scheduled for (latency counts from there), and reports how far behind it was.
    #[test]
    fn a_late_sender_keeps_each_messages_scheduled_time() {
        let mut run = run(Pace::PerConnection(100.0), Limit::Count(1000), 1);
        let start = run.started;
        let late = start + Duration::from_millis(300);
        let mut next = start;
        let mut times = Vec::new();
        while let Some(due) = run.due_at(next, late) {
            times.push(due);
            run.sent_one(&mut next, due, late);
        }
        assert_eq!(times.len(), 31);
        assert_eq!(times[0], start);
        assert_eq!(times[30], start + Duration::from_millis(300));
        assert_eq!(run.stats.slip, Duration::from_millis(300));
        assert_eq!(run.outstanding, 31);
    }

    #[test]
    fn a_count_ends_sending_and_a_total_rate_is_shared() {
        let mut run = run(Pace::Total(1000.0), Limit::Count(2), 4);
        assert_eq!(run.interval, Some(Duration::from_millis(4)));
        assert_eq!(run.first_due(2, run.started), run.started + Duration::from_millis(2));
        let now = run.started;
        let mut next = now;
        for _ in 0..2 {
            let due = run.due_at(next, now + Duration::from_secs(1)).expect("due");
            run.sent_one(&mut next, due, now);
        }
        assert_eq!(run.due_at(next, now + Duration::from_secs(1)), None, "two in total");
        assert!(!run.may_send(now));
    }
}
