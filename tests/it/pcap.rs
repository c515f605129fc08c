//! Live pcap (`--pcap`, `Command::Pcap`): what the engine writes while the session runs, read back by tshark and by
//! pcap-file + etherparse, against what really went over loopback.
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::Path;

#[cfg(feature = "gui")]
use crate::export::Answer;
use crate::export::{assert_readable, follow_tcp, have_tshark, tshark};
use crate::support::{TIMEOUT, read_exactly, server_mode, start_with, wait_for};
use crate::wirepad::Wirepad;
#[cfg(feature = "gui")]
use egui_kittest::kittest::Queryable;
use wirepad::net::{CaptureFile, Delivery, EventKind};

fn pattern(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) ^ seed).rotate_left(7) as u8)
        .collect()
}

/// A tcp-server with `--pcap`: it greets, echoes, and quits after the request; tshark follows both ways back.
fn tcp_server_follows_back(listen: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let pcap = dir.path().join("server.pcapng");
    let request = pattern(200_000, 1);
    let wirepad = Wirepad::start(&[
        "tcp-server",
        listen,
        "-q",
        "--send",
        "welcome\\r\\n",
        "--echo",
        "--pcap",
        pcap.to_str().expect("UTF-8 temp path"),
        "--quit-after-bytes",
        &request.len().to_string(),
    ]);
    let addr = wirepad.ready("listening on ");
    let mut client = TcpStream::connect(addr).expect("connect");
    client.set_write_timeout(Some(TIMEOUT)).expect("write timeout");
    assert_eq!(read_exactly(&mut client, 9), b"welcome\r\n");
    // Written from a thread of its own: the echo comes back while it is being written.
    let mut writer = client.try_clone().expect("clone");
    let sent = request.clone();
    let writing = std::thread::spawn(move || writer.write_all(&sent));
    assert!(read_exactly(&mut client, request.len()) == request, "the echo differs");
    writing.join().expect("writer thread").expect("write");
    let done = wirepad.finish();
    assert_eq!(done.code, Some(0), "stderr: {:?}", done.stderr);
    assert_readable(&pcap);
    let (from_client, from_server) = follow_tcp(&pcap, 0);
    assert!(
        from_client == request,
        "the client's bytes ({} of {})",
        from_client.len(),
        request.len()
    );
    let mut expected = b"welcome\r\n".to_vec();
    expected.extend_from_slice(&request);
    assert!(
        from_server == expected,
        "the server's bytes ({} of {})",
        from_server.len(),
        expected.len()
    );
    // The real addresses: the client's port as the OS gave it, the server's as it listened.
    let ends = tshark(&[
        "-r",
        pcap.to_str().expect("UTF-8"),
        "-Y",
        "tcp.flags.syn == 1 && tcp.flags.ack == 0",
        "-T",
        "fields",
        "-e",
        "tcp.srcport",
        "-e",
        "tcp.dstport",
    ]);
    let local = client.local_addr().expect("local");
    assert_eq!(ends.trim(), format!("{}\t{}", local.port(), addr.port()));
}

#[test]
fn a_tcp_server_over_ipv4_writes_a_pcap_tshark_follows() {
    if have_tshark("a_tcp_server_over_ipv4_writes_a_pcap_tshark_follows") {
        tcp_server_follows_back("127.0.0.1:0");
    }
}

#[test]
fn a_tcp_server_over_ipv6_writes_a_pcap_tshark_follows() {
    if have_tshark("a_tcp_server_over_ipv6_writes_a_pcap_tshark_follows") {
        tcp_server_follows_back("[::1]:0");
    }
}

