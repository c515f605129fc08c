//! What every kind's transport shares with the worker loop: the context it works in (`Ctx`), the trait it
//! implements (`Transport`), and how its `launch` hands it to the loop (`Launcher`).
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use mio::Token;

use super::auto::{Automation, Link, Reply};
use super::caps::ScriptScope;
use super::capture::Capture;
use super::outbox::Outbox;
use super::pcap::Pcap;
use super::spool::Pool;
use super::{Bytes, CloseReason, Counters, EventKind, LeaveReason, NetError, Nobody, Outgoing, RecvBuffer, Target};
use crate::codec::pcapng::Way;

pub(super) const WAKER: Token = Token(0);
/// Batches waiting for the consumer before the worker drops display data (or pauses, when lossless). Each holds up
/// to ~1 MiB of reads, so this bounds what a flood has in flight between the engine and the window (8 measured
/// 15 MiB less peak RSS in a 1 GiB flood than 32, with no loss of printing throughput).
pub(super) const EVENT_BATCHES: usize = 8;
const FILE_CHUNK: usize = 64 * 1024;
/// Outgoing queues past this much in all are a backlog whose memory is handed back to the OS once it is gone.
const BACKLOG: usize = 16 * 1024 * 1024;
/// Spare buffers for the copies of received data the capture and the pcap write.
pub(super) const SPARE_COPIES: usize = 16;

/// What the transports share with the loop.
pub(super) struct Ctx {
    pub outbox: Outbox,
    pub counters: Arc<Counters>,
    pub capture: Option<Capture>,
    pub pcap: Option<Pcap>,
    /// Where the copies for `capture` and `pcap` come from (one copy of a read for both).
    pub copies: Pool,
    pub registry: mio::Registry,
    /// Bytes in every connection's outgoing queue together.
    pub queued_total: usize,
    /// `queued_total` has passed `BACKLOG` since memory was last handed back.
    backlog: bool,
    /// Framing, rules (echo among them) and scripts, run here in the worker: no wait on the consumer.
    pub auto: Automation,
    /// Sockets with data left unread at the end of their turn (or a queue that made room): read again before polling.
    pub unread: Vec<Token>,
    /// Sockets not read (or not written) while the consumer, the capture or the pcap catches up: looked at again
    /// every `RETRY`.
    pub parked: Vec<Token>,
    /// Set once the session is stopping: nothing more is read, what is queued is written out.
    pub stopping: bool,
    /// The readiness being handled says nothing of a close: a read shorter than asked leaves the socket empty, and
    /// the poll says so again when more (or the FIN) comes. Off for sockets looked at again without a new event.
    pub short_read_drains: bool,
    /// The `{seq}` of the session's next send with variables.
    sends: u64,
    /// Tests only (`crate::crash::arm_test_panic`): receiving these bytes panics the worker.
    panic_on: Option<&'static [u8]>,
    next_token: usize,
}

impl Ctx {
    pub fn new(
        outbox: Outbox,
        counters: Arc<Counters>,
        copies: Pool,
        registry: mio::Registry,
        auto: Automation,
    ) -> Ctx {
        Ctx {
            outbox,
            counters,
            capture: None,
            pcap: None,
            copies,
            registry,
            queued_total: 0,
            backlog: false,
            auto,
            unread: Vec::new(),
            parked: Vec::new(),
            stopping: false,
            short_read_drains: false,
            sends: 0,
            panic_on: crate::crash::test_panic_marker(),
            next_token: 0,
        }
    }

    /// Bytes read from `peer` (at our `local` end): counted, captured, handed to the consumer and to the
    /// automation. Returns the replies due now, for the transport to queue to that peer: what they cost stays
    /// within `room` but for the last one (the rest of the messages wait, see `Automation::holds`).
    #[must_use]
    pub fn received(
        &mut self,
        local: SocketAddr,
        peer: SocketAddr,
        data: &[u8],
        coalesce: bool,
        room: usize,
    ) -> Vec<Reply> {
        self.received_as(local, peer, peer, data, coalesce, room)
    }

