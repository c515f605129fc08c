//! End-to-end tests of the wirepad binary against std sockets on loopback. Ports come from the first
//! stderr line (port 0 everywhere); every wait has a deadline; a failing test kills its child.
use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use clap::CommandFactory;
use wirepad::cli::Cli;

use crate::support::{TIMEOUT, accept_within, read_exactly, read_to_end, read_to_end_or_reset, stays_silent};
use crate::wirepad::{Io, Wirepad};

/// How long to watch for bytes that must *not* arrive.
const SILENCE: Duration = Duration::from_millis(300);

/// A listener on 127.0.0.1 with a port nobody else has.
fn listener() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a listener");
    let addr = listener.local_addr().expect("listener address").to_string();
    (listener, addr)
}

fn udp_peer() -> (UdpSocket, SocketAddr) {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind a UDP socket");
    socket.set_read_timeout(Some(TIMEOUT)).expect("read timeout");
    let addr = socket.local_addr().expect("UDP address");
    (socket, addr)
}

fn recv_datagram(socket: &UdpSocket) -> (Vec<u8>, SocketAddr) {
    let mut buf = vec![0u8; 65_536];
    let (n, from) = socket.recv_from(&mut buf).expect("a datagram arrives in time");
    (buf[..n].to_vec(), from)
}

/// Ends the server side of a wirepad tcp-client normally (FIN), so it exits 0, and returns what it
/// had sent.
fn close_and_collect(mut stream: TcpStream) -> Vec<u8> {
    stream.shutdown(Shutdown::Write).expect("shutdown");
    read_to_end(&mut stream)
}

fn connected(wirepad: &Wirepad, server: &TcpListener) -> TcpStream {
    let (stream, from) = accept_within(server);
    let line = wirepad.stderr_line();
    let expected = format!("connected to {} from {from}", server.local_addr().expect("addr"));
    assert_eq!(line, expected, "the first stderr line");
    stream
}

/// Checks `[HH:MM:SS.mmm] PEER: DATA`.
fn assert_log_line(line: &str, peer: SocketAddr, data: &str) {
    let (stamp, rest) = line
        .strip_prefix('[')
        .and_then(|line| line.split_once("] "))
        .unwrap_or_else(|| panic!("{line:?} has no [time] header"));
    let shape: String = stamp
        .chars()
        .map(|c| if c.is_ascii_digit() { '9' } else { c })
        .collect();
    assert_eq!(shape, "99:99:99.999", "timestamp of {line:?}");
    assert_eq!(rest, format!("{peer}: {data}"));
}

