//! The two enums that cross the thread boundary: `Command` in, `Event` out.
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use super::CaptureFile;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::{Counters, NetError};

/// Bytes shared between the caller, the send queues of many peers and the `Sent` events.
pub type Bytes = Arc<[u8]>;

/// Where a send goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// TCP client: the server. TCP server: every client. UDP: the remote (or the last sender with follow-peer).
    Default,
    /// One connected client (TCP server) or one address (UDP).
    Peer(SocketAddr),
}

#[derive(Debug)]
pub enum Command {
    Send {
        to: Target,
        bytes: Bytes,
    },
    /// Send `bytes` `count` times (`None` = until stopped), `interval` apart. Replaces a running schedule.
    SendPeriodic {
        to: Target,
        bytes: Bytes,
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
    /// UDP follow-peer: replies now go here.
    RemoteChanged {
        remote: SocketAddr,
    },
    /// The session has ended; nothing follows.
    Closed {
        reason: CloseReason,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaveReason {
    /// The peer closed its side (FIN).
    Closed,
    Reset,
    Kicked,
    Error,
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
