//! The engine on real sockets: 127.0.0.1 / ::1, port 0, every wait bounded.
use std::collections::HashSet;
use std::io::Write;
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use wirepad::net::CaptureFile;
use wirepad::net::{
    CloseReason, Command, Delivery, EventKind, LeaveReason, Mode, NetError, Outgoing, ReceivedAs, Session,
    SessionConfig, Target, tcp_client, tcp_server, udp,
};

use crate::support::*;

fn server(listen: &str) -> Tap {
    start(server_mode(listen))
}

fn client(remote: SocketAddr, reconnect: bool) -> Tap {
    start(client_mode(remote, reconnect))
}

fn udp(bind: &str, remote: Option<SocketAddr>, follow_peer: bool) -> Tap {
    start(udp_mode(bind, remote.map(|r| r.to_string()), follow_peer))
}

fn joined(session: &mut Tap) -> SocketAddr {
    wait_for(session, "a client to join", |_, kind| match kind {
        EventKind::PeerJoined { peer, .. } => Some(*peer),
        _ => None,
    })
}

fn connect(session: &mut Tap) -> (TcpStream, SocketAddr) {
    let stream = TcpStream::connect(session.local_addr().expect("server address")).expect("connect");
    let peer = joined(session);
    assert_eq!(peer, stream.local_addr().expect("local address"));
    (stream, peer)
}

fn left(session: &mut Tap) -> (SocketAddr, LeaveReason) {
    wait_for(session, "a peer to leave", |_, kind| match kind {
        EventKind::PeerLeft { peer, reason } => Some((*peer, *reason)),
        _ => None,
    })
}

fn first_error(session: &mut Tap) -> Arc<NetError> {
    wait_for(session, "an error event", |_, kind| match kind {
        EventKind::Error(e) => Some(e.clone()),
        _ => None,
    })
}

fn tcp_server_round_trip(listen: &str) {
    let mut session = server(listen);
    let local = session.local_addr().expect("bound");
    assert_ne!(local.port(), 0, "the real port is reported");
    let (mut stream, peer) = connect(&mut session);
    stream.write_all(b"hello").expect("write");
    assert_eq!(receive_bytes(&mut session, 5), b"hello");
    session.send(Target::Peer(peer), &b"world"[..]);
    assert_eq!(read_exactly(&mut stream, 5), b"world");
    stream.shutdown(Shutdown::Write).expect("shutdown");
    assert_eq!(left(&mut session), (peer, LeaveReason::Closed));
    let counters = session.counters().snapshot();
    assert_eq!((counters.rx_bytes, counters.tx_bytes), (5, 5));
}

/// Data and a FIN that came together are both seen, by every one of many clients (a read that stopped at the data
/// would wait for a readiness event the FIN already used).
#[test]
fn data_and_a_fin_arriving_together_are_both_seen() {
    const CLIENTS: usize = 100;
    let mut session = server("127.0.0.1:0");
    let addr = session.local_addr().expect("bound");
    let mut streams = Vec::with_capacity(CLIENTS);
    for _ in 0..CLIENTS {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream.write_all(b"bye").expect("write");
        stream.shutdown(Shutdown::Write).expect("shutdown");
        streams.push(stream);
    }
    let (mut received, mut closed) = (0, HashSet::new());
    wait_for(&mut session, "every client's bytes and FIN", |_, kind| {
        match kind {
            EventKind::Received { bytes, .. } => received += bytes.len(),
            EventKind::PeerLeft { peer, reason } => {
                assert_eq!(*reason, LeaveReason::Closed, "{peer} left by its FIN");
                closed.insert(*peer);
            }
            _ => {}
        }
        (received == 3 * CLIENTS && closed.len() == CLIENTS).then_some(())
    });
}

#[test]
fn tcp_server_round_trip_ipv4() {
    tcp_server_round_trip("127.0.0.1:0");
}

#[test]
fn tcp_server_round_trip_ipv6() {
    tcp_server_round_trip("[::1]:0");
}

#[test]
fn tcp_server_on_all_ipv6_addresses_takes_ipv4_clients() {
    let mut session = server("[::]:0");
    let port = session.local_addr().expect("bound").port();
    let stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect over IPv4");
    // Shown as the IPv4 address the user knows, not ::ffff:127.0.0.1.
    assert_eq!(joined(&mut session), stream.local_addr().expect("local"));
}

#[test]
fn listen_on_a_port_in_use_fails_at_once_naming_the_address() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr");
    let config = SessionConfig::new(server_mode(&addr.to_string()));
    let error = Session::start(config, no_notify()).err().expect("address in use");
    assert_eq!(error.to_string(), format!("cannot listen on {addr}: address in use"));
}

#[test]
fn bind_to_an_address_not_on_this_machine_fails_at_once() {
    // TEST-NET-1: never assigned to a local interface; nothing is sent.
    let addr = "192.0.2.1:0";
    let config = SessionConfig::new(udp_mode(addr, None, false));
    let error = Session::start(config, no_notify()).err().expect("not a local address");
    assert_eq!(
        error.to_string(),
        format!("cannot bind {addr}: address not available on this machine")
    );
}

#[test]
fn thousand_clients_each_get_their_own_payload_echoed() {
    const CLIENTS: usize = 1000;
    // Lossless: the test answers every Received event, and on a busy machine it falls behind the engine, which would
    // otherwise drop the display data it is behind on (the window's delivery) and leave payloads unechoed.
    let mut session = start_with(server_mode("127.0.0.1:0"), |c| c.delivery = Delivery::Lossless);
    let addr = session.local_addr().expect("bound");
    let mut streams: Vec<TcpStream> = (0..CLIENTS)
        .map(|_| TcpStream::connect(addr).expect("connect"))
        .collect();
    for (i, stream) in streams.iter_mut().enumerate() {
        stream
            .write_all(format!("client {i:04} says hi;").as_bytes())
            .expect("write");
    }
    // The test is the echo logic: each chunk goes back to whoever sent it.
    let expected_total = CLIENTS * "client 0000 says hi;".len();
    let mut echoed = 0;
    let mut peers = HashSet::new();
    wait_for(&mut session, "every payload", |s, kind| {
        match kind {
            EventKind::PeerJoined { peer, .. } => {
                peers.insert(*peer);
            }
            EventKind::Received { peer, bytes } => {
                echoed += bytes.len();
                s.send(Target::Peer(*peer), bytes.clone());
            }
            _ => {}
        }
        (echoed == expected_total).then_some(())
    });
    assert_eq!(peers.len(), CLIENTS);
    for (i, stream) in streams.iter_mut().enumerate() {
        let expected = format!("client {i:04} says hi;");
        assert_eq!(read_exactly(stream, expected.len()), expected.as_bytes(), "client {i}");
    }
}

