//! A tab's TLS at run time: the handshakes of its peers and what failed (for the certificate panel), the
//! certificate a server presents, and the self-signed certificate made with the settings' button.
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use crate::gui::i18n::Notice;
use crate::net::NetError;
use crate::net::tls::{CertInfo, Handshake, UPSTREAM_LEG, Written, write_new_cert};
use crate::settings::tls::{TlsSide, cert_prefix};

use super::{Picked, Tab};

/// Failed handshakes kept for the panel; the count goes on past it.
const FAILURES: usize = 20;

/// What a self-signed certificate is made for: the names a local test server answers to, for a year.
const MADE_CN: &str = "localhost";
const MADE_DAYS: u32 = 365;

/// A certificate the button wrote: where, and its fingerprint.
#[derive(Debug, Clone)]
pub struct MadeCert {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub sha256: String,
}

/// Where a handshake was: on a relay's upstream leg (named by the relay's end of it, its `via`: every upstream
/// handshake has the same peer), or with the peer named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum LegKey {
    Peer(SocketAddr),
    Upstream(SocketAddr),
}

impl LegKey {
    fn of(handshake: &Handshake) -> LegKey {
        match handshake.leg {
            Some(UPSTREAM_LEG) => LegKey::Upstream(handshake.local),
            _ => LegKey::Peer(handshake.peer),
        }
    }
}

#[derive(Debug, Default)]
pub struct TlsState {
    /// The certificate an open server presents, and whether it was made at Open.
    serving: Option<(Arc<CertInfo>, bool)>,
    /// The handshakes of the peers connected now, by leg (`LegKey`); a client's stays after it closes, until the
    /// next Open.
    handshakes: BTreeMap<LegKey, Arc<Handshake>>,
    /// The latest failures, oldest first, and how many there were since Open.
    failures: VecDeque<Arc<NetError>>,
    failed: u64,
    /// The latest failure on each leg (`CLIENT_LEG`, `UPSTREAM_LEG`): a relay's panel says it under the leg's
    /// heading, since the pair it ended has left the client chooser.
    last_failed: BTreeMap<&'static str, Arc<NetError>>,
    /// The client the panel shows (a server's); `None`: the send target, else the first.
    chosen: Option<SocketAddr>,
    /// The last certificate the button made (for the block of that end), or why it could not.
    made: Option<(TlsSide, Result<MadeCert, Notice>)>,
}

impl TlsState {
    pub fn serving(&self) -> Option<&(Arc<CertInfo>, bool)> {
        self.serving.as_ref()
    }

