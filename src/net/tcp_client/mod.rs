//! TCP client: non-blocking connect with a timeout, every resolved address in turn, optional reconnect with backoff.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Interest, Token, Waker};
use socket2::{Domain, Protocol, Socket, Type};

use super::auto::Reply;
use super::caps::{Caps, Parts, RemoteUse, ScriptScope};
use super::conn::{Conn, Outgoing, READ_BUFFER, Status};
use super::resolve::Lookup;
use super::tls::{ClientTls, TlsLayer, TlsSpec};
use super::transport::{Ctx, Launcher, Started, Transport};
use super::{Bytes, CloseReason, EventKind, LeaveReason, NetError, Nobody, Target, platform};
use crate::codec::pcapng::{Carrier, Way};

pub const CAPS: Caps = Caps {
    name: "tcp-client",
    label: ("TCP 客户端", "TCP Client"),
    many_peers: false,
    accepts: false,
    peer_noun: "server",
    remote: RemoteUse::Required,
    local_port_optional: true,
    default_local_port: "0",
    reconnects: true,
    follows_peer: false,
    multicast: false,
    datagrams: false,
    tls: true,
    script_scope: ScriptScope::Once,
    forwards: false,
    carrier: Carrier::Tcp,
    ready_line: None,
};

/// How long a TCP client waits for each connection attempt.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A TCP client's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `host:port`; hostnames are resolved on a thread of their own, never on the caller's or the worker's.
    pub remote: String,
    /// `None`: any local address.
    pub bind: Option<SocketAddr>,
    pub reconnect: bool,
    pub connect_timeout: Duration,
    /// Speak TLS to the server.
    pub tls: Option<TlsSpec>,
}

impl Config {
    pub(super) fn from_parts(parts: Parts) -> Option<Config> {
        Some(Config {
            remote: parts.remote?,
            // Port 0 on every interface means "any": no bind needed.
            bind: parts.local.filter(|l| l.port() != 0 || !l.ip().is_unspecified()),
            reconnect: parts.reconnect,
            connect_timeout: CONNECT_TIMEOUT,
            tls: parts.tls,
        })
    }

    pub fn caps(&self) -> &'static Caps {
        &CAPS
    }

    pub(super) fn parts(&self) -> Parts {
        Parts {
            local: self.bind,
            remote: Some(self.remote.clone()),
            reconnect: self.reconnect,
            tls: self.tls.clone(),
            ..Parts::default()
        }
    }
}

/// Connects on the worker (a name may take long to resolve): the caller learns of it from the events.
pub(super) fn launch<L: Launcher>(config: Config, ctx: Ctx, launcher: L) -> Result<L::Started, NetError> {
    let started = Started {
        local: None,
        default_to: config.remote.clone(),
        name: format!("{} {}", CAPS.name, config.remote),
        recv_buffer: None,
    };
    // Its files are read now: bad input is the caller's error before anything connects.
    let tls = config.tls.as_ref().map(ClientTls::build).transpose()?.map(Arc::new);
    let client = TcpClient::new(config, tls, launcher.waker());
    launcher.start(ctx, client, started)
}

const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// A connection that stayed up this long starts the backoff over when it is lost. One closed sooner (a server that
/// accepts and closes at once, or says "busy" first) is a failed attempt like a refused one: the waits keep growing.
const STAYED_UP: Duration = MAX_BACKOFF;

enum State {
    /// Resolve and connect at the next tick.
    Due,
    Resolving(Lookup),
    Connecting {
        stream: TcpStream,
        token: Token,
        addr: SocketAddr,
        deadline: Instant,
        rest: Vec<SocketAddr>,
    },
    Connected {
        conn: Conn,
        since: Instant,
    },
    Waiting {
        until: Instant,
    },
    Ended(CloseReason),
}

pub(super) struct TcpClient {
    remote: String,
    bind: Option<SocketAddr>,
    reconnect: bool,
    timeout: Duration,
    backoff: Duration,
    state: State,
    buf: Box<[u8]>,
    waker: Arc<Waker>,
    tls: Option<Arc<ClientTls>>,
}

impl TcpClient {
    fn new(config: Config, tls: Option<Arc<ClientTls>>, waker: Arc<Waker>) -> Self {
        TcpClient {
            remote: config.remote,
            bind: config.bind,
            reconnect: config.reconnect,
            timeout: config.connect_timeout,
            backoff: FIRST_BACKOFF,
            state: State::Due,
            buf: vec![0; READ_BUFFER].into_boxed_slice(),
            waker,
            tls,
        }
    }

    /// Every attempt resolves afresh: the name may point elsewhere by the time of a reconnect.
    fn resolve(&mut self, ctx: &mut Ctx) {
        let lookup = Lookup::start(&self.remote, &self.waker);
        match lookup.answer() {
            Some(answer) => self.connect(ctx, answer),
            None => self.state = State::Resolving(lookup),
        }
    }

