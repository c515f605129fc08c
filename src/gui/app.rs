//! The window: the global `Prefs`, the tabs (each a session of its own, kept in a map by id) and their layout
//! (an egui_tiles tree holding only ids). Every frame each tab drains its engine events, on show or not; the
//! panels return actions, and `apply` is the one place they are carried out.
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::{Receiver, Sender, unbounded};
use egui_tiles::{Container, Tile, TileId, Tree};

use crate::cli::Launch;
use crate::gui::dialog::{Chosen, FileDialogs, FilePurpose, SystemDialogs};
use crate::gui::frame_log::{CpuLog, FrameLog};
use crate::gui::glyph_atlas::GlyphAtlas;
use crate::gui::i18n::{Lang, Notice, Texts};
use crate::gui::tab::{FindAction, Picked, Tab, TabAction, TabId, share_history};
use crate::gui::tiles::rebuild_layout;
use crate::gui::ui::{self, Action, Cx, Typed};
use crate::net::CaptureFile;
use crate::session::launch::WindowSession;
use crate::settings::check;
use crate::settings::file::{self, Opened};
use crate::settings::load::LoadForm;
use crate::settings::saved::{self, Loaded, Saved};
use crate::settings::{Prefs, TabConfig};

/// New tab, close tab, next tab (and previous with Shift).
const NEW_TAB: egui::KeyboardShortcut = egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::T);
const CLOSE_TAB: egui::KeyboardShortcut = egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::W);
const NUMBER_KEYS: [egui::Key; 9] = [
    egui::Key::Num1,
    egui::Key::Num2,
    egui::Key::Num3,
    egui::Key::Num4,
    egui::Key::Num5,
    egui::Key::Num6,
    egui::Key::Num7,
    egui::Key::Num8,
    egui::Key::Num9,
];

pub struct WirepadApp {
    prefs: Prefs,
    lang: Lang,
    tabs: BTreeMap<TabId, Tab>,
    tree: Tree<TabId>,
    /// The tab the toolbar and the shortcuts act on (the one last clicked or switched to).
    focused: TabId,
    /// The tab brought forward since the last frame: the next frame scrolls its button into the tab strip.
    reveal: Option<TabId>,
    next_id: u64,
    /// A message for the whole window (settings that could not be read, a file that could not be written).
    notice: Option<Notice>,
    picked_tx: Sender<Picked>,
    picked_rx: Receiver<Picked>,
    dialogs: Arc<dyn FileDialogs>,
    /// One file dialog at a time: set while one is up.
    dialog_open: Arc<AtomicBool>,
    /// Where no file dialog exists: the tab and purpose of the path being typed, and the text so far.
    path_prompt: Option<(TabId, FilePurpose, String)>,
    editing_quick: Option<usize>,
    renaming: Option<(TabId, String)>,
    /// A tab with an open session the user asked to close: the window asks first.
    confirm_close: Option<TabId>,
    /// The window was asked to close while sessions are open: it asks first; `Quit` once the user said so.
    quit: Quit,
    frame_log: Option<FrameLog>,
    cpu_log: Option<CpuLog>,
    /// Started from the command line: its tabs are a one-off, and the tabs saved before stay saved as they were.
    saved_tabs: Option<Saved>,
    /// Sessions of closed tabs, still stopping on threads of their own.
    reapers: Vec<std::thread::JoinHandle<()>>,
    glyph_atlas: GlyphAtlas,
    /// The monospace font was readied for a flood (see `fonts::warm_up`).
    font_warmed: bool,
    repaint: egui::Context,
}

impl WirepadApp {
    /// A window with `configs` as its tabs (a default tab when empty).
    pub fn new(ctx: &egui::Context, prefs: Prefs, configs: Vec<TabConfig>) -> Self {
        ui::fonts::install(ctx);
        let lang = prefs.language.unwrap_or_else(Lang::from_system);
        let (picked_tx, picked_rx) = unbounded();
        let mut app = WirepadApp {
            prefs,
            lang,
            tabs: BTreeMap::new(),
            tree: Tree::empty(egui::Id::unique("wirepad-tabs")),
            focused: TabId(0),
            reveal: None,
            next_id: 0,
            notice: None,
            picked_tx,
            picked_rx,
            dialogs: Arc::new(SystemDialogs),
            dialog_open: Arc::new(AtomicBool::new(false)),
            path_prompt: None,
            editing_quick: None,
            renaming: None,
            confirm_close: None,
            quit: Quit::No,
            frame_log: FrameLog::from_env("WIREPAD_FRAME_LOG"),
            cpu_log: CpuLog::from_env(),
            saved_tabs: None,
            reapers: Vec::new(),
            glyph_atlas: GlyphAtlas::default(),
            font_warmed: false,
            repaint: ctx.clone(),
        };
        let configs = if configs.is_empty() {
            vec![TabConfig::for_lang(Lang::from_system())]
        } else {
            configs
        };
        let ids: Vec<TabId> = configs.into_iter().map(|config| app.insert_tab(config)).collect();
        app.tree = Tree::new_tabs(egui::Id::unique("wirepad-tabs"), ids.clone());
        app.focused = ids[0];
        app
    }

