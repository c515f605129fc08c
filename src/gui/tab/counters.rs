//! Counters, rates and the throughput history, read from the engine's exact counts.
use std::time::{Duration, Instant};

use super::{Rates, Tab, Totals};

impl Tab {
    /// Reset: every count starts from zero, the history's past drops included.
    pub(super) fn reset_counters(&mut self) {
        let state = &mut self.state;
        if let Some(session) = &state.session {
            session.counters().reset();
        }
        for (_, client) in state.client_list() {
            client.counters.reset();
        }
        state.pairs.reset_counters();
        state.totals = Totals::default();
        state.log_dropped_at_reset = state.log.dropped_bytes_total();
        state.rates = Rates::default();
    }

    pub(super) fn update_counters(&mut self) {
        let state = &mut self.state;
        if let Some(session) = &state.session {
            state.totals.current = session.counters().snapshot();
        }
        // The log's total never goes down (Clear keeps it), so this only grows until Reset.
        state.totals.log_dropped = state
            .log
            .dropped_bytes_total()
            .saturating_sub(state.log_dropped_at_reset);
    }

    /// A throughput sample a second, while a session is open (a closed one's time shows as zeros once the
    /// next opens). While the counts move a frame is asked for when the next is due, so the history fills while
    /// the plot is hidden; an idle session asks for none (the seconds it missed are filled in as zeros).
    pub(super) fn sample_throughput(&mut self) {
        let state = &mut self.state;
        if state.session.is_none() {
            return;
        }
        // Read only when a sample is due (`tick` returns before), not every frame.
        let peers =
            (state.live.iter().flat_map(|live| live.clients())).map(|(peer, info)| (*peer, info.counters.snapshot()));
        let total = state.totals.engine();
        let due = state.throughput.tick(Instant::now(), total, peers);
        if state.throughput.moved(total) {
            state
                .repaint
                .request_repaint_after(due.saturating_duration_since(Instant::now()));
        }
    }

    pub(super) fn update_rates(&mut self) {
        let state = &mut self.state;
        if state.session.is_none() {
            return;
        }
        let (rx, tx) = (state.totals.rx_bytes(), state.totals.tx_bytes());
        // While a rate is not zero it is looked at again soon, so it falls to zero on screen once the data stops;
        // an idle session repaints nothing.
        if state.rates.update(Instant::now(), rx, tx) {
            state.repaint.request_repaint_after(RATE_STEP);
        }
    }
}

/// The span a rate is measured over.
const RATE_WINDOW: Duration = Duration::from_secs(1);
/// Samples are kept this far apart at least; a moving rate is looked at again this soon.
const RATE_STEP: Duration = Duration::from_millis(100);
/// The shortest span divided by: the first frames of a session do not show a spike for a few bytes.
const MIN_SPAN: Duration = Duration::from_millis(250);

impl Rates {
    /// Takes the totals at `now`; `true` while a rate is not zero.
    pub(super) fn update(&mut self, now: Instant, rx: u64, tx: u64) -> bool {
        // The base: the newest sample a whole window old (or the oldest there is).
        while self
            .samples
            .get(1)
            .is_some_and(|(at, ..)| now.saturating_duration_since(*at) >= RATE_WINDOW)
        {
            self.samples.pop_front();
        }
        let (at, rx0, tx0) = self.samples.front().copied().unwrap_or((now, rx, tx));
        let span = now.saturating_duration_since(at);
        // No frame for longer than a window means no data came meanwhile (data asks for a frame): the counts
        // moved within the last window.
        let span = if span > RATE_WINDOW + RATE_STEP {
            RATE_WINDOW
        } else {
            span.max(MIN_SPAN)
        };
        self.rx = rx.saturating_sub(rx0) as f64 / span.as_secs_f64();
        self.tx = tx.saturating_sub(tx0) as f64 / span.as_secs_f64();
        if self
            .samples
            .back()
            .is_none_or(|(last, ..)| now.saturating_duration_since(*last) >= RATE_STEP)
        {
            self.samples.push_back((now, rx, tx));
        }
        self.rx > 0.0 || self.tx > 0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// Issue 22.9: a burst after a quiet spell shows at its first frame (it took a second), and the rate falls
    /// back to zero a window after the data stops.
    #[test]
    fn a_rate_follows_a_burst_at_once_and_falls_when_it_stops() {
        let t0 = Instant::now();
        let mut rates = Rates::default();
        assert!(!rates.update(t0, 0, 0));
        assert!(!rates.update(t0 + 5000 * MS, 0, 0));
        assert!(rates.update(t0 + 5200 * MS, 100_000, 0));
        assert_eq!(rates.rx, 100_000.0, "100 kB in the last second");
        // Steady 100 kB every 100 ms: 1 MB/s, measured over the last second.
        let mut rx = 100_000;
        for step in 1..=20 {
            rx += 100_000;
            rates.update(t0 + (5200 + step * 100) * MS, rx, 0);
        }
        assert!((rates.rx - 1_000_000.0).abs() < 1.0, "{}", rates.rx);
        assert!(rates.update(t0 + 7500 * MS, rx, 0), "still counting the last second");
        assert!(!rates.update(t0 + 8300 * MS, rx, 0));
        assert_eq!(rates.rx, 0.0);
        assert_eq!(rates.tx, 0.0);
    }
}
