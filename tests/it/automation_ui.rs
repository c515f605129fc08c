//! The window's automation (framing, the rules table, the script panel) driven through its labels, on real sockets.
use std::io::Write;
use std::time::Duration;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use wirepad::automation::script::{ScriptSpec, StepSpec};
use wirepad::codec::checksum::Checksum;
use wirepad::codec::framing::Framing;
use wirepad::codec::text::TextEncoding;
use wirepad::gui::WirepadApp;
use wirepad::gui::auto_state::StepResult;
use wirepad::gui::i18n::Lang;
use wirepad::net::ScriptEnd;
use wirepad::settings::{AutoPanel, FrameKind, TabConfig};

use crate::support::{read_exactly, stays_silent};
use crate::ui::{connect, launch, launched_window, open_server, settings, step_until, window};

const LOGIN: &str = include_str!("../../examples/login-script.toml");

/// Opens the Automation section and shows `panel` (by its toggle's label).
fn show_panel(harness: &mut Harness<'static, WirepadApp>, toggle: &str) {
    harness.get_by_label("Automation").click();
    harness.run_steps(2);
    harness.get_by_label(toggle).click();
    // A panel settles its height over its first frames (a table sizes its columns first): a click comes after.
    harness.run_steps(4);
}

/// Adds a rule in the table and types its pattern and reply.
fn add_rule(harness: &mut Harness<'static, WirepadApp>, pattern: &str, reply: &str) {
    harness.get_by_label("Add rule").click();
    harness.run_steps(2);
    harness
        .get_by_role_and_label(Role::TextInput, "Pattern")
        .set_text_value_accesskit(pattern);
    harness
        .get_by_role_and_label(Role::TextInput, "Reply")
        .set_text_value_accesskit(reply);
    harness.run_steps(2);
}

#[test]
fn a_rule_added_in_the_table_answers_a_real_client_and_counts_its_hit() {
    let mut harness = window(settings());
    let server = open_server(&mut harness);
    show_panel(&mut harness, "Auto-reply");
    add_rule(&mut harness, "PING", "PONG\\r\\n");
    assert!(harness.query_by_label("Changed, not applied yet").is_some());
    harness.get_by_label("Apply").click();
    step_until(&mut harness, "the rule to be in force", |h| {
        h.query_by_label("In force").is_some()
    });
    let (mut client, _) = connect(&mut harness, server);
    client.write_all(b"xPINGx").expect("send");
    assert_eq!(read_exactly(&mut client, 6), b"PONG\r\n");
    step_until(&mut harness, "the hits column to show 1", |h| {
        let tab = h.state().tab();
        tab.state.auto().hits(0, &tab.config.rules[0]) == Some(1) && h.query_by_label("1").is_some()
    });
    // The rule answers no message that does not match.
    client.write_all(b"pong").expect("send");
    assert!(stays_silent(&mut client, Duration::from_millis(300)));
}

#[test]
fn an_invalid_regex_names_its_rule_and_nothing_is_applied() {
    let mut harness = window(settings());
    let server = open_server(&mut harness);
    show_panel(&mut harness, "Auto-reply");
    add_rule(&mut harness, "(", "x");
    harness
        .get_by_role_and_label(Role::TextInput, "Name")
        .set_text_value_accesskit("bad one");
    harness.get_by_role_and_label(Role::ComboBox, "Pattern").click();
    harness.run_steps(2);
    harness.get_by_label("Regex").click();
    harness.run_steps(3);
    assert_eq!(harness.state().tab().config.rules[0].match_regex.as_deref(), Some("("));
    // On the table's message line, naming the rule.
    let message = "rule 1 (bad one): `match_regex`: the regex does not compile: unclosed group";
    assert!(
        harness.query_by_label(message).is_some(),
        "the message names the rule, in the window"
    );
    assert!(harness.get_by_label("Apply").accesskit_node().is_disabled());
    harness.get_by_label("Apply").click();
    harness.run_steps(3);
    assert!(harness.state().tab().state.auto().applied(&[]), "no rules in force");
    let (mut client, _) = connect(&mut harness, server);
    client.write_all(b"(").expect("send");
    assert!(stays_silent(&mut client, Duration::from_millis(300)), "nothing answers");
}

