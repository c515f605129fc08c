//! The send/expect script: its steps as an editable table, Run and Stop, and each step's result and time from the
//! engine's step events. A server runs the script for each client; the panel shows the latest run, or the one
//! picked by peer. A failed step is red, with what did arrive instead below, as text and hex.
use egui_extras::{Column, TableBuilder};

use crate::automation::script::{DEFAULT_TIMEOUT, MAX_WAIT_MS, StepSpec};
use crate::gui::auto_state::{PeerRun, StepResult};
use crate::gui::dialog::FilePurpose;
use crate::gui::i18n::Texts;
use crate::gui::tab::{TabAction as Action, TabState};
use crate::gui::ui::{Cx, RowEdit, checksum_combo, message_line, row_buttons, sideways, toml_buttons};
use crate::net::ScriptEnd;
use crate::settings::TabConfig;

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

    fn name(self, t: &Texts) -> &'static str {
        match self {
            Kind::Send => t.script.step_send,
            Kind::SendHex => t.script.step_send_hex,
            Kind::Expect => t.script.step_expect,
            Kind::ExpectHex => t.script.step_expect_hex,
            Kind::ExpectRegex => t.script.step_expect_regex,
            Kind::Sleep => t.script.step_sleep,
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
    let auto = state.auto();
    // An empty table is no mistake yet: Run just waits for a step.
    let empty = config.script.steps.is_empty();
    let problem = auto
        .script_problem()
        .filter(|_| !empty)
        .map(|error| cx.lang.script_error(error));
    let can_run = !empty && problem.is_none() && !auto.script_running() && !auto.run_at_open();
    let mut actions = toolbar(ui, cx, config, state, can_run);
    ui.weak(sees(cx.t, state));
    let peers: Vec<_> = auto.run_peers().collect();
    if peers.len() > 1 {
        actions.extend(peer_picker(ui, cx, &peers, auto.shown_peer()));
    }
    let messages = [problem, auto.import_error().map(|notice| cx.lang.notice(notice))];
    message_line(ui, &messages.into_iter().flatten().collect::<Vec<_>>());
    // Results belong to the steps as they were run: an edited table shows none.
    let run = auto.shown_run().filter(|_| auto.ran() == Some(&config.script));
    let failed = run.and_then(first_failure);
    let table_height = (ui.available_height() - if failed.is_some() { 90.0 } else { 0.0 }).max(ROW_HEIGHT * 3.0);
    if let Some(edit) = steps_table(ui, cx, &mut config.script.steps, run, table_height) {
        edit.apply(&mut config.script.steps);
    }
    if let Some((index, received, received_len)) = failed {
        received_instead(ui, cx, index, received, received_len, config);
    }
    actions
}

/// Add step, repeat, Run and Stop with how the script stands, import and export.
fn toolbar(ui: &mut egui::Ui, cx: Cx, config: &mut TabConfig, state: &TabState, can_run: bool) -> Vec<Action> {
    let t = cx.t;
    let auto = state.auto();
    let mut actions = Vec::new();
    let script = &mut config.script;
    ui.horizontal(|ui| {
        if ui.button(t.script.add_step).clicked() {
            script.steps.push(StepSpec {
                send: Some(String::new()),
                ..StepSpec::default()
            });
        }
        let label = ui.label(t.script.repeat);
        ui.add(egui::DragValue::new(&mut script.repeat).range(0..=MAX_REPEAT))
            .labelled_by(label.id)
            .on_hover_text(t.script.repeat_hint);
        ui.separator();
        let armed = auto.run_at_open() && !state.is_open();
        if ui
            .add_enabled(can_run, egui::Button::new(t.script.run))
            .on_hover_text(t.script.tip_run)
            .clicked()
        {
            actions.push(Action::RunScript);
        }
        if ui
            .add_enabled(auto.script_running() || armed, egui::Button::new(t.script.stop_script))
            .clicked()
        {
            actions.push(Action::StopScript);
        }
        ui.checkbox(&mut config.script_on_open, t.script.run_on_open)
            .on_hover_text(t.script.tip_run_on_open);
        let now = if armed {
            t.script.armed.to_owned()
        } else {
            status(t, auto.script_running(), auto.waiting_for_peer(), auto.shown_run())
        };
        ui.label(now);
        ui.separator();
        actions.extend(toml_buttons(
            ui,
            cx,
            FilePurpose::ImportScript,
            FilePurpose::ExportScript,
        ));
    });
    // A row of its own: the toolbar is full at the window's smallest width.
    ui.checkbox(&mut config.script.vars, t.script.vars)
        .on_hover_text(t.script.tip_vars);
    actions
}

