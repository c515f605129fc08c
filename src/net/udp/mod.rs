//! UDP: one socket; a remote to send to, follow-peer, broadcast and multicast.
use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use mio::net::UdpSocket;
use mio::{Interest, Token, Waker};
use socket2::{Domain, Protocol, Socket, Type};

use super::auto::{DATAGRAM_PEER_IDLE, Reply};
use super::caps::{Caps, Parts, RemoteUse, ScriptScope};
use super::conn::{MAX_QUEUED, Outgoing};
use super::datagrams;
use super::message::message_cost;
use super::resolve::Lookup;
use super::transport::{Ctx, Launcher, Started, Transport};
use super::{Bytes, EventKind, Group, MAX_DATAGRAM, NetError, Nobody, RecvBuffer, Target, max_datagram, platform};
use crate::codec::pcapng::Carrier;

pub const CAPS: Caps = Caps {
    name: "udp",
    label: ("UDP", "UDP"),
    many_peers: true,
    accepts: false,
    peer_noun: "peer",
    remote: RemoteUse::Optional,
    local_port_optional: false,
    default_local_port: "8080",
    reconnects: false,
    follows_peer: true,
    multicast: true,
    datagrams: true,
    tls: false,
    script_scope: ScriptScope::Socket,
    forwards: false,
    carrier: Carrier::Udp,
    ready_line: Some("bound to"),
};

/// A UDP socket's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub bind: SocketAddr,
    /// `host:port` to send to by default.
    pub remote: Option<String>,
    /// Replies go to whoever sent last (NetAssist's "UDP目的IP/端口随对方变化").
    pub follow_peer: bool,
    pub broadcast: bool,
    pub groups: Vec<Group>,
}

impl Config {
    pub(super) fn from_parts(parts: Parts) -> Option<Config> {
        let bind = parts
            .local
            .unwrap_or_else(|| default_bind(parts.remote.as_deref(), &parts.groups));
        Some(Config {
            bind,
            remote: parts.remote,
            follow_peer: parts.follow_peer,
            broadcast: parts.broadcast,
            groups: parts.groups,
        })
    }

    pub fn caps(&self) -> &'static Caps {
        &CAPS
    }

    pub(super) fn parts(&self) -> Parts {
        Parts {
            local: Some(self.bind),
            remote: self.remote.clone(),
            follow_peer: self.follow_peer,
            broadcast: self.broadcast,
            groups: self.groups.clone(),
            ..Parts::default()
        }
    }
}

/// With no address to bind: an IPv6 remote or group needs an IPv6 socket; anything else gets IPv4. Port 0: any.
pub fn default_bind(remote: Option<&str>, groups: &[Group]) -> SocketAddr {
    let remote_is_v6 = remote
        .and_then(|remote| remote.parse::<SocketAddr>().ok())
        .is_some_and(|addr| addr.is_ipv6());
    let group_is_v6 = groups.iter().any(|group| group.addr.is_ipv6());
    let ip: IpAddr = if remote_is_v6 || group_is_v6 {
        Ipv6Addr::UNSPECIFIED.into()
    } else {
        Ipv4Addr::UNSPECIFIED.into()
    };
    SocketAddr::new(ip, 0)
}

/// Binds on the caller's thread (so "address in use" is the caller's error), then runs on the worker.
pub(super) fn launch<L: Launcher>(config: Config, mut ctx: Ctx, launcher: L) -> Result<L::Started, NetError> {
    let default_to = config.remote.clone().unwrap_or_else(|| "its UDP peers".into());
    let socket = Udp::bind(&mut ctx, config, launcher.waker())?;
    let local = socket.local;
    let started = Started {
        local: Some(local),
        default_to,
        name: format!("{} {local}", CAPS.name),
        recv_buffer: Some(RecvBuffer {
            wanted: SOCKET_BUFFER,
            granted: socket.recv_buffer,
            drops_counted: socket.kernel_dropped.is_some(),
        }),
    };
    launcher.start(ctx, socket, started)
}

