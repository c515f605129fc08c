//! Relay: every client accepted on the listen address gets its own connection to the upstream, and bytes
//! pass between the two unchanged (`pair.rs`); rules and framing see each leg as a peer of its own. With `--udp`,
//! each client address gets its own socket towards the upstream instead (`datagram.rs`).
mod datagram;
mod filter;
mod pair;
mod tls;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::{Token, Waker};

use super::caps::{Caps, Parts, RemoteUse, ScriptScope};
use super::conn::{Conn, Outgoing, READ_BUFFER};
use super::listen::{Accepted, Listener};
use super::resolve::Lookup;
use super::tcp_client::{connect_outcome, start_connect};
use super::tls::TlsSpec;
use super::transport::{Ctx, Launcher, Started, Transport};
use super::{Bytes, CloseReason, EventKind, LeaveReason, NetError, Nobody, Target, platform};
use crate::codec::pcapng::{Carrier, Way};
use filter::Filter;
use pair::{End, Leg, Pair, Upstream};
use tls::RelayTls;

pub const CAPS: Caps = Caps {
    name: "relay",
    label: ("TCP 中继", "TCP Relay"),
    many_peers: true,
    accepts: true,
    peer_noun: "client",
    remote: RemoteUse::Required,
    local_port_optional: false,
    default_local_port: "8081",
    reconnects: false,
    follows_peer: false,
    multicast: false,
    datagrams: false,
    tls: true,
    script_scope: ScriptScope::EachClient,
    forwards: true,
    carrier: Carrier::Tcp,
    ready_line: Some("relaying"),
};

/// A relay of datagrams (`--udp`): what differs from the TCP relay's `CAPS`.
pub const UDP_CAPS: Caps = Caps {
    label: ("UDP 中继", "UDP Relay"),
    datagrams: true,
    tls: false,
    carrier: Carrier::Udp,
    ..CAPS
};

/// How long a UDP client is kept without a datagram either way, unless `--udp-idle` says otherwise.
pub const UDP_IDLE: Duration = Duration::from_secs(120);

/// How long each client's connection to the upstream may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A relay's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub listen: SocketAddr,
    /// `host:port`, resolved once at start (on the worker: a name server may be slow).
    pub upstream: String,
    /// Refuse clients beyond this many pairs.
    pub max_pairs: Option<usize>,
    pub connect_timeout: Duration,
    /// `Some`: relay datagrams, and forget a client after this long without one either way.
    pub udp_idle: Option<Duration>,
    /// TLS towards the clients (the relay is their server; its server-side options). Boxed, as the other leg's,
    /// so that a `Mode` stays small.
    pub tls_listen: Option<Box<TlsSpec>>,
    /// TLS towards the upstream (the relay is its client; its client-side options). Each leg's handshake has
    /// `connect_timeout` from the moment its pair opens.
    pub tls_upstream: Option<Box<TlsSpec>>,
}

impl Config {
    pub(super) fn from_parts(parts: Parts) -> Option<Config> {
        Some(Config {
            listen: parts.local?,
            upstream: parts.remote?,
            max_pairs: parts.max_clients,
            connect_timeout: CONNECT_TIMEOUT,
            udp_idle: None,
            // `tls` is the listen leg's (the relay is its clients' server: `Caps::accepts`).
            tls_listen: parts.tls.map(Box::new),
            tls_upstream: parts.tls_upstream.map(Box::new),
        })
    }

    /// A relay of datagrams does some things differently (its pcap carries UDP).
    pub fn caps(&self) -> &'static Caps {
        if self.udp_idle.is_some() { &UDP_CAPS } else { &CAPS }
    }

    pub(super) fn parts(&self) -> Parts {
        Parts {
            local: Some(self.listen),
            remote: Some(self.upstream.clone()),
            max_clients: self.max_pairs,
            tls: self.tls_listen.as_deref().cloned(),
            tls_upstream: self.tls_upstream.as_deref().cloned(),
            ..Parts::default()
        }
    }
}