/// Which data the expects see: everything from the connection (a run started with it: before Open, Run arms
/// it), or, started later, what arrived since Open too.
fn sees(t: &Texts, state: &TabState) -> &'static str {
    let auto = state.auto();
    let with_open = if auto.script_running() {
        auto.from_open()
    } else {
        !state.is_open()
    };
    if with_open {
        t.script.sees_everything
    } else {
        t.script.sees_since_open
    }
}

/// The first failed step of a run: its index and what arrived instead.
fn first_failure(run: &PeerRun) -> Option<(usize, &[u8], usize)> {
    run.steps.iter().enumerate().find_map(|(index, result)| match result {
        StepResult::Failed {
            received, received_len, ..
        } => Some((index, &received[..], *received_len)),
        _ => None,
    })
}

/// The steps, one row each with the shown run's result; the row buttons' edit comes back.
fn steps_table(
    ui: &mut egui::Ui,
    cx: Cx,
    steps: &mut [StepSpec],
    run: Option<&PeerRun>,
    height: f32,
) -> Option<RowEdit> {
    let t = cx.t;
    let mut edit = None;
    let count = steps.len();
    sideways(ui, "script-scroll", |ui| {
        let mut names = [egui::Id::NULL; 2];
        TableBuilder::new(ui)
            .id_salt("script")
            .striped(true)
            .max_scroll_height(height)
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
                header.col(|ui| names[0] = ui.strong(t.script.action).id);
                header.col(|ui| names[1] = ui.strong(t.script.value).id);
                header.col(|ui| {
                    ui.strong(format!("{} / {}", t.common.checksum, t.script.timeout_ms));
                });
                header.col(|ui| {
                    ui.strong(t.script.result);
                });
                header.col(|ui| {
                    ui.strong(t.script.time);
                });
                header.col(|_| {});
            })
            .body(|body| {
                body.rows(ROW_HEIGHT, count, |mut row| {
                    let index = row.index();
                    let Some(step) = steps.get_mut(index) else {
                        return;
                    };
                    let result = run.and_then(|run| run.steps.get(index));
                    step_row(&mut row, cx, index, step, result, names);
                    row.col(|ui| edit = edit.or(row_buttons(ui, t, index, count)));
                });
            });
    });
    edit
}

/// A step's cells but its row buttons; a failed step's are red.
fn step_row(
    row: &mut egui_extras::TableRow<'_, '_>,
    cx: Cx,
    index: usize,
    step: &mut StepSpec,
    result: Option<&StepResult>,
    names: [egui::Id; 2],
) {
    let red = matches!(result, Some(StepResult::Failed { .. }));
    row.col(|ui| {
        mark(ui, red);
        ui.label((index + 1).to_string());
    });
    row.col(|ui| {
        mark(ui, red);
        kind_cell(ui, cx.t, index, step, names[0]);
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
        result_cell(ui, cx.t, result);
    });
    row.col(|ui| {
        mark(ui, red);
        if let Some(StepResult::Passed(elapsed) | StepResult::Failed { elapsed, .. }) = result {
            ui.label(format!("{} ms", elapsed.as_millis()));
        }
    });
}

