//! The throughput plot: RX and TX bytes per second over the last five minutes (and messages per second when a
//! framing cuts messages), for the session or one peer. Drawn only while shown; the samples are taken anyway.
use std::net::SocketAddr;

use egui_plot::{Legend, Line, Plot};

use crate::gui::tab::{TabId, TabState};
use crate::gui::ui::Cx;
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
        .y_axis_formatter(|mark, _| bytes(mark.value))
        .show(ui, |plot| {
            plot.line(Line::new(t.plot.plot_rx, series.points(|rate| rate.rx)));
            plot.line(Line::new(t.plot.plot_tx, series.points(|rate| rate.tx)));
            if messages {
                plot.line(Line::new(t.plot.plot_messages, series.points(|rate| rate.messages)));
            }
        });
}

/// "512", "1.5K", "12.0M": an axis label's room.
fn bytes(value: f64) -> String {
    match value.abs() {
        v if v >= 1e9 => format!("{:.1}G", value / 1e9),
        v if v >= 1e6 => format!("{:.1}M", value / 1e6),
        v if v >= 1e3 => format!("{:.1}K", value / 1e3),
        _ => format!("{value:.0}"),
    }
}
