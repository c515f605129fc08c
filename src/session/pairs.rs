//! A relay's pairs as its events tell them: each client with its own upstream leg, its state and its bytes each
//! way, and the pairs that ended (the last `ENDED_KEPT` of them), for the window's pairs table and its view.
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;

use chrono::{DateTime, Local};

use crate::history::Leg;
use crate::net::{Counters, Event, EventKind, LeaveReason, NetError};

/// Ended pairs kept for the table (and for "save as script"): a churning relay must not grow the window.
pub const ENDED_KEPT: usize = 100;

#[derive(Debug, Clone)]
pub enum PairState {
    /// Its client is accepted; its connection to the upstream is being made.
    Connecting,
    Open,
    /// `error`: why, when it failed (the upstream unreachable, a reset, …).
    Ended {
        reason: LeaveReason,
        error: Option<Arc<NetError>>,
    },
}

#[derive(Debug, Clone)]
pub struct PairInfo {
    pub client: SocketAddr,
    pub since: DateTime<Local>,
    /// The relay's end of the upstream connection, which names that leg in events and sends, once connected.
    pub via: Option<SocketAddr>,
    pub upstream: Option<SocketAddr>,
    pub state: PairState,
    /// The client leg's exact bytes: what it read went towards the upstream, what it wrote towards the client.
    counters: Arc<Counters>,
}

impl PairInfo {
    /// Bytes (client → upstream, upstream → client), as the client's side of the pair counted them.
    pub fn bytes(&self) -> (u64, u64) {
        let counters = self.counters.snapshot();
        (counters.rx_bytes, counters.tx_bytes)
    }

    pub fn is_open(&self) -> bool {
        !matches!(self.state, PairState::Ended { .. })
    }
}

/// A relay tab's pairs, across its sessions: open ones, the last ended ones, and bytes each way since Reset.
#[derive(Debug, Default)]
pub struct Pairs {
    open: BTreeMap<SocketAddr, PairInfo>,
    /// Oldest first.
    ended: VecDeque<PairInfo>,
    /// The upstream leg's name of every pair open or kept, to its client.
    vias: HashMap<SocketAddr, SocketAddr>,
    /// Bytes each way of the pairs that ended since Reset (kept or not).
    ended_bytes: (u64, u64),
    /// An error said for a client just before it leaves (`NetError::Pair`).
    failing: Option<(SocketAddr, Arc<NetError>)>,
}

impl Pairs {
    /// Folds one event of a relay session in.
    pub fn apply(&mut self, event: &Event) {
        match &event.kind {
            EventKind::PeerJoined { peer, counters } => {
                let pair = PairInfo {
                    client: *peer,
                    since: event.at.into(),
                    via: None,
                    upstream: None,
                    state: PairState::Connecting,
                    counters: counters.clone(),
                };
                self.open.insert(*peer, pair);
            }
            EventKind::Paired { client, via, upstream } => {
                if let Some(pair) = self.open.get_mut(client) {
                    pair.via = Some(*via);
                    pair.upstream = Some(*upstream);
                    pair.state = PairState::Open;
                    self.vias.insert(*via, *client);
                }
            }
            EventKind::Error(error) => {
                if let NetError::Pair { client, .. } = **error {
                    self.failing = Some((client, error.clone()));
                }
            }
            EventKind::PeerLeft { peer, reason } => {
                let error = self.failing.take().filter(|(client, _)| client == peer);
                self.end(*peer, *reason, error.map(|(_, error)| error));
            }
            EventKind::Closed { .. } => self.session_ended(),
            _ => {}
        }
    }

    /// The session ended (or was closed): its pairs with it.
    pub fn session_ended(&mut self) {
        let clients: Vec<SocketAddr> = self.open.keys().copied().collect();
        for client in clients {
            self.end(client, LeaveReason::Closed, None);
        }
    }

    fn end(&mut self, client: SocketAddr, reason: LeaveReason, error: Option<Arc<NetError>>) {
        let Some(mut pair) = self.open.remove(&client) else {
            return;
        };
        let (to_upstream, to_client) = pair.bytes();
        self.ended_bytes.0 = self.ended_bytes.0.saturating_add(to_upstream);
        self.ended_bytes.1 = self.ended_bytes.1.saturating_add(to_client);
        pair.state = PairState::Ended { reason, error };
        self.ended.push_back(pair);
        while self.ended.len() > ENDED_KEPT {
            if let Some(old) = self.ended.pop_front()
                && let Some(via) = old.via
                && self.vias.get(&via) == Some(&old.client)
            {
                self.vias.remove(&via);
            }
        }
    }

