//! One tab: a session as the user set it up (`TabConfig`, saved) and what it is doing now (`TabState`: the
//! engine session, its folded events, the log and view, counters, capture). Panels read `TabState` and edit
//! `TabConfig`; whatever has side effects comes back as a `TabAction` that `Tab::apply` carries out.
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::Sender;

use crate::automation::rules::{RuleSpec, Rules};
use crate::automation::script::ScriptSpec;
use crate::export::find::Batch;
use crate::export::{ExportError, Format, Progress, Session as ExportSession};
use crate::gui::auto_state::{AutoState, editable_rules, editable_script};
use crate::gui::dialog::FilePurpose;
use crate::gui::finder::Finder;
use crate::gui::i18n::{Lang, Notice};
use crate::gui::settings::{Prefs, TabConfig};
use crate::history::{Chunk, Direction, History};
use crate::net::{
    CaptureFile, Command, CounterSnapshot, Event, EventKind, Kind, NetError, Nobody, RemoteUse, ScriptScope, Session,
    Target,
};
use crate::payload::PayloadError;
use crate::session::state::{ClientInfo, LinkState, SessionState};
use crate::session::stats::Throughput;
use crate::view::{View, ViewOptions};

/// Event batches taken per frame and tab; the rest wait for the next frame, so a flood never freezes the window.
const BATCHES_PER_FRAME: usize = 64;

/// A tab's identity for as long as the window runs and across restarts: background results carry it, and the
/// layout tree holds it (never a copy of the tab).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct TabId(pub u64);

/// What a tab's panels ask it to do.
#[must_use]
#[derive(Debug, Clone, PartialEq)]
pub enum TabAction {
    Open,
    Close,
    /// Send the send box (or a quick command's text) with the send settings.
    Send {
        text: String,
        hex: bool,
    },
    StartPeriodic,
    StopPeriodic,
    /// HEX send ticked (`true`) or unticked: the box's text is converted, as NetAssist does.
    SetSendHex(bool),
    ClearSendBox,
    /// Ask for a file (send file, receive to file, save view) with the system's dialog, or a typed path.
    PickFile(FilePurpose),
    StopCapture,
    StopPcap,
    Kick(SocketAddr),
    /// Stops the export being written (its partial file is removed).
    CancelExport,
    /// Server mode: the client sends go to (`None`: every client).
    SetTarget(Option<SocketAddr>),
    SetPaused(bool),
    /// The receive pane's peer filter and its width in characters, as drawn.
    Layout {
        filter: Option<SocketAddr>,
        columns: usize,
    },
    ClearView,
    /// The whole view, or the selected rows, to the clipboard (laid out on a thread of its own).
    CopyAll,
    /// A click (`extend`: Shift+click) on the row showing these chunks.
    SelectRows {
        seqs: std::ops::RangeInclusive<u64>,
        extend: bool,
    },
    ClearSelection,
    ResetCounters,
    /// Hand the rules table to the running session (once every rule is valid).
    ApplyRules,
    RunScript,
    StopScript,
    /// The script run on show (`None`: the latest).
    ShowRun(Option<Option<SocketAddr>>),
    Find(FindAction),
}

/// The find bar's buttons and keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindAction {
    Open,
    Close,
    Next,
    Previous,
}

/// What a tab's background work (file dialog, save, copy, export) came back with, addressed to the tab.
pub enum Picked {
    Chosen(TabId, FilePurpose, crate::gui::dialog::Chosen),
    Failed(Notice),
    /// An export ended (written, cancelled, or failed with the reason): the tab stops showing its progress.
    Exported(TabId, Option<Notice>),
    /// The view's text, for the clipboard.
    Copy(String),
    /// Matches of a tab's search numbered `generation`, as they come.
    Found(TabId, u64, Batch),
    /// A rules or script file read and checked (or why it was refused, naming the file).
    Imported(TabId, Imported),
}

pub enum Imported {
    Rules(Result<Vec<RuleSpec>, String>),
    Script(Result<ScriptSpec, String>),
}

/// A tab's link at a glance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dot {
    Closed,
    Opening,
    Open,
}

/// A network error together with the mode of the attempt that made it: switching mode hides it.
#[derive(Debug, Clone)]
pub struct AttemptError {
    pub mode: Kind,
    pub notice: Notice,
}

/// The counters on show: every session since the last Reset, plus what fell out of the view's own budget.
#[derive(Debug, Clone, Copy, Default)]
pub struct Totals {
    /// Sessions already closed since the last reset.
    closed: CounterSnapshot,
    /// The open session's counters as last read.
    current: CounterSnapshot,
    /// Bytes the window's history dropped to stay within its budget (Clear does not take them back).
    log_dropped: u64,
}

impl Totals {
    /// The engine's counts over every session since the last reset.
    pub fn engine(&self) -> CounterSnapshot {
        self.closed.plus(self.current)
    }

    pub fn rx_bytes(&self) -> u64 {
        self.engine().rx_bytes
    }