#[test]
fn version_names_the_release_and_the_commit_it_was_built_from() {
    let out = Command::new(env!("CARGO_BIN_EXE_wirepad"))
        .arg("--version")
        .output()
        .expect("run --version");
    assert_eq!(out.status.code(), Some(0));
    let version = String::from_utf8(out.stdout).expect("UTF-8");
    // The checkout the tests run in is the one the binary was built from (or no checkout at all).
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map_or_else(
            || "unknown".to_owned(),
            |out| String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        );
    assert_eq!(
        version.trim_end(),
        format!("wirepad {} (commit {commit})", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn help_lists_every_option_and_the_checksum_byte_orders() {
    let out = Command::new(env!("CARGO_BIN_EXE_wirepad"))
        .arg("--help")
        .output()
        .expect("run --help");
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8(out.stdout).expect("UTF-8 help");
    let cli = Cli::command();
    for session in ["tcp-server", "tcp-client", "udp"] {
        assert!(help.contains(&format!("wirepad {session}")), "{session}");
        let command = cli.find_subcommand(session).expect(session);
        for arg in command.get_arguments() {
            assert!(
                arg.get_help().is_some() || arg.get_id() == "help",
                "{session} {} has no help text",
                arg.get_id()
            );
            if let Some(long) = arg.get_long().filter(|&long| long != "help") {
                assert!(help.contains(&format!("--{long}")), "--{long} missing");
            }
        }
    }
    assert!(help.contains("--append cr|lf|crlf"), "{help}");

    let out = Command::new(env!("CARGO_BIN_EXE_wirepad"))
        .args(["tcp-client", "--help"])
        .output()
        .expect("run tcp-client --help");
    let help = String::from_utf8(out.stdout).expect("UTF-8 help");
    for order in [
        "crc16-modbus is low byte first",
        "crc16-ccitt (CCITT-FALSE) high byte first",
        "crc32 (as zlib) little-endian",
        "sum8, xor8 and lrc one byte",
        "crlf: \\r\\n (0D 0A)",
    ] {
        assert!(help.contains(order), "{order:?} missing from\n{help}");
    }

    let usage = Command::new(env!("CARGO_BIN_EXE_wirepad"))
        .args(["tcp-server"])
        .output()
        .expect("run without LISTEN");
    assert_eq!(usage.status.code(), Some(2), "a missing LISTEN is a usage error");
}

#[test]
fn tcp_server_shows_its_port_and_decodes_gbk_split_between_reads() {
    let mut wirepad = Wirepad::start(&["tcp-server", "127.0.0.1:0", "-e", "gbk", "--quit-after-bytes", "5"]);
    let addr = wirepad.ready("listening on ");
    assert_eq!(addr.ip().to_string(), "127.0.0.1");
    let mut client = TcpStream::connect(addr).expect("connect");
    let joined = wirepad.stderr_line();
    assert_eq!(joined, format!("client {} joined", client.local_addr().expect("local")));
    // "A" and the first byte of 你; the rest only once "A" was printed, so the printer is handed the two
    // halves of 你 in two chunks, whatever the engine merges.
    client.write_all(&[0x41, 0xC4]).expect("write");
    wirepad.stdout_until(b"A");
    client.write_all(&[0xE3, 0xBA, 0xC3]).expect("write");
    let done = wirepad.finish();
    assert_eq!(done.code, Some(0), "stderr: {:?}", done.stderr);
    assert_eq!(done.text(), "A你好");
}

/// A client that leaves in the middle of a character gets U+FFFD for it then, not at the end of the run.
#[test]
fn a_client_leaving_mid_character_ends_its_text_with_a_replacement() {
    let wirepad = Wirepad::start(&["tcp-server", "127.0.0.1:0", "-e", "gbk", "--quit-after-bytes", "3"]);
    let addr = wirepad.ready("listening on ");
    let mut first = TcpStream::connect(addr).expect("connect");
    first.write_all(&[0x41, 0xC4]).expect("write");
    drop(first);
    wirepad.stderr_until("left: closed by peer");
    let mut second = TcpStream::connect(addr).expect("connect");
    second.write_all(b"B").expect("write");
    let done = wirepad.finish();
    assert_eq!(done.code, Some(0), "stderr: {:?}", done.stderr);
    assert_eq!(done.text(), "A\u{FFFD}B");
}

#[test]
fn tcp_server_on_ipv6_loopback() {
    let wirepad = Wirepad::start(&["tcp-server", "[::1]:0", "--quit-after-bytes", "2"]);
    let addr = wirepad.ready("listening on ");
    assert_eq!(addr.ip().to_string(), "::1");
    let mut client = TcpStream::connect(addr).expect("connect over IPv6");
    client.write_all(b"v6").expect("write");
    let done = wirepad.finish();
    assert_eq!(done.code, Some(0), "stderr: {:?}", done.stderr);
    assert_eq!(done.text(), "v6");
}

#[test]
fn tcp_client_sends_gbk_and_exits_0_when_the_server_closes() {
    let (server, addr) = listener();
    let wirepad = Wirepad::start(&["tcp-client", &addr, "-s", "你好", "-e", "gbk"]);
    let mut stream = connected(&wirepad, &server);
    assert_eq!(read_exactly(&mut stream, 4), [0xC4, 0xE3, 0xBA, 0xC3]);
    stream.write_all(&[0xC4, 0xE3, b'!']).expect("write");
    let sent = close_and_collect(stream);
    assert!(sent.is_empty(), "nothing more was sent: {sent:02X?}");
    let done = wirepad.finish();
    assert_eq!(done.code, Some(0), "stderr: {:?}", done.stderr);
    assert_eq!(done.text(), "你!");
}

#[test]
fn tcp_client_connection_refused_exits_1() {
    let (server, addr) = listener();
    drop(server);
    let done = Wirepad::start(&["tcp-client", &addr, "-s", "x"]).finish();
    assert_eq!(done.code, Some(1));
    assert_eq!(
        done.stderr,
        [format!("error: cannot connect to {addr}: connection refused")]
    );
    assert!(done.stdout.is_empty());
}

#[test]
fn tcp_client_connection_reset_exits_1() {
    let (server, addr) = listener();
    let wirepad = Wirepad::start(&["tcp-client", &addr]);
    let stream = connected(&wirepad, &server);
    // Linger 0: close with RST instead of FIN.
    socket2::SockRef::from(&stream)
        .set_linger(Some(Duration::ZERO))
        .expect("linger");
    drop(stream);
    let done = wirepad.finish();
    assert_eq!(done.code, Some(1), "stderr: {:?}", done.stderr);
    assert_eq!(
        done.stderr.last().map(String::as_str),
        Some("error: connection reset by peer")
    );
}

#[test]
fn bad_input_exits_2_with_one_line_and_sends_nothing() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--send-hex", "01 0G"],
            "error: --send-hex: bad hex digit 'G' at position 5",
        ),
        (
            &["-s", r"ab\q"],
            r"error: --send: unknown escape \q at position 3 (known: \r \n \t \0 \\ \xHH)",
        ),
        (
            &["-e", "klingon", "-s", "x"],
            "error: unknown encoding \"klingon\" (try utf-8,",
        ),
        (
            &["-e", "gbk", "-s", "ab😀"],
            "error: --send: '😀' at position 3 cannot be encoded in gbk",
        ),
        (&["--send-hex", ""], "error: --send-hex: nothing to send"),
        (&["--send-hex", " , "], "error: --send-hex: nothing to send"),
        (&["-s", ""], "error: --send: nothing to send"),
        // The hex rule: one digit is one byte, a longer run pairs up.
        (
            &["--send-hex", "0 123"],
            "error: --send-hex: odd number of hex digits in \"123\" at position 3",
        ),
    ];
    for &(options, message) in cases {
        let (server, addr) = listener();
        let mut args = vec!["tcp-client", &addr];
        args.extend_from_slice(options);
        let done = Wirepad::start(&args).finish();
        assert_eq!(done.code, Some(2), "{options:?}: {:?}", done.stderr);
        assert_eq!(done.stderr.len(), 1, "{options:?}: one line: {:?}", done.stderr);
        assert!(
            done.stderr[0].starts_with(message),
            "{options:?}: {:?} should start with {message:?}",
            done.stderr[0]
        );
        assert!(done.stdout.is_empty());
        server.set_nonblocking(true).expect("nonblocking");
        let attempt = server.accept().map(|(_, from)| from);
        assert!(
            attempt
                .as_ref()
                .is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock),
            "{options:?}: wirepad connected (from {attempt:?}) although its input was bad"
        );
    }
}

#[test]
fn checksum_follows_the_payload_on_the_wire() {
    let (server, addr) = listener();
    let wirepad = Wirepad::start(&[
        "tcp-client",
        &addr,
        "--send-hex",
        "01 03 00 00 00 0A",
        "--checksum",
        "crc16-modbus",
    ]);
    let mut stream = connected(&wirepad, &server);
    assert_eq!(
        read_exactly(&mut stream, 8),
        [0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCD]
    );
    assert!(close_and_collect(stream).is_empty(), "nothing more was sent");
    assert_eq!(wirepad.finish().code, Some(0));
}

#[test]
fn repeat_sends_exactly_n_copies() {
    let (server, addr) = listener();
    let wirepad = Wirepad::start(&[
        "tcp-client",
        &addr,
        "-s",
        "ping;",
        "--repeat",
        "5",
        "--interval",
        "10",
        "--quit-when-idle",
        "300",
    ]);
    let mut stream = connected(&wirepad, &server);
    // Reading to the end (wirepad quits once idle) also shows that no sixth copy follows.
    assert_eq!(read_to_end(&mut stream), b"ping;".repeat(5));
    assert_eq!(wirepad.finish().code, Some(0));
}

/// `--vars`: each periodic send is filled in anew (`{seq}` counts the session's sends); without it the braces go
/// out as typed, so a JSON payload stays JSON.
#[test]
fn vars_number_a_periodic_send_and_without_them_braces_stay() {
    for (vars, want) in [
        (true, b"n0:{x};n1:{x};n2:{x};".to_vec()),
        (false, b"n{seq}:{{x}};".repeat(3)),
    ] {
        let (server, addr) = listener();
        let mut args = vec![
            "tcp-client",
            &addr,
            "-s",
            "n{seq}:{{x}};",
            "--repeat",
            "3",
            "--interval",
            "10",
        ];
        args.extend(["--quit-when-idle", "300"]);
        if vars {
            args.push("--vars");
        }
        let wirepad = Wirepad::start(&args);
        let mut stream = connected(&wirepad, &server);
        assert_eq!(
            String::from_utf8_lossy(&read_to_end(&mut stream)),
            String::from_utf8_lossy(&want)
        );
        assert_eq!(wirepad.finish().code, Some(0));
    }
}