/// A bad framing field says why and changes nothing; a good one cuts the open session's stream at once.
#[test]
fn framing_is_chosen_in_the_window_and_bad_input_changes_nothing() {
    let mut harness = window(settings());
    let server = open_server(&mut harness);
    harness.get_by_label("Automation").click();
    harness.run_steps(2);
    harness.get_by_role_and_label(Role::ComboBox, "Framing").click();
    harness.run_steps(2);
    harness.get_by_label("Time gap").click();
    harness.run_steps(2);
    let gap = Framing::Gap(Duration::from_millis(20));
    assert_eq!(*harness.state().tab().state.auto().framing(), gap, "the default gap");
    harness.get_by_label("Gap (ms)").set_text_value_accesskit("0");
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label_contains("expected whole milliseconds from 1 to 3600000")
            .is_some()
    );
    assert_eq!(*harness.state().tab().state.auto().framing(), gap, "nothing changed");
    harness
        .get_by_label("Gap (ms)")
        .set_text_value_accesskit("99999999999999999999999");
    harness.run_steps(2);
    assert_eq!(
        *harness.state().tab().state.auto().framing(),
        gap,
        "nor for an overflow"
    );
    harness.get_by_role_and_label(Role::ComboBox, "Framing").click();
    harness.run_steps(2);
    harness.get_by_label("Line").click();
    harness.run_steps(2);
    assert_eq!(*harness.state().tab().state.auto().framing(), Framing::Line);
    let (mut client, _) = connect(&mut harness, server);
    client.write_all(b"one\ntwo\n").expect("send");
    step_until(&mut harness, "one row per line", |h| {
        h.state().tab().state.view_text().matches("RX ←").count() == 2
    });
}

/// A server tab running the login script for each client; the test's client plays the login server's part.
fn login_window(script: ScriptSpec) -> (Harness<'static, WirepadApp>, std::net::SocketAddr) {
    let mut harness = window(TabConfig { script, ..settings() });
    let server = open_server(&mut harness);
    show_panel(&mut harness, "Script");
    harness.get_by_label("Run script").click();
    step_until(&mut harness, "the script to wait for a client", |h| {
        h.query_by_label("waiting for a client").is_some()
    });
    (harness, server)
}

fn run_end(harness: &Harness<'static, WirepadApp>) -> Option<ScriptEnd> {
    harness.state().tab().state.auto().shown_run().and_then(|run| run.end)
}

#[test]
fn the_login_script_passes_against_a_real_peer() {
    let (mut harness, server) = login_window(ScriptSpec::parse(LOGIN, TextEncoding::UTF8).expect("example"));
    let (mut client, _) = connect(&mut harness, server);
    client.write_all(b"Welcome!\n").expect("send");
    assert_eq!(read_exactly(&mut client, 8), b"Michael\n");
    client.write_all(b"Hello,Michael!\n").expect("send");
    step_until(&mut harness, "the run to pass", |h| run_end(h).is_some());
    assert_eq!(run_end(&harness), Some(ScriptEnd::Passed));
    let run = harness.state().tab().state.auto().shown_run().cloned().expect("a run");
    assert!(
        run.steps.iter().all(|step| matches!(step, StepResult::Passed(_))),
        "{run:?}"
    );
    harness.run_steps(2);
    assert_eq!(harness.query_all_by_label("passed").count(), 3, "each step");
    assert!(
        harness.query_by_label("waiting for a client · passed").is_some(),
        "the run, and the server waits for the next client"
    );
    assert!(harness.query_by_label_contains("Received instead").is_none());
}

/// The script panel's Variables box: ticked, a send step's `{seq}` counts the run's sends at the peer; unticked,
/// the braces go out as typed. The box is the script's `vars`, so it is saved and exported with it.
#[test]
fn the_script_variables_box_numbers_send_steps_and_unticked_keeps_braces() {
    for (tick, expected) in [(false, "n{seq}{{\nn{seq}{{\n"), (true, "n0{\nn1{\n")] {
        let script = ScriptSpec {
            repeat: 2,
            vars: false,
            steps: vec![StepSpec {
                send: Some("n{seq}{{\\n".into()),
                ..StepSpec::default()
            }],
        };
        let mut harness = window(TabConfig { script, ..settings() });
        let server = open_server(&mut harness);
        show_panel(&mut harness, "Script");
        if tick {
            harness.get_by_label("Variables in sends {seq}").click();
            harness.run_steps(2);
        }
        let script = &harness.state().tab().config.script;
        assert_eq!(script.vars, tick);
        assert_eq!(
            ScriptSpec::parse(&script.to_toml(), TextEncoding::UTF8).as_ref(),
            Ok(script)
        );
        harness.get_by_label("Run script").click();
        step_until(&mut harness, "the script to wait for a client", |h| {
            h.query_by_label("waiting for a client").is_some()
        });
        let (mut client, _) = connect(&mut harness, server);
        assert_eq!(
            String::from_utf8_lossy(&read_exactly(&mut client, expected.len())),
            expected,
            "ticked: {tick}"
        );
    }
}