    /// With eframe's storage: the settings file as `run_gui` read it before eframe did (see `settings::file`),
    /// or the command line's sessions.
    pub fn from_creation(cc: &eframe::CreationContext<'_>, opened: &Opened, launches: &[Launch]) -> Self {
        Self::from_settings_file(&cc.egui_ctx, opened, Lang::from_system(), launches)
    }

    /// As `from_stored`, from what was read of the settings file; a file that could not be read whole is named
    /// in the notice with where it was kept.
    pub fn from_settings_file(ctx: &egui::Context, opened: &Opened, system: Lang, launches: &[Launch]) -> Self {
        let mut app = Self::from_stored(
            ctx,
            opened.app().map(str::to_owned),
            system,
            opened.copy_to.clone(),
            launches,
        );
        if opened.read.damage.is_some() || opened.window_dropped {
            let (mut fields, cut, kept) = match app.notice.take() {
                Some(Notice::SettingsDropped { fields, cut, kept, .. }) => (fields, cut, kept),
                _ => Default::default(),
            };
            if opened.window_dropped {
                fields.push(file::WINDOW_KEY.to_string());
            }
            app.notice = Some(Notice::SettingsDropped {
                fields,
                cut,
                damage: opened.read.damage.clone(),
                kept: opened.kept.clone().or(kept),
                left: opened.save_elsewhere.is_some(),
            });
        }
        app
    }

    /// `stored`: the window's entry in the settings file; `bad_copy`: where to keep it if a value in it cannot
    /// be used. Each part is read field by field and range-checked (`settings::saved`): an unreadable value
    /// gets its default, the window says which, once. With `launches` the window opens one tab per session
    /// instead of the saved tabs (which stay saved).
    pub fn from_stored(
        ctx: &egui::Context,
        stored: Option<String>,
        system: Lang,
        bad_copy: Option<PathBuf>,
        launches: &[Launch],
    ) -> Self {
        let Loaded {
            prefs,
            tabs,
            layout,
            focused,
            mut fixes,
        } = saved::load(stored.as_deref(), system);
        // A layout that is not a tree of exactly these tabs is rebuilt (egui_tiles would recurse forever in a
        // container that holds itself), and the window says so.
        let ids: BTreeSet<TabId> = tabs.iter().map(|(id, _)| TabId(*id)).collect();
        let tree = layout.as_deref().filter(|text| !text.is_empty()).and_then(|text| {
            let rebuilt = ron::from_str::<Tree<TabId>>(text)
                .ok()
                .and_then(|tree| rebuild_layout(&tree, &ids));
            if !matches!(rebuilt, Some((_, false))) {
                fixes.reset.push("layout".to_string());
            }
            rebuilt.map(|(tree, _)| tree)
        });
        let mut app = WirepadApp::new(ctx, prefs, vec![TabConfig::for_lang(system)]);
        if launches.is_empty() {
            app.restore(tabs, tree, focused.map(TabId));
        } else {
            app.launch(launches, system);
            // The saved tabs (migrated, if the file is from before tabs) are written back as they were.
            app.saved_tabs = Some(Saved {
                version: saved::VERSION,
                prefs: String::new(),
                tabs: tabs
                    .iter()
                    .map(|(id, config)| (*id, ron::to_string(config).unwrap_or_default()))
                    .collect(),
                layout: layout.unwrap_or_default(),
                focused: focused.unwrap_or(0),
            });
        }
        if !fixes.is_empty() {
            let kept = stored
                .zip(bad_copy)
                .and_then(|(text, path)| file::keep_copy(&path, text.as_bytes()).ok());
            app.notice = Some(Notice::SettingsDropped {
                fields: fixes.reset,
                cut: fixes.cut,
                damage: None,
                kept,
                left: false,
            });
        }
        app
    }

    /// The saved tabs (distinct ids) with their checked layout; without one, one row of tabs.
    fn restore(&mut self, tabs: Vec<(u64, TabConfig)>, layout: Option<Tree<TabId>>, focused: Option<TabId>) {
        if tabs.is_empty() {
            return;
        }
        let (picked, repaint) = (self.picked_tx.clone(), self.repaint.clone());
        self.tabs.clear();
        for (id, config) in tabs {
            self.next_id = self.next_id.max(id.saturating_add(1));
            self.tabs
                .insert(TabId(id), Tab::new(TabId(id), config, picked.clone(), repaint.clone()));
        }
        let ids: Vec<TabId> = self.tabs.keys().copied().collect();
        self.tree = layout.unwrap_or_else(|| Tree::new_tabs(egui::Id::unique("wirepad-tabs"), ids.clone()));
        self.focused = focused.filter(|id| self.tabs.contains_key(id)).unwrap_or(ids[0]);
        self.show_tab(self.focused);
    }

