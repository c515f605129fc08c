//! One client of a relay and its own connection to the upstream: bytes read from one leg are queued to the
//! other, a FIN becomes a shutdown of writing on the other leg, and a leg is read only while the other leg's
//! queue has room, so a slow reader slows its peer down through TCP.
use std::io::{self, Read};
use std::net::{Shutdown, SocketAddr};
use std::time::{Duration, Instant};

use mio::Token;
use mio::net::TcpStream;

use super::super::auto::Reply;
use super::super::conn::{Conn, MAX_QUEUED, MAX_QUEUED_TOTAL, Outgoing, READ_PAST_TOTAL, READS_PER_TURN, Status};
use super::super::transport::Ctx;
use super::super::{LeaveReason, NetError};

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
    /// Not read while the other leg's queue is full; read again once that has drained to half.
    throttled: bool,
}

impl Leg {
    pub fn new(conn: Conn, key: SocketAddr) -> Leg {
        Leg {
            conn,
            key,
            ended: false,
            shut: false,
            throttled: false,
        }
    }

    /// Both ways are over: its FIN was read and ours was sent.
    fn done(&self) -> bool {
        self.ended && self.shut
    }

    /// Passes the other leg's FIN on once everything before it is written.
    fn shut_when_written(&mut self, other_ended: bool) {
        if other_ended && !self.shut && self.conn.queued() == 0 {
            self.shut = true;
            // A peer that is already gone is found out by the next read or write.
            let _ = self.conn.stream.shutdown(Shutdown::Write);
        }
    }

    /// A read of it may take this much: what the other leg's queue has room for.
    fn room(ctx: &Ctx, to: &Leg) -> usize {
        let queued = to.conn.queued();
        if ctx.queued_total < MAX_QUEUED_TOTAL {
            MAX_QUEUED.saturating_sub(queued)
        } else if queued == 0 {
            // Past the bound of all queues together: a little at a time, and only towards an empty queue.
            READ_PAST_TOTAL
        } else {
            0
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
    Open(Leg),
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
            Upstream::Open(leg) if leg.key == key => Some(leg),
            _ => None,
        }
    }

    /// A readiness event on one of the open pair's legs: writes what waits for it, then reads it into the other.
    /// `Err` once the pair is over, both ways closed (`LeaveReason::Closed`) or one leg failed.
    pub fn ready(
        &mut self,
        ctx: &mut Ctx,
        token: Token,
        readable: bool,
        writable: bool,
        buf: &mut [u8],
    ) -> Result<(), End> {
        let Upstream::Open(upstream) = &mut self.upstream else {
            // The client is read only once there is somewhere to send what it says.
            return Ok(());
        };
        let (from, to) = if token == self.client.conn.token {
            (&mut self.client, upstream)
        } else {
            (upstream, &mut self.client)
        };
        if writable {
            End::of(from.conn.write(ctx))?;
            after_write(ctx, from, to);
        }
        if readable {
            pump(ctx, from, to, buf)?;
        }
        if self.client.done() && matches!(&self.upstream, Upstream::Open(leg) if leg.done()) {
            return Err(End {
                reason: LeaveReason::Closed,
                error: None,
            });
        }
        Ok(())
    }

    /// Bytes for the leg `key` names from the consumer (a send box, a rule's reply).
    pub fn send(&mut self, ctx: &mut Ctx, key: SocketAddr, out: Outgoing) -> Result<Result<(), End>, NetError> {
        let Some(leg) = self.leg_mut(key) else {
            return Err(NetError::UnknownPeer { addr: key });
        };
        Ok(End::of(leg.conn.queue(ctx, out)?))
    }

    /// A reset or a failure on one leg becomes a reset on the other: a RST is sent when the sockets close.
    pub fn reset_on_close(&self) {
        let legs = [
            Some(&self.client),
            match &self.upstream {
                Upstream::Open(leg) => Some(leg),
                _ => None,
            },
        ];
        for leg in legs.into_iter().flatten() {
            let _ = socket2::SockRef::from(&leg.conn.stream).set_linger(Some(Duration::ZERO));
        }
    }
}

/// After `leg` was written to: the FIN it owes may go now, and the leg that fills its queue may be read again.
fn after_write(ctx: &mut Ctx, leg: &mut Leg, other: &mut Leg) {
    leg.shut_when_written(other.ended);
    if other.throttled && leg.conn.queued() <= MAX_QUEUED / 2 {
        other.throttled = false;
        ctx.unread.push(other.conn.token);
    }
}

/// Reads `from` into `to`'s queue until `from` is drained, its turn is over, or `to` has no room.
fn pump(ctx: &mut Ctx, from: &mut Leg, to: &mut Leg, buf: &mut [u8]) -> Result<(), End> {
    if from.ended {
        return Ok(());
    }
    for _ in 0..READS_PER_TURN {
        let room = Leg::room(ctx, to).min(buf.len());
        if room == 0 {
            // No wake-up comes for data already waiting: `after_write` puts it back on `unread`.
            from.throttled = true;
            return Ok(());
        }
        if ctx.rx_paused(Some(from.key)) {
            ctx.parked.push(from.conn.token);
            return Ok(());
        }
        match from.conn.stream.read(&mut buf[..room]) {
            Ok(0) => {
                from.ended = true;
                let replies = ctx.stream_ended(from.key);
                answer(ctx, from, replies)?;
                to.shut_when_written(true);
                return Ok(());
            }
            Ok(n) => {
                from.conn.counters.add_rx(n);
                let data = &buf[..n];
                let replies = ctx.received_as(from.conn.local, from.conn.peer, from.key, data, true);
                answer(ctx, from, replies)?;
                let out = Outgoing {
                    bytes: data.into(),
                    report: false,
                };
                match to.conn.queue(ctx, out) {
                    Ok(status) => End::of(status)?,
                    // `room` keeps the queue within its bound, so this is not expected; said, not swallowed.
                    Err(error) => {
                        return Err(End {
                            reason: LeaveReason::Error,
                            error: Some(error),
                        });
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(read_failed(from.conn.peer, e)),
        }
    }
    ctx.unread.push(from.conn.token);
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
