//! A tab's TLS at run time: the handshakes of its peers and what failed (for the certificate panel), the
//! certificate a server presents, and the self-signed certificate made with the settings' button.
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use crate::gui::i18n::Notice;
use crate::net::NetError;
use crate::net::tls::{CertInfo, Handshake, Written, write_new_cert};
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

#[derive(Debug, Default)]
pub struct TlsState {
    /// The certificate an open server presents, and whether it was made at Open.
    serving: Option<(Arc<CertInfo>, bool)>,
    /// The handshakes of the peers connected now; a client's stays after it closes, until the next Open.
    handshakes: BTreeMap<SocketAddr, Arc<Handshake>>,
    /// The latest failures, oldest first, and how many there were since Open.
    failures: VecDeque<Arc<NetError>>,
    failed: u64,
    /// The client the panel shows (a server's); `None`: the send target, else the first.
    chosen: Option<SocketAddr>,
    /// The last certificate the button made, or why it could not.
    made: Option<Result<MadeCert, Notice>>,
}

impl TlsState {
    pub fn serving(&self) -> Option<&(Arc<CertInfo>, bool)> {
        self.serving.as_ref()
    }

    pub fn handshakes(&self) -> &BTreeMap<SocketAddr, Arc<Handshake>> {
        &self.handshakes
    }

    /// The latest failures (oldest first) and how many there were since Open.
    pub fn failures(&self) -> (&VecDeque<Arc<NetError>>, u64) {
        (&self.failures, self.failed)
    }

    pub fn made(&self) -> Option<&Result<MadeCert, Notice>> {
        self.made.as_ref()
    }

    /// The handshake the panel shows: the chosen client's, else `target`'s, else the first.
    pub fn shown(&self, target: Option<SocketAddr>) -> Option<&Arc<Handshake>> {
        [self.chosen, target]
            .into_iter()
            .flatten()
            .find_map(|peer| self.handshakes.get(&peer))
            .or_else(|| self.handshakes.values().next())
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
        self.handshakes.insert(handshake.peer, handshake);
    }

    /// A server's client left: its handshake goes with it (the map stays as big as the client list).
    pub(super) fn left(&mut self, peer: SocketAddr) {
        self.handshakes.remove(&peer);
    }

    pub(super) fn failure(&mut self, error: Arc<NetError>) {
        if self.failures.len() == FAILURES {
            self.failures.pop_front();
        }
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
            let tls = &mut self.config.tls;
            match side {
                TlsSide::Server => (tls.cert, tls.key) = (cert, key),
                TlsSide::Client => (tls.client_cert, tls.client_key) = (cert, key),
            }
        }
        self.state.tls.made = Some(made);
    }
}

/// `PREFIX.key`, as `write_new_cert` names it (a dot in the prefix stays).
fn with_suffix(prefix: &std::path::Path, suffix: &str) -> PathBuf {
    let mut path = prefix.as_os_str().to_owned();
    path.push(suffix);
    PathBuf::from(path)
}
