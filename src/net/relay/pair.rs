//! One client of a relay and its own connection to the upstream: bytes read from one leg are queued to the
//! other, a FIN becomes a shutdown of writing on the other leg, and a leg is read only while what it sends has
//! room on the other leg, so a slow reader slows its peer down through TCP.
use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::Token;
use mio::net::TcpStream;

use super::super::auto::Reply;
use super::super::conn::{Conn, MAX_QUEUED, MAX_QUEUED_TOTAL, Outgoing, READ_PAST_TOTAL, READS_PER_TURN, Status};
use super::super::message::message_cost;
use super::super::tls::ReadError;
use super::super::transport::Ctx;
use super::super::{Bytes, LeaveReason, NetError, Nobody};
use super::failed;
use super::filter::{Filter, Verdict};
use crate::codec::framing::{Framer, Message};

/// Bytes a rule let through, waiting for their time (a delay) or for room on the leg they go to.
struct Held {
    due: Instant,
    bytes: Bytes,
}

/// One side of a pair.
pub(super) struct Leg {
    pub conn: Conn,
    /// What the consumer and the automation call it: the client's address, or the relay's end of the upstream
    /// connection.
    pub key: SocketAddr,
    /// Its peer has finished sending (FIN read).
    ended: bool,
    /// Writing to it has been shut down (the other leg's FIN passed on).
    shut: bool,
    /// Not read while what it sends has no room; read again once there is half a queue of it.
    throttled: bool,
    /// With rules: its stream cut into messages.
    framer: Option<Framer>,
    /// With rules: what its messages became on their way to the other leg, in order.
    held: VecDeque<Held>,
    /// With rules: their answers back to it, by when they are due (a delayed answer holds back no message).
    answers: VecDeque<Held>,
    /// Bytes in `held` and `answers`.
    held_bytes: usize,
}

impl Leg {
    pub fn new(mut conn: Conn, key: SocketAddr, filter: Option<&Filter>) -> Leg {
        conn.key = key;
        Leg {
            conn,
            key,
            ended: false,
            shut: false,
            throttled: false,
            framer: filter.map(Filter::framer),
            held: VecDeque::new(),
            answers: VecDeque::new(),
            held_bytes: 0,
        }
    }

    /// Both ways are over: its FIN was read and ours was sent.
    fn done(&self) -> bool {
        self.ended && self.shut
    }

    /// Everything it sent has gone on (or been dropped): nothing is cut, held or waiting for its framing.
    fn drained(&self) -> bool {
        self.held.is_empty()
            && self.answers.is_empty()
            && self.framer.as_ref().is_none_or(|framer| framer.pending() == 0)
    }

    /// A read of it may take this much: what `to`'s queue has room for, less what it holds already.
    fn room(&self, ctx: &Ctx, to: &Leg) -> usize {
        // By cost, as `Conn::queue` counts: a read of `room` bytes is one more message.
        let queued = to.conn.cost() + self.held_bytes;
        if ctx.queued_total < MAX_QUEUED_TOTAL {
            MAX_QUEUED.saturating_sub(message_cost(queued))
        } else if queued == 0 {
            // Past the bound of all queues together: a little at a time, and only towards an empty queue.
            READ_PAST_TOTAL
        } else {
            0
        }
    }

    /// What replies to it may still cost before its own queue is full (delayed ones owed to it count).
    fn reply_room(&self, ctx: &Ctx) -> usize {
        MAX_QUEUED.saturating_sub(self.conn.queued() + ctx.auto.owed_cost(self.key))
    }

    /// When the first thing it holds is due, if that is later than `now`.
    pub fn due_after(&self, now: Instant) -> Option<Instant> {
        let held = [&self.held, &self.answers]
            .into_iter()
            .filter_map(|queue| queue.front().map(|held| held.due).filter(|&due| due > now));
        held.chain(self.framer.as_ref().and_then(Framer::deadline)).min()
    }

    /// It holds something that time may let go.
    fn waits(&self) -> bool {
        !self.held.is_empty()
            || !self.answers.is_empty()
            || self.framer.as_ref().is_some_and(|framer| framer.deadline().is_some())
    }

