//! The window's panels. Each borrows only what it draws (a tab's `TabConfig` to edit, its `TabState` to read)
//! and returns the actions with side effects, for the app to apply in one place.
pub mod automation_section;
pub mod certificate;
pub mod connection;
pub mod find_bar;
pub mod fonts;
pub mod load;
pub mod pairs;
pub mod plot;
pub mod receive;
pub mod rules;
pub mod script;
pub mod send;
pub mod status;
pub mod tabs;
pub mod tls;

use crate::codec::checksum::Checksum;
use crate::gui::dialog::FilePurpose;
use crate::gui::i18n::{Lang, Texts};
use crate::gui::tab::{Tab, TabAction, TabId};
use crate::settings::{AutoPanel, Prefs};

/// What the window's panels, tab bars and shortcuts ask for.
#[must_use]
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Tab(TabId, TabAction),
    NewTab,
    /// Closes at once if the tab's session is closed, else asks first.
    CloseTab(TabId),
    /// The answer to "close this open session's tab?".
    ConfirmClose(bool),
    /// The answer to "quit with sessions open?" (`true`: quit).
    ConfirmQuit(bool),
    Duplicate(TabId),
    /// Moves the tab beside the others (right of them).
    Split(TabId),
    Focus(TabId),
    StartRename(TabId),
    /// The name typed (`None`: cancelled).
    Rename(Option<String>),
    SetLanguage(Lang),
    DismissNotice,
}

/// Empties the receive view, as Ctrl+L does in a terminal.
pub const CLEAR_VIEW: egui::KeyboardShortcut = egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::L);

/// Opens the focused tab's find bar.
pub const FIND: egui::KeyboardShortcut = egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::F);

/// Below this width a tab's client list and quick commands go in its settings column, right under the connection
/// (in sight without scrolling), instead of a column of their own (two tabs side by side on a laptop).
const NARROW: f32 = 900.0;

/// What every panel may read besides its tab.
#[derive(Clone, Copy)]
pub struct Cx {
    pub t: &'static Texts,
    pub lang: Lang,
    /// No file dialog is up (one at a time, for the whole window).
    pub dialog_free: bool,
}

/// One tab in NetAssist's layout: settings on the left, receive view in the middle, send box below, status bar
/// at the bottom. The side panels have a width the user sets within a range; their contents wrap or clip and
/// never push it.
pub fn tab_ui(
    ui: &mut egui::Ui,
    cx: Cx,
    tab: &mut Tab,
    prefs: &mut Prefs,
    editing_quick: &mut Option<usize>,
) -> Vec<TabAction> {
    let mut actions = Vec::new();
    let Tab { id, config, state } = tab;
    if config.load_test {
        return load::load_tab(ui, cx, config, state);
    }
    let narrow = ui.available_width() < NARROW;
    let quick = send::QuickCommands {
        commands: &mut prefs.quick_commands,
        editing: editing_quick,
    };
    egui::Panel::bottom("status").show(ui, |ui| actions.extend(status::status_bar(ui, cx, config, state)));
    let history = &prefs.remote_history;
    let mut quick = Some(quick);
    egui::Panel::left("settings")
        .resizable(true)
        .default_size(250.0)
        .size_range(240.0..=420.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                let side = if narrow { quick.take() } else { None };
                actions.extend(connection::settings_column(ui, cx, config, state, history, side));
            });
        });
    if let Some(quick) = quick {
        // Wider by default on a wide window, so client addresses show whole; the user's width wins after that.
        let side_width = (ui.available_width() * 0.2).clamp(230.0, 360.0);
        egui::Panel::right("side")
            .resizable(true)
            .default_size(side_width)
            .size_range(230.0..=520.0)
            .show(ui, |ui| actions.extend(send::side_panel(ui, cx, config, state, quick)));
    }
    egui::Panel::bottom("send")
        .resizable(true)
        .default_size(150.0)
        .size_range(120.0..=400.0)
        .show(ui, |ui| actions.extend(send::send_box(ui, cx, config, state)));
    if let Some(panel) = config.automation {
        egui::Panel::bottom("automation")
            .resizable(true)
            .default_size(240.0)
            .size_range(140.0..=600.0)
            .show(ui, |ui| {
                actions.extend(match panel {
                    AutoPanel::Rules => rules::rules_panel(ui, cx, config, state),
                    AutoPanel::Script => script::script_panel(ui, cx, config, state),
                })
            });
    }
    if config.mode.caps().forwards {
        egui::Panel::top("pairs")
            .resizable(true)
            .default_size(150.0)
            .size_range(90.0..=400.0)
            .show(ui, |ui| actions.extend(pairs::pairs_table(ui, cx, state)));
    }
    if config.show_tls && config.speaks_tls() {
        egui::Panel::top("tls")
            .resizable(true)
            .default_size(200.0)
            .size_range(90.0..=450.0)
            .show(ui, |ui| {
                actions.extend(certificate::certificate_panel(ui, cx, config, state))
            });
    }
    if config.show_plot {
        egui::Panel::top("plot")
            .resizable(true)
            .default_size(200.0)
            .size_range(120.0..=500.0)
            .show(ui, |ui| plot::throughput_plot(ui, cx, *id, state));
    }
    egui::CentralPanel::default().show(ui, |ui| {
        actions.extend(receive::receive_pane(ui, cx, *id, config, state));
    });
    actions
}

/// What a table row's buttons ask for (the rules and script tables).
#[derive(Debug, Clone, Copy)]
pub(crate) enum RowEdit {
    Up(usize),
    Down(usize),
    Delete(usize),
}

