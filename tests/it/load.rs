//! `wirepad load`: the built binary against echo servers on loopback (wirepad's own, or small Rust ones that wait,
//! stall or lose on purpose). Counts are checked exactly at low rates; latencies against known delays.
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::TIMEOUT;
use crate::wirepad::{Finished, Wirepad};

/// `wirepad tcp-server --echo` on a port of its own; killed when dropped.
fn echo_server() -> (Wirepad, String) {
    let server = Wirepad::start(&["tcp-server", "127.0.0.1:0", "--echo", "-q"]);
    let addr = server.ready("listening on ").to_string();
    (server, addr)
}

/// A TCP server answering each line after `delay(line number over all connections, from 0)`.
fn line_server(delay: impl Fn(u64) -> Duration + Send + Sync + 'static) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address").to_string();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let (delay, seen) = (Arc::new(delay), lines.clone());
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let (delay, seen) = (delay.clone(), seen.clone());
            thread::spawn(move || answer_lines(stream, &*delay, &seen));
        }
    });
    (addr, lines)
}

fn answer_lines(stream: TcpStream, delay: &dyn Fn(u64) -> Duration, seen: &Mutex<Vec<String>>) {
    let mut writer = stream.try_clone().expect("clone the stream");
    for line in BufReader::new(stream).lines() {
        let Ok(line) = line else { return };
        let n = {
            let mut seen = seen.lock().expect("lines");
            seen.push(line.clone());
            seen.len() as u64 - 1
        };
        // The server's behaviour under test, not a synchronisation.
        thread::sleep(delay(n));
        if writer.write_all(format!("{line}\n").as_bytes()).is_err() {
            return;
        }
    }
}

fn load(args: &[&str]) -> Finished {
    let mut all = vec!["load"];
    all.extend_from_slice(args);
    Wirepad::start(&all).finish()
}

fn json(finished: &Finished) -> Value {
    serde_json::from_slice(&finished.stdout).unwrap_or_else(|e| panic!("{e}: {}", finished.text()))
}

fn n(report: &Value, path: &str) -> u64 {
    report
        .pointer(path)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("{path} in {report}"))
}

fn ms(report: &Value, path: &str) -> f64 {
    report
        .pointer(path)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("{path} in {report}"))
}

#[test]
fn counts_are_exact_at_low_rates() {
    let (_server, addr) = echo_server();
    let args = ["tcp", &addr, "-c", "3", "--count", "30", "--rate", "50"];
    let done = load(
        &[
            &args[..],
            &["-s", "ping {conn}\\n", "--frame", "line", "--report", "json"],
        ]
        .concat(),
    );
    assert_eq!(done.code, Some(0), "{:?}", done.stderr);
    let report = json(&done);
    for (path, want) in [
        ("/connections/attempted", 3),
        ("/connections/established", 3),
        ("/messages/sent", 30),
        ("/messages/replies", 30),
        ("/messages/timeouts", 0),
        ("/bytes/sent", 30 * 7),
        ("/bytes/received", 30 * 7),
    ] {
        assert_eq!(n(&report, path), want, "{path} in {report}");
    }
    assert!(ms(&report, "/latency_ms/max") < 1000.0, "{report}");
    assert!(report["histogram"].as_str().is_some_and(|h| !h.is_empty()));
    assert_eq!(
        done.stderr.first().map(String::as_str),
        Some(&*format!("load tcp {addr}: 3 connection(s)"))
    );
}

#[test]
fn a_refused_target_is_counted_and_exits_1() {
    let addr = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").to_string()
    };
    let done = load(&["tcp", &addr, "-c", "3", "--count", "3", "-s", "x", "--report", "json"]);
    assert_eq!(done.code, Some(1), "{:?}", done.stderr);
    let report = json(&done);
    assert_eq!(n(&report, "/connections/attempted"), 3);
    assert_eq!(n(&report, "/connections/failed/refused"), 3, "{report}");
    assert_eq!(n(&report, "/messages/sent"), 0);
    let last = done.stderr.last().expect("a line");
    assert_eq!(*last, format!("error: nothing could connect to {addr} (refused 3)"));
}