/// An unknown variable is bad input: exit 2 naming it and where it is, and nothing is sent.
#[test]
fn an_unknown_variable_exits_2_and_sends_nothing() {
    let (server, addr) = listener();
    server.set_nonblocking(true).expect("non-blocking");
    let done = Wirepad::start(&["tcp-client", &addr, "-s", "ab{sq}", "--vars"]).finish();
    assert_eq!(done.code, Some(2), "{:?}", done.stderr);
    assert_eq!(done.stderr.len(), 1, "{:?}", done.stderr);
    assert!(
        done.stderr[0].contains("--send: unknown variable {sq} at position 3"),
        "{:?}",
        done.stderr
    );
    assert!(server.accept().is_err(), "it never connected");
}

#[test]
fn hex_output_is_one_line_per_chunk() {
    let wirepad = Wirepad::start(&["udp", "--bind", "127.0.0.1:0", "--hex", "--quit-after-bytes", "7"]);
    let addr = wirepad.ready("bound to ");
    let (peer, _) = udp_peer();
    peer.send_to(b"Hello", addr).expect("send");
    peer.send_to(&[0x00, 0xFF], addr).expect("send");
    let done = wirepad.finish();
    assert_eq!(done.code, Some(0), "stderr: {:?}", done.stderr);
    assert_eq!(done.text(), "48 65 6C 6C 6F\n00 FF\n");
}

#[test]
fn log_lines_carry_time_and_peer() {
    let wirepad = Wirepad::start(&["udp", "--bind", "127.0.0.1:0", "--log", "--quit-after-bytes", "9"]);
    let addr = wirepad.ready("bound to ");
    let (peer, peer_addr) = udp_peer();
    peer.send_to(b"hi", addr).expect("send");
    peer.send_to(b"there\r\n", addr).expect("send");
    let done = wirepad.finish();
    assert_eq!(done.code, Some(0), "stderr: {:?}", done.stderr);
    let text = done.text();
    let lines: Vec<&str> = text.split_terminator('\n').collect();
    assert_eq!(lines.len(), 2, "{text:?}");
    assert_log_line(lines[0], peer_addr, "hi");
    assert_log_line(lines[1], peer_addr, "there\r");
}

/// A GBK character cut across datagrams, or left unfinished when the run ends, as text and as a log line.
#[test]
fn udp_text_split_across_datagrams() {
    /// Options, datagrams, --quit-after-bytes, what is printed.
    type Case<'a> = (&'a [&'a str], &'a [&'a [u8]], &'a str, &'a str);
    let split: &[&[u8]] = &[&[0xC4], &[0xE3, 0xBA, 0xC3]];
    let cases: &[Case] = &[
        (&[], split, "4", "你好"),
        // The chunk that is only part of a character gets no log line of its own.
        (&["--log"], split, "4", "你好"),
        (&[], &[&[0x41, 0xC4]], "2", "A\u{FFFD}"),
    ];
    for &(options, datagrams, quit_after, expected) in cases {
        let mut args = vec![
            "udp",
            "--bind",
            "127.0.0.1:0",
            "-e",
            "gbk",
            "--quit-after-bytes",
            quit_after,
        ];
        args.extend_from_slice(options);
        let wirepad = Wirepad::start(&args);
        let addr = wirepad.ready("bound to ");
        let (peer, peer_addr) = udp_peer();
        for datagram in datagrams {
            peer.send_to(datagram, addr).expect("send");
        }
        let done = wirepad.finish();
        assert_eq!(done.code, Some(0), "{options:?}: {:?}", done.stderr);
        let text = done.text();
        if options.contains(&"--log") {
            let lines: Vec<&str> = text.split_terminator('\n').collect();
            assert_eq!(lines.len(), 1, "{text:?}");
            assert_log_line(lines[0], peer_addr, expected);
        } else {
            assert_eq!(text, expected, "{options:?}");
        }
    }
}

#[test]
fn echo_returns_each_chunk_before_quitting() {
    let wirepad = Wirepad::start(&["tcp-server", "127.0.0.1:0", "--echo", "--quit-after-bytes", "10"]);
    let addr = wirepad.ready("listening on ");
    let mut client = TcpStream::connect(addr).expect("connect");
    client.write_all(b"hello").expect("write");
    assert_eq!(read_exactly(&mut client, 5), b"hello");
    // These five bytes reach the quit condition, and are still echoed first.
    client.write_all(b"world").expect("write");
    assert_eq!(read_exactly(&mut client, 5), b"world");
    let done = wirepad.finish();
    assert_eq!(done.code, Some(0), "stderr: {:?}", done.stderr);
    assert_eq!(done.text(), "helloworld");
}

#[test]
fn recv_file_holds_every_byte_and_quiet_prints_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("capture.bin");
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let wirepad = Wirepad::start(&[
        "tcp-server",
        "127.0.0.1:0",
        "-q",
        "--recv-file",
        path.to_str().expect("UTF-8 temp path"),
        "--quit-after-bytes",
        &data.len().to_string(),
    ]);
    let addr = wirepad.ready("listening on ");
    let mut client = TcpStream::connect(addr).expect("connect");
    client.set_write_timeout(Some(TIMEOUT)).expect("write timeout");
    client.write_all(&data).expect("write");
    let done = wirepad.finish();
    assert_eq!(done.code, Some(0), "stderr: {:?}", done.stderr);
    assert!(done.stdout.is_empty(), "-q prints nothing");
    let captured = std::fs::read(&path).expect("capture file");
    assert!(
        captured == data,
        "capture differs: {} of {} bytes",
        captured.len(),
        data.len()
    );
}

#[test]
fn recv_file_that_cannot_be_created_exits_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("missing-dir").join("capture.bin");
    let done = Wirepad::start(&[
        "tcp-server",
        "127.0.0.1:0",
        "--recv-file",
        path.to_str().expect("UTF-8 temp path"),
    ])
    .finish();
    assert_eq!(done.code, Some(1));
    assert_eq!(done.stderr.len(), 1, "{:?}", done.stderr);
    assert!(
        done.stderr[0].starts_with("error: cannot write capture file"),
        "{:?}",
        done.stderr
    );
}

#[test]
fn stdin_lines_are_sent_with_escapes_and_line_ending() {
    let (server, addr) = listener();
    let mut wirepad = Wirepad::start_with(
        &["tcp-client", &addr, "--stdin", "--append", "lf"],
        Io {
            stdin: true,
            ..Io::default()
        },
    );
    let mut stream = connected(&wirepad, &server);
    wirepad.write_stdin("one\r\n");
    assert_eq!(read_exactly(&mut stream, 4), b"one\n");
    wirepad.write_stdin("tw\\x6F\nthree");
    // The last line has no newline: it goes when stdin ends.
    drop(wirepad.stdin.take());
    assert_eq!(read_exactly(&mut stream, 10), b"two\nthree\n");
    assert!(close_and_collect(stream).is_empty());
    assert_eq!(wirepad.finish().code, Some(0));
}

