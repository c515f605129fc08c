//! The window's glue: owns the session, the log and the settings; drains engine events each frame and
//! applies what the panels ask for. Panels live in `ui/` and return `Action`s instead of acting themselves.
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, Sender, unbounded};

use crate::capture::CaptureFile;
use crate::cli::{SessionArgs, default_udp_bind};
use crate::codec::text::TextEncoding;
use crate::i18n::{Lang, Texts};
use crate::log::{Chunk, Direction, Log};
use crate::net::{Command, CounterSnapshot, Event, EventKind, NetError, Nobody, Session, Target};
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
    PickSendFile,
    PickCaptureFile,
    StopCapture,
    Kick(SocketAddr),
    ClearView,
    SaveView,
    ResetCounters,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LinkState {
    Closed,
    Listening(SocketAddr),
    Bound(SocketAddr),
    Connecting(Option<SocketAddr>),
    Connected { local: SocketAddr, peer: SocketAddr },
    Reconnecting(Duration),
}

#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub since: chrono::DateTime<chrono::Local>,
    pub rx: u64,
    pub tx: u64,
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
    SendFile(PathBuf),
    Capture(PathBuf),
    SaveView(PathBuf),
    Failed(String),
}

pub struct WirepadApp {
    pub settings: Settings,
    pub lang: Lang,
    pub(crate) session: Option<Session>,
    pub(crate) state: LinkState,
    pub(crate) log: Log,
    pub(crate) view: View,
    pub(crate) paused: bool,
    pub(crate) clients: BTreeMap<SocketAddr, ClientInfo>,
    /// Server mode: `None` sends to every client.
    pub(crate) target: Option<SocketAddr>,
    /// The last network error, in plain words, shown in the window until the next Open.
    pub(crate) error: Option<String>,
    /// Bad hex, bad escape or unencodable text in the send box: shown inline, nothing sent.
    pub(crate) send_error: Option<String>,
    pub(crate) periodic_sent: Option<u64>,
    pub(crate) file_progress: Option<(u64, u64)>,
    /// Receive-to-file, kept across Close/Open: a reopened session appends to it.
    pub(crate) capture: Option<CaptureFile>,
    /// The session's exact counters as last read; they stay on show after Close, as in NetAssist.
    pub(crate) counters: CounterSnapshot,
    pub(crate) rates: Rates,
    pub(crate) editing_quick: Option<usize>,
    /// The receive pane's width in characters, as last applied to the view, and a new one waiting to settle.
    wrap_columns: Option<usize>,
    pending_columns: Option<(usize, Instant)>,
    picked_tx: Sender<Picked>,
    picked_rx: Receiver<Picked>,
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
            state: LinkState::Closed,
            log,
            view,
            paused: false,
            clients: BTreeMap::new(),
            target: None,
            error: None,
            send_error: None,
            periodic_sent: None,
            file_progress: None,
            capture: None,
            counters: CounterSnapshot::default(),
            rates: Rates::default(),
            editing_quick: None,
            wrap_columns: None,
            pending_columns: None,
            picked_tx,
            picked_rx,
            repaint: ctx.clone(),
        }
    }

    /// With eframe's storage: settings from the last run (defaults if missing or unreadable).
    pub fn from_creation(cc: &eframe::CreationContext<'_>, launch: Option<&Launch>) -> Self {
        let mut settings: Settings = cc
            .storage
            .and_then(|storage| eframe::get_value(storage, eframe::APP_KEY))
            .unwrap_or_default();
        let capture = launch.and_then(|launch| launch.apply(&mut settings));
        let mut app = WirepadApp::new(&cc.egui_ctx, settings);
        app.capture = capture;
        if launch.is_some() {
            app.apply(Action::Open);
        }
        app
    }

    pub fn texts(&self) -> &'static Texts {
        self.lang.texts()
    }

    pub fn state(&self) -> &LinkState {
        &self.state
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

    pub fn send_error(&self) -> Option<&str> {
        self.send_error.as_deref()
    }

    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    pub fn clients(&self) -> impl Iterator<Item = &SocketAddr> {
        self.clients.keys()
    }

    pub fn periodic_sent(&self) -> Option<u64> {
        self.periodic_sent
    }

    pub fn apply(&mut self, action: Action) {
        match action {
            Action::Open => self.open(),
            Action::Close => self.close(),
            Action::Send { text, hex } => {
                if let Some(bytes) = self.payload(&text, hex) {
                    self.command(Command::Send {
                        to: self.send_target(),
                        bytes: bytes.into(),
                    });
                }
            }
            Action::StartPeriodic => self.start_periodic(),
            Action::StopPeriodic => self.command(Command::StopPeriodic),
            Action::PickSendFile => self.pick(rfd::FileDialog::new(), false, Picked::SendFile),
            Action::PickCaptureFile => self.pick(
                rfd::FileDialog::new().set_file_name("capture.bin"),
                true,
                Picked::Capture,
            ),
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
            Action::SaveView => self.pick(
                rfd::FileDialog::new().set_file_name("wirepad.txt"),
                true,
                Picked::SaveView,
            ),
            Action::ResetCounters => {
                if let Some(session) = &self.session {
                    session.counters().reset();
                }
                self.counters = CounterSnapshot::default();
                self.rates = Rates::default();
            }
        }
    }

    fn open(&mut self) {
        self.close();
        // The window shows what is wrong beside each field and keeps Open disabled meanwhile.
        let Ok(config) = self.settings.validate() else { return };
        self.error = None;
        let repaint = self.repaint.clone();
        match Session::start(config, Arc::new(move || repaint.request_repaint())) {
            Ok(session) => {
                if self.settings.mode != ModeKind::TcpServer && !self.settings.remote_host.trim().is_empty() {
                    self.settings.remember_remote();
                }
                self.state = LinkState::Connecting(None);
                self.counters = CounterSnapshot::default();
                self.rates = Rates::default();
                self.session = Some(session);
                self.start_capture();
            }
            Err(error) => self.error = Some(self.lang.net_error(&error)),
        }
    }

    /// Hands the capture file to the open session; a later session appends to what this one writes.
    fn start_capture(&mut self) {
        if let (Some(session), Some(capture)) = (&self.session, &mut self.capture) {
            session.command(Command::Capture(Some(capture.clone())));
            capture.append = true;
        }
    }

    fn close(&mut self) {
        if let Some(session) = self.session.take() {
            self.counters = session.counters().snapshot();
            session.stop();
        }
        self.closed();
    }

    /// What ends with a session, whether the user closed it or it ended by itself.
    fn closed(&mut self) {
        self.session = None;
        self.state = LinkState::Closed;
        self.clients.clear();
        self.target = None;
        self.periodic_sent = None;
        self.file_progress = None;
        self.rates = Rates::default();
    }

    fn command(&mut self, command: Command) {
        match &self.session {
            Some(session) => session.command(command),
            None => self.send_error = Some(self.lang.net_error(&NetError::NoPeer(Nobody::NotOpen))),
        }
    }

    fn send_target(&self) -> Target {
        self.target.map_or(Target::Default, Target::Peer)
    }

    /// The bytes the send box means, or an inline error (and nothing sent).
    fn payload(&mut self, text: &str, hex: bool) -> Option<Vec<u8>> {
        let spec = self.settings.send.spec(self.settings.receive.encoding, hex);
        match spec.build(text) {
            Ok(bytes) => {
                self.send_error = None;
                Some(bytes)
            }
            Err(error) => {
                self.send_error = Some(self.lang.payload_error(&error));
                None
            }
        }
    }

    fn start_periodic(&mut self) {
        let Ok((interval, count)) = self.settings.send.schedule() else {
            return;
        };
        let text = self.settings.send.text.clone();
        if let Some(bytes) = self.payload(&text, self.settings.send.hex) {
            self.periodic_sent = Some(0);
            self.command(Command::SendPeriodic {
                to: self.send_target(),
                bytes: bytes.into(),
                interval,
                count,
            });
        }
    }

    /// File dialogs run on their own thread: the window never waits for them. Cancelling does nothing.
    fn pick(&self, dialog: rfd::FileDialog, save: bool, wrap: fn(PathBuf) -> Picked) {
        let (tx, repaint) = (self.picked_tx.clone(), self.repaint.clone());
        let spawned = std::thread::Builder::new()
            .name("wirepad-file-dialog".into())
            .spawn(move || {
                let path = if save { dialog.save_file() } else { dialog.pick_file() };
                if let Some(path) = path {
                    let _ = tx.send(wrap(path));
                    repaint.request_repaint();
                }
            });
        if let Err(e) = spawned {
            let _ = self
                .picked_tx
                .send(Picked::Failed(format!("cannot open a file dialog: {e}")));
        }
    }

    fn take_picked(&mut self) {
        while let Ok(picked) = self.picked_rx.try_recv() {
            match picked {
                Picked::SendFile(path) => self.command(Command::SendFile {
                    to: self.send_target(),
                    path,
                }),
                Picked::Capture(path) => {
                    self.capture = Some(CaptureFile::truncate(path));
                    self.start_capture();
                }
                Picked::SaveView(path) => self.save_view(path),
                Picked::Failed(message) => self.error = Some(message),
            }
        }
    }

    /// Written on a thread of its own; a failure shows in the window.
    fn save_view(&mut self, path: PathBuf) {
        let text = self.view.text_of_all();
        let (tx, repaint, lang) = (self.picked_tx.clone(), self.repaint.clone(), self.lang);
        let _ = std::thread::Builder::new()
            .name("wirepad-save-view".into())
            .spawn(move || {
                if let Err(e) = std::fs::write(&path, text) {
                    let _ = tx.send(Picked::Failed(lang.write_error(&path, &e)));
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

    fn handle(&mut self, event: Event) {
        match event.kind {
            EventKind::Ready { local } => {
                self.state = match self.settings.mode {
                    ModeKind::Udp => LinkState::Bound(local),
                    _ => LinkState::Listening(local),
                }
            }
            EventKind::Connecting { remote } => self.state = LinkState::Connecting(Some(remote)),
            EventKind::Connected { local, peer } => {
                self.error = None;
                self.state = LinkState::Connected { local, peer };
            }
            EventKind::ConnectFailed { reason } => self.error = Some(self.lang.net_error(&reason)),
            EventKind::Reconnecting { after } => self.state = LinkState::Reconnecting(after),
            EventKind::PeerJoined { peer } => {
                self.clients.insert(
                    peer,
                    ClientInfo {
                        since: chrono::Local::now(),
                        rx: 0,
                        tx: 0,
                    },
                );
            }
            EventKind::PeerRefused { .. } => {}
            // A send target that left stays chosen: the next send fails ("not connected") instead of
            // quietly going to every client.
            EventKind::PeerLeft { peer, .. } => {
                self.clients.remove(&peer);
            }
            EventKind::Received { peer, bytes } => self.record(event.at, peer, Direction::Rx, bytes),
            EventKind::DroppedFromView { peer, bytes } => {
                if let Some(client) = self.clients.get_mut(&peer) {
                    client.rx += bytes;
                }
            }
            EventKind::Sent { peer, bytes } => self.record(event.at, peer, Direction::Tx, bytes.to_vec()),
            EventKind::PeriodicProgress { sent, done } => self.periodic_sent = (!done).then_some(sent),
            EventKind::FileProgress { sent, total, done } => self.file_progress = (!done).then_some((sent, total)),
            EventKind::Error(error) => {
                if matches!(*error, NetError::Capture { .. }) {
                    // The engine dropped the capture it could not write.
                    self.capture = None;
                }
                self.error = Some(self.lang.net_error(&error));
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
        }
    }

    /// Counts a chunk for its client and, unless paused, keeps it for the view.
    fn record(&mut self, at: SystemTime, peer: SocketAddr, direction: Direction, bytes: Vec<u8>) {
        if let Some(client) = self.clients.get_mut(&peer) {
            match direction {
                Direction::Rx => client.rx += bytes.len() as u64,
                Direction::Tx => client.tx += bytes.len() as u64,
            }
        }
        if !self.paused {
            self.log.push(Chunk {
                at: at.into(),
                peer,
                direction,
                bytes,
            });
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
            self.counters = session.counters().snapshot();
        }
    }

    fn update_rates(&mut self) {
        if self.session.is_none() {
            return;
        }
        let counters = self.counters;
        let now = Instant::now();
        match self.rates.last {
            Some((at, rx, tx)) if now - at >= Duration::from_secs(1) => {
                let secs = (now - at).as_secs_f64();
                self.rates.rx = counters.rx_bytes.saturating_sub(rx) as f64 / secs;
                self.rates.tx = counters.tx_bytes.saturating_sub(tx) as f64 / secs;
                self.rates.last = Some((now, counters.rx_bytes, counters.tx_bytes));
            }
            Some(_) => {}
            None => self.rates.last = Some((now, counters.rx_bytes, counters.tx_bytes)),
        }
        // Rates need a fresh look now and then even when nothing arrives.
        self.repaint.request_repaint_after(Duration::from_secs(1));
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
    encoding: TextEncoding,
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
        let encoding = common.text_encoding().map_err(|e| e.to_string())?;
        Ok(Launch { args, encoding })
    }

    /// Shows the session in the window's own fields; returns the capture file to open with it.
    fn apply(&self, settings: &mut Settings) -> Option<CaptureFile> {
        let set_local = |settings: &mut Settings, addr: SocketAddr| {
            settings.local_ip = addr.ip().to_string();
            settings.local_port = addr.port().to_string();
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
                set_local(settings, udp.bind.unwrap_or_else(|| default_udp_bind(udp)));
                settings.remote_host.clear();
                if let Some(remote) = &udp.remote {
                    settings.set_remote(remote);
                }
                settings.follow_peer = udp.follow_peer;
                settings.broadcast = udp.broadcast;
                settings.multicast_group = udp.join.first().map(|g| g.addr.to_string()).unwrap_or_default();
            }
        }
        let common = self.args.common();
        settings.receive.encoding = self.encoding;
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
    fn logic(&mut self, _ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.drain_events();
        self.update_counters();
        self.update_rates();
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

/// Opens the window (with `launch` already open when given). Tries wgpu, then OpenGL, so it runs
/// in VMs and over remote X where one of them is missing.
pub fn run_gui(launch: Option<SessionArgs>) -> ExitCode {
    let launch = match launch.map(Launch::new).transpose() {
        Ok(launch) => launch,
        Err(message) => {
            eprintln!("wirepad: {message}");
            return ExitCode::from(2);
        }
    };
    for renderer in [eframe::Renderer::Wgpu, eframe::Renderer::Glow] {
        let options = eframe::NativeOptions {
            renderer,
            viewport: egui::ViewportBuilder::default()
                .with_title("Wirepad")
                .with_inner_size([1100.0, 720.0])
                .with_min_inner_size([800.0, 560.0]),
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
    fn drop(&mut self) {
        self.close();
    }
}