/// What the step does; a new choice converts it.
fn kind_cell(ui: &mut egui::Ui, t: &Texts, index: usize, step: &mut StepSpec, name: egui::Id) {
    let kind = Kind::of(step);
    let mut chosen = kind;
    egui::ComboBox::from_id_salt(("step-kind", index))
        .width(110.0)
        .selected_text(kind.name(t))
        .show_ui(ui, |ui| {
            for kind in KINDS {
                ui.selectable_value(&mut chosen, kind, kind.name(t));
            }
        })
        .response
        .labelled_by(name);
    if chosen != kind {
        chosen.convert(step);
    }
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
        checksum_combo(ui, cx.t, ("step-checksum", index), &mut step.checksum).on_hover_text(cx.t.common.checksum);
    } else if kind.expects() {
        let default = DEFAULT_TIMEOUT.as_millis() as u64;
        let mut ms = step.timeout_ms.unwrap_or(default);
        let drag = ui
            .add(egui::DragValue::new(&mut ms).range(0..=MAX_WAIT_MS).suffix(" ms"))
            .on_hover_text(cx.t.script.timeout_ms);
        if drag.changed() {
            step.timeout_ms = Some(ms);
        }
    }
}

fn result_cell(ui: &mut egui::Ui, t: &Texts, result: Option<&StepResult>) {
    match result {
        Some(StepResult::Passed(_)) => {
            ui.colored_label(egui::Color32::from_rgb(0x2e, 0xa0, 0x43), t.script.passed);
        }
        Some(StepResult::Failed { .. }) => {
            ui.colored_label(ui.visuals().error_fg_color, t.script.failed);
        }
        Some(StepResult::Waiting) | None => {}
    }
}

/// How the script stands: running or waiting for a client, and how the run on show ended.
fn status(t: &Texts, running: bool, waiting: bool, run: Option<&PeerRun>) -> String {
    let round = |round: u64| format!("{} {round}", t.script.round);
    let now = match run {
        _ if waiting => Some(t.script.waiting_for_client.to_owned()),
        Some(run) if run.end.is_none() => Some(format!("{} ({})", t.script.running, round(run.round))),
        _ if running => Some(t.script.running.to_owned()),
        _ => None,
    };
    let ended = run.and_then(|run| run.end).map(|end| match end {
        ScriptEnd::Passed => t.script.passed.to_owned(),
        ScriptEnd::Failed { step, round: r } => format!("{}: #{} ({})", t.script.failed, step + 1, round(r)),
        ScriptEnd::Stopped => t.script.stopped.to_owned(),
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
    let t = cx.t;
    let name = |peer: Option<std::net::SocketAddr>| peer.map_or_else(|| "UDP".to_owned(), |peer| peer.to_string());
    let mut chosen = shown;
    ui.horizontal(|ui| {
        let label = ui.label(t.script.run_of);
        egui::ComboBox::from_id_salt("script-peer")
            .selected_text(shown.map_or_else(|| t.script.latest_run.to_owned(), name))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut chosen, None, t.script.latest_run);
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
    let t = cx.t;
    ui.separator();
    ui.colored_label(
        ui.visuals().error_fg_color,
        format!(
            "#{} {} — {} ({len} B):",
            index + 1,
            t.script.failed,
            t.script.received_instead
        ),
    );
    let text = config.receive.encoding.decode_all(received);
    let hex = crate::codec::hex::to_hex(received);
    egui::ScrollArea::vertical()
        .id_salt("received-instead")
        .max_height(70.0)
        .show(ui, |ui| {
            ui.add(
                egui::Label::new(
                    egui::RichText::new(format!("{}: {}", t.common.text, text.escape_debug())).monospace(),
                )
                .wrap(),
            );
            ui.add(egui::Label::new(egui::RichText::new(format!("{}: {hex}", t.common.hex)).monospace()).wrap());
        });
}
