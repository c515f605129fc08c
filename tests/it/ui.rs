//! The window driven through its labels with egui_kittest (no GPU, no display), on real sockets.
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use wirepad::codec::text::TextEncoding;
use wirepad::gui::WirepadApp;
use wirepad::gui::i18n::Lang;
use wirepad::net::Kind;
use wirepad::session::launch::WindowSession;
use wirepad::settings::{LocalPorts, Prefs, TabConfig};

use crate::support::{TIMEOUT, read_exactly, read_to_end_or_reset, stays_silent};

/// The window in English.
pub fn english() -> Prefs {
    Prefs {
        language: Some(Lang::En),
        ..Prefs::default()
    }
}

/// Loopback, port 0 in every mode.
pub fn settings() -> TabConfig {
    TabConfig {
        mode: Kind::TcpServer,
        local_ip: "127.0.0.1".into(),
        local_ports: LocalPorts {
            tcp_server: "0".into(),
            tcp_client: "0".into(),
            udp: "0".into(),
            relay: "0".into(),
        },
        ..TabConfig::default()
    }
}

/// An English window with one tab.
pub fn window(settings: TabConfig) -> Harness<'static, WirepadApp> {
    window_with(english(), vec![settings])
}

pub fn window_with(prefs: Prefs, tabs: Vec<TabConfig>) -> Harness<'static, WirepadApp> {
    Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |cc| WirepadApp::new(&cc.egui_ctx, prefs, tabs))
}

/// An English window with one tab whose view is a plain stream (no log-mode headers).
pub fn stream_window() -> Harness<'static, WirepadApp> {
    window(TabConfig {
        receive: wirepad::settings::ReceiveSettings {
            log_mode: false,
            ..Default::default()
        },
        ..settings()
    })
}

/// A relay tab towards `upstream`, the rest as `settings()` (listening on 127.0.0.1, port 0).
pub fn relay_to(upstream: SocketAddr) -> TabConfig {
    TabConfig {
        mode: Kind::Relay,
        remote_host: upstream.ip().to_string(),
        remote_port: upstream.port().to_string(),
        ..settings()
    }
}

/// Steps the window until `done` holds. The engine runs on its own threads, so this is bounded polling.
pub fn step_until(
    harness: &mut Harness<'static, WirepadApp>,
    what: &str,
    mut done: impl FnMut(&Harness<'static, WirepadApp>) -> bool,
) {
    let deadline = Instant::now() + TIMEOUT;
    while !done(harness) {
        if Instant::now() >= deadline {
            // The end of the view is what tells (a big history would flood the output).
            let view = harness.state().tab().state.view_text();
            let end = view.char_indices().rev().nth(2000).map_or("", |(at, _)| &view[at..]);
            panic!("timed out waiting for {what}; the view ends: {end:?}");
        }
        harness.step();
    }
}

/// Clicks Open and waits for the listener; returns its real address.
pub fn open_server(harness: &mut Harness<'static, WirepadApp>) -> SocketAddr {
    harness.get_by_label("Open").click();
    harness.step();
    step_until(harness, "the server to listen", |h| {
        h.state().tab().state.local_addr().is_some()
    });
    harness.state().tab().state.local_addr().expect("listening")
}

pub fn connect(harness: &mut Harness<'static, WirepadApp>, server: SocketAddr) -> (TcpStream, SocketAddr) {
    let stream = TcpStream::connect(server).expect("connect");
    let local = stream.local_addr().expect("local");
    step_until(harness, "the client to join", |h| {
        h.state().tab().state.clients().any(|c| *c == local)
    });
    (stream, local)
}

#[test]
fn gbk_bytes_show_as_chinese_and_hex_re_renders_the_same_history() {
    let mut harness = window(TabConfig {
        receive: wirepad::settings::ReceiveSettings {
            encoding: TextEncoding::GBK,
            log_mode: false,
            ..Default::default()
        },
        ..settings()
    });
    let server = open_server(&mut harness);
    let (mut client, _) = connect(&mut harness, server);
    client.write_all(&[0xc4, 0xe3, 0xba, 0xc3]).expect("send");
    step_until(&mut harness, "你好", |h| h.query_by_label("你好").is_some());
    harness.get_by_label("Hex view").click();
    step_until(&mut harness, "the hex rendering", |h| {
        h.query_by_label("C4 E3 BA C3").is_some()
    });
    assert!(harness.query_by_label("你好").is_none(), "the same history, now as hex");
}

/// The font texture's height in pixels: egui doubles it as glyphs fill it.
fn atlas_height(harness: &Harness<'static, WirepadApp>) -> usize {
    harness.ctx.fonts(|fonts| fonts.font_image_size()[1])
}

#[test]
fn clear_gives_back_the_glyphs_its_rows_drew() {
    let mut harness = stream_window();
    let server = open_server(&mut harness);
    let (mut client, _) = connect(&mut harness, server);
    harness.run_steps(3);
    let idle = atlas_height(&harness);
    // 2,000 distinct CJK characters (all in the bundled GB2312 font), 40 to a row: all on screen at once.
    let text: String = ('\u{4E00}'..)
        .take(2000)
        .collect::<Vec<char>>()
        .chunks(40)
        .map(|row| row.iter().collect::<String>() + "\n")
        .collect();
    client.write_all(text.as_bytes()).expect("send");
    step_until(&mut harness, "the characters drawn", |h| {
        h.state().tab().state.history_bytes() == text.len() as u64 && atlas_height(h) > idle
    });
    harness.get_by_label("Clear").click();
    harness.run_steps(4);
    assert!(
        atlas_height(&harness) <= idle,
        "the atlas is {} px high after Clear, {idle} px before the characters",
        atlas_height(&harness)
    );
}

#[test]
fn the_encoding_is_chosen_in_the_window() {
    let mut harness = stream_window();
    harness.get_by_label("Encoding").click();
    harness.run();
    harness.get_by_label("gbk").click();
    harness.run();
    let server = open_server(&mut harness);
    let (mut client, _) = connect(&mut harness, server);
    client.write_all(&[0xc4, 0xe3, 0xba, 0xc3]).expect("send");
    step_until(&mut harness, "你好", |h| h.query_by_label("你好").is_some());
    harness.get_by_label("Copy all").click();
    // Laid out on a thread of its own, then put on the clipboard.
    step_until(&mut harness, "Copy all to put the view on the clipboard", |h| {
        h.output().platform_output.commands.iter().any(
            |command| matches!(command, egui::OutputCommand::CopyText(text) if text.ends_with(" connected\n你好\n")),
        )
    });
}

#[test]
fn bad_hex_shows_its_position_and_sends_nothing() {
    let mut harness = window(settings());
    let server = open_server(&mut harness);
    let (mut client, _) = connect(&mut harness, server);
    harness.get_by_label("Hex send").click();
    harness.get_by_label("Send box").set_text_value_accesskit("01 0G");
    harness.step();
    harness.get_by_label("Send").click();
    harness.step();
    harness.step();
    let error = harness.state().send_error().expect("an inline error").to_string();
    assert_eq!(error, "bad hex digit 'G' at position 5");
    assert!(
        harness.query_by_label_contains("position 5").is_some(),
        "shown in the window"
    );
    assert!(
        stays_silent(&mut client, Duration::from_millis(300)),
        "nothing was sent"
    );
    assert_eq!(harness.state().tab().config.send.text, "01 0G", "the input is kept");
}

#[test]
fn ctrl_enter_in_the_send_box_sends_it() {
    let mut harness = window(settings());
    let server = open_server(&mut harness);
    let (mut client, _) = connect(&mut harness, server);
    let send_box = harness.get_by_label("Send box");
    send_box.focus();
    send_box.type_text("hi");
    harness.step();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Enter);
    harness.step();
    harness.step();
    assert_eq!(read_exactly(&mut client, 2), b"hi");
    assert!(
        stays_silent(&mut client, Duration::from_millis(300)),
        "sent once, nothing more"
    );
    assert_eq!(
        harness.state().tab().config.send.text,
        "hi",
        "no newline typed into the box"
    );
}