/// Binds on the caller's thread ("address in use" and an upstream address that is the relay itself are the
/// caller's errors); a name in UPSTREAM is resolved on the worker, and the relay waits for it before taking clients.
pub(super) fn launch<L: Launcher>(config: Config, mut ctx: Ctx, launcher: L) -> Result<L::Started, NetError> {
    let (rules, framing) = ctx.auto.take_rules();
    let filter = rules.map(|rules| Filter::new(&rules, framing));
    if let Some(idle) = config.udp_idle {
        return datagram::launch(&config, idle, filter, ctx, launcher);
    }
    let tls = RelayTls::build(&config)?;
    let listener = Listener::bind(&mut ctx, config.listen)?;
    let local = listener.local;
    let upstream = Destination::start(&config.upstream, local, &launcher.waker())?;
    tls.announce(&mut ctx);
    let relay = Relay {
        tls,
        listener,
        upstream,
        failed: false,
        max_pairs: config.max_pairs,
        connect_timeout: config.connect_timeout,
        pairs: HashMap::new(),
        tokens: HashMap::new(),
        names: HashMap::new(),
        filter,
        buf: vec![0; READ_BUFFER].into_boxed_slice(),
    };
    launcher.start(ctx, relay, started(local))
}

fn started(local: SocketAddr) -> Started {
    Started {
        local: Some(local),
        default_to: "every client".into(),
        name: format!("{} {local}", CAPS.name),
        recv_buffer: None,
    }
}

/// Where the pairs go: the upstream's addresses, once its name is resolved (off the caller's thread, which may be
/// a window's: a slow name server must not freeze it).
struct Destination {
    lookup: Option<Lookup>,
    /// In the resolver's order; empty until the lookup's answer is in.
    addrs: Vec<SocketAddr>,
}

impl Destination {
    /// An address is answered at once, so a relay to itself by address is refused before it starts. A name's
    /// answer is taken on the worker only, even when it is already in: it must fail the same way (a bad argument,
    /// exit 2) however fast the resolver says no.
    fn start(upstream: &str, listen: SocketAddr, waker: &Arc<Waker>) -> Result<Destination, NetError> {
        let mut destination = Destination {
            lookup: Some(Lookup::start(upstream, waker)),
            addrs: Vec::new(),
        };
        if upstream.parse::<SocketAddr>().is_err() {
            return Ok(destination);
        }
        match destination.answer(listen) {
            Some(Err(error)) => Err(error),
            _ => Ok(destination),
        }
    }

    /// The lookup's answer, when it has just come in (`None` before and after): `Ok` once the addresses are
    /// known; a name that does not resolve, or resolves to the relay itself, is an error.
    fn answer(&mut self, listen: SocketAddr) -> Option<Result<(), NetError>> {
        let answer = self.lookup.as_ref()?.answer()?;
        self.lookup = None;
        let addrs: Vec<SocketAddr> = match answer {
            Ok(addrs) => addrs.into_iter().map(platform::canonical).collect(),
            Err(error) => return Some(Err(error)),
        };
        if let Some(&upstream) = addrs.iter().find(|&&addr| is_itself(listen, addr)) {
            return Some(Err(NetError::RelayLoop { listen, upstream }));
        }
        self.addrs = addrs;
        Some(Ok(()))
    }

    fn known(&self) -> bool {
        !self.addrs.is_empty()
    }
}

/// Whether connecting to `upstream` reaches the relay's own listener on `listen`.
fn is_itself(listen: SocketAddr, upstream: SocketAddr) -> bool {
    let (listen, upstream) = (platform::canonical(listen), platform::canonical(upstream));
    let (l, u) = (listen.ip(), upstream.ip());
    let this_host = |ip: IpAddr| ip.is_loopback() || ip.is_unspecified();
    listen.port() == upstream.port()
        && (l == u || (l.is_unspecified() && this_host(u)) || (u.is_unspecified() && this_host(l)))
}

