//! The load test tab against an echo server on loopback: a counted run's report, an unbounded run stopped, bad
//! input refused with the flag's own message.
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use wirepad::gui::WirepadApp;
use wirepad::gui::i18n::Lang;
use wirepad::gui::tab::LoadPhase;
use wirepad::net::load::{Reason, Report};
use wirepad::payload::LineEnding;
use wirepad::settings::TabConfig;
use wirepad::settings::load::LoadForm;

use crate::export::Answer;
use crate::ui::{settings, step_until, window};

/// A TCP echo server on 127.0.0.1 port 0, a thread per connection; each ends when its client closes.
fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the echo server");
    let addr = listener.local_addr().expect("echo server address");
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n @ 1..) = stream.read(&mut buf) {
                    if stream.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

fn load_tab(form: LoadForm) -> TabConfig {
    TabConfig {
        load_test: true,
        load: form,
        ..settings()
    }
}

/// Two connections, lines with `{seq}`, 20/s each, `count` and `duration` as given.
fn form(target: SocketAddr, count: &str, duration: &str) -> LoadForm {
    LoadForm {
        target: target.to_string(),
        connections: "2".into(),
        rate: "20".into(),
        count: count.into(),
        duration: duration.into(),
        payload: "ping {seq}".into(),
        append: LineEnding::Lf,
        frame: "line".into(),
        ..LoadForm::default()
    }
}

fn phase(harness: &Harness<'static, WirepadApp>) -> LoadPhase {
    harness.state().tab().state.load().phase()
}

#[test]
fn a_counted_run_shows_its_report_with_exact_counts() {
    let server = echo_server();
    let mut harness = window(load_tab(form(server, "10", "")));
    // The tab is named by the port it loads.
    assert!(
        harness
            .query_by_label_contains(&format!("Load test {}", server.port()))
            .is_some()
    );
    harness.get_by_label("Start").click();
    step_until(&mut harness, "the report", |h| phase(h) == LoadPhase::Finished);
    let report = harness.state().tab().state.load().report().cloned().expect("a report");
    assert_eq!(harness.state().tab().state.load().error(), None);
    assert_eq!(report.connections.established, 2);
    assert_eq!(report.messages.sent, 10);
    assert_eq!(report.messages.replies, 10);
    assert_eq!(report.messages.timeouts, 0);
    assert!(report.connections.failed.is_empty(), "{:?}", report.connections.failed);
    assert!(
        !harness.state().tab().state.load().buckets().is_empty(),
        "the histogram's buckets"
    );
    harness.run_steps(2);
    assert!(harness.query_by_label("Report").is_some(), "the report on show");
    assert!(harness.query_by_label("No errors").is_some(), "the errors table");

    // Exported through the file dialog, written on a thread of its own: the CLI's JSON, and a CSV row per metric.
    let dir = tempfile::tempdir().expect("temp dir");
    let read = |path: &std::path::Path| std::fs::read_to_string(path).unwrap_or_default();
    let (json, csv) = (dir.path().join("r.json"), dir.path().join("r.csv"));
    for (path, button) in [(&json, "Export JSON"), (&csv, "Export CSV")] {
        harness.state_mut().set_file_dialogs(Arc::new(Answer(path.clone())));
        // The last export's notice moves the panel down: the click goes where the button is now.
        harness.run_steps(2);
        harness.get_by_label(button).click();
        step_until(&mut harness, button, |h| {
            !h.state().dialog_open() && read(path).ends_with('\n')
        });
    }
    assert_eq!(Report::from_json(&read(&json)).expect("the JSON report"), report);
    let csv = read(&csv);
    assert!(csv.starts_with("metric,value\n"), "{csv}");
    assert!(
        csv.contains("\nmessages.sent,10\n") && csv.contains("\nmessages.replies,10\n"),
        "{csv}"
    );
}

/// `wirepad gui load tcp TARGET …`: a load test tab with the options given, started at once.
#[test]
fn gui_load_opens_a_load_tab_with_its_options_and_starts_it() {
    let server = echo_server().to_string();
    let args = [
        "load",
        "tcp",
        &server,
        "-c",
        "2",
        "--rate",
        "20",
        "--count",
        "10",
        "-s",
        "ping {seq}",
        "--append",
        "lf",
        "--frame",
        "line",
    ];
    let launches = wirepad::cli::gui_sessions(args.iter().map(Into::into).collect()).expect("the window takes it");
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |cc| WirepadApp::from_stored(&cc.egui_ctx, None, Lang::En, None, &launches));
    let config = &harness.state().tab().config;
    assert!(config.load_test);
    assert_eq!(
        config.load,
        LoadForm {
            connections: "2".into(),
            connect_rate: String::new(),
            total: false,
            duration: String::new(),
            timeout_ms: "5000".into(),
            ..form(server.parse().expect("address"), "10", "")
        }
    );
    // Nobody clicks Start.
    step_until(&mut harness, "the report", |h| phase(h) == LoadPhase::Finished);
    let report = harness.state().tab().state.load().report().cloned().expect("a report");
    assert_eq!((report.messages.sent, report.messages.replies), (10, 10));
}

