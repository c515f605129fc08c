//! TCP server: one listener and every client on one poll.
use std::collections::{HashMap, HashSet};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use mio::Token;

use super::auto::Reply;
use super::caps::{Caps, Parts, RemoteUse, ScriptScope};
use super::conn::{Conn, Linger, Outgoing, READ_BUFFER, Status};
use super::listen::{Accepted, Listener};
use super::tls::{Deadlines, SERVER_HANDSHAKE_TIMEOUT, ServerTls, TlsLayer, TlsSpec};
use super::transport::{Ctx, Launcher, Started, Transport};
use super::{Bytes, EventKind, LeaveReason, NetError, Nobody, Target, platform};
use crate::codec::pcapng::{Carrier, Way};

pub const CAPS: Caps = Caps {
    name: "tcp-server",
    label: ("TCP 服务器", "TCP Server"),
    many_peers: true,
    accepts: true,
    peer_noun: "client",
    remote: RemoteUse::None,
    local_port_optional: false,
    default_local_port: "8080",
    reconnects: false,
    follows_peer: false,
    multicast: false,
    datagrams: false,
    tls: true,
    script_scope: ScriptScope::EachClient,
    forwards: false,
    carrier: Carrier::Tcp,
    ready_line: Some("listening on"),
};

/// A TCP server's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub listen: SocketAddr,
    /// Refuse connections beyond this many clients.
    pub max_clients: Option<usize>,
    /// Speak TLS to every client.
    pub tls: Option<TlsSpec>,
}

impl Config {
    pub(super) fn from_parts(parts: Parts) -> Option<Config> {
        Some(Config {
            listen: parts.local?,
            max_clients: parts.max_clients,
            tls: parts.tls,
        })
    }

    pub fn caps(&self) -> &'static Caps {
        &CAPS
    }

    pub(super) fn parts(&self) -> Parts {
        Parts {
            local: Some(self.listen),
            max_clients: self.max_clients,
            tls: self.tls.clone(),
            ..Parts::default()
        }
    }
}

/// Binds on the caller's thread (so "address in use" is the caller's error), then runs on the worker.
pub(super) fn launch<L: Launcher>(config: Config, mut ctx: Ctx, launcher: L) -> Result<L::Started, NetError> {
    // Its files are read (or its certificate made) before it listens: bad input listens on nothing.
    let tls = match &config.tls {
        Some(spec) => Some(ServerTls::build(spec, config.listen)?),
        None => None,
    };
    let listener = Listener::bind(&mut ctx, config.listen)?;
    if let Some(tls) = &tls {
        ctx.emit(EventKind::TlsServing {
            cert: Arc::new(tls.cert.clone()),
            self_signed: tls.self_signed,
        });
    }
    let server = TcpServer {
        listener,
        tls,
        max_clients: config.max_clients,
        conns: HashMap::new(),
        by_peer: HashMap::new(),
        half_closed: HashSet::new(),
        linger_until: None,
        handshakes: Deadlines::new(SERVER_HANDSHAKE_TIMEOUT),
        buf: vec![0; READ_BUFFER].into_boxed_slice(),
    };
    let local = server.listener.local;
    let started = Started {
        local: Some(local),
        default_to: "every client".into(),
        name: format!("{} {local}", CAPS.name),
        recv_buffer: None,
    };
    launcher.start(ctx, server, started)
}

pub(super) struct TcpServer {
    listener: Listener,
    max_clients: Option<usize>,
    conns: HashMap<Token, Conn>,
    by_peer: HashMap<SocketAddr, Token>,
    /// Clients that have half-closed and are written to until they are closed.
    half_closed: HashSet<Token>,
    /// The earliest a half-closed client is due for a look.
    linger_until: Option<Instant>,
    buf: Box<[u8]>,
    tls: Option<ServerTls>,
    /// With TLS: when each client's handshake is due.
    handshakes: Deadlines,
}

impl TcpServer {
    fn accept(&mut self, ctx: &mut Ctx) {
        while let Some(Accepted {
            stream,
            token,
            local,
            peer,
        }) = self.listener.accept(ctx, self.conns.len(), self.max_clients)
        {
            let mut conn = Conn::new(stream, token, local, peer).keep_half_open();
            if let Some(tls) = &self.tls {
                match TlsLayer::server(tls) {
                    Ok(layer) => {
                        conn = conn.with_tls(layer);
                        self.handshakes.started(token, Instant::now());
                    }
                    Err(reason) => {
                        ctx.error(NetError::Tls { addr: peer, reason });
                        continue;
                    }
                }
            }
            let counters = conn.counters.clone();
            self.conns.insert(token, conn);
            self.by_peer.insert(peer, token);
            ctx.emit(EventKind::PeerJoined { peer, counters });
            ctx.peer_joined(local, peer, CAPS.script_scope, Way::In);
        }
    }

