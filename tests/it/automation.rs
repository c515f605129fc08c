//! Framing, auto-reply rules and send/expect scripts in the engine and on the command line, on real sockets on
//! loopback (port 0, every wait bounded). The examples/ files are the ones users start from.
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wirepad::automation::rules::Rules;
use wirepad::automation::script::Script;
use wirepad::codec::framing::Framing;
use wirepad::codec::text::TextEncoding;
use wirepad::net::{AutoEvent, Command, EventKind, RuleHits, ScriptEnd, StepOutcome};

use crate::support::*;
use crate::wirepad::Wirepad;

const MODBUS_RULES: &str = include_str!("../../examples/modbus-rules.toml");
const LOGIN_SCRIPT: &str = include_str!("../../examples/login-script.toml");

fn example(name: &str) -> String {
    format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn framing(spec: &str) -> Framing {
    spec.parse().expect("framing")
}

/// A server session cutting its streams with `frame` and answering with `rules` (file text).
fn server(frame: &str, rules: Option<&str>, encoding: TextEncoding) -> Tap {
    start_with(server_mode("127.0.0.1:0"), |config| {
        config.framing = framing(frame);
        config.rules = rules.map(|text| Rules::parse(text, encoding).expect("rules"));
    })
}

fn connect(session: &mut Tap) -> TcpStream {
    let stream = TcpStream::connect(session.local_addr().expect("bound")).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    wait_for(session, "the client to join", |_, kind| {
        matches!(kind, EventKind::PeerJoined { .. }).then_some(())
    });
    stream
}

/// The next `n` `Received` events' bytes: with a framing set, one event is one message.
fn messages(session: &mut Tap, n: usize) -> Vec<Vec<u8>> {
    let mut got = Vec::new();
    wait_for(session, &format!("{n} messages"), |_, kind| {
        if let EventKind::Received { bytes, .. } = kind {
            got.push(bytes.clone());
        }
        (got.len() == n).then_some(())
    });
    got
}

/// Waits until the worker has read `n` bytes in all: what is written next arrives in a read of its own.
fn read_by_worker(session: &Tap, n: u64) {
    eventually(format_args!("the worker to read {n} bytes"), TIMEOUT, || {
        (session.counters().snapshot().rx_bytes >= n).then_some(())
    });
}

fn rule_hits(session: &mut Tap) -> Arc<RuleHits> {
    wait_for(session, "the rules' hit counts", |_, kind| match kind {
        EventKind::Automation(AutoEvent::Rules { hits }) => Some(hits.clone()),
        _ => None,
    })
}

fn utf8() -> TextEncoding {
    TextEncoding::UTF8
}

// ---- framing ----

#[test]
fn line_framing_hands_out_one_event_per_line_whatever_the_reads() {
    let mut session = server("line", None, utf8());
    let mut client = connect(&mut session);
    client.write_all(b"ab\r\ncd").expect("write");
    assert_eq!(messages(&mut session, 1), [b"ab\r\n".to_vec()]);
    client.write_all(b"e\nf\ng").expect("write");
    assert_eq!(messages(&mut session, 2), [b"cde\n".to_vec(), b"f\n".to_vec()]);
    // What a peer leaves unfinished comes out when it goes.
    drop(client);
    assert_eq!(messages(&mut session, 1), [b"g".to_vec()]);
    // Counted as messages (what the window plots per second), not as reads.
    assert_eq!(session.counters().snapshot().messages, 4);
}

#[test]
fn a_client_gets_the_unfinished_message_when_its_server_leaves() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut session = start_with(client_mode(addr, false), |config| config.framing = framing("line"));
    let (mut stream, _) = accept_within(&listener);
    stream.write_all(b"a\nb").expect("write");
    drop(stream);
    assert_eq!(messages(&mut session, 2), [b"a\n".to_vec(), b"b".to_vec()]);
}

#[test]
fn delimiter_framing_cuts_after_the_delimiter() {
    let mut session = server("delim:7E7E", None, utf8());
    let mut client = connect(&mut session);
    client.write_all(b"one~~two~").expect("write");
    assert_eq!(messages(&mut session, 1), [b"one~~".to_vec()]);
    read_by_worker(&session, 9);
    client.write_all(b"~three~~").expect("write");
    assert_eq!(messages(&mut session, 2), [b"two~~".to_vec(), b"three~~".to_vec()]);
}

