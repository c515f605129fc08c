//! The tabs: egui_tiles draws the tab bars and the side-by-side layout (a tab dragged to a side splits the
//! window), each pane is one tab's panels; a toolbar above acts on the focused tab.
use std::collections::BTreeMap;

use egui_tiles::{Behavior, SimplificationOptions, Tile, TileId, Tiles, UiResponse};

use crate::gui::i18n::Lang;
use crate::gui::tab::{Dot, Tab, TabId};
use crate::gui::ui::{Action, Cx, tab_ui};
use crate::settings::Prefs;

/// What the tile tree needs to draw the tabs: the tabs themselves live here, the tree holds only their ids.
pub struct Panes<'a> {
    pub tabs: &'a mut BTreeMap<TabId, Tab>,
    pub prefs: &'a mut Prefs,
    pub editing_quick: &'a mut Option<usize>,
    pub cx: Cx,
    pub focused: TabId,
    /// A tab just brought forward (Ctrl+T, Ctrl+1…9, Ctrl+Tab): its button is scrolled into the tab strip.
    pub reveal: Option<TabId>,
    pub actions: Vec<Action>,
}

impl Behavior<TabId> for Panes<'_> {
    fn pane_ui(&mut self, ui: &mut egui::Ui, _tile: TileId, id: &mut TabId) -> UiResponse {
        let Some(tab) = self.tabs.get_mut(id) else {
            return UiResponse::None;
        };
        // A click anywhere in a pane makes its tab the one the toolbar and the shortcuts act on.
        let pressed_here = ui
            .input(|i| i.pointer.any_pressed() && i.pointer.interact_pos().is_some_and(|p| ui.max_rect().contains(p)));
        if pressed_here && *id != self.focused {
            self.actions.push(Action::Focus(*id));
        }
        let actions = ui
            .push_id(("tab", id.0), |ui| {
                tab_ui(ui, self.cx, tab, self.prefs, self.editing_quick)
            })
            .inner;
        self.actions
            .extend(actions.into_iter().map(|action| Action::Tab(*id, action)));
        UiResponse::None
    }

    fn tab_title_for_pane(&mut self, id: &TabId) -> egui::WidgetText {
        let Some(tab) = self.tabs.get(id) else {
            return "?".into();
        };
        let (dot, color) = match tab.dot() {
            Dot::Closed => ("○", egui::Color32::GRAY),
            Dot::Opening => ("◎", egui::Color32::from_rgb(230, 170, 40)),
            Dot::Open => ("●", egui::Color32::from_rgb(60, 180, 90)),
        };
        let mut job = egui::text::LayoutJob::default();
        let font = egui::TextStyle::Button.resolve(&egui::Style::default());
        job.append(dot, 0.0, egui::TextFormat::simple(font.clone(), color));
        // The focused tab (what the toolbar and shortcuts act on) is underlined.
        let format = egui::TextFormat {
            underline: if *id == self.focused {
                egui::Stroke::new(1.0, egui::Color32::GRAY)
            } else {
                egui::Stroke::NONE
            },
            ..egui::TextFormat::simple(font, egui::Color32::PLACEHOLDER)
        };
        job.append(&tab.title(self.cx.lang), 6.0, format);
        job.into()
    }

    /// No × on the tabs: its accessible name would be "Close", the session's own button. A tab closes from
    /// the toolbar, its context menu, a middle click or Ctrl+W, and the window asks first if its session is open.
    fn is_tab_closable(&self, _tiles: &Tiles<TabId>, _tile: TileId) -> bool {
        false
    }

    fn on_tab_button(&mut self, tiles: &mut Tiles<TabId>, tile: TileId, response: egui::Response) -> egui::Response {
        let Some(Tile::Pane(id)) = tiles.get(tile) else {
            return response;
        };
        let (id, t) = (*id, self.cx.t);
        if self.reveal == Some(id) {
            response.scroll_to_me(None);
        }
        if response.double_clicked() {
            self.actions.push(Action::StartRename(id));
        } else if response.middle_clicked() {
            self.actions.push(Action::CloseTab(id));
        } else if response.clicked() {
            self.actions.push(Action::Focus(id));
        }
        response
            .context_menu(|ui| {
                for (label, action) in [
                    (t.tabs.rename_tab, Action::StartRename(id)),
                    (t.tabs.duplicate_tab, Action::Duplicate(id)),
                    (t.tabs.split_tab, Action::Split(id)),
                    (t.tabs.close_tab, Action::CloseTab(id)),
                ] {
                    if ui.button(label).clicked() {
                        self.actions.push(action);
                        ui.close();
                    }
                }
            })
            .map_or(response.clone(), |menu| menu.response)
    }

    fn tab_bar_trailing_ui(
        &mut self,
        _tiles: &Tiles<TabId>,
        ui: &mut egui::Ui,
        _tile: TileId,
        _tabs: &egui_tiles::Tabs,
    ) {
        ui.add_space(4.0);
        if ui.button("+").on_hover_text(self.cx.t.tabs.tip_new_tab).clicked() {
            self.actions.push(Action::NewTab);
        }
    }

    fn simplification_options(&self) -> SimplificationOptions {
        SimplificationOptions {
            all_panes_must_have_tabs: true,
            ..SimplificationOptions::default()
        }
    }

    /// The window's own Ctrl+Tab goes through every tab, not only those of the container under the pointer.
    fn cycle_tabs_with_keyboard(&self) -> bool {
        false
    }
}

/// Above the tabs: what acts on the focused tab, and the window's language.
pub fn toolbar(ui: &mut egui::Ui, lang: Lang, focused: TabId, tabs: usize) -> Vec<Action> {
    let t = lang.texts();
    let mut actions = Vec::new();
    ui.horizontal_wrapped(|ui| {
        if ui.button(t.tabs.new_tab).on_hover_text(t.tabs.tip_new_tab).clicked() {
            actions.push(Action::NewTab);
        }
        if ui
            .button(t.tabs.duplicate_tab)
            .on_hover_text(t.tabs.tip_duplicate_tab)
            .clicked()
        {
            actions.push(Action::Duplicate(focused));
        }
        if ui
            .add_enabled(tabs > 1, egui::Button::new(t.tabs.split_tab))
            .on_hover_text(t.tabs.tip_split_tab)
            .clicked()
        {
            actions.push(Action::Split(focused));
        }
        if ui
            .button(t.tabs.close_tab)
            .on_hover_text(t.tabs.tip_close_tab)
            .clicked()
        {
            actions.push(Action::CloseTab(focused));
        }
        if ui.button(t.tabs.rename_tab).clicked() {
            actions.push(Action::StartRename(focused));
        }
        ui.separator();
        let mut chosen = lang;
        ui.selectable_value(&mut chosen, Lang::Zh, "中文")
            .on_hover_text(t.tabs.tip_language);
        ui.selectable_value(&mut chosen, Lang::En, "English")
            .on_hover_text(t.tabs.tip_language);
        if chosen != lang {
            actions.push(Action::SetLanguage(chosen));
        }
    });
    actions
}