#[test]
fn the_chinese_window_says_what_is_wrong_in_chinese() {
    let chinese = Prefs {
        language: Some(Lang::Zh),
        ..Prefs::default()
    };
    let mut harness = window_with(chinese, vec![settings()]);
    harness.get_by_label("打开").click();
    harness.step();
    step_until(&mut harness, "the server to listen", |h| {
        h.state().tab().state.local_addr().is_some()
    });
    harness.get_by_label("HEX发送").click();
    harness.get_by_label("发送内容").set_text_value_accesskit("01 0G");
    harness.step();
    harness.get_by_label("发送").click();
    harness.step();
    harness.step();
    assert_eq!(
        harness.state().send_error().as_deref(),
        Some("第 5 个字符 'G' 不是十六进制数字")
    );
    assert!(
        harness.query_by_label("第 5 个字符 'G' 不是十六进制数字").is_some(),
        "shown in the window"
    );
}

#[test]
fn periodic_send_delivers_exactly_the_count() {
    let mut harness = window(settings());
    let server = open_server(&mut harness);
    let (mut client, _) = connect(&mut harness, server);
    harness.get_by_label("Send box").set_text_value_accesskit("tick;");
    harness.get_by_label("Interval (ms)").set_text_value_accesskit("1");
    harness.get_by_label("Count").set_text_value_accesskit("5");
    harness.step();
    harness
        .get_by_role_and_label(egui::accesskit::Role::CheckBox, "Periodic send")
        .click();
    harness.step();
    assert_eq!(read_exactly(&mut client, 25), "tick;".repeat(5).as_bytes());
    step_until(&mut harness, "the schedule to end", |h| {
        h.state().tab().state.periodic_sent().is_none()
    });
    assert!(stays_silent(&mut client, Duration::from_millis(300)), "no sixth send");
}