    /// As `received`, but the consumer and the automation are told the bytes came from `key`: a relay names its
    /// upstream legs by their own local ends, since the upstream's address is the same for every pair.
    #[must_use]
    pub fn received_as(
        &mut self,
        local: SocketAddr,
        peer: SocketAddr,
        key: SocketAddr,
        data: &[u8],
        coalesce: bool,
        room: usize,
    ) -> Vec<Reply> {
        if let Some(marker) = self.panic_on
            && memchr::memmem::find(data, marker).is_some()
        {
            panic!(
                "test hook: {peer} sent the bytes {} names",
                crate::crash::TEST_PANIC_ENV
            );
        }
        self.counters.add_rx(data.len());
        if self.capture.is_some() || self.pcap.is_some() {
            let chunk = self.copies.copy(data);
            if let Some(pcap) = &mut self.pcap {
                pcap.received(local, peer, chunk.clone());
            }
            if let Some(capture) = &mut self.capture {
                capture.push(chunk);
            }
        }
        if self.auto.idle() {
            self.outbox.push_received(key, data, coalesce);
            return Vec::new();
        }
        self.auto.received(key, data, coalesce, &mut self.outbox, room)
    }

    /// A TCP peer half-closed: the message it left unfinished, and its replies (within `room`, as `received`).
    #[must_use]
    pub fn stream_ended(&mut self, peer: SocketAddr, room: usize) -> Vec<Reply> {
        self.auto.stream_ended(peer, &mut self.outbox, room)
    }

    /// The socket took `bytes[range]` for `peer`: counted, and in the pcap.
    pub fn wrote(&mut self, local: SocketAddr, peer: SocketAddr, bytes: &Bytes, range: std::ops::Range<usize>) {
        self.counters.add_tx(range.len());
        if let Some(pcap) = &mut self.pcap {
            pcap.sent(local, peer, bytes, range);
        }
    }

    /// The plaintext of a TLS connection: as `received`, but the pcap has the records as they were on the wire
    /// instead (`tls_wire`).
    #[must_use]
    pub fn received_decrypted(
        &mut self,
        local: SocketAddr,
        peer: SocketAddr,
        key: SocketAddr,
        data: &[u8],
        room: usize,
    ) -> Vec<Reply> {
        let pcap = self.pcap.take();
        let replies = self.received_as(local, peer, key, data, true, room);
        self.pcap = pcap;
        replies
    }

    /// The plaintext a TLS connection's socket took (in records): counted; the pcap gets the records.
    pub fn wrote_encrypted(&mut self, n: usize) {
        self.counters.add_tx(n);
    }

    /// What went over a TLS connection's socket, for the pcap: its new secrets first, then the records read and
    /// written.
    pub fn tls_wire(&mut self, local: SocketAddr, peer: SocketAddr, wire: super::tls::Wire) {
        let Some(pcap) = &mut self.pcap else {
            return;
        };
        if !wire.secrets.is_empty() {
            pcap.secrets(local, peer, wire.secrets);
        }
        if !wire.read.is_empty() {
            pcap.received(local, peer, self.copies.copy(&wire.read));
        }
        if !wire.written.is_empty() {
            let len = wire.written.len();
            pcap.sent(local, peer, &Bytes::from(wire.written), 0..len);
        }
    }

    /// A TCP peer is gone: its framing and its script run end (before its `PeerLeft`); the pcap closes its stream.
    pub fn peer_left(&mut self, local: SocketAddr, peer: SocketAddr, reason: LeaveReason) {
        self.peer_left_as(local, peer, peer, reason);
    }

    /// As `peer_left`, for a peer the automation knows as `key` (see `received_as`).
    pub fn peer_left_as(&mut self, local: SocketAddr, peer: SocketAddr, key: SocketAddr, reason: LeaveReason) {
        self.auto.peer_left(key, &mut self.outbox);
        if let Some(pcap) = &mut self.pcap {
            pcap.left(local, peer, reason);
        }
    }

    /// A TCP peer became reachable (after its `PeerJoined` or `Connected`): a script may start for it, and the
    /// pcap gets its handshake, from whoever opened the connection.
    pub fn peer_joined(&mut self, local: SocketAddr, peer: SocketAddr, scope: ScriptScope, opened_by: Way) {
        if let Some(pcap) = &mut self.pcap {
            pcap.joined(local, peer, opened_by);
        }
        self.auto.peer_joined(peer, scope, &mut self.outbox);
    }