#[test]
fn send_to_one_client_reaches_only_that_client_and_default_reaches_all() {
    let mut session = server("127.0.0.1:0");
    let (mut a, peer_a) = connect(&mut session);
    let (mut b, _) = connect(&mut session);
    session.send(Target::Peer(peer_a), &b"only a"[..]);
    assert_eq!(read_exactly(&mut a, 6), b"only a");
    session.send(Target::Default, &b"all"[..]);
    assert_eq!(read_exactly(&mut a, 3), b"all");
    // b's first bytes are the broadcast: "only a" never reached it.
    assert_eq!(read_exactly(&mut b, 3), b"all");
}

/// "{seq} {peer}" and a line feed, with variables.
fn seq_and_peer_line() -> Arc<wirepad::vars::Payload> {
    let spec = wirepad::payload::PayloadSpec {
        format: wirepad::payload::PayloadFormat::Text { escapes: true },
        encoding: wirepad::codec::text::TextEncoding::UTF8,
        checksum: None,
        append: wirepad::payload::LineEnding::Lf,
    };
    Arc::new(wirepad::vars::Payload::parse("{seq} {peer}", &spec).expect("template"))
}

/// A template naming `{peer}` sent to every client is filled in for each (one `{seq}` for the send); sent to
/// one client, it names that client.
#[test]
fn a_send_to_every_client_names_each_its_own_peer() {
    let mut session = server("127.0.0.1:0");
    let (mut a, peer_a) = connect(&mut session);
    let (mut b, peer_b) = connect(&mut session);
    let template = seq_and_peer_line();
    session.command(Command::Send {
        to: Target::Default,
        bytes: Outgoing::Vars(template.clone()),
    });
    for (stream, peer) in [(&mut a, peer_a), (&mut b, peer_b)] {
        let line = format!("0 {peer}\n");
        assert_eq!(String::from_utf8_lossy(&read_exactly(stream, line.len())), line);
    }
    session.command(Command::Send {
        to: Target::Peer(peer_b),
        bytes: Outgoing::Vars(template),
    });
    let line = format!("1 {peer_b}\n");
    assert_eq!(String::from_utf8_lossy(&read_exactly(&mut b, line.len())), line);
}

/// A relay: a template naming `{peer}` sent to every pair's upstream side is filled in for each with its pair's
/// client (one `{seq}` for the send).
#[test]
fn a_send_to_every_upstream_names_each_pairs_client() {
    let upstream = TcpListener::bind("127.0.0.1:0").expect("upstream");
    let mut session = start(Mode::Relay(wirepad::net::relay::Config {
        listen: "127.0.0.1:0".parse().expect("addr"),
        upstream: upstream.local_addr().expect("bound").to_string(),
        max_pairs: None,
        connect_timeout: TIMEOUT,
        udp_idle: None,
        tls_listen: None,
        tls_upstream: None,
    }));
    let listen = session.local_addr().expect("bound");
    let clients: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(listen).expect("connect")).collect();
    let mut servers: Vec<TcpStream> = (0..2).map(|_| accept_within(&upstream).0).collect();
    let mut paired = HashSet::new();
    wait_for(&mut session, "both pairs", |_, kind| {
        if let EventKind::Paired { client, .. } = kind {
            paired.insert(*client);
        }
        (paired.len() == 2).then_some(())
    });
    let template = seq_and_peer_line();
    session.command(Command::Send {
        to: Target::Upstream(None),
        bytes: Outgoing::Vars(template),
    });
    let line = |stream: &mut TcpStream| {
        let mut line = Vec::new();
        while line.last() != Some(&b'\n') {
            line.extend(read_exactly(stream, 1));
        }
        String::from_utf8_lossy(&line).into_owned()
    };
    let got: HashSet<String> = servers.iter_mut().map(line).collect();
    let want: HashSet<String> = clients
        .iter()
        .map(|c| format!("0 {}\n", c.local_addr().expect("client addr")))
        .collect();
    assert_eq!(got, want);
    assert_eq!(paired, clients.iter().map(|c| c.local_addr().expect("addr")).collect());
}

#[test]
fn kick_disconnects_one_client_and_keeps_the_other() {
    let mut session = server("127.0.0.1:0");
    let (mut a, peer_a) = connect(&mut session);
    let (mut b, peer_b) = connect(&mut session);
    session.command(Command::Kick(peer_a));
    assert_eq!(left(&mut session), (peer_a, LeaveReason::Kicked));
    // EOF or reset: either way the connection is gone.
    assert!(read_to_end_or_reset(&mut a).is_empty());
    session.send(Target::Peer(peer_b), &b"still here"[..]);
    assert_eq!(read_exactly(&mut b, 10), b"still here");
}

#[test]
fn max_clients_refuses_beyond_the_limit() {
    let mut session = start(Mode::TcpServer(tcp_server::Config {
        listen: "127.0.0.1:0".parse().expect("addr"),
        max_clients: Some(1),
        tls: None,
    }));
    let (_first, _) = connect(&mut session);
    let mut second = TcpStream::connect(session.local_addr().expect("bound")).expect("connect");
    let refused = wait_for(&mut session, "the refusal", |_, kind| match kind {
        EventKind::PeerRefused { peer } => Some(*peer),
        EventKind::PeerJoined { peer, .. } => panic!("{peer} joined beyond max-clients"),
        _ => None,
    });
    assert_eq!(refused, second.local_addr().expect("local"));
    assert!(
        read_to_end_or_reset(&mut second).is_empty(),
        "the refused client is disconnected"
    );
}

#[test]
fn tcp_client_connects_sends_receives_and_sees_the_server_close() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let mut session = client(listener.local_addr().expect("addr"), false);
    let (mut peer, _) = accept_within(&listener);
    let (local, remote) = wait_for(&mut session, "connected", |_, kind| match kind {
        EventKind::Connected { local, peer } => Some((*local, *peer)),
        _ => None,
    });
    assert_eq!(
        (local, remote),
        (peer.peer_addr().expect("peer"), listener.local_addr().expect("addr"))
    );
    session.send(Target::Default, &b"ping"[..]);
    assert_eq!(read_exactly(&mut peer, 4), b"ping");
    peer.write_all(b"pong").expect("write");
    drop(peer);
    let mut got = Vec::new();
    let reason = wait_for(&mut session, "closed", |_, kind| match kind {
        EventKind::Received { bytes, .. } => {
            got.extend_from_slice(bytes);
            None
        }
        EventKind::Closed { reason } => Some(*reason),
        _ => None,
    });
    assert_eq!(got, b"pong");
    assert_eq!(reason, CloseReason::PeerClosed);
}

#[test]
fn tcp_client_to_a_closed_port_reports_connection_refused() {
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let mut session = client(port, false);
    let reason = wait_for(&mut session, "connect failure", |_, kind| match kind {
        EventKind::ConnectFailed { reason } => Some(reason.to_string()),
        _ => None,
    });
    assert_eq!(reason, format!("cannot connect to {port}: connection refused"));
    let closed = wait_for(&mut session, "closed", |_, kind| match kind {
        EventKind::Closed { reason } => Some(*reason),
        _ => None,
    });
    assert_eq!(closed, CloseReason::ConnectFailed);
}