/// The Variables box: ticked, each periodic send is filled in anew ({seq} numbered); unticked, braces go as typed.
#[test]
fn the_variables_box_numbers_periodic_sends_and_unticked_keeps_braces() {
    for (vars, want) in [(true, "n0;n1;n2;".to_string()), (false, "n{seq};".repeat(3))] {
        let mut harness = window(settings());
        let server = open_server(&mut harness);
        let (mut client, _) = connect(&mut harness, server);
        harness.get_by_label("Send box").set_text_value_accesskit("n{seq};");
        if vars {
            harness.get_by_label("Variables {seq}").click();
        }
        harness.get_by_label("Interval (ms)").set_text_value_accesskit("1");
        harness.get_by_label("Count").set_text_value_accesskit("3");
        harness.step();
        harness
            .get_by_role_and_label(egui::accesskit::Role::CheckBox, "Periodic send")
            .click();
        harness.step();
        let got = read_exactly(&mut client, want.len());
        assert_eq!(String::from_utf8_lossy(&got), want, "vars {vars}");
        assert_eq!(harness.state().tab().config.send.vars, vars);
        assert!(stays_silent(&mut client, Duration::from_millis(300)), "no fourth send");
    }
}

/// With Variables ticked, an unknown one is named beside the box, Send is refused and nothing goes out.
#[test]
fn an_unknown_variable_is_named_beside_the_send_box_and_nothing_is_sent() {
    let mut harness = window(settings());
    let server = open_server(&mut harness);
    let (mut client, _) = connect(&mut harness, server);
    harness.get_by_label("Variables {seq}").click();
    harness.get_by_label("Send box").set_text_value_accesskit("ab{sq}");
    harness.step();
    harness.get_by_label("Send").click();
    harness.step();
    harness.step();
    let error = harness.state().send_error().expect("an inline error");
    assert!(error.starts_with("unknown variable {sq} at position 3"), "{error}");
    assert!(
        harness.query_by_label_contains("unknown variable {sq}").is_some(),
        "shown in the window"
    );
    assert!(
        stays_silent(&mut client, Duration::from_millis(300)),
        "nothing was sent"
    );
}

#[test]
fn send_to_one_client_reaches_only_that_client_and_kick_disconnects_it() {
    let mut harness = window(settings());
    let server = open_server(&mut harness);
    let (mut a, peer_a) = connect(&mut harness, server);
    let (mut b, _) = connect(&mut harness, server);
    harness.get_by_label("Send to").click();
    harness.run();
    harness
        .get_by_role_and_label(egui::accesskit::Role::Button, &peer_a.to_string())
        .click();
    harness.run();
    harness.get_by_label("Send box").set_text_value_accesskit("just a");
    harness.step();
    harness.get_by_label("Send").click();
    harness.step();
    assert_eq!(read_exactly(&mut a, 6), b"just a");
    assert!(stays_silent(&mut b, Duration::from_millis(300)), "b got nothing");

    let kick = harness.get_all_by_label("Kick").next().expect("a kick button");
    kick.click();
    step_until(&mut harness, "a to leave", |h| {
        !h.state().tab().state.clients().any(|c| *c == peer_a)
    });
    // Ends (closed or reset) within the deadline, or the helper panics: a timeout is no pass.
    assert!(read_to_end_or_reset(&mut a).is_empty(), "a was disconnected");
    assert_eq!(harness.state().tab().state.clients().count(), 1, "b stays");
}

#[test]
fn invalid_fields_show_a_message_and_keep_open_disabled() {
    let mut harness = window(settings());
    harness.get_by_label("Local port").set_text_value_accesskit("70000");
    harness.step();
    harness.step();
    assert!(harness.query_by_label("Port must be a whole number 0–65535").is_some());
    assert!(
        harness.get_by_label("Open").accesskit_node().is_disabled(),
        "Open is disabled"
    );
    harness.get_by_label("Open").click();
    harness.step();
    assert!(!harness.state().tab().state.is_open(), "and a click opens nothing");
}

#[test]
fn a_refused_connection_is_reported_in_the_window() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut harness = window(TabConfig {
        mode: Kind::TcpClient,
        remote_host: "127.0.0.1".into(),
        remote_port: port.to_string(),
        ..settings()
    });
    harness.get_by_label("Open").click();
    step_until(&mut harness, "the error", |h| h.state().error().is_some());
    let expected = format!("cannot connect to 127.0.0.1:{port}: connection refused");
    assert_eq!(harness.state().error().as_deref(), Some(expected.as_str()));
    assert!(harness.query_by_label_contains("connection refused").is_some());
}

/// The labels of the receive rows on screen (only visible rows are laid out).
fn visible_rows(harness: &Harness<'static, WirepadApp>) -> Vec<String> {
    harness
        .query_all_by_label_contains("L0")
        .chain(harness.query_all_by_label_contains("L1"))
        .filter_map(|node| node.accesskit_node().value())
        .collect()
}

