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
        let peers = state
            .client_list()
            .map(|(peer, info)| (*peer, info.counters.snapshot()));
        let peers: Vec<_> = peers.collect();
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
        let (rx_total, tx_total) = (state.totals.rx_bytes(), state.totals.tx_bytes());
        let now = Instant::now();
        let rates = &mut state.rates;
        match rates.last {
            Some((at, rx, tx)) if now - at >= Duration::from_secs(1) => {
                let secs = (now - at).as_secs_f64();
                rates.rx = rx_total.saturating_sub(rx) as f64 / secs;
                rates.tx = tx_total.saturating_sub(tx) as f64 / secs;
                rates.last = Some((now, rx_total, tx_total));
            }
            Some(_) => {}
            None => rates.last = Some((now, rx_total, tx_total)),
        }
        // A rate needs another look a second later while it is not zero or the counts moved (so it can fall to
        // zero on screen); an idle session repaints nothing.
        let moving =
            rates.rx > 0.0 || rates.tx > 0.0 || rates.last.is_some_and(|(_, rx, tx)| (rx, tx) != (rx_total, tx_total));
        if moving {
            state.repaint.request_repaint_after(Duration::from_secs(1));
        }
    }
}
