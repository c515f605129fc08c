//! A load test tab: the form on the left (each field with its message under it), Start/Stop; in the middle the
//! live numbers, the plots from the run's snapshots (at most `LOAD_SERIES`), the report, its errors by reason
//! and its latency histogram.
use egui_plot::{Bar, BarChart, Legend, Line, Plot, PlotPoints};

use crate::gui::dialog::FilePurpose;
use crate::gui::i18n::Texts;
use crate::gui::i18n::load::LoadLabels;
use crate::gui::tab::{LoadPhase, LoadState, TabAction as Action, TabState};
use crate::gui::ui::connection::{append_combo, encoding_combo, mode_combo};
use crate::gui::ui::status::grouped;
use crate::gui::ui::{Cx, checksum_combo, error_label, field_error, labelled_field};
use crate::net::load::{Report, Snapshot};
use crate::settings::TabConfig;
use crate::settings::load::{LoadField, LoadForm};

const FIELD_WIDTH: f32 = 120.0;

pub fn load_tab(ui: &mut egui::Ui, cx: Cx, config: &mut TabConfig, state: &TabState) -> Vec<Action> {
    let mut actions = Vec::new();
    let load = state.load();
    egui::Panel::left("load-form")
        .resizable(true)
        .default_size(280.0)
        .size_range(250.0..=420.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                let busy = matches!(load.phase(), LoadPhase::Starting | LoadPhase::Running);
                ui.add_enabled_ui(!busy, |ui| {
                    mode_combo(ui, cx, config);
                    form(ui, cx.t, &mut config.load, load);
                    actions.extend(payload_form(ui, cx, &mut config.load, load));
                });
                actions.extend(start_stop(ui, &cx.t.load, load));
            });
        });
    egui::CentralPanel::default().show(ui, |ui| {
        egui::ScrollArea::vertical().show(ui, |ui| actions.extend(results(ui, cx, load)));
    });
    actions
}

fn form(ui: &mut egui::Ui, texts: &Texts, form: &mut LoadForm, load: &LoadState) {
    let t = &texts.load;
    let field = |ui: &mut egui::Ui, label, text: &mut String, tip: Option<&str>, which| {
        let response = labelled_field(ui, label, text, FIELD_WIDTH);
        if let Some(tip) = tip {
            response.on_hover_text(tip);
        }
        field_error(ui, load.field_error(which));
    };
    ui.horizontal(|ui| {
        ui.label(t.protocol);
        ui.selectable_value(&mut form.udp, false, "TCP");
        ui.selectable_value(&mut form.udp, true, "UDP");
    });
    field(ui, t.target, &mut form.target, Some(t.tip_target), LoadField::Target);
    field(ui, t.connections, &mut form.connections, None, LoadField::Connections);
    field(
        ui,
        t.connect_rate,
        &mut form.connect_rate,
        Some(t.tip_connect_rate),
        LoadField::ConnectRate,
    );
    field(ui, t.rate, &mut form.rate, Some(t.tip_rate), LoadField::Rate);
    ui.checkbox(&mut form.total, t.total).on_hover_text(t.tip_total);
    field(
        ui,
        t.duration,
        &mut form.duration,
        Some(t.tip_limit),
        LoadField::Duration,
    );
    field(ui, t.count, &mut form.count, Some(t.tip_limit), LoadField::Count);
    field(
        ui,
        t.timeout,
        &mut form.timeout_ms,
        Some(t.tip_timeout),
        LoadField::Timeout,
    );
    field(
        ui,
        t.in_flight,
        &mut form.in_flight,
        Some(t.tip_in_flight),
        LoadField::InFlight,
    );
    field(ui, t.frame, &mut form.frame, Some(t.tip_frame), LoadField::Frame);
}