    /// One tab per command-line session, each opened (a load test: started) at once.
    fn launch(&mut self, launches: &[Launch], system: Lang) {
        self.tabs.clear();
        let opened: Vec<(TabId, TabAction)> = launches
            .iter()
            .map(|launch| match launch {
                Launch::Session(session) => (self.launch_session(session, system), TabAction::Open),
                Launch::Load(form) => {
                    let mut config = TabConfig::for_lang(system);
                    config.load_test = true;
                    config.load = LoadForm::clone(form);
                    (self.insert_tab(config), TabAction::StartLoad)
                }
            })
            .collect();
        let ids: Vec<TabId> = opened.iter().map(|(id, _)| *id).collect();
        self.tree = Tree::new_tabs(egui::Id::unique("wirepad-tabs"), ids.clone());
        self.focused = ids[0];
        // Two sessions (a server and its client, two devices) are shown side by side; more share one tab bar.
        if let [_, second] = ids[..] {
            self.split(second);
        }
        for (id, action) in opened {
            self.apply(Action::Tab(id, action));
        }
    }

    /// A session's tab, its fields, capture and script as the command line gave them; not yet open.
    fn launch_session(&mut self, launch: &WindowSession, system: Lang) -> TabId {
        let mut config = TabConfig::for_lang(system);
        let capture = config.apply_launch(launch);
        let cut = check::cut_to_send_box(&mut config.send.text);
        let id = self.insert_tab(config);
        if let Some(tab) = self.tabs.get_mut(&id) {
            if cut {
                tab.apply(TabAction::SendBoxFull);
            }
            tab.set_capture(capture);
            tab.set_pcap(launch.pcap.clone().map(CaptureFile::truncate));
            if launch.script.is_some() {
                tab.run_script_at_open();
            }
        }
        id
    }

    fn insert_tab(&mut self, config: TabConfig) -> TabId {
        let id = TabId(self.next_id);
        self.next_id += 1;
        let tab = Tab::new(id, config, self.picked_tx.clone(), self.repaint.clone());
        self.tabs.insert(id, tab);
        id
    }

    /// Tests and embedders choose how files are asked for.
    pub fn set_file_dialogs(&mut self, dialogs: Arc<dyn FileDialogs>) {
        self.dialogs = dialogs;
    }

    pub fn texts(&self) -> &'static Texts {
        self.lang.texts()
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    pub fn prefs(&self) -> &Prefs {
        &self.prefs
    }

    /// The focused tab: what the toolbar and the shortcuts act on.
    pub fn tab(&self) -> &Tab {
        self.tabs
            .get(&self.focused)
            .unwrap_or_else(|| unreachable!("the focused tab exists"))
    }

    pub fn tab_mut(&mut self) -> &mut Tab {
        self.tabs
            .get_mut(&self.focused)
            .unwrap_or_else(|| unreachable!("the focused tab exists"))
    }

    /// Every tab, in the order the tab bars show them.
    pub fn tab_ids(&self) -> Vec<TabId> {
        let mut ids = Vec::new();
        if let Some(root) = self.tree.root() {
            collect_panes(&self.tree, root, &mut ids);
        }
        ids
    }

    pub fn tab_by_id(&self, id: TabId) -> Option<&Tab> {
        self.tabs.get(&id)
    }

    /// Tabs on screen now (the active tab of each tab bar).
    pub fn shown_tabs(&self) -> BTreeSet<TabId> {
        self.tree
            .active_tiles()
            .into_iter()
            .filter_map(|tile| self.tree.tiles.get_pane(&tile).copied())
            .collect()
    }

    /// Whether the tabs are laid out side by side (the root is not a single tab bar).
    pub fn side_by_side(&self) -> bool {
        self.tree
            .root()
            .and_then(|root| self.tree.tiles.get_container(root))
            .is_some_and(|container| !matches!(container, Container::Tabs(_)))
    }

    /// The focused tab's last network error (in its current mode), in the window's language.
    pub fn error(&self) -> Option<String> {
        let tab = self.tab();
        tab.state.error(&tab.config, self.lang)
    }

    /// Why the focused tab's send box cannot be sent, or why its last send failed.
    pub fn send_error(&self) -> Option<String> {
        self.tab().state.send_error(self.lang)
    }

    pub fn notice(&self) -> Option<String> {
        self.notice.as_ref().map(|notice| self.lang.notice(notice))
    }

    pub fn dialog_open(&self) -> bool {
        self.dialog_open.load(Ordering::Acquire)
    }

    /// Whether a tab is asking to be closed.
    pub fn confirming_close(&self) -> Option<TabId> {
        self.confirm_close
    }

