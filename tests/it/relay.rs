//! `wirepad relay`: a real relay process between std sockets on loopback: bytes both ways, half-close, reset,
//! an unreachable upstream, back-pressure, the limits and the options it shares with the other kinds.
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use crate::export::{assert_readable, follow_tcp, have_tshark};
use crate::support::{TIMEOUT, accept_within, eventually, read_exactly, read_to_end, read_to_end_or_reset};
use crate::wirepad::Wirepad;

/// An upstream with a port nobody else has.
fn upstream() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the upstream");
    let addr = listener.local_addr().expect("upstream address");
    (listener, addr)
}

/// A relay from 127.0.0.1:0 to `upstream`, with `options`; returns it and where it listens (its first stderr line).
fn relay(upstream: SocketAddr, options: &[&str]) -> (Wirepad, SocketAddr) {
    let upstream = upstream.to_string();
    let mut args = vec!["relay", "127.0.0.1:0", &upstream];
    args.extend_from_slice(options);
    let wirepad = Wirepad::start(&args);
    let line = wirepad.stderr_line();
    let listen = line
        .strip_prefix("relaying ")
        .and_then(|rest| rest.strip_suffix(&format!(" to {upstream}")))
        .unwrap_or_else(|| panic!("first stderr line {line:?}"));
    let listen: SocketAddr = listen.parse().expect("the listen address");
    assert_ne!(listen.port(), 0, "the real port is shown");
    (wirepad, listen)
}

/// A client of the relay and the upstream's end of its pair.
fn pair(listen: SocketAddr, upstream: &TcpListener) -> (TcpStream, TcpStream) {
    let client = TcpStream::connect(listen).expect("connect to the relay");
    let (server, _) = accept_within(upstream);
    for stream in [&client, &server] {
        stream.set_read_timeout(Some(TIMEOUT)).expect("read timeout");
        stream.set_write_timeout(Some(TIMEOUT)).expect("write timeout");
    }
    (client, server)
}

fn pattern(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) ^ seed).rotate_left(7) as u8)
        .collect()
}

/// Writes `bytes` to `stream` from a thread of its own, so both ends can be written at once.
fn write_in_background(stream: &TcpStream, bytes: Vec<u8>) -> thread::JoinHandle<()> {
    let mut writer = stream.try_clone().expect("clone");
    thread::spawn(move || writer.write_all(&bytes).expect("write"))
}

#[test]
fn relay_passes_bytes_unchanged_both_ways_at_once() {
    let (upstream, up_addr) = upstream();
    let (_relay, listen) = relay(up_addr, &["-q"]);
    let (mut client, mut server) = pair(listen, &upstream);
    let (up, down) = (pattern(3 << 20, 1), pattern(3 << 20, 2));
    let writers = [
        write_in_background(&client, up.clone()),
        write_in_background(&server, down.clone()),
    ];
    assert!(read_exactly(&mut server, up.len()) == up, "client → upstream differs");
    assert!(
        read_exactly(&mut client, down.len()) == down,
        "upstream → client differs"
    );
    for writer in writers {
        writer.join().expect("writer");
    }
}

#[test]
fn relay_half_closed_client_still_gets_the_late_reply() {
    let (upstream, up_addr) = upstream();
    let (_relay, listen) = relay(up_addr, &["-q"]);
    let (mut client, mut server) = pair(listen, &upstream);
    client.write_all(b"last request").expect("write");
    client.shutdown(Shutdown::Write).expect("half-close");
    // The client's FIN reaches the upstream as a FIN: its read ends.
    assert_eq!(read_to_end(&mut server), b"last request");
    server.write_all(b"late reply").expect("reply after the FIN");
    server.shutdown(Shutdown::Write).expect("close");
    assert_eq!(read_to_end(&mut client), b"late reply");
}

#[test]
fn relay_turns_a_reset_into_a_reset() {
    let (upstream, up_addr) = upstream();
    let (relay, listen) = relay(up_addr, &["-q"]);
    let (mut client, server) = pair(listen, &upstream);
    socket2::SockRef::from(&server)
        .set_linger(Some(Duration::ZERO))
        .expect("linger 0");
    drop(server);
    let mut byte = [0u8; 1];
    let error = client.read(&mut byte).expect_err("the client is reset, not closed");
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset, "{error}");
    relay.stderr_until("left: connection reset by peer");
}

