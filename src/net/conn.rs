//! One TCP connection with its outgoing queue; shared by the server (many) and the client (one).
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::SocketAddr;

use mio::Token;
use mio::net::TcpStream;

use super::worker::Ctx;
use super::{Bytes, EventKind, LeaveReason, NetError};

/// A peer that does not read gets no more than this queued for it.
pub(super) const MAX_QUEUED: usize = 64 * 1024 * 1024;
/// Reads per turn before other sockets and commands get theirs.
const READS_PER_TURN: usize = 16;

pub(super) struct Outgoing {
    pub bytes: Bytes,
    /// Report a `Sent` event when written (file chunks report progress instead).
    pub report: bool,
}

pub(super) struct Conn {
    pub stream: TcpStream,
    pub token: Token,
    pub peer: SocketAddr,
    out: VecDeque<Outgoing>,
    written: usize,
    queued: usize,
}

/// What became of a connection after reading or writing.
pub(super) enum Status {
    Open,
    Gone(LeaveReason, Option<NetError>),
}

impl Conn {
    pub fn new(stream: TcpStream, token: Token, peer: SocketAddr) -> Self {
        Conn {
            stream,
            token,
            peer,
            out: VecDeque::new(),
            written: 0,
            queued: 0,
        }
    }

    pub fn queued(&self) -> usize {
        self.queued
    }

    /// Reads until the socket is drained, the turn is over, or back-pressure says stop.
    pub fn read(&mut self, ctx: &mut Ctx, buf: &mut [u8]) -> Status {
        for _ in 0..READS_PER_TURN {
            if ctx.rx_paused() {
                ctx.unread.push(self.token);
                return Status::Open;
            }
            match self.stream.read(buf) {
                Ok(0) => return Status::Gone(LeaveReason::Closed, None),
                Ok(n) => ctx.received(self.peer, &buf[..n], true),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Status::Open,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.failed(e, |addr, source| NetError::Receive { addr, source }),
            }
        }
        ctx.unread.push(self.token);
        Status::Open
    }

    pub fn queue(&mut self, ctx: &mut Ctx, out: Outgoing) -> Result<Status, NetError> {
        // A stream has nothing to send for no bytes (and `write(&[])` returning 0 would look like a dead peer).
        if out.bytes.is_empty() {
            return Ok(Status::Open);
        }
        if self.queued + out.bytes.len() > MAX_QUEUED {
            return Err(NetError::SendQueueFull {
                addr: self.peer,
                queued: self.queued,
            });
        }
        self.queued += out.bytes.len();
        self.out.push_back(out);
        Ok(self.write(ctx))
    }

    /// Writes what is queued until the socket would block; the next writable event continues.
    pub fn write(&mut self, ctx: &mut Ctx) -> Status {
        while let Some(front) = self.out.front() {
            match self.stream.write(&front.bytes[self.written..]) {
                Ok(0) => {
                    let source = io::Error::from(io::ErrorKind::WriteZero);
                    return Status::Gone(
                        LeaveReason::Error,
                        Some(NetError::Send {
                            addr: self.peer,
                            source,
                        }),
                    );
                }
                Ok(n) => {
                    ctx.counters.add_tx(n);
                    self.written += n;
                    self.queued -= n;
                    if self.written == front.bytes.len() {
                        if front.report {
                            ctx.outbox.push(EventKind::Sent {
                                peer: self.peer,
                                bytes: front.bytes.clone(),
                            });
                        }
                        self.out.pop_front();
                        self.written = 0;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.failed(e, |addr, source| NetError::Send { addr, source }),
            }
        }
        Status::Open
    }

    fn failed(&self, error: io::Error, op: fn(SocketAddr, io::Error) -> NetError) -> Status {
        match error.kind() {
            io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted | io::ErrorKind::BrokenPipe => {
                Status::Gone(LeaveReason::Reset, None)
            }
            _ => Status::Gone(LeaveReason::Error, Some(op(self.peer, error))),
        }
    }
}
