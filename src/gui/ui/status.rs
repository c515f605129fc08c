//! A tab's status bar: state, addresses, exact RX/TX counters, rates, what fell out of the view, reset.
use crate::gui::i18n::Texts;
use crate::gui::tab::{TabAction as Action, TabState};
use crate::gui::ui::Cx;
use crate::gui::ui::certificate::version_words;
use crate::net::tls::Verdict;
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
        let rates = state.rates();
        for (name, bytes, rate, tip) in [
            (t.status.rx, totals.rx_bytes(), Some(rates.rx), t.status.tip_rx),
            (t.status.tx, totals.tx_bytes(), Some(rates.tx), t.status.tip_tx),
            (t.status.dropped, totals.dropped_from_view(), None, t.status.tip_dropped),
        ] {
            let rate = rate.map(|rate| format!(" ({}/s)", human(rate))).unwrap_or_default();
            ui.label(format!("{name}: {}{rate}", human_bytes(bytes)))
                .on_hover_text(format!("{} {}\n{tip}", grouped(bytes), t.status.bytes));
        }
        if config.mode.caps().forwards {
            each_way(ui, t, state);
        }
        if config.speaks_tls() {
            actions.extend(tls_indicator(ui, t, config, state));
        }
        // Shown once they happen: periodic sends the worker was too late for, datagrams the kernel dropped.
        let engine = totals.engine();
        if engine.missed_ticks > 0 {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!("{}: {}", t.status.missed_ticks, grouped(engine.missed_ticks)),
            )
            .on_hover_text(t.status.tip_missed_ticks);
        }
        if let Some((text, tip)) = kernel_drops(t, state.drops_counted(), engine.kernel_dropped) {
            ui.colored_label(ui.visuals().warn_fg_color, text).on_hover_text(tip);
        }
        if ui.button(t.status.reset).on_hover_text(t.status.tip_reset).clicked() {
            actions.push(Action::ResetCounters);
        }
    });
    actions
}

/// "TLS 1.3: not verified", coloured by the shown handshake's verdict (or "TLS failed"): a click shows the
/// certificate panel.
fn tls_indicator(ui: &mut egui::Ui, t: &Texts, config: &TabConfig, state: &TabState) -> Option<Action> {
    let tls = state.tls();
    let visuals = ui.visuals();
    let (text, colour) = match (tls.shown(state.target()), tls.failures()) {
        (Some(handshake), _) => {
            let colour = match handshake.verdict {
                Verdict::Verified => visuals.text_color(),
                Verdict::Failed(_) => visuals.error_fg_color,
                Verdict::NotChecked | Verdict::NoCertificate => visuals.warn_fg_color,
            };
            let word = match handshake.verdict {
                Verdict::Verified => t.tls.verified,
                Verdict::Failed(_) => t.tls.not_verified,
                Verdict::NotChecked => t.tls.not_checked,
                Verdict::NoCertificate => t.tls.no_certificate,
            };
            (format!("{}: {word}", version_words(&handshake.version)), colour)
        }
        (None, (failures, _)) if !failures.is_empty() => (t.tls.failed.to_owned(), visuals.error_fg_color),
        (None, _) => ("TLS".to_owned(), visuals.weak_text_color()),
    };
    // Selected (the panel is open), the button's fill is the selection's blue: red on it cannot be read, so the
    // text keeps the selection's own colour there (the open panel shows the verdict in colour).
    let text = match config.show_tls {
        true => egui::RichText::new(text),
        false => egui::RichText::new(text).color(colour),
    };
    let button = egui::Button::new(text).selected(config.show_tls);
    ui.add(button)
        .on_hover_text(t.tls.tip_indicator)
        .clicked()
        .then_some(Action::ToggleTlsPanel)
}

/// A relay's bytes each way, over its pairs since Reset.
fn each_way(ui: &mut egui::Ui, t: &Texts, state: &TabState) {
    let (to_upstream, to_client) = state.pairs().bytes_each_way();
    for (name, bytes, tip) in [
        (t.relay.to_upstream, to_upstream, t.relay.tip_to_upstream),
        (t.relay.to_client, to_client, t.relay.tip_to_client),
    ] {
        ui.label(format!("{name}: {}", human_bytes(bytes)))
            .on_hover_text(format!("{} {}\n{tip}", grouped(bytes), t.status.bytes));
    }
}

/// The kernel's UDP drops, and their tooltip: the count once there are any; "not available" for a session the OS
/// keeps no count for (Windows, macOS), where a 0 would claim that nothing was lost.
fn kernel_drops(t: &Texts, counted: Option<bool>, dropped: u64) -> Option<(String, &'static str)> {
    match counted {
        Some(false) => Some((
            format!("{}: {}", t.status.kernel_dropped, t.status.not_available),
            t.status.tip_kernel_dropped_unknown,
        )),
        _ if dropped > 0 => Some((
            format!("{}: {}", t.status.kernel_dropped, grouped(dropped)),
            t.status.tip_kernel_dropped,
        )),
        _ => None,
    }
}

/// 1536 → "1.5 KiB" (a count of bytes; the exact figure goes in a tooltip).
pub(crate) fn human_bytes(bytes: u64) -> String {
    human(bytes as f64)
}

/// 974334660 → "974,334,660": an exact count a reader can take in.
pub(crate) fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// 1536 → "1.5 KiB".
pub(crate) fn human(bytes_per_second: f64) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gui::i18n::Lang;

    #[test]
    fn kernel_drops_show_once_counted_and_say_not_available_where_uncounted() {
        let t = Lang::En.texts();
        assert_eq!(kernel_drops(t, Some(true), 0), None, "nothing lost, nothing shown");
        assert_eq!(kernel_drops(t, None, 0), None, "a TCP session has no kernel drops");
        let (text, _) = kernel_drops(t, Some(true), 7).expect("drops shown");
        assert_eq!(text, "Kernel dropped: 7");
        // Closed: the last session's count stays on show.
        assert!(kernel_drops(t, None, 7).is_some());
        let (text, tip) = kernel_drops(t, Some(false), 0).expect("an uncounted session says so");
        assert_eq!(text, "Kernel dropped: not available");
        assert_eq!(tip, t.status.tip_kernel_dropped_unknown);
    }

    #[test]
    fn counts_read_with_units_and_groups() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(974_334_660), "974,334,660");
        assert_eq!(grouped(u64::MAX), "18,446,744,073,709,551,615");
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(974_334_660), "929.2 MiB");
    }
}