#[test]
fn a_length_prefix_split_across_reads_waits_for_its_record() {
    let mut session = server("len:u16be", None, utf8());
    let mut client = connect(&mut session);
    // The first byte of the length alone, then the second with part of the body, then the rest.
    client.write_all(&[0x00]).expect("write");
    read_by_worker(&session, 1);
    client.write_all(&[0x05, b'h', b'e']).expect("write");
    read_by_worker(&session, 4);
    client.write_all(b"llo\x00\x01!").expect("write");
    assert_eq!(
        messages(&mut session, 2),
        [b"\x00\x05hello".to_vec(), b"\x00\x01!".to_vec()]
    );
}

#[test]
fn a_length_prefixed_message_bigger_than_one_read_comes_out_whole() {
    let mut session = server("len:u32le+header", None, utf8());
    let mut client = connect(&mut session);
    let body: Vec<u8> = (0..3 * 1024 * 1024 + 7).map(|i| (i % 251) as u8).collect();
    let mut record = ((body.len() + 4) as u32).to_le_bytes().to_vec();
    record.extend_from_slice(&body);
    let writer = std::thread::spawn(move || {
        client.write_all(&record).expect("write");
        client.write_all(&[5, 0, 0, 0, b'x']).expect("write");
        client
    });
    let got = messages(&mut session, 2);
    assert_eq!(got[0].len(), body.len() + 4);
    assert!(got[0][4..] == body[..], "the record's body differs");
    assert_eq!(got[1], [5, 0, 0, 0, b'x']);
    drop(writer.join().expect("writer"));
}

#[test]
fn gap_framing_ends_a_message_after_the_silence() {
    let mut session = server("gap:100", None, utf8());
    let mut client = connect(&mut session);
    client.write_all(b"ab").expect("write");
    read_by_worker(&session, 2);
    // Within the gap: the same message.
    client.write_all(b"cd").expect("write");
    let sent = Instant::now();
    assert_eq!(messages(&mut session, 1), [b"abcd".to_vec()]);
    assert!(
        sent.elapsed() >= Duration::from_millis(100),
        "cut before the gap had passed"
    );
    // After a message was cut, the next bytes start a new one.
    client.write_all(b"ef").expect("write");
    assert_eq!(messages(&mut session, 1), [b"ef".to_vec()]);
}

#[test]
fn framing_none_hands_out_each_read_and_can_be_changed_while_running() {
    let mut session = server("none", None, utf8());
    let mut client = connect(&mut session);
    client.write_all(b"x\ny").expect("write");
    assert_eq!(receive_bytes(&mut session, 3), b"x\ny");
    assert_eq!(session.counters().snapshot().messages, 0, "no framing, no messages");
    session.command(Command::SetFraming(framing("line")));
    client.write_all(b"1\n2").expect("write");
    read_by_worker(&session, 6);
    client.write_all(b"\n").expect("write");
    assert_eq!(messages(&mut session, 2), [b"1\n".to_vec(), b"2\n".to_vec()]);
    // "x\ny" held nothing back when framing started: two messages since.
    assert_eq!(session.counters().snapshot().messages, 2);
}

// ---- rules ----

#[test]
fn a_text_rule_answers_and_counts_its_hits() {
    let rules = "[[rule]]\nname = \"ping\"\nmatch = \"PING\"\nreply = \"PONG #{count}\\r\\n\"\n";
    let mut session = server("none", Some(rules), utf8());
    let hits = rule_hits(&mut session);
    let mut client = connect(&mut session);
    client.write_all(b"xxPINGyy").expect("write");
    assert_eq!(read_exactly(&mut client, 9), b"PONG #1\r\n");
    client.write_all(b"PING").expect("write");
    assert_eq!(read_exactly(&mut client, 9), b"PONG #2\r\n");
    assert_eq!(hits.snapshot(), [2]);
    // What no rule matches gets no answer.
    client.write_all(b"ping").expect("write");
    assert!(stays_silent(&mut client, Duration::from_millis(200)));
    // The replies are reported as sent, for the log.
    wait_for(&mut session, "the reply reported as sent", |_, kind| match kind {
        EventKind::Sent { bytes, .. } => (**bytes == *b"PONG #1\r\n").then_some(()),
        _ => None,
    });
}