    /// Open pairs by client address, then those that ended, newest first.
    pub fn iter(&self) -> impl Iterator<Item = &PairInfo> {
        self.open.values().chain(self.ended.iter().rev())
    }

    pub fn open_count(&self) -> usize {
        self.open.len()
    }

    /// The open pairs' clients.
    pub fn clients(&self) -> impl Iterator<Item = SocketAddr> + '_ {
        self.open.keys().copied()
    }

    /// Which side of which pair a peer named in an event is: a client, or an upstream leg (named by its `via`).
    pub fn leg_of(&self, peer: SocketAddr) -> Leg {
        match self.vias.get(&peer) {
            Some(&client) => Leg::Upstream { client },
            None => Leg::Client,
        }
    }

    /// Bytes (client → upstream, upstream → client) of every pair since Reset.
    pub fn bytes_each_way(&self) -> (u64, u64) {
        self.open
            .values()
            .map(PairInfo::bytes)
            .fold(self.ended_bytes, |(a, b), (c, d)| {
                (a.saturating_add(c), b.saturating_add(d))
            })
    }

    /// Reset: the counts of open pairs start from zero, and so do the ended pairs' total (their rows keep theirs).
    pub fn reset_counters(&mut self) {
        for pair in self.open.values() {
            pair.counters.reset();
        }
        self.ended_bytes = (0, 0);
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    fn event(kind: EventKind) -> Event {
        Event {
            at: SystemTime::now(),
            kind,
        }
    }

    /// Client `port` joins and gets its upstream leg `port + 1`, with `bytes` each way.
    fn pair(pairs: &mut Pairs, port: u16, bytes: (usize, usize)) {
        let counters = Arc::new(Counters::default());
        counters.add_rx(bytes.0);
        counters.add_tx(bytes.1);
        pairs.apply(&event(EventKind::PeerJoined {
            peer: addr(port),
            counters,
        }));
        pairs.apply(&event(EventKind::Paired {
            client: addr(port),
            via: addr(port + 1),
            upstream: addr(9),
        }));
    }

    fn left(pairs: &mut Pairs, port: u16) {
        pairs.apply(&event(EventKind::PeerLeft {
            peer: addr(port),
            reason: LeaveReason::Closed,
        }));
    }

    #[test]
    fn a_pair_names_its_legs_and_counts_both_ways_after_it_ends() {
        let mut pairs = Pairs::default();
        pair(&mut pairs, 1000, (5, 7));
        assert_eq!(pairs.leg_of(addr(1001)), Leg::Upstream { client: addr(1000) });
        assert_eq!(pairs.leg_of(addr(1000)), Leg::Client);
        let failed = Arc::new(NetError::Pair {
            client: addr(1000),
            source: Box::new(NetError::NoPeer(crate::net::Nobody::NotConnected)),
        });
        pairs.apply(&event(EventKind::Error(failed)));
        pairs.apply(&event(EventKind::PeerLeft {
            peer: addr(1000),
            reason: LeaveReason::Error,
        }));
        let ended = pairs.iter().next().expect("kept");
        assert!(matches!(
            ended.state,
            PairState::Ended {
                reason: LeaveReason::Error,
                error: Some(_)
            }
        ));
        assert_eq!(pairs.open_count(), 0);
        assert_eq!(pairs.bytes_each_way(), (5, 7));
        pairs.reset_counters();
        assert_eq!(pairs.bytes_each_way(), (0, 0));
    }

    #[test]
    fn only_the_last_ended_pairs_are_kept() {
        let mut pairs = Pairs::default();
        let count = ENDED_KEPT as u16 + 50;
        for n in 0..count {
            pair(&mut pairs, 2000 + 2 * n, (1, 2));
            left(&mut pairs, 2000 + 2 * n);
        }
        assert_eq!(pairs.iter().count(), ENDED_KEPT);
        assert_eq!(pairs.vias.len(), ENDED_KEPT);
        // The oldest are forgotten, but their bytes still count.
        assert_eq!(pairs.leg_of(addr(2001)), Leg::Client);
        assert_eq!(pairs.bytes_each_way(), (u64::from(count), 2 * u64::from(count)));
        pairs.apply(&event(EventKind::PeerJoined {
            peer: addr(1),
            counters: Arc::default(),
        }));
        pairs.apply(&event(EventKind::Closed {
            reason: crate::net::CloseReason::Stopped,
        }));
        assert!(pairs.iter().all(|pair| !pair.is_open()));
    }
}
