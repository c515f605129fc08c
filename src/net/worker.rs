//! The worker loop shared by every kind of session: poll, commands, timers, periodic and file sends, capture.
use std::fs::File;
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, TryRecvError, bounded, unbounded};
use mio::{Events, Poll, Token, Waker};

use super::capture::{Capture, CaptureFile};
use super::outbox::Outbox;
use super::{
    Bytes, CloseReason, Command, Counters, EventKind, Mode, NetError, Nobody, Notify, RecvBuffer, Session,
    SessionConfig, Target, platform, tcp_client, tcp_server, udp,
};

pub(super) const WAKER: Token = Token(0);
/// Batches waiting for the consumer before the worker drops display data (or pauses, when lossless). Each holds up
/// to ~1 MiB of reads, so this bounds what a flood has in flight between the engine and the window (8 measured
/// 15 MiB less peak RSS in a 1 GiB flood than 32, with no loss of printing throughput).
const EVENT_BATCHES: usize = 8;
/// A file is read ahead only while less than this waits in the send queue.
const FILE_QUEUE: usize = 1024 * 1024;
const FILE_CHUNK: usize = 64 * 1024;
/// How often a worker blocked by the capture writer looks again whether it made room.
const RETRY: Duration = Duration::from_millis(1);
/// Outgoing queues past this much in all are a backlog whose memory is handed back to the OS once it is gone.
const BACKLOG: usize = 16 * 1024 * 1024;
/// How long a stopped lossless session goes on writing what is queued before giving it up.
const DRAIN: Duration = Duration::from_secs(5);

/// What the transports share with the loop.
pub(super) struct Ctx {
    pub outbox: Outbox,
    pub counters: Arc<Counters>,
    pub capture: Option<Capture>,
    pub registry: mio::Registry,
    /// Bytes in every connection's outgoing queue together.
    pub queued_total: usize,
    /// `queued_total` has passed `BACKLOG` since memory was last handed back.
    backlog: bool,
    /// Send every received chunk back to its sender, here in the worker: no wait on the consumer.
    pub echo: bool,
    /// Sockets with data left unread at the end of their turn (or a queue that made room): read again before polling.
    pub unread: Vec<Token>,
    /// Sockets not read while the consumer or the capture catches up: looked at again every `RETRY`.
    pub parked: Vec<Token>,
    next_token: usize,
}

impl Ctx {
    pub fn received(&mut self, peer: SocketAddr, data: &[u8], coalesce: bool) {
        self.counters.add_rx(data.len());
        self.outbox.push_received(peer, data, coalesce);
        if let Some(capture) = &mut self.capture {
            capture.push(data);
        }
    }

    /// Whether reading `peer` (`None`: any peer) must wait for the consumer or the capture to catch up.
    pub fn rx_paused(&self, peer: Option<SocketAddr>) -> bool {
        self.outbox.is_blocking(peer) || self.capture.as_ref().is_some_and(Capture::is_blocked)
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
            platform::return_free_memory();
        }
    }

    pub fn token(&mut self) -> Token {
        self.next_token += 1;
        Token(self.next_token)
    }
}

/// What differs between a TCP server, a TCP client and a UDP socket.
pub(super) trait Transport {
    fn ready(&mut self, ctx: &mut Ctx, token: Token, readable: bool, writable: bool);
    /// `report`: emit `Sent` events once written.
    fn send(&mut self, ctx: &mut Ctx, to: Target, bytes: Bytes, report: bool) -> Result<(), NetError>;
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
    /// Timers: connect timeouts, reconnects.
    fn tick(&mut self, _ctx: &mut Ctx, _now: Instant) {}
    fn deadline(&self) -> Option<Instant> {
        None
    }
    /// `Some` once the session has ended by itself.
    fn ended(&self) -> Option<CloseReason> {
        None
    }
    /// The largest piece of a file to send at once (UDP: one datagram).
    fn file_chunk(&self) -> usize {
        FILE_CHUNK
    }
}

/// A send repeated on an absolute schedule: tick k is due at `start + k * interval`, so lateness never adds up.
struct Periodic {
    to: Target,
    bytes: Bytes,
    interval: Duration,
    remaining: Option<u64>,
    sent: u64,
    start: Instant,
    /// The tick due next.
    tick: u64,
    /// When it is due; `None` beyond what an `Instant` holds (an absurd interval): the schedule ends.
    next: Option<Instant>,
}

impl Periodic {
    fn due(&self, tick: u64) -> Option<Instant> {
        let nanos = self.interval.as_nanos().checked_mul(u128::from(tick))?;
        let secs = u64::try_from(nanos / 1_000_000_000).ok()?;
        self.start
            .checked_add(Duration::new(secs, (nanos % 1_000_000_000) as u32))
    }
}

