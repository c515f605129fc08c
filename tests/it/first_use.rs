//! The window as a first-time user meets it: defaults, stale state, counters that only grow, live checks of the
//! send box, file dialogs that do not exist, and a settings file with one bad value.
use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, bounded};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use wirepad::codec::text::TextEncoding;
use wirepad::gui::WirepadApp;
use wirepad::gui::dialog::{Chosen, FileDialogs, FilePurpose};
use wirepad::gui::i18n::Lang;
use wirepad::net::Kind;
use wirepad::settings::{Prefs, ReceiveSettings, TabConfig};

use crate::support::{TIMEOUT, eventually, read_exactly};
use crate::ui::{connect, english, open_server, settings, step_until, window, window_with};

fn choose_mode(harness: &mut Harness<'static, WirepadApp>, mode: &str) {
    harness.get_by_label("Mode").click();
    harness.run();
    harness
        .get_by_role_and_label(egui::accesskit::Role::Button, mode)
        .click();
    harness.run();
}

fn is_disabled(harness: &Harness<'static, WirepadApp>, label: &str) -> bool {
    harness.get_by_label(label).accesskit_node().is_disabled()
}

/// Writes `total` bytes from `client` while the window is not stepped, so the engine has to drop display data.
fn flood_unseen(client: &mut std::net::TcpStream, total: usize) {
    let block = vec![b'x'; 64 * 1024];
    for _ in 0..total / block.len() {
        client.write_all(&block).expect("flood");
    }
}

#[test]
fn a_fresh_tcp_client_binds_any_port_so_it_reaches_a_server_on_the_port_server_mode_used() {
    let server = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = server.local_addr().expect("addr").port().to_string();
    // A fresh profile: every default as shipped, in English.
    let mut harness = window(TabConfig::default());
    // The user first typed the server's port in server mode (as with NetAssist's 8080 on both sides) …
    harness.get_by_label("Local port").set_text_value_accesskit(&port);
    harness.run();
    // … then switches to TCP client: its own local port is 0 (any), not the server's.
    choose_mode(&mut harness, "TCP Client");
    assert_eq!(harness.get_by_label("Local port").value().as_deref(), Some("0"));
    harness
        .get_by_label("Remote host")
        .set_text_value_accesskit("127.0.0.1");
    harness.get_by_label("Remote port").set_text_value_accesskit(&port);
    harness.run();
    harness.get_by_label("Open").click();
    harness.step();
    server
        .set_nonblocking(false)
        .expect("blocking accept is bounded by the connect below");
    step_until(&mut harness, "connected", |h| {
        matches!(
            h.state().tab().state.link(),
            wirepad::session::state::LinkState::Connected { .. }
        )
    });
    assert_eq!(harness.state().error(), None, "no bind error");
    assert_eq!(
        harness.state().tab().config.local_ports.tcp_server,
        port,
        "server mode keeps its port"
    );
}

#[test]
fn a_chinese_system_defaults_to_gbk_and_any_other_to_utf8() {
    let ctx = egui::Context::default();
    for (system, encoding) in [(Lang::Zh, TextEncoding::GBK), (Lang::En, TextEncoding::UTF8)] {
        let app = WirepadApp::from_stored(&ctx, None, system, None, &[]);
        assert_eq!(app.tab().config.receive.encoding, encoding, "{system:?}");
        assert_eq!(app.tab().config.local_port(), "8080");
        assert_eq!(app.tab().config.local_ports.tcp_client, "0");
        // `wirepad gui tcp-server …` without -e keeps the system's default too.
        let session = wirepad::cli::parse_session(["tcp-server", "127.0.0.1:0"]).expect("valid");
        let launch = session.for_window().expect("the window takes it");
        let app = WirepadApp::from_stored(&ctx, None, system, None, &[launch.into()]);
        assert_eq!(app.tab().config.receive.encoding, encoding, "{system:?}, launched");
    }
}

