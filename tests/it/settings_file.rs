//! Settings files that once cost the user their tabs or kept the window from opening: each is read as the window
//! reads it at start (`settings::file::open` before eframe, then the app), drawn in a kittest window, and must
//! come with a notice, a kept copy, and the original never written over.
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use egui_tiles::TileId;
use wirepad::gui::WirepadApp;
use wirepad::gui::i18n::Lang;
use wirepad::gui::tab::TabId;
use wirepad::settings::check::MAX_TEXT;
use wirepad::settings::file::{self, Opened};
use wirepad::settings::saved::Saved;
use wirepad::settings::{Prefs, TabConfig};

use crate::support::{TIMEOUT, eventually};

fn named(name: &str) -> TabConfig {
    TabConfig {
        name: name.into(),
        ..TabConfig::default()
    }
}

/// The window's own entry with three tabs, as the window saves it.
fn three_tabs() -> String {
    let ctx = egui::Context::default();
    WirepadApp::new(
        &ctx,
        Prefs::default(),
        vec![named("alpha"), named("beta"), named("gamma")],
    )
    .saved_text()
}

/// A settings file as eframe writes it: its keys and their RON, pretty.
fn eframe_file(entries: &[(&str, &str)]) -> String {
    let map: HashMap<&str, &str> = entries.iter().copied().collect();
    ron::ser::to_string_pretty(&map, ron::ser::PrettyConfig::default()).expect("ron")
}

fn window_entry(width: f32) -> String {
    format!(
        "(normal_geometry:(outer_position_pixels:Some((x:10.0,y:20.0)),scale_factor:1.0,\
         inner_size_points:(x:{width:?},y:720.0)),fullscreen:false,maximized:false)"
    )
}

/// `bytes` as `app.ron` in a fresh directory, read as `run_gui` reads it, and the window made from it.
fn open_window(bytes: &[u8]) -> (tempfile::TempDir, Opened, Harness<'static, WirepadApp>) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("app.ron"), bytes).expect("write");
    let opened = file::open(&dir.path().join("app.ron"));
    // A byte that is not UTF-8 reads as U+FFFD, which the test's fonts draw as a box.
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 800.0))
        .allow_missing_glyphs()
        .build_eframe({
            let opened = opened.clone();
            move |cc| WirepadApp::from_settings_file(&cc.egui_ctx, &opened, Lang::En, &[])
        });
    harness.run();
    (dir, opened, harness)
}

fn tab_names(app: &WirepadApp) -> Vec<String> {
    app.tab_ids()
        .into_iter()
        .filter_map(|id| Some(app.tab_by_id(id)?.config.name.clone()))
        .collect()
}

fn notice(harness: &Harness<'static, WirepadApp>) -> String {
    let notice = harness.state().notice().expect("the window says what happened");
    assert!(
        harness.query_by_label_contains(&notice[..20]).is_some(),
        "on show: {notice}"
    );
    notice
}

/// The damaged file is kept, byte for byte, under the name the notice gives, and `app.ron` is gone, so
/// eframe has nothing to write over.
fn kept_as_the_notice_says(dir: &Path, opened: &Opened, notice: &str, original: &[u8]) -> PathBuf {
    let kept = opened.kept.clone().expect("moved aside");
    assert!(notice.contains(&kept.display().to_string()), "{notice}");
    assert_eq!(std::fs::read(&kept).expect("kept"), original);
    assert!(!dir.join("app.ron").exists());
    kept
}

#[test]
fn a_file_that_lost_its_last_brace_keeps_its_three_tabs() {
    let whole = eframe_file(&[("app", &three_tabs())]);
    let cut = whole.trim_end().strip_suffix('}').expect("a map").as_bytes().to_vec();
    // An earlier copy is never replaced.
    let (dir, opened, harness) = {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("app.ron.bad"), "earlier").expect("write");
        std::fs::write(dir.path().join("app.ron"), &cut).expect("write");
        let opened = file::open(&dir.path().join("app.ron"));
        let harness = Harness::builder().with_size(egui::vec2(1400.0, 800.0)).build_eframe({
            let opened = opened.clone();
            move |cc| WirepadApp::from_settings_file(&cc.egui_ctx, &opened, Lang::En, &[])
        });
        (dir, opened, harness)
    };
    assert_eq!(tab_names(harness.state()), ["alpha", "beta", "gamma"]);
    let notice = notice(&harness);
    assert!(
        notice.contains("could not be read whole (it ends too soon)"),
        "{notice}"
    );
    let kept = kept_as_the_notice_says(dir.path(), &opened, &notice, &cut);
    assert_eq!(kept, dir.path().join("app.ron.bad.2"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("app.ron.bad")).expect("kept"),
        "earlier"
    );
}

