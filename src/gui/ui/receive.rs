//! The receive pane: virtualized rows (only the visible ones are laid out), RX/TX told apart by colour and arrow.
use std::collections::HashMap;
use std::net::SocketAddr;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::codec::text::TextEncoding;

use crate::export::find::Highlight;
use crate::gui::i18n::Texts;
use crate::gui::tab::{FindAction, TabAction as Action, TabId, TabState};
use crate::gui::ui::pairs::leave_reason;
use crate::gui::ui::{Cx, find_bar};
use crate::history::{Direction, Note, Way};
use crate::settings::TabConfig;
use crate::view::{Row, RowKind, View, char_width};

pub fn receive_pane(ui: &mut egui::Ui, cx: Cx, id: TabId, config: &mut TabConfig, state: &TabState) -> Vec<Action> {
    let view = state.view();
    // A client has one peer; a server's clients and UDP's senders can be told apart.
    let many_peers = config.mode.caps().many_peers;
    let mut filter = view.options().peer_filter.filter(|_| many_peers);
    // A relay: the way its bytes go, too.
    let forwards = config.mode.caps().forwards;
    let mut way = view.options().way_filter.filter(|_| forwards);
    let filters = Filters {
        peer: many_peers.then_some(&mut filter),
        way: forwards.then_some(&mut way),
    };
    let mut actions = toolbar(ui, cx, config, state, filters);
    if state.finder().open {
        actions.extend(find_bar::find_bar(ui, cx, id, config, state));
    }
    // Esc drops the selection unless a field has the keyboard (or the find bar just closed on it).
    let escape = ui.input(|i| i.key_pressed(egui::Key::Escape));
    if escape
        && view.selection().is_some()
        && ui.memory(|m| m.focused().is_none())
        && !actions.contains(&Action::Find(FindAction::Close))
    {
        actions.push(Action::ClearSelection);
    }
    if state.paused() {
        ui.colored_label(ui.visuals().warn_fg_color, cx.t.receive.paused);
    }
    let metrics = Metrics::of(ui);
    actions.push(Action::Layout {
        filter,
        way,
        columns: metrics.columns,
    });
    actions.extend(rows(ui, cx, id, config.receive.wrap, state, metrics, many_peers));
    actions
}

/// The view's filters a kind has: by peer (a relay: by pair) where there are many, by way in a relay.
struct Filters<'a> {
    peer: Option<&'a mut Option<SocketAddr>>,
    way: Option<&'a mut Option<Way>>,
}

/// Find, plot, the filters and the selection's count.
fn toolbar(ui: &mut egui::Ui, cx: Cx, config: &mut TabConfig, state: &TabState, filters: Filters) -> Vec<Action> {
    let t = cx.t;
    let (view, finder) = (state.view(), state.finder());
    let mut actions = Vec::new();
    // Wrapped: a toolbar wider than a narrow view would widen the rows under it past the view's edge.
    ui.horizontal_wrapped(|ui| {
        if ui
            .selectable_label(finder.open, t.find.find)
            .on_hover_text(t.find.tip_find)
            .clicked()
        {
            let action = if finder.open {
                FindAction::Close
            } else {
                FindAction::Open
            };
            actions.push(Action::Find(action));
        }
        ui.checkbox(&mut config.show_plot, t.plot.plot)
            .on_hover_text(t.plot.tip_plot);
        if let Some(filter) = filters.peer {
            peer_filter(ui, cx, state, filter);
        }
        if let Some(way) = filters.way {
            way_filter(ui, cx, way);
        }
        if view.selection().is_some() {
            ui.label(format!("{} {}", t.receive.rows_selected, view.selected_rows()));
            if ui.button(t.receive.clear_selection).clicked() {
                actions.push(Action::ClearSelection);
            }
        }
    });
    actions
}

fn peer_filter(ui: &mut egui::Ui, cx: Cx, state: &TabState, filter: &mut Option<SocketAddr>) {
    let t = cx.t;
    let label = ui.label(t.receive.filter);
    egui::ComboBox::from_id_salt("peer-filter")
        .selected_text(filter.map_or_else(|| t.common.all_peers.to_string(), |p| p.to_string()))
        .show_ui(ui, |ui| {
            ui.selectable_value(filter, None, t.common.all_peers);
            // Whoever is connected now, and the last peers whose data arrived (not every peer the history holds).
            let peers = state.filter_peers();
            for peer in peers {
                ui.selectable_value(filter, Some(peer), peer.to_string());
            }
        })
        .response
        .labelled_by(label.id)
        .on_hover_text(t.receive.tip_filter);
}

