//! The engine under strain: out of file descriptors, half-closing peers, a stop with bytes still queued.
use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use crossbeam_channel::Receiver;
use wirepad::net::{CloseReason, Command, Delivery, Event, EventKind, LeaveReason, NetError, Target};

use crate::support::*;

fn server() -> Tap {
    start(server_mode("127.0.0.1:0"))
}

fn lossless_client(remote: SocketAddr, delivery: Delivery) -> Tap {
    let mut tap = start_with(client_mode(remote, false), |c| c.delivery = delivery);
    wait_for(&mut tap, "the connection", |_, kind| {
        matches!(kind, EventKind::Connected { .. }).then_some(())
    });
    tap
}

/// Every event a stopped session still hands over, up to its end.
fn remaining_events(events: &Receiver<Vec<Event>>) -> Vec<EventKind> {
    let deadline = Instant::now() + TIMEOUT;
    let mut kinds = Vec::new();
    while let Ok(batch) = events.recv_deadline(deadline) {
        kinds.extend(batch.into_iter().map(|event| event.kind));
    }
    assert!(
        matches!(kinds.last(), Some(EventKind::Closed { .. })),
        "the session closes in time: {kinds:?}"
    );
    kinds
}

fn errors(kinds: &[EventKind]) -> Vec<Arc<NetError>> {
    kinds
        .iter()
        .filter_map(|kind| match kind {
            EventKind::Error(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

/// A peer that reads everything until the connection ends, on a thread of its own.
fn drain_in_background(mut stream: TcpStream) -> thread::JoinHandle<usize> {
    thread::spawn(move || read_to_end_or_reset(&mut stream).len())
}

#[test]
fn a_half_closed_client_gets_its_echo_then_the_end() {
    let mut session = server();
    let addr = session.local_addr().expect("bound");
    let peer = thread::spawn(move || {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream.write_all(b"hello").expect("write");
        stream.shutdown(Shutdown::Write).expect("half-close");
        read_to_end_or_reset(&mut stream)
    });
    let reason = wait_for(&mut session, "the client to leave", |session, kind| match kind {
        EventKind::Received { peer, bytes } => {
            session.send(Target::Peer(*peer), bytes.clone());
            None
        }
        EventKind::PeerLeft { reason, .. } => Some(*reason),
        _ => None,
    });
    assert_eq!(reason, LeaveReason::Closed);
    assert_eq!(peer.join().expect("peer thread"), b"hello");
}

#[test]
fn a_half_closed_client_still_gets_everything_queued_for_it() {
    const LEN: usize = 32 * 1024 * 1024;
    let mut session = server();
    let mut stream = TcpStream::connect(session.local_addr().expect("bound")).expect("connect");
    let peer = wait_for(&mut session, "the client to join", |_, kind| match kind {
        EventKind::PeerJoined { peer, .. } => Some(*peer),
        _ => None,
    });
    session.send(Target::Peer(peer), vec![7u8; LEN]);
    // The first byte shows the send is under way; far more than the socket buffers hold is still queued.
    assert_eq!(read_exactly(&mut stream, 1), [7]);
    stream.shutdown(Shutdown::Write).expect("half-close");
    let rest = read_to_end_or_reset(&mut stream);
    assert_eq!(rest.len(), LEN - 1, "every queued byte arrives before the end");
    let reason = wait_for(&mut session, "the client to leave", |_, kind| match kind {
        EventKind::PeerLeft { reason, .. } => Some(*reason),
        _ => None,
    });
    assert_eq!(reason, LeaveReason::Closed);
}

#[test]
fn a_stopped_lossless_session_writes_out_what_is_queued() {
    const LEN: usize = 32 * 1024 * 1024;
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let session = lossless_client(listener.local_addr().expect("address"), Delivery::Lossless);
    let (stream, _) = accept_within(&listener);
    let reader = drain_in_background(stream);
    let events = session.events().clone();
    session.send(Target::Default, vec![1u8; LEN]);
    session.stop();
    assert_eq!(
        reader.join().expect("reader thread"),
        LEN,
        "nothing queued is thrown away"
    );
    let kinds = remaining_events(&events);
    assert!(errors(&kinds).is_empty(), "{kinds:?}");
}

#[test]
fn a_stop_reports_what_a_peer_that_does_not_read_never_got() {
    const LEN: usize = 32 * 1024 * 1024;
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let remote = listener.local_addr().expect("address");
    let session = lossless_client(remote, Delivery::Lossless);
    // Held open and never read.
    let _stream = accept_within(&listener);
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), vec![2u8; LEN]).expect("write the file");
    let events = session.events().clone();
    session.send(Target::Default, vec![1u8; LEN]);
    session.command(Command::SendFile {
        to: Target::Default,
        path: file.path().to_owned(),
    });
    let started = Instant::now();
    session.stop();
    assert!(started.elapsed() < TIMEOUT / 2, "the stop gives up in bounded time");
    let errors = errors(&remaining_events(&events));
    let unsent = errors.iter().find_map(|e| match &**e {
        NetError::Unsent { to, queued } => Some((to.clone(), *queued)),
        _ => None,
    });
    let (to, queued) = unsent.unwrap_or_else(|| panic!("no Unsent error in {errors:?}"));
    assert_eq!(to, remote.to_string());
    assert!(queued > 0 && queued <= LEN, "{queued}");
    let message = errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n");
    assert!(
        message.contains(&format!("cannot send {}: the session stopped", file.path().display())),
        "{message}"
    );
}

#[test]
fn a_window_session_stops_at_once_however_much_is_queued() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let session = lossless_client(listener.local_addr().expect("address"), Delivery::DropWhenBehind);
    let _stream = accept_within(&listener);
    let events = session.events().clone();
    session.send(Target::Default, vec![1u8; 32 * 1024 * 1024]);
    let started = Instant::now();
    session.stop();
    let took = started.elapsed();
    // The lossless drain takes up to 5 s; a window's stop must not wait for it.
    assert!(took.as_secs() < 2, "{took:?}");
    let kinds = remaining_events(&events);
    assert!(matches!(
        kinds.last(),
        Some(EventKind::Closed {
            reason: CloseReason::Stopped
        })
    ));
}

/// The built binary under a file-descriptor limit set by `sh`'s `ulimit`.
#[cfg(unix)]
mod fd_limit {
    use std::io::Write;
    use std::net::{SocketAddr, TcpStream};
    use std::process::Command;

    use crate::support::{read_exactly, skip_unless};
    use crate::wirepad::{Io, Wirepad};

    /// More clients than 32 descriptors hold, with the server's own.
    const CLIENTS: usize = 48;

    /// An echo server; `ulimit` is the `sh` option that sets the limit, e.g. `-n` (soft and hard) or `-S -n`
    /// (soft only).
    fn server(ulimit: &str) -> (Wirepad, SocketAddr) {
        let ulimit = format!("{ulimit} 32");
        let io = Io {
            ulimit: Some(&ulimit),
            ..Io::default()
        };
        let wirepad = Wirepad::start_with(&["tcp-server", "127.0.0.1:0", "--echo", "--quit-after-secs", "60"], io);
        let addr = wirepad.ready("listening on ");
        (wirepad, addr)
    }

    fn echoes(stream: &mut TcpStream, i: usize) {
        let message = format!("client {i}\n");
        stream.write_all(message.as_bytes()).expect("write");
        assert_eq!(read_exactly(stream, message.len()), message.as_bytes(), "client {i}");
    }

    #[test]
    fn clients_waiting_while_descriptors_ran_out_are_accepted_once_some_are_free() {
        let (server, addr) = server("-n");
        let mut clients: Vec<TcpStream> = (0..CLIENTS)
            .map(|_| TcpStream::connect(addr).expect("connect (the backlog takes it)"))
            .collect();
        let mut seen = server.stderr_until("cannot accept");
        // The first clients take every free descriptor; the rest wait in the backlog.
        let waiting = clients.split_off(CLIENTS * 2 / 3);
        drop(clients);
        for (i, mut stream) in waiting.into_iter().enumerate() {
            echoes(&mut stream, i);
        }
        // Every line it ever wrote, so a second report cannot come after the count.
        seen.extend(server.kill().stderr);
        let reports = seen.iter().filter(|line| line.contains("cannot accept")).count();
        assert_eq!(reports, 1, "one report for the whole shortage: {seen:#?}");
    }

    #[test]
    fn the_soft_limit_on_open_files_is_raised_to_the_hard_one() {
        let hard = Command::new("sh")
            .args(["-c", "ulimit -H -n"])
            .output()
            .expect("sh runs");
        let hard = String::from_utf8_lossy(&hard.stdout).trim().to_owned();
        let raisable = !hard.parse::<usize>().is_ok_and(|hard| hard < 2 * CLIENTS);
        if !skip_unless(
            raisable,
            "the_soft_limit_on_open_files_is_raised_to_the_hard_one",
            &format!("a hard limit of {hard} open files leaves nothing to raise the soft one to"),
        ) {
            return;
        }
        let (server, addr) = server("-S -n");
        let mut clients: Vec<TcpStream> = (0..CLIENTS)
            .map(|_| TcpStream::connect(addr).expect("connect"))
            .collect();
        for (i, stream) in clients.iter_mut().enumerate() {
            echoes(stream, i);
        }
        let lines = server.kill().stderr;
        assert!(!lines.iter().any(|line| line.contains("cannot accept")), "{lines:#?}");
    }
}

fn echo_server() -> Tap {
    start_with(server_mode("127.0.0.1:0"), |c| c.echo = true)
}

/// Byte `i` of what the slow client sends.
fn pattern(i: usize) -> u8 {
    (i % 251) as u8 ^ (i >> 16) as u8
}

/// A client that sends and does not read its echo: its queue fills to the bound, then the worker stops reading
/// *it* (its writes stall), other clients go on, a send into the full queue is refused whole, and once the client
/// reads it gets every byte back.
#[test]
fn an_echo_client_that_does_not_read_is_slowed_not_dropped() {
    const TOTAL: usize = 48 << 20;
    const CHUNK: usize = 64 << 10;
    let mut session = echo_server();
    let addr = session.local_addr().expect("bound");
    // Small buffers on the client's side, so what the kernels hold is far below TOTAL.
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    socket.set_recv_buffer_size(64 << 10).expect("SO_RCVBUF");
    socket.set_send_buffer_size(64 << 10).expect("SO_SNDBUF");
    socket.connect(&addr.into()).expect("connect");
    let mut slow = TcpStream::from(socket);
    let slow_peer = slow.local_addr().expect("local");
    let writer = {
        let mut slow = slow.try_clone().expect("clone");
        thread::spawn(move || {
            // A write that makes no progress for 2 s shows the server has stopped reading this client.
            slow.set_write_timeout(Some(std::time::Duration::from_secs(2)))
                .expect("timeout");
            let mut sent = 0;
            while sent < TOTAL {
                let chunk: Vec<u8> = (sent..sent + CHUNK).map(pattern).collect();
                match slow.write(&chunk) {
                    Ok(n) => sent += n,
                    Err(_) => break,
                }
            }
            sent
        })
    };
    let sent = writer.join().expect("writer");
    assert!(
        sent < TOTAL,
        "the server read all {sent} bytes of a client that reads nothing"
    );
    // Another client is served meanwhile.
    let mut other = TcpStream::connect(addr).expect("connect");
    for round in 0..20u8 {
        other.write_all(&[round; 10]).expect("write");
        assert_eq!(read_exactly(&mut other, 10), [round; 10]);
    }
    // The slow client's queue is full: a send is refused whole, not cut.
    session.send(Target::Peer(slow_peer), vec![0xFFu8; 100]);
    let refused = wait_for(&mut session, "the send to be refused", |_, kind| match kind {
        EventKind::Error(e) => Some(e.clone()),
        _ => None,
    });
    assert!(
        matches!(*refused, NetError::SendQueueFull { addr, .. } if addr == slow_peer),
        "{refused}"
    );
    // Every byte comes back, in order, and nothing else.
    let echoed = read_exactly(&mut slow, sent);
    let wrong = (0..sent).find(|&i| echoed[i] != pattern(i));
    assert_eq!(wrong, None, "echo differs from what was sent");
    assert!(
        stays_silent(&mut slow, std::time::Duration::from_millis(200)),
        "nothing more arrives"
    );
}

/// A lossless session (the command line) whose consumer has stopped taking events (stdout not read): the flooding
/// client is paused until the consumer catches up, but another client still joins, gets its echo at once, and when
/// it half-closes gets every reply before the end. Nothing the flooder sent is lost to the consumer.
#[test]
fn a_stalled_consumer_pauses_only_the_peer_it_is_behind_on() {
    const TOTAL: usize = 64 << 20;
    const CHUNK: usize = 64 << 10;
    const SMALL: usize = 200_000;
    let mut session = start_with(server_mode("127.0.0.1:0"), |c| {
        c.echo = true;
        c.delivery = Delivery::Lossless;
    });
    let addr = session.local_addr().expect("bound");
    let flooder = TcpStream::connect(addr).expect("connect");
    let flooder_peer = flooder.local_addr().expect("local");
    // It reads its echo, so only the consumer can hold it back.
    let echo_reader = drain_in_background(flooder.try_clone().expect("clone"));
    let writer = {
        let mut flooder = flooder.try_clone().expect("clone");
        thread::spawn(move || {
            flooder
                .set_write_timeout(Some(std::time::Duration::from_secs(2)))
                .expect("timeout");
            let chunk = vec![5u8; CHUNK];
            let mut sent = 0;
            while sent < TOTAL {
                match flooder.write(&chunk) {
                    Ok(n) => sent += n,
                    Err(_) => break,
                }
            }
            sent
        })
    };
    let sent = writer.join().expect("writer");
    assert!(sent < TOTAL, "nobody takes the events, yet all {sent} bytes were read");
    // The consumer still takes nothing: the other client is served by the worker alone.
    let mut other = TcpStream::connect(addr).expect("connect");
    let message: Vec<u8> = (0..SMALL).map(|i| (i % 253) as u8).collect();
    other.write_all(&message).expect("write");
    other.shutdown(Shutdown::Write).expect("half-close");
    assert!(read_exactly(&mut other, SMALL) == message, "the echo arrives in full");
    // Now the consumer catches up: every byte of the flooder reaches it, and both clients are closed.
    flooder.shutdown(Shutdown::Write).expect("half-close");
    let (mut shown, mut left) = (0, 0);
    wait_for(&mut session, "every byte and the end of both clients", |_, kind| {
        match kind {
            EventKind::Received { peer, bytes } if *peer == flooder_peer => shown += bytes.len(),
            EventKind::PeerLeft { .. } => left += 1,
            _ => {}
        }
        (left == 2).then_some(())
    });
    assert_eq!(shown, sent, "the consumer is given every byte the flooder sent");
    assert!(read_to_end_or_reset(&mut other).is_empty(), "nothing after the echo");
    assert_eq!(
        echo_reader.join().expect("echo reader"),
        sent,
        "the flooder's echo is whole"
    );
}