/// Issue 22.2: a rule whose reply is empty sends nothing and keeps the client (a zero-length write dropped it:
/// "write zero").
#[test]
fn an_empty_reply_sends_nothing_and_keeps_the_client() {
    let rules = "[[rule]]\nmatch = \"quiet\"\nreply = \"\"\n[[rule]]\nmatch = \"PING\"\nreply = \"PONG\"\n";
    let mut session = server("line", Some(rules), utf8());
    let hits = rule_hits(&mut session);
    let mut client = connect(&mut session);
    client.write_all(b"quiet\n").expect("write");
    eventually("the empty rule's hit", TIMEOUT, || {
        (hits.snapshot() == [1, 0]).then_some(())
    });
    client.write_all(b"PING\n").expect("write");
    assert_eq!(read_exactly(&mut client, 4), b"PONG", "still connected, still answered");
    assert_eq!(hits.snapshot(), [1, 1]);
}

/// Issue 22.2, on the command line: no "cannot send … write zero", no "left: error".
#[test]
fn cli_an_empty_reply_keeps_the_client() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("quiet.toml");
    std::fs::write(
        &path,
        "[[rule]]\nmatch = \"quiet\"\nreply = \"\"\n[[rule]]\nmatch = \"PING\"\nreply = \"PONG\"\n",
    )
    .expect("write");
    let rules = path.to_str().expect("path");
    let wirepad = Wirepad::start(&["tcp-server", "127.0.0.1:0", "-q", "--frame", "line", "--rules", rules]);
    let addr = wirepad.ready("listening on ");
    let mut client = TcpStream::connect(addr).expect("connect");
    client.write_all(b"quiet\n").expect("write");
    assert!(stays_silent(&mut client, Duration::from_millis(200)));
    client.write_all(b"PING\n").expect("write");
    assert_eq!(read_exactly(&mut client, 4), b"PONG");
    let done = wirepad.kill();
    let stderr = done.stderr.join("\n");
    assert!(!stderr.contains("write zero") && !stderr.contains("left"), "{stderr}");
}

/// An RTU-style CRC computed here, bit by bit, not by the code under test.
fn crc16_modbus(bytes: &[u8]) -> [u8; 2] {
    let mut crc: u16 = 0xFFFF;
    for &byte in bytes {
        crc ^= u16::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xA001 } else { crc >> 1 };
        }
    }
    crc.to_le_bytes()
}

fn with_crc(bytes: &[u8]) -> Vec<u8> {
    let mut framed = bytes.to_vec();
    framed.extend_from_slice(&crc16_modbus(bytes));
    framed
}

#[test]
fn the_modbus_example_answers_with_wildcards_and_crcs() {
    let mut session = server("gap:20", Some(MODBUS_RULES), utf8());
    let hits = rule_hits(&mut session);
    let mut client = connect(&mut session);
    let exchanges: [(&[u8], &[u8]); 3] = [
        // Any CRC on the request: the rule's ?? ?? take it.
        (&[1, 3, 0, 0, 0, 2, 0xC4, 0x0B], &[1, 3, 4, 0, 0x2A, 0, 0x2B]),
        (&with_crc(&[1, 6, 0, 1, 0, 3]), &[1, 6, 0, 1, 0, 3]),
        (&with_crc(&[1, 3, 0, 9, 0, 1]), &[1, 0x83, 2]),
    ];
    for (request, reply) in exchanges {
        client.write_all(request).expect("write");
        let expected = with_crc(reply);
        assert_eq!(
            read_exactly(&mut client, expected.len()),
            expected,
            "reply to {request:02X?}"
        );
    }
    // Another slave's request is not answered.
    client.write_all(&with_crc(&[2, 3, 0, 0, 0, 2])).expect("write");
    assert!(stays_silent(&mut client, Duration::from_millis(200)));
    assert_eq!(hits.snapshot(), [1, 1, 1]);
}

#[test]
fn a_regex_rule_fills_its_groups_per_line() {
    let rules = "[[rule]]\nmatch_regex = '^GET (\\S+) (\\d+)'\nreply = \"got $1 #$2 from {peer}\\n\"\n";
    let mut session = server("line", Some(rules), utf8());
    let mut client = connect(&mut session);
    let me = client.local_addr().expect("local");
    client.write_all(b"GET /a 1\nGET /b").expect("write");
    let first = format!("got /a #1 from {me}\n");
    assert_eq!(read_exactly(&mut client, first.len()), first.as_bytes());
    // The second line is answered only once it is whole.
    assert!(stays_silent(&mut client, Duration::from_millis(100)));
    client.write_all(b" 22\r\n").expect("write");
    let second = format!("got /b #22 from {me}\n");
    assert_eq!(read_exactly(&mut client, second.len()), second.as_bytes());
}