#[test]
fn bad_arguments_exit_2_with_one_line() {
    let cases: &[(&[&str], &str)] = &[
        (&["tcp", "127.0.0.1:9", "-c", "0", "-s", "x"], "1 or more connections"),
        (
            &["tcp", "127.0.0.1:9", "--rate", "-1", "-s", "x"],
            "give 0 (as fast as it can)",
        ),
        (
            &["tcp", "127.0.0.1:9", "--total-rate", "1e12", "-s", "x"],
            "0.001 to 10000000",
        ),
        (
            &["tcp", "127.0.0.1:9", "--rate", "1", "--total-rate", "2", "-s", "x"],
            "cannot be used with",
        ),
        (
            &["tcp", "127.0.0.1:9", "-s", "a{sq}"],
            "unknown variable {sq} at position 2",
        ),
        (&["tcp", "127.0.0.1:9"], "give what each message is"),
        (&["tcp", "127.0.0.1:0", "-s", "x"], "port 0"),
        (&["tcp", "nowhere", "-s", "x"], "HOST:PORT"),
        (
            &["udp", "127.0.0.1:9", "-s", "{rand:65536}{rand:65536}"],
            "do not fit in one UDP datagram",
        ),
        (&["tcp", "127.0.0.1:9", "-c", "1000000", "-s", "x"], "open files"),
        (
            &["tcp", "127.0.0.1:9", "--in-flight", "0", "-s", "x"],
            "give 1 to 65536",
        ),
        (
            &["udp", "127.0.0.1:9", "--in-flight", "1", "-s", "x"],
            "--in-flight is for tcp",
        ),
        (
            &["tcp", "127.0.0.1:9", "--duration", "1", "--count", "1", "-s", "x"],
            "cannot be used with",
        ),
    ];
    for (args, says) in cases {
        let done = load(args);
        assert_eq!(done.code, Some(2), "{args:?}: {:?}", done.stderr);
        assert_eq!(done.stderr.len(), 1, "{args:?}: {:?}", done.stderr);
        assert!(done.stderr[0].contains(says), "{args:?}: {:?}", done.stderr);
        assert!(done.stdout.is_empty(), "{args:?}");
    }
}

/// `wirepad gui load …` checks its options as `wirepad load` does, and refuses what the window's form has no
/// field for: exit 2 with one line, and no window.
#[test]
fn the_window_refuses_bad_load_options_with_one_line() {
    let cases: &[(&[&str], &str)] = &[
        (&["tcp", "127.0.0.1:9", "-c", "0", "-s", "x"], "1 or more connections"),
        (
            &["tcp", "127.0.0.1:9", "--rate", "-1", "-s", "x"],
            "give 0 (as fast as it can)",
        ),
        (&["tcp", "127.0.0.1:9"], "give what each message is"),
        (
            &["tcp", "127.0.0.1:9", "--in-flight", "0", "-s", "x"],
            "give 1 to 65536 unanswered messages",
        ),
        (&["tcp", "127.0.0.1:9", "-e", "nosuch", "-s", "x"], "unknown encoding"),
        (
            &["udp", "127.0.0.1:9", "-s", "x", "--report-file", "r.json"],
            "--report-file is for the command line only",
        ),
        (&["merge", "a.json"], "load merge is for the command line only"),
    ];
    for (args, says) in cases {
        let mut all = vec!["gui", "load"];
        all.extend_from_slice(args);
        let done = Wirepad::start(&all).finish();
        assert_eq!(done.code, Some(2), "{args:?}: {:?}", done.stderr);
        assert_eq!(done.stderr.len(), 1, "{args:?}: {:?}", done.stderr);
        assert!(done.stderr[0].contains(says), "{args:?}: {:?}", done.stderr);
    }
}

#[test]
fn latency_against_a_server_that_waits_50_ms() {
    let (addr, _) = line_server(|_| Duration::from_millis(50));
    let args = [
        "tcp",
        &addr,
        "-c",
        "2",
        "--count",
        "10",
        "--rate",
        "5",
        "-s",
        "m{seq}\\n",
        "--frame",
        "line",
    ];
    let done = load(&[&args[..], &["--report", "json"]].concat());
    assert_eq!(done.code, Some(0), "{:?}", done.stderr);
    let report = json(&done);
    assert_eq!(n(&report, "/messages/replies"), 10, "{report}");
    assert!(ms(&report, "/latency_ms/p50") >= 50.0, "{report}");
    assert!(ms(&report, "/latency_ms/max") < 1000.0, "{report}");
}