/// A relay's bytes one way only, or both.
fn way_filter(ui: &mut egui::Ui, cx: Cx, way: &mut Option<Way>) {
    let t = cx.t;
    let name = |way: Option<Way>| way.map_or(t.relay.both_ways, |way| way_name(t, way));
    let label = ui.label(t.relay.way);
    egui::ComboBox::from_id_salt("way-filter")
        .selected_text(name(*way))
        .show_ui(ui, |ui| {
            for choice in [None, Some(Way::ToUpstream), Some(Way::ToClient)] {
                ui.selectable_value(way, choice, name(choice));
            }
        })
        .response
        .labelled_by(label.id)
        .on_hover_text(t.relay.tip_way_filter);
}

/// "C → U" or "U → C", as the headers and the command line's `--log` say it.
pub(crate) fn way_name(t: &Texts, way: Way) -> &'static str {
    match way {
        Way::ToUpstream => t.relay.to_upstream,
        Way::ToClient => t.relay.to_client,
    }
}

/// The monospace grid the rows are laid out on.
#[derive(Clone, Copy)]
struct Metrics {
    row_height: f32,
    /// The selecting strip left of each row.
    gutter: f32,
    /// Characters a row holds.
    columns: usize,
}

impl Metrics {
    fn of(ui: &egui::Ui) -> Metrics {
        let font = egui::TextStyle::Monospace.resolve(ui.style());
        let row_height = ui.fonts_mut(|fonts| fonts.row_height(&font));
        let char_width = ui.fonts_mut(|fonts| fonts.glyph_width(&font, '0')).max(1.0);
        // Rows are selected by clicking a narrow gutter left of them: a click or Shift+click on the text itself
        // stays egui's text selection, for copying part of a row.
        let gutter = (char_width * 1.5).round();
        let gutter_room = gutter + ui.spacing().item_spacing.x;
        let columns = ((ui.available_width() - 24.0 - gutter_room) / char_width)
            .floor()
            .max(16.0) as usize;
        Metrics {
            row_height,
            gutter,
            columns,
        }
    }
}

/// The view's rows, only the visible ones laid out, scrolled where the reader left them or to the current match.
fn rows(
    ui: &mut egui::Ui,
    cx: Cx,
    id: TabId,
    wrap: bool,
    state: &TabState,
    metrics: Metrics,
    many_peers: bool,
) -> Vec<Action> {
    let (view, finder) = (state.view(), state.finder());
    let row_height = metrics.row_height;
    let mut actions = Vec::new();
    // No gap between rows: a million rows must stay within what f32 scroll offsets resolve to the pixel.
    ui.spacing_mut().item_spacing.y = 0.0;
    let scroll = if wrap {
        egui::ScrollArea::vertical()
    } else {
        egui::ScrollArea::both()
    };
    // Each tab remembers its own place.
    let memory = egui::Id::unique(("wirepad-receive-scroll", id));
    let last: Option<ScrollMemory> = ui.data(|d| d.get_temp(memory));
    let current = finder.current_row(view);
    let (scroll, jump) = place(scroll, last, state, current, row_height);
    let shown = Shown {
        view,
        marks: [finder.highlight(false), finder.highlight(true)],
        current,
        many_peers,
    };
    let output = scroll
        .auto_shrink([false, false])
        // A view following new data lets go of the bottom for a jump to a match.
        .stick_to_bottom(jump.is_none())
        .show_rows(ui, row_height, view.rows(), |ui, range| {
            let mut glyphs = Glyphs::take(ui);
            let first = range.start;
            for (index, row) in (first..).zip(view.rows_in(range)) {
                actions.extend(row_ui(ui, cx, &shown, metrics, &mut glyphs, index, &row));
            }
            if glyphs.deferred {
                ui.ctx().request_repaint();
            }
            glyphs.put_back(ui);
        });
    let offset = output.state.clamped_offset().y;
    let max_offset = output.content_size.y - output.inner_rect.height();
    // A jump is done once made to a view laid out in full. One whose row the view does not hold yet waits for it;
    // one made while the view is laid out again is made again each frame until then, as egui clamps an offset
    // past the rows laid out so far to their end, and the view would follow new data from there.
    let unfinished = (current.is_none() && finder.current().is_some()) || (jump.is_some() && view.catching_up());
    let seen = ScrollMemory {
        jumps: if unfinished {
            last.map_or(0, |last| last.jumps)
        } else {
            finder.jumps()
        },
        rebuilds: if unfinished {
            last.map_or(0, |last| last.rebuilds)
        } else {
            view.rebuilds()
        },
        rows_removed: view.rows_removed_total(),
        offset,
        at_bottom: !unfinished && offset >= max_offset - row_height / 2.0,
        viewport: output.inner_rect.height(),
    };
    ui.data_mut(|d| d.insert_temp(memory, seen));
    actions
}

