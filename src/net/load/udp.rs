//! UDP load: N sockets, each connected to the target and sending on its schedule. Replies are matched by the
//! `{seq}` they carry when the payload has one (so loss, duplicates and reordering are seen), else each datagram
//! answers its socket's oldest outstanding message.
use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Instant;

use mio::net::UdpSocket;
use mio::{Interest, Token};

use super::run::{Driver, Run};
use super::stats::Reason;
use crate::net::platform;
use crate::vars::leading_number;

/// Unanswered datagrams one socket remembers; older ones count as lost.
const MAX_OUTSTANDING: usize = 65_536;
/// Datagrams one unpaced socket sends in one turn, so reading and the other sockets get their turn.
const BATCH: usize = 64;
/// Bytes one batch is made of at most (the datagrams past it wait for the next turn).
const BATCH_BYTES: usize = 256 * 1024;
const READ_BUF: usize = 65_536;

struct Sock {
    socket: UdpSocket,
    next: Instant,
    seq: u64,
    /// What a reply starts with before its `{seq}` (`None`: replies are matched oldest first).
    prefix: Option<Vec<u8>>,
    fifo: VecDeque<Instant>,
    by_seq: BTreeMap<u64, Instant>,
    highest: Option<u64>,
    /// Waits for the kernel's send buffer (it was full).
    blocked: bool,
}

pub struct Udp {
    socks: Vec<Option<Sock>>,
    buf: Vec<u8>,
    batch: Batch,
}

impl Udp {
    pub fn new(_run: &Run) -> Udp {
        Udp {
            socks: Vec::new(),
            buf: vec![0; READ_BUF],
            batch: Batch::default(),
        }
    }

    fn open_all(&mut self, run: &mut Run, now: Instant) {
        for index in 0..run.config.connections as usize {
            run.stats.attempted += 1;
            match open(run, index, now) {
                Ok(sock) => {
                    run.stats.connected(now.elapsed(), now - run.started);
                    run.schedule(index, sock.next);
                    self.socks.push(Some(sock));
                }
                Err(error) => {
                    run.stats.failed(Reason::of(&error));
                    self.socks.push(None);
                }
            }
        }
    }

    /// Sends what is due on socket `index` (at most a batch, in one system call where the platform has one), then
    /// puts it back on the schedule. Only what the kernel took is counted; the rest is made again next time.
    fn fill(&mut self, run: &mut Run, index: usize, now: Instant) {
        let Some(sock) = self.socks[index].as_mut() else { return };
        let built = build_batch(&mut self.batch, sock, run, index, now);
        let datagrams: Vec<&[u8]> = self.batch.datagrams().collect();
        let sent = match platform::send_datagrams(&sock.socket, &datagrams) {
            Ok(sent) => sent,
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                sock.blocked = true;
                return;
            }
            // The kernel reports an earlier datagram's ICMP error here; this one is counted as sent.
            Err(error) => {
                run.stats.dropped(Reason::of(&error));
                built.min(1)
            }
        };
        for (datagram, &due) in datagrams.iter().zip(&self.batch.dues).take(sent) {
            run.stats.bytes_sent += datagram.len() as u64;
            remember(sock, run, due);
            sock.seq += 1;
            run.sent_one(&mut sock.next, due, now);
        }
        run.schedule(index, sock.next);
    }

    fn read(&mut self, run: &mut Run, index: usize, now: Instant) {
        let Some(sock) = self.socks[index].as_mut() else { return };
        loop {
            let n = match sock.socket.recv(&mut self.buf) {
                Ok(n) => n,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    run.stats.dropped(Reason::of(&error));
                    continue;
                }
            };
            run.stats.bytes_received += n as u64;
            let seq = sock
                .prefix
                .as_ref()
                .and_then(|prefix| self.buf[..n].strip_prefix(prefix.as_slice()))
                .and_then(leading_number);
            answered(sock, run, seq, now);
        }
    }
}

/// Datagrams made for one send call: their bytes end to end, where each ends, when each was due.
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    dues: Vec<Instant>,
}

impl Batch {
    fn datagrams(&self) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(start, &end)| &self.bytes[start..end])
    }
}

