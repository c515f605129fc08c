//! What a load run counts while it runs: exact counters, reasons, and the latency histograms.
use std::collections::BTreeMap;
use std::io;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::net::platform;

/// The longest latency recorded exactly (an hour, in µs); longer ones count as this.
const HIGHEST_US: u64 = 3_600_000_000;

/// Why a connection failed or was lost, as the report names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    Refused,
    Reset,
    Timeout,
    /// Out of file descriptors (EMFILE/ENFILE; WSAEMFILE/WSAENOBUFS on Windows).
    Emfile,
    Unreachable,
    /// The peer closed the connection in order.
    Closed,
    Other,
}

impl Reason {
    pub fn of(error: &io::Error) -> Reason {
        use io::ErrorKind as K;
        match error.kind() {
            K::ConnectionRefused => Reason::Refused,
            K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => Reason::Reset,
            K::TimedOut => Reason::Timeout,
            K::HostUnreachable | K::NetworkUnreachable | K::AddrNotAvailable => Reason::Unreachable,
            _ if platform::out_of_files(error) => Reason::Emfile,
            _ => Reason::Other,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Reason::Refused => "refused",
            Reason::Reset => "reset",
            Reason::Timeout => "timeout",
            Reason::Emfile => "EMFILE",
            Reason::Unreachable => "unreachable",
            Reason::Closed => "closed",
            Reason::Other => "other",
        }
    }
}

/// A histogram of microseconds from 1 µs to an hour, 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    // The bounds are constants that the crate accepts (1 ≤ low, high ≥ 2·low, 3 digits).
    Histogram::new_with_bounds(1, HIGHEST_US, 3).expect("valid constant bounds")
}

/// Everything a run counts.
#[derive(Debug)]
pub struct Stats {
    pub attempted: u64,
    pub established: u64,
    pub failed: BTreeMap<Reason, u64>,
    /// Connections lost after they were established.
    pub dropped: BTreeMap<Reason, u64>,
    pub sent: u64,
    pub replies: u64,
    /// Replies with no message outstanding on their connection.
    pub unexpected: u64,
    pub timeouts: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub latency: Histogram<u64>,
    pub connect: Histogram<u64>,
    /// How late the most behind message was handed to its connection, against its schedule.
    pub slip: Duration,
    /// From the start of the run until the last connection opened.
    pub all_open: Duration,
    pub lost: u64,
    pub duplicated: u64,
    pub reordered: u64,
}

impl Stats {
    pub fn new() -> Stats {
        Stats {
            attempted: 0,
            established: 0,
            failed: BTreeMap::new(),
            dropped: BTreeMap::new(),
            sent: 0,
            replies: 0,
            unexpected: 0,
            timeouts: 0,
            bytes_sent: 0,
            bytes_received: 0,
            latency: new_histogram(),
            connect: new_histogram(),
            slip: Duration::ZERO,
            all_open: Duration::ZERO,
            lost: 0,
            duplicated: 0,
            reordered: 0,
        }
    }

    pub fn reply(&mut self, latency: Duration) {
        self.replies += 1;
        self.latency.saturating_record(micros(latency));
    }

    /// A connection opened after `took`, `since_start` into the run.
    pub fn connected(&mut self, took: Duration, since_start: Duration) {
        self.established += 1;
        self.all_open = self.all_open.max(since_start);
        self.connect.saturating_record(micros(took));
    }

    pub fn failed(&mut self, reason: Reason) {
        *self.failed.entry(reason).or_default() += 1;
    }

    pub fn dropped(&mut self, reason: Reason) {
        *self.dropped.entry(reason).or_default() += 1;
    }

    pub fn slipped(&mut self, by: Duration) {
        self.slip = self.slip.max(by);
    }

    /// The latency distribution for a plot: (upper bound in ms, replies) per bucket, each twice as wide as the
    /// one before (about 30 from 10 µs to an hour, however many replies).
    pub fn latency_buckets(&self) -> Vec<(f64, u64)> {
        if self.latency.is_empty() {
            return Vec::new();
        }
        let buckets = self.latency.iter_log(10, 2.0);
        buckets
            .map(|value| {
                (
                    value.value_iterated_to() as f64 / 1000.0,
                    value.count_since_last_iteration(),
                )
            })
            .collect()
    }
}

/// At least 1 µs: a zero would not be recorded by a histogram whose lowest value is 1.
fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX).max(1)
}