#[test]
fn client_counters_are_exact_however_much_the_view_dropped_and_the_table_stays_in_the_panel() {
    let mut harness = window(settings());
    let server = open_server(&mut harness);
    let (mut a, peer_a) = connect(&mut harness, server);
    let (_b, _) = connect(&mut harness, server);
    let kick_before = harness.get_all_by_label("Kick").next().expect("kick").rect();
    let total = 96 << 20;
    flood_unseen(&mut a, total);
    step_until(&mut harness, "every byte counted", |h| {
        h.state().tab().state.totals().rx_bytes() == total as u64
    });
    // The view indexes what it kept over several frames.
    harness.run_steps(60);
    let counted = harness
        .state()
        .tab()
        .state
        .client_counters(peer_a)
        .expect("a is listed");
    assert!(
        harness.state().tab().state.totals().dropped_from_view() > 0,
        "the window was not stepped, so the engine dropped display data"
    );
    assert_eq!(
        counted.rx_bytes, total as u64,
        "the client's ↓ is the engine's exact count"
    );
    // Human sizes with the exact count on hover, and nothing pushed out of place by big numbers.
    assert!(harness.query_by_label("96.0 MiB").is_some(), "shown as a human size");
    let kick_after = harness.get_all_by_label("Kick").next().expect("kick").rect();
    assert_eq!(kick_before, kick_after, "the kick button did not move");
    let window_width = 1280.0;
    assert!(kick_after.max.x <= window_width, "the kick button stays in the window");
    let address = harness.get_by_label(&peer_a.to_string()).rect();
    let size = harness.get_by_label("96.0 MiB").rect();
    assert!(
        !address.intersects(size),
        "address {address:?} and size {size:?} do not overlap"
    );
}

#[test]
fn dropped_from_view_only_grows_until_reset() {
    let mut harness = window(TabConfig {
        receive: ReceiveSettings {
            buffer_mib: 1,
            ..ReceiveSettings::default()
        },
        ..settings()
    });
    let server = open_server(&mut harness);
    let (mut client, _) = connect(&mut harness, server);
    // Stepped all along: what drops is the 1 MiB history's oldest data.
    let mut sent = 0;
    let mut send_blocks = |harness: &mut Harness<'static, WirepadApp>, blocks: usize| {
        let block = vec![b'y'; 256 * 1024];
        for _ in 0..blocks {
            client.write_all(&block).expect("send");
            sent += block.len() as u64;
            harness.step();
        }
        step_until(harness, "all counted", |h| {
            h.state().tab().state.totals().rx_bytes() == sent
        });
        // The view indexes what it kept over a few frames.
        harness.run_steps(20);
    };
    send_blocks(&mut harness, 12);
    // Every byte received ends up either in the history or counted as dropped (or cleared by the user); the
    // last batch may still be on its way from the engine, so this is waited for, not taken at one instant.
    let accounted = |harness: &mut Harness<'static, WirepadApp>, cleared: u64| {
        step_until(harness, "every received byte shown or counted as dropped", |h| {
            h.state().tab().state.totals().dropped_from_view() + h.state().tab().state.history_bytes() + cleared
                == h.state().tab().state.totals().rx_bytes()
        });
    };
    accounted(&mut harness, 0);
    let dropped = harness.state().tab().state.totals().dropped_from_view();
    assert!(dropped > 0, "the history dropped its oldest data");
    harness.get_by_label("Hex view").click();
    harness.run_steps(5);
    assert_eq!(
        harness.state().tab().state.totals().dropped_from_view(),
        dropped,
        "hex switch"
    );
    let cleared = harness.state().tab().state.history_bytes();
    harness.get_by_label("Clear").click();
    harness.run_steps(5);
    assert_eq!(
        harness.state().tab().state.totals().dropped_from_view(),
        dropped,
        "clear"
    );
    // More arrives after Clear: counted on top, from the fresh history's own drops.
    send_blocks(&mut harness, 8);
    assert!(
        harness.state().tab().state.totals().dropped_from_view() > dropped,
        "grows after Clear"
    );
    accounted(&mut harness, cleared);
    harness.get_by_label("Reset counters").click();
    // Stepped, not run to rest: the view may still be scrolling to its newest rows.
    harness.run_steps(5);
    assert_eq!(harness.state().tab().state.totals().dropped_from_view(), 0, "reset");
    assert_eq!(harness.state().tab().state.totals().rx_bytes(), 0, "reset");
}

