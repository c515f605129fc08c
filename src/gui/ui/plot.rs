//! The throughput plot: RX and TX bytes per second over the last five minutes (and messages per second when a
//! framing cuts messages), for the session or one peer. Drawn only while shown; the samples are taken anyway.
use std::net::SocketAddr;

use egui_plot::{HoverPosition, Legend, Line, Plot};

use crate::gui::i18n::plot::PlotLabels;
use crate::gui::tab::{TabId, TabState};
use crate::gui::ui::Cx;
use crate::gui::ui::status::{grouped, human};
use crate::session::stats::SAMPLES;

pub fn throughput_plot(ui: &mut egui::Ui, cx: Cx, id: TabId, state: &TabState) {
    let t = cx.t;
    let history = state.throughput();
    // Which peer is plotted is the panel's own business: kept in the window's memory, per tab.
    let chosen = egui::Id::unique(("wirepad-plot-peer", id));
    let mut peer: Option<SocketAddr> = ui.data(|d| d.get_temp(chosen)).flatten();
    if peer.is_some_and(|peer| history.peer(peer).is_none()) {
        peer = None;
    }
    ui.horizontal(|ui| {
        ui.label(t.plot.plot);
        if history.peers().next().is_some() {
            egui::ComboBox::from_id_salt(("plot-peer", id))
                .selected_text(peer.map_or_else(|| t.common.all_peers.to_string(), |p| p.to_string()))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut peer, None, t.common.all_peers);
                    for each in history.peers() {
                        ui.selectable_value(&mut peer, Some(*each), each.to_string());
                    }
                });
        }
    });
    ui.data_mut(|d| d.insert_temp(chosen, peer));
    let series = peer.and_then(|peer| history.peer(peer)).unwrap_or(history.total());
    let messages = series.rates().iter().any(|rate| rate.messages > 0.0);
    let seconds = t.plot.plot_seconds;
    Plot::new(("wirepad-throughput", id))
        .legend(Legend::default())
        .include_x(-(SAMPLES as f64 - 1.0))
        .include_x(0.0)
        .include_y(0.0)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .x_axis_formatter(move |mark, _| format!("{}{seconds}", mark.value))
        .y_axis_formatter(|mark, _| per_second(mark.value))
        .y_axis_min_width(64.0)
        .label_formatter(move |hover| match hover {
            HoverPosition::NearDataPoint {
                plot_name, position, ..
            } => Some(hover_label(&t.plot, plot_name, position.x, position.y)),
            HoverPosition::Elsewhere { .. } => None,
        })
        .show(ui, |plot| {
            plot.line(Line::new(t.plot.plot_rx, series.points(|rate| rate.rx)));
            plot.line(Line::new(t.plot.plot_tx, series.points(|rate| rate.tx)));
            if messages {
                plot.line(Line::new(t.plot.plot_messages, series.points(|rate| rate.messages)));
            }
        });
}

/// An axis mark: "512 B/s", "1.5 KiB/s", "12.0 MiB/s" (none below zero, where only the margin is).
fn per_second(value: f64) -> String {
    if value < 0.0 {
        return String::new();
    }
    format!("{}/s", human(value))
}

/// What the point under the cursor says: its line, its value with units (and exact), and when.
fn hover_label(t: &PlotLabels, line: &str, x: f64, y: f64) -> String {
    // Samples are whole seconds and whole counts a second: rounding shows them as they are.
    let exact = grouped(y.max(0.0).round() as u64);
    let value = if line == t.plot_messages {
        format!("{exact} /s")
    } else {
        format!("{}/s ({exact} B/s)", human(y.max(0.0)))
    };
    format!("{line}\n{value}\n{:.0} {}", x, t.plot_seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 22.9: the y axis has units, and the point under the cursor reads its value.
    #[test]
    fn the_axis_has_units_and_a_point_reads_its_value() {
        assert_eq!(per_second(512.0), "512 B/s");
        assert_eq!(per_second(1536.0), "1.5 KiB/s");
        assert_eq!(per_second(-100.0), "");
        let t = &crate::gui::i18n::Lang::En.texts().plot;
        assert_eq!(
            hover_label(t, t.plot_rx, -12.0, 1_572_864.0),
            "RX bytes/s\n1.5 MiB/s (1,572,864 B/s)\n-12 s"
        );
        assert_eq!(
            hover_label(t, t.plot_messages, 0.0, 1234.0),
            "messages/s\n1,234 /s\n0 s"
        );
    }
}