#[test]
fn a_wrong_expect_fails_its_step_and_shows_what_arrived() {
    let mut script = ScriptSpec::parse(LOGIN, TextEncoding::UTF8).expect("example");
    script.steps[2].expect = Some("Hello,Bob!".into());
    script.steps[2].timeout_ms = Some(300);
    let (mut harness, server) = login_window(script);
    let (mut client, _) = connect(&mut harness, server);
    client.write_all(b"Welcome!\n").expect("send");
    assert_eq!(read_exactly(&mut client, 8), b"Michael\n");
    client.write_all(b"Hello,Michael!\n").expect("send");
    step_until(&mut harness, "the run to end", |h| run_end(h).is_some());
    assert_eq!(run_end(&harness), Some(ScriptEnd::Failed { step: 2, round: 1 }));
    let run = harness.state().tab().state.auto().shown_run().cloned().expect("a run");
    match &run.steps[2] {
        // The line end after "Welcome!" stays for the next expect.
        StepResult::Failed { received, .. } => assert_eq!(received, b"\nHello,Michael!\n"),
        other => panic!("step 3: {other:?}"),
    }
    harness.run_steps(2);
    assert!(harness.query_by_label("failed").is_some(), "the step's result");
    assert!(
        harness.query_by_label_contains("failed: #3 (round 1)").is_some(),
        "the run's"
    );
    assert!(
        harness
            .query_by_label_contains("#3 failed — Received instead (16 B)")
            .is_some()
    );
    assert!(
        harness.query_by_label_contains("Hello,Michael!\\n").is_some(),
        "as text"
    );
    assert!(
        harness
            .query_by_label_contains("0A 48 65 6C 6C 6F 2C 4D 69 63 68 61 65 6C 21 0A")
            .is_some(),
        "and as hex"
    );
}

/// A server runs the script for each client; the panel shows the latest run, and any client's by choice.
#[test]
fn a_server_shows_each_clients_run() {
    let mut script = ScriptSpec::parse(LOGIN, TextEncoding::UTF8).expect("example");
    script.steps[2].timeout_ms = Some(300);
    let (mut harness, server) = login_window(script);
    let (mut good, good_peer) = connect(&mut harness, server);
    good.write_all(b"Welcome!\n").expect("send");
    assert_eq!(read_exactly(&mut good, 8), b"Michael\n");
    good.write_all(b"Hello,Michael!\n").expect("send");
    step_until(&mut harness, "the first run to pass", |h| {
        run_end(h) == Some(ScriptEnd::Passed)
    });
    let (mut bad, bad_peer) = connect(&mut harness, server);
    bad.write_all(b"Welcome!\n").expect("send");
    assert_eq!(read_exactly(&mut bad, 8), b"Michael\n");
    step_until(&mut harness, "the second run to fail", |h| {
        matches!(run_end(h), Some(ScriptEnd::Failed { .. }))
    });
    let shown = |h: &Harness<'static, WirepadApp>| h.state().tab().state.auto().shown_run().and_then(|run| run.peer);
    assert_eq!(shown(&harness), Some(bad_peer), "the latest run");
    harness.run_steps(2);
    harness.get_by_role_and_label(Role::ComboBox, "Show").click();
    harness.run_steps(2);
    // The client list names it too; the selector's popup comes last.
    let name = good_peer.to_string();
    harness.get_all_by_label(&name).last().expect("in the popup").click();
    harness.run_steps(3);
    assert_eq!(shown(&harness), Some(good_peer));
    assert_eq!(run_end(&harness), Some(ScriptEnd::Passed));
    assert_eq!(harness.query_all_by_label("passed").count(), 3, "its steps");
    assert!(harness.query_by_label_contains("Received instead").is_none());
}

