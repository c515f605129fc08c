//! The receive view as the settings and the pane's width want it.
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::history::Way;
use crate::settings::TabConfig;
use crate::view::ViewOptions;

use super::Tab;

impl Tab {
    /// Clear: the history goes, and the view and find bar with it.
    pub(super) fn clear_view(&mut self) {
        self.state.log.clear();
        self.state.recent.clear();
        self.state.view.append(&self.state.log);
        self.state.find.invalidate();
    }

    /// The view follows the receive settings, the filter and the pane's width; a change re-renders history.
    pub(super) fn update_view_options(
        &mut self,
        filter: Option<SocketAddr>,
        way: Option<Way>,
        measured_columns: usize,
    ) {
        let columns = self.settled_columns(measured_columns);
        let options = ViewOptions {
            way_filter: way.filter(|_| self.config.mode.caps().forwards),
            ..view_options(&self.config, filter, Some(columns))
        };
        let state = &mut self.state;
        if *state.view.options() != options {
            state.view.set_options(options, &state.log);
            state.repaint.request_repaint();
        }
    }

    /// A new pane width re-wraps the whole history, so it is taken only once the width has held still
    /// for a moment, not on every frame of a window resize.
    pub(super) fn settled_columns(&mut self, measured: usize) -> usize {
        const SETTLE: Duration = Duration::from_millis(250);
        let now = Instant::now();
        let state = &mut self.state;
        match (state.wrap_columns, state.pending_columns) {
            (None, _) => state.wrap_columns = Some(measured),
            (Some(current), _) if current == measured => state.pending_columns = None,
            (Some(_), Some((pending, since))) if pending == measured && now - since >= SETTLE => {
                state.wrap_columns = Some(measured);
                state.pending_columns = None;
            }
            (Some(_), Some((pending, _))) if pending == measured => {}
            (Some(_), _) => {
                state.pending_columns = Some((measured, now));
                state.repaint.request_repaint_after(SETTLE);
            }
        }
        state.wrap_columns.unwrap_or(measured)
    }
}

pub(super) fn view_options(
    config: &TabConfig,
    peer_filter: Option<SocketAddr>,
    wrap_columns: Option<usize>,
) -> ViewOptions {
    let receive = &config.receive;
    ViewOptions {
        hex: receive.hex,
        encoding: receive.encoding,
        log_mode: receive.log_mode,
        show_tx: receive.show_sent,
        wrap_columns: if receive.wrap { wrap_columns } else { None },
        peer_filter,
        way_filter: None,
        escape_malformed: true,
    }
}