/// `--vars` fills in `--stdin` lines as it fills `--send`: `{seq}` numbers the session's sends, the greeting's
/// first; without it the braces go out as typed.
#[test]
fn stdin_lines_are_templated_with_vars_and_literal_without() {
    for (vars, want) in [
        (true, "hi 0\nline 1\nline 2\n"),
        (false, "hi {seq}\nline {seq}\nline {seq}\n"),
    ] {
        let (server, addr) = listener();
        let mut args = vec!["tcp-client", &addr, "-s", "hi {seq}", "--stdin", "--append", "lf"];
        if vars {
            args.push("--vars");
        }
        let mut wirepad = Wirepad::start_with(
            &args,
            Io {
                stdin: true,
                ..Io::default()
            },
        );
        let mut stream = connected(&wirepad, &server);
        wirepad.write_stdin("line {seq}\nline {seq}\n");
        drop(wirepad.stdin.take());
        let got = read_exactly(&mut stream, want.len());
        assert_eq!(String::from_utf8_lossy(&got), want, "--vars {vars}");
        assert!(close_and_collect(stream).is_empty());
        assert_eq!(wirepad.finish().code, Some(0));
    }
}

/// An empty `--stdin` line sends nothing (no empty datagram), as typed or as a template, and the lines around it go.
#[test]
fn an_empty_stdin_line_sends_nothing() {
    for vars in [false, true] {
        let peer = UdpSocket::bind("127.0.0.1:0").expect("bind UDP");
        peer.set_read_timeout(Some(TIMEOUT)).expect("timeout");
        let remote = peer.local_addr().expect("address").to_string();
        // Idle, it quits: end of input alone does not end a UDP session.
        let mut args = vec![
            "udp",
            "--bind",
            "127.0.0.1:0",
            "--remote",
            &remote,
            "--stdin",
            "--quit-when-idle",
            "500",
        ];
        if vars {
            args.extend(["-s", "{seq}", "--vars"]);
        }
        let mut wirepad = Wirepad::start_with(
            &args,
            Io {
                stdin: true,
                ..Io::default()
            },
        );
        let addr = wirepad.ready("bound to ");
        wirepad.write_stdin("a\n\nb\n");
        drop(wirepad.stdin.take());
        let first = if vars {
            vec![b"0".to_vec(), b"a".to_vec()]
        } else {
            vec![b"a".to_vec()]
        };
        for want in first.into_iter().chain([b"b".to_vec()]) {
            assert_eq!(recv_datagram(&peer), (want, addr), "--vars {vars}");
        }
        assert_eq!(wirepad.finish().code, Some(0));
    }
}

#[test]
fn bad_stdin_line_exits_2() {
    let (server, addr) = listener();
    let mut wirepad = Wirepad::start_with(
        &["tcp-client", &addr, "--stdin"],
        Io {
            stdin: true,
            ..Io::default()
        },
    );
    let mut stream = connected(&wirepad, &server);
    wirepad.write_stdin("ok\nnot\\qok\nnever\n");
    assert_eq!(read_exactly(&mut stream, 2), b"ok");
    let done = wirepad.finish();
    assert_eq!(done.code, Some(2));
    assert_eq!(
        done.stderr,
        [r"error: standard input, line 2: unknown escape \q at position 4 (known: \r \n \t \0 \\ \xHH)"]
    );
    assert_eq!(read_to_end(&mut stream), b"", "nothing after the bad line");
}

#[test]
fn send_file_sends_the_bytes_as_they_are() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("payload.bin");
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 256) as u8).collect();
    std::fs::write(&path, &data).expect("write payload");
    let (server, addr) = listener();
    let wirepad = Wirepad::start(&[
        "tcp-client",
        &addr,
        "--send-file",
        path.to_str().expect("UTF-8 temp path"),
    ]);
    let mut stream = connected(&wirepad, &server);
    let sent = read_exactly(&mut stream, data.len());
    assert!(sent == data, "the file arrives unchanged");
    assert!(close_and_collect(stream).is_empty(), "nothing follows the file");
    assert_eq!(wirepad.finish().code, Some(0));

    let missing = dir.path().join("missing.bin");
    let done = Wirepad::start(&["tcp-client", &addr, "--send-file", missing.to_str().expect("path")]).finish();
    assert_eq!(done.code, Some(1));
    assert!(done.stderr[0].starts_with("error: cannot read"), "{:?}", done.stderr);
}

/// A quit that leaves part of a file unsent is a failure, said on stderr, not a silent exit 0.
#[test]
fn a_quit_with_bytes_left_unsent_exits_1_and_says_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("payload.bin");
    std::fs::write(&path, vec![7u8; 64 << 20]).expect("write payload");
    let (server, addr) = listener();
    let path = path.to_str().expect("UTF-8 temp path");
    let wirepad = Wirepad::start(&["tcp-client", &addr, "--send-file", path, "--quit-after-secs", "0.5"]);
    // Connected, but never read: the file stalls once the socket buffers are full.
    let _stream = connected(&wirepad, &server);
    let done = wirepad.finish();
    assert_eq!(done.code, Some(1), "stderr: {:?}", done.stderr);
    assert!(
        done.stderr
            .iter()
            .any(|line| line.starts_with("error: cannot send") && line.contains("not sent")),
        "{:?}",
        done.stderr
    );
}

/// How late a quit timer may fire on a loaded machine: one that waits twice as long as asked is caught.
const SLACK: Duration = Duration::from_secs(1);

#[test]
fn quit_when_idle_counts_from_the_last_byte_received() {
    const IDLE: Duration = Duration::from_secs(1);
    let mut wirepad = Wirepad::start(&["tcp-server", "127.0.0.1:0", "--quit-when-idle", "1000"]);
    let addr = wirepad.ready("listening on ");
    let mut client = TcpStream::connect(addr).expect("connect");
    // A byte every 250 ms, for longer than IDLE: each one must put the quit off.
    for byte in *b"abcde" {
        client.write_all(&[byte]).expect("write");
        wirepad.stdout_until(&[byte]);
        thread::sleep(Duration::from_millis(250));
    }
    let written = Instant::now();
    client.write_all(b"f").expect("write");
    wirepad.stdout_until(b"f");
    // Printed, so received: the idle time ends no later than IDLE from now.
    let printed = Instant::now();
    let done = wirepad.finish();
    assert_eq!(done.code, Some(0), "stderr: {:?}", done.stderr);
    assert_eq!(done.text(), "abcdef");
    assert!(
        written.elapsed() >= IDLE,
        "quit {:?} after the last byte",
        written.elapsed()
    );
    assert!(
        printed.elapsed() < IDLE + SLACK,
        "quit {:?} after the last byte",
        printed.elapsed()
    );
}