#[test]
fn relay_closes_a_client_whose_upstream_is_down_and_goes_on() {
    let (upstream, up_addr) = upstream();
    drop(upstream);
    let (relay, listen) = relay(up_addr, &["-q"]);
    for _ in 0..2 {
        let mut client = TcpStream::connect(listen).expect("the relay still listens");
        assert_eq!(read_to_end_or_reset(&mut client), b"");
        let lines = relay.stderr_until("left: error");
        let reason = format!("cannot connect to {up_addr}: connection refused");
        assert!(
            lines
                .iter()
                .any(|line| line.starts_with("error: client ") && line.ends_with(&reason)),
            "{lines:#?}"
        );
    }
}

#[cfg(target_os = "linux")]
#[test]
fn relay_times_out_an_upstream_that_does_not_answer() {
    // A listener whose backlog is full drops new SYNs: the connect neither succeeds nor fails.
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    socket
        .bind(&"127.0.0.1:0".parse::<SocketAddr>().expect("addr").into())
        .expect("bind");
    socket.listen(0).expect("listen");
    let up_addr = socket.local_addr().expect("addr").as_socket().expect("inet");
    let _fills = TcpStream::connect(up_addr).expect("the one the backlog holds");
    let (relay, listen) = relay(up_addr, &["-q", "--connect-timeout", "300"]);
    let mut client = TcpStream::connect(listen).expect("connect");
    assert_eq!(read_to_end_or_reset(&mut client), b"");
    let lines = relay.stderr_until("left: error");
    assert!(
        lines
            .iter()
            .any(|line| line.ends_with(&format!("cannot connect to {up_addr}: timed out after 300 ms"))),
        "{lines:#?}"
    );
}

/// The relay's resident memory, from /proc.
#[cfg(target_os = "linux")]
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the relay's /proc status");
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).expect("VmRSS");
    line.split_whitespace()
        .nth(1)
        .and_then(|kib| kib.parse().ok())
        .expect("VmRSS in kB")
}

#[cfg(target_os = "linux")]
#[test]
fn relay_back_pressure_slows_the_upstream_instead_of_buffering() {
    const TOTAL: usize = 64 << 20;
    const CHUNK: usize = 64 << 10;
    let (upstream, up_addr) = upstream();
    let (relay, listen) = relay(up_addr, &["-q"]);
    let (mut client, server) = pair(listen, &upstream);
    let before = rss_kib(relay.pid());
    let written = Arc::new(AtomicU64::new(0));
    let progress = written.clone();
    let mut writer = server.try_clone().expect("clone");
    let writing = thread::spawn(move || {
        for chunk in 0..TOTAL / CHUNK {
            writer.write_all(&pattern(CHUNK, chunk as u32)).expect("write");
            progress.fetch_add(CHUNK as u64, Ordering::Relaxed);
        }
    });
    // The client reads nothing: the upstream gets as far as the relay's queue and the sockets' buffers take,
    // and no further.
    let mut last = u64::MAX;
    let stalled = eventually("the upstream's writes to stall", TIMEOUT, || {
        let now = written.load(Ordering::Relaxed);
        let still = now == last;
        last = now;
        if still {
            return Some(now);
        }
        thread::sleep(Duration::from_millis(300));
        None
    });
    let grown = rss_kib(relay.pid()).saturating_sub(before);
    assert!(
        stalled < TOTAL as u64 / 2,
        "the relay took {stalled} bytes from the upstream unread"
    );
    assert!(grown < 24 * 1024, "the relay grew by {grown} KiB");
    // Reading again lets everything through, unchanged.
    let mut got = vec![0; CHUNK];
    for chunk in 0..TOTAL / CHUNK {
        client.read_exact(&mut got).expect("read");
        assert!(got == pattern(CHUNK, chunk as u32), "chunk {chunk} differs");
    }
    writing.join().expect("writer");
}

#[test]
fn relay_log_lines_show_the_direction() {
    let (upstream, up_addr) = upstream();
    let (mut relay, listen) = relay(up_addr, &["--log"]);
    let (mut client, mut server) = pair(listen, &upstream);
    let client_addr = client.local_addr().expect("client address");
    client.write_all(b"ping\n").expect("write");
    assert_eq!(read_exactly(&mut server, 5), b"ping\n");
    relay.stdout_until(b"ping\n");
    server.write_all(b"pong\n").expect("write");
    assert_eq!(read_exactly(&mut client, 5), b"pong\n");
    relay.stdout_until(b"pong\n");
    drop((client, server));
    let text = relay.kill().text();
    let lines: Vec<&str> = text
        .lines()
        .map(|line| line.split_once("] ").map_or(line, |(_, rest)| rest))
        .collect();
    assert_eq!(
        lines,
        [
            format!("{client_addr} → {up_addr}: ping"),
            format!("{up_addr} → {client_addr}: pong")
        ],
    );
}