struct FileSend {
    to: Target,
    path: PathBuf,
    file: File,
    sent: u64,
    total: u64,
}

struct Worker<T> {
    poll: Poll,
    ctx: Ctx,
    transport: T,
    commands: Receiver<Command>,
    waker: Arc<Waker>,
    periodic: Option<Periodic>,
    file: Option<FileSend>,
    /// Where `Target::Default` sends go, to name them in errors.
    default_to: String,
    /// Set once told to stop: until when to go on writing what is queued.
    stop_by: Option<Instant>,
    /// Wakes the poll on time for periodic sends, where the platform has one.
    timer: Option<platform::FineTimer>,
    timer_token: Token,
}

pub(super) fn spawn(config: SessionConfig, notify: Notify) -> Result<Session, NetError> {
    platform::raise_fd_limit();
    let poll = Poll::new().map_err(NetError::Internal)?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKER).map_err(NetError::Internal)?);
    let registry = poll.registry().try_clone().map_err(NetError::Internal)?;
    let counters = Arc::new(Counters::default());
    let (events_tx, events) = bounded(EVENT_BATCHES);
    let (commands, commands_rx) = unbounded();
    let capture = match &config.capture {
        Some(target) => Some(open_capture(target, &waker)?),
        None => None,
    };
    let outbox = Outbox::new(
        events_tx,
        notify,
        counters.clone(),
        config.delivery,
        config.batch_interval,
        config.received_as,
    );
    let mut ctx = Ctx {
        outbox,
        counters: counters.clone(),
        capture,
        registry,
        echo: config.echo,
        queued_total: 0,
        backlog: false,
        unread: Vec::new(),
        parked: Vec::new(),
        next_token: 0,
    };
    let timer_token = ctx.token();
    let timer = platform::FineTimer::new(&ctx.registry, timer_token);
    let parts = |local, default_to| Parts {
        poll,
        timer,
        timer_token,
        commands_rx,
        waker: waker.clone(),
        local,
        default_to,
    };
    let mut recv_buffer = None;
    let (thread, local) = match config.mode {
        Mode::TcpServer { listen, max_clients } => {
            let server = tcp_server::TcpServer::bind(&mut ctx, listen, max_clients)?;
            let local = server.local();
            parts(Some(local), "every client".into()).launch(ctx, server, format!("tcp-server {local}"))?
        }
        Mode::TcpClient {
            remote,
            bind,
            reconnect,
            connect_timeout,
        } => {
            let name = format!("tcp-client {remote}");
            let client = tcp_client::TcpClient::new(remote.clone(), bind, reconnect, connect_timeout, waker.clone());
            parts(None, remote).launch(ctx, client, name)?
        }
        Mode::Udp {
            bind,
            remote,
            follow_peer,
            broadcast,
            groups,
        } => {
            let default_to = remote.clone().unwrap_or_else(|| "its UDP peers".into());
            let socket = udp::Udp::bind(&mut ctx, bind, remote, follow_peer, broadcast, &groups, waker.clone())?;
            let local = socket.local();
            recv_buffer = Some(RecvBuffer {
                wanted: udp::SOCKET_BUFFER,
                granted: socket.recv_buffer(),
            });
            parts(Some(local), default_to).launch(ctx, socket, format!("udp {local}"))?
        }
    };
    Ok(Session {
        commands,
        waker,
        events,
        counters,
        local,
        recv_buffer,
        thread: Some(thread),
    })
}

fn open_capture(target: &CaptureFile, waker: &Arc<Waker>) -> Result<Capture, NetError> {
    let waker = waker.clone();
    Ok(Capture::create(target, move || {
        let _ = waker.wake();
    })?)
}

struct Parts {
    poll: Poll,
    timer: Option<platform::FineTimer>,
    timer_token: Token,
    commands_rx: Receiver<Command>,
    waker: Arc<Waker>,
    local: Option<SocketAddr>,
    default_to: String,
}

impl Parts {
    fn launch<T: Transport + Send + 'static>(
        self,
        ctx: Ctx,
        transport: T,
        name: String,
    ) -> Result<(std::thread::JoinHandle<()>, Option<SocketAddr>), NetError> {
        let worker = Worker {
            poll: self.poll,
            ctx,
            transport,
            commands: self.commands_rx,
            waker: self.waker,
            periodic: None,
            file: None,
            default_to: self.default_to,
            stop_by: None,
            timer: self.timer,
            timer_token: self.timer_token,
        };
        let thread = std::thread::Builder::new()
            .name(format!("wirepad {name}"))
            .spawn(move || worker.run())
            .map_err(NetError::Internal)?;
        Ok((thread, self.local))
    }
}

