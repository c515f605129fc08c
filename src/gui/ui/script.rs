//! The send/expect script: its steps as an editable table, Run and Stop, and each step's result and time from the
//! engine's step events. A server runs the script for each client; the panel shows the latest run, or the one
//! picked by peer. A failed step is red, with what did arrive instead below, as text and hex.
use egui_extras::{Column, TableBuilder};

use crate::automation::script::{DEFAULT_TIMEOUT, MAX_WAIT_MS, StepSpec};
use crate::codec::checksum::Checksum;
use crate::gui::automation::{PeerRun, StepResult};
use crate::gui::dialog::FilePurpose;
use crate::gui::i18n::AutoTexts;
use crate::gui::settings::TabConfig;
use crate::gui::tab::{TabAction as Action, TabState};
use crate::gui::ui::{Cx, error_label, row_buttons};
use crate::net::ScriptEnd;

const ROW_HEIGHT: f32 = 24.0;
/// The most rounds a user can ask for (0: until stopped).
const MAX_REPEAT: u64 = 1_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Send,
    SendHex,
    Expect,
    ExpectHex,
    ExpectRegex,
    Sleep,
}

const KINDS: [Kind; 6] = [
    Kind::Send,
    Kind::SendHex,
    Kind::Expect,
    Kind::ExpectHex,
    Kind::ExpectRegex,
    Kind::Sleep,
];

impl Kind {
    fn of(step: &StepSpec) -> Kind {
        [
            (step.send_hex.is_some(), Kind::SendHex),
            (step.expect.is_some(), Kind::Expect),
            (step.expect_hex.is_some(), Kind::ExpectHex),
            (step.expect_regex.is_some(), Kind::ExpectRegex),
            (step.sleep_ms.is_some(), Kind::Sleep),
        ]
        .into_iter()
        .find_map(|(is, kind)| is.then_some(kind))
        .unwrap_or(Kind::Send)
    }

    fn name(self, a: &AutoTexts) -> &'static str {
        match self {
            Kind::Send => a.step_send,
            Kind::SendHex => a.step_send_hex,
            Kind::Expect => a.step_expect,
            Kind::ExpectHex => a.step_expect_hex,
            Kind::ExpectRegex => a.step_expect_regex,
            Kind::Sleep => a.step_sleep,
        }
    }

    fn sends(self) -> bool {
        matches!(self, Kind::Send | Kind::SendHex)
    }

    fn expects(self) -> bool {
        matches!(self, Kind::Expect | Kind::ExpectHex | Kind::ExpectRegex)
    }

    /// The step's text field for this kind (a sleep has none).
    fn text(self, step: &mut StepSpec) -> Option<&mut Option<String>> {
        match self {
            Kind::Send => Some(&mut step.send),
            Kind::SendHex => Some(&mut step.send_hex),
            Kind::Expect => Some(&mut step.expect),
            Kind::ExpectHex => Some(&mut step.expect_hex),
            Kind::ExpectRegex => Some(&mut step.expect_regex),
            Kind::Sleep => None,
        }
    }

    /// The step made this kind: its text moves along, what the kind does not take goes.
    fn convert(self, step: &mut StepSpec) {
        let text = KINDS
            .iter()
            .filter_map(|kind| kind.text(step).and_then(Option::take))
            .next();
        let sleep = step.sleep_ms.take();
        match self.text(step) {
            Some(slot) => *slot = Some(text.unwrap_or_default()),
            None => step.sleep_ms = Some(sleep.unwrap_or(100)),
        }
        if !self.sends() {
            step.checksum = None;
        }
        if !self.expects() {
            step.timeout_ms = None;
        }
    }
}