#[test]
fn a_reader_scrolled_up_keeps_their_place_while_old_rows_fall_out() {
    let mut harness = window(TabConfig {
        receive: wirepad::settings::ReceiveSettings {
            log_mode: false,
            wrap: false,
            buffer_mib: 1,
            ..Default::default()
        },
        ..settings()
    });
    let server = open_server(&mut harness);
    let (mut client, _) = connect(&mut harness, server);
    let lines = |range: std::ops::Range<u32>| range.map(|n| format!("L{n:06}\n")).collect::<String>();
    // In pieces the log keeps apart, so the budget can later drop the oldest ones and keep the newest.
    for piece in 0..10 {
        let last = format!("L{:06}", piece * 5_000 + 4_999);
        client
            .write_all(lines(piece * 5_000..(piece + 1) * 5_000).as_bytes())
            .expect("send");
        step_until(&mut harness, "the piece's last line, followed", |h| {
            h.query_by_label(&last).is_some()
        });
    }
    for _ in 0..10 {
        harness
            .get_all_by_label_contains("L0")
            .next()
            .expect("a row")
            .scroll_up();
        harness.step();
    }
    for _ in 0..3 {
        harness.step();
    }
    let before = visible_rows(&harness);
    assert!(
        !before.is_empty() && !before.contains(&"L049999".to_string()),
        "scrolled up: {before:?}"
    );

    // 800 KB more: past the 1 MiB budget, so the oldest rows go.
    client.write_all(lines(50_000..150_000).as_bytes()).expect("send");
    step_until(&mut harness, "the oldest rows to fall out", |h| {
        let text = h.state().tab().state.view_text();
        text.contains("L149999") && !text.contains("L000000\n")
    });
    harness.step();
    assert_eq!(visible_rows(&harness), before, "the same rows stay on screen");
}

#[test]
fn close_then_open_at_once_reopens_on_the_same_port() {
    let mut harness = window(settings());
    let server = open_server(&mut harness);
    let (_client, _) = connect(&mut harness, server);
    // Reopen on the very port just used: the closed session must be gone first.
    harness.get_by_label("Close").click();
    harness.step();
    harness.step();
    harness.state_mut().tab_mut().config.local_ports.tcp_server = server.port().to_string();
    harness.get_by_label("Open").click();
    harness.step();
    step_until(&mut harness, "the server to listen again", |h| {
        h.state().tab().state.local_addr().is_some()
    });
    assert_eq!(harness.state().tab().state.local_addr(), Some(server));
    assert_eq!(harness.state().error(), None);
    assert!(!harness.state().tab().state.stopping(), "the closed session was reaped");
}

pub fn launch(args: &[&str]) -> Result<WindowSession, String> {
    wirepad::cli::parse_session(args)
        .expect("valid session arguments")
        .for_window()
        .map_err(|error| error.to_string())
}

pub fn launched_window(launch: WindowSession) -> Harness<'static, WirepadApp> {
    Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |cc| {
            WirepadApp::from_creation(cc, &wirepad::settings::file::Opened::default(), &[launch.into()])
        })
}

#[test]
fn gui_arguments_open_the_session_with_their_encoding_and_capture() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("capture.bin");
    let path_arg = path.to_str().expect("utf-8 path");
    let launch = launch(&[
        "tcp-server",
        "127.0.0.1:0",
        "-e",
        "GBK",
        "--recv-file",
        path_arg,
        "-s",
        "hi\\r\\n",
    ])
    .expect("the window takes these");
    let mut harness = launched_window(launch);
    step_until(&mut harness, "the server to listen", |h| {
        h.state().tab().state.local_addr().is_some()
    });
    let server = harness.state().tab().state.local_addr().expect("listening");
    assert_eq!(
        harness.state().tab().config.send.text,
        "hi\\r\\n",
        "the send box is filled, not sent"
    );
    assert!(harness.state().tab().config.send.escapes);
    let (mut client, _) = connect(&mut harness, server);
    client.write_all(&[0xc4, 0xe3, 0xba, 0xc3]).expect("send");
    step_until(&mut harness, "你好", |h| h.query_by_label_contains("你好").is_some());
    drop(harness);
    assert_eq!(std::fs::read(&path).expect("capture file"), [0xc4, 0xe3, 0xba, 0xc3]);
}

#[test]
fn receive_to_file_goes_on_across_close_and_open() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("capture.bin");
    let path_arg = path.to_str().expect("utf-8 path");
    let mut harness = launched_window(launch(&["tcp-server", "127.0.0.1:0", "--recv-file", path_arg]).expect("valid"));
    for (part, so_far) in [("first ", "first "), ("second", "first second")] {
        step_until(&mut harness, "the server to listen", |h| {
            h.state().tab().state.local_addr().is_some()
        });
        let server = harness.state().tab().state.local_addr().expect("listening");
        let (mut client, _) = connect(&mut harness, server);
        client.write_all(part.as_bytes()).expect("send");
        step_until(&mut harness, part, |h| h.query_by_label_contains(part.trim()).is_some());
        harness.get_by_label("Close").click();
        harness.step();
        assert!(!harness.state().tab().state.is_open());
        // The session stops on a thread of its own; once it has, its capture is complete.
        step_until(&mut harness, "the session to stop", |h| {
            !h.state().tab().state.stopping()
        });
        assert_eq!(std::fs::read(&path).expect("capture file"), so_far.as_bytes());
        harness.step();
        harness.get_by_label("Open").click();
        harness.step();
    }
}

#[test]
fn gui_arguments_the_window_cannot_honour_are_refused() {
    let error = launch(&["tcp-server", "0", "--echo"]).expect_err("the window does not echo");
    assert!(error.contains("--echo"), "{error}");
    let error = launch(&["udp", "--quit-after-secs", "1"]).expect_err("the window does not quit");
    assert!(error.contains("--quit-after-secs"), "{error}");
    let error = launch(&["tcp-server", "0", "-e", "klingon"]).expect_err("unknown encoding");
    assert!(error.contains("klingon"), "{error}");
}