#[test]
fn quit_when_idle_is_put_off_by_each_send() {
    let (server, addr) = listener();
    // Six sends 200 ms apart take 1 s: without sends counting, the idle quit would come after 700 ms.
    let wirepad = Wirepad::start(&[
        "tcp-client",
        &addr,
        "-s",
        "p",
        "--repeat",
        "6",
        "--interval",
        "200",
        "--quit-when-idle",
        "700",
    ]);
    let mut stream = connected(&wirepad, &server);
    assert_eq!(read_to_end(&mut stream), b"pppppp");
    let done = wirepad.finish();
    assert_eq!(done.code, Some(0), "stderr: {:?}", done.stderr);
}

#[test]
fn quit_after_secs_counts_from_the_ready_line() {
    const AFTER: Duration = Duration::from_secs(1);
    let wirepad = Wirepad::start(&["udp", "--bind", "127.0.0.1:0", "--quit-after-secs", "1"]);
    let started = wirepad.started;
    wirepad.ready("bound to ");
    // The ready line was written no later than this.
    let ready = Instant::now();
    let done = wirepad.finish();
    assert_eq!(done.code, Some(0), "stderr: {:?}", done.stderr);
    assert!(
        started.elapsed() >= AFTER,
        "quit {:?} after the start",
        started.elapsed()
    );
    assert!(
        ready.elapsed() < AFTER + SLACK,
        "quit {:?} after the ready line",
        ready.elapsed()
    );
}

/// No number a user can type panics: a quit time too far off for the clock to represent never comes.
#[test]
fn a_quit_time_beyond_the_clock_never_comes_and_does_not_panic() {
    let (peer, peer_addr) = udp_peer();
    let remote = peer_addr.to_string();
    let wirepad = Wirepad::start(&[
        "udp",
        "--bind",
        "127.0.0.1:0",
        "--remote",
        &remote,
        "-s",
        "x",
        "--quit-after-secs",
        "1e19",
        "--quit-when-idle",
        "300",
    ]);
    wirepad.ready("bound to ");
    assert_eq!(recv_datagram(&peer).0, b"x");
    let done = wirepad.finish();
    assert_eq!(done.code, Some(0), "stderr: {:?}", done.stderr);
    assert!(done.stderr.is_empty(), "{:?}", done.stderr);
}

/// The quit clock starts at the first stderr line, which for a client that cannot connect is its first
/// failure report.
#[test]
fn quit_conditions_run_while_a_reconnecting_client_never_connects() {
    let (server, addr) = listener();
    drop(server);
    for quit in [["--quit-after-secs", "0.5"], ["--quit-when-idle", "500"]] {
        let wirepad = Wirepad::start(&["tcp-client", &addr, "--reconnect", quit[0], quit[1]]);
        assert_eq!(
            wirepad.stderr_line(),
            format!("error: cannot connect to {addr}: connection refused")
        );
        let done = wirepad.finish();
        assert_eq!(done.code, Some(0), "{quit:?}: {:?}", done.stderr);
        assert!(
            done.stderr
                .iter()
                .all(|line| line.starts_with("reconnecting in ") || line.starts_with("error: cannot connect")),
            "{quit:?}: {:?}",
            done.stderr
        );
    }
}

#[test]
fn udp_sends_to_its_remote_then_follows_the_peer() {
    let (first, first_addr) = udp_peer();
    let first_remote = first_addr.to_string();
    let mut wirepad = Wirepad::start_with(
        &[
            "udp",
            "--bind",
            "127.0.0.1:0",
            "--remote",
            &first_remote,
            "--follow-peer",
            "-s",
            "hello",
            "--stdin",
            "--quit-after-bytes",
            "4",
        ],
        Io {
            stdin: true,
            ..Io::default()
        },
    );
    let addr = wirepad.ready("bound to ");
    assert_eq!(recv_datagram(&first), (b"hello".to_vec(), addr));

    let (second, second_addr) = udp_peer();
    second.send_to(b"x", addr).expect("send");
    wirepad.stderr_until(&format!("sending to {second_addr}"));
    wirepad.write_stdin("to second\n");
    assert_eq!(recv_datagram(&second), (b"to second".to_vec(), addr));
    second.send_to(b"bye", addr).expect("send");

    let done = wirepad.finish();
    assert_eq!(done.code, Some(0), "stderr: {:?}", done.stderr);
    assert_eq!(done.text(), "xbye");
    first.set_read_timeout(Some(SILENCE)).expect("timeout");
    let mut buf = [0u8; 64];
    assert!(first.recv_from(&mut buf).is_err(), "the first remote got nothing more");
}

#[test]
fn udp_on_ipv6_loopback() {
    let wirepad = Wirepad::start(&["udp", "--bind", "[::1]:0", "--quit-after-bytes", "2"]);
    let addr = wirepad.ready("bound to ");
    assert_eq!(addr.ip().to_string(), "::1");
    let peer = UdpSocket::bind("[::1]:0").expect("bind IPv6 UDP");
    peer.send_to(b"v6", addr).expect("send");
    let done = wirepad.finish();
    assert_eq!(done.code, Some(0), "stderr: {:?}", done.stderr);
    assert_eq!(done.text(), "v6");
}

#[test]
fn tcp_server_greets_each_joining_client_and_refuses_beyond_max_clients() {
    let wirepad = Wirepad::start(&[
        "tcp-server",
        "127.0.0.1:0",
        "-s",
        "hi\\n",
        "--max-clients",
        "1",
        "--quit-after-bytes",
        "6",
    ]);
    let addr = wirepad.ready("listening on ");

    let mut first = TcpStream::connect(addr).expect("connect");
    assert_eq!(read_exactly(&mut first, 3), b"hi\n");
    let mut refused = TcpStream::connect(addr).expect("connect");
    let refused_addr = refused.local_addr().expect("local");
    wirepad.stderr_until(&format!("client {refused_addr} refused"));
    assert_eq!(read_to_end_or_reset(&mut refused), b"", "a refused client gets nothing");

    // With the first one gone, the next client is welcome and greeted too.
    first.write_all(b"bye").expect("write");
    drop(first);
    wirepad.stderr_until("left");
    let mut second = TcpStream::connect(addr).expect("connect");
    assert_eq!(read_exactly(&mut second, 3), b"hi\n");
    second.write_all(b"end").expect("write");
    let done = wirepad.finish();
    assert_eq!(done.code, Some(0), "stderr: {:?}", done.stderr);
    assert_eq!(done.text(), "byeend");
    assert!(stays_silent(&mut second, SILENCE));
}