#[test]
fn tcp_client_resolves_a_hostname_and_binds_a_local_port() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let local_port = TcpListener::bind("127.0.0.1:0")
        .expect("probe")
        .local_addr()
        .expect("addr")
        .port();
    let bind: SocketAddr = format!("127.0.0.1:{local_port}").parse().expect("addr");
    let mut session = start(Mode::TcpClient(tcp_client::Config {
        remote: format!("localhost:{port}"),
        bind: Some(bind),
        reconnect: false,
        connect_timeout: TIMEOUT,
        tls: None,
    }));
    // localhost may resolve to ::1 first, where nothing listens: the next address is tried.
    let (_, from) = accept_within(&listener);
    assert_eq!(from, bind);
    let local = wait_for(&mut session, "connected", |_, kind| match kind {
        EventKind::Connected { local, .. } => Some(*local),
        _ => None,
    });
    assert_eq!(local, bind);
}

#[test]
fn tcp_client_reconnects_after_the_server_restarts() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut session = client(addr, true);
    let (first, _) = accept_within(&listener);
    drop(listener);
    drop(first);
    wait_for(&mut session, "the drop", |_, kind| {
        matches!(kind, EventKind::PeerLeft { .. }).then_some(())
    });
    wait_for(&mut session, "a retry", |_, kind| {
        matches!(kind, EventKind::Reconnecting { .. }).then_some(())
    });
    let listener = TcpListener::bind(addr).expect("rebind the same port");
    let (mut second, _) = accept_within(&listener);
    wait_for(&mut session, "reconnected", |_, kind| {
        matches!(kind, EventKind::Connected { .. }).then_some(())
    });
    session.send(Target::Default, &b"back"[..]);
    assert_eq!(read_exactly(&mut second, 4), b"back");
}

#[test]
fn tcp_client_backs_off_from_a_server_that_closes_every_connection_at_once() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let closer = {
        let done = done.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if done.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                drop(stream);
            }
        })
    };
    let mut session = client(addr, true);
    // The delay before each attempt, as announced: a connection that closes at once is no reason to start over.
    let mut delays = Vec::new();
    wait_for(&mut session, "three retries", |_, kind| {
        if let EventKind::Reconnecting { after } = kind {
            delays.push(*after);
        }
        (delays.len() == 3).then_some(())
    });
    session.stop();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    // Wakes the closer out of its accept.
    drop(TcpStream::connect(addr));
    closer.join().expect("closer");
    let ms = |ms| Duration::from_millis(ms);
    assert_eq!(delays, [ms(500), ms(1000), ms(2000)]);
}

#[test]
fn udp_sends_to_its_remote_and_receives_intact_max_size_datagrams() {
    let peer = UdpSocket::bind("127.0.0.1:0").expect("bind");
    peer.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    let mut session = udp("127.0.0.1:0", Some(peer.local_addr().expect("addr")), false);
    let local = session.local_addr().expect("bound");
    assert_ne!(local.port(), 0);
    let big: Vec<u8> = (0..65_507u32).map(|i| (i % 251) as u8).collect();
    session.send(Target::Default, big.clone());
    let mut buf = vec![0; 70_000];
    let (n, from) = peer.recv_from(&mut buf).expect("datagram");
    assert_eq!((&buf[..n], from), (&big[..], local));
    peer.send_to(&big, local).expect("send");
    peer.send_to(b"second", local).expect("send");
    let mut datagrams = Vec::new();
    wait_for(&mut session, "two datagrams", |_, kind| {
        if let EventKind::Received { bytes, .. } = kind {
            datagrams.push(bytes.clone());
        }
        (datagrams.len() == 2).then_some(())
    });
    assert_eq!(datagrams, vec![big, b"second".to_vec()], "datagrams are never merged");
}

#[test]
fn udp_follow_peer_replies_to_the_last_sender() {
    let mut session = udp("127.0.0.1:0", None, true);
    let local = session.local_addr().expect("bound");
    session.send(Target::Default, &b"nobody"[..]);
    let error = first_error(&mut session);
    assert!(error.to_string().contains("no remote address"), "{error}");
    for name in ["first", "second"] {
        let peer = UdpSocket::bind("127.0.0.1:0").expect("bind");
        peer.set_read_timeout(Some(TIMEOUT)).expect("timeout");
        peer.send_to(name.as_bytes(), local).expect("send");
        let followed = wait_for(&mut session, "follow", |_, kind| match kind {
            EventKind::RemoteChanged { remote } => Some(*remote),
            _ => None,
        });
        assert_eq!(followed, peer.local_addr().expect("addr"));
        session.send(Target::Default, format!("reply to {name}").into_bytes());
        let mut buf = [0; 64];
        let (n, _) = peer.recv_from(&mut buf).expect("reply");
        assert_eq!(&buf[..n], format!("reply to {name}").as_bytes());
    }
}

#[test]
fn udp_on_ipv6_loopback() {
    let peer = UdpSocket::bind("[::1]:0").expect("bind");
    peer.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    let session = udp("[::1]:0", Some(peer.local_addr().expect("addr")), false);
    session.send(Target::Default, &b"six"[..]);
    let mut buf = [0; 16];
    let (n, _) = peer.recv_from(&mut buf).expect("datagram");
    assert_eq!(&buf[..n], b"six");
}

#[test]
fn periodic_send_delivers_exactly_the_count() {
    let mut session = server("127.0.0.1:0");
    let (mut stream, peer) = connect(&mut session);
    let interval = Duration::from_millis(1);
    session.command(Command::SendPeriodic {
        to: Target::Peer(peer),
        bytes: Outgoing::Bytes(Arc::from(&b"tick;"[..])),
        interval,
        count: Some(7),
    });
    let sent = wait_for(&mut session, "the schedule to end", |_, kind| match kind {
        EventKind::PeriodicProgress { sent, done: true } => Some(*sent),
        _ => None,
    });
    assert_eq!(sent, 7);
    assert_eq!(read_exactly(&mut stream, 35), "tick;".repeat(7).as_bytes());
    assert!(stays_silent(&mut stream, Duration::from_millis(200)), "no 8th send");
}

#[test]
fn send_file_streams_the_whole_file_with_progress() {
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), &data).expect("write");
    let mut session = server("127.0.0.1:0");
    let (mut stream, peer) = connect(&mut session);
    session.command(Command::SendFile {
        to: Target::Peer(peer),
        path: file.path().to_owned(),
    });
    assert_eq!(read_exactly(&mut stream, data.len()), data);
    let (sent, total) = wait_for(&mut session, "the file to finish", |_, kind| match kind {
        EventKind::FileProgress {
            sent,
            total,
            done: true,
        } => Some((*sent, *total)),
        _ => None,
    });
    assert_eq!((sent, total), (data.len() as u64, data.len() as u64));
}

/// Deterministic bytes for large transfers (xorshift), so nothing big is kept in memory.
fn pattern_chunk(state: &mut u64, chunk: &mut [u8]) {
    for word in chunk.chunks_mut(8) {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        word.copy_from_slice(&state.to_le_bytes()[..word.len()]);
    }
}