/// `wirepad gui tcp-server … --rules F --script F --frame …`: the tab opens with them in force and running.
#[test]
fn gui_rules_script_and_frame_are_honoured() {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = dir.path().join("hello.toml");
    std::fs::write(&script, "[[step]]\nsend = \"hello\\n\"\n").expect("write script");
    let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/modbus-rules.toml");
    let args = [
        "tcp-server",
        "127.0.0.1:0",
        "--rules",
        rules,
        "--script",
        script.to_str().expect("utf-8 path"),
        "--frame",
        "gap:5",
        // Binary replies show as hex (the harness refuses to draw the replacement character).
        "--hex",
    ];
    let mut harness = launched_window(launch(&args).expect("the window takes them"));
    step_until(&mut harness, "the server to listen", |h| {
        h.state().tab().state.local_addr().is_some()
    });
    let config = harness.state().tab().config.clone();
    assert_eq!(config.framing.kind, FrameKind::Gap);
    assert_eq!(config.framing.gap_ms, "5");
    assert_eq!(config.rules.len(), 3);
    assert_eq!(config.script.steps.len(), 1);
    let server = harness.state().tab().state.local_addr().expect("listening");
    let (mut client, _) = connect(&mut harness, server);
    assert_eq!(
        read_exactly(&mut client, 6),
        b"hello\n",
        "the script runs for the client"
    );
    let mut request = vec![0x01, 0x03, 0x00, 0x00, 0x00, 0x02];
    Checksum::Crc16Modbus.append_to(&mut request);
    client.write_all(&request).expect("send");
    let mut reply = vec![0x01, 0x03, 0x04, 0x00, 0x2A, 0x00, 0x2B];
    Checksum::Crc16Modbus.append_to(&mut reply);
    assert_eq!(read_exactly(&mut client, reply.len()), reply, "the rules answer");
    step_until(&mut harness, "the first rule's hit", |h| {
        let tab = h.state().tab();
        tab.state.auto().hits(0, &tab.config.rules[0]) == Some(1)
    });
    // A file that does not parse opens no window: the command line's message, with line and column.
    std::fs::write(&script, "[[step]]\nsend_hex = \"0G\"\n").expect("write script");
    let error = launch(&args).expect_err("a bad script");
    assert!(error.contains("line 2, column 12: step 1: `send_hex`"), "{error}");
}

/// The framing, rules, script and open panel come back after a restart.
#[test]
fn automation_settings_survive_a_restart() {
    let mut tab = settings();
    tab.framing.kind = FrameKind::Length;
    tab.framing.counts_header = true;
    tab.rules =
        wirepad::automation::rules::Rules::parse(include_str!("../../examples/modbus-rules.toml"), TextEncoding::UTF8)
            .expect("example")
            .table()
            .map(|(spec, _)| spec.clone())
            .collect();
    tab.rules[1].enabled = false;
    tab.rules[2].delay_ms = 250;
    tab.script = ScriptSpec::parse(LOGIN, TextEncoding::UTF8).expect("example");
    tab.script.repeat = 0;
    tab.automation = Some(AutoPanel::Script);
    let ctx = egui::Context::default();
    let app = WirepadApp::new(&ctx, crate::ui::english(), vec![tab.clone()]);
    let stored = app.saved_text();
    drop(app);
    let back = WirepadApp::from_stored(&ctx, Some(stored), Lang::En, None, &[]);
    assert_eq!(back.notice(), None);
    assert_eq!(back.tab().config, tab);
}

