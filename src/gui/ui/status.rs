//! A tab's status bar: state, addresses, exact RX/TX counters, rates, what fell out of the view, reset.
use crate::gui::tab::{TabAction as Action, TabState};
use crate::gui::ui::Cx;
use crate::session::state::LinkState;
use crate::settings::TabConfig;

pub fn status_bar(ui: &mut egui::Ui, cx: Cx, config: &TabConfig, state: &TabState) -> Vec<Action> {
    let mut actions = Vec::new();
    let t = cx.t;
    let totals = *state.totals();
    // Wraps onto a second line in a narrow window rather than running off its edge.
    ui.horizontal_wrapped(|ui| {
        let link = match state.link() {
            LinkState::Closed => t.status.state_closed.to_string(),
            LinkState::Listening(local) => format!("{} {local}", t.status.state_listening),
            LinkState::Bound(local) if config.remote_host.trim().is_empty() => {
                format!("{} {local}", t.status.state_bound)
            }
            LinkState::Bound(local) => format!("{} {local} → {}", t.status.state_bound, config.remote()),
            LinkState::Connecting(Some(remote)) => format!("{} {remote}", t.status.state_connecting),
            LinkState::Connecting(None) => t.status.state_connecting.to_string(),
            LinkState::Connected { local, peer } => format!("{} {local} → {peer}", t.status.state_connected),
            LinkState::Reconnecting(_) => t.common.connecting.to_string(),
        };
        ui.add(egui::Label::new(link).truncate());
        ui.separator();
        let rx = totals.rx_bytes();
        let tx = totals.tx_bytes();
        ui.label(format!("{}: {rx} ({}/s)", t.status.rx, human(state.rates().rx)))
            .on_hover_text(t.status.tip_rx);
        ui.label(format!("{}: {tx} ({}/s)", t.status.tx, human(state.rates().tx)))
            .on_hover_text(t.status.tip_tx);
        ui.label(format!("{}: {}", t.status.dropped, totals.dropped_from_view()))
            .on_hover_text(t.status.tip_dropped);
        // Shown once they happen: periodic sends the worker was too late for, datagrams the kernel dropped.
        let engine = totals.engine();
        if engine.missed_ticks > 0 {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!("{}: {}", t.status.missed_ticks, engine.missed_ticks),
            )
            .on_hover_text(t.status.tip_missed_ticks);
        }
        if engine.kernel_dropped > 0 {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!("{}: {}", t.status.kernel_dropped, engine.kernel_dropped),
            )
            .on_hover_text(t.status.tip_kernel_dropped);
        }
        if ui.button(t.status.reset).on_hover_text(t.status.tip_reset).clicked() {
            actions.push(Action::ResetCounters);
        }
    });
    actions
}

/// 1536 → "1.5 KiB" (a count of bytes; the exact figure goes in a tooltip).
pub(crate) fn human_bytes(bytes: u64) -> String {
    human(bytes as f64)
}

/// 1536 → "1.5 KiB".
fn human(bytes_per_second: f64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes_per_second;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