    pub fn tx_bytes(&self) -> u64 {
        self.engine().tx_bytes
    }

    /// Received bytes not on show: the engine's (window behind) plus the history's (budget). Only grows until
    /// Reset.
    pub fn dropped_from_view(&self) -> u64 {
        self.engine().dropped_from_view + self.log_dropped
    }

    fn close_session(&mut self) {
        self.closed = self.engine();
        self.current = CounterSnapshot::default();
    }
}

/// What the send box's text means right now, checked as the user types (and cached while it stays the same).
#[derive(Debug, Clone)]
struct SendCheck {
    key: (String, crate::payload::PayloadSpec),
    result: Result<Vec<u8>, PayloadError>,
}

/// Bytes per second, recomputed about once a second from the engine's exact counters.
#[derive(Debug, Default)]
pub struct Rates {
    pub rx: f64,
    pub tx: f64,
    last: Option<(Instant, u64, u64)>,
}

/// A tab's runtime: nothing here is saved.
pub struct TabState {
    session: Option<Session>,
    /// The open (or opening) session's events, folded: link state, clients, progress.
    live: Option<SessionState>,
    log: History,
    view: View,
    paused: bool,
    /// Server mode: `None` sends to every client.
    target: Option<SocketAddr>,
    /// The last network error, shown until the next Open (and only in the mode that made it).
    error: Option<AttemptError>,
    /// Why the last send or send-box conversion did not happen (not open, no clients, …).
    send_error: Option<Notice>,
    send_check: Option<SendCheck>,
    /// `log.dropped_bytes_total()` at the last Reset: the history's drops before it are not counted.
    log_dropped_at_reset: u64,
    /// Receive-to-file, kept across Close/Open: a reopened session appends to it.
    capture: Option<CaptureFile>,
    /// Live pcap, kept across Close/Open like the capture: a reopened session adds a section to it.
    pcap: Option<CaptureFile>,
    /// Exact counters; they stay on show after Close and go on counting at the next Open, as in NetAssist.
    totals: Totals,
    rates: Rates,
    /// The receive pane's width in characters, as last applied to the view, and a new one waiting to settle.
    wrap_columns: Option<usize>,
    pending_columns: Option<(usize, Instant)>,
    /// The last closed session, stopping on a thread of its own (its worker may still write out its queue and
    /// its capture): the UI thread never joins it.
    reaper: Option<std::thread::JoinHandle<()>>,
    /// Open was asked for while the last session was still stopping: it opens once that one is gone (its port
    /// and capture file are free then).
    open_when_reaped: bool,
    /// Data arrived while the tab was not on show (the title gets a mark until it is shown).
    unseen: bool,
    /// An export being written on a thread of its own: its format and progress (with its cancel flag).
    export: Option<(Format, Arc<Progress>)>,
    auto: AutoState,
    find: Finder,
    /// Bytes per second over the last five minutes, sampled from the engine's counters whether shown or not.
    throughput: Throughput,
    picked: Sender<Picked>,
    repaint: egui::Context,
}

pub struct Tab {
    pub id: TabId,
    pub config: TabConfig,
    pub state: TabState,
}

impl TabState {
    pub fn is_open(&self) -> bool {
        self.session.is_some()
    }

    pub fn link(&self) -> &LinkState {
        self.live.as_ref().map_or(&LinkState::Closed, SessionState::link)
    }