pub fn script_panel(ui: &mut egui::Ui, cx: Cx, config: &mut TabConfig, state: &TabState) -> Vec<Action> {
    let (t, a) = (cx.t, cx.t.auto);
    let auto = state.auto();
    let mut actions = Vec::new();
    // An empty table is no mistake yet: Run just waits for a step.
    let empty = config.script.steps.is_empty();
    let problem = auto
        .script_problem()
        .filter(|_| !empty)
        .map(|error| cx.lang.script_error(error));
    let script = &mut config.script;
    ui.horizontal(|ui| {
        if ui.button(a.add_step).clicked() {
            script.steps.push(StepSpec {
                send: Some(String::new()),
                ..StepSpec::default()
            });
        }
        let label = ui.label(a.repeat);
        ui.add(egui::DragValue::new(&mut script.repeat).range(0..=MAX_REPEAT))
            .labelled_by(label.id)
            .on_hover_text(a.repeat_hint);
        ui.separator();
        let running = auto.script_running();
        let can_run = state.is_open() && !empty && problem.is_none() && !running;
        let run = ui
            .add_enabled(can_run, egui::Button::new(a.run))
            .on_hover_text(a.tip_run);
        if !state.is_open() {
            run.on_disabled_hover_text(a.open_first);
        } else if run.clicked() {
            actions.push(Action::RunScript);
        }
        if ui.add_enabled(running, egui::Button::new(a.stop_script)).clicked() {
            actions.push(Action::StopScript);
        }
        ui.label(status(
            a,
            auto.script_running(),
            auto.waiting_for_peer(),
            auto.shown_run(),
        ));
        ui.separator();
        if ui.add_enabled(cx.dialog_free, egui::Button::new(a.import)).clicked() {
            actions.push(Action::PickFile(FilePurpose::ImportScript));
        }
        if ui.add_enabled(cx.dialog_free, egui::Button::new(a.export)).clicked() {
            actions.push(Action::PickFile(FilePurpose::ExportScript));
        }
    });
    let peers: Vec<_> = auto.run_peers().collect();
    if peers.len() > 1 {
        actions.extend(peer_picker(ui, cx, &peers, auto.shown_peer()));
    }
    for message in [problem.as_deref(), auto.import_error()].into_iter().flatten() {
        error_label(ui, message);
    }
    // Results belong to the steps as they were run: an edited table shows none.
    let run = auto.shown_run().filter(|_| auto.ran() == Some(&*script));
    let failed = run.and_then(|run| {
        run.steps.iter().enumerate().find_map(|(index, result)| match result {
            StepResult::Failed {
                received, received_len, ..
            } => Some((index, received, *received_len)),
            _ => None,
        })
    });
    let mut edit = None;
    let count = script.steps.len();
    let table_height = (ui.available_height() - if failed.is_some() { 90.0 } else { 0.0 }).max(ROW_HEIGHT * 3.0);
    egui::ScrollArea::horizontal().id_salt("script-scroll").show(ui, |ui| {
        let mut names = [egui::Id::NULL; 2];
        TableBuilder::new(ui)
            .id_salt("script")
            .striped(true)
            .max_scroll_height(table_height)
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::exact(28.0))
            .column(Column::exact(120.0))
            .column(Column::initial(260.0).at_least(140.0).clip(true))
            .column(Column::exact(160.0))
            .column(Column::exact(70.0))
            .column(Column::exact(80.0))
            .column(Column::auto())
            .header(ROW_HEIGHT, |mut header| {
                header.col(|ui| {
                    ui.strong("#");
                });
                header.col(|ui| names[0] = ui.strong(a.action).id);
                header.col(|ui| names[1] = ui.strong(a.value).id);
                header.col(|ui| {
                    ui.strong(format!("{} / {}", t.checksum, a.timeout_ms));
                });
                header.col(|ui| {
                    ui.strong(a.result);
                });
                header.col(|ui| {
                    ui.strong(a.time);
                });
                header.col(|_| {});
            })
            .body(|body| {
                body.rows(ROW_HEIGHT, count, |mut row| {
                    let index = row.index();
                    let Some(step) = script.steps.get_mut(index) else {
                        return;
                    };
                    let result = run.and_then(|run| run.steps.get(index));
                    let red = matches!(result, Some(StepResult::Failed { .. }));
                    row.col(|ui| {
                        mark(ui, red);
                        ui.label((index + 1).to_string());
                    });
                    row.col(|ui| {
                        mark(ui, red);
                        let kind = Kind::of(step);
                        let mut chosen = kind;
                        egui::ComboBox::from_id_salt(("step-kind", index))
                            .width(110.0)
                            .selected_text(kind.name(a))
                            .show_ui(ui, |ui| {
                                for kind in KINDS {
                                    ui.selectable_value(&mut chosen, kind, kind.name(a));
                                }
                            })
                            .response
                            .labelled_by(names[0]);
                        if chosen != kind {
                            chosen.convert(step);
                        }
                    });
                    row.col(|ui| {
                        mark(ui, red);
                        value_cell(ui, step, names[1]);
                    });
                    row.col(|ui| {
                        mark(ui, red);
                        options_cell(ui, cx, index, step);
                    });
                    row.col(|ui| {
                        mark(ui, red);
                        result_cell(ui, a, result);
                    });
                    row.col(|ui| {
                        mark(ui, red);
                        if let Some(StepResult::Passed(elapsed) | StepResult::Failed { elapsed, .. }) = result {
                            ui.label(format!("{} ms", elapsed.as_millis()));
                        }
                    });
                    row.col(|ui| edit = edit.or(row_buttons(ui, t, index, count)));
                });
            });
    });
    if let Some(edit) = edit {
        edit.apply(&mut script.steps);
    }
    if let Some((index, received, received_len)) = failed {
        received_instead(ui, cx, index, received, received_len, config);
    }
    actions
}

/// A failed step's cells are red.
fn mark(ui: &mut egui::Ui, red: bool) {
    if red {
        let color = ui.visuals().error_fg_color.gamma_multiply(0.3);
        ui.painter().rect_filled(ui.max_rect(), 0.0, color);
    }
}