    pub fn apply(&mut self, action: Action) {
        if let Action::Tab(_, TabAction::ClearView) = action {
            self.glyph_atlas.start_over(&self.repaint);
        }
        match action {
            Action::Tab(id, TabAction::PickFile(purpose)) => self.pick(id, purpose),
            Action::Tab(id, action) => {
                if let Some(tab) = self.tabs.get_mut(&id) {
                    tab.apply(action);
                }
            }
            Action::NewTab => {
                let id = self.insert_tab(TabConfig::for_lang(self.lang));
                self.add_beside_focused(id);
            }
            Action::Duplicate(id) => {
                if let Some(tab) = self.tabs.get(&id) {
                    let mut config = tab.config.clone();
                    if !config.name.is_empty() {
                        config.name = format!("{} 2", config.name);
                    }
                    let id = self.insert_tab(config);
                    self.add_beside_focused(id);
                }
            }
            Action::CloseTab(id) => match self.tabs.get(&id) {
                Some(tab) if tab.state.is_open() => self.confirm_close = Some(id),
                Some(_) => self.close_tab(id),
                None => {}
            },
            Action::ConfirmClose(close) => {
                if let Some(id) = self.confirm_close.take()
                    && close
                {
                    self.close_tab(id);
                }
            }
            Action::ConfirmQuit(quit) => {
                self.quit = if quit { Quit::Confirmed } else { Quit::No };
                if quit {
                    self.repaint.send_viewport_cmd(egui::ViewportCommand::Close);
                }
            }
            Action::Split(id) => self.split(id),
            Action::Focus(id) => self.show_tab(id),
            Action::StartRename(id) => {
                if let Some(tab) = self.tabs.get(&id) {
                    self.renaming = Some((id, tab.config.name.clone()));
                }
            }
            Action::Rename(name) => {
                if let (Some((id, _)), Some(name)) = (self.renaming.take(), name)
                    && let Some(tab) = self.tabs.get_mut(&id)
                {
                    tab.config.name = name.trim().to_string();
                }
            }
            Action::SetLanguage(lang) => {
                self.lang = lang;
                self.prefs.language = Some(lang);
            }
            Action::DismissNotice => self.notice = None,
        }
    }

    /// A new tab goes into the focused tab's bar, after it, and is shown.
    fn add_beside_focused(&mut self, id: TabId) {
        let tile = self.tree.tiles.insert_pane(id);
        let bar = self
            .tree
            .tiles
            .find_pane(&self.focused)
            .and_then(|focused| self.tree.tiles.parent_of(focused).map(|bar| (bar, focused)));
        match bar {
            Some((bar, focused)) => {
                let index = match self.tree.tiles.get(bar) {
                    Some(Tile::Container(container)) => container
                        .children()
                        .position(|child| *child == focused)
                        .map_or(0, |i| i + 1),
                    _ => 0,
                };
                self.tree.move_tile_to_container(tile, bar, index, false);
            }
            None => {
                self.tree = Tree::new_tabs(
                    egui::Id::unique("wirepad-tabs"),
                    self.tab_ids().into_iter().chain([id]).collect(),
                )
            }
        }
        self.show_tab(id);
    }

    /// Puts the tab in a bar of its own to the right of everything else; side by side already, it joins the
    /// last column.
    fn split(&mut self, id: TabId) {
        let Some(tile) = self.tree.tiles.find_pane(&id) else {
            return;
        };
        let Some(root) = self.tree.root() else { return };
        if let Some(parent) = self.tree.tiles.parent_of(tile)
            && let Some(Tile::Container(container)) = self.tree.tiles.get_mut(parent)
        {
            if container.num_children() == 1 && parent != root {
                return;
            }
            container.remove_child(tile);
        }
        let bar = self.tree.tiles.insert_tab_tile(vec![tile]);
        let row = match self.tree.tiles.get_mut(root) {
            Some(Tile::Container(Container::Linear(linear))) if linear.dir == egui_tiles::LinearDir::Horizontal => {
                linear.add_child(bar);
                root
            }
            _ => self.tree.tiles.insert_horizontal_tile(vec![root, bar]),
        };
        self.tree.root = Some(row);
        self.tree.simplify(&egui_tiles::SimplificationOptions {
            all_panes_must_have_tabs: true,
            ..Default::default()
        });
        self.show_tab(id);
    }

    /// Makes `id` the focused tab and the active one of its bar.
    fn show_tab(&mut self, id: TabId) {
        if !self.tabs.contains_key(&id) {
            return;
        }
        self.focused = id;
        self.reveal = Some(id);
        self.tree
            .make_active(|_, tile| matches!(tile, Tile::Pane(pane) if *pane == id));
    }