/// Where the rows are scrolled to this frame, and the current match's row if it is jumped to.
fn place(
    mut scroll: egui::ScrollArea,
    last: Option<ScrollMemory>,
    state: &TabState,
    current: Option<usize>,
    row_height: f32,
) -> (egui::ScrollArea, Option<usize>) {
    let (view, finder) = (state.view(), state.finder());
    // Rows that fell out of the byte budget shift every row up; a reader scrolled up keeps their place.
    let removed = view.rows_removed_total();
    match last {
        Some(last) if !last.at_bottom && removed > last.rows_removed => {
            let shift = (removed - last.rows_removed) as f32 * row_height;
            scroll = scroll.vertical_scroll_offset((last.offset - shift).max(0.0));
        }
        // A view following new data shows its newest rows. egui's own offset is the last frame's bottom: when
        // more rows fell out than arrived it points past the end, and the frame drew no rows at all.
        Some(last) if last.at_bottom => {
            let bottom = view.rows() as f32 * row_height - last.viewport;
            scroll = scroll.vertical_scroll_offset(bottom.max(0.0));
        }
        _ => {}
    }
    // A move to another match scrolls it into view, a few rows below the top; so does a view laid out again (a
    // new width, a setting) while the bar is open, which would otherwise end at its newest rows.
    let relaid = |last: ScrollMemory| finder.open && !last.at_bottom && last.rebuilds != view.rebuilds();
    let jump = current.filter(|_| last.is_none_or(|last| last.jumps != finder.jumps() || relaid(last)));
    if let Some(row) = jump {
        scroll = scroll.vertical_scroll_offset((row.saturating_sub(3) as f32 * row_height).max(0.0));
    }
    (scroll, jump)
}

/// Which characters the fonts can draw, remembered for the whole window: egui asks fontique's fallback families
/// anew each time, and rows of random bytes ask for hundreds of characters a frame.
///
/// A character met for the first time costs: a search of the system's fonts (fontconfig) when the bundled ones
/// lack it, then its glyph drawn into the font atlas (a hinted TrueType glyph runs the font's bytecode). A screen
/// of random bytes meets hundreds, so a frame meets new characters only within [`Self::ROWS_BUDGET`] of starting
/// its rows (but [`Self::AT_LEAST`] of them in any case), and at most [`Self::NEW_GLYPHS`]. The rest show as
/// blanks of their width for a frame or a few, as a browser leaves text blank until its font has loaded.
struct Glyphs {
    known: Known,
    /// This frame's: when its rows started, characters first found drawable.
    rows_started: Instant,
    new_glyphs: usize,
    /// A character was left for a later frame.
    deferred: bool,
}

/// The characters asked about so far, and whether a font has them.
#[derive(Clone, Default)]
struct Known {
    family: Option<egui::FontFamily>,
    drawn: HashMap<char, bool>,
}

/// Whether a character is drawn: by a loaded font, not at all (shown as its bytes), or in a later frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Glyph {
    Drawn,
    Missing,
    Later,
}

impl Glyphs {
    /// Characters remembered before the list starts again (random text has few distinct ones).
    const MAX: usize = 64 * 1024;
    const ROWS_BUDGET: Duration = Duration::from_millis(3);
    const NEW_GLYPHS: usize = 48;
    const AT_LEAST: usize = 16;

    fn id() -> egui::Id {
        egui::Id::unique("wirepad-receive-glyphs")
    }