fn value_cell(ui: &mut egui::Ui, step: &mut StepSpec, name: egui::Id) {
    match Kind::of(step).text(step) {
        Some(text) => {
            let text = text.get_or_insert_with(String::new);
            ui.add(egui::TextEdit::singleline(text).desired_width(f32::INFINITY))
                .labelled_by(name);
        }
        None => {
            let ms = step.sleep_ms.get_or_insert(0);
            ui.add(egui::DragValue::new(ms).range(0..=MAX_WAIT_MS).suffix(" ms"))
                .labelled_by(name);
        }
    }
}

/// A send's checksum, or an expect's timeout.
fn options_cell(ui: &mut egui::Ui, cx: Cx, index: usize, step: &mut StepSpec) {
    let kind = Kind::of(step);
    if kind.sends() {
        egui::ComboBox::from_id_salt(("step-checksum", index))
            .width(120.0)
            .selected_text(step.checksum.map_or(cx.t.none, Checksum::name))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut step.checksum, None, cx.t.none);
                for checksum in Checksum::all() {
                    ui.selectable_value(&mut step.checksum, Some(*checksum), checksum.name());
                }
            })
            .response
            .on_hover_text(cx.t.checksum);
    } else if kind.expects() {
        let default = DEFAULT_TIMEOUT.as_millis() as u64;
        let mut ms = step.timeout_ms.unwrap_or(default);
        let drag = ui
            .add(egui::DragValue::new(&mut ms).range(0..=MAX_WAIT_MS).suffix(" ms"))
            .on_hover_text(cx.t.auto.timeout_ms);
        if drag.changed() {
            step.timeout_ms = Some(ms);
        }
    }
}

fn result_cell(ui: &mut egui::Ui, a: &AutoTexts, result: Option<&StepResult>) {
    match result {
        Some(StepResult::Passed(_)) => {
            ui.colored_label(egui::Color32::from_rgb(0x2e, 0xa0, 0x43), a.passed);
        }
        Some(StepResult::Failed { .. }) => {
            ui.colored_label(ui.visuals().error_fg_color, a.failed);
        }
        Some(StepResult::Waiting) | None => {}
    }
}

/// How the script stands: running or waiting for a client, and how the run on show ended.
fn status(a: &AutoTexts, running: bool, waiting: bool, run: Option<&PeerRun>) -> String {
    let round = |round: u64| format!("{} {round}", a.round);
    let now = match run {
        _ if waiting => Some(a.waiting_for_client.to_owned()),
        Some(run) if run.end.is_none() => Some(format!("{} ({})", a.running, round(run.round))),
        _ if running => Some(a.running.to_owned()),
        _ => None,
    };
    let ended = run.and_then(|run| run.end).map(|end| match end {
        ScriptEnd::Passed => a.passed.to_owned(),
        ScriptEnd::Failed { step, round: r } => format!("{}: #{} ({})", a.failed, step + 1, round(r)),
        ScriptEnd::Stopped => a.stopped.to_owned(),
    });
    [now, ended].into_iter().flatten().collect::<Vec<_>>().join(" · ")
}

/// Which peer's run shows (a server runs the script for each client).
fn peer_picker(
    ui: &mut egui::Ui,
    cx: Cx,
    peers: &[Option<std::net::SocketAddr>],
    shown: Option<Option<std::net::SocketAddr>>,
) -> Vec<Action> {
    let a = cx.t.auto;
    let name = |peer: Option<std::net::SocketAddr>| peer.map_or_else(|| "UDP".to_owned(), |peer| peer.to_string());
    let mut chosen = shown;
    ui.horizontal(|ui| {
        let label = ui.label(a.run_of);
        egui::ComboBox::from_id_salt("script-peer")
            .selected_text(shown.map_or_else(|| a.latest_run.to_owned(), name))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut chosen, None, a.latest_run);
                for peer in peers.iter().rev() {
                    ui.selectable_value(&mut chosen, Some(*peer), name(*peer));
                }
            })
            .response
            .labelled_by(label.id);
    });
    if chosen == shown {
        Vec::new()
    } else {
        vec![Action::ShowRun(chosen)]
    }
}

/// What arrived while the failed step waited, as text (the session's encoding) and hex.
fn received_instead(ui: &mut egui::Ui, cx: Cx, index: usize, received: &[u8], len: usize, config: &TabConfig) {
    let a = cx.t.auto;
    ui.separator();
    ui.colored_label(
        ui.visuals().error_fg_color,
        format!("#{} {} — {} ({len} B):", index + 1, a.failed, a.received_instead),
    );
    let text = config.receive.encoding.decode_all(received);
    let hex = crate::codec::hex::to_hex(received);
    egui::ScrollArea::vertical()
        .id_salt("received-instead")
        .max_height(70.0)
        .show(ui, |ui| {
            ui.add(
                egui::Label::new(egui::RichText::new(format!("{}: {}", a.text, text.escape_debug())).monospace())
                    .wrap(),
            );
            ui.add(egui::Label::new(egui::RichText::new(format!("{}: {hex}", a.hex)).monospace()).wrap());
        });
}
