//! The engine: one worker thread per session owns every socket of it through one `mio::Poll`.
//! Commands go in on a crossbeam channel (plus a `mio::Waker`); events come out in batches on a bounded channel.
mod auto;
mod caps;
mod capture;
mod conn;
mod datagrams;
mod error;
mod job;
mod kind;
mod listen;
pub mod load;
mod message;
mod outbox;
mod pcap;
pub(crate) mod platform;
pub mod relay;
mod resolve;
mod spool;
pub mod tcp_client;
pub mod tcp_server;
pub mod tls;
mod transport;
pub mod udp;
mod worker;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use crate::automation::rules::Rules;
use crate::automation::script::Script;
use crate::codec::framing::Framing;

pub use caps::{Caps, Parts, RemoteUse, ScriptScope};
pub use capture::CaptureFile;
pub use error::{CaptureError, NetError, Nobody, PcapFileError, describe};
pub use kind::{Kind, Mode, PerKind};
pub use message::{
    AutoEvent, Bytes, CloseReason, Command, Event, EventKind, Group, LeaveReason, Outgoing, RuleHits, ScriptEnd,
    StepOutcome, Target,
};

/// Largest UDP payload over IPv4 (65,535 less the IPv4 and UDP headers), and the size of a file's datagrams.
pub const MAX_DATAGRAM: usize = 65_507;
/// Largest UDP payload over IPv6 without jumbograms: its length field does not count the IPv6 header.
pub const MAX_DATAGRAM_V6: usize = 65_527;

/// The largest datagram that can go to `to` (an IPv4-mapped address travels as IPv4).
pub fn max_datagram(to: SocketAddr) -> usize {
    match to {
        SocketAddr::V6(v6) if v6.ip().to_ipv4_mapped().is_none() => MAX_DATAGRAM_V6,
        _ => MAX_DATAGRAM,
    }
}

/// What the worker does when the event consumer falls behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Stop reading the peers whose data waits for the consumer (all of them once 16 MiB waits) until it catches
    /// up: nothing is lost (the command line), and echo, accept and the other peers go on. On a stop the
    /// worker spends up to 5 s writing out what is queued (reporting what it could not as `Unsent`) and handing
    /// over the last events, so the consumer drains the events until `Closed`.
    Lossless,
    /// Drop received data from the events and count it in `dropped_from_view` (a window, which must never stall).
    DropWhenBehind,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SessionConfig {
    pub mode: Mode,
    /// Write every received byte, raw and in arrival order, to this file.
    pub capture: Option<CaptureFile>,
    /// Write every byte received and sent, with TCP joins and leaves, as pcapng to this file (lossless: reading
    /// and writing wait for it, as for `capture`).
    pub pcap: Option<CaptureFile>,
    pub delivery: Delivery,
    /// Received bytes are coalesced into one event per peer at most this often.
    pub batch_interval: Duration,
    /// What the consumer is told of received data (counters and capture see every byte whatever this says).
    pub received_as: ReceivedAs,
    /// Send every received chunk (TCP read, UDP datagram; with a framing, every message) back to its sender from
    /// the worker, as it is read: a built-in rule after the others.
    pub echo: bool,
    /// Cut each peer's stream into messages: rules and expects see whole ones, and each `Received` event is one
    /// (`Framing::None`: each read, and a consumer that is behind gets a peer's reads joined).
    pub framing: Framing,
    /// Auto-reply rules, answering every message in the worker (`Command::SetRules` replaces them).
    pub rules: Option<Rules>,
    /// A send/expect script to run from the start (see `Command::RunScript` for whom it runs against).
    pub script: Option<Arc<Script>>,
    /// The consumer may answer what it is shown (a window's send box, the command line's `--stdin`): a peer that
    /// half-closes is kept writable a moment after the consumer has its last bytes. Without it (and with no
    /// delayed reply or script owed to it) such a peer is closed as soon as its queue is written.
    pub consumer_replies: bool,
}

impl SessionConfig {
    pub fn new(mode: Mode) -> Self {
        SessionConfig {
            mode,
            capture: None,
            pcap: None,
            delivery: Delivery::DropWhenBehind,
            batch_interval: Duration::from_millis(16),
            received_as: ReceivedAs::Bytes,
            echo: false,
            framing: Framing::None,
            rules: None,
            script: None,
            consumer_replies: true,
        }
    }
}

/// How received data reaches the consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceivedAs {
    /// `Received` events with the bytes.
    Bytes,
    /// `ReceivedLen` events: how much arrived from whom, for a consumer that counts but shows nothing (no copy).
    Lengths,
    /// No events at all.
    Nothing,
}