    /// The window's list, with this frame's budget.
    fn take(ui: &egui::Ui) -> Glyphs {
        Self::for_frame(ui.data_mut(|d| d.remove_temp(Self::id())).unwrap_or_default())
    }

    fn for_frame(known: Known) -> Glyphs {
        Glyphs {
            known,
            rows_started: Instant::now(),
            new_glyphs: 0,
            deferred: false,
        }
    }

    fn put_back(self, ui: &egui::Ui) {
        ui.data_mut(|d| d.insert_temp(Self::id(), self.known));
    }

    fn has(&mut self, fonts: &mut egui::epaint::text::FontsView<'_>, font_id: &egui::FontId, c: char) -> Glyph {
        let known = &mut self.known;
        if known.family.as_ref() != Some(&font_id.family) || known.drawn.len() >= Self::MAX {
            known.drawn.clear();
            known.family = Some(font_id.family.clone());
        }
        if let Some(&drawn) = known.drawn.get(&c) {
            return if drawn { Glyph::Drawn } else { Glyph::Missing };
        }
        // A few a frame whatever the clock says, so a slow machine still gets there.
        let late = self.new_glyphs >= Self::AT_LEAST && self.rows_started.elapsed() >= Self::ROWS_BUDGET;
        if self.new_glyphs >= Self::NEW_GLYPHS || late {
            self.deferred = true;
            return Glyph::Later;
        }
        let drawn = fonts.has_glyph(font_id, c);
        self.new_glyphs += usize::from(drawn);
        self.known.drawn.insert(c, drawn);
        if drawn { Glyph::Drawn } else { Glyph::Missing }
    }
}

/// What every row is drawn against.
struct Shown<'a> {
    view: &'a View,
    /// The find bar's marks on text rows and on hex rows.
    marks: [Option<&'a Highlight>; 2],
    /// The current match's row.
    current: Option<usize>,
    many_peers: bool,
}

/// One row: its gutter (a click selects it) and its text, with the find bar's matches marked.
fn row_ui(
    ui: &mut egui::Ui,
    cx: Cx,
    shown: &Shown,
    metrics: Metrics,
    glyphs: &mut Glyphs,
    index: usize,
    row: &Row,
) -> Option<Action> {
    let view = shown.view;
    let color = match (row.way, row.direction) {
        (Some(way), Direction::Rx) => way_color(ui, way),
        _ => row_color(ui, row.direction, row.peer, row.kind, shown.many_peers),
    };
    let ranges = match shown.marks[usize::from(view.options().hex)] {
        Some(mark) if row.kind == RowKind::Data => mark.ranges(&row.text),
        _ => Vec::new(),
    };
    let font_id = egui::TextStyle::Monospace.resolve(ui.style());
    let encoding = view.options().encoding;
    let escaped = ranges.is_empty().then(|| {
        ui.fonts_mut(|fonts| without_boxes(&row.text, &row.malformed, |c| glyphs.has(fonts, &font_id, c), encoding))
    });
    let label = if let RowKind::Note(note) = row.kind {
        egui::Label::new(
            egui::RichText::new(format!("{} {}", row.text, note_words(cx.t, note)))
                .monospace()
                .color(color),
        )
    } else if let Some(Some((text, escapes))) = escaped {
        egui::Label::new(escaped_galley(ui, font_id, text, &escapes, color))
    } else if ranges.is_empty() {
        egui::Label::new(egui::RichText::new(&row.text).monospace().color(color))
    } else {
        egui::Label::new(marked(ui, &row.text, &ranges, color, shown.current == Some(index)))
    };
    // Exactly a row high (`horizontal` would take the height of a button), as `show_rows` counts on.
    let size = egui::vec2(ui.available_width(), metrics.row_height);
    let mut action = None;
    ui.allocate_ui_with_layout(size, egui::Layout::left_to_right(egui::Align::Min), |ui| {
        let selected = view.is_selected(row);
        if select_gutter(ui, cx, metrics.gutter, metrics.row_height, selected)
            && let Some(seqs) = view.row_seqs(index)
        {
            let extend = ui.input(|i| i.modifiers.shift);
            action = Some(Action::SelectRows { seqs, extend });
        }
        // A header cut to the view's width (whole on hover), so a narrow view does not clip it mid-address;
        // data rows are laid out to the view's columns already.
        let mode = match row.kind {
            RowKind::Header | RowKind::Note(_) => egui::TextWrapMode::Truncate,
            RowKind::Data => egui::TextWrapMode::Extend,
        };
        ui.add(label.selectable(true).wrap_mode(mode));
    });
    action
}