#[test]
fn a_damaged_file_that_cannot_be_moved_aside_is_left_as_it_was_and_saved_elsewhere() {
    let whole = eframe_file(&[("app", &three_tabs())]);
    let cut = whole.trim_end().strip_suffix('}').expect("a map").as_bytes().to_vec();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("app.ron");
    std::fs::write(&path, &cut).expect("write");
    // Every name a copy may take is taken: moving it aside fails, as in a folder the user cannot write.
    for n in 1..=file::MAX_COPIES {
        let suffix = if n == 1 { String::new() } else { format!(".{n}") };
        std::fs::write(dir.path().join(format!("app.ron.bad{suffix}")), "earlier").expect("write");
    }
    let opened = file::open(&path);
    let harness = Harness::builder().with_size(egui::vec2(1400.0, 800.0)).build_eframe({
        let opened = opened.clone();
        move |cc| WirepadApp::from_settings_file(&cc.egui_ctx, &opened, Lang::En, &[])
    });
    assert_eq!(tab_names(harness.state()), ["alpha", "beta", "gamma"]);
    let notice = notice(&harness);
    assert!(notice.contains("it is left as it was"), "{notice}");
    // eframe saves to `save_elsewhere` (run_gui's persistence_path), never over the damaged file.
    let elsewhere = opened.save_elsewhere.expect("saved elsewhere");
    assert!(!elsewhere.starts_with(dir.path()), "{}", elsewhere.display());
    assert_eq!(std::fs::read(&path).expect("left"), cut);
}

#[test]
fn a_byte_that_is_not_utf8_in_a_tab_name_costs_only_that_character() {
    let text = eframe_file(&[("app", &three_tabs())]);
    let mut bytes = text.replacen("beta", "be\u{1}a", 1).into_bytes();
    let at = bytes.iter().position(|b| *b == 1).expect("marker");
    bytes[at] = 0xff;
    let (dir, opened, harness) = open_window(&bytes);
    assert_eq!(tab_names(harness.state()), ["alpha", "be\u{fffd}a", "gamma"]);
    let notice = notice(&harness);
    assert!(notice.contains(&format!("byte {at} is not UTF-8")), "{notice}");
    kept_as_the_notice_says(dir.path(), &opened, &notice, &bytes);
}

#[test]
fn a_version_no_wirepad_wrote_is_named_and_the_tabs_still_open() {
    let app = three_tabs().replacen("version:1", "version:18446744073709551615", 1);
    let text = eframe_file(&[("app", &app)]);
    let (dir, opened, harness) = open_window(text.as_bytes());
    assert_eq!(tab_names(harness.state()), ["alpha", "beta", "gamma"]);
    let notice = notice(&harness);
    assert!(notice.contains("have their defaults: version."), "{notice}");
    // The file itself reads whole: the window's entry is copied beside it before eframe saves over it.
    assert_eq!(opened.kept, None);
    let copy = dir.path().join("app.ron.bad");
    assert!(notice.contains(&copy.display().to_string()), "{notice}");
    eventually("the entry kept", TIMEOUT, || {
        (std::fs::read_to_string(&copy).ok()? == app).then_some(())
    });
}

#[test]
fn a_window_size_no_screen_has_is_dropped_and_the_rest_is_used() {
    let text = eframe_file(&[("app", &three_tabs()), ("window", &window_entry(1e30))]);
    let (dir, opened, harness) = open_window(text.as_bytes());
    assert!(opened.window_dropped);
    assert!(
        !opened.read.entries.contains_key(file::WINDOW_KEY),
        "eframe never sees it"
    );
    assert_eq!(tab_names(harness.state()), ["alpha", "beta", "gamma"]);
    let notice = notice(&harness);
    assert!(notice.contains("have their defaults: window."), "{notice}");
    kept_as_the_notice_says(dir.path(), &opened, &notice, text.as_bytes());
}

