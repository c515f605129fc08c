//! The load test tab against an echo server on loopback: a counted run's report, an unbounded run stopped, bad
//! input refused with the flag's own message.
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, unbounded};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use wirepad::codec::checksum::Checksum;
use wirepad::gui::WirepadApp;
use wirepad::gui::i18n::Lang;
use wirepad::gui::tab::LoadPhase;
use wirepad::net::load::{Reason, Report};
use wirepad::payload::LineEnding;
use wirepad::settings::TabConfig;
use wirepad::settings::load::{LoadField, LoadForm};

use crate::export::Answer;
use crate::ui::{settings, step_until, window};

/// A TCP echo server on 127.0.0.1 port 0, a thread per connection; each ends when its client closes.
fn echo_server() -> SocketAddr {
    recording_echo_server().0
}

/// The same, also handing over each read it echoes, so a test sees the bytes on the wire.
fn recording_echo_server() -> (SocketAddr, Receiver<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the echo server");
    let addr = listener.local_addr().expect("echo server address");
    let (reads, read) = unbounded();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let reads = reads.clone();
            thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n @ 1..) = stream.read(&mut buf) {
                    let _ = reads.send(buf[..n].to_vec());
                    if stream.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, read)
}

/// What the recording server has read, once `len` bytes have come (within the tests' time limit).
fn bytes_read(reads: &Receiver<Vec<u8>>, len: usize) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut all = Vec::new();
    while all.len() < len {
        match reads.recv_deadline(deadline) {
            Ok(read) => all.extend(read),
            Err(_) => panic!("the server read {all:?}, expected {len} bytes"),
        }
    }
    all
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
    // The run's thread bucketed the histogram: every reply is in one bucket.
    let buckets = harness.state().tab().state.load().buckets();
    assert_eq!(buckets.iter().map(|(_, n)| n).sum::<u64>(), 10, "{buckets:?}");
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
        // Written once the window says so: the file may be read while the thread is still writing it.
        let saved = format!("Saved to {}", path.display());
        step_until(&mut harness, button, |h| {
            !h.state().dialog_open() && h.state().notice().as_deref() == Some(saved.as_str())
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
    harness.get_by_label("In flight").set_text_value_accesskit("0");
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
    assert!(
        harness
            .query_by_label_contains("give 1 to 65536 unanswered messages")
            .is_some()
    );
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

/// One message through the pickers the session tabs use: GBK text, a sum8 byte after it, a closed loop
/// (`In flight` 1); the server reads exactly those bytes.
#[test]
fn the_forms_encoding_checksum_and_in_flight_shape_what_the_server_reads() {
    let (server, reads) = recording_echo_server();
    let form = LoadForm {
        connections: "1".into(),
        payload: "你好{seq}".into(),
        append: LineEnding::None,
        frame: String::new(),
        ..form(server, "1", "")
    };
    let mut harness = window(load_tab(form));
    for (combo, choice) in [("Encoding", "gbk"), ("Checksum", "sum8")] {
        harness.get_by_role_and_label(Role::ComboBox, combo).click();
        harness.run_steps(2);
        harness.get_by_role_and_label(Role::Button, choice).click();
        harness.run_steps(2);
    }
    harness.get_by_label("In flight").set_text_value_accesskit("1");
    harness.run_steps(2);
    let load = &harness.state().tab().config.load;
    assert_eq!(load.checksum, Some(Checksum::Sum8));
    assert_eq!((load.encoding.name(), load.in_flight.as_str()), ("gbk", "1"));
    harness.get_by_label("Start").click();
    step_until(&mut harness, "the report", |h| phase(h) == LoadPhase::Finished);
    // 你好 in GBK, then "0", then the sum of those bytes mod 256.
    let mut want = vec![0xC4, 0xE3, 0xBA, 0xC3, b'0'];
    want.push(want.iter().fold(0u8, |sum, b| sum.wrapping_add(*b)));
    assert_eq!(bytes_read(&reads, want.len()), want);
    let report = harness.state().tab().state.load().report().cloned().expect("a report");
    assert_eq!((report.messages.sent, report.messages.replies), (1, 1));
}

/// A send-file picked with the "…" button: each message is its bytes as they are (no line ending added).
#[test]
fn a_picked_send_file_is_what_the_server_reads() {
    let (server, reads) = recording_echo_server();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("message.bin");
    let message = b"\x00\xFFraw bytes\n";
    std::fs::write(&path, message).expect("write the message");
    let form = LoadForm {
        connections: "1".into(),
        append: LineEnding::Lf,
        ..form(server, "2", "")
    };
    let mut harness = window(load_tab(form));
    harness.state_mut().set_file_dialogs(Arc::new(Answer(path.clone())));
    harness.get_by_role_and_label(Role::Button, "…").click();
    step_until(&mut harness, "the chosen file", |h| {
        !h.state().dialog_open() && !h.state().tab().config.load.send_file.is_empty()
    });
    assert_eq!(harness.state().tab().config.load.send_file, path.display().to_string());
    harness.get_by_label("Start").click();
    step_until(&mut harness, "the report", |h| phase(h) == LoadPhase::Finished);
    assert_eq!(bytes_read(&reads, 2 * message.len()), message.repeat(2));
    let report = harness.state().tab().state.load().report().cloned().expect("a report");
    assert_eq!((report.messages.sent, report.messages.replies), (2, 2));
}

/// A send-file that cannot be read: its message, naming it, beside the field; no connection is made.
#[test]
fn an_unreadable_send_file_is_named_beside_its_field_and_nothing_starts() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("non-blocking");
    let target = listener.local_addr().expect("address");
    let missing = tempfile::tempdir().expect("temp dir").path().join("gone.bin");
    let mut harness = window(load_tab(form(target, "1", "")));
    harness
        .get_by_label("Send file")
        .set_text_value_accesskit(&missing.display().to_string());
    harness.run_steps(2);
    harness.get_by_label("Start").click();
    step_until(&mut harness, "the start to fail", |h| {
        h.state().tab().state.load().field_error(LoadField::SendFile).is_some()
    });
    harness.run_steps(2);
    let error = harness.state().tab().state.load().field_error(LoadField::SendFile);
    let named = format!("--send-file {}: ", missing.display());
    assert!(error.is_some_and(|error| error.starts_with(&named)), "{error:?}");
    let path = missing.display().to_string();
    assert!(harness.query_by_label_contains(&path).is_some(), "{path} shown");
    assert_eq!(phase(&harness), LoadPhase::Idle);
    assert!(listener.accept().is_err(), "nothing connected");
}

/// `wirepad gui load … -e gbk --checksum crc16-modbus --in-flight 2`: the tab's form has those values.
#[test]
fn gui_load_fills_in_the_encoding_checksum_and_in_flight() {
    let (server, reads) = recording_echo_server();
    let server = server.to_string();
    let args = [
        "load",
        "tcp",
        &server,
        "--count",
        "1",
        "-e",
        "GBK",
        "--checksum",
        "crc16-modbus",
        "--in-flight",
        "2",
        "-s",
        "好",
    ];
    let launches = wirepad::cli::gui_sessions(args.iter().map(Into::into).collect()).expect("the window takes it");
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |cc| WirepadApp::from_stored(&cc.egui_ctx, None, Lang::En, None, &launches));
    let load = &harness.state().tab().config.load;
    assert_eq!(
        (load.encoding.name(), load.checksum, load.in_flight.as_str()),
        ("gbk", Some(Checksum::Crc16Modbus), "2")
    );
    step_until(&mut harness, "the report", |h| phase(h) == LoadPhase::Finished);
    // 好 in GBK (BA C3) and its CRC-16/MODBUS, low byte first.
    let crc = Checksum::Crc16Modbus.compute(&[0xBA, 0xC3]);
    assert_eq!(bytes_read(&reads, 4), [&[0xBA, 0xC3][..], &crc].concat());
}

#[test]
fn only_a_tab_that_shows_received_bytes_readies_the_font_for_them() {
    let mut harness = window(load_tab(form(echo_server(), "", "")));
    harness.run_steps(3);
    assert!(!harness.state().font_readied(), "a load test shows no received bytes");
    harness.get_by_label("New tab").click();
    harness.run_steps(3);
    assert!(harness.state().font_readied());
}