#[test]
fn one_gib_capture_is_byte_exact() {
    use sha2::{Digest, Sha256};
    const TOTAL: usize = 1 << 30;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("capture.bin");
    let mut session = start_with(server_mode("127.0.0.1:0"), |c| {
        c.capture = Some(CaptureFile::truncate(&path));
        c.received_as = ReceivedAs::Nothing;
    });
    let addr = session.local_addr().expect("bound");
    let sender = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream.set_write_timeout(Some(TIMEOUT)).expect("write timeout");
        let (mut state, mut hash, mut chunk) = (0x9E37_79B9_7F4A_7C15u64, Sha256::new(), vec![0u8; 1 << 20]);
        for _ in 0..TOTAL / chunk.len() {
            pattern_chunk(&mut state, &mut chunk);
            hash.update(&chunk);
            stream.write_all(&chunk).expect("send");
        }
        hash.finalize()
    });
    joined(&mut session);
    let sent_hash = sender.join().expect("sender");
    left(&mut session);
    assert_eq!(session.counters().snapshot().rx_bytes, TOTAL as u64);
    session.stop();
    let mut file = std::fs::File::open(&path).expect("capture file");
    let mut hash = Sha256::new();
    std::io::copy(&mut file, &mut hash).expect("read capture");
    assert_eq!(file.metadata().expect("metadata").len(), TOTAL as u64);
    assert_eq!(hash.finalize(), sent_hash);
}

#[test]
fn capture_write_error_is_an_event_and_the_session_lives_on() {
    let mut session = start_with(server_mode("127.0.0.1:0"), |c| {
        c.capture = Some(CaptureFile::truncate("/dev/full"));
    });
    let (mut stream, peer) = connect(&mut session);
    stream.set_write_timeout(Some(TIMEOUT)).expect("write timeout");
    // More than the writer buffers, so the write reaches the device.
    let data = vec![b'x'; 4 << 20];
    stream.write_all(&data).expect("send");
    // The view may drop some of the burst (this consumer reads late); "after" is written once all of it is
    // accounted for, so that it comes to a consumer that has caught up and must be shown.
    let (mut error, mut accounted) = (None, 0);
    wait_for(&mut session, "the capture error and the whole burst", |_, kind| {
        match kind {
            EventKind::Error(e) => error = Some(e.to_string()),
            EventKind::Received { bytes, .. } => accounted += bytes.len() as u64,
            EventKind::DroppedFromView { bytes, .. } => accounted += bytes,
            _ => {}
        }
        (error.is_some() && accounted == data.len() as u64).then_some(())
    });
    let error = error.expect("the wait ends on the error");
    assert!(
        error.starts_with("cannot write capture file /dev/full: no space left on device"),
        "{error}"
    );
    stream.write_all(b"after").expect("send");
    session.send(Target::Peer(peer), &b"alive"[..]);
    assert_eq!(read_exactly(&mut stream, 5), b"alive");
    wait_for(&mut session, "later data", |_, kind| match kind {
        EventKind::Received { bytes, .. } => bytes.ends_with(b"after").then_some(()),
        _ => None,
    });
}

/// A consumer that never reads makes the worker drop display data, counted exactly; the counters stay exact.
#[test]
fn a_consumer_that_falls_behind_loses_only_display_data_and_it_is_counted() {
    const TOTAL: usize = 64 << 20;
    let mut session = server("127.0.0.1:0");
    let addr = session.local_addr().expect("bound");
    let sender = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream.set_write_timeout(Some(TIMEOUT)).expect("write timeout");
        let chunk = vec![7u8; 1 << 16];
        for _ in 0..TOTAL / chunk.len() {
            stream.write_all(&chunk).expect("send");
        }
    });
    sender.join().expect("sender");
    // Only now read the events: the channel filled long ago.
    let (mut shown, mut tallied) = (0, 0);
    wait_for(&mut session, "the client to leave", |_, kind| match kind {
        EventKind::Received { bytes, .. } => {
            shown += bytes.len();
            None
        }
        EventKind::DroppedFromView { bytes, .. } => {
            tallied += bytes;
            None
        }
        EventKind::PeerLeft { .. } => Some(()),
        _ => None,
    });
    let counters = session.counters().snapshot();
    assert_eq!(counters.rx_bytes, TOTAL as u64);
    assert!(counters.dropped_from_view > 0, "the view fell behind");
    assert_eq!(shown as u64 + counters.dropped_from_view, TOTAL as u64);
    assert_eq!(tallied, counters.dropped_from_view, "the per-peer tallies add up");
}

#[test]
fn lossless_delivery_gives_a_slow_consumer_every_byte() {
    const TOTAL: usize = 32 << 20;
    let mut session = start_with(server_mode("127.0.0.1:0"), |c| c.delivery = Delivery::Lossless);
    let addr = session.local_addr().expect("bound");
    let sender = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream.set_write_timeout(Some(TIMEOUT)).expect("write timeout");
        let mut state = 1u64;
        let mut chunk = vec![0u8; 1 << 16];
        let mut sent = Vec::with_capacity(TOTAL);
        for _ in 0..TOTAL / chunk.len() {
            pattern_chunk(&mut state, &mut chunk);
            stream.write_all(&chunk).expect("send");
            sent.extend_from_slice(&chunk);
        }
        sent
    });
    let got = receive_bytes(&mut session, TOTAL);
    assert!(got == sender.join().expect("sender"), "every byte, in order");
    assert_eq!(session.counters().snapshot().dropped_from_view, 0);
}

/// The command line stops a lossless session on a quit condition and then prints what is left: every byte the
/// worker read must still reach it, however full the event queue was when the stop came.
#[test]
fn a_lossless_session_told_to_stop_still_delivers_what_it_read() {
    let config = config(server_mode("127.0.0.1:0"), |c| c.delivery = Delivery::Lossless);
    let session = Session::start(config, no_notify()).expect("start");
    let addr = session.local_addr().expect("bound");
    let writer = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream.set_write_timeout(Some(TIMEOUT)).expect("write timeout");
        let chunk = vec![7u8; 1 << 16];
        // Until the server closes or stalls (the write fails), at most 1 GiB.
        for _ in 0..(1 << 14) {
            if stream.write_all(&chunk).is_err() {
                break;
            }
        }
    });
    eventually("the event queue to fill", TIMEOUT, || {
        session.events().is_full().then_some(())
    });
    session.command(Command::Stop);
    // A consumer busy elsewhere for a moment (printing, say) when the stop is handled.
    std::thread::sleep(Duration::from_millis(200));
    let mut shown = 0u64;
    let mut closed = false;
    while let Ok(batch) = session.events().recv_timeout(TIMEOUT) {
        for event in batch {
            match event.kind {
                EventKind::Received { bytes, .. } => shown += bytes.len() as u64,
                EventKind::Closed { reason } => closed = reason == CloseReason::Stopped,
                _ => {}
            }
        }
        if closed {
            break;
        }
    }
    assert!(closed, "the last event is Closed(Stopped)");
    let counters = session.counters().snapshot();
    assert_eq!(shown, counters.rx_bytes, "every byte read reached the consumer");
    assert_eq!(counters.dropped_from_view, 0);
    session.stop();
    writer.join().expect("writer");
}

