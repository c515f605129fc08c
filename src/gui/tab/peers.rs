//! The peers the receive pane's filter offers besides those connected: the ones whose data arrived most recently.
//! A storm of short connections must not grow the window with every peer ever seen, so only the last
//! [`PEERS_KEPT`] are kept (at most twice as many between trims, each trim costing time in proportion to them).
use std::collections::HashMap;
use std::net::SocketAddr;

/// Peers the filter keeps besides the connected ones.
pub const PEERS_KEPT: usize = 256;

#[derive(Debug, Default)]
pub struct RecentPeers {
    /// Each peer and when it was last seen (a count of `seen` calls).
    last_seen: HashMap<SocketAddr, u64>,
    clock: u64,
}

impl RecentPeers {
    /// `peer`'s data arrived now.
    pub fn seen(&mut self, peer: SocketAddr) {
        self.clock += 1;
        self.last_seen.insert(peer, self.clock);
        if self.last_seen.len() > 2 * PEERS_KEPT {
            self.trim();
        }
    }

    /// Keeps the newest [`PEERS_KEPT`].
    fn trim(&mut self) {
        let mut stamps: Vec<u64> = self.last_seen.values().copied().collect();
        let oldest_kept = stamps.len() - PEERS_KEPT;
        let (_, cut, _) = stamps.select_nth_unstable(oldest_kept);
        let cut = *cut;
        self.last_seen.retain(|_, stamp| *stamp >= cut);
    }

    pub fn clear(&mut self) {
        self.last_seen = HashMap::new();
    }

    pub fn len(&self) -> usize {
        self.last_seen.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &SocketAddr> {
        self.last_seen.keys()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(n: u32) -> SocketAddr {
        SocketAddr::from(([127, 0, (n >> 16) as u8, (n >> 8) as u8], n as u16))
    }

    #[test]
    fn a_storm_of_peers_keeps_only_the_latest() {
        let mut recent = RecentPeers::default();
        let old = peer(1);
        recent.seen(old);
        for n in 2..100_000 {
            recent.seen(peer(n));
            // A peer that keeps talking stays however many come and go.
            if n % 100 == 0 {
                recent.seen(old);
            }
            assert!(recent.len() <= 2 * PEERS_KEPT, "{} peers kept", recent.len());
        }
        assert!(recent.len() >= PEERS_KEPT);
        assert!(recent.iter().any(|p| *p == old), "the talking peer stays");
        assert!(recent.iter().any(|p| *p == peer(99_999)), "the newest stays");
        assert!(!recent.iter().any(|p| *p == peer(2)), "an old one went");
    }
}