#[test]
fn ctrl_l_empties_the_view_as_clear_does_and_the_counters_stay() {
    let mut harness = window(settings());
    let server = open_server(&mut harness);
    let (mut client, _) = connect(&mut harness, server);
    client.write_all(b"hello").expect("send");
    step_until(&mut harness, "shown", |h| h.state().tab().state.history_bytes() == 5);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::L);
    harness.run_steps(3);
    assert_eq!(harness.state().tab().state.history_bytes(), 0, "the view is empty");
    assert_eq!(harness.state().tab().state.totals().rx_bytes(), 5, "the counters stay");
}

#[test]
fn bad_hex_is_reported_as_typed_and_fixing_it_clears_the_message() {
    let mut harness = window(settings());
    let server = open_server(&mut harness);
    let (mut client, _) = connect(&mut harness, server);
    harness.get_by_label("Hex send").click();
    harness.get_by_label("Send box").set_text_value_accesskit("41 4G");
    harness.run();
    assert_eq!(
        harness.state().send_error().as_deref(),
        Some("bad hex digit 'G' at position 5"),
        "shown before any click on Send"
    );
    assert!(is_disabled(&harness, "Send"), "Send is disabled while the box is bad");
    harness.get_by_label("Send box").set_text_value_accesskit("41 42");
    harness.run();
    assert_eq!(harness.state().send_error(), None, "the message goes with the error");
    assert!(!is_disabled(&harness, "Send"));
    harness.get_by_label("Send").click();
    harness.run();
    assert_eq!(read_exactly(&mut client, 2), b"AB");
}

#[test]
fn ticking_hex_send_converts_the_box_in_the_chosen_encoding_and_back() {
    let mut harness = window(TabConfig {
        receive: ReceiveSettings {
            encoding: TextEncoding::GBK,
            ..ReceiveSettings::default()
        },
        ..settings()
    });
    harness.get_by_label("Send box").set_text_value_accesskit("你好");
    harness.run();
    harness.get_by_label("Hex send").click();
    harness.run();
    assert_eq!(harness.state().tab().config.send.text, "C4 E3 BA C3");
    assert!(harness.state().tab().config.send.hex);
    harness.get_by_label("Hex send").click();
    harness.run();
    assert_eq!(harness.state().tab().config.send.text, "你好");
    assert!(!harness.state().tab().config.send.hex);
}

#[test]
fn an_error_belongs_to_its_attempt_and_a_failed_open_keeps_the_counters() {
    let mut harness = window(settings());
    let server = open_server(&mut harness);
    let (mut client, _) = connect(&mut harness, server);
    client.write_all(b"12345").expect("send");
    step_until(&mut harness, "counted", |h| {
        h.state().tab().state.totals().rx_bytes() == 5
    });
    harness.get_by_label("Close").click();
    harness.step();
    step_until(&mut harness, "the session to stop", |h| {
        !h.state().tab().state.stopping()
    });
    // Open again on a port that is taken.
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    harness.get_by_label("Local port").set_text_value_accesskit(&port);
    harness.run();
    harness.get_by_label("Open").click();
    step_until(&mut harness, "the error", |h| h.state().error().is_some());
    let error = harness.state().error().expect("address in use");
    assert!(error.contains("address in use"), "{error}");
    assert_eq!(
        harness.state().tab().state.totals().rx_bytes(),
        5,
        "a failed Open keeps the counters"
    );
    choose_mode(&mut harness, "TCP Client");
    assert_eq!(harness.state().error(), None, "the server's error is not the client's");
    assert!(harness.query_by_label_contains("address in use").is_none());
    choose_mode(&mut harness, "TCP Server");
    assert!(
        harness.state().error().is_some(),
        "back in server mode, its error is still its own"
    );
}

