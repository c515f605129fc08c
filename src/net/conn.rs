//! One TCP connection with its outgoing queue; shared by the server (many) and the client (one).
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::Token;
use mio::net::TcpStream;

use super::auto::{Answerer, Reply};
use super::message::message_cost;
use super::outbox::Outbox;
use super::tls::{Heard, ReadError, TlsFailure, TlsLayer};
use super::transport::Ctx;
use super::{Bytes, Counters, EventKind, LeaveReason, NetError};

/// How much one read of a TCP stream takes at most.
pub(super) const READ_BUFFER: usize = 1024 * 1024;

/// A peer's outgoing queue, by cost (`message_cost`; the delayed replies owed to it count too): while this much
/// waits to be written to it, that peer is not read (its echoes stop growing the queue, TCP slows it down), rules
/// make no more replies to it, and a send into it that would pass the bound is refused whole.
pub(super) const MAX_QUEUED: usize = 4 * 1024 * 1024;

/// Across all peers: past this, only peers owed nothing are read, so many slow readers stay bounded too.
pub(super) const MAX_QUEUED_TOTAL: usize = 64 * 1024 * 1024;
/// What such a peer reads at a time while the total is past its bound: never starved, but a thousand of them add
/// 64 MiB at most, not a full read buffer each.
pub(super) const READ_PAST_TOTAL: usize = 64 * 1024;
/// Reads per turn before other sockets and commands get theirs.
pub(super) const READS_PER_TURN: usize = 16;
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
    /// What its `Sent` events call it: its peer, or a relay's name for its upstream leg (see `Ctx::received_as`).
    pub key: SocketAddr,
    out: VecDeque<Outgoing>,
    written: usize,
    /// Bytes waiting to be written.
    queued: usize,
    /// What the messages in `out` cost (`message_cost`): what the bounds count.
    cost: usize,
    /// Not read because its queue is full; `write` reads it again once the queue has drained to half.
    throttled: bool,
    /// On end of stream, keep writing instead of going: a server's request-reply peers half-close.
    keep_half_open: bool,
    eof: Option<Eof>,
    /// This peer's own exact RX/TX bytes, shared with the consumer through `PeerJoined`.
    pub counters: Arc<Counters>,
    /// TLS on this connection: what is queued, read and counted is the plaintext.
    tls: Option<Box<TlsLayer>>,
    /// Writing is to be shut down once the TLS records before the FIN (a close_notify) are written.
    fin_pending: bool,
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
            key: peer,
            out: VecDeque::new(),
            written: 0,
            queued: 0,
            cost: 0,
            throttled: false,
            keep_half_open: false,
            eof: None,
            counters: Arc::default(),
            tls: None,
            fin_pending: false,
        }
    }

    pub fn with_tls(mut self, layer: TlsLayer) -> Self {
        self.tls = Some(Box::new(layer));
        self
    }

    pub fn keep_half_open(mut self) -> Self {
        self.keep_half_open = true;
        self
    }

    pub fn half_closed(&self) -> bool {
        self.eof.is_some()
    }

    /// For a half-closed peer: closes once its queue is written and nobody may answer it any more: the rules'
    /// held and delayed replies are sent, and a script or the consumer had its chance to reply.
    pub fn linger(&mut self, outbox: &Outbox, answerer: Answerer, now: Instant) -> Linger {
        let Some(eof) = &mut self.eof else {
            return Linger::Writing;
        };
        if !self.out.is_empty() {
            return Linger::Writing;
        }
        if eof.taken.is_none() && outbox.taken(eof.mark) {
            eof.taken = Some(now);
        }
        match answerer {
            // Nothing left to receive: no reason to keep its socket (and state) a moment longer.
            Answerer::Nobody => return Linger::Over,
            Answerer::Rules => return Linger::Writing,
            // Looked at again once the last is due: the automation's turn sends it then, and its queue holds it.
            Answerer::Delayed(due) => return Linger::Until(due),
            Answerer::Someone => {}
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

    /// What its queue costs (`message_cost` of each message): what the bound in `queue` counts.
    pub fn cost(&self) -> usize {
        self.cost
    }

    /// Reads until the socket is drained, the turn is over, or back-pressure says stop. Messages held for room
    /// in the queue are answered first: the stream is read on only once they are.
    pub fn read(&mut self, ctx: &mut Ctx, buf: &mut [u8]) -> Status {
        if let Err(status) = self.answer_held(ctx) {
            return status;
        }
        if self.eof.is_some() || ctx.auto.holds(self.peer) {
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
            let asked = if ctx.queued_total < MAX_QUEUED_TOTAL {
                buf.len()
            } else {
                READ_PAST_TOTAL.min(buf.len())
            }
            .min(ctx.outbox.read_cap());
            match self.read_socket(ctx, &mut buf[..asked]) {
                Ok(0) if self.keep_half_open => {
                    let replies = ctx.stream_ended(self.peer, self.room(ctx));
                    self.eof = Some(Eof {
                        at: Instant::now(),
                        mark: ctx.outbox.mark(),
                        taken: None,
                    });
                    return self.push_replies(ctx, replies);
                }
                Ok(0) => return Status::Gone(LeaveReason::Closed, None),
                Ok(n) => {
                    self.counters.add_rx(n);
                    let room = self.room(ctx);
                    let replies = self.received(ctx, &buf[..n], room);
                    if let Status::Gone(reason, error) = self.push_replies(ctx, replies) {
                        return Status::Gone(reason, error);
                    }
                    if ctx.auto.holds(self.peer) {
                        return self.wait_for_room(ctx);
                    }
                    if self.drained(ctx, asked, n) {
                        return self.tls_done(ctx);
                    }
                }
                Err(ReadError::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => return self.tls_done(ctx),
                Err(ReadError::Io(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(ReadError::Io(e)) => return self.failed(e, |addr, source| NetError::Receive { addr, source }),
                Err(ReadError::Tls(reason)) => return Status::Gone(LeaveReason::Error, Some(self.tls_failed(reason))),
            }
        }
        ctx.unread.push(self.token);
        self.tls_done(ctx)
    }

    /// Bytes just read from it (the plaintext, for TLS) to the automation, capture and pcap, under its `key`; a TLS
    /// connection's pcap has its records instead (`tls_wire`).
    pub fn received(&self, ctx: &mut Ctx, data: &[u8], room: usize) -> Vec<Reply> {
        match self.tls {
            None => ctx.received_as(self.local, self.peer, self.key, data, true, room),
            Some(_) => ctx.received_decrypted(self.local, self.peer, self.key, data, room),
        }
    }

    /// Its TLS session failed, and why.
    pub fn tls_failed(&self, reason: TlsFailure) -> NetError {
        NetError::Tls {
            addr: self.peer,
            reason,
        }
    }

    /// Its TLS handshake did not finish within `timeout`: what the peer sent meanwhile, in words.
    pub fn handshake_timed_out(&self, timeout: Duration) -> NetError {
        self.tls_failed(TlsFailure::Timeout {
            millis: timeout.as_millis(),
            heard: self.tls_heard(),
        })
    }

    /// Ends our sending: a TLS connection's close_notify goes first, then the FIN once every record before it is
    /// written (`write` finishes it when the socket was full).
    pub fn shutdown_write(&mut self, ctx: &mut Ctx) -> Status {
        if let Some(tls) = &mut self.tls {
            tls.close_notify();
        }
        self.fin_pending = true;
        self.write(ctx)
    }

    /// A plain read of `got` bytes where `asked` had room emptied the socket (`Ctx::short_read_drains`). Not
    /// through TLS: a record may give less plaintext than the socket held.
    pub fn drained(&self, ctx: &Ctx, asked: usize, got: usize) -> bool {
        ctx.short_read_drains && self.tls.is_none() && got < asked
    }

    /// Plaintext from the socket (through TLS when there is a layer).
    pub fn read_socket(&mut self, ctx: &mut Ctx, buf: &mut [u8]) -> Result<usize, ReadError> {
        let Some(tls) = &mut self.tls else {
            return self.stream.read(buf).map_err(ReadError::Io);
        };
        tls.recording = ctx.pcap.is_some();
        let read = tls.read(&mut self.stream, buf);
        if let Some(handshake) = tls.finished(self.local, self.peer) {
            ctx.emit(EventKind::TlsHandshake(Arc::new(handshake)));
        }
        self.tls_wire(ctx);
        read
    }

    /// A TLS handshake is under way.
    pub fn handshaking(&self) -> bool {
        self.tls.as_ref().is_some_and(|tls| tls.handshaking())
    }

    /// What the peer of a TLS connection has sent so far, in words.
    fn tls_heard(&self) -> Heard {
        self.tls.as_ref().map_or(Heard::Nothing, |tls| tls.heard())
    }

    /// A TLS connection's secrets and records go to the pcap, after each read and write.
    fn tls_wire(&mut self, ctx: &mut Ctx) {
        if let Some(tls) = &mut self.tls {
            let wire = tls.take_wire();
            ctx.tls_wire(self.local, self.peer, wire);
        }
    }

    /// After reading TLS: what the handshake has to say goes out, and, once it is done, the queued plaintext.
    pub fn tls_done(&mut self, ctx: &mut Ctx) -> Status {
        if self.tls.is_some() {
            self.write(ctx)
        } else {
            Status::Open
        }
    }

    /// What replies to this peer may still cost before its queue is full (delayed ones owed to it count).
    fn room(&self, ctx: &Ctx) -> usize {
        MAX_QUEUED.saturating_sub(self.cost + ctx.auto.owed_cost(self.peer))
    }

    /// Answers the messages held for room, as far as there is room; `Err` when the peer is gone meanwhile.
    fn answer_held(&mut self, ctx: &mut Ctx) -> Result<(), Status> {
        if !ctx.auto.holds(self.peer) {
            return Ok(());
        }
        let room = self.room(ctx);
        let replies = ctx.auto.answer_held(self.peer, &mut ctx.outbox, room);
        if let Status::Gone(reason, error) = self.push_replies(ctx, replies) {
            return Err(Status::Gone(reason, error));
        }
        if ctx.auto.holds(self.peer) {
            self.wait_for_room(ctx);
        }
        Ok(())
    }

    /// Messages are held: `write` reads on once the queue has drained, and with nothing to write (the session's
    /// delayed replies are what is full) the worker looks again shortly.
    fn wait_for_room(&mut self, ctx: &mut Ctx) -> Status {
        self.throttled = true;
        if self.out.is_empty() {
            ctx.parked.push(self.token);
        }
        Status::Open
    }

    fn push_replies(&mut self, ctx: &mut Ctx, replies: Vec<Reply>) -> Status {
        for reply in replies {
            if let Status::Gone(reason, error) = self.push(ctx, reply.into()) {
                return Status::Gone(reason, error);
            }
        }
        Status::Open
    }

    pub fn queue(&mut self, ctx: &mut Ctx, out: Outgoing) -> Result<Status, NetError> {
        // One send bigger than the bound still goes into an empty queue: its bytes are in memory already.
        if !out.bytes.is_empty() && self.cost > 0 && self.cost + message_cost(out.bytes.len()) > MAX_QUEUED {
            return Err(NetError::SendQueueFull {
                addr: self.peer,
                queued: self.queued,
            });
        }
        Ok(self.push(ctx, out))
    }

    /// A rule's reply: its room was taken when it was made (see `room`), so the bound does not refuse it.
    pub fn reply(&mut self, ctx: &mut Ctx, reply: Reply) -> Status {
        self.push(ctx, reply.into())
    }

    /// Queues `out` and writes what it can. Sends and rule replies both come here: a stream has nothing to send
    /// for no bytes (and `write(&[])` returning 0 would look like a dead peer), so an empty one is done at once.
    fn push(&mut self, ctx: &mut Ctx, out: Outgoing) -> Status {
        if out.bytes.is_empty() {
            return Status::Open;
        }
        let cost = message_cost(out.bytes.len());
        self.queued += out.bytes.len();
        self.cost += cost;
        ctx.enqueued(cost);
        self.out.push_back(out);
        self.write(ctx)
    }

    /// Reading adds echoes to the queue: only while it has room, and the total too (or this peer is owed nothing).
    fn may_read(&self, ctx: &Ctx, limit: usize) -> bool {
        self.cost + ctx.auto.owed_cost(self.peer) < limit && (self.cost == 0 || ctx.queued_total < MAX_QUEUED_TOTAL)
    }

    /// Takes this connection's queue out of the session's total: it is closing. A TLS peer gets its close_notify
    /// (and the pcap its record) first.
    pub fn release(&mut self, ctx: &mut Ctx) {
        if let Some(tls) = &mut self.tls {
            tls.close_notify();
            tls.recording = ctx.pcap.is_some();
            // Best effort: a peer that is gone or does not read gets the FIN alone.
            let _ = tls.flush(&mut self.stream);
            self.tls_wire(ctx);
        }
        let _ = ctx.registry.deregister(&mut self.stream);
        ctx.dequeued(self.cost);
        self.queued = 0;
        self.cost = 0;
        self.out.clear();
    }

    /// Writes what is queued until the socket would block; the next writable event continues.
    pub fn write(&mut self, ctx: &mut Ctx) -> Status {
        // TLS records of their own (a handshake, the rest of a record) go first, queue or not.
        if let Some(tls) = &mut self.tls {
            tls.recording = ctx.pcap.is_some();
            if let Err(e) = tls.flush(&mut self.stream) {
                return self.failed(e, |addr, source| NetError::Send { addr, source });
            }
        }
        let status = self.write_queue(ctx);
        self.tls_wire(ctx);
        if self.fin_pending && self.tls.as_ref().is_none_or(|tls| !tls.wants_write()) {
            self.fin_pending = false;
            // A peer that is already gone is found out by the next read or write.
            let _ = self.stream.shutdown(Shutdown::Write);
        }
        status
    }

    fn write_queue(&mut self, ctx: &mut Ctx) -> Status {
        while let Some(front) = self.out.front() {
            if ctx.tx_paused() {
                ctx.parked.push(self.token);
                break;
            }
            let rest = &front.bytes[self.written..];
            let wrote = match &mut self.tls {
                None => self.stream.write(rest),
                Some(tls) => tls.write(&mut self.stream, rest),
            };
            match wrote {
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
                    match self.tls {
                        None => ctx.wrote(self.local, self.peer, &front.bytes, self.written..self.written + n),
                        Some(_) => ctx.wrote_encrypted(n),
                    }
                    self.counters.add_tx(n);
                    self.written += n;
                    self.queued -= n;
                    if self.written == front.bytes.len() {
                        // Its memory goes with the entry, so its cost does too.
                        let cost = message_cost(front.bytes.len());
                        self.cost -= cost;
                        ctx.dequeued(cost);
                        if front.report {
                            ctx.outbox.push(EventKind::Sent {
                                peer: self.key,
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

/// A connection closed without `release` (the session ended: its transport is dropped) still ends its TLS
/// session cleanly.
impl Drop for Conn {
    fn drop(&mut self) {
        if let Some(tls) = &mut self.tls {
            tls.close_notify();
            let _ = tls.flush(&mut self.stream);
        }
    }
}

#[cfg(test)]
mod tests {
    use socket2::{Domain, Socket, Type};

    use super::*;

    /// Finding 7: 2-byte messages to a peer that does not read are bounded by what they cost (~60 bytes each in
    /// memory), not by their payload: 4 MiB of payload was two million entries, over 100 MiB.
    #[test]
    fn tiny_messages_count_what_they_cost_against_the_bound() {
        let (mut ctx, _events, _poll) = Ctx::for_test();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let client = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
        client.set_recv_buffer_size(4096).expect("SO_RCVBUF");
        client
            .connect(&listener.local_addr().expect("addr").into())
            .expect("connect");
        let (server, peer) = listener.accept().expect("accept");
        let server = Socket::from(server);
        // Small kernel buffers both ways: what the peer does not take stays in our queue.
        server.set_send_buffer_size(4096).expect("SO_SNDBUF");
        server.set_nonblocking(true).expect("nonblocking");
        let local = server.local_addr().ok().and_then(|a| a.as_socket()).expect("local");
        let mut conn = Conn::new(TcpStream::from_std(server.into()), Token(1), local, peer);
        let mut accepted = 0;
        let refused = loop {
            let out = Outgoing {
                bytes: Arc::from(&b"ab"[..]),
                report: false,
            };
            match conn.queue(&mut ctx, out) {
                Ok(Status::Open) if accepted < 3_000_000 => accepted += 1,
                Ok(_) => break None,
                Err(error) => break Some(error),
            }
        };
        assert!(matches!(refused, Some(NetError::SendQueueFull { .. })), "{refused:?}");
        assert!(accepted < 100_000, "{accepted} two-byte messages queued");
        assert!(conn.cost <= MAX_QUEUED && ctx.queued_total == conn.cost);
        drop(client);
    }
}