#[test]
fn gui_udp_to_an_ipv6_remote_binds_ipv6() {
    let harness = launched_window(launch(&["udp", "--remote", "[::1]:9"]).expect("valid"));
    assert_eq!(harness.state().tab().config.local_ip, "::");
    assert_eq!(harness.state().tab().config.remote_host, "::1");
}

mod persistence {
    use std::collections::HashMap;

    use wirepad::codec::checksum::Checksum;
    use wirepad::codec::text::TextEncoding;
    use wirepad::gui::WirepadApp;
    use wirepad::gui::i18n::Lang;
    use wirepad::gui::tab::TabId;
    use wirepad::gui::ui::Action;
    use wirepad::net::Kind;
    use wirepad::payload::LineEnding;
    use wirepad::settings::{Prefs, QuickCommand, TabConfig};

    /// eframe's own storage path (RON), in memory.
    #[derive(Default)]
    struct Memory(HashMap<String, String>);

    impl eframe::Storage for Memory {
        fn get_string(&self, key: &str) -> Option<String> {
            self.0.get(key).cloned()
        }
        fn set_string(&mut self, key: &str, value: String) {
            self.0.insert(key.into(), value);
        }
        fn remove_string(&mut self, key: &str) {
            self.0.remove(key);
        }
        fn flush(&mut self) {}
    }

    /// Every tab, the global settings, the names and the side-by-side layout come back after a restart.
    #[test]
    fn tabs_and_settings_survive_a_restart() {
        let mut server = TabConfig {
            mode: Kind::Udp,
            name: "device A".into(),
            ..TabConfig::default()
        };
        server.local_ports.udp = "7788".into();
        server.send.checksum = Some(Checksum::Crc16Modbus);
        server.send.append = LineEnding::CrLf;
        server.receive.encoding = TextEncoding::GBK;
        let client = TabConfig {
            mode: Kind::TcpClient,
            name: "device B".into(),
            ..TabConfig::default()
        };
        let prefs = Prefs {
            language: Some(Lang::Zh),
            quick_commands: (0..64)
                .map(|i| QuickCommand {
                    name: format!("q{i}"),
                    text: "01 03".into(),
                    hex: true,
                })
                .collect(),
            remote_history: vec!["10.1.2.3:502".into()],
            history_mib: 512,
        };
        let ctx = egui::Context::default();
        let mut app = WirepadApp::new(&ctx, prefs.clone(), vec![server.clone(), client.clone()]);
        let second = app.tab_ids()[1];
        app.apply(Action::Split(second));
        assert!(app.side_by_side());
        let mut storage = Memory::default();
        eframe::App::save(&mut app, &mut storage);
        drop(app);
        let stored = eframe::Storage::get_string(&storage, eframe::APP_KEY);
        // The restarted window shows both tabs, side by side.
        let mut harness = egui_kittest::Harness::builder()
            .with_size(egui::vec2(1600.0, 900.0))
            .build_eframe({
                let stored = stored.clone();
                move |cc| WirepadApp::from_stored(&cc.egui_ctx, stored, Lang::En, None, &[])
            });
        harness.run();
        assert!(egui_kittest::kittest::Queryable::query_by_label_contains(&harness, "device A").is_some());
        assert!(egui_kittest::kittest::Queryable::query_by_label_contains(&harness, "device B").is_some());
        drop(harness);
        let back = WirepadApp::from_stored(&ctx, stored, Lang::En, None, &[]);
        assert_eq!(back.notice(), None);
        assert_eq!(back.prefs(), &prefs);
        let tabs: Vec<TabConfig> = back
            .tab_ids()
            .into_iter()
            .filter_map(|id| back.tab_by_id(id).map(|tab| tab.config.clone()))
            .collect();
        assert_eq!(tabs, vec![server, client]);
        assert!(back.side_by_side(), "the layout too");
        assert_eq!(back.tab().id, second, "and which tab was in use");
    }