    /// Closes the tab's session (on a reaper thread) and the tab; the last tab is replaced by a fresh one.
    fn close_tab(&mut self, id: TabId) {
        let Some(mut tab) = self.tabs.remove(&id) else { return };
        tab.close();
        self.reapers.extend(tab.take_reaper());
        self.reapers.retain(|reaper| !reaper.is_finished());
        if self.path_prompt.as_ref().is_some_and(|(tab, _, _)| *tab == id) {
            self.path_prompt = None;
        }
        let order = self.tab_ids();
        if let Some(tile) = self.tree.tiles.find_pane(&id) {
            self.tree.remove_recursively(tile);
        }
        if self.tabs.is_empty() {
            let fresh = self.insert_tab(TabConfig::for_lang(self.lang));
            self.tree = Tree::new_tabs(egui::Id::unique("wirepad-tabs"), vec![fresh]);
            self.focused = fresh;
            return;
        }
        if self.focused == id {
            // The neighbour before it, as a browser does.
            let index = order.iter().position(|tab| *tab == id).unwrap_or(0);
            let next = order
                .iter()
                .take(index)
                .rev()
                .chain(order.iter().skip(index + 1))
                .find(|tab| self.tabs.contains_key(tab));
            if let Some(next) = next.copied() {
                self.show_tab(next);
            }
        }
    }

    /// Ctrl+T, Ctrl+W, Ctrl+Tab (Shift: back), Ctrl+1…9.
    fn shortcuts(&mut self, ctx: &egui::Context) -> Vec<Action> {
        let order = self.tab_ids();
        let focused = self.focused;
        ctx.input_mut(|input| {
            let mut actions = Vec::new();
            if input.consume_shortcut(&NEW_TAB) {
                actions.push(Action::NewTab);
            }
            if input.consume_shortcut(&CLOSE_TAB) {
                actions.push(Action::CloseTab(focused));
            }
            for shift in [false, true] {
                let modifiers = egui::Modifiers {
                    shift,
                    ..egui::Modifiers::COMMAND
                };
                if input.consume_key(modifiers, egui::Key::Tab)
                    && let Some(index) = order.iter().position(|id| *id == focused)
                {
                    let step = if shift { order.len() - 1 } else { 1 };
                    actions.push(Action::Focus(order[(index + step) % order.len()]));
                }
            }
            for (index, key) in NUMBER_KEYS.iter().enumerate() {
                if input.consume_key(egui::Modifiers::COMMAND, *key)
                    && let Some(id) = order.get(index)
                {
                    actions.push(Action::Focus(*id));
                }
            }
            if input.consume_shortcut(&ui::CLEAR_VIEW) {
                actions.push(Action::Tab(focused, TabAction::ClearView));
            }
            if input.consume_shortcut(&ui::FIND) {
                actions.push(Action::Tab(focused, TabAction::Find(FindAction::Open)));
            }
            actions
        })
    }

    /// File dialogs run on their own thread, one at a time: the window never waits for them. Where no dialog
    /// can be shown the window asks for a typed path instead.
    fn pick(&mut self, id: TabId, purpose: FilePurpose) {
        if self.path_prompt.is_some() || self.dialog_open.swap(true, Ordering::AcqRel) {
            return;
        }
        let (tx, repaint, dialogs) = (self.picked_tx.clone(), self.repaint.clone(), self.dialogs.clone());
        let open = self.dialog_open.clone();
        let spawned = std::thread::Builder::new()
            .name("wirepad-file-dialog".into())
            .spawn(move || {
                let chosen = dialogs.choose(purpose);
                open.store(false, Ordering::Release);
                let _ = tx.send(Picked::Chosen(id, purpose, chosen));
                repaint.request_repaint();
            });
        if spawned.is_err() {
            self.dialog_open.store(false, Ordering::Release);
            self.path_prompt = Some((id, purpose, String::new()));
        }
    }

    /// What background work came back with, each to the tab that asked (a tab closed meanwhile gets nothing).
    fn take_picked(&mut self) {
        while let Ok(picked) = self.picked_rx.try_recv() {
            match picked {
                Picked::Chosen(id, purpose, Chosen::Path(path)) => {
                    if let Some(tab) = self.tabs.get_mut(&id) {
                        tab.chosen(purpose, path);
                    }
                }
                Picked::Chosen(_, _, Chosen::Cancelled) => {}
                Picked::Chosen(id, purpose, Chosen::Unavailable) => {
                    if self.tabs.contains_key(&id) {
                        self.path_prompt = Some((id, purpose, String::new()));
                    }
                }
                Picked::Notice(notice) => self.notice = Some(notice),
                Picked::Exported(id, notice) => {
                    if let Some(tab) = self.tabs.get_mut(&id) {
                        tab.exported();
                    }
                    if let Some(notice) = notice {
                        self.notice = Some(notice);
                    }
                }
                Picked::Copy(text) => self.repaint.copy_text(text),
                Picked::Imported(id, imported) => {
                    if let Some(tab) = self.tabs.get_mut(&id) {
                        tab.imported(imported);
                    }
                }
                Picked::CertMade(id, side, made) => {
                    if let Some(tab) = self.tabs.get_mut(&id) {
                        tab.cert_made(side, made);
                    }
                }
                Picked::Found(id, generation, batch) => {
                    if let Some(tab) = self.tabs.get_mut(&id) {
                        tab.found(generation, batch);
                    }
                }
            }
        }
    }