    /// The bound address of an open TCP server or UDP session.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.session.as_ref().and_then(Session::local_addr)
    }

    pub fn totals(&self) -> &Totals {
        &self.totals
    }

    pub fn rates(&self) -> &Rates {
        &self.rates
    }

    pub fn paused(&self) -> bool {
        self.paused
    }

    pub fn target(&self) -> Option<SocketAddr> {
        self.target
    }

    pub fn capture(&self) -> Option<&CaptureFile> {
        self.capture.as_ref()
    }

    pub fn pcap(&self) -> Option<&CaptureFile> {
        self.pcap.as_ref()
    }

    pub fn view(&self) -> &View {
        &self.view
    }

    pub fn log(&self) -> &History {
        &self.log
    }

    pub fn auto(&self) -> &AutoState {
        &self.auto
    }

    pub fn unseen(&self) -> bool {
        self.unseen
    }

    /// The export being written, if any: its format and progress.
    pub fn export(&self) -> Option<(Format, &Progress)> {
        self.export.as_ref().map(|(format, progress)| (*format, &**progress))
    }

    pub fn throughput(&self) -> &Throughput {
        &self.throughput
    }

    pub fn finder(&self) -> &Finder {
        &self.find
    }

    /// Payload bytes the receive view's history holds now.
    pub fn history_bytes(&self) -> u64 {
        self.log.bytes() as u64
    }

    /// The receive pane's whole text, as "save view" writes it.
    pub fn view_text(&self) -> String {
        self.view.text_of_all()
    }

    pub fn clients(&self) -> impl Iterator<Item = &SocketAddr> {
        self.client_list().map(|(peer, _)| peer)
    }

    pub fn client_list(&self) -> impl Iterator<Item = (&SocketAddr, &ClientInfo)> {
        self.live.iter().flat_map(|live| live.clients())
    }

    /// A client's exact RX/TX bytes.
    pub fn client_counters(&self, peer: SocketAddr) -> Option<CounterSnapshot> {
        let live = self.live.as_ref()?;
        live.clients().get(&peer).map(|info| info.counters.snapshot())
    }

    pub fn periodic_sent(&self) -> Option<u64> {
        self.live.as_ref().and_then(SessionState::periodic)
    }

    /// `(sent, total)` bytes of the file being sent.
    pub fn file_progress(&self) -> Option<(u64, u64)> {
        self.live.as_ref().and_then(SessionState::file)
    }

    /// Whether a closed session is still stopping (its capture and port are not free yet).
    pub fn stopping(&self) -> bool {
        self.reaper.is_some()
    }

    /// Why the send box cannot be sent (bad hex, bad escape, unencodable text) or why the last send failed.
    pub fn send_error(&self, lang: Lang) -> Option<String> {
        let check = self.send_check.as_ref().and_then(|check| check.result.as_ref().err());
        match (check, &self.send_error) {
            (Some(error), _) => Some(lang.payload_error(error)),
            (None, Some(notice)) => Some(lang.notice(notice)),
            (None, None) => None,
        }
    }

    /// The send box's text is bad (shown under it, Send disabled).
    pub fn send_box_invalid(&self) -> bool {
        self.send_check.as_ref().is_some_and(|check| check.result.is_err())
    }

    /// The network error of the last attempt in `mode`.
    pub fn error(&self, mode: Kind, lang: Lang) -> Option<String> {
        self.error
            .as_ref()
            .filter(|error| error.mode == mode)
            .map(|error| lang.notice(&error.notice))
    }
}

impl Tab {
    pub fn new(id: TabId, config: TabConfig, picked: Sender<Picked>, repaint: egui::Context) -> Tab {
        let state = TabState {
            session: None,
            live: None,
            log: History::new(budget_bytes(&config)),
            view: View::new(view_options(&config, None, None)),
            paused: false,
            target: None,
            error: None,
            send_error: None,
            send_check: None,
            log_dropped_at_reset: 0,
            capture: None,
            pcap: None,
            totals: Totals::default(),
            rates: Rates::default(),
            wrap_columns: None,
            pending_columns: None,
            reaper: None,
            open_when_reaped: false,
            unseen: false,
            export: None,
            auto: AutoState::default(),
            find: Finder::default(),
            throughput: Throughput::default(),
            picked,
            repaint,
        };
        Tab { id, config, state }
    }

    /// A receive-to-file to start with the first Open (the command line's `--recv-file`).
    pub fn set_capture(&mut self, capture: Option<CaptureFile>) {
        self.state.capture = capture;
    }

    /// A live pcap to start with the first Open (the command line's `--pcap`).
    pub fn set_pcap(&mut self, pcap: Option<CaptureFile>) {
        self.state.pcap = pcap;
    }

    /// The command line's `--script`: it runs from the first Open.
    pub fn run_script_at_open(&mut self) {
        self.state.auto.set_run_at_open(true);
    }

    /// The title: the user's name, else the mode and port; a mark while it holds data not yet seen.
    pub fn title(&self, lang: Lang) -> String {
        let name = if self.config.name.trim().is_empty() {
            let port = match (self.state.local_addr(), self.state.link()) {
                (Some(local), _) => local.port().to_string(),
                (None, LinkState::Connected { peer, .. }) => peer.port().to_string(),
                (None, _) if self.config.mode.caps().remote == RemoteUse::Required => self.config.remote_port.clone(),
                (None, _) => self.config.local_port().to_string(),
            };
            format!("{} {port}", lang.kind_name(self.config.mode))
        } else {
            self.config.name.trim().to_string()
        };
        let unseen = if self.state.unseen { " ◆" } else { "" };
        format!("{name}{unseen}")
    }

    /// The link at a glance, for the dot before the title.
    pub fn dot(&self) -> Dot {
        match self.state.link() {
            LinkState::Closed => Dot::Closed,
            LinkState::Connecting(_) | LinkState::Reconnecting(_) => Dot::Opening,
            LinkState::Listening(_) | LinkState::Bound(_) | LinkState::Connected { .. } => Dot::Open,
        }
    }