    fn hold(&mut self, due: Instant, back: bool, bytes: Bytes) {
        self.held_bytes += bytes.len();
        let held = Held { due, bytes };
        if back {
            // After those due no later: answers due at the same time keep their order.
            let at = self.answers.partition_point(|answer| answer.due <= due);
            self.answers.insert(at, held);
        } else {
            self.held.push_back(held);
        }
    }
}

/// The upstream side of a pair.
pub(super) enum Upstream {
    Connecting {
        stream: TcpStream,
        token: Token,
        addr: SocketAddr,
        deadline: Instant,
        /// Addresses still to try, the next last.
        rest: Vec<SocketAddr>,
    },
    Open(Box<Leg>),
    /// Only while being replaced.
    Gone,
}

/// Why a pair ended.
pub(super) struct End {
    pub reason: LeaveReason,
    pub error: Option<NetError>,
}

impl End {
    fn of(status: Status) -> Result<(), End> {
        match status {
            Status::Open => Ok(()),
            Status::Gone(reason, error) => Err(End { reason, error }),
        }
    }

    fn queued(queued: Result<Status, NetError>) -> Result<(), End> {
        match queued {
            Ok(status) => End::of(status),
            Err(error) => Err(End {
                reason: LeaveReason::Error,
                error: Some(error),
            }),
        }
    }
}

pub(super) struct Pair {
    pub client: Leg,
    pub upstream: Upstream,
}

impl Pair {
    pub fn upstream_token(&self) -> Option<Token> {
        match &self.upstream {
            Upstream::Connecting { token, .. } => Some(*token),
            Upstream::Open(leg) => Some(leg.conn.token),
            Upstream::Gone => None,
        }
    }

    /// The leg `key` names, once the pair is open.
    pub fn leg_mut(&mut self, key: SocketAddr) -> Option<&mut Leg> {
        if self.client.key == key {
            return Some(&mut self.client);
        }
        match &mut self.upstream {
            Upstream::Open(leg) if leg.key == key => Some(&mut **leg),
            _ => None,
        }
    }

    /// A readiness event on one of the open pair's legs: writes what waits for it, then reads it into the other.
    /// `Err` once the pair is over, both ways closed (`LeaveReason::Closed`) or one leg failed.
    pub fn ready(
        &mut self,
        ctx: &mut Ctx,
        token: Token,
        ready: (bool, bool),
        filter: Option<&mut Filter>,
        buf: &mut [u8],
    ) -> Result<(), End> {
        let Upstream::Open(upstream) = &mut self.upstream else {
            // The client is read only once there is somewhere to send what it says.
            return Ok(());
        };
        let upstream: &mut Leg = upstream;
        let to_upstream = token == self.client.conn.token;
        let (from, to) = if to_upstream {
            (&mut self.client, upstream)
        } else {
            (upstream, &mut self.client)
        };
        let (readable, writable) = ready;
        if writable {
            End::of(from.conn.write(ctx))?;
        }
        if readable {
            pump(ctx, from, to, Flow { filter, to_upstream }, buf)?;
        }
        self.settle(ctx, Instant::now(), None)
    }

    /// Moves on what is due and has room, passes on FINs whose data has all gone, and wakes a leg that has room
    /// again. With `filter`: messages whose gap has passed are cut first.
    pub fn settle(&mut self, ctx: &mut Ctx, now: Instant, mut filter: Option<&mut Filter>) -> Result<(), End> {
        let Upstream::Open(upstream) = &mut self.upstream else {
            return Ok(());
        };
        let upstream: &mut Leg = upstream;
        for to_upstream in [true, false] {
            let (from, to) = if to_upstream {
                (&mut self.client, &mut *upstream)
            } else {
                (&mut *upstream, &mut self.client)
            };
            if let (Some(filter), Some(framer)) = (filter.as_deref_mut(), &mut from.framer)
                && let Some(message) = framer.expire(now)
            {
                judge(ctx, from, &message, filter, to_upstream, now);
            }
            forward_held(ctx, from, to, now)?;
            to.shut_when_written(ctx, from.ended && from.drained())?;
            if from.throttled && from.room(ctx, to) >= MAX_QUEUED / 2 {
                from.throttled = false;
                ctx.unread.push(from.conn.token);
            }
        }
        if self.client.done() && matches!(&self.upstream, Upstream::Open(leg) if leg.done()) {
            return Err(End {
                reason: LeaveReason::Closed,
                error: None,
            });
        }
        Ok(())
    }