pub(super) struct Relay {
    listener: Listener,
    upstream: Destination,
    /// The upstream's name did not resolve (or resolved to the relay itself): the session ends.
    failed: bool,
    max_pairs: Option<usize>,
    connect_timeout: Duration,
    /// Each pair, by its client's token.
    pairs: HashMap<Token, Pair>,
    /// Each upstream connection's token, to its pair.
    tokens: HashMap<Token, Token>,
    /// Each leg's name (the client's address, or the relay's end of the upstream connection), to its pair.
    names: HashMap<SocketAddr, Token>,
    /// The rules, applied here per direction and message (the automation only shows what passes).
    filter: Option<Filter>,
    buf: Box<[u8]>,
    tls: RelayTls,
}

impl Relay {
    fn accept(&mut self, ctx: &mut Ctx) {
        // Clients wait in the backlog until there is somewhere to connect them to.
        if !self.upstream.known() {
            return;
        }
        while let Some(Accepted {
            stream,
            token,
            local,
            peer,
        }) = self.listener.accept(ctx, self.pairs.len(), self.max_pairs)
        {
            let conn = match self.tls.client_leg(Conn::new(stream, token, local, peer)) {
                Ok(conn) => conn,
                Err(error) => {
                    ctx.error(error);
                    continue;
                }
            };
            ctx.emit(EventKind::PeerJoined {
                peer,
                counters: conn.counters.clone(),
            });
            ctx.peer_joined(local, peer, CAPS.script_scope, Way::In);
            let pair = Pair {
                client: Leg::new(conn, peer, self.filter.as_ref()),
                upstream: Upstream::Gone,
            };
            self.pairs.insert(token, pair);
            self.names.insert(peer, token);
            // Tried in the resolver's order: `pop` takes from the end.
            let rest = self.upstream.addrs.iter().rev().copied().collect();
            self.connect(ctx, token, rest, None);
        }
    }

    /// Connects pair `id` to the next of `rest`; when none is left, the pair ends with the last failure.
    fn connect(&mut self, ctx: &mut Ctx, id: Token, mut rest: Vec<SocketAddr>, mut last: Option<NetError>) {
        let Some(pair) = self.pairs.get_mut(&id) else {
            return;
        };
        while let Some(addr) = rest.pop() {
            // A port of its own (bound, not picked at connect), so no client of ours can have the same address:
            // it names this leg.
            let any = SocketAddr::new(
                if addr.is_ipv4() {
                    [0u8; 4].into()
                } else {
                    [0u16; 8].into()
                },
                0,
            );
            match start_connect(ctx, addr, Some(any)) {
                Ok((stream, token)) => {
                    self.tokens.insert(token, id);
                    pair.upstream = Upstream::Connecting {
                        stream,
                        token,
                        addr,
                        deadline: Instant::now() + self.connect_timeout,
                        rest,
                    };
                    return;
                }
                Err(error) => last = Some(error),
            }
        }
        let source = last.unwrap_or_else(|| NetError::Resolve {
            host: self.upstream.addrs.first().map(ToString::to_string).unwrap_or_default(),
            reason: "no addresses found".into(),
        });
        let client = pair.client.key;
        self.remove(ctx, id, failed(client, source));
    }

