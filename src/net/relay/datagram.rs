//! UDP relay: one socket on the listen address; each client address gets a socket of its own towards the
//! upstream (bound to port 0 and connected, so what comes back on it is that client's), forgotten with all it
//! holds after `idle` without a datagram either way. Each datagram is one message for the rules.
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::UdpSocket;
use mio::{Interest, Token};
use socket2::{Domain, Protocol, Socket, Type};

use super::super::conn::{MAX_QUEUED, Outgoing};
use super::super::datagrams;
use super::super::message::message_cost;
use super::super::transport::{Ctx, Launcher, Transport};
use super::super::{
    Bytes, CloseReason, Counters, EventKind, LeaveReason, MAX_DATAGRAM, NetError, Nobody, Target, platform,
};
use super::filter::{Filter, Verdict};
use super::{Config, Destination, is_itself, started};
use crate::codec::framing::{End, Message};

/// Room for any datagram.
const RECV_BUFFER: usize = 64 * 1024;
/// Kernel buffers asked for on the listening socket, which carries every client's datagrams.
const SOCKET_BUFFER: usize = 4 * 1024 * 1024;
const DATAGRAMS_PER_TURN: usize = 256;
/// Datagrams waiting to be sent or held by a delay, all queues together. Past it nothing is read until half has
/// gone: the kernel's buffers fill and drop instead of our memory growing.
const MAX_WAITING: usize = 4 * MAX_QUEUED;
/// At most one line a second says that clients past `--max-pairs` are refused.
const REFUSALS_EVERY: Duration = Duration::from_secs(1);

pub(super) fn launch<L: Launcher>(
    config: &Config,
    idle: Duration,
    filter: Option<Filter>,
    mut ctx: Ctx,
    launcher: L,
) -> Result<L::Started, NetError> {
    let (socket, local) = bind(config.listen)?;
    let upstream = Destination::start(&config.upstream, local, &launcher.waker())?;
    let mut socket = UdpSocket::from_std(socket);
    let token = ctx.token();
    ctx.registry
        .register(&mut socket, token, Interest::READABLE | Interest::WRITABLE)
        .map_err(|source| NetError::Bind {
            addr: config.listen,
            source,
        })?;
    ctx.emit(EventKind::Ready { local });
    // Framers of the view are per client too; they go with their client, or after this long at the latest.
    ctx.auto.forget_idle_peers(idle);
    let relay = UdpRelay {
        socket,
        token,
        local,
        upstream,
        failed: false,
        idle,
        max_pairs: config.max_pairs,
        clients: HashMap::new(),
        tokens: HashMap::new(),
        vias: HashMap::new(),
        out: VecDeque::new(),
        waiting: 0,
        throttled: false,
        held: BinaryHeap::new(),
        next_id: 0,
        sweep_at: None,
        refused: 0,
        refusal_said: None,
        filter,
        buf: vec![0; RECV_BUFFER].into_boxed_slice(),
    };
    launcher.start(ctx, relay, started(local))
}

fn bind(listen: SocketAddr) -> Result<(std::net::UdpSocket, SocketAddr), NetError> {
    let error = |source| NetError::Bind { addr: listen, source };
    let socket = Socket::new(Domain::for_address(listen), Type::DGRAM, Some(Protocol::UDP)).map_err(error)?;
    if listen.is_ipv6() && listen.ip().is_unspecified() {
        let _ = socket.set_only_v6(false);
    }
    let _ = platform::grow_recv_buffer(&socket, SOCKET_BUFFER);
    let _ = socket.set_send_buffer_size(SOCKET_BUFFER);
    socket.bind(&listen.into()).map_err(error)?;
    socket.set_nonblocking(true).map_err(error)?;
    let socket = std::net::UdpSocket::from(socket);
    let local = socket.local_addr().map_err(error)?;
    Ok((socket, platform::canonical(local)))
}

/// One client address and its own socket towards the upstream.
struct Client {
    /// Tells this client from a later one with the same address (what a delay holds goes to its own).
    id: u64,
    socket: UdpSocket,
    token: Token,
    /// The socket's own address: it names the upstream leg, as a TCP relay's does.
    via: SocketAddr,
    upstream: SocketAddr,
    /// Datagrams towards the upstream.
    out: VecDeque<Outgoing>,
    /// The last datagram either way.
    seen: Instant,
    counters: Arc<Counters>,
    /// The upstream refused a datagram (ICMP port unreachable): said once.
    refusal_reported: bool,
}