#[test]
fn a_gbk_rule_matches_its_text_split_across_reads() {
    let gbk = TextEncoding::from_name("gbk").expect("gbk");
    let rules = "[[rule]]\nmatch = \"你好\"\nreply = \"再见\\n\"\n";
    let mut session = server("line", Some(rules), gbk);
    let mut client = connect(&mut session);
    let hello = gbk.encode("你好\n").expect("gbk");
    // Split inside 你: the rule sees the whole line.
    client.write_all(&hello[..1]).expect("write");
    read_by_worker(&session, 1);
    client.write_all(&hello[1..]).expect("write");
    let goodbye = gbk.encode("再见\n").expect("gbk");
    assert_eq!(read_exactly(&mut client, goodbye.len()), goodbye);
}

#[test]
fn rule_text_the_encoding_cannot_carry_is_refused_at_load() {
    let error = Rules::parse(
        "[[rule]]\nmatch = \"x\"\nreply = \"😀\"\n",
        TextEncoding::from_name("gbk").expect("gbk"),
    )
    .expect_err("GBK has no emoji");
    let message = error.to_string();
    assert!(message.starts_with("line 3, column 9: rule 1: `reply`: "), "{message}");
}

#[test]
fn a_delayed_reply_waits_without_holding_up_others() {
    let rules =
        "[[rule]]\nmatch = \"slow\"\nreply = \"late\"\ndelay_ms = 300\n[[rule]]\nmatch = \"fast\"\nreply = \"now!\"\n";
    let mut session = server("none", Some(rules), utf8());
    let mut client = connect(&mut session);
    let sent = Instant::now();
    client.write_all(b"slow").expect("write");
    read_by_worker(&session, 4);
    client.write_all(b"fast").expect("write");
    // The worker answered the second request while the first one's reply waited.
    assert_eq!(read_exactly(&mut client, 4), b"now!");
    assert_eq!(read_exactly(&mut client, 4), b"late");
    assert!(sent.elapsed() >= Duration::from_millis(300), "the delay was not kept");
}

#[test]
fn a_half_closed_client_gets_its_delayed_reply_before_the_end() {
    // `printf 'x\n' | nc -N`: the request, then a half-close; the answer comes a second later, past the grace a
    // half-closed peer gets when nothing is owed to it.
    let rules = "[[rule]]\nmatch = \"x\"\nreply = \"late\\n\"\ndelay_ms = 1000\n";
    let mut session = server("line", Some(rules), utf8());
    let mut client = connect(&mut session);
    client.write_all(b"x\n").expect("write");
    client.shutdown(std::net::Shutdown::Write).expect("half-close");
    let reader = std::thread::spawn(move || read_to_end(&mut client));
    // The consumer takes every event, as the command line does: the grace runs from when it took the last bytes.
    let deadline = Instant::now() + TIMEOUT;
    while !reader.is_finished() && Instant::now() < deadline {
        let _ = session.events().recv_timeout(Duration::from_millis(10));
    }
    assert_eq!(reader.join().expect("reader"), b"late\n");
}

#[test]
fn echo_is_a_rule_after_the_others_and_set_rules_replaces_them() {
    let rules = "[[rule]]\nmatch = \"hi\"\nreply = \"hello\\n\"\n";
    let mut session = start_with(server_mode("127.0.0.1:0"), |config| {
        config.echo = true;
        config.framing = framing("line");
        config.rules = Some(Rules::parse(rules, utf8()).expect("rules"));
    });
    let hits = rule_hits(&mut session);
    let mut client = connect(&mut session);
    client.write_all(b"hi\nother\n").expect("write");
    assert_eq!(read_exactly(&mut client, 12), b"hello\nother\n");
    assert_eq!(hits.snapshot(), [1, 1]);
    session.command(Command::SetRules(None));
    let hits = rule_hits(&mut session);
    assert_eq!(hits.len(), 1, "only the echo is left");
    client.write_all(b"hi\n").expect("write");
    assert_eq!(read_exactly(&mut client, 3), b"hi\n");
}