    /// Every tab's frame bookkeeping: background tabs keep draining, counting and capturing.
    pub fn logic(&mut self) {
        self.take_picked();
        self.share_history();
        let shown = self.shown_tabs();
        for (id, tab) in &mut self.tabs {
            tab.logic(&mut self.prefs, shown.contains(id));
        }
        self.reapers.retain(|reaper| !reaper.is_finished());
    }

    /// The tabs' histories share one budget (see `tab::budget`): a few steps per tab, nothing per chunk.
    fn share_history(&mut self) {
        share_history(self.tabs.values_mut(), self.prefs.history_mib as usize * 1024 * 1024);
    }

    fn show(&mut self, ui: &mut egui::Ui) -> Vec<Action> {
        self.hold_close(ui.ctx());
        let mut actions = self.shortcuts(ui.ctx());
        let tab_count = self.tabs.len();
        egui::Panel::top("toolbar").show(ui, |ui| {
            actions.extend(ui::tabs::toolbar(ui, self.lang, self.focused, tab_count));
            if let Some(notice) = self.notice()
                && ui::notice_bar(ui, self.texts(), &notice)
            {
                actions.push(Action::DismissNotice);
            }
        });
        let cx = Cx {
            t: self.lang.texts(),
            lang: self.lang,
            dialog_free: !self.dialog_open(),
        };
        let mut panes = ui::tabs::Panes {
            tabs: &mut self.tabs,
            prefs: &mut self.prefs,
            editing_quick: &mut self.editing_quick,
            cx,
            focused: self.focused,
            reveal: self.reveal.take(),
            actions: Vec::new(),
        };
        egui::CentralPanel::default()
            .frame(egui::Frame::central_panel(ui.style()).inner_margin(0.0))
            .show(ui, |ui| self.tree.ui(&mut panes, ui));
        actions.extend(panes.actions);
        actions.extend(self.dialogs_ui(ui));
        actions
    }

    /// Closing the window with sessions open waits for the user's word (their peers would be cut off), unless
    /// Ctrl+C or SIGTERM asked (`close_for_signal`): nobody is there to answer.
    fn hold_close(&mut self, ctx: &egui::Context) {
        let asked = ctx.input(|i| i.viewport().close_requested());
        let signalled = ctx
            .data(|d| d.get_temp::<bool>(egui::Id::unique(SIGNALLED)))
            .unwrap_or(false);
        if asked && !signalled && self.quit != Quit::Confirmed && self.open_sessions() > 0 {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.quit = Quit::Asking;
        }
    }

    /// Tabs whose session is open.
    pub fn open_sessions(&self) -> usize {
        self.tabs.values().filter(|tab| tab.state.is_open()).count()
    }

    /// The monospace font was readied for random bytes (`fonts::warm_up`).
    pub fn font_readied(&self) -> bool {
        self.font_warmed
    }

    /// The window asks whether to quit with sessions open.
    pub fn asking_to_quit(&self) -> bool {
        self.quit == Quit::Asking
    }

    /// "N sessions are open": quit, or keep the window.
    fn quit_ui(&self, ui: &mut egui::Ui) -> Vec<Action> {
        let t = self.texts();
        let mut actions = Vec::new();
        let modal = egui::Modal::new(egui::Id::unique("wirepad-confirm-quit")).show(ui.ctx(), |ui| {
            ui.label(t.tabs.confirm_quit.replace("{n}", &self.open_sessions().to_string()));
            ui.horizontal(|ui| {
                if ui.button(t.tabs.quit).clicked() {
                    actions.push(Action::ConfirmQuit(true));
                }
                if ui.button(t.tabs.keep_open).clicked() {
                    actions.push(Action::ConfirmQuit(false));
                }
            });
        });
        if modal.should_close() && actions.is_empty() {
            actions.push(Action::ConfirmQuit(false));
        }
        actions
    }

