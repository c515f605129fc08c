//! The find bar above the receive view (Ctrl+F): mode, pattern, match count, previous/next, close; a pattern that
//! cannot be searched says why under it.
use crate::export::find::FindMode;
use crate::gui::tab::{FindAction, TabAction as Action, TabId, TabState};
use crate::gui::ui::Cx;
use crate::settings::TabConfig;

pub fn find_bar(ui: &mut egui::Ui, cx: Cx, id: TabId, config: &mut TabConfig, state: &TabState) -> Vec<Action> {
    let t = cx.t;
    let finder = state.finder();
    let mut actions = Vec::new();
    // Wrapped: in a narrow view the buttons go on a second line rather than off the right edge.
    ui.horizontal_wrapped(|ui| {
        let label = ui.label(t.find.find);
        let find = &mut config.find;
        for mode in FindMode::ALL {
            ui.selectable_value(&mut find.mode, mode, mode_name(cx, mode));
        }
        let field = ui
            .add(egui::TextEdit::singleline(&mut find.text).desired_width(220.0))
            .labelled_by(label.id)
            .on_hover_text(t.find.tip_find_field);
        // Each Ctrl+F hands the field the keyboard once.
        let opened = egui::Id::unique(("wirepad-find-opened", id));
        if ui.data(|d| d.get_temp::<u64>(opened)) != Some(finder.opens()) {
            field.request_focus();
            ui.data_mut(|d| d.insert_temp(opened, finder.opens()));
        }
        let (enter, shift, escape) = ui.input(|i| {
            (
                i.key_pressed(egui::Key::Enter),
                i.modifiers.shift,
                i.key_pressed(egui::Key::Escape),
            )
        });
        if field.lost_focus() && enter {
            actions.push(Action::Find(if shift {
                FindAction::Previous
            } else {
                FindAction::Next
            }));
            field.request_focus();
        }
        if (field.has_focus() || field.lost_focus()) && escape {
            actions.push(Action::Find(FindAction::Close));
        }
        if !find.text.is_empty() {
            ui.label(
                cx.lang
                    .find_count(finder.current(), finder.matches(), finder.done(), finder.capped()),
            );
        }
        let any = finder.matches() > 0;
        if ui.add_enabled(any, egui::Button::new(t.find.find_previous)).clicked() {
            actions.push(Action::Find(FindAction::Previous));
        }
        if ui.add_enabled(any, egui::Button::new(t.find.find_next)).clicked() {
            actions.push(Action::Find(FindAction::Next));
        }
        if ui.button(t.common.close).clicked() {
            actions.push(Action::Find(FindAction::Close));
        }
    });
    if let Some(error) = finder.error() {
        let color = ui.visuals().error_fg_color;
        ui.label(egui::RichText::new(cx.lang.find_error(error)).monospace().color(color));
    }
    actions
}

fn mode_name(cx: Cx, mode: FindMode) -> &'static str {
    match mode {
        FindMode::Text => cx.t.find.find_text,
        FindMode::Hex => cx.t.find.find_hex,
        FindMode::Regex => cx.t.find.find_regex,
    }
}
