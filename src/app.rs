//! The window's glue: owns the session, the log and the settings; drains engine events each frame and
//! applies what the panels ask for. Panels live in `ui/` and return `Action`s instead of acting themselves.
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, Sender, unbounded};

use crate::cli::SessionArgs;
use crate::codec::text::TextEncoding;
use crate::dialog::{Chosen, FileDialogs, FilePurpose, SystemDialogs};
use crate::frame_log::FrameLog;
use crate::i18n::{Lang, Notice, Texts};
use crate::log::{Chunk, Direction, Log};
use crate::net::{CaptureFile, Command, CounterSnapshot, Event, EventKind, NetError, Nobody, Session, Target};
use crate::send::PayloadError;
use crate::session::spec::default_udp_bind;
use crate::session::state::{ClientInfo, LinkState, SessionState};
use crate::settings::{ModeKind, Settings};
use crate::ui;
use crate::view::{View, ViewOptions};

/// Event batches taken per frame; the rest wait for the next frame, so a flood never freezes the window.
const BATCHES_PER_FRAME: usize = 64;

/// What the panels ask the app to do.
#[must_use]
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
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
    /// The path typed into the window where no file dialog exists (`None`: cancelled).
    TypedPath(Option<PathBuf>),
    StopCapture,
    Kick(SocketAddr),
    ClearView,
    /// The whole view to the clipboard (laid out on a thread of its own).
    CopyAll,
    ResetCounters,
    DismissNotice,
}

/// A network error together with the mode of the attempt that made it: switching mode hides it.
#[derive(Debug, Clone)]
pub struct AttemptError {
    pub mode: ModeKind,
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
    key: (String, crate::send::PayloadSpec),
    result: Result<Vec<u8>, PayloadError>,
}

/// Bytes per second, recomputed about once a second from the engine's exact counters.
#[derive(Debug, Default)]
pub struct Rates {
    pub rx: f64,
    pub tx: f64,
    last: Option<(Instant, u64, u64)>,
}

/// What a background file dialog or file write came back with.
enum Picked {
    Chosen(FilePurpose, Chosen),
    Failed(Notice),
    /// The view's text, for the clipboard.
    Copy(String),
}

pub struct WirepadApp {
    pub settings: Settings,
    pub lang: Lang,
    pub(crate) session: Option<Session>,
    /// The open (or opening) session's events, folded: link state, clients, progress.
    live: Option<SessionState>,
    pub(crate) log: Log,
    pub(crate) view: View,
    pub(crate) paused: bool,
    /// Server mode: `None` sends to every client.
    pub(crate) target: Option<SocketAddr>,
    /// The last network error, shown until the next Open (and only in the mode that made it).
    pub(crate) error: Option<AttemptError>,
    /// Why the last send or send-box conversion did not happen (not open, no clients, …).
    pub(crate) send_error: Option<Notice>,
    send_check: Option<SendCheck>,
    /// A message for the whole window (settings that could not be read, a file that could not be written).
    pub(crate) notice: Option<Notice>,
    /// `log.dropped_bytes_total()` at the last Reset: the history's drops before it are not counted.
    log_dropped_at_reset: u64,
    /// Receive-to-file, kept across Close/Open: a reopened session appends to it.
    pub(crate) capture: Option<CaptureFile>,
    /// Exact counters; they stay on show after Close and go on counting at the next Open, as in NetAssist.
    pub(crate) totals: Totals,
    pub(crate) rates: Rates,
    pub(crate) editing_quick: Option<usize>,
    /// The receive pane's width in characters, as last applied to the view, and a new one waiting to settle.
    wrap_columns: Option<usize>,
    pending_columns: Option<(usize, Instant)>,
    picked_tx: Sender<Picked>,
    picked_rx: Receiver<Picked>,
    dialogs: Arc<dyn FileDialogs>,
    /// One file dialog at a time: set while one is up.
    dialog_open: Arc<AtomicBool>,
    /// Where no file dialog exists: the purpose of the path being typed, and the text so far.
    pub(crate) path_prompt: Option<(FilePurpose, String)>,
    frame_log: Option<FrameLog>,
    /// The last closed session, stopping on a thread of its own (its worker may still write out its queue and
    /// its capture): the UI thread never joins it.
    reaper: Option<std::thread::JoinHandle<()>>,
    /// Open was asked for while the last session was still stopping: it opens once that one is gone (its port
    /// and capture file are free then).
    open_when_reaped: bool,
    repaint: egui::Context,
}