#[test]
fn udp_rules_answer_each_datagram_to_its_sender() {
    let mut session = start_with(udp_mode("127.0.0.1:0", None, false), |config| {
        config.rules =
            Some(Rules::parse("[[rule]]\nmatch_hex = \"AA ??\"\nreply_hex = \"BB\"\n", utf8()).expect("rules"));
    });
    let local = session.local_addr().expect("bound");
    let peer = UdpSocket::bind("127.0.0.1:0").expect("bind");
    peer.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    peer.send_to(&[0xAA, 0x01, 0x02], local).expect("send");
    let mut buf = [0; 16];
    let (n, from) = peer.recv_from(&mut buf).expect("a reply");
    assert_eq!((&buf[..n], from), (&[0xBB][..], local));
    assert_eq!(rule_hits(&mut session).snapshot(), [1]);
}

// ---- scripts ----

/// The login server of the seed tutorials: "Welcome!", then "Hello,<name>!" for each name line. Serves `clients`
/// connections, each on its own thread, and returns the names it was sent.
fn login_server(clients: usize) -> (SocketAddr, std::thread::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let thread = std::thread::spawn(move || {
        let mut names = Vec::new();
        for _ in 0..clients {
            let (mut stream, _) = accept_within(&listener);
            stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
            stream.write_all(b"Welcome!\n").expect("greet");
            let mut line = String::new();
            BufReader::new(stream.try_clone().expect("clone"))
                .read_line(&mut line)
                .expect("a name");
            let name = line.trim().to_owned();
            stream.write_all(format!("Hello,{name}!\n").as_bytes()).expect("answer");
            names.push(name);
        }
        names
    });
    (addr, thread)
}

fn script(text: &str) -> Arc<Script> {
    Arc::new(Script::parse(text, utf8()).expect("script"))
}

/// Every script event until the run ends: the steps (round, step, outcome) and how it ended.
fn script_run(session: &mut Tap) -> (Vec<(u64, usize, StepOutcome)>, ScriptEnd) {
    let mut steps = Vec::new();
    let end = wait_for(session, "the script to end", |_, kind| match kind {
        EventKind::Automation(AutoEvent::Step {
            round, step, outcome, ..
        }) => {
            steps.push((*round, *step, outcome.clone()));
            None
        }
        EventKind::Automation(AutoEvent::ScriptEnded { end, .. }) => Some(*end),
        _ => None,
    });
    (steps, end)
}

#[test]
fn the_login_example_passes_step_by_step() {
    let (addr, server) = login_server(1);
    let mut session = start_with(client_mode(addr, false), |config| {
        config.script = Some(script(LOGIN_SCRIPT))
    });
    let (steps, end) = script_run(&mut session);
    assert_eq!(end, ScriptEnd::Passed);
    let passed: Vec<_> = (0..3).map(|step| (1, step, StepOutcome::Passed)).collect();
    assert_eq!(steps, passed);
    assert_eq!(server.join().expect("server"), ["Michael"]);
}

#[test]
fn an_expect_that_times_out_fails_its_step_with_what_arrived() {
    let (addr, _server) = login_server(1);
    let text = LOGIN_SCRIPT
        .replace("Hello,Michael!", "Hello,Bob!")
        .replace("timeout_ms = 2000", "timeout_ms = 300");
    let mut session = start_with(client_mode(addr, false), |config| config.script = Some(script(&text)));
    let (steps, end) = script_run(&mut session);
    assert_eq!(end, ScriptEnd::Failed { step: 2, round: 1 });
    assert_eq!(
        steps.last(),
        Some(&(
            1,
            2,
            StepOutcome::Failed {
                received: b"\nHello,Michael!\n".to_vec()
            }
        ))
    );
}

#[test]
fn a_script_repeats_its_rounds() {
    // The peer answers every line; three rounds of ping/pong.
    let peer = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = peer.local_addr().expect("addr");
    let server = std::thread::spawn(move || {
        let (stream, _) = accept_within(&peer);
        stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
        let mut writer = stream.try_clone().expect("clone");
        let mut lines = 0;
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            lines += 1;
            writer.write_all(format!("pong {line}\n").as_bytes()).expect("answer");
        }
        lines
    });
    let text = "repeat = 3\n[[step]]\nsend = \"ping\\n\"\n[[step]]\nexpect_regex = 'pong \\w+'\n";
    let mut session = start_with(client_mode(addr, false), |config| config.script = Some(script(text)));
    let (steps, end) = script_run(&mut session);
    assert_eq!(end, ScriptEnd::Passed);
    let rounds: Vec<u64> = steps.iter().map(|(round, ..)| *round).collect();
    assert_eq!(rounds, [1, 1, 2, 2, 3, 3]);
    session.stop();
    assert_eq!(server.join().expect("server"), 3);
}