impl RowEdit {
    pub(crate) fn apply<T>(self, rows: &mut Vec<T>) {
        match self {
            RowEdit::Up(index) if index > 0 && index < rows.len() => rows.swap(index - 1, index),
            RowEdit::Down(index) if index + 1 < rows.len() => rows.swap(index, index + 1),
            RowEdit::Delete(index) if index < rows.len() => {
                rows.remove(index);
            }
            _ => {}
        }
    }
}

/// Up, Down and Delete for row `index` of `count`.
pub(crate) fn row_buttons(ui: &mut egui::Ui, t: &Texts, index: usize, count: usize) -> Option<RowEdit> {
    let mut edit = None;
    if ui.add_enabled(index > 0, egui::Button::new(t.common.move_up)).clicked() {
        edit = Some(RowEdit::Up(index));
    }
    if ui
        .add_enabled(index + 1 < count, egui::Button::new(t.common.move_down))
        .clicked()
    {
        edit = Some(RowEdit::Down(index));
    }
    if ui.button(t.common.delete).clicked() {
        edit = Some(RowEdit::Delete(index));
    }
    edit
}

/// Import and export of a rules or script table, while no other file dialog is open.
pub(crate) fn toml_buttons(ui: &mut egui::Ui, cx: Cx, import: FilePurpose, export: FilePurpose) -> Option<TabAction> {
    let mut action = None;
    for (label, purpose) in [(cx.t.common.import_toml, import), (cx.t.common.export_toml, export)] {
        if ui.add_enabled(cx.dialog_free, egui::Button::new(label)).clicked() {
            action = Some(TabAction::PickFile(purpose));
        }
    }
    action
}

/// A table row's checksum: none, or one of those the payload codec knows.
pub(crate) fn checksum_combo(
    ui: &mut egui::Ui,
    t: &Texts,
    id: impl egui::AsIdSalt,
    checksum: &mut Option<Checksum>,
) -> egui::Response {
    egui::ComboBox::from_id_salt(id)
        .width(120.0)
        .selected_text(checksum.map_or(t.common.none, Checksum::name))
        .show_ui(ui, |ui| {
            ui.selectable_value(checksum, None, t.common.none);
            for choice in Checksum::all() {
                ui.selectable_value(checksum, Some(*choice), choice.name());
            }
        })
        .response
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

/// Messages on one line of fixed height, so the rows below stay put as messages come and go (a click lands on
/// the row it aimed at): the first message, cut to the width, and every one whole on hover.
pub(crate) fn message_line(ui: &mut egui::Ui, messages: &[String]) {
    let size = egui::vec2(ui.available_width(), ui.text_style_height(&egui::TextStyle::Body));
    ui.allocate_ui_with_layout(size, egui::Layout::left_to_right(egui::Align::Center), |ui| {
        ui.set_min_size(size);
        if let Some(first) = messages.first() {
            let text = egui::RichText::new(first).color(ui.visuals().error_fg_color);
            ui.add(egui::Label::new(text).truncate())
                .on_hover_text(messages.join("\n"));
        }
    });
}

/// A table wider than its panel scrolls sideways with the wheel as well as with Shift+wheel (the table's own
/// vertical scrolling goes first while it has rows to scroll).
pub(crate) fn sideways<R>(ui: &mut egui::Ui, id: &str, table: impl FnOnce(&mut egui::Ui) -> R) -> R {
    ui.scope(|ui| {
        ui.style_mut().always_scroll_the_only_direction = true;
        egui::ScrollArea::horizontal()
            .id_salt(id)
            .show(ui, |ui| {
                // The table's own widgets keep the usual wheel.
                ui.style_mut().always_scroll_the_only_direction = false;
                table(ui)
            })
            .inner
    })
    .inner
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

/// A message for the whole window, until dismissed; `true` when dismissed.
pub fn notice_bar(ui: &mut egui::Ui, t: &Texts, notice: &str) -> bool {
    let mut dismissed = false;
    egui::Frame::group(ui.style())
        .fill(ui.visuals().warn_fg_color.gamma_multiply(0.15))
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                dismissed = ui.button(t.dialogs.dismiss).clicked();
                ui.add(egui::Label::new(notice).wrap());
            });
        });
    dismissed
}

/// What the typed-path prompt came to.
pub enum Typed {
    Still,
    Path(std::path::PathBuf),
    Cancelled,
}

/// Where no file dialog exists: the path is typed instead.
pub fn path_prompt(ui: &mut egui::Ui, lang: Lang, text: &mut String) -> Typed {
    let t = lang.texts();
    let mut typed = Typed::Still;
    let modal = egui::Modal::new(egui::Id::unique("wirepad-path-prompt")).show(ui.ctx(), |ui| {
        ui.set_max_width(480.0);
        ui.add(egui::Label::new(lang.notice(&crate::gui::i18n::Notice::NoFileDialog)).wrap());
        let field = labelled_field(ui, t.dialogs.path, text, 360.0);
        if !field.has_focus() && text.is_empty() {
            field.request_focus();
        }
        let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        ui.horizontal(|ui| {
            let path = text.trim();
            if ui
                .add_enabled(!path.is_empty(), egui::Button::new(t.dialogs.ok))
                .clicked()
                || (entered && !path.is_empty())
            {
                typed = Typed::Path(path.into());
            }
            if ui.button(t.dialogs.cancel).clicked() {
                typed = Typed::Cancelled;
            }
        });
    });
    if modal.should_close() && matches!(typed, Typed::Still) {
        typed = Typed::Cancelled;
    }
    typed
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
