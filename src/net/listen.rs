//! A TCP listener on the poll, shared by the kinds that accept connections (TCP server, relay): binding, and
//! accepting with the failures that must not end the session (out of file descriptors, a client that gave up).
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Interest, Token};
use socket2::{Domain, Protocol, Socket, Type};

use super::transport::Ctx;
use super::{EventKind, NetError, platform};

const BACKLOG: i32 = 1024;
/// How soon to accept again after accepting failed (out of file descriptors, …).
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// One accepted connection, registered on the poll for reading and writing.
pub(super) struct Accepted {
    pub stream: TcpStream,
    pub token: Token,
    /// Our end: a listener on 0.0.0.0 or [::] talks from one real address per client.
    pub local: SocketAddr,
    pub peer: SocketAddr,
}

pub(super) struct Listener {
    listener: TcpListener,
    pub token: Token,
    pub local: SocketAddr,
    /// Set while accepting fails: when to try again. Clients keep waiting in the backlog meanwhile.
    accept_at: Option<Instant>,
    /// The current run of accept failures has been reported (once, not once per attempt).
    accept_reported: bool,
}

impl Listener {
    /// Binds and listens, and tells the consumer it is `Ready`.
    pub fn bind(ctx: &mut Ctx, listen: SocketAddr) -> Result<Listener, NetError> {
        let error = |source| NetError::Listen { addr: listen, source };
        let socket = Socket::new(Domain::for_address(listen), Type::STREAM, Some(Protocol::TCP)).map_err(error)?;
        platform::reuse_listen_port(&socket).map_err(error)?;
        if listen.is_ipv6() && listen.ip().is_unspecified() {
            // `[::]` takes IPv4 clients too where the system allows it.
            let _ = socket.set_only_v6(false);
        }
        socket.bind(&listen.into()).map_err(error)?;
        socket.listen(BACKLOG).map_err(error)?;
        socket.set_nonblocking(true).map_err(error)?;
        let listener = std::net::TcpListener::from(socket);
        let local = listener.local_addr().map_err(error)?;
        let mut listener = TcpListener::from_std(listener);
        let token = ctx.token();
        ctx.registry
            .register(&mut listener, token, Interest::READABLE)
            .map_err(error)?;
        ctx.emit(EventKind::Ready { local });
        Ok(Listener {
            listener,
            token,
            local,
            accept_at: None,
            accept_reported: false,
        })
    }

    /// The next waiting client; `None` once none waits (or accepting failed: it is tried again at `deadline`).
    /// With `open` peers already and `max` allowed, a client past it is closed at once and reported refused.
    pub fn accept(&mut self, ctx: &mut Ctx, open: usize, max: Option<usize>) -> Option<Accepted> {
        loop {
            let (mut stream, peer) = match self.listener.accept() {
                Ok(accepted) => accepted,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    // The backlog is empty: whatever failed before has passed.
                    self.accept_at = None;
                    self.accept_reported = false;
                    return None;
                }
                // A client that gave up before being accepted: the next one may be waiting.
                Err(e) if matches!(e.kind(), io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted) => continue,
                // The listener is edge-triggered and will not wake us for clients already waiting: retry on a timer.
                Err(source) => {
                    self.failed(ctx, source);
                    self.accept_at = Some(Instant::now() + ACCEPT_RETRY);
                    return None;
                }
            };
            let peer = platform::canonical(peer);
            if max.is_some_and(|max| open >= max) {
                drop(stream);
                ctx.emit(EventKind::PeerRefused { peer });
                continue;
            }
            let local = stream.local_addr().map_or(self.local, platform::canonical);
            let _ = stream.set_nodelay(true);
            let token = ctx.token();
            match ctx
                .registry
                .register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
            {
                Ok(()) => {
                    return Some(Accepted {
                        stream,
                        token,
                        local,
                        peer,
                    });
                }
                Err(source) => self.failed(ctx, source),
            }
        }
    }

    fn failed(&mut self, ctx: &mut Ctx, source: io::Error) {
        if !self.accept_reported {
            self.accept_reported = true;
            ctx.error(NetError::Accept {
                addr: self.local,
                source,
            });
        }
    }

    /// A connection was closed: its descriptor may be all a failing accept needs.
    pub fn freed(&mut self) {
        if self.accept_at.is_some() {
            self.accept_at = Some(Instant::now());
        }
    }

    /// Accepting failed and its retry is due.
    pub fn retry_due(&self, now: Instant) -> bool {
        self.accept_at.is_some_and(|at| now >= at)
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.accept_at
    }
}
