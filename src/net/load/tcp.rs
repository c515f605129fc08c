//! TCP load: non-blocking connects at the connect rate, each connection sending on its schedule; each reply
//! message (as `--frame` cuts them) completes the connection's oldest outstanding message.
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Interest, Token};
use socket2::{Domain, Protocol, Socket, Type};

use super::run::{Driver, Run};
use super::stats::Reason;
use crate::codec::framing::{End, Framer, Framing};
use crate::net::platform;
use crate::net::tcp_client::connect_outcome;

/// Bytes queued for one connection before its generator waits for the kernel to take them.
const OUT_LIMIT: usize = 1 << 20;
/// Unanswered messages one paced connection may have; past it the schedule slips (and shows it).
const MAX_OUTSTANDING: usize = super::MAX_IN_FLIGHT as usize;
/// Unanswered messages of an unpaced connection: it sends the next as replies come back.
const WINDOW: usize = 128;
/// Connects started in one turn, so a run of 100,000 still polls in between.
const OPEN_PER_TURN: usize = 4096;
const READ_BUF: usize = 64 * 1024;

struct Conn {
    stream: TcpStream,
    started: Instant,
    open: bool,
    next: Instant,
    seq: u64,
    /// When each unanswered message was scheduled, oldest first.
    outstanding: VecDeque<Instant>,
    out: Vec<u8>,
    written: usize,
    framer: Framer,
    /// In the run's schedule already.
    scheduled: bool,
}

pub struct Tcp {
    conns: Vec<Option<Conn>>,
    /// Connections opened so far (the next one's number).
    opened: usize,
    open_at: Instant,
    connect_interval: Option<Duration>,
    /// Connects in progress by deadline (the earliest first: they started in order).
    connecting: VecDeque<(Instant, usize)>,
    total: usize,
    live: u64,
    established: u64,
    buf: Vec<u8>,
}

impl Tcp {
    pub fn new(run: &Run) -> Tcp {
        let connect_interval = run
            .config
            .connect_rate
            .and_then(|rate| Duration::try_from_secs_f64(1.0 / rate).ok());
        Tcp {
            conns: Vec::new(),
            opened: 0,
            open_at: run.started,
            connect_interval,
            connecting: VecDeque::new(),
            total: run.config.connections as usize,
            live: 0,
            established: 0,
            buf: vec![0; READ_BUF],
        }
    }

    fn open_due(&mut self, run: &mut Run, now: Instant) {
        let mut this_turn = 0;
        while self.opened < self.total && self.open_at <= now && this_turn < OPEN_PER_TURN && run.may_send(now) {
            let index = self.opened;
            self.opened += 1;
            this_turn += 1;
            if let Some(interval) = self.connect_interval {
                self.open_at = self.open_at.checked_add(interval).unwrap_or(now);
            }
            run.stats.attempted += 1;
            match connect(run, index, now) {
                Ok(conn) => {
                    self.conns.push(Some(conn));
                    self.connecting.push_back((now + run.config.timeout, index));
                    self.live += 1;
                }
                Err(error) => {
                    self.conns.push(None);
                    run.stats.failed(Reason::of(&error));
                }
            }
        }
    }

    fn expire_connects(&mut self, run: &mut Run, now: Instant) {
        while let Some(&(deadline, index)) = self.connecting.front() {
            if deadline > now {
                break;
            }
            self.connecting.pop_front();
            if self.conns[index].as_ref().is_some_and(|conn| !conn.open) {
                self.conns[index] = None;
                self.live -= 1;
                run.stats.failed(Reason::Timeout);
            }
        }
    }

    /// A connect finished one way or the other (or the event was early: nothing happens).
    fn connecting_event(&mut self, run: &mut Run, index: usize, now: Instant) {
        let Some(conn) = self.conns[index].as_mut() else { return };
        let error = match connect_outcome(&conn.stream) {
            Ok(_) => None,
            Err(error) if error.kind() == io::ErrorKind::NotConnected => return,
            Err(error) => Some(error),
        };
        if let Some(error) = error {
            self.conns[index] = None;
            self.live -= 1;
            run.stats.failed(Reason::of(&error));
            return;
        }
        conn.open = true;
        self.established += 1;
        run.stats.connected(now - conn.started, now - run.started);
        conn.next = run.first_due(index, now);
        if conn.next > now {
            conn.scheduled = true;
            run.schedule(index, conn.next);
        } else {
            self.fill(run, index, now);
        }
    }

    /// Queues the messages of connection `index` that are due and writes what the kernel takes.
    fn fill(&mut self, run: &mut Run, index: usize, now: Instant) {
        let Some(conn) = self.conns[index].as_mut() else { return };
        if let Err(error) = fill(conn, run, index, now) {
            self.drop_conn(run, index, Reason::of(&error));
        }
    }

    /// Reads what the connection has. `drains`: a read shorter than the buffer emptied it (see
    /// `platform::SHORT_READ_DRAINS`), so the read that would only say "would block" is saved.
    fn read(&mut self, run: &mut Run, index: usize, now: Instant, drains: bool) {
        loop {
            let Some(conn) = self.conns[index].as_mut() else { return };
            let n = match conn.stream.read(&mut self.buf) {
                Ok(0) => return self.drop_conn(run, index, Reason::Closed),
                Ok(n) => n,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return self.drop_conn(run, index, Reason::of(&error)),
            };
            run.stats.bytes_received += n as u64;
            let mut messages = 0;
            conn.framer.push_with(&self.buf[..n], now, |_, _, end| {
                if end != End::Part {
                    messages += 1;
                }
            });
            for _ in 0..messages {
                complete(conn, run, now);
            }
            if drains && n < self.buf.len() {
                break;
            }
        }
        self.refill(run, index, now);
    }

