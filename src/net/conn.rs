//! One TCP connection with its outgoing queue; shared by the server (many) and the client (one).
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::Token;
use mio::net::TcpStream;

use super::auto::Reply;
use super::outbox::Outbox;
use super::transport::Ctx;
use super::{Bytes, Counters, EventKind, LeaveReason, NetError};

/// How much one read of a TCP stream takes at most.
pub(super) const READ_BUFFER: usize = 1024 * 1024;

/// A peer's outgoing queue: while this much waits to be written to it, that peer is not read (its echoes stop
/// growing the queue, TCP slows it down), and a send into it that would pass the bound is refused whole.
pub(super) const MAX_QUEUED: usize = 4 * 1024 * 1024;
/// Across all peers: past this, only peers owed nothing are read, so many slow readers stay bounded too.
const MAX_QUEUED_TOTAL: usize = 64 * 1024 * 1024;
/// What such a peer reads at a time while the total is past its bound: never starved, but a thousand of them add
/// 64 MiB at most, not a full read buffer each.
const READ_PAST_TOTAL: usize = 64 * 1024;
/// Reads per turn before other sockets and commands get theirs.
const READS_PER_TURN: usize = 16;
/// A half-closed peer stays writable this long after the consumer took its last bytes: time to reply.
const REPLY_GRACE: Duration = Duration::from_millis(200);
/// How often to look whether the consumer has taken them.
const LOOK_AGAIN: Duration = Duration::from_millis(10);
/// The longest a half-closed peer with nothing queued or owed stays open, however slow the consumer. A delayed
/// reply owed to it keeps it open until written: a half-close is not a leave (the reply's delay, an hour at most by
/// `rules::MAX_DELAY_MS`, bounds that wait).
const MAX_LINGER: Duration = Duration::from_secs(5);

pub(super) struct Outgoing {
    pub bytes: Bytes,
    /// Report a `Sent` event when written (file chunks report progress instead).
    pub report: bool,
}

impl From<Reply> for Outgoing {
    fn from(reply: Reply) -> Outgoing {
        Outgoing {
            bytes: reply.bytes,
            report: reply.report,
        }
    }
}

pub(super) struct Conn {
    pub stream: TcpStream,
    pub token: Token,
    /// Our end of the connection, as the OS says (the pcap's source or destination).
    pub local: SocketAddr,
    pub peer: SocketAddr,
    out: VecDeque<Outgoing>,
    written: usize,
    queued: usize,
    /// Not read because its queue is full; `write` reads it again once the queue has drained to half.
    throttled: bool,
    /// On end of stream, keep writing instead of going: a server's request-reply peers half-close.
    keep_half_open: bool,
    eof: Option<Eof>,
    /// This peer's own exact RX/TX bytes, shared with the consumer through `PeerJoined`.
    pub counters: Arc<Counters>,
}

/// A peer that has half-closed: nothing more to read, but replies can still go.
struct Eof {
    at: Instant,
    /// The batch of events that carries the peer's last bytes (see `Outbox::mark`).
    mark: u64,
    /// When the consumer was first seen to have taken that batch.
    taken: Option<Instant>,
}

/// What became of a connection after reading or writing.
pub(super) enum Status {
    Open,
    Gone(LeaveReason, Option<NetError>),
}

/// Where a half-closed connection stands.
pub(super) enum Linger {
    /// Still writing what is queued (or not half-closed at all).
    Writing,
    /// Waiting for a reply from the consumer until then.
    Until(Instant),
    /// Time to close.
    Over,
}

impl Conn {
    pub fn new(stream: TcpStream, token: Token, local: SocketAddr, peer: SocketAddr) -> Self {
        Conn {
            stream,
            token,
            local,
            peer,
            out: VecDeque::new(),
            written: 0,
            queued: 0,
            throttled: false,
            keep_half_open: false,
            eof: None,
            counters: Arc::default(),
        }
    }

    pub fn keep_half_open(mut self) -> Self {
        self.keep_half_open = true;
        self
    }

    pub fn half_closed(&self) -> bool {
        self.eof.is_some()
    }

    /// For a half-closed peer: closes once its queue is written, the delayed replies owed to it (the last due at
    /// `owed`) are sent, and the consumer had its chance to reply.
    pub fn linger(&mut self, outbox: &Outbox, owed: Option<Instant>, now: Instant) -> Linger {
        let Some(eof) = &mut self.eof else {
            return Linger::Writing;
        };
        if !self.out.is_empty() {
            return Linger::Writing;
        }
        if eof.taken.is_none() && outbox.taken(eof.mark) {
            eof.taken = Some(now);
        }
        // Looked at again once the last is due: the automation's turn sends it then, and its queue holds it.
        if let Some(due) = owed {
            return Linger::Until(due);
        }
        let give_up = eof.at + MAX_LINGER;
        let due = match eof.taken {
            Some(taken) => (taken + REPLY_GRACE).min(give_up),
            None => give_up,
        };
        if now >= due {
            Linger::Over
        } else if eof.taken.is_some() {
            Linger::Until(due)
        } else {
            Linger::Until((now + LOOK_AGAIN).min(due))
        }
    }

