//! The worker loop shared by every kind of session: poll, commands, timers, jobs (periodic and file sends),
//! automation (framing, rules, scripts), capture and live pcap.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, TryRecvError, bounded, unbounded};
use mio::{Events, Poll, Token, Waker};

use super::auto::{self, Automation, Reply, Scope};
use super::capture::{Capture, CaptureFile};
use super::job::{Cancel, FileSend, Job, JobKind, Periodic, Turn};
use super::outbox::Outbox;
use super::pcap::Pcap;
use super::spool::Pool;
use super::{
    Bytes, CloseReason, Command, Counters, EventKind, LeaveReason, Mode, NetError, Nobody, Notify, RecvBuffer, Session,
    SessionConfig, Target, platform, tcp_client, tcp_server, udp,
};
use crate::codec::pcapng::{Transport as Carrier, Way};

pub(super) const WAKER: Token = Token(0);
/// Batches waiting for the consumer before the worker drops display data (or pauses, when lossless). Each holds up
/// to ~1 MiB of reads, so this bounds what a flood has in flight between the engine and the window (8 measured
/// 15 MiB less peak RSS in a 1 GiB flood than 32, with no loss of printing throughput).
const EVENT_BATCHES: usize = 8;
const FILE_CHUNK: usize = 64 * 1024;
/// How often a worker blocked by the capture or pcap writer looks again whether it made room.
const RETRY: Duration = Duration::from_millis(1);
/// Outgoing queues past this much in all are a backlog whose memory is handed back to the OS once it is gone.
const BACKLOG: usize = 16 * 1024 * 1024;
/// How long a stopped lossless session goes on writing what is queued before giving it up.
const DRAIN: Duration = Duration::from_secs(5);
/// Spare buffers for the copies of received data the capture and the pcap write.
const SPARE_COPIES: usize = 16;

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
    next_token: usize,
}

impl Ctx {
    /// Bytes read from `peer` (at our `local` end): counted, captured, handed to the consumer and to the
    /// automation. Returns the replies due now, for the transport to queue to that peer.
    #[must_use]
    pub fn received(&mut self, local: SocketAddr, peer: SocketAddr, data: &[u8], coalesce: bool) -> Vec<Reply> {
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
            self.outbox.push_received(peer, data, coalesce);
            return Vec::new();
        }
        self.auto.received(peer, data, coalesce, &mut self.outbox)
    }

    /// A TCP peer half-closed: the message it left unfinished, and its replies.
    #[must_use]
    pub fn stream_ended(&mut self, peer: SocketAddr) -> Vec<Reply> {
        self.auto.stream_ended(peer, &mut self.outbox)
    }

    /// The socket took `bytes[range]` for `peer`: counted, and in the pcap.
    pub fn wrote(&mut self, local: SocketAddr, peer: SocketAddr, bytes: &Bytes, range: std::ops::Range<usize>) {
        self.counters.add_tx(range.len());
        if let Some(pcap) = &mut self.pcap {
            pcap.sent(local, peer, bytes, range);
        }
    }

    /// A TCP peer is gone: its framing and its script run end (before its `PeerLeft`); the pcap closes its stream.
    pub fn peer_left(&mut self, local: SocketAddr, peer: SocketAddr, reason: LeaveReason) {
        self.auto.peer_left(peer, &mut self.outbox);
        if let Some(pcap) = &mut self.pcap {
            pcap.left(local, peer, reason);
        }
    }

    /// A TCP peer became reachable (after its `PeerJoined` or `Connected`): a script may start for it, and the
    /// pcap gets its handshake, from whoever opened the connection.
    pub fn peer_joined(&mut self, local: SocketAddr, peer: SocketAddr, scope: Scope, opened_by: Way) {
        if let Some(pcap) = &mut self.pcap {
            pcap.joined(local, peer, opened_by);
        }
        self.auto.peer_joined(peer, scope, &mut self.outbox);
    }

    /// Whether reading `peer` (`None`: any peer) must wait for the consumer, the capture or the pcap to catch up.
    pub fn rx_paused(&self, peer: Option<SocketAddr>) -> bool {
        self.outbox.is_blocking(peer) || self.capture.as_ref().is_some_and(Capture::is_blocked) || self.tx_paused()
    }

    /// Whether writing must wait for the pcap to catch up: what goes on the wire must go in the file too, and its
    /// queue is bounded. (Outgoing queues are bounded as well, so waiting sends stay bounded.)
    pub fn tx_paused(&self) -> bool {
        self.pcap.as_ref().is_some_and(Pcap::is_blocked)
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

    pub fn token(&mut self) -> Token {
        self.next_token += 1;
        Token(self.next_token)
    }
}