/// Which way a datagram goes, for the client with this address and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Way {
    client: SocketAddr,
    id: u64,
    to_upstream: bool,
}

/// A datagram a rule delays, until `due`; `seq` keeps those due at once in order.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Held {
    due: Instant,
    seq: u64,
    way: Way,
    bytes: Bytes,
}

/// A datagram nobody asked to see reported as sent.
fn quiet(bytes: Bytes) -> Outgoing {
    Outgoing { bytes, report: false }
}

pub(super) struct UdpRelay {
    socket: UdpSocket,
    token: Token,
    local: SocketAddr,
    upstream: Destination,
    failed: bool,
    idle: Duration,
    max_pairs: Option<usize>,
    clients: HashMap<SocketAddr, Client>,
    /// Each client socket's token, to its client.
    tokens: HashMap<Token, SocketAddr>,
    /// Each client socket's own address, to its client.
    vias: HashMap<SocketAddr, SocketAddr>,
    /// Datagrams towards the clients, sent from the listening socket.
    out: VecDeque<(SocketAddr, Outgoing)>,
    /// What every queue and `held` cost together (`message_cost`).
    waiting: usize,
    /// Nothing is read until `waiting` is down to half.
    throttled: bool,
    held: BinaryHeap<Reverse<Held>>,
    next_id: u64,
    /// No client can have been idle long enough before this.
    sweep_at: Option<Instant>,
    /// Datagrams of clients past `max_pairs`, dropped.
    refused: u64,
    refusal_said: Option<Instant>,
    filter: Option<Filter>,
    buf: Box<[u8]>,
}