#[test]
fn closed_stdout_ends_the_run_without_a_panic() {
    let wirepad = Wirepad::start_with(
        &["tcp-server", "127.0.0.1:0"],
        Io {
            close_stdout: true,
            ..Io::default()
        },
    );
    let addr = wirepad.ready("listening on ");
    let mut client = TcpStream::connect(addr).expect("connect");
    // More than a pipe holds: even if a process the test harness was spawning at the same time
    // briefly inherited the pipe's read end, wirepad's writes end in EPIPE once it is gone.
    thread::spawn(move || {
        let _ = client.write_all(&[b'x'; 1 << 20]);
    });
    let done = wirepad.finish();
    assert_eq!(done.code, Some(0), "stderr: {:?}", done.stderr);
    assert!(
        done.stderr.iter().all(|line| !line.contains("panicked")),
        "{:?}",
        done.stderr
    );
}

#[test]
fn a_stdin_line_beyond_one_datagram_exits_2_and_is_not_sent() {
    let (peer, peer_addr) = udp_peer();
    let remote = peer_addr.to_string();
    let mut wirepad = Wirepad::start_with(
        &["udp", "--bind", "127.0.0.1:0", "--remote", &remote, "--stdin"],
        Io {
            stdin: true,
            ..Io::default()
        },
    );
    wirepad.ready("bound to ");
    wirepad.write_stdin(&format!("ok\n{}\nnever\n", "x".repeat(65_508)));
    assert_eq!(recv_datagram(&peer).0, b"ok");
    let done = wirepad.finish();
    assert_eq!(done.code, Some(2), "{:?}", done.stderr);
    assert_eq!(
        done.stderr,
        ["error: --stdin: 65508 bytes do not fit in one UDP datagram (at most 65507)"]
    );
    peer.set_read_timeout(Some(SILENCE)).expect("timeout");
    let mut buf = [0u8; 16];
    assert!(peer.recv_from(&mut buf).is_err(), "nothing after the long line");
}

#[test]
fn udp_payload_beyond_one_datagram_exits_2_before_binding() {
    let (peer, peer_addr) = udp_peer();
    let remote = peer_addr.to_string();
    let text = "x".repeat(66_000);
    let hex = "00".repeat(65_508);
    let too_long = "y".repeat(65_507);
    let cases: &[(&[&str], &str)] = &[
        (
            &["-s", &text],
            "error: --send: 66000 bytes do not fit in one UDP datagram (at most 65507)",
        ),
        (
            &["--send-hex", &hex],
            "error: --send-hex: 65508 bytes do not fit in one UDP datagram (at most 65507)",
        ),
        // The limit is on what goes on the wire: the line ending counts.
        (
            &["-s", &too_long, "--append", "lf"],
            "error: --send: 65508 bytes do not fit in one UDP datagram (at most 65507)",
        ),
    ];
    for &(options, message) in cases {
        let mut args = vec!["udp", "--bind", "127.0.0.1:0", "--remote", &remote];
        args.extend_from_slice(options);
        let done = Wirepad::start(&args).finish();
        assert_eq!(done.code, Some(2), "{message}: {:?}", done.stderr);
        assert_eq!(done.stderr, [message]);
    }
    peer.set_read_timeout(Some(SILENCE)).expect("timeout");
    let mut buf = [0u8; 16];
    assert!(peer.recv_from(&mut buf).is_err(), "nothing was sent");

    // One byte less fits.
    let fits = "z".repeat(65_506);
    let wirepad = Wirepad::start(&[
        "udp",
        "--bind",
        "127.0.0.1:0",
        "--remote",
        &remote,
        "-s",
        &fits,
        "--append",
        "lf",
    ]);
    let addr = wirepad.ready("bound to ");
    peer.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    let mut buf = vec![0u8; 65_536];
    let (n, from) = peer.recv_from(&mut buf).expect("the datagram arrives");
    assert_eq!((n, from), (65_507, addr));
}

#[test]
fn usage_errors_are_one_line_and_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["tcp-server", "127.0.0.1:0", "--bogus"],
            "error: unexpected argument '--bogus' found",
        ),
        (
            &["tcp-server"],
            "error: the following required arguments were not provided: <LISTEN>",
        ),
        (
            &["tcp-client", "127.0.0.1:1", "-s", "a", "--send-hex", "61"],
            "error: the argument '--send <TEXT>' cannot be used with '--send-hex <HEX>'",
        ),
        (
            &["tcp-client", "127.0.0.1:1", "--checksum", "md5"],
            "error: invalid value 'md5' for '--checksum <NAME>'",
        ),
        (&["teleport"], "error: unrecognized subcommand 'teleport'"),
        (
            &["gui", "tcp-server", "1", "--bogus"],
            "error: unexpected argument '--bogus' found",
        ),
        (
            &["gui", "tcp-server", "1", "+", "tcp-client"],
            "error: the following required arguments were not provided: <REMOTE>",
        ),
        (
            &["gui", "tcp-server", "1", "+"],
            "error: a lone `+` goes between two sessions",
        ),
        (
            &["gui", "+", "tcp-server", "1"],
            "error: a lone `+` goes between two sessions",
        ),
    ];
    for &(args, message) in cases {
        let done = Wirepad::start(args).finish();
        assert_eq!(done.code, Some(2), "{args:?}: {:?}", done.stderr);
        assert_eq!(done.stderr.len(), 1, "{args:?}: one line: {:?}", done.stderr);
        assert!(
            done.stderr[0].starts_with(message),
            "{args:?}: {:?} should start with {message:?}",
            done.stderr[0]
        );
        assert!(done.stderr[0].ends_with("(see wirepad --help)"), "{:?}", done.stderr[0]);
        assert!(done.stdout.is_empty(), "{args:?}");
    }

    let version = Wirepad::start(&["--version"]).finish();
    assert_eq!(version.code, Some(0));
    // The whole line, commit included, is checked by `version_names_the_release_and_the_commit_it_was_built_from`.
    assert!(
        version
            .text()
            .starts_with(&format!("wirepad {} (commit ", env!("CARGO_PKG_VERSION")))
    );
    assert!(version.stderr.is_empty(), "{:?}", version.stderr);
    let help = Wirepad::start(&["tcp-server", "--help"]).finish();
    assert_eq!(help.code, Some(0));
    assert!(help.text().contains("--max-clients"), "{}", help.text());
}