    pub fn queued(&self) -> usize {
        self.queued
    }

    /// Reads until the socket is drained, the turn is over, or back-pressure says stop.
    pub fn read(&mut self, ctx: &mut Ctx, buf: &mut [u8]) -> Status {
        if self.eof.is_some() {
            return Status::Open;
        }
        for _ in 0..READS_PER_TURN {
            if !self.may_read(ctx, MAX_QUEUED) {
                // No wake-up comes for data already waiting: `write` puts it back on `unread` when it drains.
                self.throttled = true;
                return Status::Open;
            }
            if ctx.rx_paused(Some(self.peer)) {
                ctx.parked.push(self.token);
                return Status::Open;
            }
            let room = if ctx.queued_total < MAX_QUEUED_TOTAL {
                buf.len()
            } else {
                READ_PAST_TOTAL.min(buf.len())
            };
            match self.stream.read(&mut buf[..room]) {
                Ok(0) if self.keep_half_open => {
                    for reply in ctx.stream_ended(self.peer) {
                        if let Status::Gone(reason, error) = self.push(ctx, reply.into()) {
                            return Status::Gone(reason, error);
                        }
                    }
                    self.eof = Some(Eof {
                        at: Instant::now(),
                        mark: ctx.outbox.mark(),
                        taken: None,
                    });
                    return Status::Open;
                }
                Ok(0) => return Status::Gone(LeaveReason::Closed, None),
                Ok(n) => {
                    self.counters.add_rx(n);
                    // Replies are never refused: reading stops while the queue is full, so it holds one read's
                    // replies more at most.
                    for reply in ctx.received(self.local, self.peer, &buf[..n], true) {
                        if let Status::Gone(reason, error) = self.push(ctx, reply.into()) {
                            return Status::Gone(reason, error);
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Status::Open,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.failed(e, |addr, source| NetError::Receive { addr, source }),
            }
        }
        ctx.unread.push(self.token);
        Status::Open
    }

    pub fn queue(&mut self, ctx: &mut Ctx, out: Outgoing) -> Result<Status, NetError> {
        // One send bigger than the bound still goes into an empty queue: its bytes are in memory already.
        if !out.bytes.is_empty() && self.queued > 0 && self.queued + out.bytes.len() > MAX_QUEUED {
            return Err(NetError::SendQueueFull {
                addr: self.peer,
                queued: self.queued,
            });
        }
        Ok(self.push(ctx, out))
    }

    /// Queues `out` and writes what it can. Sends and rule replies both come here: a stream has nothing to send
    /// for no bytes (and `write(&[])` returning 0 would look like a dead peer), so an empty one is done at once.
    fn push(&mut self, ctx: &mut Ctx, out: Outgoing) -> Status {
        if out.bytes.is_empty() {
            return Status::Open;
        }
        self.queued += out.bytes.len();
        ctx.enqueued(out.bytes.len());
        self.out.push_back(out);
        self.write(ctx)
    }

    /// Reading adds echoes to the queue: only while it has room, and the total too (or this peer is owed nothing).
    fn may_read(&self, ctx: &Ctx, limit: usize) -> bool {
        self.queued < limit && (self.queued == 0 || ctx.queued_total < MAX_QUEUED_TOTAL)
    }

    /// Takes this connection's queue out of the session's total: it is closing.
    pub fn release(&mut self, ctx: &mut Ctx) {
        let _ = ctx.registry.deregister(&mut self.stream);
        ctx.dequeued(self.queued);
        self.queued = 0;
        self.out.clear();
    }

    /// Writes what is queued until the socket would block; the next writable event continues.
    pub fn write(&mut self, ctx: &mut Ctx) -> Status {
        while let Some(front) = self.out.front() {
            if ctx.tx_paused() {
                ctx.parked.push(self.token);
                break;
            }
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
                    ctx.wrote(self.local, self.peer, &front.bytes, self.written..self.written + n);
                    self.counters.add_tx(n);
                    self.written += n;
                    self.queued -= n;
                    ctx.dequeued(n);
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
        // Half the room back before reading again, so a slow reader is not read a sliver at a time.
        if self.throttled && self.may_read(ctx, MAX_QUEUED / 2) {
            self.throttled = false;
            ctx.unread.push(self.token);
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