#[test]
fn relay_writes_both_ways_to_the_recv_file_and_quits_after_the_bytes() {
    let (upstream, up_addr) = upstream();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("relayed.bin");
    let path = file.to_str().expect("UTF-8 temp path");
    let (relay, listen) = relay(up_addr, &["-q", "--recv-file", path, "--quit-after-bytes", "7"]);
    let (mut client, mut server) = pair(listen, &upstream);
    client.write_all(b"abc").expect("write");
    assert_eq!(read_exactly(&mut server, 3), b"abc");
    server.write_all(b"wxyz").expect("write");
    assert_eq!(read_exactly(&mut client, 4), b"wxyz");
    let done = relay.finish();
    assert_eq!(done.code, Some(0), "{:?}", done.stderr);
    assert_eq!(std::fs::read(&file).expect("the file"), b"abcwxyz");
}

#[test]
fn relay_refuses_clients_beyond_max_pairs() {
    let (upstream, up_addr) = upstream();
    let (relay, listen) = relay(up_addr, &["-q", "--max-pairs", "1"]);
    let (mut client, mut server) = pair(listen, &upstream);
    let mut second = TcpStream::connect(listen).expect("connect");
    assert_eq!(read_to_end_or_reset(&mut second), b"");
    relay.stderr_until("refused");
    // The first pair is untouched.
    client.write_all(b"still here").expect("write");
    assert_eq!(read_exactly(&mut server, 10), b"still here");
}

#[test]
fn relay_to_itself_or_to_nowhere_is_a_bad_argument() {
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let itself = format!("127.0.0.1:{port}");
    let cases: [(Vec<&str>, &str); 5] = [
        (vec!["relay", &itself, &itself], "is this relay itself"),
        (vec!["relay", "127.0.0.1:0", "127.0.0.1:0"], "port 0"),
        (vec!["relay", "127.0.0.1:0", "nowhere"], "HOST:PORT"),
        (
            vec!["relay", "127.0.0.1:0", "127.0.0.1:9", "--connect-timeout", "0"],
            "--connect-timeout",
        ),
        (
            vec!["relay", "127.0.0.1:0", "127.0.0.1:9", "-s", "hi"],
            "--send is not for a relay",
        ),
    ];
    for (args, reason) in cases {
        let done = Wirepad::start(&args).finish();
        assert_eq!(done.code, Some(2), "{args:?}: {:?}", done.stderr);
        assert_eq!(done.stderr.len(), 1, "{args:?}: one line: {:?}", done.stderr);
        assert!(done.stderr[0].contains(reason), "{args:?}: {:?}", done.stderr);
    }
}

/// Each direction's TCP payload in a pcapng, by (source, destination), and how many SYNs and FINs or RSTs each
/// direction carried.
type Conversations = HashMap<(SocketAddr, SocketAddr), (Vec<u8>, usize, usize)>;

fn conversations(path: &Path) -> Conversations {
    use pcap_file::pcapng::{Block, PcapNgReader};
    let file = std::io::BufReader::new(std::fs::File::open(path).expect("the pcap"));
    let mut reader = PcapNgReader::new(file).expect("a pcapng header");
    let mut found = Conversations::new();
    while let Some(block) = reader.next_block() {
        let Block::EnhancedPacket(packet) = block.expect("a block") else {
            continue;
        };
        let sliced = etherparse::SlicedPacket::from_ethernet(&packet.data).expect("a packet");
        let (Some(etherparse::NetSlice::Ipv4(ip)), Some(etherparse::TransportSlice::Tcp(tcp))) =
            (sliced.net, sliced.transport)
        else {
            panic!("not TCP over IPv4");
        };
        let source = SocketAddr::new(ip.header().source_addr().into(), tcp.source_port());
        let destination = SocketAddr::new(ip.header().destination_addr().into(), tcp.destination_port());
        let entry = found.entry((source, destination)).or_default();
        entry.0.extend_from_slice(tcp.payload());
        entry.1 += usize::from(tcp.syn());
        entry.2 += usize::from(tcp.fin() || tcp.rst());
    }
    found
}