#[test]
fn an_unbounded_run_ends_when_stop_is_clicked() {
    let mut harness = window(load_tab(form(echo_server(), "", "")));
    harness.get_by_label("Start").click();
    step_until(&mut harness, "a progress snapshot", |h| {
        h.state()
            .tab()
            .state
            .load()
            .series()
            .back()
            .is_some_and(|s| s.replies > 0)
    });
    assert_eq!(phase(&harness), LoadPhase::Running);
    harness.get_by_label("Stop").click();
    // Only Stop can end a run without a duration or a count.
    step_until(&mut harness, "the run to stop", |h| phase(h) == LoadPhase::Finished);
    let report = harness.state().tab().state.load().report().cloned().expect("a report");
    assert!(report.messages.sent > 0 && report.messages.replies > 0, "{report:?}");
    assert!(harness.query_by_label("finished").is_some());
}

#[test]
fn bad_input_says_why_beside_the_field_and_starts_nothing() {
    // A session tab turned into a load test with the mode selector.
    let mut harness = window(settings());
    harness.get_by_role_and_label(Role::ComboBox, "Mode").click();
    harness.run_steps(2);
    harness.get_by_role_and_label(Role::Button, "Load test").click();
    harness.run_steps(2);
    assert!(harness.state().tab().config.load_test);
    harness.get_by_label("Connections").set_text_value_accesskit("0");
    harness.get_by_label("Rate/s").set_text_value_accesskit("-5");
    harness.run_steps(2);
    harness.get_by_label("Start").click();
    harness.run_steps(3);
    assert_eq!(phase(&harness), LoadPhase::Idle);
    assert!(
        harness
            .query_by_label("a load test needs 1 or more connections")
            .is_some()
    );
    assert!(harness.query_by_label_contains("give 0 (as fast as it can)").is_some());
}

/// While a run goes on, its errors by reason are shown and counted as they happen (not only in the report):
/// connections opened 10 a second to a port nobody listens on are refused one by one.
#[test]
fn errors_by_reason_count_up_while_the_run_goes_on() {
    let refusing = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a port, then closed");
    let form = LoadForm {
        connections: "60".into(),
        connect_rate: "10".into(),
        ..form(refusing, "", "")
    };
    let mut harness = window(load_tab(form));
    harness.get_by_label("Start").click();
    let refused = |h: &Harness<'static, WirepadApp>| {
        let load = h.state().tab().state.load();
        let last = load.series().back();
        last.and_then(|s| s.failed_by.get(&Reason::Refused).copied())
            .unwrap_or(0)
    };
    step_until(&mut harness, "a snapshot with refusals", |h| refused(h) > 0);
    let first = refused(&harness);
    step_until(&mut harness, "more refusals", |h| refused(h) > first);
    harness.step();
    assert_eq!(phase(&harness), LoadPhase::Running, "the run goes on");
    assert!(harness.query_by_label("refused").is_some(), "the reason is shown");
    let now = refused(&harness).to_string();
    assert!(
        harness.query_by_label(&now).is_some(),
        "its count so far, {now}, is shown"
    );
    harness.get_by_label("Stop").click();
    step_until(&mut harness, "the run to stop", |h| phase(h) == LoadPhase::Finished);
}
