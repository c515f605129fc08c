//! The main loop: engine events, standard input lines and the quit timers, until the session closes.
use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvError, never, select};

use super::args::QuitArgs;
use super::plan::{Greeting, Plan, StdinError, StdinLine, Unsendable, outgoing, read_stdin_lines, sendable_file};
use super::printer::Printer;
use super::{CliError, note};
use crate::codec::hex::to_hex;
use crate::net::{
    AutoEvent, CloseReason, Command, Event, EventKind, LeaveReason, MAX_DATAGRAM, NetError, Outgoing, ScriptEnd,
    ScriptScope, Session, SessionConfig, StepOutcome, Target,
};
use crate::payload::PayloadSpec;
use crate::session::state::SessionState;
use crate::signals::{self, Stop};

/// The main loop: reacts to engine events, stdin lines and the quit timers.
pub(super) struct Runner {
    session: Session,
    config: SessionConfig,
    greeting: Option<Greeting>,
    spec: PayloadSpec,
    quit: QuitArgs,
    datagram_limit: Option<usize>,
    /// `--vars`: `--stdin` lines are templates.
    vars: bool,
    printer: Option<Printer>,
    stdin: Option<Receiver<StdinLine>>,
    stdin_lines: u64,
    /// Ctrl+C and SIGTERM: the first stops the session as a quit condition would, and sets the exit code.
    stops: Receiver<Stop>,
    /// Set once the session was told to stop: how the run ends. Events are drained until `Closed`.
    stopping: Option<Result<(), CliError>>,
    ready_at: Option<Instant>,
    last_activity: Instant,
    /// The session's events, folded: where sends can go, bytes received, periodic and file sends running.
    state: SessionState,
    /// The engine streams one file at a time; the rest wait here.
    files_waiting: VecDeque<Target>,
    /// The script's failed step, worded, until its run's end says how the run ends.
    failed_step: Option<String>,
}

impl Runner {
    /// Starts the session `plan` describes (and, when it sends standard input, the thread reading it) and runs it
    /// to the end.
    pub(super) fn start(plan: Plan) -> Result<(), CliError> {
        // Before the session starts, so that no signal in between ends the process with its files unfinished.
        // Where that cannot be arranged (no pipe for it), a signal ends the process as it always did; nothing is
        // said, since the first stderr line is the ready line (contract).
        let stops = signals::listen().unwrap_or_else(|_| never());
        let session = Session::start(plan.config.clone(), Arc::new(|| {}))?;
        let stdin = if plan.stdin {
            Some(read_stdin_lines().map_err(CliError::Stdin)?)
        } else {
            None
        };
        Runner::new(plan, session, stdin, stops).run()
    }

    fn new(plan: Plan, session: Session, stdin: Option<Receiver<StdinLine>>, stops: Receiver<Stop>) -> Self {
        Runner {
            state: SessionState::new(&plan.config.mode),
            session,
            config: plan.config,
            greeting: plan.greeting,
            spec: plan.spec,
            quit: plan.quit,
            datagram_limit: plan.datagram_limit,
            vars: plan.vars,
            printer: plan.printer.map(Printer::new),
            stdin,
            stdin_lines: 0,
            stops,
            stopping: None,
            ready_at: None,
            last_activity: Instant::now(),
            files_waiting: VecDeque::new(),
            failed_step: None,
        }
    }

    fn run(mut self) -> Result<(), CliError> {
        let events = self.session.events().clone();
        loop {
            // Lines wait in their channel until they have somewhere to go.
            let lines = match &self.stdin {
                Some(lines) if self.state.reachable() > 0 && self.stopping.is_none() => lines.clone(),
                _ => never(),
            };
            let timer = self.deadline().map_or_else(never, crossbeam_channel::at);
            let stops = self.stops.clone();
            select! {
                recv(events) -> batch => {
                    let Ok(batch) = batch else {
                        return self.stopping.take().unwrap_or(Err(CliError::Failed));
                    };
                    for event in batch {
                        if let EventKind::Closed { reason } = event.kind {
                            self.print(Printer::finish);
                            self.flush_stdout();
                            self.summary();
                            return self.closed(reason);
                        }
                        self.handle(event);
                    }
                }
                recv(lines) -> line => self.stdin_line(line),
                recv(stops) -> stop => match stop {
                    Ok(stop) => {
                        note(format_args!("{stop}: stopping (Ctrl+C again ends at once)"));
                        self.stop(Err(CliError::Stopped(stop)));
                    }
                    // The listening thread is gone: no request can come any more.
                    Err(_) => self.stops = never(),
                },
                recv(timer) -> _ => {
                    if self.deadline().is_some_and(|due| Instant::now() >= due) {
                        self.stop(Ok(()));
                    }
                }
            }
            self.flush_stdout();
        }
    }