    /// Whether reading `peer` (`None`: any peer) must wait for the consumer, the capture or the pcap to catch up,
    /// or stop for good: the session is stopping.
    pub fn rx_paused(&self, peer: Option<SocketAddr>) -> bool {
        self.stopping
            || self.outbox.is_blocking(peer)
            || self.capture.as_ref().is_some_and(Capture::is_blocked)
            || self.tx_paused()
    }

    /// Whether writing must wait for the pcap to catch up: what goes on the wire must go in the file too, and its
    /// queue is bounded. (Outgoing queues are bounded as well, so waiting sends stay bounded.)
    pub fn tx_paused(&self) -> bool {
        self.pcap.as_ref().is_some_and(Pcap::is_blocked)
    }

    /// Sends `outgoing` to `to`. A template is filled in per send; `{peer}` is the peer it goes to (a relay's
    /// upstream side: its pair's client), or the one peer there is. Sent to every client (or every pair's upstream
    /// side) at once, a template naming `{peer}` is filled in for each (one `{seq}` for them all); one that cannot
    /// take it is reported and the others still get theirs.
    pub fn send(&mut self, outgoing: &Outgoing, to: Target, link: &mut dyn Transport) -> Result<(), NetError> {
        let peers = match to {
            Target::Peer(peer) | Target::Upstream(Some(peer)) => vec![peer],
            _ if outgoing.names_peer() => link.peers(),
            _ => Vec::new(),
        };
        let each: Option<fn(SocketAddr) -> Target> = match to {
            Target::Default => Some(Target::Peer),
            Target::Upstream(None) => Some(|peer| Target::Upstream(Some(peer))),
            Target::Peer(_) | Target::Upstream(Some(_)) => None,
        };
        let Some(each) = each.filter(|_| peers.len() >= 2) else {
            let bytes = outgoing.fill(&mut self.sends, || match peers[..] {
                [peer] => peer.to_string(),
                _ => String::new(),
            });
            return link.send(self, to, bytes, true);
        };
        let seq = self.sends;
        for peer in peers {
            self.sends = seq;
            let bytes = outgoing.fill(&mut self.sends, || peer.to_string());
            if let Err(error) = link.send(self, each(peer), bytes, true) {
                self.error(error);
            }
        }
        Ok(())
    }

    pub fn emit(&mut self, kind: EventKind) {
        self.outbox.push(kind);
    }

    pub fn error(&mut self, error: NetError) {
        self.outbox.push(EventKind::Error(Arc::new(error)));
    }

    pub fn enqueued(&mut self, n: usize) {
        self.queued_total += n;
        self.backlog |= self.queued_total >= BACKLOG;
    }

    pub fn dequeued(&mut self, n: usize) {
        self.queued_total -= n;
        if self.backlog && self.queued_total < BACKLOG / 4 {
            self.backlog = false;
            crate::memory::return_free_memory();
        }
    }

    /// The automation's turn (delayed replies, gap framing, script steps), sending through `transport`.
    pub fn automation_turn(&mut self, transport: &mut dyn Transport, now: Instant) {
        if self.auto.deadline(now).is_none_or(|due| due > now) {
            return;
        }
        // Taken out while the transport (which reaches the context) sends; a peer that leaves meanwhile is told to
        // the empty stand-in, and its run fails at its next send instead.
        let mut auto = std::mem::take(&mut self.auto);
        auto.turn(&mut Wire { ctx: self, transport }, now);
        let stand_in = std::mem::replace(&mut self.auto, auto);
        stand_in.hand_over_gone(&mut self.auto, &mut self.outbox);
    }

    pub fn token(&mut self) -> Token {
        self.next_token += 1;
        Token(self.next_token)
    }
}

#[cfg(test)]
impl Ctx {
    /// A context without sockets, for testing what runs on it (jobs); events arrive on the receiver.
    pub fn for_test() -> (Ctx, crossbeam_channel::Receiver<Vec<super::Event>>, mio::Poll) {
        let poll = mio::Poll::new().expect("poll");
        let (tx, events) = crossbeam_channel::bounded(EVENT_BATCHES);
        let counters = Arc::new(Counters::default());
        let outbox = Outbox::new(
            tx,
            Arc::new(|| {}),
            counters.clone(),
            super::Delivery::Lossless,
            std::time::Duration::ZERO,
            super::ReceivedAs::Bytes,
        );
        let registry = poll.registry().try_clone().expect("registry");
        let ctx = Ctx::new(
            outbox,
            counters,
            Pool::new(SPARE_COPIES),
            registry,
            Automation::default(),
        );
        (ctx, events, poll)
    }
}

