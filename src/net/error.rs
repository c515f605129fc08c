use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Every network or capture failure, with the operation and the address it concerns.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("cannot listen on {addr}: {}", describe(source))]
    Listen { addr: SocketAddr, source: io::Error },
    #[error("cannot bind {addr}: {}", describe(source))]
    Bind { addr: SocketAddr, source: io::Error },
    #[error("cannot resolve {host}: {reason}")]
    Resolve { host: String, reason: String },
    #[error("cannot connect to {addr}: {}", describe(source))]
    Connect { addr: SocketAddr, source: io::Error },
    #[error("cannot connect to {addr}: timed out after {millis} ms")]
    ConnectTimeout { addr: SocketAddr, millis: u128 },
    #[error("cannot accept a connection on {addr}: {}", describe(source))]
    Accept { addr: SocketAddr, source: io::Error },
    #[error("cannot receive from {addr}: {}", describe(source))]
    Receive { addr: SocketAddr, source: io::Error },
    #[error("cannot send to {addr}: {}", describe(source))]
    Send { addr: SocketAddr, source: io::Error },
    #[error("cannot join multicast group {group}: {}", describe(source))]
    Join { group: std::net::IpAddr, source: io::Error },
    #[error("cannot set {option} on {addr}: {}", describe(source))]
    SocketOption {
        option: &'static str,
        addr: SocketAddr,
        source: io::Error,
    },
    #[error("cannot send: {0}")]
    NoPeer(&'static str),
    #[error("cannot send to {addr}: not connected")]
    UnknownPeer { addr: SocketAddr },
    #[error("cannot send to {addr}: {queued} bytes are already waiting to be sent")]
    SendQueueFull { addr: SocketAddr, queued: usize },
    #[error("cannot send {len} bytes to {addr} in one datagram: the limit is 65507")]
    DatagramTooLarge { addr: SocketAddr, len: usize },
    #[error("cannot write capture file {}: {}", path.display(), describe(source))]
    Capture { path: PathBuf, source: io::Error },
    #[error("cannot read {}: {}", path.display(), describe(source))]
    ReadFile { path: PathBuf, source: io::Error },
    #[error("cannot start the session: {0}")]
    Internal(#[source] io::Error),
}

impl NetError {
    /// The OS error kind underneath, where there is one.
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        match self {
            NetError::Listen { source, .. }
            | NetError::Bind { source, .. }
            | NetError::Connect { source, .. }
            | NetError::Accept { source, .. }
            | NetError::Receive { source, .. }
            | NetError::Send { source, .. }
            | NetError::Join { source, .. }
            | NetError::SocketOption { source, .. }
            | NetError::Capture { source, .. }
            | NetError::ReadFile { source, .. }
            | NetError::Internal(source) => Some(source.kind()),
            _ => None,
        }
    }
}

/// Plain words for the common cases; the OS text (with its code) otherwise.
pub fn describe(error: &io::Error) -> String {
    use io::ErrorKind::*;
    match error.kind() {
        AddrInUse => "address in use".into(),
        AddrNotAvailable => "address not available on this machine".into(),
        PermissionDenied => "permission denied".into(),
        ConnectionRefused => "connection refused".into(),
        ConnectionReset => "connection reset by peer".into(),
        ConnectionAborted => "connection aborted".into(),
        TimedOut => "timed out".into(),
        HostUnreachable => "host unreachable".into(),
        NetworkUnreachable => "network unreachable".into(),
        BrokenPipe => "connection closed by peer".into(),
        StorageFull => "no space left on device".into(),
        NotFound => "not found".into(),
        _ => error.to_string(),
    }
}