#[cfg(test)]
impl Ctx {
    /// A context without sockets, for testing what runs on it (jobs); events arrive on the receiver.
    pub fn for_test() -> (Ctx, Receiver<Vec<super::Event>>, Poll) {
        let poll = Poll::new().expect("poll");
        let (tx, events) = bounded(EVENT_BATCHES);
        let counters = Arc::new(Counters::default());
        let outbox = Outbox::new(
            tx,
            Arc::new(|| {}),
            counters.clone(),
            super::Delivery::Lossless,
            Duration::ZERO,
            super::ReceivedAs::Bytes,
        );
        let ctx = Ctx {
            outbox,
            counters,
            capture: None,
            pcap: None,
            copies: Pool::new(SPARE_COPIES),
            registry: poll.registry().try_clone().expect("registry"),
            auto: Automation::default(),
            queued_total: 0,
            backlog: false,
            unread: Vec::new(),
            parked: Vec::new(),
            next_token: 0,
        };
        (ctx, events, poll)
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
    /// The TCP peers connected now (a script started now runs against them).
    fn peers(&self) -> Vec<SocketAddr> {
        Vec::new()
    }
    /// The largest piece of a file to send at once (UDP: one datagram).
    fn file_chunk(&self) -> usize {
        FILE_CHUNK
    }
}

struct Worker<T> {
    poll: Poll,
    ctx: Ctx,
    transport: T,
    commands: Receiver<Command>,
    waker: Arc<Waker>,
    /// At most one of each kind.
    jobs: Vec<Box<dyn Job>>,
    /// Where `Target::Default` sends go, to name them in errors.
    default_to: String,
    /// Set once told to stop: until when to go on writing what is queued.
    stop_by: Option<Instant>,
    /// Wakes the poll on time for periodic sends, where the platform has one.
    timer: Option<platform::FineTimer>,
    timer_token: Token,
    /// Whom a script runs against.
    scope: Scope,
    /// What the pcap's packets carry.
    carrier: Carrier,
}

pub(super) fn spawn(config: SessionConfig, notify: Notify) -> Result<Session, NetError> {
    platform::raise_fd_limit();
    let poll = Poll::new().map_err(NetError::Internal)?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKER).map_err(NetError::Internal)?);
    let registry = poll.registry().try_clone().map_err(NetError::Internal)?;
    let counters = Arc::new(Counters::default());
    let (events_tx, events) = bounded(EVENT_BATCHES);
    let (commands, commands_rx) = unbounded();
    let copies = Pool::new(SPARE_COPIES);
    let capture = match &config.capture {
        Some(target) => Some(open_capture(target, &copies, &waker)?),
        None => None,
    };
    let carrier = match config.mode {
        Mode::Udp { .. } => Carrier::Udp,
        Mode::TcpServer { .. } | Mode::TcpClient { .. } => Carrier::Tcp,
    };
    let pcap = match &config.pcap {
        Some(target) => Some(open_pcap(target, carrier, &copies, &waker)?),
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
        pcap,
        copies,
        registry,
        auto: Automation::new(
            config.framing.clone(),
            config.rules.clone(),
            config.echo,
            config.received_as == super::ReceivedAs::Bytes,
        ),
        queued_total: 0,
        backlog: false,
        unread: Vec::new(),
        parked: Vec::new(),
        next_token: 0,
    };
    ctx.auto.announce(&mut ctx.outbox);
    let timer_token = ctx.token();
    let timer = platform::FineTimer::new(&ctx.registry, timer_token);
    let script = config.script.clone();
    let parts = |local, default_to, scope| Parts {
        poll,
        timer,
        timer_token,
        commands_rx,
        waker: waker.clone(),
        local,
        default_to,
        scope,
        script,
        carrier,
    };
    let mut recv_buffer = None;
    let (thread, local) = match config.mode {
        Mode::TcpServer { listen, max_clients } => {
            let server = tcp_server::TcpServer::bind(&mut ctx, listen, max_clients)?;
            let local = server.local();
            parts(Some(local), "every client".into(), Scope::EachClient).launch(
                ctx,
                server,
                format!("tcp-server {local}"),
            )?
        }
        Mode::TcpClient {
            remote,
            bind,
            reconnect,
            connect_timeout,
        } => {
            let name = format!("tcp-client {remote}");
            let client = tcp_client::TcpClient::new(remote.clone(), bind, reconnect, connect_timeout, waker.clone());
            parts(None, remote, Scope::Once).launch(ctx, client, name)?
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
            parts(Some(local), default_to, Scope::Socket).launch(ctx, socket, format!("udp {local}"))?
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

fn open_capture(target: &CaptureFile, copies: &Pool, waker: &Arc<Waker>) -> Result<Capture, NetError> {
    let waker = waker.clone();
    Ok(Capture::create(target, copies.clone(), move || {
        let _ = waker.wake();
    })?)
}

fn open_pcap(target: &CaptureFile, carrier: Carrier, copies: &Pool, waker: &Arc<Waker>) -> Result<Pcap, NetError> {
    let waker = waker.clone();
    Ok(Pcap::create(target, carrier, copies.clone(), move || {
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
    scope: Scope,
    script: Option<Arc<crate::automation::script::Script>>,
    carrier: Carrier,
}

impl Parts {
    fn launch<T: Transport + Send + 'static>(
        self,
        mut ctx: Ctx,
        transport: T,
        name: String,
    ) -> Result<(std::thread::JoinHandle<()>, Option<SocketAddr>), NetError> {
        if let Some(script) = self.script {
            ctx.auto.run_script(script, self.scope, &[], &mut ctx.outbox);
        }
        let worker = Worker {
            poll: self.poll,
            ctx,
            transport,
            commands: self.commands_rx,
            waker: self.waker,
            jobs: Vec::new(),
            default_to: self.default_to,
            stop_by: None,
            timer: self.timer,
            timer_token: self.timer_token,
            scope: self.scope,
            carrier: self.carrier,
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
                && self.jobs.iter().any(|job| {
                    job.precise() && matches!(job.next_turn(&self.transport), Turn::At(at) if at <= now + wait)
                })
            {
                timer.set(wait);
            }
            if let Err(e) = self.poll.poll(&mut events, timeout)
                && e.kind() != std::io::ErrorKind::Interrupted
            {
                self.ctx.error(NetError::Internal(e));
                break CloseReason::Error;
            }
            // Orders first: what was asked before the bytes arrived (new rules, a framing) applies to them.
            if self.stop_by.is_some() {
                // A stopping session takes no more orders.
                self.commands.try_iter().for_each(drop);
            } else if self.handle_commands() {
                self.stop();
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
            if self
                .stop_by
                .is_some_and(|by| self.transport.queued(Target::Default) == 0 || Instant::now() >= by)
            {
                break CloseReason::Stopped;
            }
            self.check_writers();
            // A socket paused again puts itself back on `parked`. Writable too: a write paused for the pcap gets
            // no new wake-up (a socket that cannot take more says so, and waits for its next one).
            let mut again = std::mem::take(&mut self.ctx.unread);
            again.append(&mut self.ctx.parked);
            again.sort_unstable();
            again.dedup();
            for token in again {
                self.transport.ready(&mut self.ctx, token, true, true);
            }
            let now = Instant::now();
            self.transport.tick(&mut self.ctx, now);
            self.run_jobs(now);
            auto::turn(&mut self.ctx, &mut self.transport, now);
            self.ctx.outbox.flush(now, false);
            if let Some(reason) = self.transport.ended() {
                break reason;
            }
        };
        self.jobs.clear();
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
        if let Some(pcap) = self.ctx.pcap.take()
            && let Err(e) = pcap.finish()
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
        if !self.ctx.unread.is_empty() {
            return Some(Duration::ZERO);
        }
        let retry = (!self.ctx.parked.is_empty()).then(|| now + RETRY);
        // A job that can go on now counts as due now: the poll does not wait.
        let jobs = self.jobs.iter().filter_map(|job| match job.next_turn(&self.transport) {
            Turn::Now => Some(now),
            Turn::At(at) => Some(at),
            Turn::Waiting => None,
        });
        [
            self.ctx.outbox.deadline(now),
            self.transport.deadline(),
            self.ctx.auto.deadline(now),
            retry,
            self.stop_by,
        ]
        .into_iter()
        .flatten()
        .chain(jobs)
        .min()
        .map(|at| at.saturating_duration_since(now))
    }

    /// Ends what would send more, and gives a lossless session time to write what is queued. A window's
    /// session stops at once: its owner waits for it.
    fn stop(&mut self) {
        for job in std::mem::take(&mut self.jobs) {
            job.cancel(&mut self.ctx, Cancel::Stopping);
        }
        self.ctx.auto.stop_script(&mut self.ctx.outbox);
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
                    self.start_job(Box::new(Periodic::new(to, bytes, interval, count, Instant::now())));
                    Ok(())
                }
                Command::StopPeriodic => {
                    self.end_job(JobKind::Periodic, Cancel::Asked);
                    Ok(())
                }
                Command::SendFile { to, path } => FileSend::open(to, path).map(|file| self.start_job(Box::new(file))),
                Command::Kick(peer) => self.transport.kick(&mut self.ctx, peer),
                Command::SetRemote(remote) => self.transport.set_remote(&mut self.ctx, &remote),
                Command::Join(group) => self.transport.membership(group, true),
                Command::Leave(group) => self.transport.membership(group, false),
                Command::Capture(path) => self.set_capture(path),
                Command::Pcap(path) => self.set_pcap(path),
                Command::SetRules(rules) => {
                    self.ctx.auto.set_rules(rules, &mut self.ctx.outbox);
                    Ok(())
                }
                Command::SetFraming(framing) => {
                    self.ctx.auto.set_framing(framing, &mut self.ctx.outbox);
                    Ok(())
                }
                Command::RunScript(script) => {
                    let peers = self.transport.peers();
                    self.ctx
                        .auto
                        .run_script(script, self.scope, &peers, &mut self.ctx.outbox);
                    Ok(())
                }
                Command::StopScript => {
                    self.ctx.auto.stop_script(&mut self.ctx.outbox);
                    Ok(())
                }
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
            self.ctx.capture = Some(open_capture(&target, &self.ctx.copies, &self.waker)?);
        }
        Ok(())
    }

    fn set_pcap(&mut self, target: Option<CaptureFile>) -> Result<(), NetError> {
        if let Some(old) = self.ctx.pcap.take() {
            old.finish()?;
        }
        if let Some(target) = target {
            self.ctx.pcap = Some(open_pcap(&target, self.carrier, &self.ctx.copies, &self.waker)?);
        }
        Ok(())
    }

    /// A capture or pcap that failed (disk full, …) is reported and dropped; the sockets go on.
    fn check_writers(&mut self) {
        if let Some(capture) = &mut self.ctx.capture {
            if let Some(error) = capture.failed() {
                self.ctx.capture = None;
                self.ctx.error(error.into());
            } else {
                capture.retry();
            }
        }
        if let Some(pcap) = &mut self.ctx.pcap {
            if let Some(error) = pcap.failed() {
                self.ctx.pcap = None;
                self.ctx.error(error.into());
            } else {
                pcap.retry();
            }
        }
    }

    /// A new job takes the place of a running one of its kind.
    fn start_job(&mut self, job: Box<dyn Job>) {
        self.end_job(job.kind(), Cancel::Replaced);
        self.jobs.push(job);
    }

    fn end_job(&mut self, kind: JobKind, why: Cancel) {
        if let Some(at) = self.jobs.iter().position(|job| job.kind() == kind) {
            self.jobs.remove(at).cancel(&mut self.ctx, why);
        }
    }

    /// A turn for each job whose time has come; finished jobs leave.
    fn run_jobs(&mut self, now: Instant) {
        let (ctx, transport) = (&mut self.ctx, &mut self.transport);
        self.jobs.retain_mut(|job| match job.next_turn(transport) {
            Turn::Now => !job.turn(now, ctx, transport),
            Turn::At(at) if at <= now => !job.turn(now, ctx, transport),
            Turn::At(_) | Turn::Waiting => true,
        });
    }
}