/// What differs between the kinds of session: each kind's folder implements it.
pub(super) trait Transport {
    fn ready(&mut self, ctx: &mut Ctx, token: Token, readable: bool, writable: bool);
    /// `report`: emit `Sent` events once written.
    fn send(&mut self, ctx: &mut Ctx, to: Target, bytes: Bytes, report: bool) -> Result<(), NetError>;
    /// A rule's reply to `peer`, its room counted when it was made: not refused for a full queue.
    fn reply(&mut self, ctx: &mut Ctx, peer: SocketAddr, reply: Reply) -> Result<(), NetError> {
        self.send(ctx, Target::Peer(peer), reply.bytes, reply.report)
    }
    /// The most bytes waiting to be written to any peer `to` names, to pace file sends.
    fn queued(&self, to: Target) -> usize;
    /// What is still waiting to be written, by destination; `default` names the default one.
    fn unsent(&self, default: &str) -> Vec<(String, usize)> {
        match self.queued(Target::Default) {
            0 => Vec::new(),
            queued => vec![(default.to_owned(), queued)],
        }
    }
    fn kick(&mut self, _ctx: &mut Ctx, _peer: SocketAddr) -> Result<(), NetError> {
        Err(NetError::NoPeer(Nobody::KickNeedsServer))
    }
    fn set_remote(&mut self, _ctx: &mut Ctx, _remote: &str) -> Result<(), NetError> {
        Err(NetError::NoPeer(Nobody::RemoteNeedsUdp))
    }
    fn membership(&mut self, _group: super::Group, _join: bool) -> Result<(), NetError> {
        Err(NetError::NoPeer(Nobody::GroupsNeedUdp))
    }
    /// Timers: connect timeouts, reconnects. Called every turn of the loop.
    fn tick(&mut self, _ctx: &mut Ctx, _now: Instant) {}
    /// Counts the OS keeps for the session (UDP: its drops), read a last time before its `Closed`.
    fn last_counts(&mut self, _ctx: &mut Ctx) {}
    fn deadline(&self) -> Option<Instant> {
        None
    }
    /// `Some` once the session has ended by itself.
    fn ended(&self) -> Option<CloseReason> {
        None
    }
    /// The TCP peers connected now (a script started now runs against them).
    fn peers(&self) -> Vec<SocketAddr> {
        Vec::new()
    }
    /// The largest piece of a file to send at once (UDP: one datagram).
    fn file_chunk(&self) -> usize {
        FILE_CHUNK
    }
}

/// The context and its transport, as the automation sends through them.
struct Wire<'a> {
    ctx: &'a mut Ctx,
    transport: &'a mut dyn Transport,
}

impl Link for Wire<'_> {
    fn send(&mut self, to: Target, bytes: Bytes, report: bool) -> Result<(), NetError> {
        self.transport.send(self.ctx, to, bytes, report)
    }

    fn reply(&mut self, to: SocketAddr, reply: Reply) -> Result<(), NetError> {
        self.transport.reply(self.ctx, to, reply)
    }

    fn outbox(&mut self) -> &mut Outbox {
        &mut self.ctx.outbox
    }

    fn error(&mut self, error: NetError) {
        self.ctx.error(error);
    }
}

/// What a kind's `launch` tells the loop about the transport it made.
pub(super) struct Started {
    /// The bound address (port 0 resolved); `None` for a client, which has one only once connected.
    pub local: Option<SocketAddr>,
    /// Where `Target::Default` sends go, to name them in errors.
    pub default_to: String,
    /// The worker thread's name.
    pub name: String,
    pub recv_buffer: Option<RecvBuffer>,
}

/// Runs a kind's transport: each kind's `launch` makes its transport and hands it here (the worker implements it),
/// so the kinds depend on this file and not on the loop.
pub(super) trait Launcher {
    type Started;
    /// The waker of the session's poll, for transports with threads of their own (name lookups).
    fn waker(&self) -> Arc<mio::Waker>;
    fn start<T: Transport + Send + 'static>(
        self,
        ctx: Ctx,
        transport: T,
        started: Started,
    ) -> Result<Self::Started, NetError>;
}
