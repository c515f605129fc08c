//! The window's panels. Each draws from the app's state, edits settings in place, and returns the
//! `Action`s with side effects for the app to apply in one place.
pub mod connection;
pub mod fonts;
pub mod receive;
pub mod send;
pub mod status;

use crate::app::{Action, WirepadApp};

/// Empties the receive view, as Ctrl+L does in a terminal.
pub const CLEAR_VIEW: egui::KeyboardShortcut = egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::L);

/// NetAssist's layout: settings on the left, receive view in the middle, send box below, status bar at the bottom.
/// The side panels have a width the user sets within a range; their contents wrap or clip and never push it.
pub fn show(app: &mut WirepadApp, ui: &mut egui::Ui) -> Vec<Action> {
    let mut actions = Vec::new();
    if ui.input_mut(|input| input.consume_shortcut(&CLEAR_VIEW)) {
        actions.push(Action::ClearView);
    }
    egui::Panel::bottom("status").show(ui, |ui| actions.extend(status::status_bar(app, ui)));
    egui::Panel::left("settings")
        .resizable(true)
        .default_size(250.0)
        .size_range(240.0..=420.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| actions.extend(connection::settings_column(app, ui)));
        });
    // Wider by default on a wide window, so client addresses show whole; the user's width wins after that.
    let side_width = (ui.available_width() * 0.2).clamp(230.0, 360.0);
    egui::Panel::right("side")
        .resizable(true)
        .default_size(side_width)
        .size_range(230.0..=520.0)
        .show(ui, |ui| {
            actions.extend(send::side_panel(app, ui));
        });
    egui::Panel::bottom("send")
        .resizable(true)
        .default_size(150.0)
        .size_range(120.0..=400.0)
        .show(ui, |ui| {
            actions.extend(send::send_box(app, ui));
        });
    egui::CentralPanel::default().show(ui, |ui| {
        actions.extend(notice_bar(app, ui));
        actions.extend(receive::receive_pane(app, ui));
    });
    actions.extend(path_prompt(app, ui));
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
        error_label(ui, message);
    }
}

/// An error in the column's width: what failed on one line, why on the next ("cannot listen on
/// 0.0.0.0:8080:" / "address in use"), so a reason is never cut in the middle of a word.
pub(crate) fn error_label(ui: &mut egui::Ui, message: &str) {
    let color = ui.visuals().error_fg_color;
    ui.add(egui::Label::new(egui::RichText::new(split_reason(message)).color(color)).wrap());
}

/// Breaks after the first "：" or ": " (not inside an address such as 0.0.0.0:8080).
fn split_reason(message: &str) -> String {
    let at = [("：", "："), (": ", ":")]
        .iter()
        .filter_map(|(separator, keep)| message.find(separator).map(|i| (i, separator.len(), *keep)))
        .min_by_key(|(i, _, _)| *i);
    match at {
        Some((i, len, keep)) if i + len < message.len() => {
            format!("{}{keep}\n{}", &message[..i], &message[i + len..])
        }
        _ => message.to_string(),
    }
}

/// A message for the whole window, until dismissed.
fn notice_bar(app: &WirepadApp, ui: &mut egui::Ui) -> Vec<Action> {
    let mut actions = Vec::new();
    if let Some(notice) = app.notice() {
        egui::Frame::group(ui.style())
            .fill(ui.visuals().warn_fg_color.gamma_multiply(0.15))
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    if ui.button(app.texts().dismiss).clicked() {
                        actions.push(Action::DismissNotice);
                    }
                    ui.add(egui::Label::new(notice).wrap());
                });
            });
    }
    actions
}

/// Where no file dialog exists: the path is typed instead.
fn path_prompt(app: &mut WirepadApp, ui: &mut egui::Ui) -> Vec<Action> {
    let mut actions = Vec::new();
    let t = app.texts();
    let lang = app.lang;
    let Some((_, text)) = &mut app.path_prompt else {
        return actions;
    };
    let modal = egui::Modal::new(egui::Id::unique("wirepad-path-prompt")).show(ui.ctx(), |ui| {
        ui.set_max_width(480.0);
        ui.add(egui::Label::new(lang.notice(&crate::i18n::Notice::NoFileDialog)).wrap());
        let field = labelled_field(ui, t.path, text, 360.0);
        if !field.has_focus() && text.is_empty() {
            field.request_focus();
        }
        let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        ui.horizontal(|ui| {
            let path = text.trim();
            if ui.add_enabled(!path.is_empty(), egui::Button::new(t.ok)).clicked() || (entered && !path.is_empty()) {
                actions.push(Action::TypedPath(Some(path.into())));
            }
            if ui.button(t.cancel).clicked() {
                actions.push(Action::TypedPath(None));
            }
        });
    });
    if modal.should_close() && actions.is_empty() {
        actions.push(Action::TypedPath(None));
    }
    actions
}

#[cfg(test)]
mod tests {
    #[test]
    fn errors_break_between_what_failed_and_why() {
        let cases = [
            (
                "cannot listen on 0.0.0.0:8080: address in use",
                "cannot listen on 0.0.0.0:8080:\naddress in use",
            ),
            (
                "无法在 0.0.0.0:8080 上监听：地址已被占用",
                "无法在 0.0.0.0:8080 上监听：\n地址已被占用",
            ),
            ("no reason here", "no reason here"),
            ("ends with: ", "ends with: "),
        ];
        for (message, shown) in cases {
            assert_eq!(super::split_reason(message), shown);
        }
    }
}
