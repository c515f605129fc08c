//! The send box (Ctrl+Enter sends), and the side panel: the client list in server mode and quick commands.
use std::net::SocketAddr;

use egui_extras::{Column, TableBuilder};

use crate::gui::tab::{TabAction as Action, TabState};
use crate::gui::ui::status::human_bytes;
use crate::gui::ui::{Cx, error_label};
use crate::history::Way;
use crate::settings::check::MAX_TEXT;
use crate::settings::{QuickCommand, TabConfig};

pub fn send_box(ui: &mut egui::Ui, cx: Cx, config: &mut TabConfig, state: &TabState) -> Vec<Action> {
    let mut actions = Vec::new();
    let t = cx.t;
    let open = state.is_open();
    let caps = config.mode.caps();
    if caps.accepts {
        ui.horizontal(|ui| {
            actions.extend(send_target(ui, cx, state, caps.forwards));
            if caps.forwards {
                actions.extend(send_way(ui, cx, state));
            }
        });
    }
    let send_hex = config.send.hex;
    let invalid = state.send_box_invalid();
    // Send says why it is disabled; the reason for bad input is also under the box.
    let disabled_because = if !open {
        t.send.send_disabled_closed
    } else {
        t.send.send_disabled_invalid
    };
    // The label above the box, so a narrow window still leaves the box most of its width.
    let label = ui.label(t.send.send_box);
    ui.horizontal(|ui| {
        let button_size = egui::vec2(80.0, 48.0);
        let edit_width = ui.available_width() - button_size.x - ui.spacing().item_spacing.x;
        let edit = egui::TextEdit::multiline(&mut config.send.text)
            .desired_rows(3)
            .desired_width(edit_width.max(60.0))
            .char_limit(MAX_TEXT)
            .code_editor();
        let response = ui.add(edit).labelled_by(label.id);
        // egui cut the paste at the limit: say so (a paste that just reaches it is said to be cut too).
        let pasted = ui.input(|i| i.events.iter().any(|e| matches!(e, egui::Event::Paste(_))));
        if response.changed() && pasted && config.send.text.chars().nth(MAX_TEXT - 1).is_some() {
            actions.push(Action::SendBoxFull);
        }
        let ctrl_enter = response.has_focus() && ui.input(|i| i.modifiers.command && i.key_pressed(egui::Key::Enter));
        ui.vertical(|ui| {
            let clicked = ui
                .add_enabled(open && !invalid, egui::Button::new(t.send.send).min_size(button_size))
                .on_hover_text(t.send.tip_send)
                .on_disabled_hover_text(disabled_because)
                .clicked();
            if open && !invalid && (clicked || ctrl_enter) {
                actions.push(Action::Send {
                    text: config.send.text.clone(),
                    hex: send_hex,
                });
            }
            if ui
                .add(egui::Button::new(t.send.clear_send).min_size(egui::vec2(button_size.x, 0.0)))
                .on_hover_text(t.send.tip_clear_send)
                .clicked()
            {
                actions.push(Action::ClearSendBox);
            }
        });
    });
    if let Some(error) = state.send_error(cx.lang) {
        error_label(ui, &error);
    }
    actions
}

/// The client sends go to, or every one; a relay's pair (by its client), or every pair.
fn send_target(ui: &mut egui::Ui, cx: Cx, state: &TabState, relay: bool) -> Option<Action> {
    let t = cx.t;
    let label = ui.label(t.clients.send_to);
    let mut target = state.target();
    let all = if relay {
        t.relay.all_pairs
    } else {
        t.clients.all_clients
    };
    let selected = target.map_or_else(|| all.to_string(), |peer| peer.to_string());
    let clients: Vec<SocketAddr> = if relay {
        state.pairs().clients().collect()
    } else {
        state.clients().copied().collect()
    };
    egui::ComboBox::from_id_salt("send-target")
        .selected_text(selected)
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut target, None, all);
            for peer in clients {
                ui.selectable_value(&mut target, Some(peer), peer.to_string());
            }
        })
        .response
        .labelled_by(label.id)
        .on_hover_text(t.clients.tip_send_to);
    (target != state.target()).then_some(Action::SetTarget(target))
}

/// A relay: the client side of the pair, or its upstream side.
fn send_way(ui: &mut egui::Ui, cx: Cx, state: &TabState) -> Option<Action> {
    let t = cx.t;
    let name = |way| match way {
        Way::ToClient => t.relay.client_side,
        Way::ToUpstream => t.relay.upstream_side,
    };
    let mut way = state.send_way();
    let label = ui.label(t.relay.side);
    egui::ComboBox::from_id_salt("send-way")
        .selected_text(name(way))
        .show_ui(ui, |ui| {
            for choice in [Way::ToClient, Way::ToUpstream] {
                ui.selectable_value(&mut way, choice, name(choice));
            }
        })
        .response
        .labelled_by(label.id)
        .on_hover_text(t.relay.tip_side);
    (way != state.send_way()).then_some(Action::SetSendWay(way))
}

/// The quick commands every tab shares, and the one being edited.
pub struct QuickCommands<'a> {
    pub commands: &'a mut Vec<QuickCommand>,
    pub editing: &'a mut Option<usize>,
}

pub fn side_panel(
    ui: &mut egui::Ui,
    cx: Cx,
    config: &TabConfig,
    state: &TabState,
    quick: QuickCommands<'_>,
) -> Vec<Action> {
    let mut actions = Vec::new();
    // A relay's clients are in its pairs table.
    if config.mode.caps().accepts && !config.mode.caps().forwards {
        ui.heading(format!("{} ({})", cx.t.clients.clients, state.client_count()));
        actions.extend(client_table(ui, cx, state));
        ui.separator();
    }
    actions.extend(quick_commands(ui, cx, state.is_open(), quick));
    actions
}