#[cfg(target_os = "linux")]
mod namespace {
    //! Broadcast and multicast need a network of their own: a fresh network namespace, made by the test.
    use super::*;
    use std::net::{IpAddr, Ipv6Addr};
    use std::process::Command as Process;
    use wirepad::net::Group;

    /// This test's libtest name (`engine::namespace::NAME`), for running it again, alone, in a child process.
    macro_rules! this_test {
        () => {{
            fn here() {}
            // "it::engine::namespace::NAME::here": drop the crate and the helper.
            let path = std::any::type_name_of_val(&here);
            let path = path.strip_suffix("::here").expect("a function's path");
            path.split_once("::").map_or(path, |(_, name)| name)
        }};
    }

    /// Set in the child that runs a test again inside a user namespace: there a failure to unshare is final.
    const IN_USER_NAMESPACE: &str = "WIREPAD_TEST_IN_USER_NAMESPACE";

    /// Runs `f` on a thread moved into a new network namespace (with `setup` run there first).
    /// Threads and sockets it creates, the engine's included, live in that namespace. Without the privilege
    /// (not root), runs the whole test again in a child that `unshare -Urn` makes root of a user namespace.
    fn in_new_netns(test: &str, setup: &'static [&'static str], f: impl FnOnce() + Send + 'static) {
        let ran = std::thread::spawn(move || {
            // SAFETY: unshare only changes this thread's namespace; no memory is involved.
            if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
            for line in setup {
                let args: Vec<&str> = line.split_whitespace().collect();
                let status = Process::new("ip").args(&args).status().expect("run ip (iproute2)");
                assert!(status.success(), "ip {line} failed");
            }
            f();
            Ok(())
        })
        .join()
        .expect("namespace thread");
        match ran {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EPERM) && std::env::var_os(IN_USER_NAMESPACE).is_none() => {
                in_user_namespace(test)
            }
            Err(e) => panic!("cannot create a network namespace: {e}"),
        }
    }

    /// A user namespace needs a single-threaded process, which a test binary is not: hence a child, run by
    /// util-linux's `unshare`. Where the system allows no user namespaces, the test is skipped, saying why.
    fn in_user_namespace(test: &str) {
        let exe = std::env::current_exe().expect("the test binary's path");
        let out = Process::new("unshare")
            .args(["--user", "--map-root-user", "--net", "--"])
            .arg(&exe)
            .args(["--exact", test, "--test-threads=1"])
            .env(IN_USER_NAMESPACE, "1")
            .output();
        let why = match out {
            Ok(out) => {
                let stdout = String::from_utf8_lossy(&out.stdout);
                let stderr = String::from_utf8_lossy(&out.stderr);
                // Exactly this test ran and passed: a filter that matched nothing also exits 0.
                if out.status.success() && stdout.contains("test result: ok. 1 passed;") {
                    return;
                }
                // unshare's own messages start so; the child's never do.
                if !stderr.starts_with("unshare: ") {
                    panic!(
                        "{test} failed in a user namespace ({}):\n{stdout}\n{stderr}",
                        out.status
                    );
                }
                stderr.lines().next().unwrap_or_default().to_owned()
            }
            Err(e) => format!("cannot run unshare: {e}"),
        };
        skip_unless(
            false,
            test,
            &format!("needs root or an unprivileged user namespace ({why})"),
        );
    }

    const LOOPBACK: &[&str] = &[
        "link set lo up",
        "link set lo multicast on",
        "route add 239.0.0.0/8 dev lo",
    ];

    #[test]
    fn udp_broadcast_reaches_a_listener_and_needs_the_option() {
        in_new_netns(this_test!(), LOOPBACK, || {
            let listener = UdpSocket::bind("0.0.0.0:0").expect("bind");
            listener.set_read_timeout(Some(TIMEOUT)).expect("timeout");
            let broadcast_addr: SocketAddr = format!("127.255.255.255:{}", listener.local_addr().expect("addr").port())
                .parse()
                .expect("addr");
            let mode = |broadcast| {
                Mode::Udp(udp::Config {
                    bind: "0.0.0.0:0".parse().expect("addr"),
                    remote: Some(broadcast_addr.to_string()),
                    follow_peer: false,
                    broadcast,
                    groups: vec![],
                })
            };
            let mut without = start(mode(false));
            without.send(Target::Default, &b"no"[..]);
            assert!(first_error(&mut without).to_string().contains("permission denied"));
            let with = start(mode(true));
            with.send(Target::Default, &b"to everyone"[..]);
            let mut buf = [0; 64];
            let (n, _) = listener.recv_from(&mut buf).expect("broadcast datagram");
            assert_eq!(&buf[..n], b"to everyone");
        });
    }

    #[test]
    fn udp_joins_an_ipv4_multicast_group() {
        in_new_netns(this_test!(), LOOPBACK, || {
            let group: Ipv4Addr = "239.1.2.3".parse().expect("group");
            let mut session = start(Mode::Udp(udp::Config {
                bind: "0.0.0.0:0".parse().expect("addr"),
                remote: None,
                follow_peer: false,
                broadcast: false,
                groups: vec![Group {
                    addr: IpAddr::V4(group),
                    interface: 0,
                }],
            }));
            let port = session.local_addr().expect("bound").port();
            let sender = UdpSocket::bind("127.0.0.1:0").expect("bind");
            sender
                .send_to(b"group hello", (group, port))
                .expect("send to the group");
            assert_eq!(receive_bytes(&mut session, 11), b"group hello");
        });
    }

    /// Two sessions on one port, each in its own group: neither sees the other's group (Linux would by default).
    #[test]
    fn a_udp_session_sees_only_the_groups_it_joined() {
        in_new_netns(this_test!(), LOOPBACK, || {
            let [one, two] = ["239.1.2.5", "239.1.2.6"].map(|g| Group {
                addr: g.parse().expect("group"),
                interface: 0,
            });
            let join = |bind: SocketAddr, group| {
                start(Mode::Udp(udp::Config {
                    bind,
                    remote: None,
                    follow_peer: false,
                    broadcast: false,
                    groups: vec![group],
                }))
            };
            let mut first = join("0.0.0.0:0".parse().expect("addr"), one);
            let port = first.local_addr().expect("bound").port();
            let mut second = join(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)), two);
            let sender = UdpSocket::bind("127.0.0.1:0").expect("bind");
            sender.send_to(b"to one", (one.addr, port)).expect("send");
            sender.send_to(b"to two", (two.addr, port)).expect("send");
            // Each socket gets its datagrams in order: the first to arrive must be its own group's.
            assert_eq!(receive_bytes(&mut first, 6), b"to one");
            assert_eq!(receive_bytes(&mut second, 6), b"to two");
        });
    }

    /// IPv6 multicast does not loop over `lo`; a veth pair carries it from one end (wp0) to the other (wp1).
    const VETH: &[&str] = &[
        "link set lo up",
        "link add wp0 type veth peer name wp1",
        "link set wp0 up",
        "link set wp1 up",
        "-6 addr add fd00::1/64 dev wp0 nodad",
        "-6 addr add fd00::2/64 dev wp1 nodad",
    ];

    fn index(name: &str) -> u32 {
        let name = std::ffi::CString::new(name).expect("name");
        // SAFETY: a valid C string that the call only reads. (/sys shows the namespace sysfs was mounted in.)
        let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
        assert_ne!(index, 0, "interface {name:?} exists");
        index
    }

    #[test]
    fn udp_joins_an_ipv6_multicast_group_on_an_interface() {
        in_new_netns(this_test!(), VETH, || {
            let group: Ipv6Addr = "ff12::1234".parse().expect("group");
            let mut session = start(Mode::Udp(udp::Config {
                bind: "[::]:0".parse().expect("addr"),
                remote: None,
                follow_peer: false,
                broadcast: false,
                groups: vec![Group {
                    addr: IpAddr::V6(group),
                    interface: index("wp1"),
                }],
            }));
            let port = session.local_addr().expect("bound").port();
            let sender = socket2::Socket::new(socket2::Domain::IPV6, socket2::Type::DGRAM, None).expect("socket");
            sender.set_multicast_if_v6(index("wp0")).expect("multicast interface");
            let to = std::net::SocketAddrV6::new(group, port, 0, index("wp0"));
            sender.send_to(b"six hello", &to.into()).expect("send to the group");
            assert_eq!(receive_bytes(&mut session, 9), b"six hello");
        });
    }

    fn next_datagram(session: &mut Tap) -> String {
        wait_for(session, "a datagram", |_, kind| match kind {
            EventKind::Received { bytes, .. } => Some(String::from_utf8_lossy(bytes).into_owned()),
            _ => None,
        })
    }

    /// Commands run in order: once `witness` has the session's reply, every command before it is done.
    fn settle(session: &mut Tap, witness: &UdpSocket) {
        let to = witness.local_addr().expect("addr");
        session.send(Target::Peer(to), &b"settled"[..]);
        witness.set_read_timeout(Some(TIMEOUT)).expect("timeout");
        let mut buf = [0; 16];
        let (n, _) = witness.recv_from(&mut buf).expect("the session's reply");
        assert_eq!(&buf[..n], b"settled");
    }

    /// `session` has joined `group` at start. `send(bytes, to)` sends from one socket, to the group
    /// (`to_group`) or straight to the session (`to_session`).
    fn leave_then_join_again(
        session: &mut Tap,
        group: Group,
        send: impl Fn(&[u8], SocketAddr),
        to_group: SocketAddr,
        to_session: SocketAddr,
        witness: &UdpSocket,
    ) {
        send(b"joined at start", to_group);
        assert_eq!(next_datagram(session), "joined at start");
        session.command(Command::Leave(group));
        settle(session, witness);
        // One socket's datagrams arrive in order: had the group's been delivered, it would come first.
        send(b"after leaving", to_group);
        send(b"straight to the session", to_session);
        assert_eq!(next_datagram(session), "straight to the session");
        session.command(Command::Join(group));
        settle(session, witness);
        send(b"joined again", to_group);
        assert_eq!(next_datagram(session), "joined again");
    }

    #[test]
    fn udp_leaves_and_joins_again_an_ipv4_multicast_group() {
        in_new_netns(this_test!(), LOOPBACK, || {
            let group = Group {
                addr: IpAddr::V4("239.1.2.4".parse().expect("group")),
                interface: 0,
            };
            let mut session = start(Mode::Udp(udp::Config {
                bind: "0.0.0.0:0".parse().expect("addr"),
                remote: None,
                follow_peer: false,
                broadcast: false,
                groups: vec![group],
            }));
            let port = session.local_addr().expect("bound").port();
            let sender = UdpSocket::bind("127.0.0.1:0").expect("bind");
            let send = |bytes: &[u8], to| {
                sender.send_to(bytes, to).expect("send");
            };
            let witness = UdpSocket::bind("127.0.0.1:0").expect("bind");
            let to_group = SocketAddr::new(group.addr, port);
            let to_session = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            leave_then_join_again(&mut session, group, send, to_group, to_session, &witness);
        });
    }

    #[test]
    fn udp_leaves_and_joins_again_an_ipv6_multicast_group() {
        in_new_netns(this_test!(), VETH, || {
            let addr: Ipv6Addr = "ff12::1235".parse().expect("group");
            let group = Group {
                addr: IpAddr::V6(addr),
                interface: index("wp1"),
            };
            let mut session = start(Mode::Udp(udp::Config {
                bind: "[::]:0".parse().expect("addr"),
                remote: None,
                follow_peer: false,
                broadcast: false,
                groups: vec![group],
            }));
            let port = session.local_addr().expect("bound").port();
            let sender = socket2::Socket::new(socket2::Domain::IPV6, socket2::Type::DGRAM, None).expect("socket");
            sender.set_multicast_if_v6(index("wp0")).expect("multicast interface");
            let send = |bytes: &[u8], to: SocketAddr| {
                sender.send_to(bytes, &to.into()).expect("send");
            };
            let witness = UdpSocket::bind("[::1]:0").expect("bind");
            let to_group = std::net::SocketAddrV6::new(addr, port, 0, index("wp0")).into();
            let to_session = SocketAddr::new("fd00::2".parse().expect("addr"), port);
            leave_then_join_again(&mut session, group, send, to_group, to_session, &witness);
        });
    }

    /// The name servers the system resolver asks (glibc's default when none is set).
    fn name_servers() -> Vec<IpAddr> {
        let conf = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        let servers: Vec<IpAddr> = conf
            .lines()
            .filter_map(|line| line.strip_prefix("nameserver"))
            .filter_map(|addr| addr.trim().parse().ok())
            .collect();
        if servers.is_empty() {
            vec![Ipv4Addr::LOCALHOST.into()]
        } else {
            servers
        }
    }

    /// A window's Close waits for Stop, and its Open for start: a lookup stuck on a name server that never answers
    /// must hold up neither (a relay's UPSTREAM is looked up on its worker, not on the caller's thread).
    #[test]
    fn stop_returns_at_once_while_a_name_lookup_hangs() {
        in_new_netns(this_test!(), &["link set lo up"], || {
            // The system's name servers, here: sockets that take every query and never answer.
            let (queries_tx, queries) = crossbeam_channel::unbounded::<Vec<u8>>();
            for ip in name_servers() {
                if !ip.is_loopback() {
                    let prefix = if ip.is_ipv4() { 32 } else { 128 };
                    let addr = format!("{ip}/{prefix}");
                    let mut args = vec!["addr", "add", &addr, "dev", "lo"];
                    if ip.is_ipv6() {
                        args.push("nodad");
                    }
                    let status = Process::new("ip").args(&args).status().expect("run ip (iproute2)");
                    assert!(status.success(), "ip {args:?} failed");
                }
                let socket = UdpSocket::bind((ip, 53)).expect("bind a name server's address");
                socket.set_read_timeout(Some(TIMEOUT)).expect("timeout");
                let queries_tx = queries_tx.clone();
                // Ends after a quiet TIMEOUT, or at the first query once the test is over.
                std::thread::spawn(move || {
                    let mut buf = [0; 512];
                    while let Ok((n, _)) = socket.recv_from(&mut buf) {
                        if queries_tx.send(buf[..n].to_vec()).is_err() {
                            break;
                        }
                    }
                });
            }
            let asked = |label: &str| {
                let deadline = std::time::Instant::now() + TIMEOUT;
                loop {
                    let left = deadline.saturating_duration_since(std::time::Instant::now());
                    let query = queries.recv_timeout(left).unwrap_or_else(|_| {
                        panic!("no query for {label} reached a name server: does this system resolve through /etc/resolv.conf?")
                    });
                    if query.windows(label.len()).any(|w| w == label.as_bytes()) {
                        return;
                    }
                }
            };
            let tcp = client_mode("wirepad-tcp.example:80", false);
            let udp = udp_mode("127.0.0.1:0", Some("wirepad-udp.example:80".into()), false);
            let relay = |upstream: &str, udp_idle| {
                Mode::Relay(wirepad::net::relay::Config {
                    listen: "127.0.0.1:0".parse().expect("addr"),
                    upstream: upstream.into(),
                    max_pairs: None,
                    connect_timeout: TIMEOUT,
                    udp_idle,
                    tls_listen: None,
                    tls_upstream: None,
                })
            };
            let relays = [
                ("wirepad-relay", relay("wirepad-relay.example:80", None)),
                (
                    "wirepad-udp-relay",
                    relay("wirepad-udp-relay.example:80", Some(TIMEOUT)),
                ),
            ];
            for (label, mode) in [("wirepad-tcp", tcp), ("wirepad-udp", udp)].into_iter().chain(relays) {
                let (started_tx, started_rx) = crossbeam_channel::bounded(1);
                std::thread::spawn(move || {
                    let _ = started_tx.send(start(mode));
                });
                let session = started_rx
                    .recv_timeout(Duration::from_secs(2))
                    .unwrap_or_else(|_| panic!("{label}: start returned while the lookup hangs"));
                asked(label);
                let (done_tx, done_rx) = crossbeam_channel::bounded(1);
                std::thread::spawn(move || {
                    session.stop();
                    let _ = done_tx.send(());
                });
                assert!(
                    done_rx.recv_timeout(Duration::from_secs(2)).is_ok(),
                    "{label}: stop returned while the lookup hangs"
                );
            }
        });
    }
}

