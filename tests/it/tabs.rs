//! Several sessions in one window: tabs, side by side, each with its own session, driven through the window.
use std::io::Write;
use std::net::TcpStream;

use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use wirepad::gui::WirepadApp;
use wirepad::gui::i18n::Lang;
use wirepad::net::Kind;
use wirepad::settings::TabConfig;

use crate::support::read_to_end_or_reset;
use crate::ui::{english, settings, step_until, window_with};

fn named(name: &str, mode: Kind) -> TabConfig {
    TabConfig {
        name: name.into(),
        mode,
        remote_host: "127.0.0.1".into(),
        ..settings()
    }
}

/// A server tab and a client tab, the server's shown first.
fn server_and_client() -> Harness<'static, WirepadApp> {
    window_with(
        english(),
        vec![named("Alpha", Kind::TcpServer), named("Beta", Kind::TcpClient)],
    )
}

fn show_tab(harness: &mut Harness<'static, WirepadApp>, name: &str) {
    harness.get_by_label_contains(name).click();
    harness.run_steps(2);
    let focused = harness.state().tab().config.name.clone();
    assert_eq!(focused, name, "the clicked tab is the one in use");
}

/// Opens the server in "Alpha", then points "Beta" at it and opens that: both through the window.
fn connect_the_two(harness: &mut Harness<'static, WirepadApp>) -> std::net::SocketAddr {
    harness.get_by_label("Open").click();
    step_until(harness, "the server to listen", |h| {
        h.state().tab().state.local_addr().is_some()
    });
    let server = harness.state().tab().state.local_addr().expect("listening");
    show_tab(harness, "Beta");
    harness
        .get_by_label("Remote port")
        .set_text_value_accesskit(&server.port().to_string());
    harness.run();
    harness.get_by_label("Open").click();
    step_until(harness, "the client to connect", |h| {
        matches!(
            h.state().tab().state.link(),
            wirepad::session::state::LinkState::Connected { .. }
        )
    });
    server
}

fn send_box(harness: &mut Harness<'static, WirepadApp>, text: &str) {
    harness.get_by_label("Send box").set_text_value_accesskit(text);
    harness.run();
    harness.get_by_label("Send").click();
    harness.run();
}

#[test]
fn a_server_tab_and_a_client_tab_talk_and_each_keeps_its_own_data() {
    let mut harness = server_and_client();
    connect_the_two(&mut harness);
    send_box(&mut harness, "from-beta");
    show_tab(&mut harness, "Alpha");
    step_until(&mut harness, "the server tab to show the client's bytes", |h| {
        h.state().tab().state.view_text().contains("from-beta")
    });
    send_box(&mut harness, "from-alpha");
    step_until(&mut harness, "the server's own send to show", |h| {
        h.state().tab().state.view_text().contains("from-alpha")
    });
    show_tab(&mut harness, "Beta");
    step_until(&mut harness, "the client tab to show the server's bytes", |h| {
        h.state().tab().state.view_text().contains("from-alpha")
    });
    let app = harness.state();
    let [alpha, beta] = [0, 1].map(|i| app.tab_by_id(app.tab_ids()[i]).expect("tab"));
    assert_eq!(
        (alpha.state.totals().rx_bytes(), alpha.state.totals().tx_bytes()),
        (9, 10)
    );
    assert_eq!(
        (beta.state.totals().rx_bytes(), beta.state.totals().tx_bytes()),
        (10, 9)
    );
    assert!(
        !beta.state.view_text().contains("from-beta\n← "),
        "each view holds its own session only"
    );
}

#[test]
fn a_background_tab_keeps_receiving_and_is_marked_until_shown() {
    let mut harness = server_and_client();
    harness.get_by_label("Open").click();
    step_until(&mut harness, "the server to listen", |h| {
        h.state().tab().state.local_addr().is_some()
    });
    let server = harness.state().tab().state.local_addr().expect("listening");
    show_tab(&mut harness, "Beta");
    let alpha = harness.state().tab_ids()[0];
    let mut peer = TcpStream::connect(server).expect("connect");
    peer.write_all(b"while hidden").expect("send");
    step_until(&mut harness, "the hidden tab to take in the bytes", |h| {
        h.state()
            .tab_by_id(alpha)
            .is_some_and(|tab| tab.state.totals().rx_bytes() == 12 && tab.state.unseen())
    });
    assert!(
        harness.state().tab().state.view_text().is_empty(),
        "the tab on show has none of it"
    );
    assert!(
        harness.query_by_label_contains("Alpha ◆").is_some(),
        "the title is marked"
    );
    show_tab(&mut harness, "Alpha");
    step_until(&mut harness, "the data on show", |h| {
        h.state().tab().state.view_text().contains("while hidden")
    });
    assert!(!harness.state().tab().state.unseen(), "seen now");
    assert!(harness.query_by_label_contains("Alpha ◆").is_none());
}

