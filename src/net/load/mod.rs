//! The load generator: N TCP connections or UDP sockets driven by one mio worker thread, each sending on a
//! schedule, with latency measured from each message's *scheduled* time (so a server that stalls shows up in the
//! percentiles instead of slowing the generator down: coordinated omission).
//!
//! Not a receive-view session: it shows no data, only a progress snapshot a second and a report at the end, so it
//! has its own handle ([`LoadRun`]) instead of a `Session`.
mod report;
mod run;
mod stats;
mod tcp;
mod udp;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, bounded};

use crate::codec::framing::Framing;
pub use crate::vars::Payload;

pub use report::{Percentiles, Report, ReportError};
pub use stats::Reason;

/// The highest rate taken, per connection or in total: beyond it the numbers would be the generator's own limits.
pub const MAX_RATE: f64 = 10_000_000.0;
/// The lowest rate other than 0 (one message in 1000 s).
pub const MIN_RATE: f64 = 0.001;
/// The most connections or sockets of one run.
pub const MAX_CONNECTIONS: u32 = 1_000_000;
/// The most unanswered messages `--in-flight` allows per connection.
pub const MAX_IN_FLIGHT: u32 = 65_536;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// Messages per second: for each connection, or in total spread over all of them; 0 = as fast as it can.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    PerConnection(f64),
    Total(f64),
}

/// When sending ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Duration(Duration),
    /// Messages in total.
    Count(u64),
    UntilStopped,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub protocol: Protocol,
    pub target: SocketAddr,
    pub connections: u32,
    /// New connections per second (TCP); `None`: all at once.
    pub connect_rate: Option<f64>,
    pub pace: Pace,
    pub limit: Limit,
    pub payload: Payload,
    /// How TCP replies are cut into messages (UDP: each datagram is one).
    pub framing: Framing,
    /// How long a connect may take, and how long replies are waited for once sending has ended.
    pub timeout: Duration,
    /// TCP: the most unanswered messages per connection (`None`: 128 unpaced, 65,536 paced); 1 is a closed
    /// loop, each message sent when the previous one's reply arrives.
    pub in_flight: Option<u32>,
}

/// Once a second while it runs, for the progress line and the window's plots.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub elapsed: Duration,
    pub open: u64,
    pub sent: u64,
    pub replies: u64,
    pub failed: u64,
    /// Connections that never opened, and those lost after they opened, by reason so far.
    pub failed_by: BTreeMap<Reason, u64>,
    pub dropped_by: BTreeMap<Reason, u64>,
    /// Over the last second.
    pub sent_per_s: f64,
    pub replies_per_s: f64,
    /// Of every reply so far, in ms.
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// Why a run could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot make the poll for the load run: {0}")]
    Poll(std::io::Error),
    #[error("cannot start the load thread: {0}")]
    Thread(std::io::Error),
    #[error("the load run crashed: {0}")]
    Panicked(String),
}

/// How a run ended: its report, and its latency histogram ready to plot (worked out on the run's thread, so the
/// window's frame that takes the end does not decode the report's histogram).
#[derive(Debug)]
pub struct Finished {
    pub report: Report,
    /// (upper bound in ms, replies) per bucket, each twice as wide as the one before.
    pub latency_buckets: Vec<(f64, u64)>,
}

/// A run in progress: its snapshots, and a stop that is seen within 100 ms.
pub struct LoadRun {
    stop: Arc<AtomicBool>,
    waker: Arc<mio::Waker>,
    thread: JoinHandle<Result<Finished, crate::crash::Crash>>,
    pub progress: Receiver<Snapshot>,
}

impl LoadRun {
    /// Starts the worker thread; the run begins at once.
    pub fn start(config: Config) -> Result<LoadRun, LoadError> {
        crate::net::platform::raise_fd_limit();
        let poll = mio::Poll::new().map_err(LoadError::Poll)?;
        let waker = Arc::new(mio::Waker::new(poll.registry(), run::WAKER).map_err(LoadError::Poll)?);
        let stop = Arc::new(AtomicBool::new(false));
        // Snapshots are a view: when the consumer is behind, the newest are dropped, never the run slowed.
        let (progress_tx, progress) = bounded(64);
        let run = run::Run::new(config, poll, stop.clone(), progress_tx);
        let thread = std::thread::Builder::new()
            .name("wirepad-load".into())
            .spawn(move || {
                crate::crash::guarded(move || match run.config.protocol {
                    Protocol::Tcp => run.drive(tcp::Tcp::new),
                    Protocol::Udp => run.drive(udp::Udp::new),
                })
            })
            .map_err(LoadError::Thread)?;
        Ok(LoadRun {
            stop,
            waker,
            thread,
            progress,
        })
    }

    /// Ends the run now; `finish` then returns the report of what was done.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.waker.wake();
    }

    pub fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }

    /// Waits for the run to end and returns its report.
    pub fn finish(self) -> Result<Finished, LoadError> {
        match self.thread.join() {
            Ok(Ok(finished)) => Ok(finished),
            Ok(Err(crash)) => Err(LoadError::Panicked(crash.message)),
            Err(_) => Err(LoadError::Panicked("the load thread panicked".into())),
        }
    }
}

/// The number of open files `connections` need, and whether the system allows that many (after raising the limit):
/// `Err((needed, allowed))` when it does not.
pub fn check_fd_limit(connections: u32) -> Result<(), (u64, u64)> {
    crate::net::platform::raise_fd_limit();
    // stdin/out/err, the poll, its waker and timer, the signal pipe, a margin for the libraries.
    let needed = u64::from(connections) + 32;
    match crate::net::platform::fd_limit() {
        Some(allowed) if allowed < needed => Err((needed, allowed)),
        _ => Ok(()),
    }
}