#[test]
fn udp_datagrams_both_ways_are_in_the_pcap() {
    if !have_tshark("udp_datagrams_both_ways_are_in_the_pcap") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let pcap = dir.path().join("udp.pcapng");
    let datagrams: Vec<Vec<u8>> = vec![b"ping".to_vec(), pattern(1400, 2), pattern(60_000, 3)];
    let total: usize = datagrams.iter().map(Vec::len).sum();
    let wirepad = Wirepad::start(&[
        "udp",
        "--bind",
        "127.0.0.1:0",
        "-q",
        "--echo",
        "--pcap",
        pcap.to_str().expect("UTF-8 temp path"),
        "--quit-after-bytes",
        &total.to_string(),
    ]);
    let addr = wirepad.ready("bound to ");
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket.set_read_timeout(Some(TIMEOUT)).expect("read timeout");
    let mut buf = vec![0; 65_536];
    // One at a time, each echoed before the next: none can be lost to a full buffer.
    for datagram in &datagrams {
        socket.send_to(datagram, addr).expect("send");
        let (n, _) = socket.recv_from(&mut buf).expect("the echo");
        assert_eq!(&buf[..n], &datagram[..]);
    }
    let done = wirepad.finish();
    assert_eq!(done.code, Some(0), "stderr: {:?}", done.stderr);
    assert_eq!(assert_readable(&pcap), 2 * datagrams.len());
    let rows = tshark(&[
        "-r",
        pcap.to_str().expect("UTF-8"),
        "-T",
        "fields",
        "-e",
        "ip.src",
        "-e",
        "udp.srcport",
        "-e",
        "udp.dstport",
        "-e",
        "udp.payload",
    ]);
    let peer = socket.local_addr().expect("local").port();
    let expected: Vec<String> = datagrams
        .iter()
        .flat_map(|datagram| {
            let hex: String = datagram.iter().map(|b| format!("{b:02x}")).collect();
            [
                format!("127.0.0.1\t{peer}\t{}\t{hex}", addr.port()),
                format!("127.0.0.1\t{}\t{peer}\t{hex}", addr.port()),
            ]
        })
        .collect();
    assert!(rows.lines().eq(expected.iter().map(String::as_str)), "{rows}");
}

/// Each direction's TCP payload as the pcap holds it, checked to follow its sequence numbers without a gap or an
/// overlap; the server's end is `server`.
fn tcp_payloads(path: &Path, server: SocketAddr) -> (Vec<u8>, Vec<u8>) {
    use pcap_file::pcapng::{Block, PcapNgReader};
    let file = std::io::BufReader::new(std::fs::File::open(path).expect("the pcap"));
    let mut reader = PcapNgReader::new(file).expect("a pcapng header");
    let (mut inbound, mut outbound) = (Vec::new(), Vec::new());
    let (mut next_in, mut next_out) = (None::<u32>, None::<u32>);
    while let Some(block) = reader.next_block() {
        let Block::EnhancedPacket(packet) = block.expect("a block") else {
            continue;
        };
        let sliced = etherparse::SlicedPacket::from_ethernet(&packet.data).expect("a packet");
        let Some(etherparse::TransportSlice::Tcp(tcp)) = sliced.transport else {
            panic!("not TCP");
        };
        let from_server = tcp.source_port() == server.port();
        let (bytes, next) = if from_server {
            (&mut outbound, &mut next_out)
        } else {
            (&mut inbound, &mut next_in)
        };
        let seq = tcp.sequence_number();
        if let Some(expected) = *next {
            assert_eq!(seq, expected, "a gap or overlap after {} bytes", bytes.len());
        }
        let used = tcp.payload().len() as u32 + u32::from(tcp.syn()) + u32::from(tcp.fin());
        *next = Some(seq.wrapping_add(used));
        bytes.extend_from_slice(tcp.payload());
    }
    (inbound, outbound)
}

