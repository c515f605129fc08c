//! `TabAction`s carried out: what the panels ask for, sends and automation commands among them.
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::codec::text::TextEncoding;
use crate::gui::i18n::Notice;
use crate::history::{Direction, History, Way};
use crate::net::{Command, Outgoing, Target};
use crate::settings::SendSettings;
use crate::settings::check::MAX_TEXT;
use crate::vars::Payload;

use super::{Tab, TabAction};

impl Tab {
    /// Carries out what a panel asked for.
    pub fn apply(&mut self, action: TabAction) {
        match action {
            TabAction::Open => self.open(),
            TabAction::Close => self.close(),
            TabAction::Send { text, hex } => self.send(&text, hex),
            TabAction::StartPeriodic => self.start_periodic(),
            TabAction::StopPeriodic => self.command(Command::StopPeriodic),
            TabAction::SetSendHex(hex) => self.set_send_hex(hex),
            TabAction::SendBoxFull => {
                // Checked now, so the check of the changed box does not clear what is said here.
                self.check_send_box();
                self.state.send_error = Some(Notice::SendBoxFull { limit: MAX_TEXT });
            }
            TabAction::ClearSendBox => {
                self.config.send.text.clear();
                self.state.send_error = None;
            }
            // The window owns the dialogs (one at a time, for every tab).
            TabAction::PickFile(_) => {}
            TabAction::StopCapture => self.stop_capture(),
            TabAction::StopPcap => self.stop_pcap(),
            TabAction::Kick(peer) => self.command(Command::Kick(peer)),
            TabAction::CancelExport => self.cancel_export(),
            TabAction::SetTarget(target) => self.state.target = target,
            TabAction::SetSendWay(way) => self.state.send_way = way,
            TabAction::SetPaused(paused) => self.state.paused = paused,
            TabAction::Layout { filter, way, columns } => self.update_view_options(filter, way, columns),
            TabAction::ClearView => self.clear_view(),
            TabAction::ResetCounters => self.reset_counters(),
            TabAction::Find(action) => self.find(action),
            TabAction::StartLoad => self.state.load.start(&self.config.load, self.state.repaint.clone()),
            TabAction::StopLoad => self.state.load.stop(),
            TabAction::SelectRows { seqs, extend } => self.state.view.select(seqs, extend),
            TabAction::ClearSelection => self.state.view.clear_selection(),
            TabAction::CopyAll => self.copy_all(),
            TabAction::ApplyRules => self.apply_rules(),
            TabAction::RunScript => self.run_script(),
            TabAction::StopScript => self.stop_script(),
            TabAction::ShowRun(peer) => self.state.auto.show_peer(peer),
            TabAction::ToggleTlsPanel => self.config.show_tls = !self.config.show_tls,
            TabAction::ShowTlsClient(peer) => self.state.tls.choose(peer),
        }
    }

    fn send(&mut self, text: &str, hex: bool) {
        if let Some(bytes) = self.payload(text, hex) {
            self.state.send_error = None;
            self.command(Command::Send {
                to: self.send_target(),
                bytes,
            });
        }
    }

    fn apply_rules(&mut self) {
        if let (Some(session), Ok(rules)) = (&self.state.session, self.state.auto.rules()) {
            session.command(Command::SetRules(rules));
            self.state.auto.rules_sent(self.config.rules.clone());
        }
    }

    /// Runs the script now, its expects seeing what each peer sent since Open; before Open, arms it for Open.
    fn run_script(&mut self) {
        let Some(script) = self.state.auto.script() else { return };
        let Some(session) = &self.state.session else {
            self.state.auto.set_run_at_open(true);
            return;
        };
        let seen = seen_since(&self.state.log, self.state.opened_at_seq);
        session.command(Command::RunScript { script, seen });
        self.state.auto.script_started(self.config.script.clone(), false);
    }