/// `--in-flight 1`: each connection sends its next message only when the reply to the last one is in, so every
/// latency is one round trip (the server's 30 ms), not a queue behind messages sent ahead.
#[test]
fn a_closed_loop_keeps_one_message_in_flight_per_connection() {
    let (addr, lines) = line_server(|_| Duration::from_millis(30));
    let args = [
        "tcp",
        &addr,
        "-c",
        "2",
        "--count",
        "16",
        "--in-flight",
        "1",
        "-s",
        "{conn}:{seq}\\n",
        "--frame",
        "line",
    ];
    let done = load(&[&args[..], &["--report", "json"]].concat());
    assert_eq!(done.code, Some(0), "{:?}", done.stderr);
    let report = json(&done);
    for (path, want) in [
        ("/connections/established", 2),
        ("/messages/sent", 16),
        ("/messages/replies", 16),
        ("/messages/timeouts", 0),
    ] {
        assert_eq!(n(&report, path), want, "{path} in {report}");
    }
    assert_eq!(lines.lock().expect("lines").len(), 16);
    // A round trip is 30 ms and more; eight messages queued at once would wait up to 240 ms.
    assert!(ms(&report, "/latency_ms/p50") >= 30.0, "{report}");
    assert!(ms(&report, "/latency_ms/p90") < 100.0, "{report}");
}

#[test]
fn a_server_that_stalls_once_shows_in_the_percentiles() {
    // At 100 messages a second, a 300 ms stall at the 10th holds up the ~30 scheduled behind it.
    let (addr, _) = line_server(|n| Duration::from_millis(if n == 10 { 300 } else { 0 }));
    let args = [
        "tcp", &addr, "--count", "60", "--rate", "100", "-s", "m\\n", "--frame", "line",
    ];
    let done = load(&[&args[..], &["--report", "json"]].concat());
    assert_eq!(done.code, Some(0), "{:?}", done.stderr);
    let report = json(&done);
    assert_eq!(n(&report, "/messages/replies"), 60, "{report}");
    assert!(ms(&report, "/latency_ms/max") >= 300.0, "{report}");
    // Not one slow message but every one scheduled during the stall: far more than 10% of them.
    assert!(ms(&report, "/latency_ms/p90") >= 100.0, "{report}");
}

#[test]
fn variables_number_each_connections_messages() {
    let (addr, lines) = line_server(|_| Duration::ZERO);
    let args = [
        "tcp",
        &addr,
        "-c",
        "2",
        "--count",
        "6",
        "--rate",
        "20",
        "-s",
        "{conn}:{seq}:{{x}}\\n",
    ];
    let done = load(&[&args[..], &["--frame", "line"]].concat());
    assert_eq!(done.code, Some(0), "{:?}", done.stderr);
    let mut per_conn: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for line in lines.lock().expect("lines").iter() {
        let fields: Vec<&str> = line.split(':').collect();
        assert_eq!(fields.len(), 3, "{line:?}");
        assert_eq!(fields[2], "{x}", "{line:?}");
        let (conn, seq) = (fields[0].parse().expect("conn"), fields[1].parse().expect("seq"));
        per_conn.entry(conn).or_default().push(seq);
    }
    assert_eq!(per_conn.values().map(Vec::len).sum::<usize>(), 6, "{per_conn:?}");
    assert!(per_conn.keys().all(|&conn| conn < 2), "{per_conn:?}");
    for seqs in per_conn.values() {
        assert_eq!(*seqs, (0..seqs.len() as u64).collect::<Vec<_>>(), "{per_conn:?}");
    }
}

/// A UDP echo that loses "n3", answers "n5" twice and "n7" after "n8".
fn unreliable_udp_echo() -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let addr = socket.local_addr().expect("address");
    thread::spawn(move || {
        let mut buf = [0u8; 2048];
        let mut held = None;
        while let Ok((len, from)) = socket.recv_from(&mut buf) {
            let datagram = buf[..len].to_vec();
            let copies = match &datagram[..] {
                b"n3" => 0,
                b"n5" => 2,
                b"n7" => {
                    held = Some(datagram.clone());
                    0
                }
                _ => 1,
            };
            for _ in 0..copies {
                let _ = socket.send_to(&datagram, from);
            }
            if datagram == b"n8"
                && let Some(late) = held.take()
            {
                let _ = socket.send_to(&late, from);
            }
        }
    });
    addr
}