#[derive(Clone, Copy)]
struct ScrollMemory {
    /// The find bar's jumps already scrolled to.
    jumps: u64,
    /// The view's rebuilds seen.
    rebuilds: u64,
    rows_removed: u64,
    offset: f32,
    at_bottom: bool,
    /// The height the rows were shown in.
    viewport: f32,
}

/// The strip left of a row that selects it (true when clicked); a selected row gets a fill behind its whole width.
fn select_gutter(ui: &mut egui::Ui, cx: Cx, width: f32, height: f32, selected: bool) -> bool {
    let (rect, response) = ui.allocate_exact_size(egui::vec2(width, height), egui::Sense::click());
    response.widget_info(|| egui::WidgetInfo::selected(egui::Role::Button, true, selected, cx.t.receive.select_row));
    let visuals = ui.visuals();
    if selected {
        let row = egui::Rect::from_x_y_ranges(ui.clip_rect().x_range(), rect.y_range());
        ui.painter()
            .rect_filled(row, 0.0, visuals.selection.bg_fill.gamma_multiply(0.45));
        let mark = rect.shrink2(egui::vec2(width * 0.3, 1.0));
        ui.painter().rect_filled(mark, 1.0, visuals.selection.bg_fill);
    } else if response.hovered() {
        ui.painter()
            .rect_filled(rect, 0.0, visuals.widgets.hovered.weak_bg_fill);
    }
    response
        .on_hover_cursor(egui::CursorIcon::PointingHand)
        .on_hover_text(cx.t.receive.tip_select_row)
        .clicked()
}

/// `text` with every character no loaded font can draw written as its bytes in `encoding` (`\xF0\xA0\x80\x80`,
/// as the send box reads them), and where those escapes and the `malformed` sequences' (already escaped) are;
/// `None` when there are none. egui would draw a box, which tells nothing of what arrived. A character left for a
/// later frame is a blank of its width.
fn without_boxes(
    text: &str,
    malformed: &[Range<usize>],
    mut glyph: impl FnMut(char) -> Glyph,
    encoding: TextEncoding,
) -> Option<(String, Vec<Range<usize>>)> {
    if malformed.is_empty() && (text.is_ascii() || text.chars().all(|c| glyph(c) == Glyph::Drawn)) {
        return None;
    }
    let (mut out, mut escapes) = (String::with_capacity(text.len() + 16), Vec::new());
    let mut utf8 = [0; 4];
    let mut at = 0;
    for range in malformed.iter().chain([&(text.len()..text.len())]) {
        for c in text.get(at..range.start).unwrap_or_default().chars() {
            match if c.is_ascii() { Glyph::Drawn } else { glyph(c) } {
                Glyph::Drawn => {
                    out.push(c);
                    continue;
                }
                Glyph::Later => {
                    out.extend(std::iter::repeat_n(' ', char_width(c)));
                    continue;
                }
                Glyph::Missing => {}
            }
            let bytes = encoding
                .encode(c.encode_utf8(&mut utf8))
                .unwrap_or_else(|_| utf8[..c.len_utf8()].to_vec());
            let start = out.len();
            for byte in bytes {
                out.push_str(&format!("\\x{byte:02X}"));
            }
            escapes.push(start..out.len());
        }
        let start = out.len();
        out.push_str(text.get(range.clone()).unwrap_or_default());
        if start < out.len() {
            escapes.push(start..out.len());
        }
        at = range.end;
    }
    Some((out, escapes))
}

/// A row whose escapes (see [`without_boxes`]) are told from the text by their colour. It is laid out as one
/// section and its escapes' glyphs are coloured afterwards: egui shapes each section on its own, with a shaping
/// plan made anew each time, and a row of random bytes alternates text and escapes some forty times.
fn escaped_galley(
    ui: &egui::Ui,
    font_id: egui::FontId,
    text: String,
    escapes: &[Range<usize>],
    color: egui::Color32,
) -> Arc<egui::Galley> {
    let job = egui::text::LayoutJob::simple_singleline(text, font_id, color);
    let galley = ui.fonts_mut(|fonts| fonts.layout_job(job));
    recolored(galley, escapes, ESCAPE_COLOR)
}