#[test]
fn a_5_mb_send_box_is_cut_to_what_the_window_can_draw() {
    let mut tab = named("big");
    tab.send.text = "0123456789".repeat(500_000);
    let ctx = egui::Context::default();
    let app = WirepadApp::new(&ctx, Prefs::default(), vec![tab]).saved_text();
    let (_dir, opened, mut harness) = open_window(eframe_file(&[("app", &app)]).as_bytes());
    assert_eq!(opened.kept, None);
    harness.run();
    assert_eq!(harness.state().tab().config.send.text.chars().count(), MAX_TEXT);
    let notice = notice(&harness);
    assert!(
        notice.contains(&format!("cut to {MAX_TEXT} characters")) && notice.contains("send.text"),
        "{notice}"
    );
}

#[test]
fn a_paste_past_the_send_box_limit_is_cut_and_said() {
    let (_dir, _opened, mut harness) = open_window(b"");
    assert_eq!(harness.state().notice(), None, "an empty file is no damage");
    harness.get_by_label("Send box").click();
    harness.run();
    harness.event(egui::Event::Paste("x".repeat(MAX_TEXT + 10)));
    harness.run();
    assert_eq!(harness.state().tab().config.send.text.len(), MAX_TEXT);
    assert!(
        harness
            .query_by_label_contains(&format!("holds at most {MAX_TEXT} characters"))
            .is_some()
    );
}

/// The window's entry with tabs "left" (0) and "right" (1) in the layout `make` builds from their panes.
fn with_layout(focused: u64, make: impl FnOnce(&mut egui_tiles::Tiles<TabId>, TileId, TileId) -> TileId) -> String {
    let mut tiles = egui_tiles::Tiles::default();
    let (a, b) = (tiles.insert_pane(TabId(0)), tiles.insert_pane(TabId(1)));
    let root = make(&mut tiles, a, b);
    let tree = egui_tiles::Tree::new(egui::Id::unique("saved"), root, tiles);
    let saved = Saved {
        version: 1,
        prefs: ron::to_string(&Prefs::default()).expect("ron"),
        tabs: vec![
            (0, ron::to_string(&named("left")).expect("ron")),
            (1, ron::to_string(&named("right")).expect("ron")),
        ],
        layout: ron::to_string(&tree).expect("ron"),
        focused,
    };
    ron::to_string(&saved).expect("ron")
}

/// Shares that are not numbers would lay the panes out at NaN: the split is kept with sound shares.
#[test]
fn a_split_whose_shares_are_not_numbers_opens_side_by_side() {
    for share in [f32::NAN, f32::INFINITY, -1.0, 0.0] {
        let app = with_layout(1, |tiles, a, b| {
            let (left, right) = (tiles.insert_tab_tile(vec![a]), tiles.insert_tab_tile(vec![b]));
            let row = tiles.insert_horizontal_tile(vec![left, right]);
            if let Some(egui_tiles::Tile::Container(egui_tiles::Container::Linear(linear))) = tiles.get_mut(row) {
                linear.shares.set_share(left, share);
            }
            row
        });
        let (_dir, _opened, mut harness) = open_window(eframe_file(&[("app", &app)]).as_bytes());
        harness.run();
        assert!(harness.state().side_by_side(), "{share}");
        assert!(
            harness.query_by_label_contains("left").is_some() && harness.query_by_label_contains("right").is_some()
        );
        let notice = notice(&harness);
        assert!(notice.contains("have their defaults: layout."), "{share}: {notice}");
    }
}

/// A tab bar whose active tab is not one of its own, and a focused tab that does not exist.
#[test]
fn an_active_tab_out_of_range_opens_on_a_tab_that_exists() {
    let app = with_layout(u64::MAX, |tiles, a, b| {
        let bar = tiles.insert_tab_tile(vec![a, b]);
        if let Some(egui_tiles::Tile::Container(egui_tiles::Container::Tabs(tabs))) = tiles.get_mut(bar) {
            tabs.active = Some(TileId::from_u64(u64::MAX));
        }
        bar
    });
    let (_dir, _opened, mut harness) = open_window(eframe_file(&[("app", &app)]).as_bytes());
    harness.run();
    let app = harness.state();
    assert_eq!(app.shown_tabs().len(), 1, "one tab of the bar on show");
    assert!(
        app.shown_tabs().contains(&app.tab().id),
        "the focused tab is the one on show"
    );
    let notice = notice(&harness);
    assert!(notice.contains("have their defaults: layout."), "{notice}");
}