/// Unpaced UDP goes out in batches (one `sendmmsg` each on Linux): a count that is no multiple of a batch is
/// still sent exactly, each datagram numbered once.
#[test]
fn unpaced_udp_batches_send_exactly_the_count() {
    let sink = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let addr = sink.local_addr().expect("address").to_string();
    let args = [
        "udp",
        &addr,
        "-c",
        "3",
        "--count",
        "1001",
        "-s",
        "n{seq};",
        "--timeout",
        "1",
    ];
    let done = load(&[&args[..], &["--report", "json"]].concat());
    assert_eq!(done.code, Some(0), "{:?}", done.stderr);
    let report = json(&done);
    assert_eq!(n(&report, "/messages/sent"), 1001, "{report}");
    // n0; … n999; over three sockets: each socket's numbers from 0, every datagram 3 to 5 bytes long.
    let bytes = n(&report, "/bytes/sent");
    assert!((1001 * 3..=1001 * 5).contains(&bytes), "{report}");
    assert_eq!(n(&report, "/messages/timeouts"), 1001, "nobody answers: {report}");
}

#[test]
fn udp_loss_duplicates_and_reordering_by_seq() {
    let addr = unreliable_udp_echo().to_string();
    let args = [
        "udp",
        &addr,
        "--count",
        "10",
        "--rate",
        "100",
        "-s",
        "n{seq}",
        "--timeout",
        "500",
    ];
    let report_dir = tempfile::tempdir().expect("temp dir");
    let file = report_dir.path().join("udp.json");
    let done = load(&[&args[..], &["--report-file", file.to_str().expect("UTF-8")]].concat());
    assert_eq!(done.code, Some(0), "{:?}", done.stderr);
    assert!(
        done.text().contains("1 lost, 1 duplicated, 1 reordered"),
        "{}",
        done.text()
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&file).expect("the report file")).expect("JSON");
    assert_eq!(n(&report, "/messages/sent"), 10);
    assert_eq!(n(&report, "/messages/replies"), 9, "{report}");
    assert_eq!(n(&report, "/messages/timeouts"), 1, "{report}");
    assert_eq!(n(&report, "/udp/lost"), 1, "{report}");
}

