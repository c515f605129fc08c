//! The window's panels. Each draws from the app's state, edits settings in place, and returns the
//! `Action`s with side effects for the app to apply in one place.
pub mod connection;
pub mod fonts;
pub mod receive;
pub mod send;
pub mod status;

use crate::app::{Action, WirepadApp};

/// NetAssist's layout: settings on the left, receive view in the middle, send box below, status bar at the bottom.
pub fn show(app: &mut WirepadApp, ui: &mut egui::Ui) -> Vec<Action> {
    let mut actions = Vec::new();
    egui::Panel::bottom("status").show(ui, |ui| actions.extend(status::status_bar(app, ui)));
    egui::Panel::left("settings")
        .resizable(true)
        .default_size(250.0)
        .min_size(220.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| actions.extend(connection::settings_column(app, ui)));
        });
    egui::Panel::right("side")
        .resizable(true)
        .default_size(240.0)
        .min_size(180.0)
        .show(ui, |ui| {
            actions.extend(send::side_panel(app, ui));
        });
    egui::Panel::bottom("send")
        .resizable(true)
        .default_size(150.0)
        .min_size(110.0)
        .show(ui, |ui| {
            actions.extend(send::send_box(app, ui));
        });
    egui::CentralPanel::default().show(ui, |ui| actions.extend(receive::receive_pane(app, ui)));
    actions
}

/// A label and a single-line field tied to it (the label names the field for screen readers and tests).
pub(crate) fn labelled_field(ui: &mut egui::Ui, label: &str, text: &mut String, width: f32) -> egui::Response {
    ui.horizontal(|ui| {
        let label = ui.label(label);
        ui.add(egui::TextEdit::singleline(text).desired_width(width))
            .labelled_by(label.id)
    })
    .inner
}

/// An inline validation message under a field, when there is one.
pub(crate) fn field_error(ui: &mut egui::Ui, message: Option<&str>) {
    if let Some(message) = message {
        ui.colored_label(ui.visuals().error_fg_color, message);
    }
}