#[test]
fn closing_a_tab_with_an_open_session_asks_and_then_closes_the_session() {
    let mut harness = server_and_client();
    harness.get_by_label("Open").click();
    step_until(&mut harness, "the server to listen", |h| {
        h.state().tab().state.local_addr().is_some()
    });
    let server = harness.state().tab().state.local_addr().expect("listening");
    let mut peer = TcpStream::connect(server).expect("connect");
    step_until(&mut harness, "the client to join", |h| {
        h.state().tab().state.clients().count() == 1
    });
    harness.key_press_modifiers(Modifiers::COMMAND, Key::W);
    harness.run_steps(3);
    assert!(harness.state().confirming_close().is_some(), "asks first");
    harness.get_by_label("Keep").click();
    harness.run_steps(3);
    assert_eq!(harness.state().tab_ids().len(), 2, "kept");
    harness.get_by_label("Close tab").click();
    harness.run_steps(3);
    let buttons: Vec<_> = harness.query_all_by_label("Close tab").collect();
    assert_eq!(buttons.len(), 2, "the toolbar's and the question's");
    buttons[1].click();
    harness.run_steps(3);
    assert_eq!(harness.state().tab_ids().len(), 1);
    assert_eq!(harness.state().tab().config.name, "Beta");
    // The session went with its tab: its client is disconnected and nobody listens any more.
    assert!(read_to_end_or_reset(&mut peer).is_empty());
    assert!(TcpStream::connect(server).is_err(), "nobody listens any more");
}

#[test]
fn keyboard_and_toolbar_make_switch_rename_duplicate_and_split_tabs() {
    let mut harness = window_with(english(), vec![named("Alpha", Kind::TcpServer)]);
    harness.run();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::T);
    harness.run();
    assert_eq!(harness.state().tab_ids().len(), 2, "Ctrl+T");
    assert_eq!(harness.state().tab().config.name, "", "the new tab is shown");
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Num1);
    harness.run();
    assert_eq!(harness.state().tab().config.name, "Alpha", "Ctrl+1");
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Tab);
    harness.run();
    assert_eq!(harness.state().tab().config.name, "", "Ctrl+Tab");
    harness.get_by_label("Rename").click();
    harness.run();
    harness.get_by_label("Tab name").set_text_value_accesskit("Gamma");
    harness.run();
    harness.get_by_label("OK").click();
    harness.run();
    assert_eq!(harness.state().tab().config.name, "Gamma");
    harness.get_by_label("Duplicate").click();
    harness.run();
    assert_eq!(harness.state().tab_ids().len(), 3);
    assert_eq!(harness.state().tab().config.name, "Gamma 2");
    // Side by side: two tab bars, both tabs' panels on screen at once.
    assert_eq!(harness.query_all_by_label("Open").count(), 1);
    harness.get_by_label("Side by side").click();
    harness.run_steps(3);
    assert!(harness.state().side_by_side());
    assert_eq!(harness.query_all_by_label("Open").count(), 2, "two tabs shown");
    assert_eq!(harness.state().shown_tabs().len(), 2);
}

/// `wirepad gui tcp-server … + tcp-client …`: one tab per session, each open, and the server's client is
/// the client tab.
#[test]
fn gui_with_two_sessions_opens_two_tabs_that_talk() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let args: Vec<std::ffi::OsString> = ["tcp-server", &format!("127.0.0.1:{port}"), "+", "tcp-client"]
        .iter()
        .map(Into::into)
        .chain([format!("127.0.0.1:{port}").into(), "--reconnect".into()])
        .collect();
    let launches = wirepad::cli::gui_sessions(args).expect("two sessions the window takes");
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |cc| WirepadApp::from_stored(&cc.egui_ctx, None, Lang::En, None, &launches));
    assert!(harness.state().side_by_side(), "two sessions are shown side by side");
    step_until(&mut harness, "both tabs connected", |h| {
        let app = h.state();
        let ids = app.tab_ids();
        ids.len() == 2
            && app
                .tab_by_id(ids[0])
                .is_some_and(|tab| tab.state.clients().count() == 1)
            && app
                .tab_by_id(ids[1])
                .is_some_and(|tab| matches!(tab.state.link(), wirepad::session::state::LinkState::Connected { .. }))
    });
}

