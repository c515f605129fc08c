//! The worker loop shared by every kind of session: poll, commands, timers, jobs (periodic and file sends),
//! automation (framing, rules, scripts), capture and live pcap.
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError, bounded, unbounded};
use mio::{Events, Poll, Token, Waker};

use super::auto::Automation;
use super::caps::ScriptScope;
use super::capture::{Capture, CaptureFile};
use super::job::{Cancel, FileSend, Job, JobKind, Periodic, Turn};
use super::outbox::Outbox;
use super::pcap::Pcap;
use super::spool::Pool;
use super::transport::{Ctx, EVENT_BATCHES, Launcher, SPARE_COPIES, Started, Transport, WAKER};
use super::{
    CloseReason, Command, Counters, Event, EventKind, NetError, Notify, Session, SessionConfig, Target, platform,
};
use crate::automation::script::Script;
use crate::codec::pcapng::Carrier;
use crate::crash::{Crash, guarded};

/// How often a worker blocked by the capture or pcap writer looks again whether it made room.
const RETRY: Duration = Duration::from_millis(1);
/// How long a stopped lossless session goes on writing what is queued before giving it up.
const DRAIN: Duration = Duration::from_secs(5);

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
    scope: ScriptScope,
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
    let caps = config.mode.caps();
    let last_word = LastWord {
        events: events_tx.clone(),
        notify: notify.clone(),
    };
    let outbox = Outbox::new(
        events_tx,
        notify,
        counters.clone(),
        config.delivery,
        config.batch_interval,
        config.received_as,
    );
    let auto = Automation::new(
        config.framing.clone(),
        config.rules.clone(),
        config.echo,
        config.received_as == super::ReceivedAs::Bytes,
        config.consumer_replies,
    );
    let mut ctx = Ctx::new(outbox, counters.clone(), copies, registry, auto);
    if let Some(target) = &config.capture {
        ctx.capture = Some(open_capture(target, &ctx.copies, &waker)?);
    }
    if let Some(target) = &config.pcap {
        ctx.pcap = Some(open_pcap(target, caps.carrier, &ctx.copies, &waker)?);
    }
    ctx.auto.announce(&mut ctx.outbox);
    let timer_token = ctx.token();
    let timer = platform::FineTimer::new(&ctx.registry, timer_token);
    let parts = Parts {
        poll,
        timer,
        timer_token,
        commands_rx,
        waker: waker.clone(),
        scope: caps.script_scope,
        script: config.script.clone(),
        carrier: caps.carrier,
        last_word,
    };
    let (thread, started) = config.mode.launch(ctx, parts)?;
    Ok(Session {
        commands,
        waker,
        events,
        counters,
        local: started.local,
        recv_buffer: started.recv_buffer,
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

/// Everything of the worker but its transport, which the kind's `launch` makes.
struct Parts {
    poll: Poll,
    timer: Option<platform::FineTimer>,
    timer_token: Token,
    commands_rx: Receiver<Command>,
    waker: Arc<Waker>,
    scope: ScriptScope,
    script: Option<Arc<Script>>,
    carrier: Carrier,
    last_word: LastWord,
}

/// How a worker that panicked still tells its consumer why the session ended: the outbox went down with it.
struct LastWord {
    events: Sender<Vec<Event>>,
    notify: Notify,
}

impl LastWord {
    fn crashed(self, crash: Crash) {
        let error = NetError::Panicked {
            message: crash.message,
            log: crash.log,
        };
        let at = std::time::SystemTime::now();
        let batch = vec![
            Event {
                at,
                kind: EventKind::Error(Arc::new(error)),
            },
            Event {
                at,
                kind: EventKind::Closed {
                    reason: CloseReason::Error,
                },
            },
        ];
        // A consumer that is behind drains within a frame or a print; one that is gone needs telling no more.
        let _ = self.events.send_timeout(batch, Duration::from_secs(5));
        (self.notify)();
    }
}

impl Launcher for Parts {
    type Started = (std::thread::JoinHandle<()>, Started);

    fn waker(&self) -> Arc<Waker> {
        self.waker.clone()
    }

    fn start<T: Transport + Send + 'static>(
        self,
        mut ctx: Ctx,
        transport: T,
        started: Started,
    ) -> Result<Self::Started, NetError> {
        if let Some(script) = self.script {
            ctx.auto
                .run_script(script, self.scope, &[], Vec::new(), &mut ctx.outbox);
        }
        let worker = Worker {
            poll: self.poll,
            ctx,
            transport,
            commands: self.commands_rx,
            waker: self.waker,
            jobs: Vec::new(),
            default_to: started.default_to.clone(),
            stop_by: None,
            timer: self.timer,
            timer_token: self.timer_token,
            scope: self.scope,
            carrier: self.carrier,
        };
        let last_word = self.last_word;
        let thread = std::thread::Builder::new()
            .name(format!("wirepad {}", started.name))
            .spawn(move || {
                // Unwinding drops the worker: its sockets close, and the capture and pcap writers finish.
                if let Err(crash) = guarded(move || worker.run()) {
                    last_word.crashed(crash);
                }
            })
            .map_err(NetError::Internal)?;
        Ok((thread, started))
    }
}

impl<T: Transport> Worker<T> {
    fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        let reason = loop {
            let now = Instant::now();
            let timeout = self.timeout(now);
            self.arm_timer(now, timeout);
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
            self.dispatch(&events);
            if self
                .stop_by
                .is_some_and(|by| self.transport.queued(Target::Default) == 0 || Instant::now() >= by)
            {
                break CloseReason::Stopped;
            }
            self.check_writers();
            self.retry_paused();
            let now = Instant::now();
            self.transport.tick(&mut self.ctx, now);
            self.run_jobs(now);
            self.ctx.automation_turn(&mut self.transport, now);
            self.ctx.outbox.flush(now, false);
            if let Some(reason) = self.transport.ended() {
                break reason;
            }
        };
        self.finish(reason);
    }

    /// A periodic tick due first is waited for to the microsecond: the poll alone rounds up to whole ms.
    fn arm_timer(&self, now: Instant, timeout: Option<Duration>) {
        if let (Some(timer), Some(wait)) = (&self.timer, timeout)
            && !wait.is_zero()
            && self
                .jobs
                .iter()
                .any(|job| job.precise() && matches!(job.next_turn(&self.transport), Turn::At(at) if at <= now + wait))
        {
            timer.set(wait);
        }
    }

    /// Hands each socket's readiness to the transport.
    fn dispatch(&mut self, events: &Events) {
        for event in events {
            if event.token() != WAKER && event.token() != self.timer_token {
                let closed = event.is_read_closed() || event.is_error();
                self.ctx.short_read_drains = platform::SHORT_READ_DRAINS && !closed;
                self.transport.ready(
                    &mut self.ctx,
                    event.token(),
                    event.is_readable() || closed,
                    event.is_writable(),
                );
            }
        }
    }

    /// A socket paused again puts itself back on `parked`. Writable too: a write paused for the pcap gets no new
    /// wake-up (a socket that cannot take more says so, and waits for its next one).
    fn retry_paused(&mut self) {
        let mut again = std::mem::take(&mut self.ctx.unread);
        again.append(&mut self.ctx.parked);
        again.sort_unstable();
        again.dedup();
        self.ctx.short_read_drains = false;
        for token in again {
            self.transport.ready(&mut self.ctx, token, true, true);
        }
    }

    /// The session's end: what was left unsent, the capture and pcap closed, and the last events handed over.
    fn finish(mut self, reason: CloseReason) {
        self.jobs.clear();
        self.transport.last_counts(&mut self.ctx);
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
        // What arrives from now on is not taken: the capture and the pcap end with what was read.
        self.ctx.stopping = true;
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
                Command::Send { to, bytes } => self.ctx.send(&bytes, to, &mut self.transport),
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
                Command::RunScript { script, seen } => {
                    let peers = self.transport.peers();
                    self.ctx
                        .auto
                        .run_script(script, self.scope, &peers, seen, &mut self.ctx.outbox);
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
