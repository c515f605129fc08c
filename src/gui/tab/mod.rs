//! One tab: a session as the user set it up (`TabConfig`, saved) and what it is doing now (`TabState`: the
//! engine session, its folded events, the log and view, counters, capture). Panels read `TabState` and edit
//! `TabConfig`; whatever has side effects comes back as a `TabAction` that `Tab::apply` carries out.
mod actions;
mod budget;
mod counters;
mod events;
mod find;
mod jobs;
mod layout;
mod load;
mod off_thread;
mod peers;
mod session;
#[cfg(test)]
mod tests;
mod tls;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::Sender;

use crate::automation::rules::RuleSpec;
use crate::automation::script::ScriptSpec;
use crate::export::find::Batch;
use crate::export::{Format, Progress};
use crate::gui::auto_state::AutoState;
use crate::gui::dialog::FilePurpose;
use crate::gui::finder::Finder;
use crate::gui::i18n::{Lang, Notice};
use crate::history::{History, Way};
use crate::net::{CaptureFile, CounterSnapshot, Kind, NetError, Outgoing, RemoteUse, Session};
use crate::session::pairs::Pairs;
use crate::session::state::{ClientInfo, LinkState, SessionState};
use crate::session::stats::Throughput;
use crate::settings::tls::{TlsSettings, TlsSide, setup_field};
use crate::settings::{Field, TabConfig};
use crate::view::View;

pub use budget::share_history;
use layout::view_options;
pub use load::{LoadState, Phase as LoadPhase, SERIES as LOAD_SERIES};
pub use tls::{MadeCert, TlsState};

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
    /// A paste into the send box was cut at its limit.
    SendBoxFull,
    /// Ask for a file (send file, receive to file, save view) with the system's dialog, or a typed path.
    PickFile(FilePurpose),
    StopCapture,
    StopPcap,
    Kick(SocketAddr),
    /// Stops the export being written (its partial file is removed).
    CancelExport,
    /// Server mode: the client sends go to (`None`: every client). A relay: the pair, by its client.
    SetTarget(Option<SocketAddr>),
    /// A relay: sends go to the client side (`ToClient`) or the upstream side of the pair chosen.
    SetSendWay(Way),
    SetPaused(bool),
    /// The receive pane's peer filter (a relay: its pair and way) and its width in characters, as drawn.
    Layout {
        filter: Option<SocketAddr>,
        way: Option<Way>,
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
    /// A load test tab: start a run with the form's settings (checked first), or stop it.
    StartLoad,
    StopLoad,
    /// The certificate panel shown or hidden.
    ToggleTlsPanel,
    /// The server's client whose certificate the panel shows.
    ShowTlsClient(SocketAddr),
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
    /// What the window tells the user: a file written (where), or why it could not be.
    Notice(Notice),
    /// An export ended (written: where to; cancelled; or failed, with why): the tab stops showing its progress.
    Exported(TabId, Option<Notice>),
    /// The view's text, for the clipboard.
    Copy(String),
    /// Matches of a tab's search numbered `generation`, as they come.
    Found(TabId, u64, Batch),
    /// A rules or script file read and checked (or why it was refused, naming the file).
    Imported(TabId, Imported),
    /// A self-signed certificate written for the TLS fields of that end (or why it could not be).
    CertMade(TabId, TlsSide, Result<MadeCert, Notice>),
}

pub enum Imported {
    Rules(Result<Vec<RuleSpec>, Notice>),
    Script(Result<ScriptSpec, Notice>),
}

/// A tab's link at a glance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dot {
    Closed,
    Opening,
    Open,
}

/// A network error together with the address fields of the attempt that made it: switching mode or editing an
/// address hides it (it is about the old one).
#[derive(Debug, Clone)]
pub struct AttemptError {
    pub fields: AttemptFields,
    pub notice: Notice,
}

/// What an attempt was made with: the mode and its address fields as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptFields {
    mode: Kind,
    local: (String, String),
    remote: String,
    tls: TlsSettings,
    tls_upstream: TlsSettings,
}

impl AttemptFields {
    pub fn of(config: &TabConfig) -> AttemptFields {
        AttemptFields {
            mode: config.mode,
            local: (config.local_ip.trim().to_owned(), config.local_port().trim().to_owned()),
            // A kind without a remote does not look at those fields.
            remote: match config.mode.caps().remote {
                RemoteUse::None => String::new(),
                _ => config.remote(),
            },
            tls: config.tls.clone(),
            tls_upstream: config.tls_upstream.clone(),
        }
    }
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

/// Bytes per second over the last second, from the engine's exact counters, recomputed every frame: a burst
/// shows at its first frame, not a second later (see `counters.rs`).
#[derive(Debug, Default)]
pub struct Rates {
    pub rx: f64,
    pub tx: f64,
    /// (when, rx, tx) at most `RATE_STEP` apart, the oldest at most one a whole window old.
    samples: std::collections::VecDeque<(Instant, u64, u64)>,
}

/// What the send box's text means right now, checked as the user types (and cached while it stays the same).
#[derive(Debug, Clone)]
struct SendCheck {
    key: (String, crate::payload::PayloadSpec, bool),
    result: Result<Outgoing, Notice>,
}

/// A tab's runtime: nothing here is saved.
pub struct TabState {
    session: Option<Session>,
    /// The open (or opening) session's events, folded: link state, clients, progress.
    live: Option<SessionState>,
    log: History,
    /// Peers whose data arrived lately, for the filter (the history's own could be millions).
    recent: peers::RecentPeers,
    /// When the tab last received and was last shown: what its part of the window's history budget goes by.
    activity: budget::Activity,
    /// The history's next chunk when the session opened: a script started later sees what came since.
    opened_at_seq: u64,
    view: View,
    paused: bool,
    /// Server mode: `None` sends to every client. A relay: every pair.
    target: Option<SocketAddr>,
    /// A relay: which side of the pair sends go to.
    send_way: Way,
    /// A relay's pairs, open and the last ended ones, across its sessions.
    pairs: Pairs,
    /// The last network error, shown until the next Open (and only while the fields are the ones it was made with).
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
    /// The session Open asked for, starting on a thread of its own.
    starting: Option<session::Starting>,
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
    /// A load test tab's run, its progress and its report.
    load: LoadState,
    tls: TlsState,
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