/// `--checksum` and `--append` frame `--send`, `--send-hex` and `--stdin` lines alike; neither touches a file.
#[test]
fn checksum_or_append_with_send_file_is_a_usage_error_unless_stdin_lines_take_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("payload.bin");
    std::fs::write(&path, b"file").expect("write payload");
    let path = path.to_str().expect("UTF-8 temp path");
    let (server, addr) = listener();
    for (option, value) in [("--checksum", "sum8"), ("--append", "crlf")] {
        let done = Wirepad::start(&["tcp-client", &addr, "--send-file", path, option, value]).finish();
        assert_eq!(done.code, Some(2), "{option}: {:?}", done.stderr);
        assert_eq!(
            done.stderr,
            [format!(
                "error: {option} does not apply to --send-file (the file is sent as it is), only to --send, \
                 --send-hex and --stdin lines"
            )]
        );
        server.set_nonblocking(true).expect("nonblocking");
        assert!(
            server
                .accept()
                .is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock),
            "{option}: wirepad connected although its arguments were bad"
        );
        server.set_nonblocking(false).expect("blocking");
    }

    let mut wirepad = Wirepad::start_with(
        &[
            "tcp-client",
            &addr,
            "--send-file",
            path,
            "--checksum",
            "sum8",
            "--stdin",
        ],
        Io {
            stdin: true,
            ..Io::default()
        },
    );
    let mut stream = connected(&wirepad, &server);
    assert_eq!(read_exactly(&mut stream, 4), b"file", "the file as it is");
    wirepad.write_stdin("A\n");
    assert_eq!(read_exactly(&mut stream, 2), b"AA", "the line and its sum8");
    drop(wirepad.stdin.take());
    assert!(close_and_collect(stream).is_empty());
    assert_eq!(wirepad.finish().code, Some(0));
}

#[test]
fn hex_follows_the_one_documented_rule_and_help_says_it() {
    let (server, addr) = listener();
    let wirepad = Wirepad::start(&["tcp-client", &addr, "--send-hex", "1 0A0B,0xf\n0x0C"]);
    let mut stream = connected(&wirepad, &server);
    assert_eq!(read_exactly(&mut stream, 5), [0x01, 0x0A, 0x0B, 0x0F, 0x0C]);
    assert!(close_and_collect(stream).is_empty(), "nothing more was sent");
    assert_eq!(wirepad.finish().code, Some(0));

    let help = Wirepad::start(&["tcp-client", "--help"]).finish().text();
    let rule = "tokens separated by spaces, commas or newlines; a one-digit token is one byte (A = 0A), a longer one \
                needs an even number of digits (0A0B); 0x prefixes allowed";
    assert!(help.contains(rule), "{help}");
}

/// A FIFO without a writer would block the open, and with it the ready line and every quit condition.
#[cfg(unix)]
#[test]
fn send_file_refuses_what_is_not_a_regular_file_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fifo = dir.path().join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success());
    let (server, addr) = listener();
    for path in [&fifo, dir.path()] {
        let path = path.to_str().expect("UTF-8 temp path");
        let done = Wirepad::start(&["tcp-client", &addr, "--send-file", path]).finish();
        assert_eq!(done.code, Some(2), "{path}: {:?}", done.stderr);
        assert_eq!(
            done.stderr,
            [format!(
                "error: --send-file: {path} is not a regular file (a pipe or device could block the session; send a \
                 stream with --stdin)"
            )]
        );
    }
    server.set_nonblocking(true).expect("nonblocking");
    assert!(
        server
            .accept()
            .is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock),
        "wirepad connected although its file was not one"
    );
}

/// A file gone or replaced by a directory costs only the clients that join after: the server and its other
/// clients go on.
#[test]
fn a_server_whose_file_goes_away_skips_only_the_clients_it_cannot_send_to() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("greeting.txt");
    std::fs::write(&path, b"welcome").expect("write the file");
    let shown = path.to_str().expect("UTF-8 temp path");
    let wirepad = Wirepad::start(&[
        "tcp-server",
        "127.0.0.1:0",
        "--send-file",
        shown,
        "--quit-after-bytes",
        "3",
    ]);
    let addr = wirepad.ready("listening on ");
    let mut first = TcpStream::connect(addr).expect("connect");
    assert_eq!(read_exactly(&mut first, 7), b"welcome");

    std::fs::remove_file(&path).expect("remove the file");
    let mut second = TcpStream::connect(addr).expect("connect");
    let second_addr = second.local_addr().expect("local");
    let seen = wirepad.stderr_until("is sent nothing");
    assert_eq!(
        seen.last().map(String::as_str),
        Some(format!("error: cannot read {shown}: not found (client {second_addr} is sent nothing)").as_str())
    );
    std::fs::create_dir(&path).expect("a directory where the file was");
    let third = TcpStream::connect(addr).expect("connect");
    let third_addr = third.local_addr().expect("local");
    let seen = wirepad.stderr_until("is sent nothing");
    assert!(
        seen.last().is_some_and(|line| line.contains("is not a regular file")
            && line.ends_with(&format!("(client {third_addr} is sent nothing)"))),
        "{seen:?}"
    );

    // The first client is still served.
    first.write_all(b"end").expect("write");
    let done = wirepad.finish();
    assert_eq!(done.code, Some(0), "stderr: {:?}", done.stderr);
    assert_eq!(done.text(), "end");
    assert_eq!(read_to_end_or_reset(&mut second), b"", "the second client got nothing");
}

/// A datagram that cannot go is the UDP session's failure: exit 1, even with a quit condition pending.
#[test]
fn udp_send_failures_exit_1() {
    let cases = [
        ("127.0.0.1:0", "error: cannot send to 127.0.0.1:0: "),
        (
            "255.255.255.255:9",
            "error: cannot send to 255.255.255.255:9: permission denied",
        ),
        ("[::1]:9", "error: cannot send to [::1]:9: "),
    ];
    for (remote, message) in cases {
        let args = [
            "udp",
            "--bind",
            "127.0.0.1:0",
            "--remote",
            remote,
            "-s",
            "x",
            "--quit-after-secs",
            "5",
        ];
        let done = Wirepad::start(&args).finish();
        assert_eq!(done.code, Some(1), "{remote}: {:?}", done.stderr);
        assert!(
            done.stderr.last().is_some_and(|line| line.starts_with(message)),
            "{remote}: {:?} should end with {message:?}",
            done.stderr
        );
    }
}

#[test]
fn udp_file_beyond_one_datagram_is_split_and_said_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("big.bin");
    let data: Vec<u8> = (0..70_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(&path, &data).expect("write the file");
    let (peer, peer_addr) = udp_peer();
    let remote = peer_addr.to_string();
    let path = path.to_str().expect("UTF-8 temp path");
    let wirepad = Wirepad::start(&[
        "udp",
        "--bind",
        "127.0.0.1:0",
        "--remote",
        &remote,
        "--send-file",
        path,
        "--quit-when-idle",
        "500",
    ]);
    wirepad.ready("bound to ");
    let first = recv_datagram(&peer).0;
    let second = recv_datagram(&peer).0;
    assert_eq!((first.len(), second.len()), (65_507, 4_493));
    assert!([first, second].concat() == data, "the file arrives in order");
    let done = wirepad.finish();
    assert_eq!(done.code, Some(0), "stderr: {:?}", done.stderr);
    assert_eq!(
        done.stderr,
        ["--send-file: 70000 bytes go as 2 datagrams of at most 65507 bytes"]
    );
}