/// Import and export go through the file dialog and back, off the UI thread; a bad file names its line, column,
/// rule and key, and leaves the table as it was.
#[test]
fn rules_and_scripts_import_and_export_as_toml() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut harness = window(settings());
    show_panel(&mut harness, "Auto-reply");
    let answer = |path: std::path::PathBuf| std::sync::Arc::new(crate::export::Answer(path));
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[rule]]\nmatch = \"a\"\nreply_hex = \"0G\"\n").expect("write");
    harness.state_mut().set_file_dialogs(answer(bad.clone()));
    harness.get_by_label("Import TOML…").click();
    step_until(&mut harness, "the import to be refused", |h| {
        h.query_by_label_contains("line 3, column 13: rule 1: `reply_hex`")
            .is_some()
    });
    assert!(harness.state().tab().config.rules.is_empty(), "the table is as it was");
    // Bytes that are not UTF-8: the command line's message, naming the first bad byte's place.
    std::fs::write(&bad, b"[[rule]]\nmatch = \"a\xFFb\"\nreply = \"x\"\n").expect("write");
    harness.state_mut().set_file_dialogs(answer(bad.clone()));
    harness.get_by_label("Import TOML…").click();
    step_until(&mut harness, "the bytes to be refused", |h| {
        h.query_by_label_contains("line 2, column 11: not UTF-8 text (byte 0xFF)")
            .is_some()
    });
    assert!(harness.state().tab().config.rules.is_empty(), "the table is as it was");

    let modbus = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/modbus-rules.toml");
    harness.state_mut().set_file_dialogs(answer(modbus.into()));
    harness.get_by_label("Import TOML…").click();
    step_until(&mut harness, "the rules to be imported", |h| {
        h.state().tab().config.rules.len() == 3
    });
    let exported = dir.path().join("rules.toml");
    harness.state_mut().set_file_dialogs(answer(exported.clone()));
    harness.get_by_label("Export TOML…").click();
    step_until(&mut harness, "the rules to be written", |h| {
        !h.state().dialog_open() && exported.exists()
    });
    let read = |path: &std::path::Path| std::fs::read_to_string(path).expect("read");
    step_until(&mut harness, "the whole file", |_| !read(&exported).is_empty());
    // Issue 22.11: the window says where it went.
    let saved = format!("Saved to {}", exported.display());
    step_until(&mut harness, "the saved notice", |h| {
        h.state().notice().as_deref() == Some(saved.as_str())
    });
    harness.run_steps(2);
    let back = wirepad::automation::rules::Rules::parse(&read(&exported), TextEncoding::UTF8).expect("parses");
    let specs: Vec<_> = back.table().map(|(spec, _)| spec.clone()).collect();
    assert_eq!(specs, harness.state().tab().config.rules);

    harness.get_by_label("Script").click();
    harness.run_steps(2);
    let login = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/login-script.toml");
    harness.state_mut().set_file_dialogs(answer(login.into()));
    harness.get_by_label("Import TOML…").click();
    step_until(&mut harness, "the script to be imported", |h| {
        h.state().tab().config.script.steps.len() == 3
    });
    assert_eq!(
        harness.state().tab().config.script.steps[1].send.as_deref(),
        Some("Michael\\n"),
        "the line end shows as an escape"
    );
    // The imported steps' table settles its layout before the next click.
    harness.run_steps(4);
    let exported = dir.path().join("script.toml");
    harness.state_mut().set_file_dialogs(answer(exported.clone()));
    harness.get_by_label("Export TOML…").click();
    step_until(&mut harness, "the script to be written", |h| {
        !h.state().dialog_open() && exported.exists()
    });
    step_until(&mut harness, "the whole file", |_| !read(&exported).is_empty());
    let saved = format!("Saved to {}", exported.display());
    step_until(&mut harness, "the saved notice", |h| {
        h.state().notice().as_deref() == Some(saved.as_str())
    });
    let back = ScriptSpec::parse(&read(&exported), TextEncoding::UTF8).expect("parses");
    assert_eq!(back, harness.state().tab().config.script);
}

/// The seed tutorials' login server for a window test: "Welcome!" the moment a client connects, then
/// "Hello,<name>!" for its name line; serves `clients` connections in turn.
fn greeting_server(clients: usize) -> (std::net::SocketAddr, std::thread::JoinHandle<()>) {
    use std::io::BufRead;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let thread = std::thread::spawn(move || {
        for _ in 0..clients {
            let (mut stream, _) = crate::support::accept_within(&listener);
            stream.set_read_timeout(Some(crate::support::TIMEOUT)).expect("timeout");
            stream.write_all(b"Welcome!\n").expect("greet");
            let mut line = String::new();
            let mut reader = std::io::BufReader::new(stream.try_clone().expect("clone"));
            if reader.read_line(&mut line).is_ok() && !line.is_empty() {
                let _ = stream.write_all(format!("Hello,{}!\n", line.trim()).as_bytes());
            }
        }
    });
    (addr, thread)
}

fn login_client(server: std::net::SocketAddr, on_open: bool) -> Harness<'static, WirepadApp> {
    let mut harness = window(TabConfig {
        mode: wirepad::net::Kind::TcpClient,
        remote_host: "127.0.0.1".into(),
        remote_port: server.port().to_string(),
        script: ScriptSpec::parse(LOGIN, TextEncoding::UTF8).expect("example"),
        script_on_open: on_open,
        ..settings()
    });
    show_panel(&mut harness, "Script");
    harness
}