    pub fn apply(&mut self, action: TabAction, prefs: &mut Prefs) {
        match action {
            TabAction::Open => self.open(prefs),
            TabAction::Close => self.close(),
            TabAction::Send { text, hex } => {
                if let Some(bytes) = self.payload(&text, hex) {
                    self.state.send_error = None;
                    self.command(Command::Send {
                        to: self.send_target(),
                        bytes: bytes.into(),
                    });
                }
            }
            TabAction::StartPeriodic => self.start_periodic(),
            TabAction::StopPeriodic => self.command(Command::StopPeriodic),
            TabAction::SetSendHex(hex) => self.set_send_hex(hex),
            TabAction::ClearSendBox => {
                self.config.send.text.clear();
                self.state.send_error = None;
            }
            // The window owns the dialogs (one at a time, for every tab).
            TabAction::PickFile(_) => {}
            TabAction::StopCapture => {
                if let Some(session) = &self.state.session {
                    session.command(Command::Capture(None));
                }
                self.state.capture = None;
            }
            TabAction::StopPcap => {
                if let Some(session) = &self.state.session {
                    session.command(Command::Pcap(None));
                }
                self.state.pcap = None;
            }
            TabAction::Kick(peer) => self.command(Command::Kick(peer)),
            TabAction::CancelExport => {
                if let Some((_, progress)) = &self.state.export {
                    progress.cancel.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            }
            TabAction::SetTarget(target) => self.state.target = target,
            TabAction::SetPaused(paused) => self.state.paused = paused,
            TabAction::Layout { filter, columns } => self.update_view_options(filter, columns),
            TabAction::ClearView => {
                self.state.log.clear();
                self.state.view.append(&self.state.log);
                self.state.find.invalidate();
            }
            TabAction::ResetCounters => {
                let state = &mut self.state;
                if let Some(session) = &state.session {
                    session.counters().reset();
                }
                for (_, client) in state.client_list() {
                    client.counters.reset();
                }
                state.totals = Totals::default();
                state.log_dropped_at_reset = state.log.dropped_bytes_total();
                state.rates = Rates::default();
            }
            TabAction::Find(action) => {
                let state = &mut self.state;
                match action {
                    FindAction::Open => {
                        state.find.open();
                        self.update_find();
                    }
                    FindAction::Close => state.find.close(),
                    FindAction::Next => state.find.step(true),
                    FindAction::Previous => state.find.step(false),
                }
            }
            TabAction::SelectRows { seqs, extend } => self.state.view.select(seqs, extend),
            TabAction::ClearSelection => self.state.view.clear_selection(),
            TabAction::CopyAll => {
                let snapshot = self.state.view.snapshot_selected();
                let _ = self.background("wirepad-copy-all", move || Some(Picked::Copy(snapshot.text())));
            }
            TabAction::ApplyRules => {
                if let (Some(session), Ok(rules)) = (&self.state.session, self.state.auto.rules()) {
                    session.command(Command::SetRules(rules));
                    self.state.auto.rules_sent(self.config.rules.clone());
                }
            }
            TabAction::RunScript => {
                if let (Some(session), Some(script)) = (&self.state.session, self.state.auto.script()) {
                    session.command(Command::RunScript(script));
                    self.state.auto.script_started(self.config.script.clone());
                }
            }
            TabAction::StopScript => {
                if let Some(session) = &self.state.session {
                    session.command(Command::StopScript);
                }
                self.state.auto.script_stopped();
            }
            TabAction::ShowRun(peer) => self.state.auto.show_peer(peer),
        }
    }

    /// A rules or script file came back read: it replaces the table (applied with Apply, or at Open).
    pub fn imported(&mut self, imported: Imported) {
        let error = match imported {
            Imported::Rules(Ok(rules)) => {
                self.config.rules = editable_rules(rules);
                None
            }
            Imported::Script(Ok(script)) => {
                self.config.script = editable_script(script);
                None
            }
            Imported::Rules(Err(error)) | Imported::Script(Err(error)) => Some(error),
        };
        self.state.auto.set_import_error(error);
    }

    /// Reads and checks a rules or script file on a thread of its own.
    fn import(&self, purpose: FilePurpose, path: PathBuf) {
        let (id, encoding) = (self.id, self.config.receive.encoding);
        let _ = self.background("wirepad-import", move || {
            let text = std::fs::read_to_string(&path).map_err(|error| format!("{}: {error}", path.display()));
            let named = |error: String| format!("{}: {error}", path.display());
            let imported = match purpose {
                FilePurpose::ImportScript => Imported::Script(
                    text.and_then(|text| ScriptSpec::parse(&text, encoding).map_err(|error| named(error.to_string()))),
                ),
                _ => Imported::Rules(text.and_then(|text| {
                    Rules::parse(&text, encoding)
                        .map(|rules| rules.table().map(|(spec, _)| spec.clone()).collect())
                        .map_err(|error| named(error.to_string()))
                })),
            };
            Some(Picked::Imported(id, imported))
        });
    }

    /// Writes `text` on a thread of its own; a failure shows in the window.
    fn write_file(&self, path: PathBuf, text: String) {
        let _ = self.background("wirepad-write", move || {
            std::fs::write(&path, text).err().map(|error| {
                Picked::Failed(Notice::Write {
                    path,
                    error: Arc::new(error),
                })
            })
        });
    }

    /// Runs `work` on a thread of its own; what it returns comes back through the window. `false` when no
    /// thread could be started.
    fn background(&self, name: &str, work: impl FnOnce() -> Option<Picked> + Send + 'static) -> bool {
        self.background_streaming(name, move |deliver| {
            if let Some(picked) = work() {
                deliver(picked);
            }
        })
    }

    /// [`background`](Self::background) for work that hands results over as it goes.
    fn background_streaming(&self, name: &str, work: impl FnOnce(&dyn Fn(Picked)) + Send + 'static) -> bool {
        let (tx, repaint) = (self.state.picked.clone(), self.state.repaint.clone());
        let spawned = std::thread::Builder::new().name(name.into()).spawn(move || {
            work(&|picked| {
                let _ = tx.send(picked);
                repaint.request_repaint();
            });
        });
        spawned.is_ok()
    }

    /// Starts a search over the view's history when the find bar's pattern or the view changed (once the view
    /// has indexed everything, so the snapshot holds the whole history).
    fn update_find(&mut self) {
        if !self.state.find.open || self.state.view.catching_up() {
            return;
        }
        let state = &mut self.state;
        let started = match state.find.restart(&self.config.find, &state.view) {
            Some(started) => started,
            None => match state.find.more(&state.view) {
                Some(started) => started,
                None => {
                    if let Some(due) = state.find.more_due(&state.view) {
                        state
                            .repaint
                            .request_repaint_after(due.saturating_duration_since(Instant::now()));
                    }
                    return;
                }
            },
        };
        let snapshot = state.view.snapshot_since(started.since);
        let id = self.id;
        let _ = self.background_streaming("wirepad-find", move |deliver| {
            let generation = started.generation;
            crate::export::find::run(
                started.query,
                snapshot.numbered(),
                Duration::from_millis(50),
                || started.cancelled.load(std::sync::atomic::Ordering::Relaxed) != generation,
                |batch| deliver(Picked::Found(id, generation, batch)),
            );
        });
    }

    /// Matches of this tab's search came back.
    pub fn found(&mut self, generation: u64, batch: Batch) {
        self.state.find.found(generation, batch);
    }

    /// Converts the send box between text and hex in the chosen encoding; a box that cannot be converted (bad
    /// hex, unencodable text) stays as it is, with the reason shown.
    fn set_send_hex(&mut self, hex: bool) {
        let send = &self.config.send;
        if send.hex == hex {
            return;
        }
        match send.spec(self.config.receive.encoding, send.hex).convert(&send.text) {
            Ok((text, needs_escapes)) => {
                let send = &mut self.config.send;
                if !hex {
                    // Escapes on where the text needs them; off where a literal backslash must stay one.
                    send.escapes = needs_escapes || (send.escapes && !text.contains('\\'));
                }
                send.text = text;
                send.hex = hex;
                self.state.send_error = None;
            }
            Err(error) => self.state.send_error = Some(Notice::Payload(error)),
        }
    }

    fn open(&mut self, prefs: &mut Prefs) {
        self.close();
        // The window shows what is wrong beside each field and keeps Open disabled meanwhile.
        let Ok(mut config) = self.config.validate() else { return };
        let state = &mut self.state;
        // What the automation fields say, where valid (a table with a problem waits for Apply).
        state
            .auto
            .check(&self.config.rules, &self.config.script, self.config.receive.encoding);
        if let Ok(framing) = self.config.framing.framing() {
            state.auto.take_framing(framing);
        }
        config.framing = state.auto.framing().clone();
        config.rules = state.auto.rules().unwrap_or(None);
        if state.auto.run_at_open() {
            config.script = state.auto.script();
        }
        if state.reaper.is_some() {
            state.open_when_reaped = true;
            state.live = Some(SessionState::new(&config.mode));
            return;
        }
        state.error = None;
        let repaint = state.repaint.clone();
        let live = SessionState::new(&config.mode);
        let (rules, script) = (config.rules.is_some(), config.script.is_some());
        match Session::start(config, Arc::new(move || repaint.request_repaint())) {
            Ok(session) => {
                if rules {
                    state.auto.rules_sent(self.config.rules.clone());
                }
                if script {
                    state.auto.set_run_at_open(false);
                    state.auto.script_started(self.config.script.clone());
                }
                if self.config.mode.caps().remote != RemoteUse::None && !self.config.remote_host.trim().is_empty() {
                    prefs.remember_remote(self.config.remote());
                }
                state.live = Some(live);
                state.rates = Rates::default();
                state.session = Some(session);
                self.start_capture();
                self.start_pcap();
            }
            Err(error) => self.attempt_failed(Arc::new(error)),
        }
    }

    fn attempt_failed(&mut self, error: Arc<NetError>) {
        self.state.error = Some(AttemptError {
            mode: self.config.mode,
            notice: Notice::Net(error),
        });
    }

    /// Hands the capture file to the open session; a later session appends to what this one writes.
    fn start_capture(&mut self) {
        hand_over(self.state.session.as_ref(), &mut self.state.capture, Command::Capture);
    }

    /// The same for the pcap: a later session adds a section to its file.
    fn start_pcap(&mut self) {
        hand_over(self.state.session.as_ref(), &mut self.state.pcap, Command::Pcap);
    }

    pub fn close(&mut self) {
        let state = &mut self.state;
        state.open_when_reaped = false;
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
    fn reap(&mut self, prefs: &mut Prefs) {
        let state = &mut self.state;
        if state.reaper.as_ref().is_some_and(std::thread::JoinHandle::is_finished) {
            if let Some(reaper) = state.reaper.take() {
                let _ = reaper.join();
            }
            if std::mem::take(&mut state.open_when_reaped) {
                self.open(prefs);
            }
        }
    }

    /// What ends with a session, whether the user closed it or it ended by itself.
    fn closed(&mut self) {
        let state = &mut self.state;
        state.totals.close_session();
        state.session = None;
        state.live = None;
        state.target = None;
        state.rates = Rates::default();
        state.auto.closed();
    }

    fn command(&mut self, command: Command) {
        match &self.state.session {
            Some(session) => session.command(command),
            None => self.state.send_error = Some(Notice::Net(Arc::new(NetError::NoPeer(Nobody::NotOpen)))),
        }
    }

    fn send_target(&self) -> Target {
        self.state.target.map_or(Target::Default, Target::Peer)
    }

    /// The bytes `text` means with the send settings, or an inline error (and nothing sent).
    fn payload(&mut self, text: &str, hex: bool) -> Option<Vec<u8>> {
        let spec = self.config.send.spec(self.config.receive.encoding, hex);
        match spec.build(text) {
            Ok(bytes) => Some(bytes),
            Err(error) => {
                self.state.send_error = Some(Notice::Payload(error));
                None
            }
        }
    }

    /// Checks the send box as the user types: the result is kept until the text or a send setting changes.
    fn check_send_box(&mut self) {
        let send = &self.config.send;
        let spec = send.spec(self.config.receive.encoding, send.hex);
        let state = &mut self.state;
        if let Some(check) = &state.send_check
            && check.key.1 == spec
            && check.key.0 == send.text
        {
            return;
        }
        if state.send_check.is_some() {
            // The box changed: a failure of the last send no longer describes it.
            state.send_error = None;
        }
        state.send_check = Some(SendCheck {
            result: spec.build(&send.text),
            key: (send.text.clone(), spec),
        });
    }

    /// Checks the rules and script as edited, and hands a new valid framing to the session at once (an invalid
    /// one changes nothing: the fields say why).
    fn check_automation(&mut self) {
        let config = &self.config;
        let auto = &mut self.state.auto;
        auto.check(&config.rules, &config.script, config.receive.encoding);
        if let Ok(framing) = config.framing.framing()
            && auto.take_framing(framing.clone())
            && let Some(session) = &self.state.session
        {
            session.command(Command::SetFraming(framing));
        }
    }

    fn start_periodic(&mut self) {
        let Ok((interval, count)) = self.config.send.schedule() else {
            return;
        };
        let text = self.config.send.text.clone();
        if let Some(bytes) = self.payload(&text, self.config.send.hex) {
            if let (Some(live), Some(_)) = (&mut self.state.live, &self.state.session) {
                live.periodic_started();
            }
            self.command(Command::SendPeriodic {
                to: self.send_target(),
                bytes: bytes.into(),
                interval,
                count,
            });
        }
    }

    /// A file the user chose for `purpose`.
    pub fn chosen(&mut self, purpose: FilePurpose, path: PathBuf) {
        match purpose {
            FilePurpose::SendFile => self.command(Command::SendFile {
                to: self.send_target(),
                path,
            }),
            FilePurpose::Capture => {
                self.state.capture = Some(CaptureFile::truncate(path));
                self.start_capture();
            }
            FilePurpose::Pcap => {
                self.state.pcap = Some(CaptureFile::truncate(path));
                self.start_pcap();
            }
            FilePurpose::SaveView => self.save_view(path),
            FilePurpose::Export(format) => self.export(format, path),
            FilePurpose::ImportRules | FilePurpose::ImportScript => self.import(purpose, path),
            FilePurpose::ExportRules => {
                self.write_file(path, crate::automation::rules::specs_to_toml(&self.config.rules))
            }
            FilePurpose::ExportScript => self.write_file(path, self.config.script.to_toml()),
        }
    }

    /// The view's history (or its selected rows) written as `format` on a thread of its own, one export at a
    /// time; the progress shows in the tab until it ends.
    fn export(&mut self, format: Format, path: PathBuf) {
        if self.state.export.is_some() {
            return;
        }
        let snapshot = self.state.view.snapshot_selected();
        let session = ExportSession {
            local: self.local_end(),
            carrier: self.config.mode.caps().carrier,
        };
        let progress = Arc::new(Progress::default());
        self.state.export = Some((format, progress.clone()));
        let id = self.id;
        let spawned = self.background("wirepad-export", move || {
            let failed = match crate::export::write(&snapshot, format, session, &path, &progress) {
                Ok(()) | Err(ExportError::Cancelled { .. }) => None,
                Err(ExportError::Write { path, source }) => Some(Notice::Write {
                    path,
                    error: Arc::new(source),
                }),
                Err(ExportError::Pcap { path, source }) => Some(Notice::Write {
                    path,
                    error: Arc::new(std::io::Error::other(source)),
                }),
            };
            Some(Picked::Exported(id, failed))
        });
        if !spawned {
            self.state.export = None;
        }
    }

    /// An export ended.
    pub fn exported(&mut self) {
        self.state.export = None;
    }

    /// Our end of the session, for a pcap: the bound or connected address, else the fields' own.
    fn local_end(&self) -> SocketAddr {
        let fields = || {
            let ip = self
                .config
                .local_ip
                .trim()
                .parse()
                .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED.into());
            SocketAddr::new(ip, self.config.local_port().trim().parse().unwrap_or(0))
        };
        match (self.state.local_addr(), self.state.link()) {
            (Some(local), _) => local,
            (None, LinkState::Connected { local, .. }) => *local,
            _ => fields(),
        }
    }

    /// Written on a thread of its own; a failure shows in the window.
    fn save_view(&mut self, path: PathBuf) {
        // The text is made on the writer's thread too: a 64 MiB history takes a while to lay out.
        let snapshot = self.state.view.snapshot_selected();
        let _ = self.background("wirepad-save-view", move || {
            std::fs::write(&path, snapshot.text()).err().map(|error| {
                Picked::Failed(Notice::Write {
                    path,
                    error: Arc::new(error),
                })
            })
        });
    }

    /// A frame's bookkeeping, for every tab whether on show or not: `shown` tabs also bring their view up to date
    /// (a hidden tab's view catches up when it is shown again).
    pub fn logic(&mut self, prefs: &mut Prefs, shown: bool) {
        self.reap(prefs);
        self.drain_events(shown);
        self.update_counters();
        self.update_rates();
        self.sample_throughput();
        self.check_send_box();
        self.check_automation();
        if shown {
            self.update_find();
        }
        if shown {
            self.state.unseen = false;
        }
    }

    /// Takes what the engine sent since the last frame, within a budget.
    fn drain_events(&mut self, shown: bool) {
        let mut more = false;
        if let Some(session) = &self.state.session {
            let batches: Vec<Vec<Event>> = session.events().try_iter().take(BATCHES_PER_FRAME).collect();
            more = !session.events().is_empty();
            for event in batches.into_iter().flatten() {
                self.handle(event, shown);
            }
        }
        if shown {
            self.state.view.append(&self.state.log);
        }
        // The view indexes a few milliseconds' worth per frame; what is left needs another frame.
        if more || (shown && self.state.view.catching_up()) {
            self.state.repaint.request_repaint();
        }
    }

    /// The session's state is folded in one place (`SessionState`); what is left here is the tab's own.
    fn handle(&mut self, event: Event, shown: bool) {
        if let Some(live) = &mut self.state.live {
            live.apply(&event);
        }
        match event.kind {
            EventKind::Connected { .. } => self.state.error = None,
            EventKind::ConnectFailed { reason } => self.attempt_failed(reason),
            EventKind::Received { peer, bytes } => {
                self.state.unseen |= !shown;
                self.record(event.at, peer, Direction::Rx, bytes);
            }
            EventKind::Sent { peer, bytes } => self.record(event.at, peer, Direction::Tx, bytes.to_vec()),
            EventKind::Error(error) => {
                // The engine dropped the capture or pcap it could not write.
                match *error {
                    NetError::Capture { .. } => self.state.capture = None,
                    NetError::Pcap { .. } => self.state.pcap = None,
                    _ => {}
                }
                self.attempt_failed(error);
            }
            EventKind::RemoteChanged { remote } => {
                if self.config.mode.caps().follows_peer {
                    self.config.remote_host = remote.ip().to_string();
                    self.config.remote_port = remote.port().to_string();
                }
            }
            EventKind::Closed { .. } => {
                self.update_counters();
                self.closed();
            }
            // A send target that left stays chosen: the next send fails ("not connected") instead of quietly
            // going to every client. The window asks for the bytes, so `ReceivedLen` does not come.
            EventKind::Ready { .. }
            | EventKind::Connecting { .. }
            | EventKind::Reconnecting { .. }
            | EventKind::PeerJoined { .. }
            | EventKind::PeerRefused { .. }
            | EventKind::PeerLeft { .. }
            | EventKind::ReceivedLen { .. }
            | EventKind::DroppedFromView { .. }
            | EventKind::PeriodicProgress { .. }
            | EventKind::FileProgress { .. } => {}
            EventKind::Automation(event) => {
                let once = self.config.mode.caps().script_scope != ScriptScope::EachClient;
                self.state.auto.handle(event, once);
            }
        }
    }

    /// Keeps a chunk for the view, unless paused (the counters are the engine's).
    fn record(&mut self, at: SystemTime, peer: SocketAddr, direction: Direction, bytes: Vec<u8>) {
        if !self.state.paused {
            self.state.log.push(Chunk::new(at.into(), peer, direction, bytes));
        }
    }

    /// The view follows the receive settings, the filter and the pane's width; a change re-renders history.
    fn update_view_options(&mut self, filter: Option<SocketAddr>, measured_columns: usize) {
        let columns = self.settled_columns(measured_columns);
        let options = view_options(&self.config, filter, Some(columns));
        let state = &mut self.state;
        if *state.view.options() != options {
            state.view.set_options(options, &state.log);
            state.repaint.request_repaint();
        }
        let budget = budget_bytes(&self.config);
        if state.log.budget() != budget {
            state.log.set_budget(budget);
            state.view.append(&state.log);
        }
    }

    /// A new pane width re-wraps the whole history, so it is taken only once the width has held still
    /// for a moment, not on every frame of a window resize.
    fn settled_columns(&mut self, measured: usize) -> usize {
        const SETTLE: Duration = Duration::from_millis(250);
        let now = Instant::now();
        let state = &mut self.state;
        match (state.wrap_columns, state.pending_columns) {
            (None, _) => state.wrap_columns = Some(measured),
            (Some(current), _) if current == measured => state.pending_columns = None,
            (Some(_), Some((pending, since))) if pending == measured && now - since >= SETTLE => {
                state.wrap_columns = Some(measured);
                state.pending_columns = None;
            }
            (Some(_), Some((pending, _))) if pending == measured => {}
            (Some(_), _) => {
                state.pending_columns = Some((measured, now));
                state.repaint.request_repaint_after(SETTLE);
            }
        }
        state.wrap_columns.unwrap_or(measured)
    }

    fn update_counters(&mut self) {
        let state = &mut self.state;
        if let Some(session) = &state.session {
            state.totals.current = session.counters().snapshot();
        }
        // The log's total never goes down (Clear keeps it), so this only grows until Reset.
        state.totals.log_dropped = state
            .log
            .dropped_bytes_total()
            .saturating_sub(state.log_dropped_at_reset);
    }

    /// A throughput sample a second, while a session is open (a closed one's time shows as zeros once the
    /// next opens). While the counts move a frame is asked for when the next is due, so the history fills while
    /// the plot is hidden; an idle session asks for none (the seconds it missed are filled in as zeros).
    fn sample_throughput(&mut self) {
        let state = &mut self.state;
        if state.session.is_none() {
            return;
        }
        let peers = state
            .client_list()
            .map(|(peer, info)| (*peer, info.counters.snapshot()));
        let peers: Vec<_> = peers.collect();
        let total = state.totals.engine();
        let due = state.throughput.tick(Instant::now(), total, peers);
        if state.throughput.moved(total) {
            state
                .repaint
                .request_repaint_after(due.saturating_duration_since(Instant::now()));
        }
    }

    fn update_rates(&mut self) {
        let state = &mut self.state;
        if state.session.is_none() {
            return;
        }
        let (rx_total, tx_total) = (state.totals.rx_bytes(), state.totals.tx_bytes());
        let now = Instant::now();
        let rates = &mut state.rates;
        match rates.last {
            Some((at, rx, tx)) if now - at >= Duration::from_secs(1) => {
                let secs = (now - at).as_secs_f64();
                rates.rx = rx_total.saturating_sub(rx) as f64 / secs;
                rates.tx = tx_total.saturating_sub(tx) as f64 / secs;
                rates.last = Some((now, rx_total, tx_total));
            }
            Some(_) => {}
            None => rates.last = Some((now, rx_total, tx_total)),
        }
        // A rate needs another look a second later while it is not zero or the counts moved (so it can fall to
        // zero on screen); an idle session repaints nothing.
        let moving =
            rates.rx > 0.0 || rates.tx > 0.0 || rates.last.is_some_and(|(_, rx, tx)| (rx, tx) != (rx_total, tx_total));
        if moving {
            state.repaint.request_repaint_after(Duration::from_secs(1));
        }
    }
}

fn budget_bytes(config: &TabConfig) -> usize {
    config.receive.buffer_mib.max(1) as usize * 1024 * 1024
}

fn view_options(config: &TabConfig, peer_filter: Option<SocketAddr>, wrap_columns: Option<usize>) -> ViewOptions {
    let receive = &config.receive;
    ViewOptions {
        hex: receive.hex,
        encoding: receive.encoding,
        log_mode: receive.log_mode,
        show_tx: receive.show_sent,
        wrap_columns: if receive.wrap { wrap_columns } else { None },
        peer_filter,
    }
}

/// Gives `file` to the open session with `command`; whatever opens next appends to it.
fn hand_over(session: Option<&Session>, file: &mut Option<CaptureFile>, command: fn(Option<CaptureFile>) -> Command) {
    if let (Some(session), Some(file)) = (session, file) {
        session.command(command(Some(file.clone())));
        file.append = true;
    }
}