#[test]
fn relay_pcap_holds_both_legs_each_a_conversation_with_real_addresses() {
    let (upstream, up_addr) = upstream();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("relay.pcapng");
    let path = file.to_str().expect("UTF-8 temp path");
    let (request, reply) = (pattern(100_000, 3), pattern(50_000, 4));
    let total = (request.len() + reply.len()).to_string();
    let (relay, listen) = relay(up_addr, &["-q", "--pcap", path, "--quit-after-bytes", &total]);
    let (mut client, mut server) = pair(listen, &upstream);
    let client_addr = client.local_addr().expect("client address");
    let line = relay.stderr_until(" from ").pop().expect("the pair's line");
    let via: SocketAddr = line
        .rsplit(' ')
        .next()
        .and_then(|via| via.parse().ok())
        .expect("the relay's end");
    client.write_all(&request).expect("write");
    assert!(read_exactly(&mut server, request.len()) == request);
    server.write_all(&reply).expect("write");
    assert!(read_exactly(&mut client, reply.len()) == reply);
    let done = relay.finish();
    assert_eq!(done.code, Some(0), "{:?}", done.stderr);
    let found = conversations(&file);
    let legs = [
        ((client_addr, listen), &request),
        ((listen, client_addr), &reply),
        ((via, up_addr), &request),
        ((up_addr, via), &reply),
    ];
    assert_eq!(found.len(), legs.len(), "{:?}", found.keys().collect::<Vec<_>>());
    for (ends, payload) in legs {
        let (bytes, syns, ends_seen) = found.get(&ends).unwrap_or_else(|| panic!("no packets {ends:?}"));
        assert!(bytes == payload, "{ends:?}: {} bytes", bytes.len());
        assert_eq!((*syns, *ends_seen), (1, 1), "{ends:?}: a handshake and an end");
    }
    if have_tshark("relay_pcap_holds_both_legs_each_a_conversation_with_real_addresses") {
        assert_readable(&file);
        for stream in 0..2 {
            let (first, second) = follow_tcp(&file, stream);
            assert!(
                first == request && second == reply,
                "stream {stream}: {} and {} bytes",
                first.len(),
                second.len()
            );
        }
    }
}

/// A rules file in a temporary directory, and its path as an argument.
fn rules_file(dir: &tempfile::TempDir, text: &str) -> String {
    let path = dir.path().join("rules.toml");
    std::fs::write(&path, text).expect("write the rules");
    path.to_str().expect("UTF-8 temp path").to_owned()
}

const RULES: &str = r#"
[[rule]]
match = "PING"
direction = "to-upstream"
action = "rewrite"
reply = "PANG\n"

[[rule]]
match = "SECRET"
action = "drop"

[[rule]]
match = "SLOW"
direction = "to-upstream"
action = "delay"
delay_ms = 200

[[rule]]
match = "HELLO"
direction = "to-upstream"
reply = "WELCOME\n"
"#;

#[test]
fn relay_rules_rewrite_drop_delay_and_answer_by_direction_one_byte_per_write() {
    let (upstream, up_addr) = upstream();
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = rules_file(&dir, RULES);
    let (_relay, listen) = relay(up_addr, &["-q", "--frame", "line", "--rules", &rules]);
    let (mut client, mut server) = pair(listen, &upstream);
    client.set_nodelay(true).expect("nodelay");
    // Every pattern arrives split across reads: the framing puts each message together before a rule looks.
    for byte in b"hello\nPING\nSECRET\nSLOW\nfast\nHELLO\nbye\n" {
        client.write_all(&[*byte]).expect("write");
    }
    let expected = b"hello\nPANG\nSLOW\nfast\nbye\n";
    assert_eq!(
        String::from_utf8_lossy(&read_exactly(&mut server, expected.len())),
        String::from_utf8_lossy(expected)
    );
    // The other way, the rules of both directions act and those towards the upstream do not.
    server.write_all(b"PING\nSECRET\nok\n").expect("write");
    let expected = b"WELCOME\nPING\nok\n";
    assert_eq!(
        String::from_utf8_lossy(&read_exactly(&mut client, expected.len())),
        String::from_utf8_lossy(expected)
    );
}