    /// The upstream connection of pair `id` finished connecting, one way or the other (or not: a spurious wake-up).
    fn connected(&mut self, ctx: &mut Ctx, id: Token) {
        let Some(pair) = self.pairs.get_mut(&id) else {
            return;
        };
        let Upstream::Connecting { stream, addr, .. } = &pair.upstream else {
            return;
        };
        let addr = *addr;
        let outcome = connect_outcome(stream).and_then(|peer| Ok((stream.local_addr()?, peer)));
        let (via, upstream) = match outcome {
            Ok((via, peer)) => (platform::canonical(via), platform::canonical(peer)),
            Err(e) if e.kind() == std::io::ErrorKind::NotConnected => return,
            // Connected, and reset before we looked (a refused connect says so instead): a reset, passed on.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                let end = End {
                    reason: LeaveReason::Reset,
                    error: None,
                };
                return self.remove(ctx, id, end);
            }
            Err(source) => return self.try_next(ctx, id, NetError::Connect { addr, source }),
        };
        // An upstream on this machine reached through one of its other addresses: the static check cannot know them.
        if via.ip() == upstream.ip() && is_itself(self.listener.local, SocketAddr::new(via.ip(), upstream.port())) {
            let error = NetError::RelayLoop {
                listen: self.listener.local,
                upstream,
            };
            let client = pair.client.key;
            return self.remove(ctx, id, failed(client, error));
        }
        let Upstream::Connecting { stream, token, .. } = std::mem::replace(&mut pair.upstream, Upstream::Gone) else {
            return;
        };
        let conn = match self.tls.upstream_leg(Conn::new(stream, token, via, upstream)) {
            Ok(conn) => conn,
            Err(error) => {
                let client = pair.client.key;
                return self.remove(ctx, id, failed(client, error));
            }
        };
        // Both legs' handshakes start now: the client's waited for somewhere to send what it says.
        let now = Instant::now();
        for (token, handshaking) in [(id, pair.client.conn.handshaking()), (token, conn.handshaking())] {
            if handshaking {
                self.tls.handshakes.started(token, now);
            }
        }
        pair.upstream = Upstream::Open(Box::new(Leg::new(conn, via, self.filter.as_ref())));
        self.names.insert(via, id);
        ctx.emit(EventKind::Paired {
            client: pair.client.key,
            via,
            upstream,
        });
        if let Some(pcap) = &mut ctx.pcap {
            pcap.joined(via, upstream, Way::Out);
        }
        // What either side sent meanwhile got no wake-up of its own.
        ctx.unread.extend([id, token]);
    }

    /// Gives up pair `id`'s connection attempt and tries the next address.
    fn try_next(&mut self, ctx: &mut Ctx, id: Token, error: NetError) {
        let Some(pair) = self.pairs.get_mut(&id) else {
            return;
        };
        if let Upstream::Connecting {
            mut stream,
            token,
            rest,
            ..
        } = std::mem::replace(&mut pair.upstream, Upstream::Gone)
        {
            let _ = ctx.registry.deregister(&mut stream);
            self.tokens.remove(&token);
            self.connect(ctx, id, rest, Some(error));
        }
    }

    fn remove(&mut self, ctx: &mut Ctx, id: Token, end: End) {
        let Some(mut pair) = self.pairs.remove(&id) else {
            return;
        };
        if matches!(end.reason, LeaveReason::Reset | LeaveReason::Error) {
            pair.reset_on_close();
        }
        if let Some(token) = pair.upstream_token() {
            self.tokens.remove(&token);
        }
        let client = &mut pair.client;
        self.names.remove(&client.key);
        client.conn.release(ctx);
        match &mut pair.upstream {
            Upstream::Open(leg) => {
                self.names.remove(&leg.key);
                leg.conn.release(ctx);
                ctx.peer_left_as(leg.conn.local, leg.conn.peer, leg.key, end.reason);
            }
            Upstream::Connecting { stream, .. } => {
                let _ = ctx.registry.deregister(stream);
            }
            Upstream::Gone => {}
        }
        self.listener.freed();
        if let Some(error) = end.error {
            ctx.error(error);
        }
        let client = &pair.client;
        ctx.peer_left(client.conn.local, client.key, end.reason);
        ctx.emit(EventKind::PeerLeft {
            peer: client.key,
            reason: end.reason,
        });
    }

    /// With rules: what they delayed and what a gap ends, when its time has come.
    fn settle(&mut self, ctx: &mut Ctx, now: Instant) {
        let Some(filter) = &mut self.filter else {
            return;
        };
        let mut ended = Vec::new();
        for (&id, pair) in &mut self.pairs {
            if pair.waits()
                && let Err(end) = pair.settle(ctx, now, Some(filter))
            {
                ended.push((id, end));
            }
        }
        for (id, end) in ended {
            self.remove(ctx, id, end);
        }
    }

    /// Ends the pairs with a leg whose TLS handshake has not finished in time.
    fn handshakes_due(&mut self, ctx: &mut Ctx, now: Instant) {
        let timeout = self.tls.handshakes.timeout();
        for token in self.tls.handshakes.due(now) {
            let id = self.tokens.get(&token).copied().unwrap_or(token);
            let Some(pair) = self.pairs.get(&id) else {
                continue;
            };
            let leg = match &pair.upstream {
                Upstream::Open(leg) if leg.conn.token == token => &**leg,
                _ => &pair.client,
            };
            if leg.conn.token != token || !leg.conn.handshaking() {
                continue;
            }
            let error = leg.conn.handshake_timed_out(timeout);
            let end = match token == id {
                true => End {
                    reason: LeaveReason::Error,
                    error: Some(error),
                },
                false => failed(pair.client.key, error),
            };
            self.remove(ctx, id, end);
        }
    }

    /// The pair a leg's name (client address or `via`) belongs to.
    fn pair_of(&self, name: SocketAddr) -> Result<Token, NetError> {
        let name = platform::canonical(name);
        self.names
            .get(&name)
            .copied()
            .ok_or(NetError::UnknownPeer { addr: name })
    }

    /// The name of the upstream leg of `client`'s pair.
    fn upstream_of(&self, client: SocketAddr) -> Result<SocketAddr, NetError> {
        let id = self.pair_of(client)?;
        self.pairs
            .get(&id)
            .map_or(Err(NetError::UnknownPeer { addr: client }), Pair::upstream_key)
    }

    fn legs(&self) -> impl Iterator<Item = &Leg> {
        self.pairs.values().flat_map(|pair| {
            let upstream = match &pair.upstream {
                Upstream::Open(leg) => Some(&**leg),
                _ => None,
            };
            std::iter::once(&pair.client).chain(upstream)
        })
    }
}