    /// The peers with a handshake (a relay's clients whose leg speaks TLS).
    pub fn peers(&self) -> impl Iterator<Item = SocketAddr> + '_ {
        self.handshakes.keys().filter_map(|key| match key {
            LegKey::Peer(peer) => Some(*peer),
            LegKey::Upstream(_) => None,
        })
    }

    /// The handshake with `peer` (a relay's: on its client leg).
    pub fn with_peer(&self, peer: SocketAddr) -> Option<&Arc<Handshake>> {
        self.handshakes.get(&LegKey::Peer(peer))
    }

    /// The handshake on a relay's upstream leg named by `via`.
    pub fn upstream(&self, via: SocketAddr) -> Option<&Arc<Handshake>> {
        self.handshakes.get(&LegKey::Upstream(via))
    }

    /// Whether any handshake is kept.
    pub fn any(&self) -> bool {
        !self.handshakes.is_empty()
    }

    /// The latest failures (oldest first) and how many there were since Open.
    pub fn failures(&self) -> (&VecDeque<Arc<NetError>>, u64) {
        (&self.failures, self.failed)
    }

    /// The latest failure on `leg` (`CLIENT_LEG`, `UPSTREAM_LEG`) since Open.
    pub fn last_failure(&self, leg: &str) -> Option<&Arc<NetError>> {
        self.last_failed.get(leg)
    }

    /// What the button of `side`'s block made last.
    pub fn made(&self, side: TlsSide) -> Option<&Result<MadeCert, Notice>> {
        self.made
            .as_ref()
            .filter(|(made, _)| *made == side)
            .map(|(_, made)| made)
    }

    /// The handshake the panel shows: the chosen client's, else `target`'s, else the first (of any leg).
    pub fn shown(&self, target: Option<SocketAddr>) -> Option<&Arc<Handshake>> {
        [self.chosen, target]
            .into_iter()
            .flatten()
            .find_map(|peer| self.with_peer(peer))
            .or_else(|| self.handshakes.values().next())
    }

    /// The client a relay's panel shows the legs of: the chosen one, else `target`, else the first with a
    /// handshake on either leg (`via` names a pair's upstream leg).
    pub fn shown_client(
        &self,
        target: Option<SocketAddr>,
        pairs: &[(SocketAddr, Option<SocketAddr>)],
    ) -> Option<SocketAddr> {
        let has = |client: SocketAddr| pairs.iter().any(|(c, _)| *c == client);
        let tls_on = |(client, via): &&(SocketAddr, Option<SocketAddr>)| {
            self.with_peer(*client).is_some() || via.is_some_and(|via| self.upstream(via).is_some())
        };
        [self.chosen, target]
            .into_iter()
            .flatten()
            .find(|client| has(*client))
            .or_else(|| pairs.iter().find(tls_on).map(|(client, _)| *client))
    }

    pub(super) fn choose(&mut self, peer: SocketAddr) {
        self.chosen = Some(peer);
    }

    pub(super) fn opened(&mut self) {
        let made = self.made.take();
        *self = TlsState {
            made,
            ..TlsState::default()
        };
    }

    pub(super) fn serving_now(&mut self, cert: Arc<CertInfo>, self_signed: bool) {
        self.serving = Some((cert, self_signed));
    }

    pub(super) fn handshake(&mut self, handshake: Arc<Handshake>) {
        self.handshakes.insert(LegKey::of(&handshake), handshake);
    }

    /// A server's client left: its handshake goes with it, and its pair's upstream leg's (`via`), so the map
    /// stays as big as the client list.
    pub(super) fn left(&mut self, peer: SocketAddr, via: Option<SocketAddr>) {
        self.handshakes.remove(&LegKey::Peer(peer));
        if let Some(via) = via {
            self.handshakes.remove(&LegKey::Upstream(via));
        }
    }

    /// A handshake failed on `leg` (a relay's; the other kinds' are all `CLIENT_LEG`).
    pub(super) fn failure(&mut self, error: Arc<NetError>, leg: &'static str) {
        if self.failures.len() == FAILURES {
            self.failures.pop_front();
        }
        self.last_failed.insert(leg, error.clone());
        self.failures.push_back(error);
        self.failed += 1;
    }
}

impl Tab {
    /// Writes a self-signed certificate and its key next to the name chosen, on a thread of its own; the fields
    /// of `side` get them when it is done.
    pub(super) fn make_cert(&self, side: TlsSide, chosen: PathBuf) {
        let id = self.id;
        let _ = self.background("wirepad-make-cert", move || {
            let prefix = cert_prefix(&chosen);
            let names = ["localhost", "127.0.0.1", "::1"].map(String::from);
            let made = write_new_cert(MADE_CN, &names, MADE_DAYS, &prefix, None)
                .map(|Written { cert: (cert, info), .. }| MadeCert {
                    cert,
                    key: with_suffix(&prefix, ".key"),
                    sha256: info.sha256,
                })
                .map_err(|error| Notice::Write {
                    path: prefix,
                    error: Arc::new(std::io::Error::other(error.to_string())),
                });
            Some(Picked::CertMade(id, side, made))
        });
    }

    /// A certificate made with the button: it fills in the certificate and key of `side`.
    pub fn cert_made(&mut self, side: TlsSide, made: Result<MadeCert, Notice>) {
        if let Ok(made) = &made {
            let (cert, key) = (made.cert.display().to_string(), made.key.display().to_string());
            let tls = self.config.tls_of_side_mut(Some(side));
            match side {
                TlsSide::Server => (tls.cert, tls.key) = (cert, key),
                TlsSide::Client => (tls.client_cert, tls.client_key) = (cert, key),
            }
        }
        self.state.tls.made = Some((side, made));
    }
}

/// `PREFIX.key`, as `write_new_cert` names it (a dot in the prefix stays).
fn with_suffix(prefix: &std::path::Path, suffix: &str) -> PathBuf {
    let mut path = prefix.as_os_str().to_owned();
    path.push(suffix);
    PathBuf::from(path)
}
