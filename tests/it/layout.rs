//! Issue 22.6, 8, 12: what the window keeps in sight at the sizes people use (kittest, real loopback sockets).
use std::net::TcpStream;

use egui::accesskit::Role;
use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use wirepad::gui::WirepadApp;
use wirepad::settings::{Prefs, QuickCommand, TabConfig};

use crate::ui::{connect, english, open_server, settings, step_until};

fn window_at(width: f32, height: f32, prefs: Prefs, tabs: Vec<TabConfig>) -> Harness<'static, WirepadApp> {
    Harness::builder()
        .with_size(egui::vec2(width, height))
        .build_eframe(move |cc| WirepadApp::new(&cc.egui_ctx, prefs, tabs))
}

/// The width `text` takes in the body font, whole.
fn text_width(harness: &Harness<'static, WirepadApp>, text: &str) -> f32 {
    let font = egui::TextStyle::Body.resolve(&harness.ctx.global_style());
    harness.ctx.fonts_mut(|fonts| {
        fonts
            .layout_no_wrap(text.to_owned(), font, egui::Color32::WHITE)
            .size()
            .x
    })
}

fn inside(rect: egui::Rect, width: f32, height: f32) -> bool {
    rect.min.x >= 0.0 && rect.min.y >= 0.0 && rect.max.x <= width && rect.max.y <= height
}

#[test]
fn client_addresses_show_whole_at_the_default_size() {
    let mut harness = window_at(1280.0, 800.0, english(), vec![settings()]);
    let server = open_server(&mut harness);
    let (_client, peer) = connect(&mut harness, server);
    harness.run_steps(2);
    let address = peer.to_string();
    let shown = harness.get_by_label(&address).rect();
    let whole = text_width(&harness, &address);
    assert!(
        shown.width() + 0.5 >= whole,
        "{address} is {whole} wide but shows in {}",
        shown.width()
    );
}

#[test]
fn at_800_by_560_the_client_list_and_quick_commands_are_in_sight() {
    let prefs = Prefs {
        quick_commands: vec![QuickCommand {
            name: "ping".into(),
            text: "PING".into(),
            hex: false,
        }],
        ..english()
    };
    let mut harness = window_at(800.0, 560.0, prefs, vec![settings()]);
    let server = open_server(&mut harness);
    let (_client, peer) = connect(&mut harness, server);
    harness.run_steps(2);
    for label in [peer.to_string(), "Kick".into(), "Quick commands".into(), "ping".into()] {
        let rect = harness.get_by_label(&label).rect();
        assert!(
            inside(rect, 800.0, 560.0),
            "{label} at {rect:?}, out of the 800×560 window"
        );
    }
}

/// The Chinese window, where the find bar's labels are widest, with a pattern typed (its count shows too).
#[test]
fn the_find_bar_keeps_its_buttons_in_sight_at_1100_px() {
    let chinese = Prefs {
        language: Some(wirepad::gui::i18n::Lang::Zh),
        ..english()
    };
    let mut harness = window_at(1100.0, 800.0, chinese, vec![settings()]);
    harness.run_steps(2);
    harness.key_press_modifiers(Modifiers::COMMAND, Key::F);
    harness.run_steps(3);
    harness
        .get_by_role_and_label(Role::TextInput, "查找")
        .type_text("温度=23.5℃ 湿度");
    harness.run_steps(3);
    // The receive view ends where the client list's column starts.
    let edge = harness.get_by_label("快捷指令").rect().min.x;
    for label in ["上一个", "下一个", "关闭"] {
        let rect = harness.get_by_role_and_label(Role::Button, label).rect();
        assert!(
            rect.max.x <= edge,
            "{label} at {rect:?} is past the view's edge at {edge}"
        );
    }
}

#[test]
fn ctrl_9_and_ctrl_t_scroll_the_tab_strip_to_the_tab_in_use() {
    let tabs = (1..=14)
        .map(|n| TabConfig {
            name: format!("tab number {n:02}"),
            ..settings()
        })
        .collect();
    let mut harness = window_at(800.0, 560.0, english(), tabs);
    harness.run_steps(2);
    let in_strip = |h: &Harness<'static, WirepadApp>, name: &str| {
        let rect = h.get_by_label_contains(name).rect();
        rect.min.x >= 0.0 && rect.max.x <= 800.0
    };
    assert!(
        !in_strip(&harness, "tab number 09"),
        "fourteen tabs do not fit in 800 px"
    );
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Num9);
    harness.run_steps(4);
    assert_eq!(harness.state().tab().config.name, "tab number 09");
    assert!(
        in_strip(&harness, "tab number 09"),
        "Ctrl+9 brought its tab into the strip"
    );
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Num1);
    harness.run_steps(4);
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Num8);
    harness.run_steps(4);
    // A new tab goes after the one in use and is scrolled to as well.
    harness.key_press_modifiers(Modifiers::COMMAND, Key::T);
    harness.run_steps(4);
    let new = harness.state().tab().title(wirepad::gui::i18n::Lang::En);
    assert!(in_strip(&harness, &new), "the new tab {new:?} is in the strip");
}

/// Issue 22.12: a server with many clients lays out only the client rows in sight, not one per client.
#[test]
fn the_client_list_lays_out_only_the_rows_in_sight() {
    let mut harness = window_at(1280.0, 800.0, english(), vec![settings()]);
    let server = open_server(&mut harness);
    let clients: Vec<TcpStream> = (0..150).map(|_| TcpStream::connect(server).expect("connect")).collect();
    step_until(&mut harness, "150 clients listed", |h| {
        h.state().tab().state.client_count() == clients.len()
    });
    harness.run_steps(2);
    let kicks = harness.query_all_by_label("Kick").count();
    assert!(
        (1..=20).contains(&kicks),
        "{kicks} client rows laid out for 150 clients"
    );
}

/// Issue 22.11: in a view narrower than a log header, the header is cut to the view (whole on hover) instead of
/// running off its edge.
#[test]
fn a_log_header_fits_a_narrow_view() {
    let config = TabConfig {
        receive: wirepad::settings::ReceiveSettings {
            log_mode: true,
            wrap: true,
            ..Default::default()
        },
        ..settings()
    };
    let width = 470.0;
    let mut harness = window_at(width, 560.0, english(), vec![config]);
    let server = open_server(&mut harness);
    let (mut client, peer) = connect(&mut harness, server);
    std::io::Write::write_all(&mut client, b"hello\n").expect("send");
    let header = format!("RX ← {peer}");
    step_until(&mut harness, "the header row", |h| {
        h.query_by_label_contains(&header).is_some()
    });
    harness.run_steps(2);
    let rect = harness.get_by_label_contains(&header).rect();
    assert!(
        rect.max.x <= width,
        "the header ends at {} in a {width} px window",
        rect.max.x
    );
}