#[test]
fn an_error_wraps_between_what_failed_and_why_without_widening_its_column() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let mut zh = settings();
    zh.local_ports.tcp_server = port.to_string();
    let chinese = Prefs {
        language: Some(Lang::Zh),
        ..Prefs::default()
    };
    // The smallest window: the left column fills up and gets a scroll bar.
    let mut harness = Harness::builder()
        .with_size(egui::vec2(800.0, 560.0))
        .build_eframe(move |cc| WirepadApp::new(&cc.egui_ctx, chinese, vec![zh]));
    harness.run();
    let send_box_left = |h: &Harness<'static, WirepadApp>| h.get_by_label("发送内容").rect().min.x;
    let before = send_box_left(&harness);
    harness.get_by_label("打开").click();
    let shown = format!("无法在 127.0.0.1:{port} 上监听：\n地址已被占用");
    // Open starts the session on a thread of its own: the error comes a few frames later.
    step_until(&mut harness, "the error", |h| h.query_by_label(&shown).is_some());
    harness.run();
    let message = harness.get_by_label(&shown).rect();
    assert_eq!(send_box_left(&harness), before, "the left column kept its width");
    assert!(message.max.x <= before, "the message stays inside its column");
}

/// A system without any file dialog.
struct NoDialogs;

impl FileDialogs for NoDialogs {
    fn choose(&self, _: FilePurpose) -> Chosen {
        Chosen::Unavailable
    }
}

#[test]
fn without_a_file_dialog_the_window_says_so_and_takes_a_typed_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("view.txt");
    let mut harness = window(settings());
    harness.state_mut().set_file_dialogs(Arc::new(NoDialogs));
    harness.run();
    harness.get_by_label("Save view…").click();
    step_until(&mut harness, "the path prompt", |h| h.query_by_label("Path").is_some());
    assert!(
        harness.query_by_label_contains("No file dialog is available").is_some(),
        "the window says what is missing"
    );
    harness
        .get_by_label("Path")
        .set_text_value_accesskit(path.to_str().expect("utf-8"));
    harness.run();
    harness.get_by_label("OK").click();
    // Stepped, not run to rest: the "Saved to" notice may still be fading in.
    harness.run_steps(4);
    eventually("the view saved to the typed path", TIMEOUT, || {
        path.exists().then_some(())
    });
    assert!(harness.query_by_label("Path").is_none(), "the prompt closed");
}

/// A dialog that stays up until the test answers it, counting how often one was opened.
struct HeldDialog {
    opened: AtomicUsize,
    answer: Mutex<Receiver<PathBuf>>,
}

impl FileDialogs for HeldDialog {
    fn choose(&self, _: FilePurpose) -> Chosen {
        self.opened.fetch_add(1, Ordering::SeqCst);
        let answer = self.answer.lock().expect("lock").recv_timeout(TIMEOUT);
        answer.map_or(Chosen::Cancelled, Chosen::Path)
    }
}

#[test]
fn one_file_dialog_at_a_time() {
    let (answer_tx, answer_rx) = bounded(1);
    let dialog = Arc::new(HeldDialog {
        opened: AtomicUsize::new(0),
        answer: Mutex::new(answer_rx),
    });
    let mut harness = window(settings());
    harness.state_mut().set_file_dialogs(dialog.clone());
    harness.run();
    harness.get_by_label("Save view…").click();
    harness.run();
    step_until(&mut harness, "the dialog to be up", |h| h.state().dialog_open());
    assert!(
        is_disabled(&harness, "Save view…"),
        "a second click cannot open another"
    );
    harness.get_by_label("Save view…").click();
    harness.get_by_label("Receive to file…").click();
    harness.run();
    let dir = tempfile::tempdir().expect("temp dir");
    answer_tx.send(dir.path().join("view.txt")).expect("answer");
    step_until(&mut harness, "the dialog to close", |h| !h.state().dialog_open());
    assert_eq!(dialog.opened.load(Ordering::SeqCst), 1);
}

