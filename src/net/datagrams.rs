//! The send loop of a socket that sends datagrams to many addresses (UDP, and a UDP relay towards its clients).
use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;

use mio::Token;
use mio::net::UdpSocket;

use super::conn::Outgoing;
use super::transport::Ctx;
use super::{EventKind, NetError, platform};

/// Sends the queued datagrams from `socket` (bound to `local`) until it would block or sending is paused (then
/// `token` waits to be resumed). `gone` hears of each datagram that left the queue: its address, its length, and
/// whether it went (one that cannot go is reported and dropped; the next one may well go).
pub(super) fn send_queued(
    ctx: &mut Ctx,
    socket: &UdpSocket,
    local: SocketAddr,
    token: Token,
    queue: &mut VecDeque<(SocketAddr, Outgoing)>,
    mut gone: impl FnMut(SocketAddr, usize, bool),
) {
    while let Some((to, out)) = queue.front() {
        if ctx.tx_paused() {
            ctx.parked.push(token);
            return;
        }
        let went = match socket.send_to(&out.bytes, platform::reachable_from(local, *to)) {
            Ok(n) => {
                ctx.wrote(local, *to, &out.bytes, 0..n);
                if out.report {
                    ctx.emit(EventKind::Sent {
                        peer: *to,
                        bytes: out.bytes.clone(),
                    });
                }
                true
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(source) => {
                ctx.error(NetError::Send { addr: *to, source });
                false
            }
        };
        gone(*to, out.bytes.len(), went);
        queue.pop_front();
    }
}
