//! Every kind of session in one place. A kind is a folder of its own under `net/` (its `Config`, its `CAPS` and its
//! `launch`) plus one line in `kinds!` below; the window and the command line ask `Kind::caps()` what a kind does
//! instead of comparing kinds, so a new kind is never half-handled somewhere that still compiles.
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::caps::{Caps, Parts, RemoteUse};
use super::transport::{Ctx, Launcher};
use super::{NetError, max_datagram, relay, tcp_client, tcp_server, udp};

/// The registry: `Variant => folder`. It generates `Kind`, `Mode` (a kind with its settings), the dispatch to
/// each folder, and `PerKind` (one value per kind, saved under the folders' names).
macro_rules! kinds {
    ($($variant:ident => $folder:ident,)+) => {
        /// A kind of session, as the window's mode selector lists them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum Kind {
            $($variant,)+
        }

        impl Kind {
            pub const ALL: &[Kind] = &[$(Kind::$variant,)+];

            pub fn caps(self) -> &'static Caps {
                match self {
                    $(Kind::$variant => &$folder::CAPS,)+
                }
            }
        }

        /// A session to open: its kind and that kind's settings.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Mode {
            $($variant($folder::Config),)+
        }

        impl Mode {
            pub fn kind(&self) -> Kind {
                match self {
                    $(Mode::$variant(_) => Kind::$variant,)+
                }
            }

            /// A session of `kind` from the fields it uses; `None` when a field it needs is missing.
            pub fn from_parts(kind: Kind, parts: Parts) -> Option<Mode> {
                match kind {
                    $(Kind::$variant => $folder::Config::from_parts(parts).map(Mode::$variant),)+
                }
            }

            pub fn parts(&self) -> Parts {
                match self {
                    $(Mode::$variant(config) => config.parts(),)+
                }
            }

            /// What this session does: its kind's, unless its settings change that (a relay of datagrams).
            pub fn caps(&self) -> &'static Caps {
                match self {
                    $(Mode::$variant(config) => config.caps(),)+
                }
            }

            pub(super) fn launch<L: Launcher>(self, ctx: Ctx, launcher: L) -> Result<L::Started, NetError> {
                match self {
                    $(Mode::$variant(config) => $folder::launch(config, ctx, launcher),)+
                }
            }
        }

        /// One value per kind (the window keeps a local port per kind), saved under each kind's folder name.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(default, bound(deserialize = "T: Deserialize<'de>, PerKind<T>: Default"))]
        pub struct PerKind<T> {
            $(pub $folder: T,)+
        }

        impl<T> PerKind<T> {
            pub fn new(mut value: impl FnMut(Kind) -> T) -> Self {
                PerKind {
                    $($folder: value(Kind::$variant),)+
                }
            }

            pub fn get(&self, kind: Kind) -> &T {
                match kind {
                    $(Kind::$variant => &self.$folder,)+
                }
            }

            pub fn get_mut(&mut self, kind: Kind) -> &mut T {
                match kind {
                    $(Kind::$variant => &mut self.$folder,)+
                }
            }
        }
    };
}

kinds! {
    TcpClient => tcp_client,
    TcpServer => tcp_server,
    Udp => udp,
    Relay => relay,
}

impl Default for Kind {
    /// A new tab listens, as NetAssist's first screen does.
    fn default() -> Self {
        Kind::TcpServer
    }
}

impl Kind {
    /// Its name in the window.
    pub fn label(self, chinese: bool) -> &'static str {
        let (zh, en) = self.caps().label;
        if chinese { zh } else { en }
    }
}

/// Each kind's own local port, starting from its default.
impl Default for PerKind<String> {
    fn default() -> Self {
        PerKind::new(|kind| kind.caps().default_local_port.to_owned())
    }
}

impl Mode {
    /// The first stderr line once ready on `local` (`None`: this kind says `connected to` when it connects). A
    /// kind that listens and needs a remote as well (a relay) names where it passes things on.
    pub fn ready_line(&self, local: SocketAddr) -> Option<String> {
        let caps = self.caps();
        let line = caps.ready_line?;
        Some(
            match self.parts().remote.filter(|_| caps.remote == RemoteUse::Required) {
                Some(remote) => format!("{line} {local} to {remote}"),
                None => format!("{line} {local}"),
            },
        )
    }

    /// The largest datagram a send may be (`None`: a stream, no limit): its remote's, or, while that is unknown (a
    /// hostname, or a peer to follow), its socket's family's (the engine checks each send again once it knows).
    pub fn datagram_limit(&self) -> Option<usize> {
        if !self.caps().datagrams {
            return None;
        }
        let parts = self.parts();
        let remote = parts.remote.and_then(|remote| remote.parse::<SocketAddr>().ok());
        remote.or(parts.local).map(max_datagram)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::tls::TlsSpec;

    #[test]
    fn every_kind_gives_back_the_parts_it_was_made_from() {
        let parts = Parts {
            local: Some("127.0.0.1:7".parse().expect("addr")),
            remote: Some("[::1]:9".into()),
            max_clients: Some(3),
            reconnect: true,
            follow_peer: true,
            broadcast: true,
            groups: vec![],
            tls: None,
            tls_upstream: Some(TlsSpec::default()),
        };
        for &kind in Kind::ALL {
            let mode = Mode::from_parts(kind, parts.clone()).expect("all parts given");
            assert_eq!(mode.kind(), kind);
            // What a kind keeps it gives back unchanged; it keeps what it uses and nothing else.
            let back = mode.parts();
            let again = Mode::from_parts(kind, back.clone()).expect("its own parts");
            assert_eq!(again, mode, "{kind:?}");
            assert_eq!(again.parts(), back, "{kind:?}");
        }
    }

    #[test]
    fn names_and_ports_are_the_kinds_own() {
        let names: Vec<_> = Kind::ALL.iter().map(|kind| kind.caps().name).collect();
        assert_eq!(names, ["tcp-client", "tcp-server", "udp", "relay"]);
        let ports = PerKind::<String>::default();
        assert_eq!(
            (ports.tcp_server.as_str(), ports.tcp_client.as_str(), ports.udp.as_str()),
            ("8080", "0", "8080")
        );
        assert_eq!(Kind::default(), Kind::TcpServer);
    }

    #[test]
    fn only_datagram_kinds_have_a_size_limit() {
        let mode = |kind, local: &str, remote: Option<&str>| {
            Mode::from_parts(
                kind,
                Parts {
                    local: Some(local.parse().expect("addr")),
                    remote: remote.map(str::to_owned),
                    ..Parts::default()
                },
            )
            .expect("mode")
        };
        // The limit follows the remote when it is an address, else the socket's family.
        assert_eq!(
            mode(Kind::Udp, "0.0.0.0:0", Some("[::1]:9")).datagram_limit(),
            Some(65_527)
        );
        assert_eq!(
            mode(Kind::Udp, "[::]:0", Some("127.0.0.1:9")).datagram_limit(),
            Some(65_507)
        );
        assert_eq!(mode(Kind::Udp, "[::]:0", Some("host:9")).datagram_limit(), Some(65_527));
        assert_eq!(mode(Kind::Udp, "0.0.0.0:0", None).datagram_limit(), Some(65_507));
        assert_eq!(mode(Kind::TcpClient, "0.0.0.0:0", Some("h:1")).datagram_limit(), None);
        assert_eq!(mode(Kind::TcpServer, "0.0.0.0:0", None).datagram_limit(), None);
    }
}