/// What each message is: the text (or hex) with its encoding, checksum and line ending, or a file's bytes as
/// they are (then the rest is greyed out, as the command line refuses it with --send-file).
fn payload_form(ui: &mut egui::Ui, cx: Cx, form: &mut LoadForm, load: &LoadState) -> Option<Action> {
    let (texts, t) = (cx.t, &cx.t.load);
    let mut action = None;
    ui.horizontal(|ui| {
        labelled_field(ui, t.send_file, &mut form.send_file, FIELD_WIDTH).on_hover_text(t.tip_send_file);
        let button = ui
            .add_enabled(cx.dialog_free, egui::Button::new("…"))
            .on_hover_text(t.choose_file)
            .on_disabled_hover_text(texts.dialogs.file_dialog_busy);
        if button.clicked() {
            action = Some(Action::PickFile(FilePurpose::LoadSendFile));
        }
    });
    field_error(ui, load.field_error(LoadField::SendFile));
    ui.add_enabled_ui(form.send_file.trim().is_empty(), |ui| {
        ui.horizontal(|ui| {
            ui.label(t.payload).on_hover_text(t.tip_payload);
            ui.checkbox(&mut form.hex, t.hex);
            let label = ui.label(texts.receive.encoding);
            encoding_combo(ui, "load-encoding", &mut form.encoding)
                .labelled_by(label.id)
                .on_hover_text(t.tip_encoding);
        });
        ui.horizontal(|ui| {
            let label = ui.label(texts.common.checksum);
            checksum_combo(ui, texts, "load-checksum", &mut form.checksum)
                .labelled_by(label.id)
                .on_hover_text(texts.send.tip_checksum);
            let label = ui.label(texts.send.append);
            append_combo(ui, texts, "load-append", &mut form.append)
                .labelled_by(label.id)
                .on_hover_text(texts.send.tip_append);
        });
        ui.add(
            egui::TextEdit::multiline(&mut form.payload)
                .desired_rows(2)
                .desired_width(f32::INFINITY),
        )
        .on_hover_text(t.tip_payload);
    });
    field_error(ui, load.field_error(LoadField::Payload));
    action
}

fn start_stop(ui: &mut egui::Ui, t: &LoadLabels, load: &LoadState) -> Option<Action> {
    let phase = load.phase();
    let mut action = None;
    ui.horizontal(|ui| {
        let busy = matches!(phase, LoadPhase::Starting | LoadPhase::Running);
        if ui.add_enabled(!busy, egui::Button::new(t.start)).clicked() {
            action = Some(Action::StartLoad);
        }
        if ui.add_enabled(busy, egui::Button::new(t.stop)).clicked() {
            action = Some(Action::StopLoad);
        }
        ui.label(match phase {
            LoadPhase::Idle => t.idle,
            LoadPhase::Starting => t.starting,
            LoadPhase::Running => t.running,
            LoadPhase::Finished => t.finished,
        });
    });
    if let Some(error) = load.error() {
        error_label(ui, error);
    }
    action
}

fn results(ui: &mut egui::Ui, cx: Cx, load: &LoadState) -> Option<Action> {
    let t = &cx.t.load;
    let mut action = None;
    if let Some(last) = load.series().back() {
        live_numbers(ui, t, last);
        // While it runs, the errors so far; once it ends, the report's.
        if load.report().is_none() {
            let failed = last.failed_by.iter().map(|(why, n)| (t.connect_failed, why.name(), *n));
            let dropped = last.dropped_by.iter().map(|(why, n)| (t.dropped, why.name(), *n));
            errors_table(ui, t, failed.chain(dropped).collect());
        }
    }
    if !load.series().is_empty() {
        plots(ui, t, load);
    }
    if let Some(report) = load.report() {
        ui.separator();
        ui.horizontal(|ui| {
            ui.heading(t.report);
            for (label, csv) in [(t.export_json, false), (t.export_csv, true)] {
                if ui.add_enabled(cx.dialog_free, egui::Button::new(label)).clicked() {
                    action = Some(Action::PickFile(FilePurpose::LoadReport { csv }));
                }
            }
        });
        report_grid(ui, t, report);
        let c = &report.connections;
        let failed = c.failed.iter().map(|(why, n)| (t.connect_failed, why.as_str(), *n));
        let dropped = c.dropped.iter().map(|(why, n)| (t.dropped, why.as_str(), *n));
        errors_table(ui, t, failed.chain(dropped).collect());
        histogram(ui, t, load.buckets());
    }
    action
}

fn live_numbers(ui: &mut egui::Ui, t: &LoadLabels, s: &Snapshot) {
    ui.horizontal_wrapped(|ui| {
        ui.label(format!("{}: {:.1} {}", t.elapsed, s.elapsed.as_secs_f64(), t.seconds));
        ui.label(format!("{}: {}", t.open, grouped(s.open)));
        ui.label(format!(
            "{}: {} ({:.0}{})",
            t.sent,
            grouped(s.sent),
            s.sent_per_s,
            t.per_second
        ));
        ui.label(format!(
            "{}: {} ({:.0}{})",
            t.replies,
            grouped(s.replies),
            s.replies_per_s,
            t.per_second
        ));
        ui.label(format!("{}: {}", t.failed, grouped(s.failed)));
        ui.label(format!("p50 {:.3} ms, p99 {:.3} ms", s.p50_ms, s.p99_ms));
    });
}