/// Room for any datagram, IPv6 jumbo-less included.
const RECV_BUFFER: usize = 64 * 1024;
/// Kernel buffers asked for, so bursts are not dropped before we read them (best effort: the OS may cap it).
const SOCKET_BUFFER: usize = 4 * 1024 * 1024;
const DATAGRAMS_PER_TURN: usize = 256;

pub(super) struct Udp {
    socket: UdpSocket,
    token: Token,
    local: SocketAddr,
    remote: Option<SocketAddr>,
    /// The remote's name being resolved; replaces `remote` when done.
    lookup: Option<Lookup>,
    /// Sends to the remote made while `lookup` runs: they go where the commands before them said.
    held: VecDeque<Outgoing>,
    follow_peer: bool,
    out: VecDeque<(SocketAddr, Outgoing)>,
    /// Bytes in `out` and `held`.
    queued: usize,
    /// What they cost (`message_cost`): what the bound counts.
    cost: usize,
    /// Not read while echoes fill the queue; `flush` reads again once it has drained to half.
    throttled: bool,
    buf: Box<[u8]>,
    waker: Arc<Waker>,
    /// The receive buffer the OS granted, in bytes.
    recv_buffer: usize,
    /// The kernel's running count of datagrams it dropped, as last seen; `None` where the OS keeps no count.
    kernel_dropped: Option<u32>,
}

impl Udp {
    fn bind(ctx: &mut Ctx, config: Config, waker: Arc<Waker>) -> Result<Self, NetError> {
        let Config {
            bind,
            remote,
            follow_peer,
            broadcast,
            groups,
        } = config;
        let error = |source| NetError::Bind { addr: bind, source };
        let option = |option| {
            move |source| NetError::SocketOption {
                option,
                addr: bind,
                source,
            }
        };
        let socket = Socket::new(Domain::for_address(bind), Type::DGRAM, Some(Protocol::UDP)).map_err(error)?;
        if !groups.is_empty() {
            platform::share_port(&socket).map_err(option("SO_REUSEADDR"))?;
        }
        platform::only_own_groups(&socket, bind.is_ipv6()).map_err(option("IP_MULTICAST_ALL"))?;
        if bind.is_ipv6() && bind.ip().is_unspecified() {
            let _ = socket.set_only_v6(false);
        }
        let recv_buffer = platform::grow_recv_buffer(&socket, SOCKET_BUFFER).map_err(option("SO_RCVBUF"))?;
        let _ = socket.set_send_buffer_size(SOCKET_BUFFER);
        if broadcast {
            socket.set_broadcast(true).map_err(option("SO_BROADCAST"))?;
        }
        socket.bind(&bind.into()).map_err(error)?;
        socket.set_nonblocking(true).map_err(error)?;
        let socket = std::net::UdpSocket::from(socket);
        let local = socket.local_addr().map_err(error)?;
        let mut socket = UdpSocket::from_std(socket);
        for group in &groups {
            membership(&socket, *group, true)?;
        }
        let kernel_dropped = platform::udp_drops(&socket);
        let token = ctx.token();
        ctx.registry
            .register(&mut socket, token, Interest::READABLE | Interest::WRITABLE)
            .map_err(error)?;
        ctx.emit(EventKind::Ready { local });
        ctx.auto.forget_idle_peers(DATAGRAM_PEER_IDLE);
        // An address given at start is the remote without a `RemoteChanged`; a name announces what it became.
        let (remote, lookup) = match remote {
            Some(remote) => match remote.parse::<SocketAddr>() {
                Ok(addr) => (Some(addr), None),
                Err(_) => (None, Some(Lookup::start(&remote, &waker))),
            },
            None => (None, None),
        };
        Ok(Udp {
            socket,
            token,
            local,
            remote,
            lookup,
            held: VecDeque::new(),
            follow_peer,
            out: VecDeque::new(),
            queued: 0,
            cost: 0,
            throttled: false,
            buf: vec![0; RECV_BUFFER].into_boxed_slice(),
            waker,
            recv_buffer,
            kernel_dropped,
        })
    }