/// A client floods an echoing server with 48 MiB while nobody takes the session's events (the view drops):
/// the pcap's payload, both ways, and the capture file are each exactly what was sent.
#[test]
fn the_live_pcap_under_a_flood_is_byte_exact_against_the_capture_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (capture, pcap) = (dir.path().join("capture.bin"), dir.path().join("flood.pcapng"));
    let mut tap = start_with(server_mode("127.0.0.1:0"), |config| {
        config.delivery = Delivery::DropWhenBehind;
        config.echo = true;
        config.capture = Some(CaptureFile::truncate(&capture));
        config.pcap = Some(CaptureFile::truncate(&pcap));
    });
    let server = tap.local_addr().expect("listening");
    let flood = pattern(48 << 20, 4);
    let mut client = TcpStream::connect(server).expect("connect");
    client.set_write_timeout(Some(TIMEOUT)).expect("write timeout");
    let mut writer = client.try_clone().expect("clone");
    let sent = flood.clone();
    let writing = std::thread::spawn(move || {
        for piece in sent.chunks(1 << 20) {
            writer.write_all(piece)?;
        }
        writer.shutdown(std::net::Shutdown::Write)
    });
    // Taken in small reads, slower than it is written: the server's writes to it come out partial.
    client.set_read_timeout(Some(TIMEOUT)).expect("read timeout");
    let mut echoed = Vec::with_capacity(flood.len());
    let mut piece = [0; 3000];
    while echoed.len() < flood.len() {
        let n = client.read(&mut piece).expect("the echo in time");
        assert!(n > 0, "the server closed after {} echoed bytes", echoed.len());
        echoed.extend_from_slice(&piece[..n]);
    }
    writing.join().expect("writer thread").expect("write");
    assert!(echoed == flood, "the echo differs");
    // Only now are the events read: the view fell behind and dropped, the files did not.
    let dropped = tap.counters().snapshot().dropped_from_view;
    assert!(
        dropped > 0,
        "the view kept up; nothing shows the files are the engine's own copy"
    );
    wait_for(&mut tap, "the client to leave", |_, kind| {
        matches!(kind, EventKind::PeerLeft { .. }).then_some(())
    });
    tap.stop();
    let captured = std::fs::read(&capture).expect("capture file");
    assert!(
        captured == flood,
        "the capture file ({} of {} bytes)",
        captured.len(),
        flood.len()
    );
    let (inbound, outbound) = tcp_payloads(&pcap, server);
    assert!(
        inbound == captured,
        "the pcap's received bytes ({} of {})",
        inbound.len(),
        captured.len()
    );
    assert!(
        outbound == flood,
        "the pcap's sent bytes ({} of {})",
        outbound.len(),
        flood.len()
    );
}

/// A thousand clients, each with its own greeting and echo: a thousand streams tshark follows back.
#[test]
fn a_thousand_clients_of_a_tcp_server_in_one_pcap() {
    if !have_tshark("a_thousand_clients_of_a_tcp_server_in_one_pcap") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let pcap = dir.path().join("clients.pcapng");
    let messages: Vec<Vec<u8>> = (0..1000).map(|n| format!("client {n}\n").into_bytes()).collect();
    let total: usize = messages.iter().map(Vec::len).sum();
    let wirepad = Wirepad::start(&[
        "tcp-server",
        "127.0.0.1:0",
        "-q",
        "--echo",
        "--pcap",
        pcap.to_str().expect("UTF-8 temp path"),
        "--quit-after-bytes",
        &total.to_string(),
    ]);
    let addr = wirepad.ready("listening on ");
    for message in &messages {
        let mut client = TcpStream::connect(addr).expect("connect");
        client.write_all(message).expect("write");
        assert_eq!(&read_exactly(&mut client, message.len()), message);
    }
    let done = wirepad.finish();
    assert_eq!(done.code, Some(0), "stderr: {:?}", done.stderr);
    assert_readable(&pcap);
    let path = pcap.to_str().expect("UTF-8");
    let count = |filter: &str| tshark(&["-r", path, "-Y", filter]).lines().count();
    assert_eq!(
        count("tcp.flags.syn == 1 && tcp.flags.ack == 0"),
        1000,
        "a handshake each"
    );
    assert_eq!(count("tcp.flags.fin == 1"), 2000, "FIN both ways each");
    for n in [0, 499, 999] {
        assert_eq!(
            follow_tcp(&pcap, n),
            (messages[n].clone(), messages[n].clone()),
            "stream {n}"
        );
    }
}