/// `galley` with the glyphs of the characters at `ranges` (byte ranges of its text, in order) in `color`.
fn recolored(galley: Arc<egui::Galley>, ranges: &[Range<usize>], color: egui::Color32) -> Arc<egui::Galley> {
    if ranges.is_empty() {
        return galley;
    }
    let mut galley = Arc::unwrap_or_clone(galley);
    let job = galley.job.clone();
    let mut places = GlyphPlaces::new(&job.text);
    let mut ranges = ranges.iter().peekable();
    for placed in &mut galley.rows {
        let row = Arc::make_mut(&mut placed.row);
        for glyph in &row.glyphs {
            let Some(at) = places.of(glyph.chr) else {
                return Arc::new(galley);
            };
            while ranges.next_if(|range| range.end <= at).is_some() {}
            let escaped = ranges.peek().is_some_and(|range| range.contains(&at));
            if escaped && !glyph.uv_rect.is_nothing() {
                let first = glyph.first_vertex as usize;
                for vertex in row.visuals.mesh.vertices.iter_mut().skip(first).take(4) {
                    vertex.color = color;
                }
            }
        }
    }
    Arc::new(galley)
}

/// Where in a galley's text each of its glyphs, in order, comes from, told by the glyph's character: a shaper may
/// give a character more than one glyph (all of them that character's), or drop one (a stray combining mark).
struct GlyphPlaces<'a> {
    chars: std::iter::Peekable<std::str::CharIndices<'a>>,
    last: Option<(usize, char)>,
}

impl<'a> GlyphPlaces<'a> {
    fn new(text: &'a str) -> Self {
        GlyphPlaces {
            chars: text.char_indices().peekable(),
            last: None,
        }
    }

    /// The byte offset of the next glyph's character `c`; `None` once the text has no more of it.
    fn of(&mut self, c: char) -> Option<usize> {
        let at = match (self.chars.next_if(|&(_, next)| next == c), self.last) {
            (Some((at, _)), _) => at,
            (None, Some((at, last))) if last == c => at,
            (None, _) => self.chars.by_ref().find(|&(_, next)| next == c)?.0,
        };
        self.last = Some((at, c));
        Some(at)
    }
}

/// Bytes shown as escapes, readable on a dark and a light background alike.
const ESCAPE_COLOR: egui::Color32 = egui::Color32::from_rgb(214, 120, 40);

/// A row with the find bar's matches marked; those on the current match's row stand out more.
fn marked(
    ui: &egui::Ui,
    text: &str,
    ranges: &[std::ops::Range<usize>],
    color: egui::Color32,
    current: bool,
) -> egui::text::LayoutJob {
    let font_id = egui::TextStyle::Monospace.resolve(ui.style());
    let plain = egui::TextFormat::simple(font_id, color);
    let mark = egui::TextFormat {
        background: if current {
            egui::Color32::from_rgb(255, 150, 40)
        } else {
            egui::Color32::from_rgb(250, 220, 80)
        },
        color: egui::Color32::BLACK,
        ..plain.clone()
    };
    let mut job = egui::text::LayoutJob::default();
    let mut at = 0;
    for range in ranges {
        job.append(&text[at..range.start], 0.0, plain.clone());
        job.append(&text[range.clone()], 0.0, mark.clone());
        at = range.end;
    }
    job.append(&text[at..], 0.0, plain);
    job
}

/// A note row's words: "connected", or "disconnected (reset)".
fn note_words(t: &Texts, note: Note) -> String {
    match note {
        Note::Connected => t.receive.note_connected.to_owned(),
        Note::Disconnected(reason) => format!("{} ({})", t.receive.note_disconnected, leave_reason(t, reason)),
    }
}