    /// What replies may still cost: the one queue's room, less the delayed replies waiting.
    fn room(&self, ctx: &Ctx) -> usize {
        MAX_QUEUED.saturating_sub(self.cost + ctx.auto.delayed_cost())
    }

    /// Answers the messages held for room; `false` while some still are (nothing is read meanwhile).
    fn answer_held(&mut self, ctx: &mut Ctx) -> bool {
        for peer in ctx.auto.holding() {
            let room = self.room(ctx);
            for reply in ctx.auto.answer_held(peer, &mut ctx.outbox, room) {
                self.queue_reply(ctx, peer, reply);
            }
        }
        ctx.auto.holding().is_empty()
    }

    fn queue_reply(&mut self, ctx: &mut Ctx, peer: SocketAddr, reply: Reply) {
        if let Err(e) = self.reply(ctx, peer, reply) {
            ctx.error(e);
        }
    }

    fn receive(&mut self, ctx: &mut Ctx) {
        for _ in 0..DATAGRAMS_PER_TURN {
            if ctx.auto.answers() && (self.room(ctx) == 0 || !self.answer_held(ctx)) {
                self.throttled = true;
                if self.out.is_empty() {
                    ctx.parked.push(self.token);
                }
                return;
            }
            if ctx.rx_paused(None) {
                ctx.parked.push(self.token);
                return;
            }
            match self.socket.recv_from(&mut self.buf) {
                Ok((n, peer)) => {
                    let peer = platform::canonical(peer);
                    let room = self.room(ctx);
                    for reply in ctx.received(self.local, peer, &self.buf[..n], false, room) {
                        self.queue_reply(ctx, peer, reply);
                    }
                    if self.follow_peer && self.remote != Some(peer) {
                        self.remote = Some(peer);
                        ctx.emit(EventKind::RemoteChanged { remote: peer });
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted || platform::is_stale_udp_reset(&e) => {}
                Err(source) => {
                    ctx.error(NetError::Receive {
                        addr: self.local,
                        source,
                    });
                    return;
                }
            }
        }
        ctx.unread.push(self.token);
    }

    /// Adds what the kernel dropped since the last look. It counts whether or not anything is read after the
    /// drops (a burst's tail), so a look after each turn of the loop and one at the end miss nothing.
    fn count_drops(&mut self, ctx: &mut Ctx) {
        let Some(last) = self.kernel_dropped else {
            return;
        };
        if let Some(now) = platform::udp_drops(&self.socket) {
            // A running count of the kernel's (wrapping at u32): what is new since the last look.
            ctx.counters.add_kernel_dropped(now.wrapping_sub(last));
            self.kernel_dropped = Some(now);
        }
    }

    /// Takes the lookup's answer, if it is in, and sends what waited for it.
    fn check_lookup(&mut self, ctx: &mut Ctx) {
        let Some(answer) = self.lookup.as_ref().and_then(Lookup::answer) else {
            return;
        };
        self.lookup = None;
        match answer {
            Ok(addrs) => {
                // Prefer an address of the socket's own family.
                let same_family = addrs.iter().find(|a| a.is_ipv6() == self.local.is_ipv6());
                if let Some(&addr) = same_family.or(addrs.first()) {
                    self.remote = Some(addr);
                    ctx.emit(EventKind::RemoteChanged { remote: addr });
                }
            }
            // The remote stays what it was: what waited goes there, or fails as any send without a remote.
            Err(e) => ctx.error(e),
        }
        for out in std::mem::take(&mut self.held) {
            self.queued -= out.bytes.len();
            self.cost -= message_cost(out.bytes.len());
            if let Err(e) = self.send(ctx, Target::Default, out.bytes, out.report) {
                ctx.error(e);
            }
        }
    }

    fn flush(&mut self, ctx: &mut Ctx) {
        let (queued, cost) = (&mut self.queued, &mut self.cost);
        datagrams::send_queued(ctx, &self.socket, self.local, self.token, &mut self.out, |_, len, _| {
            *queued -= len;
            *cost -= message_cost(len);
        });
        if self.throttled && self.cost < MAX_QUEUED / 2 {
            self.throttled = false;
            ctx.unread.push(self.token);
        }
    }
}

impl Udp {
    /// Queues a datagram to `dest` if it fits one and, when `bounded`, the queue has room for it.
    fn enqueue(&mut self, ctx: &mut Ctx, dest: SocketAddr, out: Outgoing, bounded: bool) -> Result<(), NetError> {
        if out.bytes.len() > max_datagram(dest) {
            return Err(NetError::DatagramTooLarge {
                addr: dest,
                len: out.bytes.len(),
            });
        }
        let cost = message_cost(out.bytes.len());
        if bounded && self.cost > 0 && self.cost + cost > MAX_QUEUED {
            return Err(NetError::SendQueueFull {
                addr: dest,
                queued: self.queued,
            });
        }
        self.queued += out.bytes.len();
        self.cost += cost;
        self.out.push_back((dest, out));
        self.flush(ctx);
        Ok(())
    }
}

impl Transport for Udp {
    fn ready(&mut self, ctx: &mut Ctx, _token: Token, readable: bool, writable: bool) {
        if writable {
            self.flush(ctx);
        }
        if readable {
            self.receive(ctx);
        }
    }

    fn send(&mut self, ctx: &mut Ctx, to: Target, bytes: Bytes, report: bool) -> Result<(), NetError> {
        if to == Target::Default && self.lookup.is_some() {
            if self.cost + message_cost(bytes.len()) > MAX_QUEUED {
                return Err(NetError::NoPeer(Nobody::StillResolving));
            }
            self.queued += bytes.len();
            self.cost += message_cost(bytes.len());
            self.held.push_back(Outgoing { bytes, report });
            return Ok(());
        }
        let dest = match to {
            Target::Peer(addr) => addr,
            Target::Default => self.remote.ok_or(NetError::NoPeer(Nobody::NoRemote))?,
            Target::Upstream(_) => return Err(NetError::NoPeer(Nobody::UpstreamNeedsRelay)),
        };
        self.enqueue(ctx, dest, Outgoing { bytes, report }, true)
    }

    fn reply(&mut self, ctx: &mut Ctx, peer: SocketAddr, reply: Reply) -> Result<(), NetError> {
        self.enqueue(ctx, peer, reply.into(), false)
    }

    fn queued(&self, _to: Target) -> usize {
        self.queued
    }

    /// A name is resolved off the worker; a newer remote replaces a lookup still running.
    fn set_remote(&mut self, ctx: &mut Ctx, remote: &str) -> Result<(), NetError> {
        self.lookup = Some(Lookup::start(remote, &self.waker));
        self.check_lookup(ctx);
        Ok(())
    }

    fn membership(&mut self, group: Group, join: bool) -> Result<(), NetError> {
        membership(&self.socket, group, join)
    }

    /// Every turn of the loop, a paused one too (it comes back every few ms while the consumer catches up).
    fn tick(&mut self, ctx: &mut Ctx, _now: std::time::Instant) {
        self.check_lookup(ctx);
        self.count_drops(ctx);
    }

    fn last_counts(&mut self, ctx: &mut Ctx) {
        self.count_drops(ctx);
    }

    fn file_chunk(&self) -> usize {
        MAX_DATAGRAM
    }
}

/// IPv4 groups use the default interface, as `Group` says; IPv6 ones the group's own.
fn membership(socket: &UdpSocket, group: Group, join: bool) -> Result<(), NetError> {
    let done = match (group.addr, join) {
        (IpAddr::V4(addr), true) => socket.join_multicast_v4(&addr, &Ipv4Addr::UNSPECIFIED),
        (IpAddr::V4(addr), false) => socket.leave_multicast_v4(&addr, &Ipv4Addr::UNSPECIFIED),
        (IpAddr::V6(addr), true) => socket.join_multicast_v6(&addr, group.interface),
        (IpAddr::V6(addr), false) => socket.leave_multicast_v6(&addr, group.interface),
    };
    done.map_err(|source| {
        let group = group.addr;
        if join {
            NetError::Join { group, source }
        } else {
            NetError::Leave { group, source }
        }
    })
}
