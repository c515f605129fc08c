//! What a session's events add up to: the link's state, the connected clients, where sends can go, the periodic
//! and file sends' progress, the bytes received and the last connect failure. The window and the command line
//! fold every event here and keep only what is their own (the window's log, the command line's printing).
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Local};

use crate::net::{Caps, Counters, Event, EventKind, Mode, NetError, RemoteUse, Target};

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
    pub since: DateTime<Local>,
    /// The engine's exact count for this client (not what a view kept).
    pub counters: Arc<Counters>,
}

/// One session's events, folded. Plain data: no sockets, no clock, no output.
#[derive(Debug)]
pub struct SessionState {
    caps: &'static Caps,
    /// The remote was given as an address, so a datagram socket's sends can go once bound (a hostname or a peer
    /// to follow is reported by `RemoteChanged`).
    remote_known: bool,
    link: LinkState,
    clients: BTreeMap<SocketAddr, ClientInfo>,
    /// TCP client connected, or UDP remote known: sends to `Target::Default` can go.
    default_reachable: bool,
    periodic: Option<u64>,
    file: Option<(u64, u64)>,
    received: u64,
    connect_failure: Option<Arc<NetError>>,
}

impl SessionState {
    /// A session just started with `mode`: nothing heard from it yet.
    pub fn new(mode: &Mode) -> Self {
        let remote_known = mode.parts().remote.is_some_and(|r| r.parse::<SocketAddr>().is_ok());
        SessionState {
            caps: mode.caps(),
            remote_known,
            link: LinkState::Connecting(None),
            clients: BTreeMap::new(),
            default_reachable: false,
            periodic: None,
            file: None,
            received: 0,
            connect_failure: None,
        }
    }

    /// Folds one event in. Returns the destination that sends can newly go to, if this event made one: the
    /// server (TCP client connected), the remote (UDP), or a client that joined.
    pub fn apply(&mut self, event: &Event) -> Option<Target> {
        match &event.kind {
            EventKind::Ready { local } => {
                if self.caps.datagrams {
                    self.link = LinkState::Bound(*local);
                    if self.remote_known {
                        return self.reach_default();
                    }
                } else {
                    self.link = LinkState::Listening(*local);
                }
            }
            EventKind::Connecting { remote } => self.link = LinkState::Connecting(Some(*remote)),
            EventKind::Connected { local, peer } => {
                self.connect_failure = None;
                self.link = LinkState::Connected {
                    local: *local,
                    peer: *peer,
                };
                return self.reach_default();
            }
            EventKind::ConnectFailed { reason } => self.connect_failure = Some(reason.clone()),
            EventKind::Reconnecting { after } => self.link = LinkState::Reconnecting(*after),
            EventKind::PeerJoined { peer, counters } => {
                let info = ClientInfo {
                    since: event.at.into(),
                    counters: counters.clone(),
                };
                self.clients.insert(*peer, info);
                return Some(Target::Peer(*peer));
            }
            EventKind::PeerLeft { peer, .. } => {
                self.clients.remove(peer);
                // A client's peer is its remote: sends wait for the next connection.
                if self.caps.remote == RemoteUse::Required {
                    self.default_reachable = false;
                }
            }
            EventKind::RemoteChanged { .. } if self.caps.datagrams => return self.reach_default(),
            EventKind::Received { bytes, .. } => self.count(bytes.len() as u64),
            EventKind::ReceivedLen { len, .. } => self.count(*len),
            EventKind::PeriodicProgress { sent, done } => self.periodic = (!done).then_some(*sent),
            EventKind::FileProgress { sent, total, done } => self.file = (!done).then_some((*sent, *total)),
            // These end a file send without a last `FileProgress`.
            EventKind::Error(error) if matches!(**error, NetError::ReadFile { .. } | NetError::FileStopped { .. }) => {
                self.file = None;
            }
            EventKind::Closed { .. } => {
                self.link = LinkState::Closed;
                self.clients.clear();
                self.default_reachable = false;
                self.periodic = None;
                self.file = None;
            }
            EventKind::Error(_)
            | EventKind::RemoteChanged { .. }
            | EventKind::PeerRefused { .. }
            | EventKind::Paired { .. }
            | EventKind::Sent { .. }
            | EventKind::DroppedFromView { .. }
            | EventKind::TlsHandshake(_)
            | EventKind::TlsServing { .. }
            | EventKind::Automation(_) => {}
        }
        None
    }