    /// A saved tab bar that holds itself (which once overflowed the stack at every start): the window opens
    /// with every tab in a fresh layout and says the layout was not used.
    #[test]
    fn a_layout_that_holds_itself_opens_with_every_tab() {
        #[derive(serde::Serialize, serde::Deserialize)]
        struct Saved {
            version: u32,
            prefs: String,
            tabs: Vec<(u64, String)>,
            layout: String,
            focused: u64,
        }
        let tab = |name: &str| TabConfig {
            name: name.into(),
            ..TabConfig::default()
        };
        let ctx = egui::Context::default();
        let mut app = WirepadApp::new(&ctx, Prefs::default(), vec![tab("device A"), tab("device B")]);
        let mut storage = Memory::default();
        eframe::App::save(&mut app, &mut storage);
        drop(app);
        let text = eframe::Storage::get_string(&storage, eframe::APP_KEY).expect("saved");
        let mut saved: Saved = ron::from_str(&text).expect("the window's own file");
        let mut tiles = egui_tiles::Tiles::default();
        let panes = saved.tabs.iter().map(|(id, _)| tiles.insert_pane(TabId(*id))).collect();
        let bar = tiles.insert_tab_tile(panes);
        if let Some(egui_tiles::Tile::Container(container)) = tiles.get_mut(bar) {
            container.add_child(bar);
        }
        let tree = egui_tiles::Tree::new(egui::Id::unique("saved"), bar, tiles);
        saved.layout = ron::to_string(&tree).expect("ron");
        let stored = Some(ron::to_string(&saved).expect("ron"));
        let mut harness = egui_kittest::Harness::builder()
            .with_size(egui::vec2(1600.0, 900.0))
            .build_eframe(move |cc| WirepadApp::from_stored(&cc.egui_ctx, stored, Lang::En, None, &[]));
        harness.run();
        assert_eq!(harness.state().tab_ids().len(), 2);
        assert!(egui_kittest::kittest::Queryable::query_by_label_contains(&harness, "device A").is_some());
        assert!(egui_kittest::kittest::Queryable::query_by_label_contains(&harness, "device B").is_some());
        let notice = harness.state().notice();
        assert!(
            notice.as_deref().is_some_and(|notice| notice.contains("layout")),
            "{notice:?}"
        );
    }

    #[test]
    fn a_garbled_file_gives_one_default_tab_and_says_so() {
        let ctx = egui::Context::default();
        let app = WirepadApp::from_stored(&ctx, Some("((( not ron".into()), Lang::En, None, &[]);
        assert_eq!(app.tab_ids().len(), 1);
        assert_eq!(app.tab().config, TabConfig::default());
        assert!(app.notice().is_some_and(|notice| notice.contains("could not be read")));
    }
}

#[test]
fn find_counts_matches_in_the_history_moves_between_them_and_keeps_them_on_a_bad_regex() {
    use egui::accesskit::Role;
    let mut harness = stream_window();
    let server = open_server(&mut harness);
    let (mut client, _) = connect(&mut harness, server);
    let text: String = (0..3000)
        .map(|n| match n % 1000 {
            500 => format!("needle {n}\n"),
            _ => format!("line {n}\n"),
        })
        .collect();
    client.write_all(text.as_bytes()).expect("send");
    step_until(&mut harness, "the last line", |h| {
        h.query_by_label("line 2999").is_some()
    });

    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::F);
    harness.step();
    let field = harness.get_by_role_and_label(Role::TextInput, "Find");
    assert!(field.is_focused(), "Ctrl+F hands the field the keyboard");
    field.type_text("needle");
    step_until(&mut harness, "three matches, the first one shown", |h| {
        h.query_by_label("1 / 3 matches").is_some() && h.query_by_label("needle 500").is_some()
    });
    harness.get_by_label("Next").click();
    step_until(&mut harness, "the second match", |h| {
        h.query_by_label("2 / 3 matches").is_some() && h.query_by_label("needle 1500").is_some()
    });
    // Data that arrives while the bar is open is searched too; the current match stays.
    client.write_all(b"needle 3000\n").expect("send");
    step_until(&mut harness, "the new data's match", |h| {
        h.query_by_label("2 / 4 matches").is_some()
    });
    // Shift+Enter in the field goes back.
    harness.get_by_role_and_label(Role::TextInput, "Find").focus();
    harness.step();
    harness.key_press_modifiers(egui::Modifiers::SHIFT, egui::Key::Enter);
    step_until(&mut harness, "back to the first match", |h| {
        h.query_by_label("1 / 4 matches").is_some() && h.query_by_label("needle 500").is_some()
    });

    // A regex that does not compile says why; the matches stay.
    harness.get_by_label("Regex").click();
    step_until(&mut harness, "the regex's matches", |h| {
        h.query_by_label("1 / 4 matches").is_some()
    });
    harness.get_by_role_and_label(Role::TextInput, "Find").focus();
    harness.step();
    harness.get_by_role_and_label(Role::TextInput, "Find").type_text("(");
    // The last results stay beside the error (a frame may pass before both are laid out together).
    step_until(&mut harness, "the regex error, the last results kept", |h| {
        h.query_by_label_contains("unclosed group").is_some() && h.query_by_label("1 / 4 matches").is_some()
    });
    harness.get_by_role_and_label(Role::TextInput, "Find").focus();
    harness.key_press(egui::Key::Backspace);
    step_until(&mut harness, "the error to go", |h| {
        h.query_by_label("1 / 4 matches").is_some() && h.query_by_label_contains("unclosed").is_none()
    });

    harness.get_by_role_and_label(Role::TextInput, "Find").focus();
    harness.step();
    harness.key_press(egui::Key::Escape);
    harness.step();
    assert!(
        harness.query_by_role_and_label(Role::TextInput, "Find").is_none(),
        "Esc closes the bar"
    );
}

/// Sends `bytes` in pieces the window takes whole (a flood would be dropped from the view), waiting for each.
fn feed_history(harness: &mut Harness<'static, WirepadApp>, client: &mut TcpStream, bytes: &[u8]) {
    let held = harness.state().tab().state.log().bytes();
    for (nth, piece) in bytes.chunks(64 << 10).enumerate() {
        client.write_all(piece).expect("send");
        let want = held + (nth << 16) + piece.len();
        step_until(harness, "the piece in the history", |h| {
            h.state().tab().state.log().bytes() >= want
        });
    }
    assert_eq!(
        harness.state().tab().state.totals().dropped_from_view(),
        0,
        "the view kept every byte"
    );
}