/// IPv6 counts its payload without its own header: 20 bytes more than IPv4 fit in one datagram.
#[test]
fn an_ipv6_datagram_may_carry_65527_bytes() {
    let peer = UdpSocket::bind("[::1]:0").expect("bind IPv6 UDP");
    peer.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    let remote = peer.local_addr().expect("address").to_string();
    let fits = "x".repeat(65_527);
    let wirepad = Wirepad::start(&["udp", "--bind", "[::1]:0", "--remote", &remote, "-s", &fits]);
    let addr = wirepad.ready("bound to ");
    assert_eq!(recv_datagram(&peer), (fits.into_bytes(), addr));
    drop(wirepad);

    let too_long = "x".repeat(65_528);
    let done = Wirepad::start(&["udp", "--remote", &remote, "-s", &too_long]).finish();
    assert_eq!(done.code, Some(2), "{:?}", done.stderr);
    assert_eq!(
        done.stderr,
        ["error: --send: 65528 bytes do not fit in one UDP datagram (at most 65527)"]
    );
}

#[test]
fn quit_after_0_bytes_quits_once_ready() {
    let done = Wirepad::start(&["tcp-server", "127.0.0.1:0", "--quit-after-bytes", "0"]).finish();
    assert_eq!(done.code, Some(0), "{:?}", done.stderr);

    // A greeting still goes first.
    let (server, addr) = listener();
    let wirepad = Wirepad::start(&["tcp-client", &addr, "-s", "hi", "--quit-after-bytes", "0"]);
    let mut stream = connected(&wirepad, &server);
    assert_eq!(read_to_end(&mut stream), b"hi");
    assert_eq!(wirepad.finish().code, Some(0));
}

/// A `--stdin` line is held whole before it is sent, so its length is bounded.
#[test]
fn a_stdin_line_beyond_1_mib_exits_2_and_is_not_sent() {
    const MAX: usize = 1 << 20;
    let (server, addr) = listener();
    let mut wirepad = Wirepad::start_with(
        &["tcp-client", &addr, "--stdin"],
        Io {
            stdin: true,
            ..Io::default()
        },
    );
    let mut stream = connected(&wirepad, &server);
    let mut input = vec![b'x'; MAX];
    input.extend_from_slice(b"\r\n");
    input.extend(vec![b'y'; MAX + 1]);
    // Written on a thread: wirepad stops reading when it quits, and the rest of a write would fail.
    let mut stdin = wirepad.stdin.take().expect("stdin pipe");
    thread::spawn(move || {
        let _ = stdin.write_all(&input);
        let _ = stdin.write_all(b"\nnever\n");
    });
    let done = wirepad.finish();
    assert_eq!(done.code, Some(2), "{:?}", done.stderr);
    assert_eq!(
        done.stderr,
        ["error: standard input, line 2: longer than 1048576 bytes (send big data with --send-file)"]
    );
    let sent = read_to_end(&mut stream);
    assert!(
        sent == vec![b'x'; MAX],
        "the first line whole, nothing after: {} bytes",
        sent.len()
    );
}

/// Exit codes the contract promises: 1 for a network or file error, 2 for bad arguments or input.
#[test]
fn exit_codes_of_failures_before_anything_is_sent() {
    let tcp = TcpListener::bind("127.0.0.1:0").expect("bind");
    let tcp_addr = tcp.local_addr().expect("address").to_string();
    let udp = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let udp_addr = udp.local_addr().expect("address").to_string();
    let cases: &[(&[&str], i32, String)] = &[
        (
            &["tcp-server", &tcp_addr],
            1,
            format!("error: cannot listen on {tcp_addr}: address in use"),
        ),
        (
            &["udp", "--bind", &udp_addr],
            1,
            format!("error: cannot bind {udp_addr}: address in use"),
        ),
        (
            &["udp", "-s", "x"],
            2,
            "error: udp: sending needs --remote HOST:PORT (or --follow-peer to reply to whoever sends first)".into(),
        ),
        (
            &["gui", "--echo"],
            2,
            "error: unexpected argument '--echo' found (see wirepad --help)".into(),
        ),
    ];
    for (args, code, line) in cases {
        let done = Wirepad::start(args).finish();
        assert_eq!(done.code, Some(*code), "{args:?}: {:?}", done.stderr);
        assert_eq!(done.stderr, std::slice::from_ref(line), "{args:?}");
        assert!(done.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn stdin_that_is_not_utf8_exits_2() {
    let (server, addr) = listener();
    let mut wirepad = Wirepad::start_with(
        &["tcp-client", &addr, "--stdin"],
        Io {
            stdin: true,
            ..Io::default()
        },
    );
    let mut stream = connected(&wirepad, &server);
    wirepad.write_stdin_bytes(b"ok\n\xFF\xFEbad\n");
    let done = wirepad.finish();
    assert_eq!(done.code, Some(2), "{:?}", done.stderr);
    assert_eq!(done.stderr, ["error: standard input, line 2: not valid UTF-8"]);
    assert_eq!(read_to_end(&mut stream), b"ok");
}

/// A capture that fails while the session runs (here a full disk) ends the run: exit 1.
#[cfg(target_os = "linux")]
#[test]
fn a_capture_failing_mid_run_exits_1() {
    let wirepad = Wirepad::start(&["tcp-server", "127.0.0.1:0", "-q", "--recv-file", "/dev/full"]);
    let addr = wirepad.ready("listening on ");
    let mut client = TcpStream::connect(addr).expect("connect");
    // Beyond the capture's write buffer, so it is written (and fails) at once.
    let _ = client.write_all(&[b'c'; 200_000]);
    let done = wirepad.finish();
    assert_eq!(done.code, Some(1), "{:?}", done.stderr);
    assert!(
        done.stderr
            .last()
            .is_some_and(|line| line == "error: cannot write capture file /dev/full: no space left on device"),
        "{:?}",
        done.stderr
    );
}

#[test]
fn echo_answers_only_the_sender() {
    let wirepad = Wirepad::start(&["tcp-server", "127.0.0.1:0", "--echo", "--quit-after-bytes", "6"]);
    let addr = wirepad.ready("listening on ");
    let mut sender = TcpStream::connect(addr).expect("connect");
    wirepad.stderr_until("joined");
    let mut other = TcpStream::connect(addr).expect("connect");
    wirepad.stderr_until("joined");
    sender.write_all(b"sender").expect("write");
    assert_eq!(read_exactly(&mut sender, 6), b"sender");
    assert_eq!(read_to_end_or_reset(&mut other), b"", "the other client gets no echo");
    assert_eq!(wirepad.finish().code, Some(0));
}