#[test]
fn relay_rewrite_with_a_length_prefix_gets_its_length_and_checksum() {
    let (upstream, up_addr) = upstream();
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = rules_file(
        &dir,
        "[[rule]]\nmatch_hex = \"?? ?? 01\"\naction = \"rewrite\"\nreply_hex = \"01 02 03 04\"\nchecksum = \"sum8\"\n",
    );
    let (_relay, listen) = relay(up_addr, &["-q", "--frame", "len:u16be", "--rules", &rules]);
    let (mut client, mut server) = pair(listen, &upstream);
    client.write_all(&[0, 2, 1, 0xAA, 0, 1, 7]).expect("write");
    assert_eq!(read_exactly(&mut server, 10), [0, 5, 1, 2, 3, 4, 0x0A, 0, 1, 7]);
}

#[test]
fn relay_refuses_a_rule_it_cannot_follow() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases = [
        (
            "[[rule]]\nmatch = \"a\"\nreply = \"b\"\ndirection = \"sideways\"\n",
            "unknown variant `sideways`",
        ),
        (
            "[[rule]]\nmatch = \"a\"\naction = \"teleport\"\n",
            "unknown variant `teleport`",
        ),
        (
            "[[rule]]\nmatch = \"a\"\naction = \"rewrite\"\n",
            "a rewrite needs reply or reply_hex",
        ),
    ];
    for (text, reason) in cases {
        let rules = rules_file(&dir, text);
        let done = Wirepad::start(&["relay", "127.0.0.1:0", "127.0.0.1:9", "--rules", &rules]).finish();
        assert_eq!(done.code, Some(2), "{text}: {:?}", done.stderr);
        assert_eq!(done.stderr.len(), 1, "{text}: one line: {:?}", done.stderr);
        assert!(done.stderr[0].contains(reason), "{text}: {:?}", done.stderr);
    }
}

/// A rules file with a relay's `direction` or `action` is refused by the other kinds: there a drop would send an
/// empty reply and a delay an echo.
#[test]
fn other_kinds_refuse_a_rule_only_a_relay_can_follow() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases = [
        "[[rule]]\nmatch = \"a\"\naction = \"drop\"\n",
        "[[rule]]\nmatch = \"a\"\nreply = \"b\"\n[[rule]]\nmatch = \"c\"\nreply = \"d\"\ndirection = \"to-client\"\n",
    ];
    for (text, rule) in cases.into_iter().zip(["rule 1:", "rule 2:"]) {
        let rules = rules_file(&dir, text);
        let done = Wirepad::start(&["tcp-server", "127.0.0.1:0", "--rules", &rules]).finish();
        assert_eq!(done.code, Some(2), "{text}: {:?}", done.stderr);
        assert_eq!(done.stderr.len(), 1, "{text}: one line: {:?}", done.stderr);
        assert!(
            done.stderr[0].contains(rule) && done.stderr[0].contains("only in a relay"),
            "{:?}",
            done.stderr
        );
    }
}

/// A rule's answer held back by its delay holds back no message: only `action = "delay"` delays forwarding.
#[test]
fn relay_a_delayed_answer_holds_back_no_later_message() {
    let (upstream, up_addr) = upstream();
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = rules_file(
        &dir,
        "[[rule]]\nmatch = \"HELLO\"\ndirection = \"to-upstream\"\nreply = \"WELCOME\\n\"\ndelay_ms = 600000\n",
    );
    let (_relay, listen) = relay(up_addr, &["-q", "--frame", "line", "--rules", &rules]);
    let (mut client, mut server) = pair(listen, &upstream);
    client.write_all(b"HELLO\nnext\n").expect("write");
    // The answer is ten minutes away; the message after it is not.
    assert_eq!(read_exactly(&mut server, 5), b"next\n");
    server.write_all(b"back\n").expect("write");
    assert_eq!(read_exactly(&mut client, 5), b"back\n");
}

/// An upstream's name is looked up once the relay runs (on its worker); one that names nothing is still a bad
/// argument, for either kind of relay.
#[test]
fn relay_to_a_name_that_does_not_resolve_is_a_bad_argument() {
    for udp in [&[][..], &["--udp"][..]] {
        let mut args = vec!["relay", "127.0.0.1:0", "wirepad-no-such-host.invalid:9"];
        args.extend_from_slice(udp);
        let done = Wirepad::start(&args).finish();
        assert_eq!(done.code, Some(2), "{args:?}: {:?}", done.stderr);
        let errors: Vec<&String> = done.stderr.iter().filter(|line| line.starts_with("error")).collect();
        assert_eq!(errors.len(), 1, "{args:?}: one error line: {:?}", done.stderr);
        assert!(
            errors[0].contains("cannot resolve wirepad-no-such-host.invalid:9"),
            "{:?}",
            done.stderr
        );
    }
}