#[test]
fn a_bad_session_among_several_is_a_usage_error() {
    let args = ["tcp-server", "0", "+", "tcp-client"].map(Into::into).to_vec();
    assert!(wirepad::cli::gui_sessions(args).is_err());
}

#[test]
fn twenty_tabs_each_open_all_keep_receiving() {
    let configs: Vec<TabConfig> = (0..20).map(|i| named(&format!("T{i}"), Kind::TcpServer)).collect();
    let mut harness = window_with(english(), configs);
    let ids = harness.state().tab_ids();
    for id in &ids {
        harness
            .state_mut()
            .apply(wirepad::gui::ui::Action::Tab(*id, wirepad::gui::tab::TabAction::Open));
    }
    step_until(&mut harness, "twenty listeners", |h| {
        ids.iter().all(|id| {
            h.state()
                .tab_by_id(*id)
                .is_some_and(|tab| tab.state.local_addr().is_some())
        })
    });
    let mut peers: Vec<TcpStream> = ids
        .iter()
        .map(|id| {
            let addr = harness
                .state()
                .tab_by_id(*id)
                .and_then(|tab| tab.state.local_addr())
                .expect("addr");
            TcpStream::connect(addr).expect("connect")
        })
        .collect();
    for (index, peer) in peers.iter_mut().enumerate() {
        peer.write_all(format!("tab {index}").as_bytes()).expect("send");
    }
    step_until(&mut harness, "every tab to count its peer's bytes", |h| {
        ids.iter().enumerate().all(|(index, id)| {
            h.state()
                .tab_by_id(*id)
                .is_some_and(|tab| tab.state.totals().rx_bytes() == format!("tab {index}").len() as u64)
        })
    });
    // Only the shown tab's view is brought up to date each frame; the others catch up when shown.
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Num9);
    harness.run_steps(2);
    step_until(&mut harness, "the ninth tab's data on show", |h| {
        h.state().tab().state.view_text().contains("tab 8")
    });
}

/// One tab's worker panics (the test hook's bytes arrive): that tab's session ends with a message naming the crash
/// log, which holds the panic and a backtrace; the other tab's session goes on receiving.
#[test]
fn a_panicking_session_ends_its_own_tab_naming_the_crash_log_and_the_other_goes_on() {
    let marker = b"wirepad-window-test-panic";
    let crashes = std::env::temp_dir().join(format!("wirepad-it-crashes-{}", std::process::id()));
    wirepad::crash::install(crashes);
    wirepad::crash::arm_test_panic(marker);
    let configs = vec![named("Alpha", Kind::TcpServer), named("Beta", Kind::TcpServer)];
    let mut harness = window_with(english(), configs);
    let ids = harness.state().tab_ids();
    for id in &ids {
        harness
            .state_mut()
            .apply(wirepad::gui::ui::Action::Tab(*id, wirepad::gui::tab::TabAction::Open));
    }
    let addr =
        |h: &Harness<'static, WirepadApp>, i: usize| h.state().tab_by_id(ids[i]).and_then(|t| t.state.local_addr());
    step_until(&mut harness, "two listeners", |h| {
        addr(h, 0).is_some() && addr(h, 1).is_some()
    });
    let [alpha, beta] = [0, 1].map(|i| addr(&harness, i).expect("listening"));
    let mut doomed = TcpStream::connect(alpha).expect("connect");
    doomed.write_all(marker).expect("send");
    step_until(&mut harness, "Alpha's session to end", |h| {
        !h.state().tab().state.is_open()
    });
    let message = harness.state().error().expect("the tab says why");
    let log = message
        .split_once("crash log ")
        .map(|(_, path)| std::path::PathBuf::from(path))
        .unwrap_or_else(|| panic!("{message:?} names no crash log"));
    let report = std::fs::read_to_string(&log).expect("the crash log");
    assert!(report.contains("test hook") && report.contains("backtrace"), "{report}");
    assert!(
        harness.query_by_label_contains("crash log").is_some(),
        "the message is on show in the tab"
    );
    let mut fine = TcpStream::connect(beta).expect("Beta still listens");
    fine.write_all(b"still here").expect("send");
    step_until(&mut harness, "Beta to receive", |h| {
        h.state()
            .tab_by_id(ids[1])
            .is_some_and(|tab| tab.state.is_open() && tab.state.totals().rx_bytes() == 10)
    });
}
