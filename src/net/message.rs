//! The two enums that cross the thread boundary: `Command` in, `Event` out.
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use super::{CaptureFile, Counters, NetError};
use crate::automation::rules::Rules;
use crate::automation::script::Script;
use crate::codec::framing::Framing;
use crate::vars::{Payload, Values, Var};

/// Bytes shared between the caller, the send queues of many peers and the `Sent` events.
pub type Bytes = Arc<[u8]>;

/// What a queued message costs besides its bytes: its queue entry and its allocation's header and rounding. Counted,
/// a flood of 2-byte echoes holds about 4 MiB per peer, not 4 MiB of payload in 100 MiB of entries.
const MESSAGE_OVERHEAD: usize = 64;

/// What a message of `len` bytes costs in an outgoing queue (what the queues' bounds count).
pub(super) fn message_cost(len: usize) -> usize {
    len.saturating_add(MESSAGE_OVERHEAD)
}

/// What a send is: bytes as they are, or a template filled in for each send (`--vars`, the window's Variables).
#[derive(Debug, Clone)]
pub enum Outgoing {
    Bytes(Bytes),
    Vars(Arc<Payload>),
}

impl From<Bytes> for Outgoing {
    fn from(bytes: Bytes) -> Outgoing {
        Outgoing::Bytes(bytes)
    }
}

impl From<Vec<u8>> for Outgoing {
    fn from(bytes: Vec<u8>) -> Outgoing {
        Outgoing::Bytes(bytes.into())
    }
}

impl Outgoing {
    /// A template that names `{peer}`: filled in for each peer it goes to.
    pub(super) fn names_peer(&self) -> bool {
        matches!(self, Outgoing::Vars(payload) if payload.template.has(Var::Peer))
    }

    /// The bytes of this send: a template takes the session's next `{seq}` from `sends` (`{count}`: the sends
    /// before it) and `peer()` (asked only when it names `{peer}`).
    pub(super) fn fill(&self, sends: &mut u64, peer: impl FnOnce() -> String) -> Bytes {
        match self {
            Outgoing::Bytes(bytes) => bytes.clone(),
            Outgoing::Vars(payload) => {
                let peer = if payload.template.has(Var::Peer) {
                    peer()
                } else {
                    String::new()
                };
                let values = Values {
                    seq: *sends,
                    conn: 0,
                    count: *sends,
                    peer: &peer,
                };
                *sends += 1;
                let mut out = Vec::new();
                payload.build(&values, &mut out);
                out.into()
            }
        }
    }
}

/// Where a send goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// TCP client: the server. TCP server: every client. UDP: the remote (or the last sender with follow-peer).
    Default,
    /// One connected client (TCP server) or one address (UDP). A relay: that client's side of its pair.
    Peer(SocketAddr),
    /// A relay: the upstream side of the pair of this client (`None`: of every pair).
    Upstream(Option<SocketAddr>),
}

#[derive(Debug)]
pub enum Command {
    Send {
        to: Target,
        bytes: Outgoing,
    },
    /// Send `bytes` `count` times (`None` = until stopped), `interval` apart. Replaces a running schedule.
    SendPeriodic {
        to: Target,
        bytes: Outgoing,
        interval: Duration,
        count: Option<u64>,
    },
    StopPeriodic,
    /// Stream a file's bytes as the socket accepts them (UDP: one datagram per 65,507 bytes at most).
    SendFile {
        to: Target,
        path: PathBuf,
    },
    /// Disconnect one client (TCP server).
    Kick(SocketAddr),
    /// UDP: change the remote host:port (a hostname is resolved off the worker; default sends wait for it).
    SetRemote(String),
    /// UDP: join a multicast group while the session runs.
    Join(Group),
    /// UDP: leave a group joined at start or with `Join`.
    Leave(Group),
    /// Start (`Some`) or stop (`None`) writing every received byte to a file.
    Capture(Option<CaptureFile>),
    /// Start (`Some`) or stop (`None`) writing everything received and sent as pcapng. Connections already open
    /// get their handshake made up when they next carry data.
    Pcap(Option<CaptureFile>),
    /// Replace the auto-reply rules (`None`: none; the session's `echo` stays). Answers `Automation(Rules)`.
    SetRules(Option<Rules>),
    /// Cut each peer's stream into messages from now on; what a peer's old framing held comes out first.
    SetFraming(Framing),
    /// Run a script: TCP client and UDP once (now, or at the next connect), TCP server for every client connected
    /// now and each that joins until `StopScript`. Replaces a script running. `seen`: what each peer (`None`: a
    /// UDP session's remote) sent before, as the consumer kept it, fed to its run first, so an expect also sees a
    /// greeting that came before the script was started.
    RunScript {
        script: Arc<Script>,
        seen: Vec<(Option<SocketAddr>, Vec<u8>)>,
    },
    /// Stop every run of the script; each reports `ScriptEnded { end: Stopped }`.
    StopScript,
    Stop,
}

#[derive(Debug, Clone)]
pub struct Event {
    pub at: SystemTime,
    pub kind: EventKind,
}

