//! The throughput history: bytes (and messages) per second over the last five minutes, sampled once a second
//! from the engine's exact counters (the session's and each peer's), never from what a view kept. Bounded: 300
//! samples per series, and a series per peer only while that peer is there.
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::net::CounterSnapshot;

/// Samples kept per series: five minutes, one a second.
pub const SAMPLES: usize = 300;
/// Time between samples.
pub const PERIOD: Duration = Duration::from_secs(1);

/// One second's rates.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Rate {
    pub rx: f64,
    pub tx: f64,
    pub messages: f64,
}

/// The rates of one set of counters, oldest first, from the deltas of its (monotonic) counts. A count that went
/// down (counters reset) gives 0 for that second.
#[derive(Debug, Default)]
pub struct Series {
    last: Option<CounterSnapshot>,
    rates: VecDeque<Rate>,
}

impl Series {
    /// `seconds` samples (at least one) sharing the counts' growth since the last sample.
    fn sample(&mut self, now: CounterSnapshot, seconds: usize) {
        if let Some(last) = self.last {
            let per = |now: u64, last: u64| now.saturating_sub(last) as f64 / seconds as f64;
            let rate = Rate {
                rx: per(now.rx_bytes, last.rx_bytes),
                tx: per(now.tx_bytes, last.tx_bytes),
                messages: per(now.messages, last.messages),
            };
            for _ in 0..seconds.min(SAMPLES) {
                if self.rates.len() == SAMPLES {
                    self.rates.pop_front();
                }
                self.rates.push_back(rate);
            }
        }
        self.last = Some(now);
    }

    pub fn rates(&self) -> &VecDeque<Rate> {
        &self.rates
    }

    /// Points `(seconds ago as a negative x, value)`, the newest at x = 0.
    pub fn points(&self, value: impl Fn(&Rate) -> f64) -> Vec<[f64; 2]> {
        let newest = self.rates.len() as f64 - 1.0;
        (0..)
            .zip(&self.rates)
            .map(|(i, rate)| [f64::from(i) - newest, value(rate)])
            .collect()
    }
}

/// A tab's throughput: the session's series and one per peer present.
#[derive(Debug, Default)]
pub struct Throughput {
    /// When the last sample was taken.
    at: Option<Instant>,
    total: Series,
    peers: BTreeMap<SocketAddr, Series>,
}

impl Throughput {
    /// Takes a sample if a period has passed since the last (several, if the window was away for a while; the
    /// first call only sets the starting counts). Peers no longer listed lose their series. Returns when the next
    /// sample is due.
    pub fn tick(
        &mut self,
        now: Instant,
        total: CounterSnapshot,
        peers: impl IntoIterator<Item = (SocketAddr, CounterSnapshot)>,
    ) -> Instant {
        let seconds = match self.at {
            None => 1,
            Some(at) if now < at + PERIOD => return at + PERIOD,
            Some(at) => usize::try_from((now - at).as_secs()).unwrap_or(usize::MAX).max(1),
        };
        let at = match (self.at, u32::try_from(seconds)) {
            // Whole periods after the last sample, so samples stay a period apart.
            (Some(at), Ok(periods)) if seconds <= SAMPLES => at + PERIOD * periods,
            // The first look, or away longer than the window: from now on.
            _ => now,
        };
        self.at = Some(at);
        self.total.sample(total, seconds);
        let mut present = BTreeMap::new();
        for (peer, counts) in peers {
            let mut series = self.peers.remove(&peer).unwrap_or_default();
            series.sample(counts, seconds);
            present.insert(peer, series);
        }
        self.peers = present;
        at + PERIOD
    }

    pub fn total(&self) -> &Series {
        &self.total
    }

    /// Whether `total` differs from the counts of the last sample. While it does not, the next samples are all 0
    /// and can wait: a later `tick` fills in the seconds it missed.
    pub fn moved(&self, total: CounterSnapshot) -> bool {
        self.total.last != Some(total)
    }

    pub fn peer(&self, peer: SocketAddr) -> Option<&Series> {
        self.peers.get(&peer)
    }

    pub fn peers(&self) -> impl Iterator<Item = &SocketAddr> {
        self.peers.keys()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(rx_bytes: u64, tx_bytes: u64, messages: u64) -> CounterSnapshot {
        CounterSnapshot {
            rx_bytes,
            tx_bytes,
            messages,
            ..CounterSnapshot::default()
        }
    }

    fn rate(rx: f64, tx: f64, messages: f64) -> Rate {
        Rate { rx, tx, messages }
    }

    #[test]
    fn rates_are_the_counts_growth_per_second() {
        let start = Instant::now();
        let mut history = Throughput::default();
        let a: SocketAddr = "127.0.0.1:5000".parse().expect("addr");
        let b: SocketAddr = "127.0.0.1:6000".parse().expect("addr");
        history.tick(start, counts(100, 0, 0), [(a, counts(100, 0, 0))]);
        assert!(
            history.total().rates().is_empty(),
            "the first look only sets the counts"
        );
        // Too soon: nothing.
        let due = history.tick(start + PERIOD / 2, counts(150, 0, 0), [(a, counts(150, 0, 0))]);
        assert_eq!(due, start + PERIOD);
        history.tick(
            start + PERIOD,
            counts(1100, 10, 4),
            [(a, counts(600, 10, 4)), (b, counts(500, 0, 0))],
        );
        assert_eq!(history.total().rates(), &[rate(1000.0, 10.0, 4.0)]);
        assert_eq!(history.peer(a).expect("a").rates(), &[rate(500.0, 10.0, 4.0)]);
        assert!(history.peer(b).expect("b").rates().is_empty(), "b's first look");
        // Three seconds away: three samples sharing the growth; b left and its series goes.
        history.tick(start + PERIOD * 4, counts(1400, 10, 4), [(a, counts(900, 10, 4))]);
        let third = rate(100.0, 0.0, 0.0);
        assert_eq!(history.total().rates(), &[rate(1000.0, 10.0, 4.0), third, third, third]);
        assert_eq!(history.peers().collect::<Vec<_>>(), [&a]);
        assert!(!history.moved(counts(1400, 10, 4)) && history.moved(counts(1401, 10, 4)));
        // Counters reset: the count went down, the rate is 0, not a wrap-around.
        history.tick(start + PERIOD * 5, counts(0, 0, 0), []);
        assert_eq!(history.total().rates().back(), Some(&rate(0.0, 0.0, 0.0)));
        let points = history.total().points(|r| r.rx);
        assert_eq!(points.first(), Some(&[-4.0, 1000.0]));
        assert_eq!(points.last(), Some(&[0.0, 0.0]));
    }

    #[test]
    fn five_minutes_are_kept() {
        let start = Instant::now();
        let mut history = Throughput::default();
        for second in 0..=2 * SAMPLES as u64 {
            history.tick(start + PERIOD * second as u32, counts(second * 10, 0, 0), []);
        }
        assert_eq!(history.total().rates().len(), SAMPLES);
        // A long time away is at most the whole window, never more.
        history.tick(start + Duration::from_secs(100_000), counts(0, 0, 0), []);
        assert_eq!(history.total().rates().len(), SAMPLES);
    }
}
