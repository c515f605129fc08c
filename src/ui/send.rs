//! The send box (Ctrl+Enter sends), and the side panel: the client list in server mode and quick commands.
use crate::app::{Action, WirepadApp};
use crate::settings::{ModeKind, QuickCommand};

pub fn send_box(app: &mut WirepadApp, ui: &mut egui::Ui) -> Vec<Action> {
    let mut actions = Vec::new();
    let t = app.texts();
    let open = app.is_open();
    if app.settings.mode == ModeKind::TcpServer {
        ui.horizontal(|ui| {
            let label = ui.label(t.send_to);
            let selected = app
                .target
                .map_or_else(|| t.all_clients.to_string(), |peer| peer.to_string());
            let peers: Vec<_> = app.clients().copied().collect();
            egui::ComboBox::from_id_salt("send-target")
                .selected_text(selected)
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut app.target, None, t.all_clients);
                    for peer in peers {
                        ui.selectable_value(&mut app.target, Some(peer), peer.to_string());
                    }
                })
                .response
                .labelled_by(label.id);
        });
    }
    let send_hex = app.settings.send.hex;
    ui.horizontal(|ui| {
        let button_size = egui::vec2(80.0, 48.0);
        let edit_width = ui.available_width() - button_size.x - ui.spacing().item_spacing.x;
        let label = ui.label(t.send_box);
        let edit = egui::TextEdit::multiline(&mut app.settings.send.text)
            .desired_rows(3)
            .desired_width(edit_width - label.rect.width())
            .code_editor();
        let response = ui.add(edit).labelled_by(label.id);
        let ctrl_enter = response.has_focus() && ui.input(|i| i.modifiers.command && i.key_pressed(egui::Key::Enter));
        let clicked = ui
            .add_enabled(open, egui::Button::new(t.send).min_size(button_size))
            .clicked();
        if open && (clicked || ctrl_enter) {
            actions.push(Action::Send {
                text: app.settings.send.text.clone(),
                hex: send_hex,
            });
        }
    });
    if let Some(error) = app.send_error() {
        ui.colored_label(ui.visuals().error_fg_color, error.to_string());
    }
    actions
}

pub fn side_panel(app: &mut WirepadApp, ui: &mut egui::Ui) -> Vec<Action> {
    let mut actions = Vec::new();
    let t = app.texts();
    if app.settings.mode == ModeKind::TcpServer {
        ui.heading(format!("{} ({})", t.clients, app.clients.len()));
        egui::ScrollArea::vertical()
            .id_salt("clients")
            .max_height(180.0)
            .show(ui, |ui| {
                egui::Grid::new("client-list")
                    .striped(true)
                    .num_columns(4)
                    .show(ui, |ui| {
                        for (peer, info) in &app.clients {
                            ui.label(peer.to_string());
                            ui.label(info.since.format("%H:%M:%S").to_string())
                                .on_hover_text(t.since);
                            ui.label(format!("↓{} ↑{}", info.rx, info.tx));
                            if ui.small_button(t.kick).on_hover_text(peer.to_string()).clicked() {
                                actions.push(Action::Kick(*peer));
                            }
                            ui.end_row();
                        }
                    });
            });
        ui.separator();
    }
    actions.extend(quick_commands(app, ui));
    actions
}

fn quick_commands(app: &mut WirepadApp, ui: &mut egui::Ui) -> Vec<Action> {
    let mut actions = Vec::new();
    let t = app.texts();
    let open = app.is_open();
    ui.horizontal(|ui| {
        ui.heading(t.quick_commands);
        if ui.button(t.add).clicked() {
            app.settings.quick_commands.push(QuickCommand {
                name: format!("#{}", app.settings.quick_commands.len() + 1),
                ..Default::default()
            });
            app.editing_quick = Some(app.settings.quick_commands.len() - 1);
        }
    });
    let mut delete = None;
    egui::ScrollArea::vertical().id_salt("quick").show(ui, |ui| {
        for (index, command) in app.settings.quick_commands.iter_mut().enumerate() {
            if app.editing_quick == Some(index) {
                ui.group(|ui| {
                    crate::ui::labelled_field(ui, t.name, &mut command.name, 120.0);
                    ui.checkbox(&mut command.hex, "HEX");
                    ui.add(
                        egui::TextEdit::multiline(&mut command.text)
                            .desired_rows(2)
                            .code_editor(),
                    );
                    ui.horizontal(|ui| {
                        if ui.button(t.done).clicked() {
                            app.editing_quick = None;
                        }
                        if ui.button(t.delete).clicked() {
                            delete = Some(index);
                        }
                    });
                });
                continue;
            }
            ui.horizontal(|ui| {
                let send = egui::Button::new(&command.name).min_size(egui::vec2(110.0, 0.0));
                if ui.add_enabled(open, send).on_hover_text(&command.text).clicked() {
                    actions.push(Action::Send {
                        text: command.text.clone(),
                        hex: command.hex,
                    });
                }
                if ui.small_button(t.edit).clicked() {
                    app.editing_quick = Some(index);
                }
            });
        }
    });
    if let Some(index) = delete {
        app.settings.quick_commands.remove(index);
        app.editing_quick = None;
    }
    actions
}