/// A UDP upstream: answers every datagram to whoever sent it with `reply(datagram)`, and hands each one it got
/// (with its source) to the test; ends once the test drops the receiver and one more datagram comes, or after a
/// quiet TIMEOUT.
fn udp_upstream(reply: fn(&[u8]) -> Vec<u8>) -> (SocketAddr, crossbeam_channel::Receiver<(SocketAddr, Vec<u8>)>) {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind the upstream");
    socket.set_read_timeout(Some(TIMEOUT)).expect("read timeout");
    let addr = socket.local_addr().expect("upstream address");
    let (tx, rx) = crossbeam_channel::unbounded();
    thread::spawn(move || {
        let mut buf = vec![0; 65_536];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            if tx.send((from, buf[..n].to_vec())).is_err() {
                break;
            }
            let _ = socket.send_to(&reply(&buf[..n]), from);
        }
    });
    (addr, rx)
}

fn reversed(datagram: &[u8]) -> Vec<u8> {
    datagram.iter().rev().copied().collect()
}

/// A client of a UDP relay, talking to it only.
fn udp_client(listen: SocketAddr) -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind a client");
    socket.connect(listen).expect("connect to the relay");
    socket.set_read_timeout(Some(TIMEOUT)).expect("read timeout");
    socket
}

fn recv(socket: &UdpSocket) -> Vec<u8> {
    let mut buf = vec![0; 65_536];
    let n = socket.recv(&mut buf).expect("a datagram within TIMEOUT");
    buf[..n].to_vec()
}

/// The next datagram the upstream got, within TIMEOUT.
fn upstream_got(got: &crossbeam_channel::Receiver<(SocketAddr, Vec<u8>)>) -> (SocketAddr, Vec<u8>) {
    got.recv_timeout(TIMEOUT).expect("the upstream got a datagram")
}

#[test]
fn udp_relay_passes_datagrams_both_ways_each_client_its_own_replies() {
    const CLIENTS: u32 = 3;
    const DATAGRAMS: u32 = 200;
    let (up_addr, got) = udp_upstream(reversed);
    let (_relay, listen) = relay(up_addr, &["-q", "--udp"]);
    let clients: Vec<thread::JoinHandle<()>> = (0..CLIENTS)
        .map(|client| {
            thread::spawn(move || {
                let socket = udp_client(listen);
                for n in 0..DATAGRAMS {
                    let datagram = datagram(client, n);
                    socket.send(&datagram).expect("send");
                    assert!(
                        recv(&socket) == reversed(&datagram),
                        "client {client}: reply {n} differs"
                    );
                }
            })
        })
        .collect();
    for client in clients {
        client.join().expect("a client");
    }
    // Each client had one source towards the upstream, and everything it sent came from there, in order.
    let mut by_source: HashMap<SocketAddr, Vec<Vec<u8>>> = HashMap::new();
    for _ in 0..CLIENTS * DATAGRAMS {
        let (from, datagram) = upstream_got(&got);
        by_source.entry(from).or_default().push(datagram);
    }
    assert_eq!(by_source.len(), CLIENTS as usize, "one source per client");
    for datagrams in by_source.values() {
        let client = u32::from(datagrams[0][0]);
        for (n, got) in (0..).zip(datagrams) {
            assert!(*got == datagram(client, n), "client {client}: datagram {n} differs");
        }
    }
}

/// Client `client`'s datagram `n`: its number first, then 1 byte to 9 KB of a pattern (small enough that the
/// kernel's default buffers hold what three clients have in flight).
fn datagram(client: u32, n: u32) -> Vec<u8> {
    let mut datagram = vec![client as u8];
    datagram.extend_from_slice(&pattern(1 + (n as usize * 331) % 9_000, n));
    datagram
}

/// `client C: connected to U from VIA` lines on stderr until `count` of them: each VIA.
fn vias(relay: &Wirepad, count: usize) -> Vec<SocketAddr> {
    let mut vias = Vec::new();
    while vias.len() < count {
        let line = relay.stderr_until(" from ").pop().expect("a pair's line");
        vias.push(
            line.rsplit(' ')
                .next()
                .and_then(|via| via.parse().ok())
                .expect("the relay's end"),
        );
    }
    vias
}

