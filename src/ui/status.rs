//! The status bar: state, addresses, exact RX/TX counters, rates, what fell out of the view, reset, language.
use crate::app::{Action, LinkState, WirepadApp};
use crate::i18n::Lang;

pub fn status_bar(app: &mut WirepadApp, ui: &mut egui::Ui) -> Vec<Action> {
    let mut actions = Vec::new();
    let t = app.texts();
    let counters = app.counters;
    ui.horizontal(|ui| {
        let state = match app.state() {
            LinkState::Closed => t.state_closed.to_string(),
            LinkState::Listening(local) => format!("{} {local}", t.state_listening),
            LinkState::Bound(local) if app.settings.remote_host.trim().is_empty() => {
                format!("{} {local}", t.state_bound)
            }
            LinkState::Bound(local) => format!("{} {local} → {}", t.state_bound, app.settings.remote()),
            LinkState::Connecting(Some(remote)) => format!("{} {remote}", t.state_connecting),
            LinkState::Connecting(None) => t.state_connecting.to_string(),
            LinkState::Connected { local, peer } => format!("{} {local} → {peer}", t.state_connected),
            LinkState::Reconnecting(_) => t.connecting.to_string(),
        };
        ui.label(state);
        ui.separator();
        ui.label(format!("{}: {} ({}/s)", t.rx, counters.rx_bytes, human(app.rates.rx)));
        ui.label(format!("{}: {} ({}/s)", t.tx, counters.tx_bytes, human(app.rates.tx)));
        let dropped = counters.dropped_from_view + app.log.dropped_bytes();
        ui.label(format!("{}: {dropped}", t.dropped));
        if ui.button(t.reset).clicked() {
            actions.push(Action::ResetCounters);
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let mut lang = app.lang;
            ui.selectable_value(&mut lang, Lang::En, "English");
            ui.selectable_value(&mut lang, Lang::Zh, "中文");
            if lang != app.lang {
                app.lang = lang;
                app.settings.language = Some(lang);
            }
        });
    });
    actions
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