impl WirepadApp {
    pub fn new(ctx: &egui::Context, settings: Settings) -> Self {
        ui::fonts::install(ctx);
        let lang = settings.language.unwrap_or_else(Lang::from_system);
        let view = View::new(view_options(&settings, None, None));
        let log = Log::new(budget_bytes(&settings));
        let (picked_tx, picked_rx) = unbounded();
        WirepadApp {
            settings,
            lang,
            session: None,
            live: None,
            log,
            view,
            paused: false,
            target: None,
            error: None,
            send_error: None,
            send_check: None,
            notice: None,
            capture: None,
            log_dropped_at_reset: 0,
            totals: Totals::default(),
            rates: Rates::default(),
            editing_quick: None,
            wrap_columns: None,
            pending_columns: None,
            picked_tx,
            picked_rx,
            dialogs: Arc::new(SystemDialogs),
            dialog_open: Arc::new(AtomicBool::new(false)),
            path_prompt: None,
            frame_log: FrameLog::from_env(),
            reaper: None,
            open_when_reaped: false,
            repaint: ctx.clone(),
        }
    }

    /// With eframe's storage: settings from the last run, read field by field (an unreadable value gets its
    /// default, the file is kept beside as `.bad` and the window says so once).
    pub fn from_creation(cc: &eframe::CreationContext<'_>, launch: Option<&Launch>) -> Self {
        let stored = cc.storage.and_then(|storage| storage.get_string(eframe::APP_KEY));
        let bad_copy = eframe::storage_dir("wirepad").map(|dir| dir.join("app.ron.bad"));
        Self::from_stored(&cc.egui_ctx, stored, Lang::from_system(), bad_copy, launch)
    }

    /// `stored`: the settings text eframe kept; `bad_copy`: where to keep it if it cannot be read whole.
    pub fn from_stored(
        ctx: &egui::Context,
        stored: Option<String>,
        system: Lang,
        bad_copy: Option<PathBuf>,
        launch: Option<&Launch>,
    ) -> Self {
        let loaded = Settings::load(stored.as_deref(), system);
        let mut settings = loaded.value;
        let capture = launch.and_then(|launch| launch.apply(&mut settings));
        let mut app = WirepadApp::new(ctx, settings);
        app.capture = capture;
        if !loaded.dropped.is_empty() {
            let kept = stored.zip(bad_copy).map(|(text, path)| keep_bad_settings(text, path));
            app.notice = Some(Notice::SettingsDropped {
                fields: loaded.dropped,
                kept,
            });
        }
        if launch.is_some() {
            app.apply(Action::Open);
        }
        app
    }

    /// Tests and embedders choose how files are asked for.
    pub fn set_file_dialogs(&mut self, dialogs: Arc<dyn FileDialogs>) {
        self.dialogs = dialogs;
    }

