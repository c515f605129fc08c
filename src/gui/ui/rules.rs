//! The auto-reply rules table: each rule edited in place (on, name, match, reply, checksum, delay), its live hit
//! count beside it. The table is checked as it is edited by the command line's own code; Apply hands it to the
//! running session only when every rule is valid.
use egui_extras::{Column, TableBuilder};

use crate::automation::rules::{Action as RuleAction, Direction, MAX_DELAY_MS, RuleSpec};
use crate::gui::auto_state::AutoState;
use crate::gui::dialog::FilePurpose;
use crate::gui::i18n::Texts;
use crate::gui::tab::{TabAction as Action, TabState};
use crate::gui::ui::{Cx, RowEdit, checksum_combo, message_line, row_buttons, sideways, toml_buttons};
use crate::settings::TabConfig;

const ROW_HEIGHT: f32 = 24.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MatchKind {
    Contains,
    HexPrefix,
    Regex,
}

pub fn rules_panel(ui: &mut egui::Ui, cx: Cx, config: &mut TabConfig, state: &TabState) -> Vec<Action> {
    let t = cx.t;
    let auto = state.auto();
    let problem = auto.rules_problem().map(|error| cx.lang.rules_error(error));
    let actions = toolbar(ui, cx, &mut config.rules, state, problem.is_none());
    let failed = auto
        .rule_failed()
        .map(|(peer, rule, why)| format!("{peer}: {} {}: {}", t.rules.rule, rule + 1, cx.lang.reply_problem(why)));
    let messages = [
        problem,
        auto.import_error().map(|notice| cx.lang.notice(notice)),
        failed,
    ];
    message_line(ui, &messages.into_iter().flatten().collect::<Vec<_>>());
    let forwards = config.mode.caps().forwards;
    if let Some(edit) = rules_table(ui, cx, &mut config.rules, auto, forwards) {
        edit.apply(&mut config.rules);
    }
    actions
}

/// Add rule, Apply with whether the table is in force, import and export.
fn toolbar(ui: &mut egui::Ui, cx: Cx, rules: &mut Vec<RuleSpec>, state: &TabState, valid: bool) -> Vec<Action> {
    let t = cx.t;
    let mut actions = Vec::new();
    ui.horizontal(|ui| {
        if ui.button(t.rules.add_rule).clicked() {
            rules.push(RuleSpec {
                enabled: true,
                match_text: Some(String::new()),
                reply: Some(String::new()),
                ..RuleSpec::default()
            });
        }
        let open = state.is_open();
        let applied = state.auto().applied(rules);
        let can_apply = open && valid && !applied;
        if ui
            .add_enabled(can_apply, egui::Button::new(t.rules.apply))
            .on_hover_text(t.rules.tip_apply)
            .clicked()
        {
            actions.push(Action::ApplyRules);
        }
        let status = match (open, applied) {
            (false, _) => t.rules.used_at_open,
            (true, true) => t.rules.in_force,
            (true, false) => t.rules.not_applied,
        };
        ui.weak(status);
        ui.separator();
        actions.extend(toml_buttons(ui, cx, FilePurpose::ImportRules, FilePurpose::ExportRules));
    });
    actions
}

/// The rules, one row each with its hits (a relay's with its direction and action); the row buttons' edit comes
/// back.
fn rules_table(ui: &mut egui::Ui, cx: Cx, rules: &mut [RuleSpec], auto: &AutoState, forwards: bool) -> Option<RowEdit> {
    let t = cx.t;
    let mut edit = None;
    let count = rules.len();
    sideways(ui, "rules-scroll", |ui| {
        let mut names = [egui::Id::NULL; 6];
        let table = TableBuilder::new(ui)
            .id_salt("rules")
            .striped(true)
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::exact(36.0))
            .column(Column::initial(130.0).at_least(60.0).clip(true))
            .column(Column::initial(210.0).at_least(160.0).clip(true))
            .column(Column::initial(200.0).at_least(150.0).clip(true))
            .column(Column::exact(130.0))
            .column(Column::exact(80.0));
        let table = match forwards {
            true => table.column(Column::exact(110.0)).column(Column::exact(90.0)),
            false => table,
        };
        table
            .column(Column::exact(50.0))
            .column(Column::auto())
            .header(ROW_HEIGHT, |mut header| {
                header.col(|ui| {
                    ui.strong(t.rules.enabled);
                });
                header.col(|ui| names[0] = ui.strong(t.common.name).id);
                header.col(|ui| names[1] = ui.strong(t.rules.pattern).id);
                header.col(|ui| names[2] = ui.strong(t.rules.reply).id);
                header.col(|ui| names[3] = ui.strong(t.common.checksum).id);
                header.col(|ui| {
                    ui.strong(t.rules.delay_ms);
                });
                if forwards {
                    header.col(|ui| names[4] = ui.strong(t.relay.direction).on_hover_text(t.relay.tip_direction).id);
                    header.col(|ui| names[5] = ui.strong(t.relay.action).on_hover_text(t.relay.tip_action).id);
                }
                header.col(|ui| {
                    ui.strong(t.rules.hits);
                });
                header.col(|_| {});
            })
            .body(|body| {
                body.rows(ROW_HEIGHT, count, |mut row| {
                    let index = row.index();
                    let Some(spec) = rules.get_mut(index) else {
                        return;
                    };
                    let hits = auto.hits(index, spec);
                    rule_row(&mut row, cx, (index, forwards), spec, hits, names);
                    row.col(|ui| edit = edit.or(row_buttons(ui, t, index, count)));
                });
            });
    });
    edit
}

