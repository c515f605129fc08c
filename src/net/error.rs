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
    #[error("cannot leave multicast group {group}: {}", describe(source))]
    Leave { group: std::net::IpAddr, source: io::Error },
    #[error("cannot set {option} on {addr}: {}", describe(source))]
    SocketOption {
        option: &'static str,
        addr: SocketAddr,
        source: io::Error,
    },
    #[error("cannot send: {0}")]
    NoPeer(Nobody),
    #[error("cannot send to {addr}: not connected")]
    UnknownPeer { addr: SocketAddr },
    #[error("cannot send to {addr}: {queued} bytes are already waiting to be sent; nothing of this send was queued")]
    SendQueueFull { addr: SocketAddr, queued: usize },
    #[error("cannot send {len} bytes to {addr} in one datagram: the limit is {}", super::max_datagram(*addr))]
    DatagramTooLarge { addr: SocketAddr, len: usize },
    #[error(transparent)]
    Capture(#[from] CaptureError),
    #[error(transparent)]
    Pcap(#[from] PcapFileError),
    #[error("cannot read {}: {}", path.display(), describe(source))]
    ReadFile { path: PathBuf, source: io::Error },
    #[error("cannot send to {to}: {queued} bytes still queued when the session stopped")]
    Unsent { to: String, queued: usize },
    #[error("cannot send {}: the session stopped with {left} of its {total} bytes not sent", path.display())]
    FileStopped { path: PathBuf, left: u64, total: u64 },
    #[error("the upstream {upstream} is this relay itself (listening on {listen}): it would relay to itself")]
    RelayLoop { listen: SocketAddr, upstream: SocketAddr },
    #[error("client {client}: {source}")]
    Pair { client: SocketAddr, source: Box<NetError> },
    #[error(
        "client {client} refused: {pairs} clients held already (--max-pairs); {dropped} datagrams of clients past \
         the limit dropped so far"
    )]
    PairsFull {
        client: SocketAddr,
        pairs: usize,
        dropped: u64,
    },
    /// A TLS session failed (the handshake, or a record later), in words.
    #[error("TLS with {addr}: {reason}")]
    Tls {
        addr: SocketAddr,
        reason: super::tls::TlsFailure,
    },
    /// Bad TLS options or files, found at start. `leg`: a relay's leg they are for (`CLIENT_LEG`, `UPSTREAM_LEG`),
    /// since its legs have options of the same name; `None` on the other kinds.
    #[error("{error}")]
    TlsSetup {
        leg: Option<&'static str>,
        error: super::tls::TlsError,
    },
    #[error("cannot start the session: {0}")]
    Internal(#[source] io::Error),
    /// The worker panicked: this session ended, the others go on.
    #[error("the session stopped on an internal error: {message}; {}", crash_log(log))]
    Panicked { message: String, log: Option<PathBuf> },
}

/// Where the panic's details are, in words.
fn crash_log(log: &Option<PathBuf>) -> String {
    match log {
        Some(path) => format!("details in the crash log {}", path.display()),
        None => "details on standard error (no crash log could be written)".into(),
    }
}

/// A capture file that could not be opened or written (or whose writer stopped), with its path.
#[derive(Debug, thiserror::Error)]
#[error("cannot write capture file {}: {}", path.display(), describe(source))]
pub struct CaptureError {
    pub path: PathBuf,
    pub source: io::Error,
}

/// A pcap file that could not be opened or written (or whose writer stopped), with its path.
#[derive(Debug, thiserror::Error)]
#[error("cannot write pcap file {}: {}", path.display(), describe(source))]
pub struct PcapFileError {
    pub path: PathBuf,
    pub source: io::Error,
}

/// Why a send or a command had nowhere to go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Nobody {
    #[error("not open")]
    NotOpen,
    #[error("not connected")]
    NotConnected,
    #[error("no clients are connected")]
    NoClients,
    #[error("only a relay has an upstream to send to")]
    UpstreamNeedsRelay,
    #[error("only a TCP server has clients to disconnect")]
    KickNeedsServer,
    #[error("only a UDP session can change its remote")]
    RemoteNeedsUdp,
    #[error("only a UDP session can join multicast groups")]
    GroupsNeedUdp,
    #[error("the remote's name is still being resolved, and the send queue is full")]
    StillResolving,
    #[error("no remote address: set one, or wait for a peer to send first")]
    NoRemote,
}

impl From<super::tls::TlsError> for NetError {
    fn from(error: super::tls::TlsError) -> NetError {
        NetError::TlsSetup { leg: None, error }
    }
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
            | NetError::Leave { source, .. }
            | NetError::SocketOption { source, .. }
            | NetError::ReadFile { source, .. }
            | NetError::Internal(source) => Some(source.kind()),
            NetError::Capture(capture) => Some(capture.source.kind()),
            NetError::Pcap(pcap) => Some(pcap.source.kind()),
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
        WriteZero => "the connection took no more bytes".into(),
        UnexpectedEof => "the connection ended in the middle of the data".into(),
        NotConnected => "not connected".into(),
        AlreadyExists => "already exists".into(),
        IsADirectory => "is a directory".into(),
        ReadOnlyFilesystem => "read-only file system".into(),
        OutOfMemory => "out of memory".into(),
        NetworkDown => "the network is down".into(),
        _ => error.to_string(),
    }
}