    /// Open was pressed and the session is not started yet (its thread may be reading certificate files).
    pub fn starting(&self) -> bool {
        self.starting.is_some()
    }

    pub fn link(&self) -> &LinkState {
        self.live.as_ref().map_or(&LinkState::Closed, SessionState::link)
    }

    /// The bound address of an open TCP server or UDP session.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.session.as_ref().and_then(Session::local_addr)
    }

    /// An open UDP session: whether the OS counts the datagrams it drops (`None`: no such session).
    pub fn drops_counted(&self) -> Option<bool> {
        let buffer = self.session.as_ref().and_then(Session::recv_buffer);
        buffer.map(|buffer| buffer.drops_counted)
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

    pub fn send_way(&self) -> Way {
        self.send_way
    }

    pub fn pairs(&self) -> &Pairs {
        &self.pairs
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

    pub fn load(&self) -> &LoadState {
        &self.load
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

    pub fn client_count(&self) -> usize {
        self.live.as_ref().map_or(0, |live| live.clients().len())
    }

    /// What the receive pane's filter offers: the connected peers and the last ones whose data arrived, in order
    /// (bounded, however many came and went).
    pub fn filter_peers(&self) -> std::collections::BTreeSet<SocketAddr> {
        self.clients().chain(self.recent.iter()).copied().collect()
    }

    /// Peers the filter keeps besides the connected ones.
    pub fn recent_peers(&self) -> usize {
        self.recent.len()
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
            (Some(error), _) => Some(lang.notice(error)),
            (None, Some(notice)) => Some(lang.notice(notice)),
            (None, None) => None,
        }
    }

    /// The send box's text is bad (shown under it, Send disabled).
    pub fn send_box_invalid(&self) -> bool {
        self.send_check.as_ref().is_some_and(|check| check.result.is_err())
    }

    /// The last attempt's error while the fields are still the ones it was made with.
    pub fn error(&self, config: &TabConfig, lang: Lang) -> Option<String> {
        self.current_error(config).map(|notice| lang.notice(notice))
    }

    fn current_error(&self, config: &TabConfig) -> Option<&Notice> {
        self.error
            .as_ref()
            .filter(|error| error.fields == AttemptFields::of(config))
            .map(|error| &error.notice)
    }

    /// A TLS file or option refused at the last Open (fields unchanged since): the field it belongs to (in
    /// which block) and why.
    pub fn tls_setup_error(&self, config: &TabConfig, lang: Lang) -> Option<(Field, String)> {
        let Some(Notice::Net(error)) = self.current_error(config) else {
            return None;
        };
        let NetError::TlsSetup { leg, error } = &**error else {
            return None;
        };
        setup_field(error, *leg, config.tls_side()).map(|field| (field, lang.tls_setup(error)))
    }

    pub fn tls(&self) -> &TlsState {
        &self.tls
    }
}

impl Tab {
    pub fn new(id: TabId, config: TabConfig, picked: Sender<Picked>, repaint: egui::Context) -> Tab {
        let state = TabState {
            session: None,
            live: None,
            log: History::new(budget::first_budget(&config)),
            recent: peers::RecentPeers::default(),
            activity: budget::Activity::default(),
            view: View::new(view_options(&config, None, None)),
            paused: false,
            target: None,
            send_way: Way::ToClient,
            pairs: Pairs::default(),
            error: None,
            send_error: None,
            send_check: None,
            log_dropped_at_reset: 0,
            opened_at_seq: 0,
            capture: None,
            pcap: None,
            totals: Totals::default(),
            rates: Rates::default(),
            wrap_columns: None,
            pending_columns: None,
            reaper: None,
            starting: None,
            open_when_reaped: false,
            unseen: false,
            export: None,
            auto: AutoState::default(),
            find: Finder::default(),
            throughput: Throughput::default(),
            load: LoadState::default(),
            tls: TlsState::default(),
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
            // A port as typed only while it is one (a remote's is never 0): no "70000" in a title.
            let typed = |text: &str, least: u16| text.trim().parse::<u16>().ok().filter(|port| *port >= least);
            let target_port = || {
                self.config
                    .load
                    .target
                    .rsplit_once(':')
                    .and_then(|(_, port)| typed(port, 1))
            };
            let port = match (self.state.local_addr(), self.state.link()) {
                // A load test is named by the port it loads.
                _ if self.config.load_test => target_port(),
                (Some(local), _) => Some(local.port()),
                (None, LinkState::Connected { peer, .. }) => Some(peer.port()),
                (None, _) if self.config.mode.caps().remote == RemoteUse::Required => {
                    typed(&self.config.remote_port, 1)
                }
                (None, _) => typed(self.config.local_port(), 0),
            };
            let kind = match self.config.load_test {
                true => lang.texts().load.load_test,
                false => lang.kind_name(self.config.mode),
            };
            port.map_or_else(|| kind.to_owned(), |port| format!("{kind} {port}"))
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
}