    fn stop_script(&mut self) {
        if let Some(session) = &self.state.session {
            session.command(Command::StopScript);
        }
        self.state.auto.set_run_at_open(false);
        self.state.auto.script_stopped();
    }

    /// Where sends go: the client chosen or every one; a relay's to the client or the upstream side of its pair.
    pub(super) fn send_target(&self) -> Target {
        let state = &self.state;
        match state.send_way {
            Way::ToUpstream if self.config.mode.caps().forwards => Target::Upstream(state.target),
            _ => state.target.map_or(Target::Default, Target::Peer),
        }
    }

    /// What `text` means with the send settings, or an inline error (and nothing sent).
    fn payload(&mut self, text: &str, hex: bool) -> Option<Outgoing> {
        send_box(&self.config.send, self.config.receive.encoding, hex, text)
            .map_err(|notice| self.state.send_error = Some(notice))
            .ok()
    }

    /// Converts the send box between text and hex in the chosen encoding; a box that cannot be converted (bad
    /// hex, unencodable text) stays as it is, with the reason shown.
    fn set_send_hex(&mut self, hex: bool) {
        let send = &self.config.send;
        if send.hex == hex {
            return;
        }
        match send.spec(self.config.receive.encoding, send.hex).convert(&send.text) {
            // The hex of a long text may not fit the box: it stays as it is.
            Ok((text, _)) if text.chars().nth(MAX_TEXT).is_some() => {
                self.state.send_error = Some(Notice::SendBoxFull { limit: MAX_TEXT });
            }
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
                bytes,
                interval,
                count,
            });
        }
    }
}

/// What a send box's `text` means: its bytes, or with Variables ticked (text, not hex) a template the session
/// fills in for each send.
pub(super) fn send_box(send: &SendSettings, encoding: TextEncoding, hex: bool, text: &str) -> Result<Outgoing, Notice> {
    let spec = send.spec(encoding, hex);
    if send.vars && !hex {
        return Payload::parse(text, &spec)
            .map(|payload| Outgoing::Vars(Arc::new(payload)))
            .map_err(Notice::Vars);
    }
    spec.build(text).map(Outgoing::from).map_err(Notice::Payload)
}

/// What a script run started now is fed first: the newest bytes each peer sent. Per peer, as much as an expect
/// waits in would be far more than a greeting needs; this much, and this many chunks looked at, keep a click cheap.
const SEEN_PER_PEER: usize = 64 * 1024;
const SEEN_TOTAL: usize = 4 * 1024 * 1024;
const SEEN_CHUNKS: u64 = 100_000;

/// What each peer sent from chunk `since` on, as the history still holds it: the newest `SEEN_PER_PEER` bytes
/// each, at most `SEEN_TOTAL` in all, looking back over at most `SEEN_CHUNKS` chunks.
fn seen_since(log: &History, since: u64) -> Vec<(Option<SocketAddr>, Vec<u8>)> {
    let first = since
        .max(log.first_seq())
        .max(log.next_seq().saturating_sub(SEEN_CHUNKS));
    // Newest first, so each peer's newest bytes are the ones kept.
    let mut pieces: HashMap<SocketAddr, (usize, Vec<&[u8]>)> = HashMap::new();
    let mut total = 0;
    for seq in (first..log.next_seq()).rev() {
        let Some(chunk) = log.get(seq).filter(|chunk| chunk.direction == Direction::Rx) else {
            continue;
        };
        let (len, kept) = pieces.entry(chunk.peer).or_default();
        if *len == SEEN_PER_PEER {
            continue;
        }
        let take = chunk.bytes.len().min(SEEN_PER_PEER - *len).min(SEEN_TOTAL - total);
        kept.push(&chunk.bytes[chunk.bytes.len() - take..]);
        *len += take;
        total += take;
        if total == SEEN_TOTAL {
            break;
        }
    }
    pieces
        .into_iter()
        .map(|(peer, (_, kept))| (Some(peer), kept.into_iter().rev().flatten().copied().collect()))
        .collect()
}