#[test]
fn a_server_runs_its_script_for_each_client_that_joins() {
    let text = "[[step]]\nsend = \"Welcome!\\n\"\n[[step]]\nexpect = \"\\n\"\n[[step]]\nsend = \"bye\\n\"\n";
    let mut session = start_with(server_mode("127.0.0.1:0"), |config| config.script = Some(script(text)));
    let addr = session.local_addr().expect("bound");
    for name in ["a", "b"] {
        let mut client = TcpStream::connect(addr).expect("connect");
        assert_eq!(read_exactly(&mut client, 9), b"Welcome!\n");
        client.write_all(format!("{name}\n").as_bytes()).expect("write");
        assert_eq!(read_exactly(&mut client, 4), b"bye\n");
        let (_, end) = script_run(&mut session);
        assert_eq!(end, ScriptEnd::Passed);
    }
    // StopScript ends the runs, and clients joining later get nothing.
    session.command(Command::StopScript);
    let mut late = TcpStream::connect(addr).expect("connect");
    assert!(stays_silent(&mut late, Duration::from_millis(200)));
}

#[test]
fn a_script_whose_peer_leaves_fails_at_the_step_it_was_on() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut session = start_with(client_mode(addr, false), |config| {
        config.script = Some(script(LOGIN_SCRIPT))
    });
    let (mut stream, _) = accept_within(&listener);
    stream.write_all(b"Welc").expect("write");
    read_by_worker(&session, 4);
    drop(stream);
    let (steps, end) = script_run(&mut session);
    assert_eq!(end, ScriptEnd::Failed { step: 0, round: 1 });
    assert_eq!(
        steps,
        [(
            1,
            0,
            StepOutcome::Failed {
                received: b"Welc".to_vec()
            }
        )]
    );
}

#[test]
fn a_udp_script_talks_to_its_remote() {
    let peer = UdpSocket::bind("127.0.0.1:0").expect("bind");
    peer.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    let remote = peer.local_addr().expect("addr").to_string();
    let text = "[[step]]\nsend_hex = \"01 03\"\nchecksum = \"xor8\"\n[[step]]\nexpect_hex = \"06\"\n";
    let mut session = start_with(udp_mode("127.0.0.1:0", Some(remote), false), |config| {
        config.script = Some(script(text));
    });
    let mut buf = [0; 16];
    let (n, from) = peer.recv_from(&mut buf).expect("the script's datagram");
    assert_eq!(&buf[..n], [1, 3, 2], "the payload and its xor8");
    peer.send_to(&[0x15, 0x06], from).expect("answer");
    let (steps, end) = script_run(&mut session);
    assert_eq!(end, ScriptEnd::Passed);
    assert_eq!(steps.len(), 2);
}

#[test]
fn a_script_of_rounds_that_do_nothing_does_not_spin() {
    // Rounds of `sleep_ms = 0` alone: nothing is sent, nothing waited for. Counted by their first step's event,
    // which every round reports: a busy loop makes hundreds of thousands a second even on a loaded machine; with a
    // timer's turn (`IDLE_ROUND`, 1 ms) after each call that went a whole round, at most two rounds a millisecond
    // (the one it resumed and one whole), whatever the load.
    let text = "repeat = 0\n[[step]]\nsleep_ms = 0\n[[step]]\nsleep_ms = 0\n";
    let session = start_with(udp_mode("127.0.0.1:0", None, false), |config| {
        config.script = Some(script(text))
    });
    let mut rounds = 0usize;
    let mut window = None;
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let now = Instant::now();
        assert!(now < deadline, "no script steps within {TIMEOUT:?}");
        if window.is_some_and(|end| now >= end) {
            break;
        }
        let wait = window
            .map_or(deadline, |end: Instant| end)
            .saturating_duration_since(now);
        let Ok(batch) = session.events().recv_timeout(wait) else {
            continue;
        };
        for event in batch {
            if let EventKind::Automation(AutoEvent::Step { step: 0, .. }) = event.kind {
                // The second counted from the first round reported.
                window.get_or_insert_with(|| Instant::now() + Duration::from_secs(1));
                rounds += 1;
            }
        }
    }
    session.command(Command::StopScript);
    assert!(rounds > 0, "the script ran");
    // 2,000 at most, and what one batch late may bring.
    assert!(rounds <= 3_000, "{rounds} rounds in one second: the run spins");
}