    /// The modal questions: a typed path, a tab's new name, closing an open session's tab, quitting.
    fn dialogs_ui(&mut self, ui: &mut egui::Ui) -> Vec<Action> {
        let mut actions = Vec::new();
        if self.quit == Quit::Asking {
            actions.extend(self.quit_ui(ui));
        }
        let t = self.texts();
        if let Some((id, purpose, text)) = &mut self.path_prompt {
            let (id, purpose) = (*id, *purpose);
            match ui::path_prompt(ui, self.lang, text) {
                Typed::Still => {}
                Typed::Path(path) => {
                    self.path_prompt = None;
                    if let Some(tab) = self.tabs.get_mut(&id) {
                        tab.chosen(purpose, path);
                    }
                }
                Typed::Cancelled => self.path_prompt = None,
            }
        }
        if let Some((_, name)) = &mut self.renaming {
            let modal = egui::Modal::new(egui::Id::unique("wirepad-rename-tab")).show(ui.ctx(), |ui| {
                let field = ui::labelled_field(ui, t.tabs.tab_name, name, 240.0);
                field.request_focus();
                let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                ui.horizontal(|ui| {
                    if ui.button(t.dialogs.ok).clicked() || entered {
                        actions.push(Action::Rename(Some(name.clone())));
                    }
                    if ui.button(t.dialogs.cancel).clicked() {
                        actions.push(Action::Rename(None));
                    }
                });
            });
            if modal.should_close() && actions.is_empty() {
                actions.push(Action::Rename(None));
            }
        }
        if let Some(id) = self.confirm_close {
            let title = self.tabs.get(&id).map(|tab| tab.title(self.lang)).unwrap_or_default();
            let modal = egui::Modal::new(egui::Id::unique("wirepad-confirm-close")).show(ui.ctx(), |ui| {
                ui.strong(title);
                ui.label(t.tabs.confirm_close_tab);
                ui.horizontal(|ui| {
                    if ui.button(t.tabs.close_tab).clicked() {
                        actions.push(Action::ConfirmClose(true));
                    }
                    if ui.button(t.tabs.keep_tab).clicked() {
                        actions.push(Action::ConfirmClose(false));
                    }
                });
            });
            if modal.should_close() && actions.is_empty() {
                actions.push(Action::ConfirmClose(false));
            }
        }
        actions
    }

    /// What eframe stores: the prefs, each tab's settings and the layout, each as its own RON text.
    pub fn saved_text(&self) -> String {
        let (tabs, layout, focused) = match &self.saved_tabs {
            Some(saved) => (saved.tabs.clone(), saved.layout.clone(), saved.focused),
            None => (
                self.tab_ids()
                    .into_iter()
                    .filter_map(|id| Some((id.0, ron::to_string(&self.tabs.get(&id)?.config).ok()?)))
                    .collect(),
                ron::to_string(&self.tree).unwrap_or_default(),
                self.focused.0,
            ),
        };
        let saved = Saved {
            version: saved::VERSION,
            prefs: ron::to_string(&self.prefs).unwrap_or_default(),
            tabs,
            layout,
            focused,
        };
        ron::to_string(&saved).unwrap_or_default()
    }
}

fn collect_panes(tree: &Tree<TabId>, tile: TileId, ids: &mut Vec<TabId>) {
    match tree.tiles.get(tile) {
        Some(Tile::Pane(id)) => ids.push(*id),
        Some(Tile::Container(container)) => {
            for child in container.children() {
                collect_panes(tree, *child, ids);
            }
        }
        None => {}
    }
}

/// Where `close_for_signal` leaves its mark for `hold_close`.
const SIGNALLED: &str = "wirepad-close-for-signal";

/// Closes the window for Ctrl+C or SIGTERM, as its close button does but without asking first: every session
/// still finishes its capture and pcap.
pub fn close_for_signal(ctx: &egui::Context) {
    ctx.data_mut(|d| d.insert_temp(egui::Id::unique(SIGNALLED), true));
    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
    ctx.request_repaint();
}

/// Where quitting with open sessions stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quit {
    No,
    Asking,
    Confirmed,
}