/// Headers are coloured per peer, and so is received data where several peers talk (server, UDP), so they are
/// told apart in stream mode too; TX data is blue-ish.
fn row_color(ui: &egui::Ui, direction: Direction, peer: SocketAddr, kind: RowKind, many_peers: bool) -> egui::Color32 {
    let dark = ui.visuals().dark_mode;
    match (kind, direction) {
        (RowKind::Header, _) => peer_color(peer, dark),
        (RowKind::Note(_), _) => ui.visuals().weak_text_color(),
        (RowKind::Data, Direction::Rx) if many_peers => peer_color(peer, dark),
        (RowKind::Data, Direction::Tx) => {
            if dark {
                egui::Color32::from_rgb(110, 170, 255)
            } else {
                egui::Color32::from_rgb(20, 80, 200)
            }
        }
        (RowKind::Data, Direction::Rx) => ui.visuals().text_color(),
    }
}

/// A relay's bytes, a colour each way (green towards the upstream, orange towards the client); injected bytes
/// stay TX blue.
fn way_color(ui: &egui::Ui, way: Way) -> egui::Color32 {
    let dark = ui.visuals().dark_mode;
    match (way, dark) {
        (Way::ToUpstream, true) => egui::Color32::from_rgb(120, 210, 120),
        (Way::ToUpstream, false) => egui::Color32::from_rgb(20, 120, 40),
        (Way::ToClient, true) => egui::Color32::from_rgb(240, 170, 90),
        (Way::ToClient, false) => egui::Color32::from_rgb(170, 80, 0),
    }
}