/// Makes the datagrams of `sock` that are due now (at most `BATCH`, about `BATCH_BYTES`, and what the count
/// leaves), numbered from its next `{seq}` on; returns how many.
fn build_batch(batch: &mut Batch, sock: &Sock, run: &mut Run, index: usize, now: Instant) -> usize {
    batch.bytes.clear();
    batch.ends.clear();
    batch.dues.clear();
    let most = run
        .remaining()
        .map_or(BATCH, |left| BATCH.min(usize::try_from(left).unwrap_or(BATCH)));
    let mut next = sock.next;
    while batch.dues.len() < most && batch.bytes.len() < BATCH_BYTES {
        let Some(due) = run.due_at(next, now) else { break };
        let ahead = batch.dues.len() as u64;
        let mut values = run.values(index, sock.seq + ahead);
        values.count += ahead;
        run.config.payload.build(&values, &mut batch.bytes);
        batch.ends.push(batch.bytes.len());
        batch.dues.push(due);
        next = run.after(next);
    }
    batch.dues.len()
}

/// A sent datagram waits for its reply.
fn remember(sock: &mut Sock, run: &mut Run, due: Instant) {
    if sock.prefix.is_none() {
        sock.fifo.push_back(due);
        if sock.fifo.len() > MAX_OUTSTANDING && sock.fifo.pop_front().is_some() {
            lost(run);
        }
        return;
    }
    sock.by_seq.insert(sock.seq, due);
    if sock.by_seq.len() > MAX_OUTSTANDING && sock.by_seq.pop_first().is_some() {
        lost(run);
    }
}

fn lost(run: &mut Run) {
    run.outstanding -= 1;
    run.stats.lost += 1;
    run.stats.timeouts += 1;
}

/// A reply arrived: by its sequence number when it has one, else for the oldest outstanding datagram.
fn answered(sock: &mut Sock, run: &mut Run, seq: Option<u64>, now: Instant) {
    let scheduled = match seq {
        Some(seq) => {
            let Some(scheduled) = sock.by_seq.remove(&seq) else {
                if seq < sock.seq {
                    run.stats.duplicated += 1;
                } else {
                    run.stats.unexpected += 1;
                }
                return;
            };
            if sock.highest.is_some_and(|highest| seq < highest) {
                run.stats.reordered += 1;
            }
            sock.highest = sock.highest.max(Some(seq));
            scheduled
        }
        None if sock.prefix.is_none() => match sock.fifo.pop_front() {
            Some(scheduled) => scheduled,
            None => {
                run.stats.unexpected += 1;
                return;
            }
        },
        None => {
            run.stats.unexpected += 1;
            return;
        }
    };
    run.outstanding -= 1;
    run.stats.reply(now.saturating_duration_since(scheduled));
}

/// A socket of the target's family, connected to it (so only its replies arrive, and ICMP errors are reported).
fn open(run: &Run, index: usize, now: Instant) -> io::Result<Sock> {
    let target = run.config.target;
    let any: SocketAddr = match target {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let mut socket = UdpSocket::bind(any)?;
    socket.connect(target)?;
    run.poll
        .registry()
        .register(&mut socket, Token(index), Interest::READABLE | Interest::WRITABLE)?;
    let values = run.values(index, 0);
    let prefix = run.config.payload.template.seq_prefix(&values);
    Ok(Sock {
        socket,
        next: run.first_due(index, now),
        seq: 0,
        prefix,
        fifo: VecDeque::new(),
        by_seq: BTreeMap::new(),
        highest: None,
        blocked: false,
    })
}

impl Driver for Udp {
    fn turn(&mut self, run: &mut Run, now: Instant) {
        if self.socks.is_empty() {
            self.open_all(run, now);
        }
        for index in run.take_due(now) {
            if self.socks[index].as_ref().is_some_and(|sock| !sock.blocked) {
                self.fill(run, index, now);
            }
        }
    }

    fn event(&mut self, run: &mut Run, event: &mio::event::Event, now: Instant) {
        let index = event.token().0;
        let Some(sock) = self.socks.get_mut(index).and_then(Option::as_mut) else {
            return;
        };
        if event.is_writable() && sock.blocked {
            sock.blocked = false;
            self.fill(run, index, now);
        }
        if event.is_readable() {
            self.read(run, index, now);
        }
    }

    fn next_wake(&self) -> Option<Instant> {
        None
    }

    fn all_gone(&self) -> bool {
        !self.socks.is_empty() && self.socks.iter().all(Option::is_none)
    }

    fn open(&self) -> u64 {
        self.socks.iter().flatten().count() as u64
    }

    fn finish(&mut self, run: &mut Run) {
        for sock in self.socks.iter().flatten() {
            let unanswered = (sock.fifo.len() + sock.by_seq.len()) as u64;
            run.stats.timeouts += unanswered;
            run.stats.lost += unanswered;
        }
    }
}