#[test]
fn an_empty_send_keeps_the_connection() {
    let mut session = server("127.0.0.1:0");
    let (mut stream, peer) = connect(&mut session);
    session.send(Target::Peer(peer), &b""[..]);
    session.send(Target::Peer(peer), &b"after"[..]);
    assert_eq!(read_exactly(&mut stream, 5), b"after");
}

/// The consumer that stops a session may be the one not reading its events (a window's UI thread): stop never waits on it.
#[test]
fn stopping_a_session_whose_events_nobody_reads_returns_at_once() {
    let session = server("127.0.0.1:0");
    let addr = session.local_addr().expect("bound");
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_write_timeout(Some(TIMEOUT)).expect("write timeout");
    // Far more than the event queue holds, so it is full when Stop arrives.
    let chunk = vec![1u8; 1 << 16];
    for _ in 0..(64 << 20) / chunk.len() {
        stream.write_all(&chunk).expect("send");
    }
    let (done_tx, done_rx) = crossbeam_channel::bounded(1);
    std::thread::spawn(move || {
        session.stop();
        let _ = done_tx.send(());
    });
    assert!(done_rx.recv_timeout(Duration::from_secs(2)).is_ok(), "stop returned");
}

/// A consumer that keeps up is handed each read at once: batching (here an hour long) only starts while it is
/// behind, so a request/response peer never waits for a timer.
#[test]
fn an_idle_consumer_gets_each_read_at_once_whatever_the_batch_interval() {
    let mut session = start_with(server_mode("127.0.0.1:0"), |c| {
        c.batch_interval = Duration::from_secs(3600)
    });
    let (mut stream, peer) = connect(&mut session);
    for round in 0..3u8 {
        stream.write_all(&[round; 3]).expect("write");
        assert_eq!(receive_bytes(&mut session, 3), [round; 3]);
        session.send(Target::Peer(peer), vec![round + 10]);
        assert_eq!(read_exactly(&mut stream, 1), [round + 10]);
    }
}