/// Two saved tabs, the second with a value no version of Wirepad wrote: that value alone gets its default.
#[test]
fn one_unreadable_setting_costs_only_itself_and_the_file_is_kept() {
    let prefs = Prefs {
        quick_commands: vec![wirepad::settings::QuickCommand {
            name: "ping".into(),
            text: "PING".into(),
            hex: false,
        }],
        remote_history: vec!["10.0.0.9:502".into()],
        ..english()
    };
    let first = TabConfig {
        name: "left".into(),
        ..settings()
    };
    let second = TabConfig {
        name: "right".into(),
        mode: Kind::Udp,
        ..settings()
    };
    let ctx = egui::Context::default();
    let good = WirepadApp::new(&ctx, prefs.clone(), vec![first.clone(), second.clone()]).saved_text();
    let text = good.replacen("mode:Udp", "mode:Carrier", 1);
    assert_ne!(text, good, "the second tab's mode is in the file");
    let dir = tempfile::tempdir().expect("temp dir");
    let bad_copy = dir.path().join("app.ron.bad");
    let mut harness = Harness::builder().with_size(egui::vec2(1280.0, 800.0)).build_eframe({
        let (text, bad_copy) = (text.clone(), bad_copy.clone());
        move |cc| WirepadApp::from_stored(&cc.egui_ctx, Some(text), Lang::En, Some(bad_copy), &[])
    });
    harness.run();
    let app = harness.state();
    assert_eq!(app.prefs(), &prefs, "quick commands and history kept");
    let tabs: Vec<TabConfig> = app
        .tab_ids()
        .into_iter()
        .filter_map(|id| app.tab_by_id(id).map(|tab| tab.config.clone()))
        .collect();
    let damaged = TabConfig {
        mode: TabConfig::default().mode,
        ..second
    };
    assert_eq!(
        tabs,
        vec![first, damaged],
        "the other tab intact, the bad value got its default"
    );
    let notice = app.notice().expect("the window says so");
    assert!(
        notice.contains("tab 2: mode") && notice.contains("app.ron.bad"),
        "{notice}"
    );
    assert!(harness.query_by_label_contains("could not be read").is_some(), "shown");
    eventually("the unreadable file kept beside", TIMEOUT, || {
        (std::fs::read_to_string(&bad_copy).ok().as_deref() == Some(text.as_str())).then_some(())
    });
    harness.get_by_label("Dismiss").click();
    harness.run();
    assert!(harness.state().notice().is_none(), "said once, then gone");
}

/// The single-session file of the version before tabs becomes one tab and the global settings.
#[test]
fn the_settings_file_from_before_tabs_becomes_the_first_tab() {
    let old = r#"(language:Some(En),mode:Udp,local_ip:"127.0.0.1",local_ports:(tcp_server:"8080",tcp_client:"0",udp:"7788"),remote_history:["10.0.0.9:502"],quick_commands:[(name:"ping",text:"PING",hex:false)],receive:(hex:true))"#;
    let ctx = egui::Context::default();
    let app = WirepadApp::from_stored(&ctx, Some(old.into()), Lang::Zh, None, &[]);
    assert_eq!(app.notice(), None, "nothing lost");
    assert_eq!(app.tab_ids().len(), 1);
    let tab = &app.tab().config;
    assert_eq!((tab.mode, tab.local_port(), tab.receive.hex), (Kind::Udp, "7788", true));
    assert_eq!(app.prefs().remote_history, vec!["10.0.0.9:502"]);
    assert_eq!(app.prefs().quick_commands.len(), 1);
    assert_eq!(app.lang(), Lang::En);
    let migrated = app.tab().config.clone();
    drop(app);
    // A window started with sessions of its own leaves that tab saved for the next plain start.
    let session = wirepad::cli::parse_session(["tcp-server", "127.0.0.1:0"]).expect("valid");
    let launch = session.for_window().expect("the window takes it");
    let launched = WirepadApp::from_stored(&ctx, Some(old.into()), Lang::Zh, None, &[launch.into()]);
    assert_eq!(launched.tab().config.mode, Kind::TcpServer);
    let saved = launched.saved_text();
    drop(launched);
    let again = WirepadApp::from_stored(&ctx, Some(saved), Lang::Zh, None, &[]);
    assert_eq!(again.tab_ids().len(), 1);
    assert_eq!(again.tab().config, migrated);
}

