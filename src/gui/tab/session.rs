//! Opening and closing the session: Open validates and starts it (or waits for the last one to stop), Close hands
//! it to a reaper thread so the window never waits for a worker, and what ends with a session either way.
use std::sync::Arc;

use crossbeam_channel::{Receiver, TryRecvError};

use crate::gui::i18n::Notice;
use crate::net::{Command, NetError, Nobody, RemoteUse, Session, SessionConfig};

use super::jobs::GivenFiles;
use super::off_thread::start_off_thread;
use crate::session::state::SessionState;
use crate::settings::Prefs;

use super::{AttemptError, AttemptFields, Rates, Tab};

impl Tab {
    pub(super) fn open(&mut self) {
        self.close();
        // The window shows what is wrong beside each field and keeps Open disabled meanwhile.
        let Ok(mut config) = self.config.validate() else { return };
        let state = &mut self.state;
        // What the automation fields say, where valid (a table with a problem waits for Apply).
        let forwards = self.config.mode.caps().forwards;
        let fields = &self.config;
        state
            .auto
            .check(&fields.rules, &fields.script, fields.receive.encoding, forwards);
        if let Ok(framing) = self.config.framing.framing() {
            state.auto.take_framing(framing);
        }
        config.framing = state.auto.framing().clone();
        config.rules = state.auto.rules().unwrap_or(None);
        // Armed with Run before Open, or run at every Open: it starts with the connection and misses nothing.
        if state.auto.run_at_open() || self.config.script_on_open {
            config.script = state.auto.script();
        }
        // In the config, not a command once the session is up: the session starts on another thread, and a peer
        // that speaks at once would be read before the command came.
        config.capture = state.capture.clone();
        config.pcap = state.pcap.clone();
        if state.reaper.is_some() {
            state.open_when_reaped = true;
            state.live = Some(SessionState::new(&config.mode));
            return;
        }
        state.error = None;
        state.tls.opened();
        state.live = Some(SessionState::new(&config.mode));
        let (rules, script) = (config.rules.is_some(), config.script.is_some());
        let files = (config.capture.clone(), config.pcap.clone());
        match start_on_a_thread(config, state.repaint.clone()) {
            Ok(result) => {
                state.starting = Some(Starting {
                    result,
                    rules,
                    script,
                    files,
                })
            }
            Err(error) => self.start_failed(Arc::new(error)),
        }
    }

    /// The session asked for at Open, once its thread has started it (or said why not).
    pub(super) fn poll_start(&mut self, prefs: &mut Prefs) {
        let Some(starting) = &self.state.starting else { return };
        let result = match starting.result.try_recv() {
            Ok(result) => result,
            Err(TryRecvError::Empty) => return,
            // The opener ended without a word: it panicked.
            Err(TryRecvError::Disconnected) => Err(NetError::Panicked {
                message: "the thread opening the session ended".into(),
                log: None,
            }),
        };
        let Some(Starting {
            rules, script, files, ..
        }) = self.state.starting.take()
        else {
            return;
        };
        match result {
            Ok(session) => self.started(session, rules, script, files, prefs),
            Err(error) => self.start_failed(Arc::new(error)),
        }
    }

    fn started(&mut self, session: Session, rules: bool, script: bool, files: GivenFiles, prefs: &mut Prefs) {
        let state = &mut self.state;
        state.auto.set_run_at_open(false);
        if rules {
            state.auto.rules_sent(self.config.rules.clone());
        }
        if script {
            state.auto.script_started(self.config.script.clone(), true);
        }
        if self.config.mode.caps().remote != RemoteUse::None && !self.config.remote_host.trim().is_empty() {
            prefs.remember_remote(self.config.remote());
        }
        state.opened_at_seq = state.log.next_seq();
        state.rates = Rates::default();
        state.session = Some(session);
        self.settle_files(files);
    }

    fn start_failed(&mut self, error: Arc<NetError>) {
        self.state.live = None;
        self.attempt_failed(error);
    }

    pub(super) fn attempt_failed(&mut self, error: Arc<NetError>) {
        self.state.error = Some(AttemptError {
            fields: AttemptFields::of(&self.config),
            notice: Notice::Net(error),
        });
    }

    pub fn close(&mut self) {
        let state = &mut self.state;
        state.open_when_reaped = false;
        // A session still starting is stopped by its own thread once it has one (see `start_on_a_thread`).
        state.starting = None;
        if let Some(session) = state.session.take() {
            state.totals.current = session.counters().snapshot();
            let (previous, repaint) = (state.reaper.take(), state.repaint.clone());
            let reaper = std::thread::Builder::new()
                .name("wirepad-reaper".into())
                .spawn(move || {
                    // Sessions end in the order they were closed.
                    if let Some(previous) = previous {
                        let _ = previous.join();
                    }
                    session.stop();
                    repaint.request_repaint();
                });
            // Without a thread to hand it to, it stops here (dropping the closure stops it).
            state.reaper = reaper.ok();
        }
        self.closed();
    }

    /// Hands the stopping session over to whoever must wait for it (the window, when it goes away).
    pub fn take_reaper(&mut self) -> Option<std::thread::JoinHandle<()>> {
        self.state.reaper.take()
    }

    /// Forgets a session that has finished stopping, and opens the next one if that was waiting for it.
    pub(super) fn reap(&mut self) {
        let state = &mut self.state;
        if state.reaper.as_ref().is_some_and(std::thread::JoinHandle::is_finished) {
            if let Some(reaper) = state.reaper.take() {
                let _ = reaper.join();
            }
            if std::mem::take(&mut state.open_when_reaped) {
                self.open();
            }
        }
    }

    /// What ends with a session, whether the user closed it or it ended by itself.
    pub(super) fn closed(&mut self) {
        let state = &mut self.state;
        state.totals.close_session();
        state.session = None;
        state.live = None;
        state.target = None;
        state.pairs.session_ended();
        state.rates = Rates::default();
        state.auto.closed();
    }

    pub(super) fn command(&mut self, command: Command) {
        match &self.state.session {
            Some(session) => session.command(command),
            None => self.state.send_error = Some(Notice::Net(Arc::new(NetError::NoPeer(Nobody::NotOpen)))),
        }
    }
}

/// An Open on its way: the session starts on a thread of its own, since starting may read files (TLS
/// certificates, the system's CA store) or make a certificate, and the UI thread never waits on a disk.
pub(super) struct Starting {
    /// What the thread will say.
    result: Receiver<Result<Session, NetError>>,
    /// Whether the session was given rules and a script (the tab notes them once it has started).
    rules: bool,
    script: bool,
    /// The capture and pcap files its config carried.
    files: GivenFiles,
}

/// Starts the session on a short-lived thread. If the tab has stopped waiting (Close, or the tab went away)
/// by the time it has started, the thread stops it itself.
fn start_on_a_thread(
    config: SessionConfig,
    repaint: egui::Context,
) -> Result<Receiver<Result<Session, NetError>>, NetError> {
    let notify = repaint.clone();
    let start = move || Session::start(config, Arc::new(move || notify.request_repaint()));
    start_off_thread("wirepad-open", repaint, start, Session::stop).map_err(NetError::Internal)
}
