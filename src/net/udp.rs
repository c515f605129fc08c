//! UDP: one socket; a remote to send to, follow-peer, broadcast and multicast.
use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};

use mio::net::UdpSocket;
use mio::{Interest, Token};
use socket2::{Domain, Protocol, Socket, Type};

use super::conn::{MAX_QUEUED, Outgoing};
use super::worker::{Ctx, Transport};
use super::{Bytes, EventKind, Group, MAX_DATAGRAM, NetError, Target, describe, platform};

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
    /// A hostname still to resolve; done on the worker thread, never the caller's.
    unresolved: Option<String>,
    follow_peer: bool,
    out: VecDeque<(SocketAddr, Outgoing)>,
    queued: usize,
    buf: Box<[u8]>,
}

impl Udp {
    pub fn bind(
        ctx: &mut Ctx,
        bind: SocketAddr,
        remote: Option<String>,
        follow_peer: bool,
        broadcast: bool,
        groups: &[Group],
    ) -> Result<Self, NetError> {
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
        if bind.is_ipv6() && bind.ip().is_unspecified() {
            let _ = socket.set_only_v6(false);
        }
        let _ = socket.set_recv_buffer_size(SOCKET_BUFFER);
        let _ = socket.set_send_buffer_size(SOCKET_BUFFER);
        if broadcast {
            socket.set_broadcast(true).map_err(option("SO_BROADCAST"))?;
        }
        socket.bind(&bind.into()).map_err(error)?;
        for group in groups {
            let joined = match group.addr {
                IpAddr::V4(addr) => socket.join_multicast_v4(&addr, &Ipv4Addr::UNSPECIFIED),
                IpAddr::V6(addr) => socket.join_multicast_v6(&addr, group.interface),
            };
            joined.map_err(|source| NetError::Join {
                group: group.addr,
                source,
            })?;
        }
        socket.set_nonblocking(true).map_err(error)?;
        let socket = std::net::UdpSocket::from(socket);
        let local = socket.local_addr().map_err(error)?;
        let mut socket = UdpSocket::from_std(socket);
        let token = ctx.token();
        ctx.registry
            .register(&mut socket, token, Interest::READABLE | Interest::WRITABLE)
            .map_err(error)?;
        ctx.emit(EventKind::Ready { local });
        let (remote, unresolved) = match remote.as_deref().map(str::parse::<SocketAddr>) {
            Some(Ok(addr)) => (Some(addr), None),
            Some(Err(_)) => (None, remote),
            None => (None, None),
        };
        Ok(Udp {
            socket,
            token,
            local,
            remote,
            unresolved,
            follow_peer,
            out: VecDeque::new(),
            queued: 0,
            buf: vec![0; RECV_BUFFER].into_boxed_slice(),
        })
    }

    pub fn local(&self) -> SocketAddr {
        self.local
    }

    fn receive(&mut self, ctx: &mut Ctx) {
        for _ in 0..DATAGRAMS_PER_TURN {
            if ctx.rx_paused() {
                ctx.unread.push(self.token);
                return;
            }
            match self.socket.recv_from(&mut self.buf) {
                Ok((n, peer)) => {
                    let peer = platform::canonical(peer);
                    ctx.received(peer, &self.buf[..n], false);
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

    fn flush(&mut self, ctx: &mut Ctx) {
        while let Some((to, out)) = self.out.front() {
            match self
                .socket
                .send_to(&out.bytes, platform::reachable_from(self.local, *to))
            {
                Ok(n) => {
                    ctx.counters.add_tx(n);
                    if out.report {
                        ctx.emit(EventKind::Sent {
                            peer: *to,
                            bytes: out.bytes.clone(),
                        });
                    }
                    self.queued -= out.bytes.len();
                    self.out.pop_front();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => {
                    // A datagram that cannot go is reported and dropped; the next one may well go.
                    ctx.error(NetError::Send { addr: *to, source });
                    self.queued -= out.bytes.len();
                    self.out.pop_front();
                }
            }
        }
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
        let dest = match to {
            Target::Peer(addr) => addr,
            Target::Default => self.remote.ok_or(NetError::NoPeer(
                "no remote address: set one, or wait for a peer to send first",
            ))?,
        };
        if bytes.len() > MAX_DATAGRAM {
            return Err(NetError::DatagramTooLarge {
                addr: dest,
                len: bytes.len(),
            });
        }
        if self.queued + bytes.len() > MAX_QUEUED {
            return Err(NetError::SendQueueFull {
                addr: dest,
                queued: self.queued,
            });
        }
        self.queued += bytes.len();
        self.out.push_back((dest, Outgoing { bytes, report }));
        self.flush(ctx);
        Ok(())
    }

    fn queued(&self, _to: Target) -> usize {
        self.queued
    }

    fn set_remote(&mut self, ctx: &mut Ctx, remote: &str) -> Result<(), NetError> {
        let resolve_error = |reason| NetError::Resolve {
            host: remote.to_owned(),
            reason,
        };
        let addrs = remote.to_socket_addrs().map_err(|e| resolve_error(describe(&e)))?;
        let mut addrs = addrs.collect::<Vec<_>>();
        // Prefer an address of the socket's own family.
        addrs.sort_by_key(|a| a.is_ipv6() != self.local.is_ipv6());
        let addr = *addrs
            .first()
            .ok_or_else(|| resolve_error("no addresses found".into()))?;
        self.remote = Some(addr);
        ctx.emit(EventKind::RemoteChanged { remote: addr });
        Ok(())
    }

    fn tick(&mut self, ctx: &mut Ctx, _now: std::time::Instant) {
        if let Some(host) = self.unresolved.take()
            && let Err(e) = self.set_remote(ctx, &host)
        {
            ctx.error(e);
        }
    }

    fn deadline(&self) -> Option<std::time::Instant> {
        self.unresolved.as_ref().map(|_| std::time::Instant::now())
    }

    fn file_chunk(&self) -> usize {
        MAX_DATAGRAM
    }
}