#[test]
fn udp_relay_forgets_an_idle_client_and_its_socket() {
    let (up_addr, got) = udp_upstream(reversed);
    let (mut relay, listen) = relay(up_addr, &["--udp", "--udp-idle", "0.5", "--log"]);
    let client = udp_client(listen);
    let client_addr = client.local_addr().expect("client address");
    client.send(b"one").expect("send");
    assert_eq!(recv(&client), b"eno");
    let first = upstream_got(&got).0;
    assert_eq!(vias(&relay, 1), [first]);
    relay.stdout_until(b"eno\n");
    // Nothing either way for half a second: the client, its socket and its state are gone...
    relay.stderr_until(&format!("client {client_addr} left: idle"));
    // ...and the same address starts afresh, from a socket of its own.
    client.send(b"two").expect("send");
    assert_eq!(recv(&client), b"owt");
    let second = upstream_got(&got).0;
    assert_eq!(vias(&relay, 1), [second]);
    relay.stdout_until(b"owt\n");
    let text = relay.kill().text();
    let lines: Vec<&str> = text
        .lines()
        .map(|line| line.split_once("] ").map_or(line, |(_, rest)| rest))
        .collect();
    assert_eq!(
        lines,
        [
            format!("{client_addr} → {up_addr}: one"),
            format!("{up_addr} → {client_addr}: eno"),
            format!("{client_addr} → {up_addr}: two"),
            format!("{up_addr} → {client_addr}: owt"),
        ],
    );
}

#[test]
fn udp_relay_drops_and_counts_clients_beyond_max_pairs() {
    let (up_addr, got) = udp_upstream(reversed);
    let (relay, listen) = relay(up_addr, &["--udp", "--max-pairs", "1", "-q"]);
    let first = udp_client(listen);
    first.send(b"first").expect("send");
    assert_eq!(recv(&first), b"tsrif");
    let second = udp_client(listen);
    for _ in 0..20 {
        second.send(b"second").expect("send");
    }
    let mut stderr = relay.stderr_until("dropped so far");
    // The first client is untouched, and nothing of the second reached the upstream before its marker.
    first.send(b"marker").expect("send");
    assert_eq!(recv(&first), b"rekram");
    let datagrams: Vec<Vec<u8>> = (0..2).map(|_| upstream_got(&got).1).collect();
    assert_eq!(datagrams, [b"first".to_vec(), b"marker".to_vec()]);
    stderr.extend(relay.kill().stderr);
    let refusals = stderr.iter().filter(|line| line.contains("refused")).count();
    assert!(
        (1..=2).contains(&refusals),
        "20 refusals said at most once a second: {stderr:?}"
    );
}

#[test]
fn udp_relay_rules_act_on_each_datagram_by_direction() {
    let (up_addr, got) = udp_upstream(|datagram| [&b"re:"[..], datagram].concat());
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = rules_file(&dir, RULES);
    let (_relay, listen) = relay(up_addr, &["-q", "--udp", "--rules", &rules]);
    let client = udp_client(listen);
    for datagram in [&b"SECRET"[..], b"PING", b"HELLO", b"end"] {
        client.send(datagram).expect("send");
    }
    // Dropped, rewritten and passed on; HELLO is answered by the relay.
    let passed: Vec<Vec<u8>> = (0..2).map(|_| upstream_got(&got).1).collect();
    assert_eq!(passed, [b"PANG\n".to_vec(), b"end".to_vec()]);
    // The upstream's replies pass unchanged (the rewrite is towards the upstream only); the answer comes in
    // between somewhere.
    let mut replies: Vec<Vec<u8>> = (0..3).map(|_| recv(&client)).collect();
    replies.sort();
    assert_eq!(
        replies,
        [b"WELCOME\n".to_vec(), b"re:PANG\n".to_vec(), b"re:end".to_vec()]
    );
}

#[test]
fn udp_relay_bad_arguments_and_a_loop_exit_2() {
    let port = UdpSocket::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let itself = format!("127.0.0.1:{port}");
    let up = "127.0.0.1:9";
    let cases: [(Vec<&str>, &str); 7] = [
        (vec!["relay", &itself, &itself, "--udp"], "is this relay itself"),
        (
            vec!["relay", "127.0.0.1:0", up, "--udp", "--udp-idle", "0"],
            "more than 0",
        ),
        (
            vec!["relay", "127.0.0.1:0", up, "--udp", "--udp-idle", "86401"],
            "at most 86400",
        ),
        (
            vec!["relay", "127.0.0.1:0", up, "--udp", "--udp-idle", "1e300"],
            "--udp-idle",
        ),
        (vec!["relay", "127.0.0.1:0", up, "--udp", "--udp-idle=-1"], "--udp-idle"),
        (vec!["relay", "127.0.0.1:0", up, "--udp-idle", "5"], "--udp"),
        (
            vec!["relay", "127.0.0.1:0", up, "--udp", "--connect-timeout", "100"],
            "--connect-timeout",
        ),
    ];
    for (args, reason) in cases {
        let done = Wirepad::start(&args).finish();
        assert_eq!(done.code, Some(2), "{args:?}: {:?}", done.stderr);
        assert_eq!(done.stderr.len(), 1, "{args:?}: one line: {:?}", done.stderr);
        assert!(done.stderr[0].contains(reason), "{args:?}: {:?}", done.stderr);
    }
}