// ---- the command line ----

#[test]
fn cli_server_runs_the_script_for_each_client_and_reports_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("greet.toml");
    std::fs::write(
        &path,
        "[[step]]\nsend = \"Welcome!\\n\"\n[[step]]\nexpect = \"bye\"\ntimeout_ms = 300\n",
    )
    .expect("write");
    let wirepad = Wirepad::start(&[
        "tcp-server",
        "127.0.0.1:0",
        "-q",
        "--script",
        path.to_str().expect("path"),
    ]);
    let addr = wirepad.ready("listening on ");
    let mut good = TcpStream::connect(addr).expect("connect");
    assert_eq!(read_exactly(&mut good, 9), b"Welcome!\n");
    good.write_all(b"bye").expect("write");
    let me = good.local_addr().expect("local");
    wirepad.stderr_until(&format!("client {me}: script passed"));
    let mut quiet = TcpStream::connect(addr).expect("connect");
    assert_eq!(read_exactly(&mut quiet, 9), b"Welcome!\n");
    quiet.write_all(b"hm").expect("write");
    let me = quiet.local_addr().expect("local");
    let lines = wirepad.stderr_until(&format!("client {me}: script step 2"));
    let failed = lines.last().expect("a line");
    assert!(
        failed.ends_with("received instead (2 bytes): text \"hm\", hex 68 6D"),
        "{failed}"
    );
    // The server goes on.
    let mut third = TcpStream::connect(addr).expect("connect");
    assert_eq!(read_exactly(&mut third, 9), b"Welcome!\n");
}

#[test]
fn cli_script_passes_with_exit_0() {
    let (addr, server) = login_server(1);
    let wirepad = Wirepad::start(&[
        "tcp-client",
        &addr.to_string(),
        "--script",
        &example("login-script.toml"),
    ]);
    let done = wirepad.finish();
    assert_eq!(done.code, Some(0), "stderr: {:?}", done.stderr);
    assert_eq!(done.text(), "Welcome!\nHello,Michael!\n");
    assert_eq!(server.join().expect("server"), ["Michael"]);
}

#[test]
fn cli_script_failure_exits_1_naming_the_step_and_what_arrived() {
    let (addr, _server) = login_server(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bob.toml");
    std::fs::write(
        &path,
        LOGIN_SCRIPT
            .replace("Hello,Michael!", "Hello,Bob!")
            .replace("2000", "300"),
    )
    .expect("write");
    let wirepad = Wirepad::start(&[
        "tcp-client",
        &addr.to_string(),
        "--script",
        path.to_str().expect("path"),
    ]);
    let done = wirepad.finish();
    assert_eq!(done.code, Some(1), "stderr: {:?}", done.stderr);
    let error = done.stderr.last().expect("an error line");
    assert!(
        error.starts_with("error: script step 3 (expect = \"Hello,Bob!\"; timeout_ms = 300) failed in round 1 after "),
        "{error}"
    );
    assert!(
        error.ends_with(
            "received instead (16 bytes): text \"\\nHello,Michael!\\n\", hex 0A 48 65 6C 6C 6F 2C 4D 69 63 68 61 65 6C 21 0A"
        ),
        "{error}"
    );
}

/// Runs wirepad with a file for `option` and returns its exit code and last stderr line; nothing may connect.
fn refused_file(option: &str, text: impl AsRef<[u8]>) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("file.toml");
    std::fs::write(&path, text).expect("write");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let done = Wirepad::start(&["tcp-client", &addr, option, path.to_str().expect("path")]).finish();
    listener.set_nonblocking(true).expect("nonblocking");
    assert!(listener.accept().is_err(), "nothing runs until the whole file is valid");
    let line = done.stderr.last().cloned().unwrap_or_default();
    let shown = line.replace(path.to_str().expect("path"), "FILE");
    (done.code, shown)
}