impl UdpRelay {
    /// Reads the listening socket: each datagram from a client goes on through its own socket.
    fn read_clients(&mut self, ctx: &mut Ctx) {
        // Clients wait in the kernel's buffer until there is somewhere to send what they say.
        if !self.upstream.known() {
            return;
        }
        let mut buf = std::mem::take(&mut self.buf);
        for _ in 0..DATAGRAMS_PER_TURN {
            if !self.may_read(ctx, self.token) {
                break;
            }
            match self.socket.recv_from(&mut buf) {
                Ok((n, peer)) => self.client_sent(ctx, platform::canonical(peer), &buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted || platform::is_stale_udp_reset(&e) => {}
                Err(source) => {
                    ctx.error(NetError::Receive {
                        addr: self.local,
                        source,
                    });
                    break;
                }
            }
        }
        self.buf = buf;
    }

    /// Whether a socket may be read now; if not, it is looked at again once it may.
    fn may_read(&mut self, ctx: &mut Ctx, token: Token) -> bool {
        if self.waiting >= MAX_WAITING {
            self.throttled = true;
            return false;
        }
        if ctx.rx_paused(None) {
            ctx.parked.push(token);
            return false;
        }
        true
    }

    fn client_sent(&mut self, ctx: &mut Ctx, peer: SocketAddr, data: &[u8]) {
        let now = Instant::now();
        if !self.clients.contains_key(&peer) && !self.open(ctx, peer, now) {
            return;
        }
        let Some(client) = self.clients.get_mut(&peer) else {
            return;
        };
        client.seen = now;
        client.counters.add_rx(data.len());
        let way = Way {
            client: peer,
            id: client.id,
            to_upstream: true,
        };
        for reply in ctx.received_as(self.local, peer, peer, data, false, MAX_QUEUED) {
            self.queue(ctx, way.back(), reply.into());
        }
        self.pass(ctx, way, data, now);
    }

    /// A socket for a new client towards the upstream; `false` when it is refused (past `max_pairs`) or none
    /// could be made (reported).
    fn open(&mut self, ctx: &mut Ctx, peer: SocketAddr, now: Instant) -> bool {
        if self.max_pairs.is_some_and(|max| self.clients.len() >= max) {
            self.refused += 1;
            if self.refusal_said.is_none_or(|said| now >= said + REFUSALS_EVERY) {
                self.refusal_said = Some(now);
                ctx.error(NetError::PairsFull {
                    client: peer,
                    pairs: self.clients.len(),
                    dropped: self.refused,
                });
            }
            return false;
        }
        let (mut socket, via, upstream) = match self.connect() {
            Ok(connected) => connected,
            Err(source) => {
                ctx.error(NetError::Pair {
                    client: peer,
                    source: Box::new(source),
                });
                return false;
            }
        };
        let token = ctx.token();
        if let Err(source) = ctx
            .registry
            .register(&mut socket, token, Interest::READABLE | Interest::WRITABLE)
        {
            ctx.error(NetError::Pair {
                client: peer,
                source: Box::new(NetError::Bind { addr: via, source }),
            });
            return false;
        }
        let counters = Arc::new(Counters::default());
        ctx.emit(EventKind::PeerJoined {
            peer,
            counters: counters.clone(),
        });
        ctx.emit(EventKind::Paired {
            client: peer,
            via,
            upstream,
        });
        self.next_id += 1;
        let client = Client {
            id: self.next_id,
            socket,
            token,
            via,
            upstream,
            out: VecDeque::new(),
            seen: now,
            counters,
            refusal_reported: false,
        };
        self.tokens.insert(token, peer);
        self.vias.insert(via, peer);
        self.clients.insert(peer, client);
        self.sweep_at = Some(self.sweep_at.map_or(now + self.idle, |at| at.min(now + self.idle)));
        true
    }

    /// A socket bound to port 0 and connected to the first of the upstream's addresses that takes it.
    fn connect(&self) -> Result<(UdpSocket, SocketAddr, SocketAddr), NetError> {
        let mut last = None;
        for &addr in &self.upstream.addrs {
            match connected(addr) {
                Ok((socket, via)) => {
                    // The upstream on this machine reached through one of its other addresses.
                    if via.ip() == addr.ip() && is_itself(self.local, SocketAddr::new(via.ip(), addr.port())) {
                        return Err(NetError::RelayLoop {
                            listen: self.local,
                            upstream: addr,
                        });
                    }
                    return Ok((UdpSocket::from_std(socket), via, addr));
                }
                Err(source) => last = Some(NetError::Connect { addr, source }),
            }
        }
        Err(last.unwrap_or(NetError::NoPeer(Nobody::NoRemote)))
    }

    /// Reads what the upstream sent to one client's socket, and passes it on to that client.
    fn read_upstream(&mut self, ctx: &mut Ctx, token: Token, client: SocketAddr) {
        let mut buf = std::mem::take(&mut self.buf);
        for _ in 0..DATAGRAMS_PER_TURN {
            if !self.may_read(ctx, token) {
                break;
            }
            let Some(entry) = self.clients.get_mut(&client) else {
                break;
            };
            match entry.socket.recv(&mut buf) {
                Ok(n) => {
                    let now = Instant::now();
                    entry.seen = now;
                    let way = Way {
                        client,
                        id: entry.id,
                        to_upstream: false,
                    };
                    let (via, upstream) = (entry.via, entry.upstream);
                    for reply in ctx.received_as(via, upstream, via, &buf[..n], false, MAX_QUEUED) {
                        self.queue(ctx, way.back(), reply.into());
                    }
                    self.pass(ctx, way, &buf[..n], now);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => {
                    // Most often an ICMP "port unreachable" for an earlier datagram: the upstream is down.
                    if !std::mem::replace(&mut entry.refusal_reported, true) {
                        let upstream = entry.upstream;
                        ctx.error(NetError::Pair {
                            client,
                            source: Box::new(NetError::Receive { addr: upstream, source }),
                        });
                    }
                }
            }
        }
        self.buf = buf;
    }

    /// What the rules make of a datagram going `way`: on now, later, back, or nowhere.
    fn pass(&mut self, ctx: &mut Ctx, way: Way, data: &[u8], now: Instant) {
        let Some(filter) = &mut self.filter else {
            return self.queue(ctx, way, quiet(data.into()));
        };
        let message = Message {
            bytes: data.to_vec(),
            body: 0..data.len(),
            end: End::Whole,
        };
        let key = if way.to_upstream {
            way.client
        } else {
            self.clients.get(&way.client).map_or(way.client, |client| client.via)
        };
        let (verdict, trouble) = filter.verdict(&message, key, way.to_upstream, now);
        if let Some(event) = trouble {
            ctx.emit(event);
        }
        let (way, bytes, due) = match verdict {
            Verdict::Forward(bytes, due) => (way, bytes, due),
            Verdict::Answer(bytes, due) => (way.back(), bytes, due),
            Verdict::Nothing => return,
        };
        if due <= now {
            return self.queue(ctx, way, quiet(bytes));
        }
        self.waiting += message_cost(bytes.len());
        self.next_id += 1;
        self.held.push(Reverse(Held {
            due,
            seq: self.next_id,
            way,
            bytes,
        }));
    }

    /// Queues a datagram `way` and sends what it can. A client forgotten meanwhile gets nothing.
    fn queue(&mut self, ctx: &mut Ctx, way: Way, out: Outgoing) {
        let Some(client) = self.clients.get_mut(&way.client).filter(|client| client.id == way.id) else {
            return;
        };
        self.waiting += message_cost(out.bytes.len());
        if way.to_upstream {
            client.out.push_back(out);
            self.flush_upstream(ctx, way.client);
        } else {
            self.out.push_back((way.client, out));
            self.flush_clients(ctx);
        }
    }

    /// Sends what waits for the clients, from the listening socket.
    fn flush_clients(&mut self, ctx: &mut Ctx) {
        let (clients, mut freed) = (&self.clients, 0);
        datagrams::send_queued(
            ctx,
            &self.socket,
            self.local,
            self.token,
            &mut self.out,
            |to, len, went| {
                if let Some(client) = clients.get(&to).filter(|_| went) {
                    client.counters.add_tx(len);
                }
                freed += message_cost(len);
            },
        );
        self.freed(ctx, freed);
    }

    /// Sends what waits for the upstream on `client`'s socket.
    fn flush_upstream(&mut self, ctx: &mut Ctx, client: SocketAddr) {
        let Some(entry) = self.clients.get_mut(&client) else {
            return;
        };
        let mut freed = 0;
        while let Some(out) = entry.out.front() {
            if ctx.tx_paused() {
                ctx.parked.push(entry.token);
                break;
            }
            match entry.socket.send(&out.bytes) {
                Ok(n) => {
                    ctx.wrote(entry.via, entry.upstream, &out.bytes, 0..n);
                    if out.report {
                        ctx.emit(EventKind::Sent {
                            peer: entry.via,
                            bytes: out.bytes.clone(),
                        });
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // An earlier datagram's ICMP error, handed to this send: said once, and this one is dropped.
                Err(source) => {
                    if !std::mem::replace(&mut entry.refusal_reported, true) {
                        ctx.error(NetError::Pair {
                            client,
                            source: Box::new(NetError::Send {
                                addr: entry.upstream,
                                source,
                            }),
                        });
                    }
                }
            }
            freed += message_cost(out.bytes.len());
            entry.out.pop_front();
        }
        self.freed(ctx, freed);
    }

    /// Datagrams costing `freed` left their queues (sent or dropped): once half the room is back, reading starts again.
    fn freed(&mut self, ctx: &mut Ctx, freed: usize) {
        self.waiting -= freed;
        if self.throttled && self.waiting <= MAX_WAITING / 2 {
            self.throttled = false;
            ctx.unread.push(self.token);
            ctx.unread.extend(self.clients.values().map(|client| client.token));
        }
    }

    /// Forgets `client` and everything kept for it.
    fn forget(&mut self, ctx: &mut Ctx, client: SocketAddr, reason: LeaveReason) {
        let Some(mut entry) = self.clients.remove(&client) else {
            return;
        };
        let _ = ctx.registry.deregister(&mut entry.socket);
        self.tokens.remove(&entry.token);
        self.vias.remove(&entry.via);
        let freed = entry.out.iter().map(|out| message_cost(out.bytes.len())).sum();
        self.freed(ctx, freed);
        ctx.peer_left_as(entry.via, entry.upstream, entry.via, reason);
        ctx.peer_left(self.local, client, reason);
        ctx.emit(EventKind::PeerLeft { peer: client, reason });
    }

    /// Forgets the clients idle for `idle`, and finds when the next one may be.
    fn sweep(&mut self, ctx: &mut Ctx, now: Instant) {
        if self.sweep_at.is_none_or(|at| at > now) {
            return;
        }
        let idle: Vec<SocketAddr> = self
            .clients
            .iter()
            .filter(|(_, client)| now.saturating_duration_since(client.seen) >= self.idle)
            .map(|(&addr, _)| addr)
            .collect();
        for client in idle {
            self.forget(ctx, client, LeaveReason::Idle);
        }
        self.sweep_at = self.clients.values().map(|client| client.seen + self.idle).min();
    }

    /// Sends what a delay held, once due.
    fn release(&mut self, ctx: &mut Ctx, now: Instant) {
        while self.held.peek().is_some_and(|Reverse(held)| held.due <= now) {
            let Some(Reverse(held)) = self.held.pop() else {
                break;
            };
            self.waiting -= message_cost(held.bytes.len());
            self.queue(ctx, held.way, quiet(held.bytes));
        }
    }

    /// The client a name given to a send or a kick means: a client's address, or its socket's (the upstream
    /// leg), with which way a send goes.
    fn client_of(&self, name: SocketAddr) -> Result<Way, NetError> {
        let name = platform::canonical(name);
        let (client, to_upstream) = match self.vias.get(&name) {
            Some(&client) => (client, true),
            None => (name, false),
        };
        let entry = self.clients.get(&client).ok_or(NetError::UnknownPeer { addr: name })?;
        Ok(Way {
            client,
            id: entry.id,
            to_upstream,
        })
    }
}

impl Way {
    /// The same pair's upstream side (a window's send to the upstream side of one client).
    fn towards_upstream(self) -> Way {
        Way {
            to_upstream: true,
            ..self
        }
    }

    /// Back to where it came from.
    fn back(self) -> Way {
        Way {
            to_upstream: !self.to_upstream,
            ..self
        }
    }
}

/// A UDP socket towards `upstream`, bound to port 0 of its family, and its own address.
fn connected(upstream: SocketAddr) -> io::Result<(std::net::UdpSocket, SocketAddr)> {
    let any: SocketAddr = if upstream.is_ipv4() {
        ([0u8; 4], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let socket = Socket::new(Domain::for_address(upstream), Type::DGRAM, Some(Protocol::UDP))?;
    socket.bind(&any.into())?;
    socket.connect(&upstream.into())?;
    socket.set_nonblocking(true)?;
    let socket = std::net::UdpSocket::from(socket);
    let via = platform::canonical(socket.local_addr()?);
    Ok((socket, via))
}

impl Transport for UdpRelay {
    fn ready(&mut self, ctx: &mut Ctx, token: Token, readable: bool, writable: bool) {
        if token == self.token {
            if writable {
                self.flush_clients(ctx);
            }
            if readable {
                self.read_clients(ctx);
            }
            return;
        }
        let Some(&client) = self.tokens.get(&token) else {
            return;
        };
        if writable {
            self.flush_upstream(ctx, client);
        }
        if readable {
            self.read_upstream(ctx, token, client);
        }
    }

    fn send(&mut self, ctx: &mut Ctx, to: Target, bytes: Bytes, report: bool) -> Result<(), NetError> {
        let ways: Vec<Way> = match to {
            Target::Peer(name) => vec![self.client_of(name)?],
            Target::Default if self.clients.is_empty() => return Err(NetError::NoPeer(Nobody::NoClients)),
            Target::Upstream(Some(client)) => vec![self.client_of(client)?.towards_upstream()],
            Target::Default | Target::Upstream(None) => {
                let to_upstream = matches!(to, Target::Upstream(None));
                self.clients
                    .iter()
                    .map(|(&client, entry)| Way {
                        client,
                        id: entry.id,
                        to_upstream,
                    })
                    .collect()
            }
        };
        if bytes.len() > MAX_DATAGRAM {
            return Err(NetError::DatagramTooLarge {
                addr: ways.first().map_or(self.local, |way| way.client),
                len: bytes.len(),
            });
        }
        if self.waiting + message_cost(bytes.len()) * ways.len() > MAX_WAITING {
            return Err(NetError::SendQueueFull {
                addr: ways.first().map_or(self.local, |way| way.client),
                queued: self.waiting,
            });
        }
        for way in ways {
            let out = Outgoing {
                bytes: bytes.clone(),
                report,
            };
            self.queue(ctx, way, out);
        }
        Ok(())
    }

    fn queued(&self, _to: Target) -> usize {
        self.waiting
    }

    fn kick(&mut self, ctx: &mut Ctx, peer: SocketAddr) -> Result<(), NetError> {
        let way = self.client_of(peer)?;
        self.forget(ctx, way.client, LeaveReason::Kicked);
        Ok(())
    }

    fn peers(&self) -> Vec<SocketAddr> {
        let mut peers: Vec<SocketAddr> = self.clients.keys().copied().collect();
        peers.sort_unstable();
        peers
    }

    fn tick(&mut self, ctx: &mut Ctx, now: Instant) {
        match self.upstream.answer(self.local) {
            Some(Ok(())) => ctx.unread.push(self.token),
            Some(Err(error)) => {
                ctx.error(error);
                self.failed = true;
            }
            None => {}
        }
        self.release(ctx, now);
        self.sweep(ctx, now);
    }

    fn deadline(&self) -> Option<Instant> {
        let held = self.held.peek().map(|Reverse(held)| held.due);
        held.into_iter().chain(self.sweep_at).min()
    }

    fn ended(&self) -> Option<CloseReason> {
        self.failed.then_some(CloseReason::Error)
    }

    fn file_chunk(&self) -> usize {
        MAX_DATAGRAM
    }
}