    fn remove(&mut self, ctx: &mut Ctx, token: Token, reason: LeaveReason, error: Option<NetError>) {
        let Some(mut conn) = self.conns.remove(&token) else {
            return;
        };
        self.by_peer.remove(&conn.peer);
        self.half_closed.remove(&token);
        conn.release(ctx);
        self.listener.freed();
        if let Some(error) = error {
            ctx.error(error);
        }
        ctx.peer_left(conn.local, conn.peer, reason);
        ctx.emit(EventKind::PeerLeft {
            peer: conn.peer,
            reason,
        });
    }

    fn token_of(&self, peer: SocketAddr) -> Result<Token, NetError> {
        self.by_peer
            .get(&platform::canonical(peer))
            .copied()
            .ok_or(NetError::UnknownPeer { addr: peer })
    }
}

impl Transport for TcpServer {
    fn ready(&mut self, ctx: &mut Ctx, token: Token, readable: bool, writable: bool) {
        if token == self.listener.token {
            return self.accept(ctx);
        }
        let Some(conn) = self.conns.get_mut(&token) else {
            return;
        };
        let mut status = Status::Open;
        if writable {
            status = conn.write(ctx);
        }
        if readable && matches!(status, Status::Open) {
            status = conn.read(ctx, &mut self.buf);
            if conn.half_closed() {
                self.half_closed.insert(token);
            }
        }
        if let Status::Gone(reason, error) = status {
            self.remove(ctx, token, reason, error);
        }
    }

    fn send(&mut self, ctx: &mut Ctx, to: Target, bytes: Bytes, report: bool) -> Result<(), NetError> {
        let tokens = match to {
            Target::Peer(peer) => vec![self.token_of(peer)?],
            Target::Default if self.conns.is_empty() => {
                return Err(NetError::NoPeer(Nobody::NoClients));
            }
            Target::Default => self.conns.keys().copied().collect(),
            Target::Upstream(_) => return Err(NetError::NoPeer(Nobody::UpstreamNeedsRelay)),
        };
        let mut first_error = None;
        for token in tokens {
            let Some(conn) = self.conns.get_mut(&token) else {
                continue;
            };
            match conn.queue(
                ctx,
                Outgoing {
                    bytes: bytes.clone(),
                    report,
                },
            ) {
                Ok(Status::Open) => {}
                Ok(Status::Gone(reason, error)) => self.remove(ctx, token, reason, error),
                // One stuck client must not stop a broadcast to the others.
                Err(e) if to == Target::Default => ctx.error(e),
                Err(e) => first_error = Some(e),
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    fn reply(&mut self, ctx: &mut Ctx, peer: SocketAddr, reply: Reply) -> Result<(), NetError> {
        let token = self.token_of(peer)?;
        if let Some(conn) = self.conns.get_mut(&token)
            && let Status::Gone(reason, error) = conn.reply(ctx, reply)
        {
            self.remove(ctx, token, reason, error);
        }
        Ok(())
    }

    fn queued(&self, to: Target) -> usize {
        match to {
            Target::Peer(peer) => self
                .token_of(peer)
                .ok()
                .and_then(|t| self.conns.get(&t))
                .map_or(0, Conn::queued),
            Target::Default => self.conns.values().map(Conn::queued).max().unwrap_or(0),
            Target::Upstream(_) => 0,
        }
    }

    fn kick(&mut self, ctx: &mut Ctx, peer: SocketAddr) -> Result<(), NetError> {
        let token = self.token_of(peer)?;
        if let Some(conn) = self.conns.get(&token) {
            let _ = conn.stream.shutdown(Shutdown::Both);
        }
        self.remove(ctx, token, LeaveReason::Kicked, None);
        Ok(())
    }

    fn peers(&self) -> Vec<SocketAddr> {
        let mut peers: Vec<SocketAddr> = self.by_peer.keys().copied().collect();
        peers.sort_unstable();
        peers
    }

    fn unsent(&self, _default: &str) -> Vec<(String, usize)> {
        self.conns
            .values()
            .filter(|conn| conn.queued() > 0)
            .map(|conn| (conn.peer.to_string(), conn.queued()))
            .collect()
    }

    fn tick(&mut self, ctx: &mut Ctx, now: Instant) {
        self.linger_until = None;
        let mut over = Vec::new();
        for token in &self.half_closed {
            let Some(conn) = self.conns.get_mut(token) else {
                continue;
            };
            match conn.linger(&ctx.outbox, ctx.auto.answerer(conn.peer), now) {
                Linger::Writing => {}
                Linger::Until(at) => self.linger_until = Some(self.linger_until.map_or(at, |t| t.min(at))),
                Linger::Over => over.push(*token),
            }
        }
        for token in over {
            self.remove(ctx, token, LeaveReason::Closed, None);
        }
        for token in self.handshakes.due(now) {
            if let Some(conn) = self.conns.get(&token)
                && conn.handshaking()
            {
                let error = conn.handshake_timed_out(self.handshakes.timeout());
                self.remove(ctx, token, LeaveReason::Error, Some(error));
            }
        }
        if self.listener.retry_due(now) {
            self.accept(ctx);
        }
    }

    fn deadline(&self) -> Option<Instant> {
        [self.linger_until, self.listener.deadline(), self.handshakes.next()]
            .into_iter()
            .flatten()
            .min()
    }
}