    /// The earliest quit timer; none before the first stderr line or once it is stopping. A time too far
    /// off for the clock to represent never comes.
    fn deadline(&self) -> Option<Instant> {
        let ready_at = self.ready_at.filter(|_| self.stopping.is_none())?;
        let after_secs = self.quit.quit_after_secs.and_then(|secs| ready_at.checked_add(secs));
        let idle = self
            .quit
            .quit_when_idle
            .and_then(|ms| self.last_activity.checked_add(Duration::from_millis(ms)));
        after_secs.into_iter().chain(idle).min()
    }

    /// The session's state is folded in `SessionState`; what is left here is the command line's own: the
    /// stderr lines, printing, greeting whoever became reachable, and the quit conditions.
    fn handle(&mut self, event: Event) {
        let reachable = self.state.apply(&event);
        // `--quit-after-bytes` is checked when ready too, so 0 quits at once (after any greeting is queued).
        let counts = matches!(
            event.kind,
            EventKind::Ready { .. }
                | EventKind::Connected { .. }
                | EventKind::Received { .. }
                | EventKind::ReceivedLen { .. }
        );
        match event.kind {
            EventKind::Ready { local } => {
                if let Some(line) = self.config.mode.ready_line(local) {
                    self.ready(format_args!("{line}"));
                }
                if let Some(buffer) = self.session.recv_buffer().filter(|b| b.capped()) {
                    let (granted, wanted) = (buffer.granted, buffer.wanted);
                    note(format_args!(
                        "note: the OS gave a UDP receive buffer of {granted} bytes, not {wanted}: bursts may be \
                         dropped (Linux: raise net.core.rmem_max)"
                    ));
                }
            }
            EventKind::Connected { local, peer } => self.ready(format_args!("connected to {peer} from {local}")),
            EventKind::PeerJoined { peer, .. } => note(format_args!("{} {peer} joined", self.peer_noun())),
            EventKind::Paired { client, via, upstream } => {
                note(format_args!("client {client}: connected to {upstream} from {via}"));
                if let Some(printer) = &mut self.printer {
                    printer.paired(client, via, upstream);
                }
            }
            EventKind::PeerRefused { peer } => {
                note(format_args!(
                    "{} {peer} refused: the limit set by --max-clients or --max-pairs is reached",
                    self.peer_noun()
                ));
            }
            EventKind::PeerLeft { peer, reason } => self.peer_left(peer, reason),
            EventKind::RemoteChanged { remote } => note(format_args!("sending to {remote}")),
            EventKind::TlsHandshake(handshake) => note(format_args!("{handshake}")),
            EventKind::TlsServing { cert, self_signed } => {
                let made = if self_signed {
                    "a self-signed certificate made now"
                } else {
                    "the certificate"
                };
                note(format_args!(
                    "TLS: presenting {made}: {} for {} (sha256 {}), valid until {}",
                    cert.subject,
                    cert.san.join(", "),
                    cert.sha256,
                    cert.not_after
                ));
            }
            // Printed before it counts toward a quit condition; the engine has already queued its echo.
            EventKind::Received { peer, bytes } => {
                self.print(|printer| printer.chunk(event.at, peer, &bytes));
                self.last_activity = Instant::now();
            }
            EventKind::ReceivedLen { .. } | EventKind::Sent { .. } => self.last_activity = Instant::now(),
            EventKind::FileProgress { done, .. } => {
                self.last_activity = Instant::now();
                if done {
                    self.next_file();
                }
            }
            EventKind::Reconnecting { after } => {
                if let Some(failure) = self.state.take_connect_failure() {
                    note(format_args!("error: {failure}"));
                }
                note(format_args!("reconnecting in {} ms", after.as_millis()));
                // A client that never connects has no ready line: its first stderr line starts the clock.
                self.start_clock();
            }
            EventKind::Error(error) => match self.fatality(&error) {
                Fatality::Fatal => self.stop(Err(CliError::Net(error))),
                Fatality::BadArgument => self.stop(Err(CliError::Usage(error.to_string()))),
                Fatality::ClientFile => self.file_failed(&error),
                Fatality::Reported => note(format_args!("error: {error}")),
            },
            // Lossless delivery never drops from view; the rest is state.
            EventKind::Connecting { .. }
            | EventKind::ConnectFailed { .. }
            | EventKind::PeriodicProgress { .. }
            | EventKind::DroppedFromView { .. }
            | EventKind::Closed { .. } => {}
            EventKind::Automation(auto) => self.automation(auto),
        }
        if let Some(target) = reachable {
            self.greet(target);
        }
        if counts
            && self
                .quit
                .quit_after_bytes
                .is_some_and(|limit| self.state.received() >= limit)
        {
            self.stop(Ok(()));
        }
    }