    pub fn texts(&self) -> &'static Texts {
        self.lang.texts()
    }

    pub fn state(&self) -> &LinkState {
        self.live.as_ref().map_or(&LinkState::Closed, SessionState::link)
    }

    pub fn is_open(&self) -> bool {
        self.session.is_some()
    }

    /// The bound address of an open TCP server or UDP session.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.session.as_ref().and_then(Session::local_addr)
    }

    /// The receive pane's whole text, as "save view" writes it.
    pub fn view_text(&self) -> String {
        self.view.text_of_all()
    }

    /// Why the send box cannot be sent (bad hex, bad escape, unencodable text) or why the last send failed, in
    /// the window's language.
    pub fn send_error(&self) -> Option<String> {
        let check = self.send_check.as_ref().and_then(|check| check.result.as_ref().err());
        match (check, &self.send_error) {
            (Some(error), _) => Some(self.lang.payload_error(error)),
            (None, Some(notice)) => Some(self.lang.notice(notice)),
            (None, None) => None,
        }
    }

    /// The send box's text is bad (shown under it, Send disabled).
    pub fn send_box_invalid(&self) -> bool {
        self.send_check.as_ref().is_some_and(|check| check.result.is_err())
    }

    /// The network error of the last attempt in the current mode, in the window's language.
    pub fn error(&self) -> Option<String> {
        self.error
            .as_ref()
            .filter(|error| error.mode == self.settings.mode)
            .map(|error| self.lang.notice(&error.notice))
    }

    pub fn notice(&self) -> Option<String> {
        self.notice.as_ref().map(|notice| self.lang.notice(notice))
    }

    pub fn totals(&self) -> &Totals {
        &self.totals
    }

    /// Payload bytes the receive view's history holds now.
    pub fn history_bytes(&self) -> u64 {
        self.log.bytes() as u64
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

    pub fn dialog_open(&self) -> bool {
        self.dialog_open.load(Ordering::Acquire)
    }

    pub fn periodic_sent(&self) -> Option<u64> {
        self.live.as_ref().and_then(SessionState::periodic)
    }

    /// `(sent, total)` bytes of the file being sent.
    pub fn file_progress(&self) -> Option<(u64, u64)> {
        self.live.as_ref().and_then(SessionState::file)
    }

    pub fn apply(&mut self, action: Action) {
        match action {
            Action::Open => self.open(),
            Action::Close => self.close(),
            Action::Send { text, hex } => {
                if let Some(bytes) = self.payload(&text, hex) {
                    self.send_error = None;
                    self.command(Command::Send {
                        to: self.send_target(),
                        bytes: bytes.into(),
                    });
                }
            }
            Action::StartPeriodic => self.start_periodic(),
            Action::StopPeriodic => self.command(Command::StopPeriodic),
            Action::SetSendHex(hex) => self.set_send_hex(hex),
            Action::ClearSendBox => {
                self.settings.send.text.clear();
                self.send_error = None;
            }
            Action::PickFile(purpose) => self.pick(purpose),
            Action::TypedPath(path) => {
                let purpose = self.path_prompt.take().map(|(purpose, _)| purpose);
                if let (Some(purpose), Some(path)) = (purpose, path) {
                    self.chosen(purpose, path);
                }
            }
            Action::StopCapture => {
                if let Some(session) = &self.session {
                    session.command(Command::Capture(None));
                }
                self.capture = None;
            }
            Action::Kick(peer) => self.command(Command::Kick(peer)),
            Action::ClearView => {
                self.log.clear();
                self.view.append(&self.log);
            }
            Action::ResetCounters => {
                if let Some(session) = &self.session {
                    session.counters().reset();
                }
                for (_, client) in self.client_list() {
                    client.counters.reset();
                }
                self.totals = Totals::default();
                self.log_dropped_at_reset = self.log.dropped_bytes_total();
                self.rates = Rates::default();
            }
            Action::DismissNotice => self.notice = None,
            Action::CopyAll => {
                let snapshot = self.view.snapshot();
                let (tx, repaint) = (self.picked_tx.clone(), self.repaint.clone());
                let _ = std::thread::Builder::new()
                    .name("wirepad-copy-all".into())
                    .spawn(move || {
                        let _ = tx.send(Picked::Copy(snapshot.text()));
                        repaint.request_repaint();
                    });
            }
        }
    }

    /// Converts the send box between text and hex in the chosen encoding; a box that cannot be converted (bad
    /// hex, unencodable text) stays as it is, with the reason shown.
    fn set_send_hex(&mut self, hex: bool) {
        let send = &self.settings.send;
        if send.hex == hex {
            return;
        }
        match send.spec(self.settings.receive.encoding, send.hex).convert(&send.text) {
            Ok((text, needs_escapes)) => {
                let send = &mut self.settings.send;
                if !hex {
                    // Escapes on where the text needs them; off where a literal backslash must stay one.
                    send.escapes = needs_escapes || (send.escapes && !text.contains('\\'));
                }
                send.text = text;
                send.hex = hex;
                self.send_error = None;
            }
            Err(error) => self.send_error = Some(Notice::Payload(error)),
        }
    }

    fn open(&mut self) {
        self.close();
        // The window shows what is wrong beside each field and keeps Open disabled meanwhile.
        let Ok(config) = self.settings.validate() else { return };
        if self.reaper.is_some() {
            self.open_when_reaped = true;
            self.live = Some(SessionState::new(&config.mode));
            return;
        }
        self.error = None;
        let repaint = self.repaint.clone();
        let live = SessionState::new(&config.mode);
        match Session::start(config, Arc::new(move || repaint.request_repaint())) {
            Ok(session) => {
                if self.settings.mode != ModeKind::TcpServer && !self.settings.remote_host.trim().is_empty() {
                    self.settings.remember_remote();
                }
                self.live = Some(live);
                self.rates = Rates::default();
                self.session = Some(session);
                self.start_capture();
            }
            Err(error) => self.attempt_failed(Arc::new(error)),
        }
    }

    fn attempt_failed(&mut self, error: Arc<NetError>) {
        self.error = Some(AttemptError {
            mode: self.settings.mode,
            notice: Notice::Net(error),
        });
    }

    /// Hands the capture file to the open session; a later session appends to what this one writes.
    fn start_capture(&mut self) {
        if let (Some(session), Some(capture)) = (&self.session, &mut self.capture) {
            session.command(Command::Capture(Some(capture.clone())));
            capture.append = true;
        }
    }

    fn close(&mut self) {
        self.open_when_reaped = false;
        if let Some(session) = self.session.take() {
            self.totals.current = session.counters().snapshot();
            let (previous, repaint) = (self.reaper.take(), self.repaint.clone());
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
            self.reaper = reaper.ok();
        }
        self.closed();
    }

    /// Forgets a session that has finished stopping, and opens the next one if that was waiting for it.
    fn reap(&mut self) {
        if self.reaper.as_ref().is_some_and(std::thread::JoinHandle::is_finished) {
            if let Some(reaper) = self.reaper.take() {
                let _ = reaper.join();
            }
            if std::mem::take(&mut self.open_when_reaped) {
                self.open();
            }
        }
    }

    /// Whether a closed session is still stopping (its capture and port are not free yet).
    pub fn stopping(&self) -> bool {
        self.reaper.is_some()
    }

    /// What ends with a session, whether the user closed it or it ended by itself.
    fn closed(&mut self) {
        self.totals.close_session();
        self.session = None;
        self.live = None;
        self.target = None;
        self.rates = Rates::default();
    }

    fn command(&mut self, command: Command) {
        match &self.session {
            Some(session) => session.command(command),
            None => self.send_error = Some(Notice::Net(Arc::new(NetError::NoPeer(Nobody::NotOpen)))),
        }
    }

    fn send_target(&self) -> Target {
        self.target.map_or(Target::Default, Target::Peer)
    }

    /// The bytes `text` means with the send settings, or an inline error (and nothing sent).
    fn payload(&mut self, text: &str, hex: bool) -> Option<Vec<u8>> {
        let spec = self.settings.send.spec(self.settings.receive.encoding, hex);
        match spec.build(text) {
            Ok(bytes) => Some(bytes),
            Err(error) => {
                self.send_error = Some(Notice::Payload(error));
                None
            }
        }
    }

    /// Checks the send box as the user types: the result is kept until the text or a send setting changes.
    pub(crate) fn check_send_box(&mut self) {
        let send = &self.settings.send;
        let spec = send.spec(self.settings.receive.encoding, send.hex);
        if let Some(check) = &self.send_check
            && check.key.1 == spec
            && check.key.0 == send.text
        {
            return;
        }
        if self.send_check.is_some() {
            // The box changed: a failure of the last send no longer describes it.
            self.send_error = None;
        }
        self.send_check = Some(SendCheck {
            result: spec.build(&send.text),
            key: (send.text.clone(), spec),
        });
    }

    fn start_periodic(&mut self) {
        let Ok((interval, count)) = self.settings.send.schedule() else {
            return;
        };
        let text = self.settings.send.text.clone();
        if let Some(bytes) = self.payload(&text, self.settings.send.hex) {
            if let (Some(live), Some(_)) = (&mut self.live, &self.session) {
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

    /// File dialogs run on their own thread, one at a time: the window never waits for them. Where no dialog
    /// can be shown the window asks for a typed path instead.
    fn pick(&mut self, purpose: FilePurpose) {
        if self.path_prompt.is_some() || self.dialog_open.swap(true, Ordering::AcqRel) {
            return;
        }
        let (tx, repaint, dialogs) = (self.picked_tx.clone(), self.repaint.clone(), self.dialogs.clone());
        let open = self.dialog_open.clone();
        let spawned = std::thread::Builder::new()
            .name("wirepad-file-dialog".into())
            .spawn(move || {
                let chosen = dialogs.choose(purpose);
                open.store(false, Ordering::Release);
                let _ = tx.send(Picked::Chosen(purpose, chosen));
                repaint.request_repaint();
            });
        if spawned.is_err() {
            self.dialog_open.store(false, Ordering::Release);
            self.path_prompt = Some((purpose, String::new()));
        }
    }

    fn take_picked(&mut self) {
        while let Ok(picked) = self.picked_rx.try_recv() {
            match picked {
                Picked::Chosen(purpose, Chosen::Path(path)) => self.chosen(purpose, path),
                Picked::Chosen(_, Chosen::Cancelled) => {}
                Picked::Chosen(purpose, Chosen::Unavailable) => self.path_prompt = Some((purpose, String::new())),
                Picked::Failed(notice) => self.notice = Some(notice),
                Picked::Copy(text) => self.repaint.copy_text(text),
            }
        }
    }

    fn chosen(&mut self, purpose: FilePurpose, path: PathBuf) {
        match purpose {
            FilePurpose::SendFile => self.command(Command::SendFile {
                to: self.send_target(),
                path,
            }),
            FilePurpose::Capture => {
                self.capture = Some(CaptureFile::truncate(path));
                self.start_capture();
            }
            FilePurpose::SaveView => self.save_view(path),
        }
    }

    /// Written on a thread of its own; a failure shows in the window.
    fn save_view(&mut self, path: PathBuf) {
        // The text is made on the writer's thread too: a 64 MiB history takes a while to lay out.
        let snapshot = self.view.snapshot();
        let (tx, repaint) = (self.picked_tx.clone(), self.repaint.clone());
        let _ = std::thread::Builder::new()
            .name("wirepad-save-view".into())
            .spawn(move || {
                if let Err(error) = std::fs::write(&path, snapshot.text()) {
                    let _ = tx.send(Picked::Failed(Notice::Write {
                        path,
                        error: Arc::new(error),
                    }));
                    repaint.request_repaint();
                }
            });
    }

    /// Takes what the engine sent since the last frame, within a budget.
    pub fn drain_events(&mut self) {
        self.take_picked();
        let Some(session) = &self.session else { return };
        let batches: Vec<Vec<Event>> = session.events().try_iter().take(BATCHES_PER_FRAME).collect();
        let more = !session.events().is_empty();
        for event in batches.into_iter().flatten() {
            self.handle(event);
        }
        self.view.append(&self.log);
        // The view indexes a few milliseconds' worth per frame; what is left needs another frame.
        if more || self.view.catching_up() {
            self.repaint.request_repaint();
        }
    }

    /// The session's state is folded in one place (`SessionState`); what is left here is the window's own.
    fn handle(&mut self, event: Event) {
        if let Some(live) = &mut self.live {
            live.apply(&event);
        }
        match event.kind {
            EventKind::Connected { .. } => self.error = None,
            EventKind::ConnectFailed { reason } => self.attempt_failed(reason),
            EventKind::Received { peer, bytes } => self.record(event.at, peer, Direction::Rx, bytes),
            EventKind::Sent { peer, bytes } => self.record(event.at, peer, Direction::Tx, bytes.to_vec()),
            EventKind::Error(error) => {
                if matches!(*error, NetError::Capture { .. }) {
                    // The engine dropped the capture it could not write.
                    self.capture = None;
                }
                self.attempt_failed(error);
            }
            EventKind::RemoteChanged { remote } => {
                if self.settings.mode == ModeKind::Udp {
                    self.settings.remote_host = remote.ip().to_string();
                    self.settings.remote_port = remote.port().to_string();
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
            | EventKind::FileProgress { .. }
            | EventKind::Automation(_) => {}
        }
    }

    /// Keeps a chunk for the view, unless paused (the counters are the engine's).
    fn record(&mut self, at: SystemTime, peer: SocketAddr, direction: Direction, bytes: Vec<u8>) {
        if !self.paused {
            self.log.push(Chunk::new(at.into(), peer, direction, bytes));
        }
    }

    /// The view follows the receive settings, the filter and the pane's width; a change re-renders history.
    pub(crate) fn update_view_options(&mut self, filter: Option<SocketAddr>, measured_columns: usize) {
        let columns = self.settled_columns(measured_columns);
        let options = view_options(&self.settings, filter, Some(columns));
        if *self.view.options() != options {
            self.view.set_options(options, &self.log);
            self.repaint.request_repaint();
        }
        let budget = budget_bytes(&self.settings);
        if self.log.budget() != budget {
            self.log.set_budget(budget);
            self.view.append(&self.log);
        }
    }

    /// A new pane width re-wraps the whole history, so it is taken only once the width has held still
    /// for a moment, not on every frame of a window resize.
    fn settled_columns(&mut self, measured: usize) -> usize {
        const SETTLE: Duration = Duration::from_millis(250);
        let now = Instant::now();
        match (self.wrap_columns, self.pending_columns) {
            (None, _) => self.wrap_columns = Some(measured),
            (Some(current), _) if current == measured => self.pending_columns = None,
            (Some(_), Some((pending, since))) if pending == measured && now - since >= SETTLE => {
                self.wrap_columns = Some(measured);
                self.pending_columns = None;
            }
            (Some(_), Some((pending, _))) if pending == measured => {}
            (Some(_), _) => {
                self.pending_columns = Some((measured, now));
                self.repaint.request_repaint_after(SETTLE);
            }
        }
        self.wrap_columns.unwrap_or(measured)
    }

    fn update_counters(&mut self) {
        if let Some(session) = &self.session {
            self.totals.current = session.counters().snapshot();
        }
        // The log's total never goes down (Clear keeps it), so this only grows until Reset.
        self.totals.log_dropped = self.log.dropped_bytes_total().saturating_sub(self.log_dropped_at_reset);
    }

    fn update_rates(&mut self) {
        if self.session.is_none() {
            return;
        }
        let (rx_total, tx_total) = (self.totals.rx_bytes(), self.totals.tx_bytes());
        let now = Instant::now();
        match self.rates.last {
            Some((at, rx, tx)) if now - at >= Duration::from_secs(1) => {
                let secs = (now - at).as_secs_f64();
                self.rates.rx = rx_total.saturating_sub(rx) as f64 / secs;
                self.rates.tx = tx_total.saturating_sub(tx) as f64 / secs;
                self.rates.last = Some((now, rx_total, tx_total));
            }
            Some(_) => {}
            None => self.rates.last = Some((now, rx_total, tx_total)),
        }
        // A rate needs another look a second later while it is not zero or the counts moved (so it can fall to
        // zero on screen); an idle session repaints nothing.
        let moving = self.rates.rx > 0.0
            || self.rates.tx > 0.0
            || self
                .rates
                .last
                .is_some_and(|(_, rx, tx)| (rx, tx) != (rx_total, tx_total));
        if moving {
            self.repaint.request_repaint_after(Duration::from_secs(1));
        }
    }
}

fn budget_bytes(settings: &Settings) -> usize {
    settings.receive.buffer_mib.max(1) as usize * 1024 * 1024
}

fn view_options(settings: &Settings, peer_filter: Option<SocketAddr>, wrap_columns: Option<usize>) -> ViewOptions {
    let receive = &settings.receive;
    ViewOptions {
        hex: receive.hex,
        encoding: receive.encoding,
        log_mode: receive.log_mode,
        show_tx: receive.show_sent,
        wrap_columns: if receive.wrap { wrap_columns } else { None },
        peer_filter,
    }
}

/// A command-line session for the window (`wirepad gui tcp-server 8080 -e gbk`), checked before the window opens.
#[derive(Debug, Clone)]
pub struct Launch {
    args: SessionArgs,
    /// `-e` when given; otherwise the window's own default (GBK on a Chinese system) stays.
    encoding: Option<TextEncoding>,
}

impl Launch {
    /// Refuses what only the command line does (echo, stdin, quit conditions, …) rather than ignore it.
    pub fn new(args: SessionArgs) -> Result<Launch, String> {
        let common = args.common();
        let cli_only = [
            (common.receive.quiet, "--quiet"),
            (common.send.stdin, "--stdin"),
            (common.send.echo, "--echo"),
            (common.send.send_file.is_some(), "--send-file"),
            (common.quit.quit_after_bytes.is_some(), "--quit-after-bytes"),
            (common.quit.quit_after_secs.is_some(), "--quit-after-secs"),
            (common.quit.quit_when_idle.is_some(), "--quit-when-idle"),
            (
                matches!(&args, SessionArgs::TcpServer(s) if s.max_clients.is_some()),
                "--max-clients",
            ),
            (
                matches!(&args, SessionArgs::Udp(u) if u.join.len() > 1),
                "a second --join",
            ),
        ];
        if let Some((_, option)) = cli_only.iter().find(|(given, _)| *given) {
            return Err(format!(
                "{option} is for the command line only; the window does not take it"
            ));
        }
        let encoding = match common.encoding {
            Some(_) => Some(common.text_encoding().map_err(|e| e.to_string())?),
            None => None,
        };
        Ok(Launch { args, encoding })
    }

    /// Shows the session in the window's own fields; returns the capture file to open with it.
    fn apply(&self, settings: &mut Settings) -> Option<CaptureFile> {
        // After the mode is set: each mode has its own local port.
        let set_local = |settings: &mut Settings, addr: SocketAddr| {
            settings.local_ip = addr.ip().to_string();
            *settings.local_port_mut() = addr.port().to_string();
        };
        match &self.args {
            SessionArgs::TcpServer(server) => {
                settings.mode = ModeKind::TcpServer;
                set_local(settings, server.listen);
            }
            SessionArgs::TcpClient(client) => {
                settings.mode = ModeKind::TcpClient;
                settings.set_remote(&client.remote);
                settings.reconnect = client.reconnect;
                set_local(
                    settings,
                    client.bind.unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0))),
                );
            }
            SessionArgs::Udp(udp) => {
                settings.mode = ModeKind::Udp;
                set_local(
                    settings,
                    udp.bind
                        .unwrap_or_else(|| default_udp_bind(udp.remote.as_deref(), &udp.join)),
                );
                settings.remote_host.clear();
                if let Some(remote) = &udp.remote {
                    settings.set_remote(remote);
                }
                settings.follow_peer = udp.follow_peer;
                settings.broadcast = udp.broadcast;
                settings.multicast_group = udp.join.first().map(ToString::to_string).unwrap_or_default();
            }
        }
        let common = self.args.common();
        if let Some(encoding) = self.encoding {
            settings.receive.encoding = encoding;
        }
        settings.receive.hex = common.receive.hex;
        if common.receive.log {
            settings.receive.log_mode = true;
        }
        // The send box is filled, not sent: the user presses Send (or starts the periodic send) when ready.
        let send = &common.send;
        if let Some(text) = &send.send {
            settings.send.text = text.clone();
            settings.send.hex = false;
            settings.send.escapes = true;
        } else if let Some(hex) = &send.send_hex {
            settings.send.text = hex.clone();
            settings.send.hex = true;
        }
        if let Some(append) = send.append {
            settings.send.append = append;
        }
        if send.checksum.is_some() {
            settings.send.checksum = send.checksum;
        }
        if let Some(repeat) = send.repeat {
            settings.send.count = repeat.to_string();
            settings.send.interval_ms = send.interval.to_string();
        }
        common.receive.recv_file.clone().map(CaptureFile::truncate)
    }
}

impl eframe::App for WirepadApp {
    fn logic(&mut self, _ctx: &egui::Context, frame: &mut eframe::Frame) {
        if let (Some(log), Some(cpu)) = (&mut self.frame_log, frame.info().cpu_usage) {
            log.record(cpu);
        }
        self.reap();
        self.drain_events();
        self.update_counters();
        self.update_rates();
        self.check_send_box();
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        for action in ui::show(self, ui) {
            self.apply(action);
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.settings);
    }
}

/// Keeps a settings file that could not be read whole at `path`, written on a thread of its own.
fn keep_bad_settings(text: String, path: PathBuf) -> PathBuf {
    let target = path.clone();
    let _ = std::thread::Builder::new()
        .name("wirepad-keep-bad-settings".into())
        .spawn(move || {
            if let Some(dir) = target.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let _ = std::fs::write(&target, text);
        });
    path
}

/// Opens the window (with `launch` already open when given), trying each of the platform's renderers in
/// turn, so it runs in VMs and over remote X where one of them is missing.
pub fn run_gui(launch: Option<SessionArgs>) -> ExitCode {
    let launch = match launch.map(Launch::new).transpose() {
        Ok(launch) => launch,
        Err(message) => {
            eprintln!("wirepad: {message}");
            return ExitCode::from(2);
        }
    };
    // Decoded once, whichever renderer starts.
    let icon = crate::desktop::icon();
    for renderer in crate::desktop::RENDERERS {
        let mut viewport = egui::ViewportBuilder::default()
            .with_title("Wirepad")
            .with_inner_size([1100.0, 720.0])
            .with_min_inner_size([800.0, 560.0]);
        if let Some(icon) = &icon {
            viewport = viewport.with_icon(icon.clone());
        }
        let options = eframe::NativeOptions {
            renderer,
            wgpu_options: crate::desktop::wgpu_options(),
            viewport,
            ..Default::default()
        };
        let launch = launch.clone();
        let result = eframe::run_native(
            "wirepad",
            options,
            Box::new(move |cc| Ok(Box::new(WirepadApp::from_creation(cc, launch.as_ref())))),
        );
        match result {
            Ok(()) => return ExitCode::SUCCESS,
            // No display at all: another renderer would not help (and winit cannot make a second event loop).
            Err(error @ eframe::Error::WinitEventLoop(_)) => {
                eprintln!("wirepad: cannot open a window: {error}");
                return ExitCode::from(1);
            }
            Err(error) => eprintln!("wirepad: the {renderer:?} renderer did not start: {error}"),
        }
    }
    eprintln!("wirepad: cannot open a window with either renderer");
    ExitCode::from(1)
}

impl Drop for WirepadApp {
    /// The window is going away: the last session must finish its capture before the process ends.
    fn drop(&mut self) {
        self.close();
        if let Some(reaper) = self.reaper.take() {
            let _ = reaper.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{parse_session, session_config};
    use crate::net::{Delivery, SessionConfig};

    /// `wirepad gui SESSION` fills the window's fields; Open then makes the session the command line would,
    /// except that a window drops display data rather than stall.
    #[test]
    fn a_launched_session_is_the_command_lines_session() {
        let sessions: &[&[&str]] = &[
            &["tcp-server", "127.0.0.1:0"],
            &["tcp-server", "[::1]:7788"],
            &["tcp-client", "[::1]:7", "--reconnect"],
            &["tcp-client", "localhost:9", "--bind", "127.0.0.1:5000"],
            &["udp", "--remote", "[::1]:9", "--follow-peer"],
            &["udp", "--bind", "5000", "--broadcast", "--remote", "host:9"],
            &["udp", "--bind", "[::]:5000", "--join", "ff02::1%3"],
            &["udp", "--join", "239.1.2.3"],
        ];
        for args in sessions {
            let session = parse_session(*args).expect("valid session");
            let mut settings = Settings::default();
            let launch = Launch::new(session.clone()).expect("the window takes it");
            assert_eq!(launch.apply(&mut settings), None, "no capture");
            let window = settings
                .validate()
                .unwrap_or_else(|errors| panic!("{args:?}: {errors:?}"));
            let cli = session_config(&session);
            assert_eq!(cli.delivery, Delivery::Lossless);
            assert_eq!(
                window,
                SessionConfig {
                    delivery: Delivery::DropWhenBehind,
                    ..cli
                },
                "{args:?}"
            );
        }
    }
}