fn peer_color(peer: SocketAddr, dark: bool) -> egui::Color32 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    peer.hash(&mut hasher);
    // Any hue but the blues, which mean TX.
    let degrees = (hasher.finish() % 300) as f32;
    let hue = if degrees >= 190.0 { degrees + 60.0 } else { degrees } / 360.0;
    let (saturation, value) = if dark { (0.55, 0.95) } else { (0.8, 0.55) };
    egui::ecolor::Hsva::new(hue, saturation, value, 1.0).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fonts that draw every character but `these`, which are `glyph`.
    fn drawn_but(these: &'static [char], glyph: Glyph) -> impl Fn(char) -> Glyph + Copy {
        move |c| if these.contains(&c) { glyph } else { Glyph::Drawn }
    }

    #[test]
    // Lists of escapes' places, some of one.
    #[allow(clippy::single_range_in_vec_init)]
    fn characters_no_font_draws_show_as_their_bytes_in_the_view_encoding() {
        let drawable = drawn_but(&['𠀀', '你'], Glyph::Missing);
        assert_eq!(
            without_boxes("plain ascii", &[], |_| Glyph::Missing, TextEncoding::UTF8),
            None
        );
        assert_eq!(without_boxes("好的", &[], drawable, TextEncoding::UTF8), None);
        // (text, malformed sequences' escapes in it, encoding, shown, escapes)
        type Case<'a> = (&'a str, &'a [Range<usize>], TextEncoding, &'a str, &'a [Range<usize>]);
        let cases: &[Case] = &[
            (
                "a𠀀b你",
                &[],
                TextEncoding::UTF8,
                "a\\xF0\\xA0\\x80\\x80b\\xE4\\xBD\\xA0",
                &[1..17, 18..30],
            ),
            (
                "你好你",
                &[],
                TextEncoding::GBK,
                "\\xC4\\xE3好\\xC4\\xE3",
                &[0..8, 11..19],
            ),
            // A malformed sequence's escapes keep their place and are marked alike.
            (
                "ok \\xC4 你",
                &[3..7],
                TextEncoding::UTF8,
                "ok \\xC4 \\xE4\\xBD\\xA0",
                &[3..7, 8..20],
            ),
            ("\\xC4", &[0..4], TextEncoding::UTF8, "\\xC4", &[0..4]),
        ];
        for &(text, malformed, encoding, shown, escapes) in cases {
            let (out, ranges) = without_boxes(text, malformed, drawable, encoding).expect("escaped");
            assert_eq!((out.as_str(), ranges.as_slice()), (shown, escapes), "{text}");
        }
    }

    #[test]
    fn a_frame_meets_so_many_new_characters_and_the_frames_after_it_the_rest() {
        let ctx = egui::Context::default();
        // Fonts exist once a pass has run.
        ctx.run_ui(egui::RawInput::default(), |_| {}).textures_delta.clear();
        let font_id = egui::FontId::monospace(14.0);
        // Latin-1 and Latin Extended-A: egui's own monospace font draws them all.
        let new: Vec<char> = ('\u{C0}'..='\u{17F}').collect();
        let mut known = Known::default();
        let mut frames = Vec::new();
        while frames.len() < 10 {
            let mut glyphs = Glyphs::for_frame(known);
            let answers: Vec<Glyph> =
                ctx.fonts_mut(|fonts| new.iter().map(|&c| glyphs.has(fonts, &font_id, c)).collect());
            let drawn = answers.iter().filter(|&&glyph| glyph == Glyph::Drawn).count();
            assert_eq!(
                drawn + answers.iter().filter(|&&glyph| glyph == Glyph::Later).count(),
                new.len()
            );
            assert_eq!(glyphs.deferred, drawn < new.len());
            frames.push(drawn);
            known = glyphs.known;
            if drawn == new.len() {
                break;
            }
        }
        assert!(frames[0] > 0 && frames[0] <= Glyphs::NEW_GLYPHS, "{frames:?}");
        // A frame whose rows used up the time before they met a new character still takes a few.
        let mut late = Glyphs::for_frame(Known::default());
        late.rows_started = (Instant::now().checked_sub(Glyphs::ROWS_BUDGET * 2)).expect("a clock past its start");
        let drawn = ctx.fonts_mut(|fonts| {
            new.iter()
                .filter(|&&c| late.has(fonts, &font_id, c) == Glyph::Drawn)
                .count()
        });
        assert_eq!(drawn, Glyphs::AT_LEAST);
        assert_eq!(
            frames.last(),
            Some(&new.len()),
            "all drawn within ten frames: {frames:?}"
        );
    }

    #[test]
    fn escapes_are_coloured_in_a_row_laid_out_as_one_section() {
        let ctx = egui::Context::default();
        ctx.run_ui(egui::RawInput::default(), |_| {}).textures_delta.clear();
        let plain = egui::Color32::from_rgb(1, 2, 3);
        let text = "a\\xC4b \\x0Ac\\xE4\\xBD\\xA0";
        let escapes = [1..5, 7..11, 12..24];
        let mut galley = None;
        ctx.run_ui(egui::RawInput::default(), |ui| {
            galley = Some(escaped_galley(
                ui,
                egui::FontId::monospace(14.0),
                text.to_owned(),
                &escapes,
                plain,
            ));
        })
        .textures_delta
        .clear();
        let galley = galley.expect("laid out");
        assert_eq!(galley.job.sections.len(), 1);
        let row = &galley.rows[0].row;
        let colors: String = text
            .char_indices()
            .zip(&row.glyphs)
            .filter(|(_, glyph)| !glyph.uv_rect.is_nothing())
            .map(|((at, c), glyph)| {
                assert_eq!(c, glyph.chr);
                let color = row.visuals.mesh.vertices[glyph.first_vertex as usize].color;
                let escaped = escapes.iter().any(|range| range.contains(&at));
                assert_eq!(color, if escaped { ESCAPE_COLOR } else { plain }, "{c} at {at}");
                if escaped { 'e' } else { 'p' }
            })
            .collect();
        assert_eq!(colors, "peeeepeeeepeeeeeeeeeeee");
    }

    #[test]
    fn a_glyph_is_placed_at_its_character_also_where_a_character_has_two_or_none() {
        let places = |text: &str, glyphs: &str| -> Vec<Option<usize>> {
            let mut places = GlyphPlaces::new(text);
            glyphs.chars().map(|c| places.of(c)).collect()
        };
        assert_eq!(places("ab", "ab"), [Some(0), Some(1)]);
        assert_eq!(places("aab", "aab"), [Some(0), Some(1), Some(2)]);
        // Two glyphs for क (three bytes), then the rest in place.
        assert_eq!(
            places("कx\\", "kkx\\".replace('k', "क").as_str()),
            [Some(0), Some(0), Some(3), Some(4)]
        );
        // A character with no glyph is passed over.
        assert_eq!(places("a\u{301}b", "ab"), [Some(0), Some(3)]);
        assert_eq!(places("ab", "az"), [Some(0), None]);
    }

    #[test]
    fn a_character_left_for_a_later_frame_is_a_blank_of_its_width() {
        let (out, escapes) =
            without_boxes("你好é!", &[], drawn_but(&['好', 'é'], Glyph::Later), TextEncoding::UTF8).expect("blanks");
        assert_eq!(out, "你   !");
        assert!(escapes.is_empty());
    }
}