    /// Rule trouble goes to stderr; a script's end ends a tcp-client's or udp run (exit 0, or 1 naming the step),
    /// while a server reports each client's and goes on.
    fn automation(&mut self, event: AutoEvent) {
        // A script that runs per client reports each run and goes on; a single run ends the session.
        let server = self.config.mode.caps().script_scope == ScriptScope::EachClient;
        let noun = self.peer_noun();
        let who = |peer: Option<SocketAddr>| peer.map_or_else(String::new, |peer| format!("{noun} {peer}: "));
        match event {
            AutoEvent::RuleFailed { peer, rule, problem } => {
                note(format_args!("error: reply to {peer} by rule {}: {problem}", rule + 1));
            }
            AutoEvent::Step {
                peer,
                round,
                step,
                elapsed,
                outcome: StepOutcome::Failed { received },
            } => {
                let failure = self.step_failure(round, step, elapsed, &received);
                if server {
                    note(format_args!("{}{failure}", who(peer)));
                } else {
                    self.failed_step = Some(failure);
                }
            }
            AutoEvent::ScriptEnded { peer, end } => match (end, server) {
                (ScriptEnd::Passed, true) => note(format_args!("{}script passed", who(peer))),
                (ScriptEnd::Passed, false) => {
                    note(format_args!("script passed"));
                    self.stop(Ok(()));
                }
                (ScriptEnd::Failed { .. }, false) => {
                    let failure = self.failed_step.take().unwrap_or_else(|| "script failed".into());
                    self.stop(Err(CliError::ScriptFailed(failure)));
                }
                (ScriptEnd::Failed { .. } | ScriptEnd::Stopped, _) => {}
            },
            AutoEvent::Rules { .. } | AutoEvent::ScriptStarted { .. } | AutoEvent::Step { .. } => {}
        }
    }

    /// "script step 3 (expect = \"Hello\") failed in round 1 after 2000 ms; received instead (5 bytes): text
    /// \"Hi!\\r\\n\", hex 48 69 21 0D 0A" — one line, whatever arrived.
    fn step_failure(&self, round: u64, step: usize, elapsed: Duration, received: &[u8]) -> String {
        const SHOWN: usize = 256;
        let source = self
            .config
            .script
            .as_ref()
            .and_then(|script| script.sources.get(step))
            .map(|source| format!(" ({source})"))
            .unwrap_or_default();
        let shown = &received[..received.len().min(SHOWN)];
        let more = if received.len() > SHOWN { " …" } else { "" };
        let text = self.spec.encoding.decode_all(shown);
        format!(
            "script step {}{source} failed in round {round} after {} ms; received instead ({} bytes): text {:?}{more}, \
             hex {}{more}",
            step + 1,
            elapsed.as_millis(),
            received.len(),
            text,
            to_hex(shown),
        )
    }

    /// What the engine could not do, counted, on stderr once the session is over.
    fn summary(&self) {
        let counters = self.session.counters().snapshot();
        if counters.missed_ticks > 0 {
            let ticks = counters.missed_ticks;
            note(format_args!(
                "periodic send: {ticks} ticks skipped (the sender was late; none are made up)"
            ));
        }
        if counters.kernel_dropped > 0 {
            let dropped = counters.kernel_dropped;
            note(format_args!(
                "udp: the kernel dropped {dropped} datagrams before they were read (buffer full)"
            ));
        }
    }