impl eframe::App for WirepadApp {
    fn logic(&mut self, ctx: &egui::Context, frame: &mut eframe::Frame) {
        self.glyph_atlas.step(ctx);
        // After the first frame is on screen (done in the first, it delayed a cold start's first paint by ~90 ms),
        // and only for a tab that shows received bytes: a load test's window has none, and there it was a frame of
        // 25-60 ms while its plots were live.
        if !self.font_warmed && self.tabs.values().any(|tab| !tab.config.load_test) {
            if ctx.cumulative_pass_nr() > 0 {
                ui::fonts::warm_up(ctx);
                self.font_warmed = true;
            } else {
                ctx.request_repaint();
            }
        }
        if let (Some(log), Some(cpu)) = (&mut self.frame_log, frame.info().cpu_usage) {
            log.record(cpu);
        }
        if let Some(log) = &mut self.cpu_log {
            log.record();
        }
        WirepadApp::logic(self);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        for action in self.show(ui) {
            self.apply(action);
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        storage.set_string(eframe::APP_KEY, self.saved_text());
    }
}

impl Drop for WirepadApp {
    /// The window is going away: every session must finish its capture before the process ends.
    fn drop(&mut self) {
        for tab in self.tabs.values_mut() {
            tab.close();
            self.reapers.extend(tab.take_reaper());
        }
        for reaper in self.reapers.drain(..) {
            let _ = reaper.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gui::tiles::MAX_LAYOUT_DEPTH;
    use egui_tiles::Tiles;

    /// A settings text with tabs 0 and 1 and the layout `make` builds (given the two panes' tiles).
    fn stored_with_layout(make: impl FnOnce(&mut Tiles<TabId>, TileId, TileId) -> TileId) -> String {
        let mut tiles = Tiles::default();
        let a = tiles.insert_pane(TabId(0));
        let b = tiles.insert_pane(TabId(1));
        let root = make(&mut tiles, a, b);
        let tree = Tree::new(egui::Id::unique("wirepad-tabs"), root, tiles);
        let tab = |name: &str| {
            ron::to_string(&TabConfig {
                name: name.into(),
                ..TabConfig::default()
            })
            .expect("ron")
        };
        let saved = Saved {
            version: 1,
            prefs: ron::to_string(&Prefs::default()).expect("ron"),
            tabs: vec![(0, tab("device A")), (1, tab("device B"))],
            layout: ron::to_string(&tree).expect("ron"),
            focused: 1,
        };
        ron::to_string(&saved).expect("ron")
    }

    fn add_child(tiles: &mut Tiles<TabId>, container: TileId, child: TileId) {
        match tiles.get_mut(container) {
            Some(Tile::Container(container)) => container.add_child(child),
            _ => panic!("not a container"),
        }
    }

    /// The window opens with both tabs in a layout of its own, and says the saved layout was dropped.
    fn opens_with_both_tabs(stored: String) {
        let ctx = egui::Context::default();
        let app = WirepadApp::from_stored(&ctx, Some(stored), Lang::En, None, &[]);
        assert_eq!(app.tab_ids(), vec![TabId(0), TabId(1)]);
        assert_eq!(app.tab().id, TabId(1), "the focused tab is kept");
        assert!(
            app.notice().is_some_and(|notice| notice.contains("layout")),
            "{:?}",
            app.notice()
        );
    }

    #[test]
    fn a_sound_layout_is_kept() {
        let stored = stored_with_layout(|tiles, a, b| {
            let left = tiles.insert_tab_tile(vec![a]);
            let right = tiles.insert_tab_tile(vec![b]);
            tiles.insert_horizontal_tile(vec![left, right])
        });
        let ctx = egui::Context::default();
        let app = WirepadApp::from_stored(&ctx, Some(stored), Lang::En, None, &[]);
        assert_eq!(app.notice(), None);
        assert!(app.side_by_side());
    }

    #[test]
    fn a_container_that_contains_itself_is_replaced() {
        opens_with_both_tabs(stored_with_layout(|tiles, a, b| {
            let bar = tiles.insert_tab_tile(vec![a, b]);
            add_child(tiles, bar, bar);
            bar
        }));
    }

    #[test]
    fn a_cycle_through_two_containers_is_replaced() {
        opens_with_both_tabs(stored_with_layout(|tiles, a, b| {
            let inner = tiles.insert_tab_tile(vec![b]);
            let outer = tiles.insert_vertical_tile(vec![a, inner]);
            add_child(tiles, inner, outer);
            outer
        }));
    }

    #[test]
    fn a_child_that_does_not_exist_is_replaced() {
        opens_with_both_tabs(stored_with_layout(|tiles, a, b| {
            let bar = tiles.insert_tab_tile(vec![a, b]);
            add_child(tiles, bar, TileId::from_u64(999));
            bar
        }));
    }

    #[test]
    fn a_tile_used_twice_is_replaced() {
        // The same pane in two tab bars.
        opens_with_both_tabs(stored_with_layout(|tiles, a, b| {
            let left = tiles.insert_tab_tile(vec![a, b]);
            let right = tiles.insert_tab_tile(vec![a]);
            tiles.insert_horizontal_tile(vec![left, right])
        }));
        // One tab shown by two panes.
        opens_with_both_tabs(stored_with_layout(|tiles, a, b| {
            let again = tiles.insert_pane(TabId(0));
            tiles.insert_tab_tile(vec![a, b, again])
        }));
    }

    #[test]
    fn a_layout_nested_too_deep_is_replaced() {
        opens_with_both_tabs(stored_with_layout(|tiles, a, b| {
            let mut tile = tiles.insert_tab_tile(vec![a, b]);
            for _ in 0..=MAX_LAYOUT_DEPTH {
                tile = tiles.insert_tab_tile(vec![tile]);
            }
            tile
        }));
    }

    #[test]
    fn a_pane_of_a_tab_that_does_not_exist_is_replaced() {
        opens_with_both_tabs(stored_with_layout(|tiles, a, _| {
            let stray = tiles.insert_pane(TabId(7));
            tiles.insert_tab_tile(vec![a, stray])
        }));
    }
}
