//! A relay tab's pairs: each client with its own connection to the upstream, bytes each way, its buttons (kick
//! while open; save its conversation as a script) and its state (why it ended, once ended).
use egui_extras::{Column, TableBuilder};

use crate::gui::dialog::FilePurpose;
use crate::gui::i18n::Texts;
use crate::gui::tab::{TabAction as Action, TabState};
use crate::gui::ui::status::{grouped, human_bytes};
use crate::gui::ui::{Cx, sideways};
use crate::net::{LeaveReason, NetError};
use crate::session::pairs::{PairInfo, PairState};

const ROW_HEIGHT: f32 = 22.0;

pub fn pairs_table(ui: &mut egui::Ui, cx: Cx, state: &TabState) -> Vec<Action> {
    let t = cx.t;
    let pairs = state.pairs();
    ui.heading(format!(
        "{} ({} {})",
        t.relay.pairs,
        pairs.open_count(),
        t.relay.open_pairs
    ));
    let mut actions = Vec::new();
    let rows: Vec<&PairInfo> = pairs.iter().collect();
    sideways(ui, "pairs-scroll", |ui| {
        TableBuilder::new(ui)
            .id_salt("pairs")
            .striped(true)
            .auto_shrink([false, true])
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            // Fixed widths but the last: the state (an ended pair's reason, cut) takes what the pane has left, so
            // the table fits at the window's default width; a narrower pane scrolls it sideways.
            .column(Column::initial(110.0).at_least(80.0).clip(true))
            .column(Column::initial(110.0).at_least(80.0).clip(true))
            .column(Column::initial(60.0).at_least(44.0).clip(true))
            .column(Column::initial(60.0).at_least(44.0).clip(true))
            .column(Column::auto())
            .column(Column::remainder().at_least(90.0).clip(true))
            .header(ROW_HEIGHT, |mut header| {
                for (label, tip) in [
                    (t.relay.client, None),
                    (t.relay.via, Some(t.relay.tip_via)),
                    (t.relay.to_upstream, Some(t.relay.tip_to_upstream)),
                    (t.relay.to_client, Some(t.relay.tip_to_client)),
                    ("", None),
                    (t.relay.state, Some(t.relay.tip_state)),
                ] {
                    header.col(|ui| {
                        let label = ui.strong(label);
                        if let Some(tip) = tip {
                            label.on_hover_text(tip);
                        }
                    });
                }
            })
            .body(|body| {
                body.rows(ROW_HEIGHT, rows.len(), |mut row| {
                    if let Some(pair) = rows.get(row.index()) {
                        pair_row(&mut row, cx, pair, &mut actions);
                    }
                });
            });
    });
    actions
}

fn pair_row(row: &mut egui_extras::TableRow<'_, '_>, cx: Cx, pair: &PairInfo, actions: &mut Vec<Action>) {
    let t = cx.t;
    row.col(|ui| {
        let since = pair.since.format("%Y-%m-%d %H:%M:%S");
        ui.add(egui::Label::new(pair.client.to_string()).truncate())
            .on_hover_text(format!("{}\n{} {since}", pair.client, t.clients.since));
    });
    row.col(|ui| {
        let via = pair.via.map_or_else(|| "-".to_owned(), |via| via.to_string());
        let upstream = pair
            .upstream
            .map(|upstream| format!(" → {upstream}"))
            .unwrap_or_default();
        ui.add(egui::Label::new(&via).truncate())
            .on_hover_text(format!("{via}{upstream}"));
    });
    let (to_upstream, to_client) = pair.bytes();
    for bytes in [to_upstream, to_client] {
        row.col(|ui| {
            ui.label(human_bytes(bytes))
                .on_hover_text(format!("{} {}", grouped(bytes), t.status.bytes));
        });
    }
    row.col(|ui| {
        if pair.is_open() && ui.small_button(t.relay.kick).on_hover_text(t.relay.tip_kick).clicked() {
            actions.push(Action::Kick(pair.client));
        }
        let save = egui::Button::new(t.relay.save_script).small();
        if ui
            .add_enabled(cx.dialog_free, save)
            .on_hover_text(t.relay.tip_save_script)
            .on_disabled_hover_text(t.dialogs.file_dialog_busy)
            .clicked()
        {
            actions.push(Action::PickFile(FilePurpose::PairScript(pair.client)));
        }
    });
    row.col(|ui| {
        let state = state_text(cx, &pair.state);
        ui.add(egui::Label::new(&state).truncate()).on_hover_text(&state);
    });
}

/// A pair's state; an ended one says why it ended: the failure in full, else how.
fn state_text(cx: Cx, state: &PairState) -> String {
    let t = cx.t;
    let (reason, error) = match state {
        PairState::Connecting => return t.relay.connecting.to_owned(),
        PairState::Open => return t.relay.open.to_owned(),
        PairState::Ended { reason, error } => (reason, error),
    };
    match error {
        // The row names the client already.
        Some(error) => match error.as_ref() {
            NetError::Pair { source, .. } => cx.lang.net_error(source),
            error => cx.lang.net_error(error),
        },
        None => leave_reason(t, *reason).to_owned(),
    }
}

/// Why a peer (or a relay's pair) left, in a word or two.
pub(super) fn leave_reason(t: &Texts, reason: LeaveReason) -> &'static str {
    match reason {
        LeaveReason::Closed => t.relay.closed,
        LeaveReason::Reset => t.relay.reset,
        LeaveReason::Kicked => t.relay.kicked,
        LeaveReason::Error => t.relay.error,
        LeaveReason::Idle => t.relay.idle,
    }
}