/// Issue 22.3: typing moves the view to the first match, as a browser's find does, also when the view is laid
/// out again (a new width, a setting) between the search's start and its first match.
#[test]
fn typing_moves_the_view_to_the_first_match_while_the_view_is_laid_out_again() {
    use egui::accesskit::Role;
    let mut harness = stream_window();
    let server = open_server(&mut harness);
    let (mut client, _) = connect(&mut harness, server);
    let text: String = (0..60_000)
        .map(|n| match n {
            45_000 => format!("needle {n:06} abcdefghijklmnopqrstuvwxyz\n"),
            _ => format!("row {n:06} abcdefghijklmnopqrstuvwxyz\n"),
        })
        .collect();
    feed_history(&mut harness, &mut client, text.as_bytes());
    step_until(&mut harness, "the newest row", |h| {
        h.query_by_label_contains("row 059999").is_some() && !h.state().tab().state.view().catching_up()
    });
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::F);
    harness.step();
    let typed = Instant::now();
    harness
        .get_by_role_and_label(Role::TextInput, "Find")
        .type_text("needle");
    // The frame that starts the search; then the view is laid out again (as a new width does).
    harness.step();
    harness.step();
    harness.get_by_label("Log mode").click();
    step_until(&mut harness, "the match counted and the view laid out", |h| {
        h.query_by_label("1 / 1 matches").is_some() && !h.state().tab().state.view().catching_up()
    });
    let counted = typed.elapsed();
    step_until(&mut harness, "the matched row on screen", |h| {
        h.query_by_label_contains("needle 045000").is_some()
    });
    eprintln!(
        "find: counted after {counted:?}, the match on screen after {:?}",
        typed.elapsed()
    );
    harness.step();
    assert!(
        harness.query_by_label_contains("row 059999").is_none(),
        "the view left the newest rows for the match"
    );
}

/// Issue 22.4: during heavy inflow the receive view never goes blank: every frame that has rows shows some.
#[test]
fn the_view_shows_rows_in_every_frame_while_data_floods_in() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let mut harness = window(TabConfig {
        receive: wirepad::settings::ReceiveSettings {
            log_mode: false,
            // A small history: rows fall out faster than new ones are laid out.
            buffer_mib: 1,
            ..Default::default()
        },
        ..settings()
    });
    let server = open_server(&mut harness);
    let (mut client, _) = connect(&mut harness, server);
    let stop = Arc::new(AtomicBool::new(false));
    let flood = std::thread::spawn({
        let stop = stop.clone();
        move || {
            let block: String = (0..30_000)
                .map(|n| format!("row {n:06} abcdefghijklmnopqrstuvwxyz\n"))
                .collect();
            let deadline = Instant::now() + TIMEOUT;
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                if client.write_all(block.as_bytes()).is_err() {
                    break;
                }
            }
        }
    });
    // The client's "connected" row, then data.
    step_until(&mut harness, "rows", |h| h.state().tab().state.view().rows() > 1);
    // The rows' pane: below the Find button, above the send box. Rows laid out outside it are not seen.
    let top = harness.get_by_label("Find").rect().bottom();
    let bottom = harness.get_by_label("Send box").rect().top();
    let (mut frames, mut blank) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(5);
    while frames < 300 && Instant::now() < deadline {
        harness.step();
        if harness.state().tab().state.view().rows() > 1 {
            frames += 1;
            let seen = harness
                .query_all_by_label_contains("abcdefghijklmnopqrstuvwxyz")
                .filter(|row| (top..bottom).contains(&row.rect().center().y))
                .count();
            blank += usize::from(seen == 0);
        }
    }
    stop.store(true, Ordering::Relaxed);
    flood.join().expect("the flood");
    assert!(
        harness.state().tab().state.log().dropped_bytes() > 0,
        "the history was turned over"
    );
    assert_eq!(blank, 0, "{blank} of {frames} frames showed no row");
}

/// Issue 22.5: a character no loaded font can draw (here one of the private use area) shows as its bytes, not as
/// a box.
#[test]
fn a_character_no_font_draws_shows_as_its_bytes() {
    let mut harness = stream_window();
    let server = open_server(&mut harness);
    let (mut client, _) = connect(&mut harness, server);
    client.write_all("ok \u{E000}!\n".as_bytes()).expect("send");
    step_until(&mut harness, "the escaped row", |h| {
        h.query_by_label("ok \\xEE\\x80\\x80!").is_some()
    });
}

/// Issue 22.5: a byte that is not valid in the view's encoding shows as itself (`\xC4`), not as "�".
#[test]
fn a_malformed_byte_shows_as_its_value() {
    let mut harness = stream_window();
    let server = open_server(&mut harness);
    let (mut client, _) = connect(&mut harness, server);
    client.write_all(b"ok \xC4 end\n").expect("send");
    step_until(&mut harness, "the escaped row", |h| {
        h.query_by_label("ok \\xC4 end").is_some()
    });
}