#[test]
fn a_pcap_that_cannot_be_created_exits_1_before_listening() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("missing-dir").join("out.pcapng");
    let done = Wirepad::start(&["tcp-server", "127.0.0.1:0", "--pcap", path.to_str().expect("UTF-8")]).finish();
    assert_eq!(done.code, Some(1));
    assert_eq!(done.stderr.len(), 1, "{:?}", done.stderr);
    let expected = format!("error: cannot write pcap file {}: not found", path.display());
    assert_eq!(done.stderr[0], expected);
}

/// A disk that fills up mid-run (/dev/full) ends the pcap with an error naming it; the session goes on.
#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_ends_the_pcap_and_not_the_session() {
    use wirepad::net::{Command, NetError};
    let mut tap = start_with(server_mode("127.0.0.1:0"), |config| {
        config.pcap = Some(CaptureFile::truncate("/dev/full"));
    });
    let error = wait_for(&mut tap, "the pcap's error", |_, kind| match kind {
        EventKind::Error(error) => match &**error {
            NetError::Pcap(pcap) => Some(pcap.to_string()),
            _ => None,
        },
        _ => None,
    });
    assert_eq!(error, "cannot write pcap file /dev/full: no space left on device");
    let server = tap.local_addr().expect("listening");
    let mut client = TcpStream::connect(server).expect("connect");
    client.write_all(b"still here").expect("write");
    let got = crate::support::receive_bytes(&mut tap, 10);
    assert_eq!(got, b"still here");
    // And a new pcap can start on the running session.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("again.pcapng");
    tap.command(Command::Pcap(Some(CaptureFile::truncate(&path))));
    client.write_all(b"again").expect("write");
    assert_eq!(crate::support::receive_bytes(&mut tap, 5), b"again");
    tap.command(Command::Pcap(None));
    drop(client);
    tap.stop();
    let (inbound, outbound) = tcp_payloads(&path, server);
    assert_eq!((inbound, outbound), (b"again".to_vec(), Vec::new()));
}

#[cfg(feature = "gui")]
/// The window's toggle on a session already open: the client that joined before it gets its handshake made up, and
/// Stop finishes the file (FIN) while the session goes on.
#[test]
fn the_window_toggles_a_pcap_on_an_open_session() {
    if !have_tshark("the_window_toggles_a_pcap_on_an_open_session") {
        return;
    }
    use crate::ui::step_until;
    let mut harness = crate::ui::window(crate::ui::settings());
    let server = crate::ui::open_server(&mut harness);
    let (mut client, _) = crate::ui::connect(&mut harness, server);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("window.pcapng");
    harness
        .state_mut()
        .set_file_dialogs(std::sync::Arc::new(Answer(path.clone())));
    harness.get_by_label("Capture to pcap…").click();
    step_until(&mut harness, "the pcap to start", |h| {
        h.state().tab().state.pcap().is_some()
    });
    client.write_all(b"request\r\n").expect("send");
    step_until(&mut harness, "the request on show", |h| {
        h.state().tab().state.view_text().contains("request")
    });
    harness.get_by_label("Stop pcap").click();
    step_until(&mut harness, "the pcap to stop", |h| {
        h.state().tab().state.pcap().is_none()
    });
    // The worker finishes the file before it takes the next command: a send after Stop arriving shows it is done.
    harness.get_by_label("Send box").set_text_value_accesskit("after");
    harness.run_steps(2);
    harness.get_by_label("Send").click();
    step_until(&mut harness, "the send on show", |h| {
        h.state().tab().state.view_text().contains("after")
    });
    assert_eq!(read_exactly(&mut client, 5), b"after");
    assert_eq!(harness.state().notice(), None);
    assert_eq!(
        assert_readable(&path),
        3 + 1 + 3,
        "handshake, the request, FIN both ways and the last ACK"
    );
    assert_eq!(follow_tcp(&path, 0), (b"request\r\n".to_vec(), Vec::new()));
}