#[test]
fn controls_explain_themselves_in_the_window_language() {
    for (lang, control, tip) in [
        (Lang::En, "Local port", "0 (the default) = any free port"),
        (Lang::Zh, "本地主机端口", "默认 0 = 由系统分配"),
        (Lang::En, "Count", "0 = until unticked"),
    ] {
        let prefs = Prefs {
            language: Some(lang),
            ..Prefs::default()
        };
        let mut harness = window_with(
            prefs,
            vec![TabConfig {
                mode: Kind::TcpClient,
                ..settings()
            }],
        );
        harness
            .ctx
            .global_style_mut(|style| style.interaction.tooltip_delay = 0.0);
        harness.run();
        harness.get_by_label(control).hover();
        harness.run();
        assert!(
            harness.query_by_label_contains(tip).is_some(),
            "{control}: tooltip {tip:?}"
        );
    }
    assert_eq!(
        (Lang::Zh.kind_name(Kind::TcpServer), Lang::Zh.kind_name(Kind::TcpClient)),
        ("TCP 服务器", "TCP 客户端"),
        "modes are translated"
    );
}

#[test]
fn pause_stops_the_view_not_the_counters() {
    let mut harness = window(settings());
    let server = open_server(&mut harness);
    let (mut client, _) = connect(&mut harness, server);
    harness.get_by_label("Pause view").click();
    harness.step();
    client.write_all(b"unseen").expect("send");
    step_until(&mut harness, "counted", |h| {
        h.state().tab().state.totals().rx_bytes() == 6
    });
    harness.run_steps(3);
    assert_eq!(
        harness.state().tab().state.history_bytes(),
        0,
        "paused: nothing kept for the view"
    );
    harness.get_by_label("Pause view").click();
    harness.step();
    client.write_all(b"seen").expect("send");
    step_until(&mut harness, "shown", |h| h.state().tab().state.history_bytes() == 4);
    assert_eq!(harness.state().tab().state.totals().rx_bytes(), 10);
}

#[test]
fn a_quick_command_sends_its_bytes_to_the_client() {
    let prefs = Prefs {
        quick_commands: vec![wirepad::settings::QuickCommand {
            name: "Modbus read".into(),
            text: "01 03 00 00 00 0A".into(),
            hex: true,
        }],
        ..english()
    };
    let mut harness = window_with(prefs, vec![settings()]);
    let server = open_server(&mut harness);
    let (mut client, _) = connect(&mut harness, server);
    client.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    harness.get_by_label("Modbus read").click();
    harness.step();
    assert_eq!(read_exactly(&mut client, 6), [0x01, 0x03, 0x00, 0x00, 0x00, 0x0A]);
}

#[test]
fn close_during_a_flood_returns_at_once_and_the_flooder_is_disconnected() {
    let mut harness = window(settings());
    let server = open_server(&mut harness);
    let (client, _) = connect(&mut harness, server);
    let flooder = std::thread::spawn(move || {
        let mut client = client;
        client.set_write_timeout(Some(TIMEOUT)).expect("timeout");
        let block = vec![b'f'; 64 * 1024];
        // Until the window's session lets go of the connection (bounded: 4 GiB would take far longer than TIMEOUT).
        (0..65_536).find_map(|_| client.write_all(&block).err())
    });
    step_until(&mut harness, "flooding", |h| {
        h.state().tab().state.totals().rx_bytes() > 16 << 20
    });
    harness.get_by_label("Close").click();
    let started = Instant::now();
    harness.step();
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "Close waited {:?}",
        started.elapsed()
    );
    assert!(
        !harness.state().tab().state.is_open(),
        "closed in the frame it was clicked"
    );
    let error = flooder.join().expect("flooder thread").expect("the flooder stopped");
    // Not a write timeout: the window's side is gone.
    assert!(
        matches!(
            error.kind(),
            std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
        ),
        "{error:?}"
    );
}