#[test]
fn cli_files_that_do_not_parse_exit_2_naming_line_column_and_key() {
    assert_eq!(
        refused_file("--script", "[[step]]\nexpect = \"ok\"\n[[step]]\nsend = 3\n"),
        (
            Some(2),
            "error: --script FILE: line 4, column 8: invalid type: integer `3`, expected a string".into()
        )
    );
    assert_eq!(
        refused_file(
            "--rules",
            "[[rule]]\nmatch = \"a\"\nreply = \"b\"\n[[rule]]\nmatch = \"c\"\nrepyl = \"d\"\n"
        ),
        (
            Some(2),
            "error: --rules FILE: line 6, column 1: unknown field `repyl`, expected one of `name`, `enabled`, \
             `match`, `match_hex`, `match_regex`, `reply`, `reply_hex`, `checksum`, `delay_ms`, `direction`, `action`"
                .into()
        )
    );
    let (code, line) = refused_file(
        "--rules",
        "[[rule]]\nname = \"get\"\nmatch_regex = 'GET (\\S+'\nreply = \"x\"\n",
    );
    assert_eq!(code, Some(2));
    assert!(
        line.starts_with(
            "error: --rules FILE: line 3, column 15: rule 1 (get): `match_regex`: the regex does not compile"
        ),
        "{line}"
    );
}

/// The contract for a file that does not parse holds for bytes that are not text too: the first bad byte's place.
#[test]
fn cli_files_that_are_not_utf8_exit_2_naming_line_and_column() {
    assert_eq!(
        refused_file("--rules", b"[[rule]]\nmatch = \"a\xFFb\"\nreply = \"x\"\n"),
        (
            Some(2),
            "error: --rules FILE: line 2, column 11: not UTF-8 text (byte 0xFF)".into()
        )
    );
    assert_eq!(
        refused_file("--script", ["[[step]]\nsend = \"ü".as_bytes(), b"\xFF\"\n"].concat()),
        (
            Some(2),
            "error: --script FILE: line 2, column 10: not UTF-8 text (byte 0xFF)".into()
        )
    );
}

/// Regexes that each compile but are too big for one regex set together all still answer.
#[test]
fn cli_regex_rules_too_big_for_one_set_still_answer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("rules.toml");
    std::fs::write(
        &path,
        "[[rule]]\nmatch_regex = '^A\\w{200}'\nreply = \"a\"\n\
         [[rule]]\nmatch_regex = '^B\\w{200}'\nreply = \"b\"\n\
         [[rule]]\nmatch_regex = '^PING'\nreply = \"PONG\"\n",
    )
    .expect("write");
    let wirepad = Wirepad::start(&[
        "tcp-server",
        "127.0.0.1:0",
        "-q",
        "--rules",
        path.to_str().expect("path"),
    ]);
    let addr = wirepad.ready("listening on ");
    let mut client = TcpStream::connect(addr).expect("connect");
    client.write_all(b"PING\n").expect("write");
    assert_eq!(read_exactly(&mut client, 4), b"PONG");
}

#[test]
fn cli_rules_answer_and_frame_prints_one_log_line_per_message() {
    let wirepad = Wirepad::start(&[
        "tcp-server",
        "127.0.0.1:0",
        "--rules",
        &example("modbus-rules.toml"),
        "--frame",
        "gap:100",
        "--hex",
        "--quit-after-bytes",
        "16",
    ]);
    let addr = wirepad.ready("listening on ");
    let mut client = TcpStream::connect(addr).expect("connect");
    let request = with_crc(&[1, 3, 0, 0, 0, 2]);
    client.write_all(&request[..3]).expect("write");
    client.write_all(&request[3..]).expect("write");
    let reply = with_crc(&[1, 3, 4, 0, 0x2A, 0, 0x2B]);
    assert_eq!(read_exactly(&mut client, reply.len()), reply);
    client.write_all(&with_crc(&[1, 6, 0, 1, 0, 3])).expect("write");
    let done = wirepad.finish();
    assert_eq!(done.code, Some(0), "stderr: {:?}", done.stderr);
    assert_eq!(done.text(), "01 03 00 00 00 02 C4 0B\n01 06 00 01 00 03 98 0B\n");
}

#[test]
fn cli_bad_frame_spec_exits_2() {
    let done = Wirepad::start(&["tcp-server", "127.0.0.1:0", "--frame", "len:u24"]).finish();
    assert_eq!(done.code, Some(2));
    assert!(
        done.stderr
            .last()
            .is_some_and(|line| line.contains("unknown framing \"len:u24\"")),
        "{:?}",
        done.stderr
    );
}