    fn reach_default(&mut self) -> Option<Target> {
        (!std::mem::replace(&mut self.default_reachable, true)).then_some(Target::Default)
    }

    fn count(&mut self, len: u64) {
        self.received = self.received.saturating_add(len);
    }

    /// A periodic send was asked for: it runs until its progress says done.
    pub fn periodic_started(&mut self) {
        self.periodic = Some(0);
    }

    /// A file send of `total` bytes was asked for: it runs until its progress says done or an error ends it.
    pub fn file_started(&mut self, total: u64) {
        self.file = Some((0, total));
    }

    pub fn link(&self) -> &LinkState {
        &self.link
    }

    pub fn clients(&self) -> &BTreeMap<SocketAddr, ClientInfo> {
        &self.clients
    }

    /// How many destinations a `Target::Default` send reaches now: a server's clients, else 0 or 1.
    pub fn reachable(&self) -> usize {
        self.clients.len() + usize::from(self.default_reachable)
    }

    /// Sends made by the running periodic send; `None` when none runs.
    pub fn periodic(&self) -> Option<u64> {
        self.periodic
    }

    /// `(sent, total)` bytes of the running file send.
    pub fn file(&self) -> Option<(u64, u64)> {
        self.file
    }

    /// Bytes received, as the events told (with `ReceivedAs::Nothing` they tell nothing).
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Why the last connection attempt failed, until the next one connects; taking it reports it once.
    pub fn take_connect_failure(&mut self) -> Option<Arc<NetError>> {
        self.connect_failure.take()
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::SystemTime;

    use super::*;
    use crate::net::{CloseReason, LeaveReason, Nobody, tcp_client, tcp_server, udp};

    fn addr(text: &str) -> SocketAddr {
        text.parse().expect(text)
    }

    /// Folds `kinds` in order, returning what each one made reachable.
    fn fold(state: &mut SessionState, kinds: Vec<EventKind>) -> Vec<Option<Target>> {
        kinds
            .into_iter()
            .map(|kind| {
                state.apply(&Event {
                    at: SystemTime::now(),
                    kind,
                })
            })
            .collect()
    }

    fn server() -> SessionState {
        SessionState::new(&Mode::TcpServer(tcp_server::Config {
            listen: addr("127.0.0.1:0"),
            max_clients: None,
            tls: None,
        }))
    }

    fn client() -> SessionState {
        SessionState::new(&Mode::TcpClient(tcp_client::Config {
            remote: "127.0.0.1:7".into(),
            bind: None,
            reconnect: true,
            connect_timeout: Duration::from_secs(1),
            tls: None,
        }))
    }

    fn udp(remote: Option<&str>) -> SessionState {
        SessionState::new(&Mode::Udp(udp::Config {
            bind: addr("127.0.0.1:0"),
            remote: remote.map(str::to_owned),
            follow_peer: true,
            broadcast: false,
            groups: vec![],
        }))
    }

    fn joined(peer: SocketAddr) -> EventKind {
        EventKind::PeerJoined {
            peer,
            counters: Arc::default(),
        }
    }

    fn left(peer: SocketAddr) -> EventKind {
        EventKind::PeerLeft {
            peer,
            reason: LeaveReason::Closed,
        }
    }

    fn failure() -> Arc<NetError> {
        Arc::new(NetError::NoPeer(Nobody::NotConnected))
    }

    #[test]
    fn a_server_reaches_each_client_while_it_is_there() {
        let mut state = server();
        let (a, b) = (addr("127.0.0.1:1001"), addr("127.0.0.1:1002"));
        let local = addr("127.0.0.1:7788");
        let reached = fold(&mut state, vec![EventKind::Ready { local }, joined(a), joined(b)]);
        assert_eq!(reached, [None, Some(Target::Peer(a)), Some(Target::Peer(b))]);
        assert_eq!(state.link(), &LinkState::Listening(local));
        assert_eq!(state.reachable(), 2);
        fold(&mut state, vec![left(a), EventKind::PeerRefused { peer: a }]);
        assert_eq!(state.clients().keys().collect::<Vec<_>>(), [&b]);
        assert_eq!(state.reachable(), 1);
        fold(
            &mut state,
            vec![EventKind::Closed {
                reason: CloseReason::Stopped,
            }],
        );
        assert_eq!((state.link(), state.reachable()), (&LinkState::Closed, 0));
    }

    #[test]
    fn a_client_reaches_its_server_once_per_connection() {
        let mut state = client();
        let (local, peer) = (addr("127.0.0.1:5000"), addr("127.0.0.1:7"));
        let reached = fold(
            &mut state,
            vec![
                EventKind::Connecting { remote: peer },
                EventKind::ConnectFailed { reason: failure() },
                EventKind::Reconnecting {
                    after: Duration::from_millis(250),
                },
            ],
        );
        assert_eq!(reached, [None, None, None]);
        assert_eq!(state.link(), &LinkState::Reconnecting(Duration::from_millis(250)));
        assert!(state.take_connect_failure().is_some());
        assert!(state.take_connect_failure().is_none(), "reported once");
        let connected = EventKind::Connected { local, peer };
        let reached = fold(
            &mut state,
            vec![
                EventKind::ConnectFailed { reason: failure() },
                connected.clone(),
                connected.clone(),
            ],
        );
        assert_eq!(reached, [None, Some(Target::Default), None]);
        assert!(state.take_connect_failure().is_none(), "connected since");
        assert_eq!(state.link(), &LinkState::Connected { local, peer });
        assert_eq!(state.reachable(), 1);
        // The server went; the next connection is reachable anew.
        let reached = fold(&mut state, vec![left(peer), connected]);
        assert_eq!(reached, [None, Some(Target::Default)]);
        assert!(state.clients().is_empty(), "a client's server is no client");
    }

    #[test]
    fn udp_reaches_its_remote_when_bound_or_when_it_becomes_known() {
        let local = addr("127.0.0.1:9000");
        let remote = addr("127.0.0.1:9001");
        let mut known = udp(Some("127.0.0.1:9001"));
        let reached = fold(
            &mut known,
            vec![EventKind::Ready { local }, EventKind::RemoteChanged { remote }],
        );
        assert_eq!(reached, [Some(Target::Default), None]);
        assert_eq!(known.link(), &LinkState::Bound(local));
        for mut later in [udp(Some("localhost:9001")), udp(None)] {
            let reached = fold(
                &mut later,
                vec![EventKind::Ready { local }, EventKind::RemoteChanged { remote }],
            );
            assert_eq!(reached, [None, Some(Target::Default)]);
            assert_eq!(later.reachable(), 1);
        }
        // A server's RemoteChanged (none is sent) would reach nothing.
        assert_eq!(fold(&mut server(), vec![EventKind::RemoteChanged { remote }]), [None]);
    }

    #[test]
    fn progress_runs_until_done_or_an_error_ends_it() {
        let mut state = server();
        let peer = addr("127.0.0.1:1001");
        assert_eq!(state.periodic(), None);
        state.periodic_started();
        assert_eq!(state.periodic(), Some(0));
        fold(&mut state, vec![EventKind::PeriodicProgress { sent: 3, done: false }]);
        assert_eq!(state.periodic(), Some(3));
        fold(&mut state, vec![EventKind::PeriodicProgress { sent: 4, done: true }]);
        assert_eq!(state.periodic(), None);

        state.file_started(10);
        assert_eq!(state.file(), Some((0, 10)));
        fold(
            &mut state,
            vec![EventKind::FileProgress {
                sent: 4,
                total: 10,
                done: false,
            }],
        );
        assert_eq!(state.file(), Some((4, 10)));
        // Any other error leaves the file send running.
        fold(&mut state, vec![EventKind::Error(failure())]);
        assert_eq!(state.file(), Some((4, 10)));
        let unreadable = NetError::ReadFile {
            path: PathBuf::from("f"),
            source: std::io::Error::other("gone"),
        };
        fold(&mut state, vec![EventKind::Error(Arc::new(unreadable))]);
        assert_eq!(state.file(), None);
        state.file_started(1);
        fold(
            &mut state,
            vec![EventKind::FileProgress {
                sent: 1,
                total: 1,
                done: true,
            }],
        );
        assert_eq!(state.file(), None);

        fold(
            &mut state,
            vec![
                EventKind::Received {
                    peer,
                    bytes: b"hello".to_vec(),
                },
                EventKind::ReceivedLen { peer, len: 7 },
                EventKind::Sent {
                    peer,
                    bytes: Arc::from(&b"not counted"[..]),
                },
                EventKind::DroppedFromView { peer, bytes: 100 },
            ],
        );
        assert_eq!(state.received(), 12);
    }
}