    /// The name of its upstream leg, once connected.
    pub fn upstream_key(&self) -> Result<SocketAddr, NetError> {
        match &self.upstream {
            Upstream::Open(leg) => Ok(leg.key),
            _ => Err(NetError::NoPeer(Nobody::NotConnected)),
        }
    }

    /// Bytes for the leg `key` names from the consumer (a send box).
    pub fn send(&mut self, ctx: &mut Ctx, key: SocketAddr, out: Outgoing) -> Result<Result<(), End>, NetError> {
        let Some(leg) = self.leg_mut(key) else {
            return Err(NetError::UnknownPeer { addr: key });
        };
        Ok(End::of(leg.conn.queue(ctx, out)?))
    }

    /// A reset or a failure on one leg becomes a reset on the other: a RST is sent when the sockets close.
    pub fn reset_on_close(&self) {
        let upstream = match &self.upstream {
            Upstream::Open(leg) => Some(&**leg),
            _ => None,
        };
        for leg in std::iter::once(&self.client).chain(upstream) {
            let _ = socket2::SockRef::from(&leg.conn.stream).set_linger(Some(Duration::ZERO));
        }
    }

    /// Something held or cut by time is waiting for its time.
    pub fn waits(&self) -> bool {
        match &self.upstream {
            Upstream::Open(upstream) => self.client.waits() || upstream.waits(),
            _ => false,
        }
    }

    /// When something held or cut by time is next due.
    pub fn due_after(&self, now: Instant) -> Option<Instant> {
        let Upstream::Open(upstream) = &self.upstream else {
            return None;
        };
        [self.client.due_after(now), upstream.due_after(now)]
            .into_iter()
            .flatten()
            .min()
    }
}

impl Leg {
    /// Passes the other leg's FIN (or close_notify) on once everything before it is written.
    fn shut_when_written(&mut self, ctx: &mut Ctx, other_ended: bool) -> Result<(), End> {
        if other_ended && !self.shut && self.conn.queued() == 0 {
            self.shut = true;
            return End::of(self.conn.shutdown_write(ctx));
        }
        Ok(())
    }
}

/// Which way a read goes, and the rules it passes.
struct Flow<'a> {
    filter: Option<&'a mut Filter>,
    to_upstream: bool,
}