#[test]
fn merge_adds_counts_and_keeps_the_percentiles_of_equal_runs() {
    let (_server, addr) = echo_server();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("a.json");
    let path = file.to_str().expect("UTF-8");
    let args = [
        "tcp", &addr, "-c", "2", "--count", "20", "--rate", "100", "-s", "m\\n", "--frame", "line",
    ];
    let run = load(&[&args[..], &["--report", "json", "--report-file", path]].concat());
    assert_eq!(run.code, Some(0), "{:?}", run.stderr);
    let one = json(&run);
    let merged = load(&["merge", path, path, "--report", "json"]);
    assert_eq!(merged.code, Some(0), "{:?}", merged.stderr);
    let merged = json(&merged);
    for path in [
        "/messages/sent",
        "/messages/replies",
        "/bytes/sent",
        "/connections/established",
    ] {
        assert_eq!(n(&merged, path), 2 * n(&one, path), "{path}");
    }
    assert_eq!(merged["latency_ms"], one["latency_ms"]);
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{}").expect("write");
    let refused = load(&["merge", path, bad.to_str().expect("UTF-8")]);
    assert_eq!(refused.code, Some(2), "{:?}", refused.stderr);
    assert!(refused.stderr[0].contains("not a load report"), "{:?}", refused.stderr);
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_at_once_and_prints_the_report() {
    let (_server, addr) = echo_server();
    let wirepad = Wirepad::start(&[
        "load", "tcp", &addr, "-c", "2", "--rate", "100", "-s", "m\\n", "--frame", "line",
    ]);
    assert!(wirepad.stderr_line().starts_with("load tcp "));
    let progress = wirepad.stderr_until(" open, ");
    assert!(
        progress.last().is_some_and(|line| line.contains("2 open, 0 failed")),
        "{progress:?}"
    );
    let asked = Instant::now();
    wirepad.signal(libc::SIGINT);
    let done = wirepad.finish();
    assert!(
        asked.elapsed() < Duration::from_secs(2).min(TIMEOUT),
        "took {:?}",
        asked.elapsed()
    );
    assert_eq!(done.code, Some(130), "{:?}", done.stderr);
    assert!(
        done.text().contains("connections: 2 attempted, 2 established"),
        "{}",
        done.text()
    );
    assert!(
        done.stderr
            .iter()
            .any(|line| line.contains("load stopped: interrupted")),
        "{:?}",
        done.stderr
    );
}

#[test]
fn connections_open_at_the_connect_rate() {
    let (_server, addr) = echo_server();
    // A duration, not a count: the first connections alone could use a count up before the last one opens.
    let pace = ["--connect-rate", "20", "--duration", "0.5", "--rate", "10"];
    let args = [&["tcp", &addr, "-c", "5", "-s", "m", "--report", "json"][..], &pace].concat();
    let done = load(&args);
    assert_eq!(done.code, Some(0), "{:?}", done.stderr);
    let report = json(&done);
    assert_eq!(n(&report, "/connections/established"), 5, "{report}");
    // The fifth opens 4/20 s after the first.
    assert!(ms(&report, "/connections/all_open_s") >= 0.19, "{report}");
}

/// A reply and the FIN right behind it: the generator counts the reply and the close, and sends nothing after (a
/// read that stopped at the reply would wait for a readiness event the FIN already used).
#[test]
fn a_reply_with_the_fin_behind_it_counts_both() {
    const CONNS: usize = 20;
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address").to_string();
    thread::spawn(move || {
        for stream in listener.incoming().take(CONNS) {
            let Ok(stream) = stream else { return };
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            if reader.read_line(&mut line).is_ok() {
                let _ = reader.get_mut().write_all(line.as_bytes());
            }
        }
    });
    let conns = CONNS.to_string();
    let args = [
        "tcp",
        &addr,
        "-c",
        &conns,
        "--rate",
        "1",
        "--duration",
        "5",
        "-s",
        "m\\n",
        "--frame",
        "line",
        "--report",
        "json",
    ];
    let done = load(&args);
    assert_eq!(done.code, Some(0), "{:?}", done.stderr);
    let report = json(&done);
    assert_eq!(n(&report, "/messages/replies"), CONNS as u64, "{report}");
    // A close seen late leaves time for a second message (the rate's next tick) into the closed connection.
    assert_eq!(n(&report, "/messages/sent"), CONNS as u64, "{report}");
    assert_eq!(n(&report, "/connections/dropped/closed"), CONNS as u64, "{report}");
}

#[test]
fn a_silent_server_times_out_and_a_closing_one_is_counted() {
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = silent.local_addr().expect("address").to_string();
    let args = [
        "tcp",
        &addr,
        "-c",
        "2",
        "--count",
        "4",
        "--rate",
        "100",
        "-s",
        "m\\n",
        "--timeout",
        "200",
    ];
    let done = load(&[&args[..], &["--report", "json"]].concat());
    assert_eq!(done.code, Some(0), "{:?}", done.stderr);
    let report = json(&done);
    assert_eq!(n(&report, "/messages/sent"), 4, "{report}");
    assert_eq!(n(&report, "/messages/timeouts"), 4, "{report}");
    assert_eq!(n(&report, "/messages/replies"), 0, "{report}");

    let closing = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = closing.local_addr().expect("address").to_string();
    thread::spawn(move || {
        for stream in closing.incoming().take(2) {
            drop(stream);
        }
    });
    let args = [
        "tcp",
        &addr,
        "-c",
        "2",
        "--rate",
        "10",
        "--duration",
        "5",
        "-s",
        "m\\n",
        "--report",
        "json",
    ];
    let done = load(&args);
    assert_eq!(done.code, Some(0), "{:?}", done.stderr);
    let report = json(&done);
    let dropped: u64 = report["connections"]["dropped"]
        .as_object()
        .expect("dropped")
        .values()
        .filter_map(Value::as_u64)
        .sum();
    assert_eq!(dropped, 2, "{report}");
    assert!(
        ms(&report, "/duration_s") < 4.0,
        "ends when nothing is left open: {report}"
    );
}

#[cfg(unix)]
#[test]
fn too_few_file_descriptors_is_said_before_starting() {
    let io = crate::wirepad::Io {
        ulimit: Some("-n 64"),
        ..Default::default()
    };
    let done = Wirepad::start_with(&["load", "tcp", "127.0.0.1:9", "-c", "100", "-s", "x"], io).finish();
    assert_eq!(done.code, Some(2), "{:?}", done.stderr);
    assert_eq!(done.stderr.len(), 1, "{:?}", done.stderr);
    assert!(
        done.stderr[0].contains("-c 100: needs about 132 open files and this system allows 64"),
        "{:?}",
        done.stderr
    );
}