    fn connect(&mut self, ctx: &mut Ctx, answer: Result<Vec<SocketAddr>, NetError>) {
        match answer {
            // Tried in the order the resolver gives: `pop` takes from the end.
            Ok(mut addrs) => {
                addrs.reverse();
                self.try_next(ctx, addrs, None)
            }
            Err(e) => self.fail(ctx, e),
        }
    }

    fn try_next(&mut self, ctx: &mut Ctx, mut rest: Vec<SocketAddr>, mut last: Option<NetError>) {
        while let Some(addr) = rest.pop() {
            match start_connect(ctx, addr, self.bind) {
                Ok((stream, token)) => {
                    ctx.emit(EventKind::Connecting { remote: addr });
                    let deadline = Instant::now() + self.timeout;
                    self.state = State::Connecting {
                        stream,
                        token,
                        addr,
                        deadline,
                        rest,
                    };
                    return;
                }
                Err(e) => last = Some(e),
            }
        }
        let error = last.unwrap_or_else(|| NetError::Resolve {
            host: self.remote.clone(),
            reason: "no addresses found".into(),
        });
        self.fail(ctx, error);
    }

    /// The connect attempt finished one way or the other (or has not: spurious wake-up).
    fn finish_connect(&mut self, ctx: &mut Ctx) {
        let State::Connecting { stream, addr, .. } = &mut self.state else {
            return;
        };
        let addr = *addr;
        match connect_outcome(stream) {
            Ok(peer) => {
                let State::Connecting { stream, token, .. } = std::mem::replace(&mut self.state, State::Due) else {
                    return;
                };
                let local = stream.local_addr().map(platform::canonical).unwrap_or(peer);
                let peer = platform::canonical(peer);
                let mut conn = Conn::new(stream, token, local, peer);
                if let Some(tls) = &self.tls {
                    match TlsLayer::client(tls, &self.remote) {
                        Ok(layer) => conn = conn.with_tls(layer),
                        Err(reason) => return self.fail(ctx, NetError::Tls { addr: peer, reason }),
                    }
                }
                ctx.emit(EventKind::Connected { local, peer });
                ctx.peer_joined(local, peer, CAPS.script_scope, Way::Out);
                // A TLS client speaks first: its hello goes out now.
                let status = conn.write(ctx);
                self.state = State::Connected {
                    conn,
                    since: Instant::now(),
                };
                if let Status::Gone(reason, error) = status {
                    self.lost(ctx, reason, error);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotConnected => {}
            Err(source) => self.abandon_attempt(ctx, NetError::Connect { addr, source }),
        }
    }

    fn abandon_attempt(&mut self, ctx: &mut Ctx, error: NetError) {
        if let State::Connecting { mut stream, rest, .. } = std::mem::replace(&mut self.state, State::Due) {
            let _ = ctx.registry.deregister(&mut stream);
            self.try_next(ctx, rest, Some(error));
        }
    }

    fn fail(&mut self, ctx: &mut Ctx, error: NetError) {
        ctx.emit(EventKind::ConnectFailed {
            reason: Arc::new(error),
        });
        self.retry_or_end(ctx, CloseReason::ConnectFailed);
    }

    fn retry_or_end(&mut self, ctx: &mut Ctx, reason: CloseReason) {
        if !self.reconnect {
            self.state = State::Ended(reason);
            return;
        }
        ctx.emit(EventKind::Reconnecting { after: self.backoff });
        self.state = State::Waiting {
            until: Instant::now() + self.backoff,
        };
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
    }

    fn lost(&mut self, ctx: &mut Ctx, reason: LeaveReason, error: Option<NetError>) {
        let State::Connected { mut conn, since } = std::mem::replace(&mut self.state, State::Due) else {
            return;
        };
        if since.elapsed() >= STAYED_UP {
            self.backoff = FIRST_BACKOFF;
        }
        conn.release(ctx);
        if let Some(error) = error {
            ctx.error(error);
        }
        ctx.peer_left(conn.local, conn.peer, reason);
        ctx.emit(EventKind::PeerLeft {
            peer: conn.peer,
            reason,
        });
        let close = match reason {
            LeaveReason::Closed => CloseReason::PeerClosed,
            LeaveReason::Reset => CloseReason::PeerReset,
            LeaveReason::Kicked | LeaveReason::Error | LeaveReason::Idle => CloseReason::Error,
        };
        self.retry_or_end(ctx, close);
    }
}

/// Starts a non-blocking connect to `addr` (from `bind`, when given) and registers it; writable means finished.
pub(super) fn start_connect(
    ctx: &mut Ctx,
    addr: SocketAddr,
    bind: Option<SocketAddr>,
) -> Result<(TcpStream, Token), NetError> {
    let error = |source| NetError::Connect { addr, source };
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP)).map_err(error)?;
    if let Some(local) = bind {
        socket
            .bind(&local.into())
            .map_err(|source| NetError::Bind { addr: local, source })?;
    }
    socket.set_nonblocking(true).map_err(error)?;
    socket.set_tcp_nodelay(true).map_err(error)?;
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if platform::connect_in_progress(&e) => {}
        Err(e) => return Err(error(e)),
    }
    let mut stream = TcpStream::from_std(socket.into());
    let token = ctx.token();
    ctx.registry
        .register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
        .map_err(error)?;
    Ok((stream, token))
}