/// Reads `from` on to `to` until `from` is drained, its turn is over, or what it sends has no room.
fn pump(ctx: &mut Ctx, from: &mut Leg, to: &mut Leg, mut flow: Flow, buf: &mut [u8]) -> Result<(), End> {
    if from.ended {
        return Ok(());
    }
    for _ in 0..READS_PER_TURN {
        let asked = from.room(ctx, to).min(buf.len()).min(ctx.outbox.read_cap());
        if asked == 0 {
            // No wake-up comes for data already waiting: `settle` puts it back on `unread`.
            from.throttled = true;
            return Ok(());
        }
        if ctx.rx_paused(Some(from.key)) {
            ctx.parked.push(from.conn.token);
            return Ok(());
        }
        match from.conn.read_socket(ctx, &mut buf[..asked]) {
            Ok(0) => {
                from.ended = true;
                let replies = ctx.stream_ended(from.key, from.reply_room(ctx));
                answer(ctx, from, replies)?;
                if let (Some(filter), Some(rest)) = (flow.filter, from.framer.as_mut().and_then(Framer::finish)) {
                    judge(ctx, from, &rest, filter, flow.to_upstream, Instant::now());
                }
                return Ok(());
            }
            Ok(n) => {
                from.conn.counters.add_rx(n);
                let data = &buf[..n];
                let room = from.reply_room(ctx);
                let replies = from.conn.received(ctx, data, room);
                answer(ctx, from, replies)?;
                match (flow.filter.as_deref_mut(), from.framer.as_mut()) {
                    (Some(filter), Some(framer)) => {
                        let now = Instant::now();
                        let mut messages = Vec::new();
                        framer.push(data, now, &mut messages);
                        for message in &messages {
                            judge(ctx, from, message, filter, flow.to_upstream, now);
                        }
                        forward_held(ctx, from, to, now)?;
                    }
                    _ => End::queued(to.conn.queue(
                        ctx,
                        Outgoing {
                            bytes: data.into(),
                            report: false,
                        },
                    ))?,
                }
                if from.conn.drained(ctx, asked, n) {
                    return End::of(from.conn.tls_done(ctx));
                }
            }
            // What a TLS handshake has to say goes out now.
            Err(ReadError::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => return End::of(from.conn.tls_done(ctx)),
            Err(ReadError::Io(e)) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(ReadError::Io(e)) => return Err(read_failed(from.conn.peer, e)),
            Err(ReadError::Tls(reason)) => {
                let error = from.conn.tls_failed(reason);
                // Said for the client: the upstream's address is the same for every pair.
                return Err(match flow.to_upstream {
                    true => End {
                        reason: LeaveReason::Error,
                        error: Some(error),
                    },
                    false => failed(to.key, error),
                });
            }
        }
    }
    ctx.unread.push(from.conn.token);
    End::of(from.conn.tls_done(ctx))
}

/// Holds what the rules make of a message from `from`, in order.
fn judge(ctx: &mut Ctx, from: &mut Leg, message: &Message, filter: &mut Filter, to_upstream: bool, now: Instant) {
    let (verdict, trouble) = filter.verdict(message, from.key, to_upstream, now);
    if let Some(event) = trouble {
        ctx.emit(event);
    }
    match verdict {
        Verdict::Forward(bytes, due) => from.hold(due, false, bytes),
        Verdict::Answer(bytes, due) => from.hold(due, true, bytes),
        Verdict::Nothing => {}
    }
}

/// Queues what `from` holds, each queue in order, while it is due and its leg has room: messages on to `to`,
/// answers back to `from`.
fn forward_held(ctx: &mut Ctx, from: &mut Leg, to: &mut Leg, now: Instant) -> Result<(), End> {
    release(ctx, &mut from.held, &mut from.held_bytes, &mut to.conn, now)?;
    release(ctx, &mut from.answers, &mut from.held_bytes, &mut from.conn, now)
}

fn release(
    ctx: &mut Ctx,
    queue: &mut VecDeque<Held>,
    held_bytes: &mut usize,
    conn: &mut Conn,
    now: Instant,
) -> Result<(), End> {
    while let Some(front) = queue.front() {
        let full = conn.cost() > 0 && conn.cost() + message_cost(front.bytes.len()) > MAX_QUEUED;
        if front.due > now || full {
            return Ok(());
        }
        let Some(held) = queue.pop_front() else {
            return Ok(());
        };
        *held_bytes -= held.bytes.len();
        End::queued(conn.queue(
            ctx,
            Outgoing {
                bytes: held.bytes,
                report: false,
            },
        ))?;
    }
    Ok(())
}

/// Queues the automation's replies to the leg that was read.
fn answer(ctx: &mut Ctx, leg: &mut Leg, replies: Vec<Reply>) -> Result<(), End> {
    for reply in replies {
        match leg.conn.queue(ctx, reply.into()) {
            Ok(status) => End::of(status)?,
            // A reply that does not fit is the rule's trouble, not the pair's: reported, the bytes go on.
            Err(error) => ctx.error(error),
        }
    }
    Ok(())
}

fn read_failed(peer: SocketAddr, error: io::Error) -> End {
    match error.kind() {
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted | io::ErrorKind::BrokenPipe => End {
            reason: LeaveReason::Reset,
            error: None,
        },
        _ => End {
            reason: LeaveReason::Error,
            error: Some(NetError::Receive {
                addr: peer,
                source: error,
            }),
        },
    }
}