    /// A connection that stopped for room goes on once there is some.
    fn refill(&mut self, run: &mut Run, index: usize, now: Instant) {
        if self.conns[index]
            .as_ref()
            .is_some_and(|conn| conn.open && !conn.scheduled)
        {
            self.fill(run, index, now);
        }
    }

    /// Gap framing: a message the pause ended is a reply too.
    fn expire_gaps(&mut self, run: &mut Run, now: Instant) {
        for conn in self.conns.iter_mut().flatten() {
            if conn.framer.expire(now).is_some() {
                complete(conn, run, now);
            }
        }
    }

    fn drop_conn(&mut self, run: &mut Run, index: usize, reason: Reason) {
        if let Some(conn) = self.conns[index].take() {
            run.stats.dropped(reason);
            let unanswered = conn.outstanding.len() as u64;
            run.stats.timeouts += unanswered;
            run.outstanding -= unanswered;
            self.live -= 1;
            self.established -= 1;
        }
    }
}

/// Queues the messages of `conn` that are due, writes what the kernel takes, and puts the connection back on the
/// schedule unless it waits for room (then a write or reply event fills it again).
fn fill(conn: &mut Conn, run: &mut Run, index: usize, now: Instant) -> io::Result<()> {
    let limit = match (run.config.in_flight, run.interval) {
        (Some(n), _) => n as usize,
        (None, Some(_)) => MAX_OUTSTANDING,
        (None, None) => WINDOW,
    };
    let mut blocked = false;
    while let Some(due) = run.due_at(conn.next, now) {
        if conn.out.len() - conn.written >= OUT_LIMIT || conn.outstanding.len() >= limit {
            blocked = true;
            break;
        }
        let values = run.values(index, conn.seq);
        run.config.payload.build(&values, &mut conn.out);
        conn.seq += 1;
        conn.outstanding.push_back(due);
        run.sent_one(&mut conn.next, due, now);
    }
    flush(conn, run)?;
    conn.scheduled = run.interval.is_some() && !blocked && run.may_send(now);
    if conn.scheduled {
        run.schedule(index, conn.next);
    }
    Ok(())
}

/// The oldest unanswered message of `conn` is answered now.
fn complete(conn: &mut Conn, run: &mut Run, now: Instant) {
    match conn.outstanding.pop_front() {
        Some(scheduled) => {
            run.outstanding -= 1;
            run.stats.reply(now.saturating_duration_since(scheduled));
        }
        None => run.stats.unexpected += 1,
    }
}

/// Writes what the kernel takes now.
fn flush(conn: &mut Conn, run: &mut Run) -> io::Result<()> {
    while conn.written < conn.out.len() {
        match conn.stream.write(&conn.out[conn.written..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                conn.written += n;
                run.stats.bytes_sent += n as u64;
            }
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    if conn.written == conn.out.len() {
        conn.out.clear();
        conn.written = 0;
    } else if conn.written >= OUT_LIMIT / 2 {
        conn.out.drain(..conn.written);
        conn.written = 0;
    }
    Ok(())
}

/// Starts a non-blocking connect; errors here (out of files, unreachable) fail the connection at once.
fn connect(run: &Run, index: usize, now: Instant) -> io::Result<Conn> {
    let target = run.config.target;
    let socket = Socket::new(Domain::for_address(target), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_nonblocking(true)?;
    socket.set_tcp_nodelay(true)?;
    match socket.connect(&target.into()) {
        Ok(()) => {}
        Err(error) if platform::connect_in_progress(&error) => {}
        Err(error) => return Err(error),
    }
    let mut stream = TcpStream::from_std(socket.into());
    run.poll
        .registry()
        .register(&mut stream, Token(index), Interest::READABLE | Interest::WRITABLE)?;
    Ok(Conn {
        stream,
        started: now,
        open: false,
        next: now,
        seq: 0,
        outstanding: VecDeque::new(),
        out: Vec::new(),
        written: 0,
        framer: Framer::new(run.config.framing.clone()),
        scheduled: false,
    })
}

impl Driver for Tcp {
    fn turn(&mut self, run: &mut Run, now: Instant) {
        self.open_due(run, now);
        self.expire_connects(run, now);
        for index in run.take_due(now) {
            if let Some(conn) = self.conns[index].as_mut() {
                conn.scheduled = false;
                self.fill(run, index, now);
            }
        }
        if matches!(run.config.framing, Framing::Gap(_)) {
            self.expire_gaps(run, now);
        }
    }

    fn event(&mut self, run: &mut Run, event: &mio::event::Event, now: Instant) {
        let index = event.token().0;
        let Some(conn) = self.conns.get_mut(index).and_then(Option::as_mut) else {
            return;
        };
        if !conn.open {
            return self.connecting_event(run, index, now);
        }
        if event.is_writable()
            && let Err(error) = flush(conn, run)
        {
            return self.drop_conn(run, index, Reason::of(&error));
        }
        let closed = event.is_read_closed() || event.is_error();
        if event.is_readable() || closed {
            self.read(run, index, now, platform::SHORT_READ_DRAINS && !closed);
        } else {
            self.refill(run, index, now);
        }
    }

    fn next_wake(&self) -> Option<Instant> {
        let opening = (self.opened < self.total).then_some(self.open_at);
        let connect_deadline = self.connecting.front().map(|(at, _)| *at);
        [opening, connect_deadline].into_iter().flatten().min()
    }

    fn all_gone(&self) -> bool {
        self.live == 0 && self.opened == self.total
    }

    fn open(&self) -> u64 {
        self.established
    }

    fn finish(&mut self, run: &mut Run) {
        for conn in self.conns.iter().flatten() {
            run.stats.timeouts += conn.outstanding.len() as u64;
        }
    }
}