    /// The first stderr line (contract), and the start of the quit timers.
    fn ready(&mut self, line: fmt::Arguments) {
        note(line);
        self.start_clock();
        self.last_activity = Instant::now();
    }

    /// The quit timers count from the first stderr line (`--help` says so).
    fn start_clock(&mut self) {
        if self.ready_at.is_none() {
            let now = Instant::now();
            self.ready_at = Some(now);
            self.last_activity = now;
        }
    }

    fn peer_left(&mut self, peer: SocketAddr, reason: LeaveReason) {
        self.print(|printer| printer.peer_gone(peer));
        self.files_waiting.retain(|&target| target != Target::Peer(peer));
        let why = match reason {
            LeaveReason::Closed => "closed by peer",
            LeaveReason::Reset => "connection reset by peer",
            LeaveReason::Kicked => "kicked",
            LeaveReason::Error => "error",
            LeaveReason::Idle => "idle, forgotten",
        };
        note(format_args!("{} {peer} left: {why}", self.peer_noun()));
    }

    fn peer_noun(&self) -> &'static str {
        self.config.mode.caps().peer_noun
    }

    /// Starts what `--send`, `--send-hex` or `--send-file` asked for towards a destination that just became reachable.
    fn greet(&mut self, target: Target) {
        match &self.greeting {
            Some(Greeting::File(_)) => {
                self.files_waiting.push_back(target);
                self.next_file();
            }
            Some(Greeting::Bytes {
                bytes, repeat: None, ..
            }) => self.send(target, bytes.clone()),
            // One schedule per session: it goes to every client, and a client that joins while
            // none runs starts it again.
            Some(Greeting::Bytes {
                bytes,
                repeat: Some(repeat),
                ..
            }) if self.state.periodic().is_none() => {
                self.state.periodic_started();
                self.session.command(Command::SendPeriodic {
                    to: Target::Default,
                    bytes: bytes.clone(),
                    interval: repeat.interval,
                    count: repeat.count,
                });
            }
            // No greeting, or the schedule already runs.
            _ => {}
        }
    }

    fn next_file(&mut self) {
        let Some(Greeting::File(path)) = &self.greeting else {
            return;
        };
        if self.state.file().is_some() {
            return;
        }
        let path = path.clone();
        while let Some(to) = self.files_waiting.pop_front() {
            // Looked at again for each client: it may have gone or changed since the last one got it.
            let len = match sendable_file(&path) {
                Ok(len) => len,
                Err(error) => match to {
                    // A server's clients are each on their own: only this one goes without.
                    Target::Peer(peer) => {
                        note(format_args!("error: {error} (client {peer} is sent nothing)"));
                        continue;
                    }
                    Target::Default | Target::Upstream(_) => return self.stop(Err(error)),
                },
            };
            if self.config.mode.caps().datagrams && len > MAX_DATAGRAM as u64 {
                let datagrams = len.div_ceil(MAX_DATAGRAM as u64);
                note(format_args!(
                    "--send-file: {len} bytes go as {datagrams} datagrams of at most {MAX_DATAGRAM} bytes"
                ));
            }
            self.state.file_started(len);
            self.session.command(Command::SendFile { to, path });
            return;
        }
    }

    /// A server's file send that failed while reading: that client goes without, the next one's starts (the
    /// state has marked the file send ended).
    fn file_failed(&mut self, error: &NetError) {
        note(format_args!("error: {error}"));
        self.next_file();
    }

    fn stdin_line(&mut self, line: Result<StdinLine, RecvError>) {
        let bytes = match line {
            // End of input: nothing more to send, the session goes on.
            Err(RecvError) => {
                self.stdin = None;
                return;
            }
            Ok(Ok(bytes)) => bytes,
            Ok(Err(StdinError::Read(error))) => return self.stop(Err(CliError::Stdin(error))),
            Ok(Err(StdinError::TooLong)) => {
                let line = self.stdin_lines + 1;
                return self.stop(Err(CliError::StdinTooLong { line }));
            }
        };
        self.stdin_lines += 1;
        let line = self.stdin_lines;
        let built = String::from_utf8(bytes)
            .map_err(|_| CliError::StdinNotUtf8 { line })
            .and_then(|text| {
                outgoing(&text, &self.spec, self.vars).map_err(|error| match error {
                    Unsendable::Payload(source) => CliError::StdinLine { line, source },
                    Unsendable::Vars(source) => CliError::StdinVars { line, source },
                })
            });
        let limit = self.datagram_limit.unwrap_or(usize::MAX);
        match built {
            Ok((_, len)) if len > limit => self.stop(Err(CliError::DatagramTooLarge {
                option: "--stdin",
                len,
                limit,
            })),
            // An empty line (as typed, or as its template first fills in): nothing to send. `--send` is never
            // empty (`NothingToSend`), so this is the one place a send could be.
            Ok((_, 0)) => {}
            Ok((bytes, _)) => self.send(Target::Default, bytes),
            Err(error) => self.stop(Err(error)),
        }
    }

    fn send(&self, to: Target, bytes: Outgoing) {
        self.session.command(Command::Send { to, bytes });
    }

    /// Tells the session to stop; the first reason given is how the run ends, except that an error met while
    /// stopping (bytes left unsent, a capture that could not be finished) turns a clean quit into a failure.
    /// Later errors are printed as they come.
    fn stop(&mut self, result: Result<(), CliError>) {
        match (&self.stopping, result) {
            (None, result) => {
                self.stopping = Some(result);
                self.session.command(Command::Stop);
            }
            (Some(Ok(())), Err(error)) => self.stopping = Some(Err(error)),
            (Some(_), Err(error)) => note(format_args!("error: {error}")),
            (Some(_), Ok(())) => {}
        }
    }

    fn closed(&mut self, reason: CloseReason) -> Result<(), CliError> {
        if let Some(result) = self.stopping.take() {
            return result;
        }
        match reason {
            CloseReason::Stopped | CloseReason::PeerClosed => Ok(()),
            CloseReason::PeerReset => Err(CliError::Reset),
            CloseReason::ConnectFailed => Err(self
                .state
                .take_connect_failure()
                .map_or(CliError::Failed, CliError::Net)),
            CloseReason::Error => Err(CliError::Failed),
        }
    }

    /// Errors that end the run: the capture and the pcap (the files asked for), the file to send, the remote's name, the engine itself, and a
    /// failed UDP send (its one destination is the session's whole purpose). A TCP server's trouble with one
    /// client is that client's: reported, and the session goes on.
    fn fatality(&self, error: &NetError) -> Fatality {
        let caps = self.config.mode.caps();
        match error {
            NetError::Resolve { .. } | NetError::RelayLoop { .. } if caps.forwards => Fatality::BadArgument,
            NetError::ReadFile { .. } if caps.accepts => Fatality::ClientFile,
            NetError::Capture { .. }
            | NetError::Pcap { .. }
            | NetError::ReadFile { .. }
            | NetError::Unsent { .. }
            | NetError::FileStopped { .. }
            | NetError::Resolve { .. }
            | NetError::DatagramTooLarge { .. }
            | NetError::Internal(_)
            | NetError::Panicked { .. } => Fatality::Fatal,
            // A relay's trouble sending to one client is that client's.
            NetError::Send { .. } | NetError::NoPeer(_) | NetError::SendQueueFull { .. }
                if caps.datagrams && !caps.forwards =>
            {
                Fatality::Fatal
            }
            _ => Fatality::Reported,
        }
    }

    /// Runs `write` on the printer; a reader that went away (EPIPE) ends the run like a quit
    /// condition, any other write error as a failure.
    fn print(&mut self, write: impl FnOnce(&mut Printer) -> io::Result<()>) {
        let Some(printer) = &mut self.printer else {
            return;
        };
        if let Err(error) = write(printer) {
            self.printer = None;
            let result = match error.kind() {
                io::ErrorKind::BrokenPipe => Ok(()),
                _ => Err(CliError::Stdout(error)),
            };
            self.stop(result);
        }
    }

    fn flush_stdout(&mut self) {
        self.print(Printer::flush);
    }
}

/// What an engine error does to the run.
enum Fatality {
    /// It ends the run (exit 1).
    Fatal,
    /// It ends the run as a bad argument would (exit 2): a relay's UPSTREAM that names nothing, or the relay.
    BadArgument,
    /// A server's file send to one client failed; the others still get theirs.
    ClientFile,
    /// Reported on stderr; the session goes on.
    Reported,
}