/// Issue 22.1: Run before Open arms the script; it starts with the connection and meets the greeting the server
/// sends the moment the client connects.
#[test]
fn a_script_armed_before_open_meets_the_greeting() {
    let (server, _thread) = greeting_server(1);
    let mut harness = login_client(server, false);
    assert!(
        harness
            .query_by_label_contains("expects see everything received")
            .is_some(),
        "the panel says which data the expects see"
    );
    harness.get_by_label("Run script").click();
    harness.run_steps(2);
    assert!(harness.query_by_label("runs at Open").is_some(), "armed");
    harness.get_by_label("Open").click();
    step_until(&mut harness, "the run to end", |h| run_end(h).is_some());
    assert_eq!(run_end(&harness), Some(ScriptEnd::Passed));
}

/// Issue 22.1: a script started after Open still sees the greeting that arrived before it, and says so.
#[test]
fn a_script_run_after_open_sees_what_arrived_since_open() {
    let (server, _thread) = greeting_server(1);
    let mut harness = login_client(server, false);
    harness.get_by_label("Open").click();
    step_until(&mut harness, "the greeting", |h| {
        h.state().tab().state.totals().rx_bytes() == 9
    });
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label_contains("also sees what arrived since Open")
            .is_some()
    );
    harness.get_by_label("Run script").click();
    step_until(&mut harness, "the run to end", |h| run_end(h).is_some());
    assert_eq!(run_end(&harness), Some(ScriptEnd::Passed));
}

/// Issue 22.1: "Run on open" (saved with the tab) starts the script with every Open.
#[test]
fn run_on_open_starts_the_script_with_every_open() {
    let (server, _thread) = greeting_server(2);
    let mut harness = login_client(server, false);
    harness.get_by_label("Run on open").click();
    harness.run_steps(2);
    assert!(
        harness.state().tab().config.script_on_open,
        "kept in the tab's settings"
    );
    for round in 0..2 {
        harness.get_by_label("Open").click();
        step_until(&mut harness, "the run to end", |h| run_end(h).is_some());
        assert_eq!(run_end(&harness), Some(ScriptEnd::Passed), "open #{round}");
        // The server hangs up after its answer, which ends the client's session.
        step_until(&mut harness, "the server to close", |h| {
            !h.state().tab().state.is_open()
        });
    }
}

/// Issue 22.6: at 1100 px the rules table is wider than its panel; the mouse wheel scrolls it sideways until the
/// row buttons at its right end are in sight (left of the client list's column).
#[test]
fn the_wheel_scrolls_a_wide_rules_table_sideways_to_its_row_buttons() {
    let mut harness = window(settings());
    harness.set_size(egui::vec2(1100.0, 800.0));
    show_panel(&mut harness, "Auto-reply");
    add_rule(&mut harness, "PING", "PONG");
    let edge = |h: &Harness<'static, WirepadApp>| h.get_by_label("Quick commands").rect().min.x;
    let in_sight = |h: &Harness<'static, WirepadApp>| h.get_by_label("Delete").rect().max.x <= edge(h);
    assert!(!in_sight(&harness), "the table is wider than its panel at 1100 px");
    let over_table = harness
        .get_by_role_and_label(Role::TextInput, "Pattern")
        .rect()
        .center();
    for _ in 0..20 {
        if in_sight(&harness) {
            break;
        }
        harness.hover_at(over_table);
        harness.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, -120.0),
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Unknown,
            modifiers: egui::Modifiers::NONE,
        });
        harness.run_steps(3);
    }
    assert!(
        in_sight(&harness),
        "Delete at x {} (panel ends at {})",
        harness.get_by_label("Delete").rect().max.x,
        edge(&harness)
    );
    harness.get_by_label("Delete").click();
    harness.run_steps(2);
    assert!(
        harness.state().tab().config.rules.is_empty(),
        "the click landed on Delete"
    );
}

/// Issue 22.6: a rule's row stays where it is while its validation message comes and goes, so a click aimed at
/// it lands on it.
#[test]
fn a_rules_row_stays_put_while_its_message_comes_and_goes() {
    let mut harness = window(settings());
    show_panel(&mut harness, "Auto-reply");
    add_rule(&mut harness, "PING", "PONG");
    let row_y = |h: &Harness<'static, WirepadApp>| h.get_by_role_and_label(Role::TextInput, "Name").rect().min.y;
    let valid = row_y(&harness);
    harness
        .get_by_role_and_label(Role::TextInput, "Pattern")
        .set_text_value_accesskit("");
    harness.run_steps(3);
    assert!(
        harness
            .query_by_label_contains("it would match every message")
            .is_some(),
        "the message shows"
    );
    assert_eq!(row_y(&harness), valid, "the row did not move");
}