#[test]
fn the_view_shows_a_client_connecting_and_leaving() {
    let mut harness = stream_window();
    let server = open_server(&mut harness);
    let (mut client, local) = connect(&mut harness, server);
    client.write_all(b"hi\n").expect("send");
    step_until(&mut harness, "the data row", |h| h.query_by_label("hi").is_some());
    drop(client);
    let left = format!("{local} disconnected (closed)");
    step_until(&mut harness, "the row saying the client left", |h| {
        h.query_by_label_contains(&left).is_some()
    });
    assert!(harness.query_by_label_contains(&format!("{local} connected")).is_some());
}

#[test]
fn the_plot_shows_the_bytes_per_second_the_engine_counted() {
    let mut harness = window(settings());
    let server = open_server(&mut harness);
    let (mut client, local) = connect(&mut harness, server);
    client.write_all(&[b'x'; 5000]).expect("send");
    let received = |h: &Harness<'static, WirepadApp>| -> f64 {
        h.state()
            .tab()
            .state
            .throughput()
            .total()
            .rates()
            .iter()
            .map(|rate| rate.rx)
            .sum()
    };
    // Sampled once a second whether the plot is shown or not: one second's rates add up to the bytes.
    step_until(&mut harness, "a sample holding the 5000 bytes", |h| received(h) > 0.0);
    assert!((received(&harness) - 5000.0).abs() < 1e-6, "{}", received(&harness));
    assert!(
        harness.state().tab().state.throughput().peer(local).is_some(),
        "the client's own series"
    );
    assert!(
        harness.query_by_label_contains("RX bytes/s").is_none(),
        "hidden until asked for"
    );
    harness.get_by_label("Plot").click();
    harness.step();
    harness.step();
    assert!(
        harness.query_by_label_contains("RX bytes/s").is_some(),
        "the plot with its legend"
    );
    assert!(harness.query_by_label_contains("TX bytes/s").is_some());
}

/// The window manager's close button, as eframe hands it to the app.
fn request_close(harness: &mut Harness<'static, WirepadApp>) {
    let root = harness.input_mut().viewports.entry(egui::ViewportId::ROOT).or_default();
    root.events.push(egui::ViewportEvent::Close);
    harness.run_steps(2);
}

fn commands(harness: &Harness<'static, WirepadApp>) -> Vec<egui::ViewportCommand> {
    harness.output().viewport_output[&egui::ViewportId::ROOT]
        .commands
        .clone()
}

/// Issue 22.11: closing the window with a session open asks first; "Keep open" keeps it, "Quit" closes.
#[test]
fn closing_the_window_with_an_open_session_asks_first() {
    let mut harness = window(settings());
    request_close(&mut harness);
    assert!(!harness.state().asking_to_quit(), "nothing open: nothing to ask");
    open_server(&mut harness);
    request_close(&mut harness);
    assert!(harness.state().asking_to_quit());
    assert!(harness.query_by_label_contains("Sessions still open: 1").is_some());
    harness.get_by_label("Keep open").click();
    harness.run_steps(2);
    assert!(!harness.state().asking_to_quit());
    assert!(harness.state().tab().state.is_open());
    request_close(&mut harness);
    harness.get_by_label("Quit").click();
    harness.step();
    assert!(
        commands(&harness).contains(&egui::ViewportCommand::Close),
        "{:?}",
        commands(&harness)
    );
}

/// Ctrl+C or SIGTERM closes a window with open sessions without asking: nobody is there to answer, and a
/// question would keep the process running forever.
#[test]
fn a_signal_closes_the_window_with_an_open_session_without_asking() {
    let mut harness = window(settings());
    open_server(&mut harness);
    wirepad::gui::app::close_for_signal(&harness.ctx);
    request_close(&mut harness);
    assert!(!harness.state().asking_to_quit());
    assert!(
        !commands(&harness).contains(&egui::ViewportCommand::CancelClose),
        "{:?}",
        commands(&harness)
    );
}

/// Issue 22.9: the status bar's counts have units, and the exact count, grouped, on hover.
#[test]
fn the_status_bar_shows_units_and_the_exact_count_on_hover() {
    let mut harness = window(settings());
    let server = open_server(&mut harness);
    let (mut client, _) = connect(&mut harness, server);
    client.write_all(&[b'x'; 1536]).expect("send");
    step_until(&mut harness, "the count", |h| {
        h.query_by_label_contains("RX: 1.5 KiB").is_some()
    });
    harness.get_by_label_contains("RX: 1.5 KiB").hover();
    step_until(&mut harness, "the tooltip", |h| {
        h.query_by_label_contains("1,536 bytes").is_some()
    });
}

/// Issue 22.11: a remote port out of range says the remote's range (1–65535), as port 0 does.
#[test]
fn every_bad_remote_port_names_the_remote_range() {
    for port in ["70000", "0", "x"] {
        let harness = window(TabConfig {
            mode: Kind::TcpClient,
            remote_host: "127.0.0.1".into(),
            remote_port: port.into(),
            ..settings()
        });
        assert!(
            harness
                .query_by_label("Remote port must be a whole number 1–65535")
                .is_some(),
            "{port}"
        );
    }
}
