//! A frame's bookkeeping: the engine's events taken within a budget and folded in, and the edits checked.
use std::net::SocketAddr;
use std::time::{Instant, SystemTime};

use crate::history::{Chunk, Direction, Leg, Note};
use crate::net::tls::{CLIENT_LEG, UPSTREAM_LEG};
use crate::net::{Command, Event, EventKind, NetError, ScriptScope};
use crate::settings::Prefs;

use super::actions::send_box;
use super::{SendCheck, Tab};

/// Event batches taken per frame and tab; the rest wait for the next frame, so a flood never freezes the window.
const BATCHES_PER_FRAME: usize = 64;

impl Tab {
    /// A frame's bookkeeping, for every tab whether on show or not: `shown` tabs also bring their view up to date
    /// (a hidden tab's view catches up when it is shown again).
    pub fn logic(&mut self, prefs: &mut Prefs, shown: bool) {
        self.reap();
        self.poll_start(prefs);
        self.drain_events(shown);
        self.update_counters();
        self.update_rates();
        self.sample_throughput();
        self.check_send_box();
        self.check_automation();
        self.state.load.logic(&self.state.repaint);
        if shown {
            self.update_find();
        }
        if shown {
            self.state.unseen = false;
            self.state.activity.shown = Some(Instant::now());
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
        } else {
            // A hidden view lets go of what the history dropped: it would keep those chunks alive.
            self.state.view.forget_dropped(&self.state.log);
        }
        // The view indexes a few milliseconds' worth per frame; what is left needs another frame.
        if more || (shown && self.state.view.catching_up()) {
            self.state.repaint.request_repaint();
        }
    }

    /// The session's state is folded in one place (`SessionState`); what is left here is the tab's own.
    pub(super) fn handle(&mut self, event: Event, shown: bool) {
        if let Some(live) = &mut self.state.live {
            live.apply(&event);
        }
        if self.config.mode.caps().forwards {
            self.state.pairs.apply(&event);
        }
        match event.kind {
            EventKind::Connected { peer, .. } => {
                self.state.error = None;
                self.note(event.at, peer, Note::Connected);
            }
            EventKind::PeerJoined { peer, .. } => self.note(event.at, peer, Note::Connected),
            EventKind::PeerLeft { peer, reason } => {
                if self.config.mode.caps().accepts {
                    // The pairs have just ended this one (it is the newest ended).
                    let via = self
                        .state
                        .pairs
                        .iter()
                        .find(|pair| pair.client == peer)
                        .and_then(|pair| pair.via);
                    self.state.tls.left(peer, via);
                }
                self.note(event.at, peer, Note::Disconnected(reason));
            }
            EventKind::ConnectFailed { reason } => {
                self.tls_failure(&reason);
                self.attempt_failed(reason);
            }
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
                self.tls_failure(&error);
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
            | EventKind::PeerRefused { .. }
            | EventKind::Paired { .. }
            | EventKind::ReceivedLen { .. }
            | EventKind::DroppedFromView { .. }
            | EventKind::PeriodicProgress { .. }
            | EventKind::FileProgress { .. } => {}
            EventKind::TlsHandshake(handshake) => self.state.tls.handshake(handshake),
            EventKind::TlsServing { cert, self_signed } => self.state.tls.serving_now(cert, self_signed),
            EventKind::Automation(event) => {
                let once = self.config.mode.caps().script_scope != ScriptScope::EachClient;
                self.state.auto.handle(event, once);
            }
        }
    }

    /// A failed handshake is kept for the certificate panel: a server's next error would hide it in the column. A
    /// relay says an upstream leg's for the pair's client (`Pair`), a client leg's as it is.
    fn tls_failure(&mut self, error: &std::sync::Arc<NetError>) {
        let leg = match &**error {
            NetError::Tls { .. } => CLIENT_LEG,
            NetError::Pair { source, .. } if matches!(**source, NetError::Tls { .. }) => UPSTREAM_LEG,
            _ => return,
        };
        self.state.tls.failure(error.clone(), leg);
    }

    /// Keeps a chunk for the view, unless paused (the counters are the engine's); a relay's with its pair's side.
    pub(super) fn record(&mut self, at: SystemTime, peer: SocketAddr, direction: Direction, bytes: Vec<u8>) {
        if !self.state.paused {
            self.state.activity.data = Some(Instant::now());
            let leg = match self.config.mode.caps().forwards {
                true => self.state.pairs.leg_of(peer),
                false => Leg::Direct,
            };
            let chunk = Chunk::new(at.into(), peer, direction, bytes).on(leg);
            self.state.recent.seen(chunk.owner());
            self.state.log.push(chunk);
        }
    }

    /// Keeps a row saying `peer` connected or left, unless paused.
    fn note(&mut self, at: SystemTime, peer: SocketAddr, note: Note) {
        if !self.state.paused {
            self.state.log.push(Chunk::noted(at.into(), peer, note));
        }
    }

    /// Checks the send box as the user types: the result is kept until the text or a send setting changes.
    pub(super) fn check_send_box(&mut self) {
        let send = &self.config.send;
        let spec = send.spec(self.config.receive.encoding, send.hex);
        let state = &mut self.state;
        if let Some(check) = &state.send_check
            && check.key.1 == spec
            && check.key.2 == send.vars
            && check.key.0 == send.text
        {
            return;
        }
        if state.send_check.is_some() {
            // The box changed: a failure of the last send no longer describes it.
            state.send_error = None;
        }
        state.send_check = Some(SendCheck {
            result: send_box(send, self.config.receive.encoding, send.hex, &send.text),
            key: (send.text.clone(), spec, send.vars),
        });
    }

    /// Checks the rules and script as edited, and hands a new valid framing to the session at once (an invalid
    /// one changes nothing: the fields say why).
    fn check_automation(&mut self) {
        let config = &self.config;
        let auto = &mut self.state.auto;
        let forwards = config.mode.caps().forwards;
        auto.check(&config.rules, &config.script, config.receive.encoding, forwards);
        if let Ok(framing) = config.framing.framing()
            && auto.take_framing(framing.clone())
            && let Some(session) = &self.state.session
        {
            session.command(Command::SetFraming(framing));
        }
    }
}