/// Each UDP datagram in a pcapng, by (source, destination), in order.
fn datagrams(path: &Path) -> HashMap<(SocketAddr, SocketAddr), Vec<Vec<u8>>> {
    use pcap_file::pcapng::{Block, PcapNgReader};
    let file = std::io::BufReader::new(std::fs::File::open(path).expect("the pcap"));
    let mut reader = PcapNgReader::new(file).expect("a pcapng header");
    let mut found: HashMap<(SocketAddr, SocketAddr), Vec<Vec<u8>>> = HashMap::new();
    while let Some(block) = reader.next_block() {
        let Block::EnhancedPacket(packet) = block.expect("a block") else {
            continue;
        };
        let sliced = etherparse::SlicedPacket::from_ethernet(&packet.data).expect("a packet");
        let (Some(etherparse::NetSlice::Ipv4(ip)), Some(etherparse::TransportSlice::Udp(udp))) =
            (sliced.net, sliced.transport)
        else {
            panic!("not UDP over IPv4");
        };
        let source = SocketAddr::new(ip.header().source_addr().into(), udp.source_port());
        let destination = SocketAddr::new(ip.header().destination_addr().into(), udp.destination_port());
        found
            .entry((source, destination))
            .or_default()
            .push(udp.payload().to_vec());
    }
    found
}

#[test]
fn udp_relay_pcap_holds_both_legs_as_udp_with_real_addresses() {
    let (up_addr, got) = udp_upstream(reversed);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("relay.pcapng");
    let path = file.to_str().expect("UTF-8 temp path");
    let requests = [pattern(1000, 5), pattern(3, 6)];
    let total: usize = requests.iter().map(|r| 2 * r.len()).sum();
    let total = total.to_string();
    let (relay, listen) = relay(up_addr, &["-q", "--udp", "--pcap", path, "--quit-after-bytes", &total]);
    let client = udp_client(listen);
    let client_addr = client.local_addr().expect("client address");
    for request in &requests {
        client.send(request).expect("send");
        assert!(recv(&client) == reversed(request));
    }
    let via = vias(&relay, 1)[0];
    assert_eq!(upstream_got(&got).0, via);
    let done = relay.finish();
    assert_eq!(done.code, Some(0), "{:?}", done.stderr);
    let found = datagrams(&file);
    let replies: Vec<Vec<u8>> = requests.iter().map(|r| reversed(r)).collect();
    let legs = [
        ((client_addr, listen), &requests[..]),
        ((via, up_addr), &requests[..]),
        ((up_addr, via), &replies[..]),
        ((listen, client_addr), &replies[..]),
    ];
    assert_eq!(found.len(), legs.len(), "{:?}", found.keys().collect::<Vec<_>>());
    for (ends, payloads) in legs {
        assert!(found.get(&ends).is_some_and(|got| got == payloads), "{ends:?}");
    }
    if have_tshark("udp_relay_pcap_holds_both_legs_as_udp_with_real_addresses") {
        assert_readable(&file);
    }
}

/// `wirepad gui relay …` refuses what the window cannot take, naming the option as it was typed.
#[cfg(feature = "gui")]
#[test]
fn relay_options_the_window_does_not_take_are_named_as_typed() {
    let cases = [("--max-pairs", &["--max-pairs", "2"][..]), ("--udp", &["--udp"][..])];
    for (option, extra) in cases {
        let mut args = vec!["gui", "relay", "127.0.0.1:0", "127.0.0.1:9"];
        args.extend_from_slice(extra);
        let done = Wirepad::start(&args).finish();
        assert_eq!(done.code, Some(2), "{args:?}: {:?}", done.stderr);
        assert_eq!(
            done.stderr,
            [format!(
                "error: {option} is for the command line only; the window does not take it"
            )],
            "{args:?}"
        );
    }
}