#[derive(Debug, Clone)]
pub enum EventKind {
    /// TCP server listening or UDP bound; `local` is the real address (port 0 resolved).
    Ready {
        local: SocketAddr,
    },
    Connecting {
        remote: SocketAddr,
    },
    Connected {
        local: SocketAddr,
        peer: SocketAddr,
    },
    ConnectFailed {
        reason: Arc<NetError>,
    },
    /// TCP client with auto-reconnect: the next attempt is this far away.
    Reconnecting {
        after: Duration,
    },
    PeerJoined {
        peer: SocketAddr,
        /// The peer's exact RX/TX bytes, counted by the worker whatever the consumer keeps.
        counters: Arc<Counters>,
    },
    /// A relay's client has its own connection to the upstream now; `via` is the relay's end of it, which names
    /// that leg (the upstream's address is the same for every pair) in `Received`, `Sent`, sends and kicks.
    Paired {
        client: SocketAddr,
        via: SocketAddr,
        upstream: SocketAddr,
    },
    /// Refused because of max-clients.
    PeerRefused {
        peer: SocketAddr,
    },
    PeerLeft {
        peer: SocketAddr,
        reason: LeaveReason,
    },
    Received {
        peer: SocketAddr,
        bytes: Vec<u8>,
    },
    /// Received bytes, counted only (`ReceivedAs::Lengths`).
    ReceivedLen {
        peer: SocketAddr,
        len: u64,
    },
    Sent {
        peer: SocketAddr,
        bytes: Bytes,
    },
    /// Received bytes the consumer was too far behind to be given: counted and captured, not shown.
    DroppedFromView {
        peer: SocketAddr,
        bytes: u64,
    },
    PeriodicProgress {
        sent: u64,
        done: bool,
    },
    FileProgress {
        sent: u64,
        total: u64,
        done: bool,
    },
    Error(Arc<NetError>),
    /// A TLS handshake finished: what was agreed, the peer's chain and the verdict.
    TlsHandshake(Arc<super::tls::Handshake>),
    /// The certificate a TLS server presents (said once, after `Ready`): made at start when `self_signed`.
    TlsServing {
        cert: Arc<super::tls::CertInfo>,
        self_signed: bool,
    },
    /// UDP follow-peer: replies now go here.
    RemoteChanged {
        remote: SocketAddr,
    },
    /// Auto-reply rules and scripts at work.
    Automation(AutoEvent),
    /// The session has ended; nothing follows.
    Closed {
        reason: CloseReason,
    },
}

/// What the rules and scripts running in the worker report. With a framing set, each `Received` event is one
/// whole message (see `SessionConfig::framing`).
#[derive(Debug, Clone)]
pub enum AutoEvent {
    /// These rules are in force now (at start, or after `SetRules`): their hit counts, live, in rule order (the
    /// built-in echo last, when on). Counting never waits for the consumer, so read them whenever you draw.
    Rules { hits: Arc<RuleHits> },
    /// A rule matched but could not make its reply (text the encoding cannot carry, or too many delayed replies
    /// waiting); nothing was sent.
    RuleFailed {
        peer: SocketAddr,
        rule: usize,
        problem: crate::automation::problem::ReplyProblem,
    },
    /// A script run began against `peer` (`None`: a UDP session's remote).
    ScriptStarted { peer: Option<SocketAddr>, steps: usize },
    /// One step of a run ended.
    Step {
        peer: Option<SocketAddr>,
        /// 1-based.
        round: u64,
        /// 0-based.
        step: usize,
        elapsed: Duration,
        outcome: StepOutcome,
    },
    /// A run ended; nothing more comes for it.
    ScriptEnded { peer: Option<SocketAddr>, end: ScriptEnd },
}

/// Each rule's hits, counted by the worker and readable from any thread (the window's rules table).
#[derive(Debug, Default)]
pub struct RuleHits(Box<[AtomicU64]>);

impl RuleHits {
    pub(super) fn new(rules: usize) -> RuleHits {
        RuleHits((0..rules).map(|_| AtomicU64::new(0)).collect())
    }

    /// How many messages rule `rule` (0-based, in the order given) answered; 0 past the end.
    pub fn get(&self, rule: usize) -> u64 {
        self.0.get(rule).map_or(0, |hits| hits.load(Ordering::Relaxed))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn snapshot(&self) -> Vec<u64> {
        self.0.iter().map(|hits| hits.load(Ordering::Relaxed)).collect()
    }

    pub(super) fn add(&self, rule: usize) {
        if let Some(hits) = self.0.get(rule) {
            hits.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    Passed,
    /// An expect that timed out (or whose peer left, or a send that failed): what did arrive instead.
    Failed {
        received: Vec<u8>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptEnd {
    /// Every round's every expect was met.
    Passed,
    /// This step (0-based) failed; its `Step` event carries what arrived instead.
    Failed { step: usize, round: u64 },
    /// `StopScript`, a new script, or the session stopping.
    Stopped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaveReason {
    /// The peer closed its side (FIN).
    Closed,
    Reset,
    Kicked,
    Error,
    /// A datagram peer (a UDP relay's client) sent nothing either way for too long, and was forgotten.
    Idle,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    Stopped,
    /// TCP client: the server closed the connection normally.
    PeerClosed,
    /// TCP client: the connection was reset.
    PeerReset,
    /// TCP client without reconnect: the connection could not be made.
    ConnectFailed,
    Error,
}

/// A multicast group to join on a UDP session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group {
    pub addr: IpAddr,
    /// IPv6: the interface index (0 = the system's choice). IPv4: ignored (joined on the default interface).
    pub interface: u32,
}

/// `239.1.2.3`, `ff02::1`, or with an interface `ff02::1%3`: what `session::spec::parse_group` reads.
impl std::fmt::Display for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.interface {
            0 => write!(f, "{}", self.addr),
            index => write!(f, "{}%{index}", self.addr),
        }
    }
}