/// Exact byte counters, readable from any thread at any time without waiting on the worker.
#[derive(Debug, Default)]
pub struct Counters {
    rx_bytes: AtomicU64,
    tx_bytes: AtomicU64,
    dropped_from_view: AtomicU64,
    missed_ticks: AtomicU64,
    kernel_dropped: AtomicU64,
    messages: AtomicU64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CounterSnapshot {
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    /// Received bytes that reached the counters (and the capture) but not the events.
    pub dropped_from_view: u64,
    /// Periodic sends skipped because the worker was late for them (never sent in a burst afterwards).
    pub missed_ticks: u64,
    /// UDP: datagrams the kernel dropped because the receive buffer was full (Linux, SO_MEMINFO; 0 where the OS
    /// keeps no count: `RecvBuffer::drops_counted` says which).
    pub kernel_dropped: u64,
    /// Messages cut by the framing (0 without one).
    pub messages: u64,
}

impl CounterSnapshot {
    /// Field by field sums: the counts of several sessions together.
    pub fn plus(self, other: CounterSnapshot) -> CounterSnapshot {
        CounterSnapshot {
            rx_bytes: self.rx_bytes + other.rx_bytes,
            tx_bytes: self.tx_bytes + other.tx_bytes,
            dropped_from_view: self.dropped_from_view + other.dropped_from_view,
            missed_ticks: self.missed_ticks + other.missed_ticks,
            kernel_dropped: self.kernel_dropped + other.kernel_dropped,
            messages: self.messages + other.messages,
        }
    }
}

impl Counters {
    pub fn snapshot(&self) -> CounterSnapshot {
        CounterSnapshot {
            rx_bytes: self.rx_bytes.load(Ordering::Relaxed),
            tx_bytes: self.tx_bytes.load(Ordering::Relaxed),
            dropped_from_view: self.dropped_from_view.load(Ordering::Relaxed),
            missed_ticks: self.missed_ticks.load(Ordering::Relaxed),
            kernel_dropped: self.kernel_dropped.load(Ordering::Relaxed),
            messages: self.messages.load(Ordering::Relaxed),
        }
    }

    pub fn reset(&self) {
        self.rx_bytes.store(0, Ordering::Relaxed);
        self.tx_bytes.store(0, Ordering::Relaxed);
        self.dropped_from_view.store(0, Ordering::Relaxed);
        self.missed_ticks.store(0, Ordering::Relaxed);
        self.kernel_dropped.store(0, Ordering::Relaxed);
        self.messages.store(0, Ordering::Relaxed);
    }

    pub(crate) fn add_rx(&self, n: usize) {
        self.rx_bytes.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn add_tx(&self, n: usize) {
        self.tx_bytes.fetch_add(n as u64, Ordering::Relaxed);
    }

    fn add_dropped(&self, n: usize) {
        self.dropped_from_view.fetch_add(n as u64, Ordering::Relaxed);
    }

    fn add_missed_ticks(&self, n: u64) {
        self.missed_ticks.fetch_add(n, Ordering::Relaxed);
    }

    fn add_message(&self) {
        self.messages.fetch_add(1, Ordering::Relaxed);
    }

    fn add_kernel_dropped(&self, n: u32) {
        self.kernel_dropped.fetch_add(u64::from(n), Ordering::Relaxed);
    }
}

/// Called after each batch of events is queued; a window passes `ctx.request_repaint`.
pub type Notify = Arc<dyn Fn() + Send + Sync>;

/// A running session. Dropping it (or `stop`) closes every socket, finishes the capture file and joins the thread.
pub struct Session {
    commands: Sender<Command>,
    waker: Arc<mio::Waker>,
    events: Receiver<Vec<Event>>,
    counters: Arc<Counters>,
    local: Option<SocketAddr>,
    recv_buffer: Option<RecvBuffer>,
    thread: Option<JoinHandle<()>>,
}

/// UDP: the kernel receive buffer asked for at bind and what the OS granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvBuffer {
    pub wanted: usize,
    pub granted: usize,
    /// The OS counts the datagrams it drops from this buffer (Linux); elsewhere the drop count is not available.
    pub drops_counted: bool,
}

impl RecvBuffer {
    /// The OS gave less than asked (Linux: raise `net.core.rmem_max`): bursts overflow it sooner.
    pub fn capped(&self) -> bool {
        self.granted < self.wanted
    }
}

impl Session {
    /// Binds (TCP server, UDP) on the caller's thread, so "address in use" is an immediate error,
    /// then hands the sockets to a new worker thread.
    pub fn start(config: SessionConfig, notify: Notify) -> Result<Session, NetError> {
        worker::spawn(config, notify)
    }

    pub fn command(&self, command: Command) {
        // A worker that has already ended has reported why in its events; nothing more to do here.
        if self.commands.send(command).is_ok() {
            let _ = self.waker.wake();
        }
    }

    pub fn send(&self, to: Target, bytes: impl Into<Bytes>) {
        self.command(Command::Send {
            to,
            bytes: Outgoing::Bytes(bytes.into()),
        });
    }

    /// Batches of events, oldest first. `Closed` is the last event a session sends.
    pub fn events(&self) -> &Receiver<Vec<Event>> {
        &self.events
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The bound address for a TCP server or UDP session (port 0 resolved); `None` for a TCP client.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local
    }

    /// UDP: the receive buffer the OS granted; `None` for TCP sessions.
    pub fn recv_buffer(&self) -> Option<RecvBuffer> {
        self.recv_buffer
    }

    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.command(Command::Stop);
            let _ = thread.join();
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.shut_down();
    }
}