/// Echo answers inside the worker: a consumer that never takes a single event does not hold it up.
#[test]
fn echo_answers_in_the_worker_while_nobody_reads_the_events() {
    let session = start_with(server_mode("127.0.0.1:0"), |c| {
        c.echo = true;
        c.delivery = Delivery::Lossless;
    });
    let addr = session.local_addr().expect("bound");
    let mut streams: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(addr).expect("connect")).collect();
    for round in 0..50u8 {
        for (i, stream) in streams.iter_mut().enumerate() {
            let message = [round, i as u8, 0xEE];
            stream.write_all(&message).expect("write");
            assert_eq!(read_exactly(stream, 3), message, "client {i} gets its own bytes back");
        }
    }
    let udp_session = start_with(udp_mode("127.0.0.1:0", None, false), |c| {
        c.echo = true;
        c.delivery = Delivery::Lossless;
    });
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    let to = udp_session.local_addr().expect("bound");
    let mut buf = [0u8; 64];
    for round in 0..50u8 {
        socket.send_to(&[round; 5], to).expect("send");
        let (n, from) = socket.recv_from(&mut buf).expect("the echo arrives");
        assert_eq!((&buf[..n], from), (&[round; 5][..], to));
    }
}

/// Periodic sends keep an absolute schedule: a worker held up (here inside its notify callback) skips the ticks
/// it missed and counts them, instead of sending them in a burst or shifting every later tick.
#[test]
fn a_late_periodic_send_skips_and_counts_the_ticks_it_missed() {
    use std::sync::atomic::{AtomicBool, Ordering};
    const INTERVAL_MS: u64 = 10;
    const STALL: Duration = Duration::from_millis(300);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let stall = Arc::new(AtomicBool::new(false));
    let (held_tx, held_rx) = crossbeam_channel::bounded(1);
    let (release_tx, release_rx) = crossbeam_channel::bounded::<()>(1);
    let notify: wirepad::net::Notify = {
        let stall = stall.clone();
        Arc::new(move || {
            if stall.swap(false, Ordering::SeqCst) {
                let _ = held_tx.send(());
                let _ = release_rx.recv_timeout(TIMEOUT);
            }
        })
    };
    let config = SessionConfig::new(client_mode(listener.local_addr().expect("address"), false));
    let mut session = Tap::new(Session::start(config, notify).expect("session starts"));
    let (mut stream, _) = accept_within(&listener);
    wait_for(&mut session, "the connection", |_, kind| {
        matches!(kind, EventKind::Connected { .. }).then_some(())
    });
    let started = std::time::Instant::now();
    session.command(Command::SendPeriodic {
        to: Target::Default,
        bytes: Outgoing::Bytes(Arc::from(&b"tick;"[..])),
        interval: Duration::from_millis(INTERVAL_MS),
        count: None,
    });
    assert_eq!(read_exactly(&mut stream, 15), b"tick;".repeat(3));
    stall.store(true, Ordering::SeqCst);
    held_rx.recv_timeout(TIMEOUT).expect("the worker is held");
    // The fault injected: the worker is late by many intervals.
    std::thread::sleep(STALL);
    release_tx.send(()).expect("release");
    assert_eq!(
        read_exactly(&mut stream, 15),
        b"tick;".repeat(3),
        "the schedule goes on"
    );
    session.command(Command::StopPeriodic);
    let sent = wait_for(&mut session, "the schedule to stop", |_, kind| match kind {
        EventKind::PeriodicProgress { sent, done: true } => Some(*sent),
        _ => None,
    });
    let slots = started.elapsed().as_millis() as u64 / INTERVAL_MS + 1;
    let missed = session.counters().snapshot().missed_ticks;
    assert!(
        missed >= 10,
        "a {STALL:?} stall at {INTERVAL_MS} ms skips ticks, counted {missed}"
    );
    assert!(
        sent + missed <= slots,
        "sent {sent} + skipped {missed} ticks fit in the {slots} slots that passed"
    );
    let mut rest = read_exactly(&mut stream, 5 * sent as usize - 30);
    rest.retain(|&b| b == b';');
    assert_eq!(rest.len() as u64, sent - 6, "every send counted arrived");
}