/// One client a row on two lines: its address whole (the column takes the panel's width but the kick button's;
/// a longer one is cut, whole on hover), then its RX and TX as human sizes with the exact counts on hover.
fn client_table(ui: &mut egui::Ui, cx: Cx, state: &TabState) -> Vec<Action> {
    let mut actions = Vec::new();
    let t = cx.t;
    let line = ui.text_style_height(&egui::TextStyle::Body);
    let row_height = 2.0 * line + ui.spacing().item_spacing.y + 2.0;
    let kick_width = ui.fonts_mut(|f| {
        f.layout_no_wrap(
            t.clients.kick.into(),
            egui::TextStyle::Button.resolve(ui.style()),
            egui::Color32::WHITE,
        )
        .size()
        .x
    }) + 2.0 * ui.spacing().button_padding.x
        + 2.0;
    ui.push_id("clients", |ui| {
        TableBuilder::new(ui)
            .striped(true)
            .max_scroll_height(180.0)
            .auto_shrink([false, true])
            .column(Column::remainder().at_least(40.0).clip(true))
            .column(Column::exact(kick_width))
            .header(line + 4.0, |mut header| {
                header.col(|ui| {
                    ui.strong(format!(
                        "{} · {} {}",
                        t.clients.address, t.clients.client_rx, t.clients.client_tx
                    ));
                });
                header.col(|_| {});
            })
            .body(|body| {
                // Only the rows in sight are laid out: a server with thousands of clients (or a storm of short
                // ones) costs a frame what the panel shows. Rows come in order, so one walk finds them all.
                let mut clients = state.client_list();
                let mut next = 0;
                body.rows(row_height, state.client_count(), |mut row| {
                    let Some((peer, info)) = clients.nth(row.index().saturating_sub(next)) else {
                        return;
                    };
                    next = row.index() + 1;
                    client_row(&mut row, cx, peer, info, &mut actions);
                });
            });
    });
    actions
}

fn client_row(
    row: &mut egui_extras::TableRow<'_, '_>,
    cx: Cx,
    peer: &std::net::SocketAddr,
    info: &crate::session::state::ClientInfo,
    actions: &mut Vec<Action>,
) {
    let t = cx.t;
    let counters = info.counters.snapshot();
    row.col(|ui| {
        ui.vertical(|ui| {
            ui.add(egui::Label::new(peer.to_string()).truncate())
                .on_hover_text(format!(
                    "{peer}\n{} {}",
                    t.clients.since,
                    info.since.format("%Y-%m-%d %H:%M:%S")
                ));
            ui.horizontal(|ui| {
                for (arrow, bytes) in [("↓", counters.rx_bytes), ("↑", counters.tx_bytes)] {
                    ui.weak(arrow);
                    ui.label(human_bytes(bytes)).on_hover_text(format!("{bytes} B"));
                }
            });
        });
    });
    row.col(|ui| {
        if ui
            .small_button(t.clients.kick)
            .on_hover_text(t.clients.tip_kick)
            .clicked()
        {
            actions.push(Action::Kick(*peer));
        }
    });
}

fn quick_commands(ui: &mut egui::Ui, cx: Cx, open: bool, quick: QuickCommands<'_>) -> Vec<Action> {
    let mut actions = Vec::new();
    let t = cx.t;
    let QuickCommands { commands, editing } = quick;
    ui.horizontal(|ui| {
        ui.heading(t.quick.quick_commands);
        if ui.button(t.quick.add).on_hover_text(t.quick.tip_quick_add).clicked() {
            commands.push(QuickCommand {
                name: format!("#{}", commands.len() + 1),
                ..Default::default()
            });
            *editing = Some(commands.len() - 1);
        }
    });
    let mut delete = None;
    egui::ScrollArea::vertical().id_salt("quick").show(ui, |ui| {
        for (index, command) in commands.iter_mut().enumerate() {
            if *editing == Some(index) {
                ui.group(|ui| {
                    crate::gui::ui::labelled_field(ui, t.common.name, &mut command.name, 120.0);
                    ui.checkbox(&mut command.hex, "HEX");
                    ui.add(
                        egui::TextEdit::multiline(&mut command.text)
                            .desired_rows(2)
                            .char_limit(MAX_TEXT)
                            .code_editor(),
                    );
                    ui.horizontal(|ui| {
                        if ui.button(t.quick.done).clicked() {
                            *editing = None;
                        }
                        if ui.button(t.common.delete).clicked() {
                            delete = Some(index);
                        }
                    });
                });
                continue;
            }
            ui.horizontal(|ui| {
                let send = egui::Button::new(&command.name)
                    .truncate()
                    .min_size(egui::vec2(110.0, 0.0));
                if ui
                    .add_enabled(open, send)
                    .on_hover_text(&command.text)
                    .on_disabled_hover_text(t.send.send_disabled_closed)
                    .clicked()
                {
                    actions.push(Action::Send {
                        text: command.text.clone(),
                        hex: command.hex,
                    });
                }
                if ui
                    .small_button(t.quick.edit)
                    .on_hover_text(t.quick.tip_quick_edit)
                    .clicked()
                {
                    *editing = Some(index);
                }
            });
        }
    });
    if let Some(index) = delete {
        commands.remove(index);
        *editing = None;
    }
    actions
}