/// Three plots side by side over the run's seconds: messages/s each way, p50/p99, open connections.
fn plots(ui: &mut egui::Ui, t: &LoadLabels, load: &LoadState) {
    let points = |value: fn(&Snapshot) -> f64| -> PlotPoints<'static> {
        load.series()
            .iter()
            .map(|s| [s.elapsed.as_secs_f64(), value(s)])
            .collect()
    };
    let height = 160.0;
    ui.columns(3, |columns| {
        columns[0].label(t.plot_rates);
        small_plot("load-rates", height).show(&mut columns[0], |plot| {
            plot.line(Line::new(t.plot_sent, points(|s| s.sent_per_s)));
            plot.line(Line::new(t.plot_replies, points(|s| s.replies_per_s)));
        });
        columns[1].label(t.plot_latency);
        small_plot("load-latency", height).show(&mut columns[1], |plot| {
            plot.line(Line::new("p50", points(|s| s.p50_ms)));
            plot.line(Line::new("p99", points(|s| s.p99_ms)));
        });
        columns[2].label(t.plot_open);
        small_plot("load-open", height).show(&mut columns[2], |plot| {
            plot.line(Line::new(t.plot_open, points(|s| s.open as f64)));
        });
    });
}

fn small_plot(id: &'static str, height: f32) -> Plot<'static> {
    Plot::new(id)
        .height(height)
        .legend(Legend::default())
        .include_y(0.0)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
}

fn report_grid(ui: &mut egui::Ui, t: &LoadLabels, r: &Report) {
    let pct = |p: &crate::net::load::Percentiles| {
        format!(
            "p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}",
            p.p50, p.p90, p.p99, p.p999, p.max
        )
    };
    let rows = [
        (t.target, format!("{} {}", r.protocol, r.target)),
        (t.duration, format!("{:.3}", r.duration_s)),
        (t.attempted, grouped(r.connections.attempted)),
        (t.established, grouped(r.connections.established)),
        (t.sent, grouped(r.messages.sent)),
        (t.replies, grouped(r.messages.replies)),
        (t.timeouts, grouped(r.messages.timeouts)),
        (
            t.bytes,
            format!("{} / {}", grouped(r.bytes.sent), grouped(r.bytes.received)),
        ),
        (t.latency, pct(&r.latency_ms)),
        (t.connect_ms, pct(&r.connect_ms)),
        (t.slip, format!("{:.3}", r.schedule_slip_ms)),
        (
            t.udp_counts,
            format!("{} / {} / {}", r.udp.lost, r.udp.duplicated, r.udp.reordered),
        ),
    ];
    egui::Grid::new("load-report").striped(true).show(ui, |ui| {
        for (name, value) in rows {
            ui.label(name);
            ui.label(value);
            ui.end_row();
        }
    });
}

/// Rows of (connect failed | dropped, reason, how many).
fn errors_table(ui: &mut egui::Ui, t: &LoadLabels, rows: Vec<(&str, &str, u64)>) {
    ui.label(t.errors);
    if rows.is_empty() {
        ui.label(t.no_errors);
        return;
    }
    egui::Grid::new("load-errors").striped(true).show(ui, |ui| {
        ui.strong(t.reason);
        ui.label("");
        ui.strong(t.times);
        ui.end_row();
        for (when, why, n) in rows {
            ui.label(when);
            ui.label(why);
            ui.label(grouped(n));
            ui.end_row();
        }
    });
}

fn histogram(ui: &mut egui::Ui, t: &LoadLabels, buckets: &[(f64, u64)]) {
    if buckets.is_empty() {
        return;
    }
    ui.label(t.histogram);
    // Buckets double in width: drawn on a log2 axis, each bar one unit wide.
    let bars = buckets
        .iter()
        .map(|(upper, n)| Bar::new(upper.log2() - 0.5, *n as f64).width(0.9))
        .collect();
    small_plot("load-histogram", 160.0)
        .x_axis_formatter(|mark, _| format!("{:.3}", 2f64.powf(mark.value)))
        .show(ui, |plot| plot.bar_chart(BarChart::new(t.histogram, bars)));
}