/// The drops at the end of a burst count too, though no datagram follows them: a session its consumer reads late
/// (lossless, events taken only after the burst) reports exactly what the kernel counted for its socket.
/// A consumer that does not keep up (the window) is handed at most a few MiB per session: its queue holds
/// `EVENT_BATCHES` batches, and a batch at most 256 KiB and one read, however much the socket had waiting.
#[test]
fn a_consumer_behind_is_handed_a_few_mib_at_most() {
    const FLOOD: usize = 64 << 20;
    let session = server("127.0.0.1:0");
    let mut client = TcpStream::connect(session.local_addr().expect("bound")).expect("connect");
    let block = vec![b'x'; 1 << 20];
    for _ in 0..FLOOD / block.len() {
        client.write_all(&block).expect("flood");
    }
    // Nothing taken until the server has read it all: the rest was dropped, counted.
    eventually("the flood read", TIMEOUT, || {
        (session.counters().snapshot().rx_bytes == FLOOD as u64).then_some(())
    });
    let queued: usize = session
        .events()
        .try_iter()
        .flatten()
        .map(|event| match event.kind {
            EventKind::Received { bytes, .. } => bytes.len(),
            _ => 0,
        })
        .sum();
    assert!(queued > 0, "the first batches wait for the consumer");
    assert!(queued <= 3 << 20, "{queued} bytes wait for the consumer");
}

#[cfg(target_os = "linux")]
#[test]
fn udp_drops_at_the_end_of_a_burst_are_counted() {
    const SENT: u64 = 2000;
    let session = start_with(udp_mode("127.0.0.1:0", None, false), |c| {
        c.delivery = Delivery::Lossless
    });
    let to = session.local_addr().expect("bound");
    let sender = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let datagram = vec![7u8; 60_000];
    for _ in 0..SENT {
        sender.send_to(&datagram, to).expect("send");
    }
    // Read late, and nothing sent after the burst: every datagram is read or was dropped by the kernel.
    let events = session.events().clone();
    let mut received = 0u64;
    let kernel = eventually("every datagram read or dropped", TIMEOUT, || {
        for batch in events.try_iter() {
            received += batch
                .iter()
                .filter(|event| matches!(event.kind, EventKind::Received { .. }))
                .count() as u64;
        }
        let kernel = proc_udp_drops(to);
        (received + kernel == SENT).then_some(kernel)
    });
    assert!(kernel > 0, "{SENT} datagrams of 60 kB overflow a reader held up");
    eventually(
        format_args!("the session to count the kernel's {kernel} drops"),
        TIMEOUT,
        || (session.counters().snapshot().kernel_dropped == kernel).then_some(()),
    );
}

/// The kernel's count of datagrams it dropped on the UDP socket bound to `local`: the last column of its line in
/// /proc/net/udp (local address as hex `IP:PORT`).
#[cfg(target_os = "linux")]
fn proc_udp_drops(local: SocketAddr) -> u64 {
    let table = std::fs::read_to_string("/proc/net/udp").expect("read /proc/net/udp");
    let port = format!(":{:04X}", local.port());
    let line = table
        .lines()
        .skip(1)
        .find(|line| line.split_whitespace().nth(1).is_some_and(|addr| addr.ends_with(&port)))
        .unwrap_or_else(|| panic!("{local} in /proc/net/udp:\n{table}"));
    let drops = line.split_whitespace().last().expect("a drops column");
    drops.parse().expect("drops is a number")
}

/// A UDP session the consumer holds up (lossless, events not taken) stops reading; the kernel then drops
/// datagrams, and the session counts exactly those: received + dropped = sent.
#[cfg(target_os = "linux")]
#[test]
fn udp_datagrams_the_kernel_drops_are_counted() {
    const SENT: usize = 2000;
    let session = start_with(udp_mode("127.0.0.1:0", None, false), |c| {
        c.delivery = Delivery::Lossless
    });
    let to = session.local_addr().expect("bound");
    let buffer = session.recv_buffer().expect("a UDP session reports its receive buffer");
    assert!(buffer.granted > 0 && buffer.wanted >= 4 << 20, "{buffer:?}");
    let sender = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let datagram = vec![9u8; 60_000];
    for _ in 0..SENT {
        sender.send_to(&datagram, to).expect("send");
    }
    // Anything sent before a marker is read or dropped before it. A marker that finds the buffer still full is
    // dropped too: then another one goes.
    let events = session.events().clone();
    let deadline = std::time::Instant::now() + TIMEOUT;
    let (mut received, mut markers) = (0u64, 0u64);
    'markers: while std::time::Instant::now() < deadline {
        markers += 1;
        let marker = format!("marker {markers}");
        sender.send_to(marker.as_bytes(), to).expect("send");
        while let Ok(batch) = events.recv_timeout(Duration::from_millis(500)) {
            for event in batch {
                if let EventKind::Received { bytes, .. } = event.kind {
                    received += 1;
                    if bytes == marker.as_bytes() {
                        break 'markers;
                    }
                }
            }
        }
    }
    let dropped = session.counters().snapshot().kernel_dropped;
    assert!(
        dropped > 0,
        "{SENT} datagrams of 60 kB into a stalled reader overflow its buffer"
    );
    assert_eq!(
        received + dropped,
        SENT as u64 + markers,
        "every datagram was received or counted as dropped"
    );
}