/// A rule's cells but its row buttons (`forwards`: a relay's, with its direction and action).
fn rule_row(
    row: &mut egui_extras::TableRow<'_, '_>,
    cx: Cx,
    (index, forwards): (usize, bool),
    spec: &mut RuleSpec,
    hits: Option<u64>,
    names: [egui::Id; 6],
) {
    let t = cx.t;
    row.col(|ui| {
        ui.checkbox(&mut spec.enabled, "").on_hover_text(t.rules.enabled);
    });
    row.col(|ui| {
        let name = spec.name.get_or_insert_with(String::new);
        ui.add(egui::TextEdit::singleline(name).desired_width(f32::INFINITY))
            .labelled_by(names[0]);
        if name.is_empty() {
            spec.name = None;
        }
    });
    row.col(|ui| match_cell(ui, cx, index, spec, names[1]));
    row.col(|ui| reply_cell(ui, cx, index, spec, names[2]));
    row.col(|ui| {
        checksum_combo(ui, t, ("rule-checksum", index), &mut spec.checksum).labelled_by(names[3]);
    });
    row.col(|ui| {
        ui.add(egui::DragValue::new(&mut spec.delay_ms).range(0..=MAX_DELAY_MS));
    });
    if forwards {
        let directions = direction_names(t);
        row.col(|ui| {
            relay_combo(
                ui,
                (("rule-direction", index), names[4]),
                &mut spec.direction,
                &directions,
            )
        });
        row.col(|ui| {
            relay_combo(
                ui,
                (("rule-action", index), names[5]),
                &mut spec.action,
                &action_names(t),
            )
        });
    }
    row.col(|ui| {
        ui.label(hits.map_or("-".to_owned(), |hits| hits.to_string()));
    });
}

fn direction_names(t: &Texts) -> [(Direction, &'static str); 3] {
    [
        (Direction::Both, t.relay.both),
        (Direction::ToUpstream, t.relay.to_upstream),
        (Direction::ToClient, t.relay.to_client),
    ]
}

fn action_names(t: &Texts) -> [(RuleAction, &'static str); 4] {
    [
        (RuleAction::Reply, t.relay.reply),
        (RuleAction::Rewrite, t.relay.rewrite),
        (RuleAction::Drop, t.relay.drop),
        (RuleAction::Delay, t.relay.delay),
    ]
}

/// A relay rule's direction or action, chosen among `names`; `(id, column)`: its id and its column's header.
fn relay_combo<T: Copy + PartialEq>(
    ui: &mut egui::Ui,
    (id, column): (impl egui::AsIdSalt, egui::Id),
    value: &mut T,
    names: &[(T, &str)],
) {
    let selected = names
        .iter()
        .find(|(choice, _)| choice == value)
        .map_or("", |(_, name)| name);
    egui::ComboBox::from_id_salt(id)
        .width(80.0)
        .selected_text(selected)
        .show_ui(ui, |ui| {
            for (choice, name) in names {
                ui.selectable_value(value, *choice, *name);
            }
        })
        .response
        .labelled_by(column);
}

fn match_cell(ui: &mut egui::Ui, cx: Cx, index: usize, spec: &mut RuleSpec, name: egui::Id) {
    let t = cx.t;
    let kind = if spec.match_hex.is_some() {
        MatchKind::HexPrefix
    } else if spec.match_regex.is_some() {
        MatchKind::Regex
    } else {
        MatchKind::Contains
    };
    let kind_name = |kind| match kind {
        MatchKind::Contains => t.rules.contains,
        MatchKind::HexPrefix => t.rules.hex_prefix,
        MatchKind::Regex => t.rules.regex,
    };
    let mut chosen = kind;
    egui::ComboBox::from_id_salt(("rule-match", index))
        .width(90.0)
        .selected_text(kind_name(kind))
        .show_ui(ui, |ui| {
            for kind in [MatchKind::Contains, MatchKind::HexPrefix, MatchKind::Regex] {
                ui.selectable_value(&mut chosen, kind, kind_name(kind));
            }
        })
        .response
        .labelled_by(name)
        .on_hover_text(t.rules.matches);
    // The pattern moves to the field of its new kind, as typed.
    let pattern = [spec.match_text.take(), spec.match_hex.take(), spec.match_regex.take()]
        .into_iter()
        .flatten()
        .next()
        .unwrap_or_default();
    let slot = match chosen {
        MatchKind::Contains => &mut spec.match_text,
        MatchKind::HexPrefix => &mut spec.match_hex,
        MatchKind::Regex => &mut spec.match_regex,
    };
    let pattern = slot.insert(pattern);
    ui.add(egui::TextEdit::singleline(pattern).desired_width(f32::INFINITY))
        .labelled_by(name);
}

fn reply_cell(ui: &mut egui::Ui, cx: Cx, index: usize, spec: &mut RuleSpec, name: egui::Id) {
    let t = cx.t;
    let hex = spec.reply_hex.is_some();
    let mut chosen = hex;
    egui::ComboBox::from_id_salt(("rule-reply", index))
        .width(50.0)
        .selected_text(if hex { t.common.hex } else { t.common.text })
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut chosen, false, t.common.text);
            ui.selectable_value(&mut chosen, true, t.common.hex);
        });
    let reply = [spec.reply.take(), spec.reply_hex.take()]
        .into_iter()
        .flatten()
        .next()
        .unwrap_or_default();
    let slot = if chosen { &mut spec.reply_hex } else { &mut spec.reply };
    let reply = slot.insert(reply);
    ui.add(egui::TextEdit::singleline(reply).desired_width(f32::INFINITY))
        .labelled_by(name);
}