/// How a connect started by `start_connect` ended: the peer's address, or why it failed (`NotConnected`: it has
/// not ended yet, a spurious wake-up).
pub(super) fn connect_outcome(stream: &TcpStream) -> std::io::Result<SocketAddr> {
    match stream.take_error() {
        Ok(Some(e)) | Err(e) => Err(e),
        Ok(None) => stream.peer_addr(),
    }
}

impl Transport for TcpClient {
    fn ready(&mut self, ctx: &mut Ctx, token: Token, readable: bool, writable: bool) {
        if let State::Connecting { token: connecting, .. } = &self.state
            && *connecting == token
        {
            self.finish_connect(ctx);
        }
        let State::Connected { conn, .. } = &mut self.state else {
            return;
        };
        if conn.token != token {
            return;
        }
        let mut status = Status::Open;
        if writable {
            status = conn.write(ctx);
        }
        if readable && matches!(status, Status::Open) {
            status = conn.read(ctx, &mut self.buf);
        }
        if let Status::Gone(reason, error) = status {
            self.lost(ctx, reason, error);
        }
    }

    fn send(&mut self, ctx: &mut Ctx, to: Target, bytes: Bytes, report: bool) -> Result<(), NetError> {
        if let Target::Upstream(_) = to {
            return Err(NetError::NoPeer(Nobody::UpstreamNeedsRelay));
        }
        let State::Connected { conn, .. } = &mut self.state else {
            return Err(NetError::NoPeer(Nobody::NotConnected));
        };
        if let Target::Peer(addr) = to
            && platform::canonical(addr) != conn.peer
        {
            return Err(NetError::UnknownPeer { addr });
        }
        if let Status::Gone(reason, error) = conn.queue(ctx, Outgoing { bytes, report })? {
            self.lost(ctx, reason, error);
        }
        Ok(())
    }

    fn reply(&mut self, ctx: &mut Ctx, peer: SocketAddr, reply: Reply) -> Result<(), NetError> {
        let State::Connected { conn, .. } = &mut self.state else {
            return Err(NetError::NoPeer(Nobody::NotConnected));
        };
        if conn.peer != peer {
            return Err(NetError::UnknownPeer { addr: peer });
        }
        if let Status::Gone(reason, error) = conn.reply(ctx, reply) {
            self.lost(ctx, reason, error);
        }
        Ok(())
    }

    fn peers(&self) -> Vec<SocketAddr> {
        match &self.state {
            State::Connected { conn, .. } => vec![conn.peer],
            _ => Vec::new(),
        }
    }

    fn queued(&self, _to: Target) -> usize {
        match &self.state {
            State::Connected { conn, .. } => conn.queued(),
            _ => 0,
        }
    }

    fn tick(&mut self, ctx: &mut Ctx, now: Instant) {
        match &self.state {
            State::Due => self.resolve(ctx),
            State::Waiting { until } if now >= *until => self.resolve(ctx),
            State::Resolving(lookup) => {
                if let Some(answer) = lookup.answer() {
                    self.connect(ctx, answer);
                }
            }
            State::Connected { conn, since } if conn.handshaking() && now >= *since + self.timeout => {
                let error = conn.handshake_timed_out(self.timeout);
                self.lost(ctx, LeaveReason::Error, Some(error));
            }
            State::Connecting { addr, deadline, .. } if now >= *deadline => {
                let error = NetError::ConnectTimeout {
                    addr: *addr,
                    millis: self.timeout.as_millis(),
                };
                self.abandon_attempt(ctx, error);
            }
            _ => {}
        }
    }

    fn deadline(&self) -> Option<Instant> {
        match &self.state {
            State::Due => Some(Instant::now()),
            State::Waiting { until } => Some(*until),
            State::Connecting { deadline, .. } => Some(*deadline),
            // The connect timeout covers the TLS handshake too: a silent plaintext server must not hang it.
            State::Connected { conn, since } if conn.handshaking() => Some(*since + self.timeout),
            // The lookup wakes the worker when it is done.
            State::Resolving(_) | State::Connected { .. } | State::Ended(_) => None,
        }
    }

    fn ended(&self) -> Option<CloseReason> {
        match self.state {
            State::Ended(reason) => Some(reason),
            _ => None,
        }
    }
}