impl<T: Transport> Worker<T> {
    fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        let reason = loop {
            let now = Instant::now();
            let timeout = self.timeout(now);
            // A periodic tick due first is waited for to the microsecond: the poll alone rounds up to whole ms.
            if let (Some(timer), Some(wait)) = (&self.timer, timeout)
                && !wait.is_zero()
                && self
                    .periodic
                    .as_ref()
                    .and_then(|p| p.next)
                    .is_some_and(|next| next <= now + wait)
            {
                timer.set(wait);
            }
            if let Err(e) = self.poll.poll(&mut events, timeout)
                && e.kind() != std::io::ErrorKind::Interrupted
            {
                self.ctx.error(NetError::Internal(e));
                break CloseReason::Error;
            }
            for event in &events {
                if event.token() != WAKER && event.token() != self.timer_token {
                    let closed = event.is_read_closed() || event.is_error();
                    self.transport.ready(
                        &mut self.ctx,
                        event.token(),
                        event.is_readable() || closed,
                        event.is_writable(),
                    );
                }
            }
            if self.stop_by.is_some() {
                // A stopping session takes no more orders.
                self.commands.try_iter().for_each(drop);
            } else if self.handle_commands() {
                self.stop();
            }
            if self
                .stop_by
                .is_some_and(|by| self.transport.queued(Target::Default) == 0 || Instant::now() >= by)
            {
                break CloseReason::Stopped;
            }
            self.check_capture();
            // A socket paused again puts itself back on `parked`.
            let mut again = std::mem::take(&mut self.ctx.unread);
            again.append(&mut self.ctx.parked);
            again.sort_unstable();
            again.dedup();
            for token in again {
                self.transport.ready(&mut self.ctx, token, true, false);
            }
            let now = Instant::now();
            self.transport.tick(&mut self.ctx, now);
            self.tick_periodic(now);
            self.continue_file();
            self.ctx.outbox.flush(now, false);
            if let Some(reason) = self.transport.ended() {
                break reason;
            }
        };
        self.periodic = None;
        self.file = None;
        if reason == CloseReason::Stopped {
            for (to, queued) in self.transport.unsent(&self.default_to) {
                self.ctx.error(NetError::Unsent { to, queued });
            }
        }
        if let Some(capture) = self.ctx.capture.take()
            && let Err(e) = capture.finish()
        {
            self.ctx.error(e.into());
        }
        self.ctx.emit(EventKind::Closed { reason });
        // A session that ended by itself, or a lossless one, owes its consumer the last events. Any other one
        // stopped by its owner must not wait: the owner may be the consumer (a window's UI thread), waiting for
        // this thread to end.
        let patience = if reason == CloseReason::Stopped && !self.ctx.outbox.is_lossless() {
            Duration::ZERO
        } else {
            Duration::from_secs(5)
        };
        self.ctx.outbox.flush_final(patience);
    }

    fn timeout(&self, now: Instant) -> Option<Duration> {
        let ready_now = !self.ctx.unread.is_empty()
            || self
                .file
                .as_ref()
                .is_some_and(|f| self.transport.queued(f.to) < FILE_QUEUE);
        if ready_now {
            return Some(Duration::ZERO);
        }
        let retry = (!self.ctx.parked.is_empty()).then(|| now + RETRY);
        [
            self.ctx.outbox.deadline(now),
            self.periodic.as_ref().and_then(|p| p.next),
            self.transport.deadline(),
            retry,
            self.stop_by,
        ]
        .into_iter()
        .flatten()
        .min()
        .map(|at| at.saturating_duration_since(now))
    }

    /// Ends what would send more, and gives a lossless session time to write what is queued. A window's
    /// session stops at once: its owner waits for it.
    fn stop(&mut self) {
        self.periodic = None;
        // A file read to its end is all queued: what the drain cannot write is reported with the queue.
        if let Some(f) = self.file.take()
            && f.sent < f.total
        {
            self.ctx.error(NetError::FileStopped {
                path: f.path,
                left: f.total - f.sent,
                total: f.total,
            });
        }
        let patience = if self.ctx.outbox.is_lossless() {
            DRAIN
        } else {
            Duration::ZERO
        };
        self.stop_by = Some(Instant::now() + patience);
    }

    /// Returns `true` on `Stop`.
    fn handle_commands(&mut self) -> bool {
        loop {
            let command = match self.commands.try_recv() {
                Ok(command) => command,
                // The handle is gone: nobody can stop us any more, so stop now.
                Err(TryRecvError::Disconnected) => return true,
                Err(TryRecvError::Empty) => return false,
            };
            let result = match command {
                Command::Stop => return true,
                Command::Send { to, bytes } => self.transport.send(&mut self.ctx, to, bytes, true),
                Command::SendPeriodic {
                    to,
                    bytes,
                    interval,
                    count,
                } => {
                    let start = Instant::now();
                    self.periodic = Some(Periodic {
                        to,
                        bytes,
                        interval: interval.max(Duration::from_millis(1)),
                        remaining: count,
                        sent: 0,
                        start,
                        tick: 0,
                        next: Some(start),
                    });
                    Ok(())
                }
                Command::StopPeriodic => {
                    if let Some(p) = self.periodic.take() {
                        self.ctx.emit(EventKind::PeriodicProgress {
                            sent: p.sent,
                            done: true,
                        });
                    }
                    Ok(())
                }
                Command::SendFile { to, path } => self.start_file(to, path),
                Command::Kick(peer) => self.transport.kick(&mut self.ctx, peer),
                Command::SetRemote(remote) => self.transport.set_remote(&mut self.ctx, &remote),
                Command::Join(group) => self.transport.membership(group, true),
                Command::Leave(group) => self.transport.membership(group, false),
                Command::Capture(path) => self.set_capture(path),
            };
            if let Err(e) = result {
                self.ctx.error(e);
            }
        }
    }

    fn set_capture(&mut self, target: Option<CaptureFile>) -> Result<(), NetError> {
        if let Some(old) = self.ctx.capture.take() {
            old.finish()?;
        }
        if let Some(target) = target {
            self.ctx.capture = Some(open_capture(&target, &self.waker)?);
        }
        Ok(())
    }

    /// A capture that failed (disk full, …) is reported and dropped; the sockets go on.
    fn check_capture(&mut self) {
        let Some(capture) = &mut self.ctx.capture else {
            return;
        };
        if let Some(error) = capture.failed() {
            self.ctx.capture = None;
            self.ctx.error(error.into());
        } else {
            capture.retry();
        }
    }

    fn tick_periodic(&mut self, now: Instant) {
        let Some(p) = &mut self.periodic else { return };
        if p.next.is_none_or(|next| now < next) {
            return;
        }
        // The latest tick whose time has come. Those before it that were never sent are skipped and counted, not
        // sent in a burst: the schedule stays where it was, the worker was late.
        let elapsed = now.saturating_duration_since(p.start).as_nanos() / p.interval.as_nanos();
        let latest = u64::try_from(elapsed).unwrap_or(u64::MAX).max(p.tick);
        self.ctx.counters.add_missed_ticks(latest - p.tick);
        let result = self.transport.send(&mut self.ctx, p.to, p.bytes.clone(), true);
        p.sent += 1;
        p.remaining = p.remaining.map(|n| n.saturating_sub(1));
        p.tick = latest.saturating_add(1);
        p.next = p.due(p.tick);
        let done = result.is_err() || p.remaining == Some(0) || p.next.is_none();
        let sent = if result.is_ok() { p.sent } else { p.sent - 1 };
        if let Err(e) = result {
            self.ctx.error(e);
        }
        self.ctx.emit(EventKind::PeriodicProgress { sent, done });
        if done {
            self.periodic = None;
        }
    }

    fn start_file(&mut self, to: Target, path: PathBuf) -> Result<(), NetError> {
        let read_error = |source| NetError::ReadFile {
            path: path.clone(),
            source,
        };
        let file = File::open(&path).map_err(read_error)?;
        let total = file.metadata().map_err(read_error)?.len();
        self.file = Some(FileSend {
            to,
            path,
            file,
            sent: 0,
            total,
        });
        Ok(())
    }

    fn continue_file(&mut self) {
        let Some(f) = &mut self.file else { return };
        let mut chunk = vec![0; self.transport.file_chunk()];
        let mut budget = 4 * FILE_QUEUE;
        while budget > 0 && self.transport.queued(f.to) < FILE_QUEUE {
            let n = match read_full(&mut f.file, &mut chunk) {
                Ok(n) => n,
                Err(source) => {
                    self.ctx.error(NetError::ReadFile {
                        path: f.path.clone(),
                        source,
                    });
                    self.file = None;
                    return;
                }
            };
            if n == 0 {
                self.ctx.emit(EventKind::FileProgress {
                    sent: f.sent,
                    total: f.total,
                    done: true,
                });
                self.file = None;
                return;
            }
            if let Err(e) = self
                .transport
                .send(&mut self.ctx, f.to, Bytes::from(&chunk[..n]), false)
            {
                self.ctx.error(e);
                self.ctx.emit(EventKind::FileProgress {
                    sent: f.sent,
                    total: f.total,
                    done: true,
                });
                self.file = None;
                return;
            }
            f.sent += n as u64;
            budget = budget.saturating_sub(n);
            self.ctx.emit(EventKind::FileProgress {
                sent: f.sent,
                total: f.total,
                done: false,
            });
        }
    }
}

/// Fills `buf` unless the file ends first (so UDP datagrams are full-sized).
fn read_full(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