/// A pair that ends because of `source`, said for its client.
fn failed(client: SocketAddr, source: NetError) -> End {
    End {
        reason: LeaveReason::Error,
        error: Some(NetError::Pair {
            client,
            source: Box::new(source),
        }),
    }
}

impl Transport for Relay {
    fn ready(&mut self, ctx: &mut Ctx, token: Token, readable: bool, writable: bool) {
        if token == self.listener.token {
            return self.accept(ctx);
        }
        let id = match self.tokens.get(&token) {
            Some(&id) => id,
            None if self.pairs.contains_key(&token) => token,
            None => return,
        };
        let Some(pair) = self.pairs.get_mut(&id) else {
            return;
        };
        if matches!(&pair.upstream, Upstream::Connecting { token: connecting, .. } if *connecting == token) {
            return self.connected(ctx, id);
        }
        if let Err(end) = pair.ready(ctx, token, (readable, writable), self.filter.as_mut(), &mut self.buf) {
            self.remove(ctx, id, end);
        }
    }

    fn send(&mut self, ctx: &mut Ctx, to: Target, bytes: Bytes, report: bool) -> Result<(), NetError> {
        let every = matches!(to, Target::Default | Target::Upstream(None));
        let names: Vec<Result<SocketAddr, NetError>> = match to {
            _ if every && self.pairs.is_empty() => return Err(NetError::NoPeer(Nobody::NoClients)),
            Target::Peer(name) => vec![Ok(platform::canonical(name))],
            Target::Default => self.pairs.values().map(|pair| Ok(pair.client.key)).collect(),
            Target::Upstream(Some(client)) => vec![self.upstream_of(client)],
            Target::Upstream(None) => self.pairs.values().map(Pair::upstream_key).collect(),
        };
        for name in names {
            let found = name.and_then(|name| Ok((self.pair_of(name)?, name)));
            let (id, name) = match found {
                Ok(found) => found,
                // A pair still connecting must not stop a send to the others.
                Err(error) if every => {
                    ctx.error(error);
                    continue;
                }
                Err(error) => return Err(error),
            };
            let Some(pair) = self.pairs.get_mut(&id) else {
                continue;
            };
            let out = Outgoing {
                bytes: bytes.clone(),
                report,
            };
            match pair.send(ctx, name, out) {
                Ok(Ok(())) => {}
                Ok(Err(end)) => self.remove(ctx, id, end),
                // One stuck client must not stop a send to the others.
                Err(error) if every => ctx.error(error),
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    fn queued(&self, to: Target) -> usize {
        let name = match to {
            Target::Peer(name) => Some(platform::canonical(name)),
            Target::Upstream(Some(client)) => self.upstream_of(client).ok(),
            Target::Default | Target::Upstream(None) => None,
        };
        match name {
            Some(name) => self
                .legs()
                .find(|leg| leg.key == name)
                .map_or(0, |leg| leg.conn.queued()),
            None => self.legs().map(|leg| leg.conn.queued()).max().unwrap_or(0),
        }
    }

    fn unsent(&self, _default: &str) -> Vec<(String, usize)> {
        self.legs()
            .filter(|leg| leg.conn.queued() > 0)
            .map(|leg| (leg.key.to_string(), leg.conn.queued()))
            .collect()
    }

    fn kick(&mut self, ctx: &mut Ctx, peer: SocketAddr) -> Result<(), NetError> {
        let id = self.pair_of(peer)?;
        let end = End {
            reason: LeaveReason::Kicked,
            error: None,
        };
        self.remove(ctx, id, end);
        Ok(())
    }

    fn peers(&self) -> Vec<SocketAddr> {
        let mut peers: Vec<SocketAddr> = self.pairs.values().map(|pair| pair.client.key).collect();
        peers.sort_unstable();
        peers
    }

    fn tick(&mut self, ctx: &mut Ctx, now: Instant) {
        match self.upstream.answer(self.listener.local) {
            Some(Ok(())) => self.accept(ctx),
            Some(Err(error)) => {
                ctx.error(error);
                self.failed = true;
            }
            None => {}
        }
        let late: Vec<(Token, SocketAddr)> = self
            .pairs
            .iter()
            .filter_map(|(&id, pair)| match &pair.upstream {
                Upstream::Connecting { addr, deadline, .. } if now >= *deadline => Some((id, *addr)),
                _ => None,
            })
            .collect();
        let millis = self.connect_timeout.as_millis();
        for (id, addr) in late {
            self.try_next(ctx, id, NetError::ConnectTimeout { addr, millis });
        }
        self.handshakes_due(ctx, now);
        if self.listener.retry_due(now) {
            self.accept(ctx);
        }
        self.settle(ctx, now);
    }

    fn deadline(&self) -> Option<Instant> {
        let connects = self.pairs.values().filter_map(|pair| match &pair.upstream {
            Upstream::Connecting { deadline, .. } => Some(*deadline),
            _ => None,
        });
        let now = Instant::now();
        let held = self
            .filter
            .is_some()
            .then(|| self.pairs.values().filter_map(move |pair| pair.due_after(now)));
        connects
            .chain(held.into_iter().flatten())
            .chain(self.listener.deadline())
            .chain(self.tls.handshakes.next())
            .min()
    }

    fn ended(&self) -> Option<CloseReason> {
        self.failed.then_some(CloseReason::Error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().expect(text)
    }

    #[test]
    fn an_upstream_on_the_listening_port_of_this_host_is_the_relay_itself() {
        let loops = [
            ("127.0.0.1:7000", "127.0.0.1:7000"),
            ("0.0.0.0:7000", "127.0.0.1:7000"),
            ("0.0.0.0:7000", "0.0.0.0:7000"),
            ("127.0.0.1:7000", "0.0.0.0:7000"),
            ("[::]:7000", "127.0.0.1:7000"),
            ("[::]:7000", "[::1]:7000"),
            ("127.0.0.1:7000", "[::ffff:127.0.0.1]:7000"),
        ];
        for (listen, upstream) in loops {
            assert!(is_itself(addr(listen), addr(upstream)), "{listen} → {upstream}");
        }
        let fine = [
            ("127.0.0.1:7000", "127.0.0.1:7001"),
            ("127.0.0.1:7000", "127.0.0.2:7000"),
            ("127.0.0.1:7000", "10.1.2.3:7000"),
        ];
        for (listen, upstream) in fine {
            assert!(!is_itself(addr(listen), addr(upstream)), "{listen} → {upstream}");
        }
    }
}
