//! Peers that try to make the engine hold memory or sockets (issue 21): clients that send and never read, replies
//! that are delayed, partial messages that never end, clients that close. Real sockets on loopback, port 0.
use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use socket2::{Domain, Socket, Type};
use wirepad::automation::rules::Rules;
use wirepad::codec::text::TextEncoding;
use wirepad::net::{AutoEvent, EventKind, RuleHits};

use crate::support::*;

/// A server answering each line with `rules` (file text); `consumer_replies` as the command line without `--stdin`
/// says (false) or the window (true).
fn line_server(rules: &str, consumer_replies: bool) -> Tap {
    start_with(server_mode("127.0.0.1:0"), |config| {
        config.framing = "line".parse().expect("framing");
        config.rules = Some(Rules::parse(rules, TextEncoding::UTF8).expect("rules"));
        config.consumer_replies = consumer_replies;
    })
}

/// A client with a small receive buffer (set before connecting, so the window it offers stays small): what it does
/// not read soon backs up into the server's queue.
fn slow_client(addr: SocketAddr) -> TcpStream {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    socket.set_recv_buffer_size(16 * 1024).expect("SO_RCVBUF");
    socket.connect(&addr.into()).expect("connect");
    socket.into()
}

fn hits(session: &mut Tap) -> Arc<RuleHits> {
    wait_for(session, "the rules' hit counts", |_, kind| match kind {
        EventKind::Automation(AutoEvent::Rules { hits }) => Some(hits.clone()),
        _ => None,
    })
}

/// Waits until `n` messages have been cut (one `Received` event each): the worker has handled every read of them.
fn messages_cut(session: &mut Tap, n: usize) {
    let mut seen = 0;
    wait_for(session, &format!("{n} messages"), |_, kind| {
        seen += usize::from(matches!(kind, EventKind::Received { .. }));
        (seen == n).then_some(())
    });
}

fn rule_with_reply(len: usize, delay_ms: u64) -> String {
    format!(
        "[[rule]]\nmatch = \"x\"\nreply = \"{}\"\ndelay_ms = {delay_ms}\n",
        "R".repeat(len)
    )
}

/// Finding 1: 2,000 lines read at once, each answered with 16 KiB, to a client that does not read. The replies are
/// made only as the queue has room (4 MiB, plus what the kernel's buffers took), not all 32 MiB at once; the other
/// messages wait, and every reply arrives once the client reads.
#[test]
fn rules_answer_a_client_that_does_not_read_only_as_its_queue_has_room() {
    const LINES: usize = 2000;
    const REPLY: usize = 16 * 1024;
    let mut session = line_server(&rule_with_reply(REPLY, 0), false);
    let hits = hits(&mut session);
    let mut client = slow_client(session.local_addr().expect("bound"));
    client.write_all(&b"x\n".repeat(LINES)).expect("write");
    messages_cut(&mut session, LINES);
    let answered = hits.snapshot()[0];
    assert!(
        answered < 1000,
        "{answered} of {LINES} lines answered at once: {} MiB of replies queued",
        (answered as usize * REPLY) >> 20
    );
    let replies = read_exactly(&mut client, LINES * REPLY);
    assert!(replies.iter().all(|&b| b == b'R'));
    assert_eq!(hits.snapshot(), [LINES as u64]);
}

/// Finding 2: 200 replies of 64 KiB, delayed, to a client that reads only after they are due. None is dropped for a
/// full queue: each had its room in the queue when it was made, and lines past that waited to be answered.
#[test]
fn delayed_replies_to_a_client_that_reads_late_all_arrive() {
    const LINES: usize = 200;
    const REPLY: usize = 64 * 1024;
    let mut session = line_server(&rule_with_reply(REPLY, 100), false);
    let mut client = slow_client(session.local_addr().expect("bound"));
    client.write_all(&b"x\n".repeat(LINES)).expect("write");
    // The client reads late: only once the first replies were due and written (the rest of the kernel's room).
    wait_for(&mut session, "a delayed reply written", |_, kind| {
        assert!(!matches!(kind, EventKind::Error(_)), "{kind:?}");
        matches!(kind, EventKind::Sent { .. }).then_some(())
    });
    let replies = read_exactly(&mut client, LINES * REPLY);
    assert!(replies.iter().all(|&b| b == b'R'));
}

/// Finding 2: delayed replies waiting for one peer are bounded by its queue's bound (each counted at what it
/// costs, an empty one too): 100,000 lines with a long delay are not 100,000 pending replies.
#[test]
fn delayed_replies_waiting_for_one_peer_are_bounded() {
    const LINES: usize = 100_000;
    let mut session = line_server("[[rule]]\nmatch = \"x\"\nreply = \"\"\ndelay_ms = 60000\n", false);
    let hits = hits(&mut session);
    let mut client = slow_client(session.local_addr().expect("bound"));
    client.write_all(&b"x\n".repeat(LINES)).expect("write");
    // 32,768 fit the bound (4 MiB at 128 bytes each); the rest of the lines wait, unread, and stay unanswered.
    eventually("the first 30,000 lines answered", TIMEOUT, || {
        (hits.snapshot()[0] >= 30_000).then_some(())
    });
    let watch = std::time::Instant::now() + Duration::from_millis(500);
    while std::time::Instant::now() < watch {
        let pending = hits.snapshot()[0];
        assert!(pending <= 40_000, "{pending} delayed replies pending for one peer");
        std::thread::yield_now();
    }
}

/// Finding 7: partial messages of several peers share one cap (32 MiB): three clients each sending 12 MiB with no
/// line ending get parts handed out before any of them ends a line or leaves.
#[test]
fn partial_messages_of_many_peers_share_one_cap() {
    const EACH: usize = 12 << 20;
    let mut session = start_with(server_mode("127.0.0.1:0"), |config| {
        config.framing = "line".parse().expect("framing");
    });
    let addr = session.local_addr().expect("bound");
    let writers: Vec<_> = (0..3)
        .map(|_| {
            let mut client = TcpStream::connect(addr).expect("connect");
            std::thread::spawn(move || {
                let _ = client.write_all(&vec![b'z'; EACH]);
                client
            })
        })
        .collect();
    let part = wait_for(&mut session, "a part of an unfinished line", |_, kind| match kind {
        EventKind::Received { bytes, .. } => Some(bytes.len()),
        _ => None,
    });
    assert!(part < EACH, "a part, not a whole message: {part}");
    for writer in writers {
        drop(writer.join().expect("writer"));
    }
}

/// Finding 14: a client that half-closes with nothing left to receive (its replies written, no delayed reply, no
/// script, a consumer that cannot answer: the command line without `--stdin`) is closed at once, not kept for the
/// consumer's grace (up to 5 s when, as with `-q`, the consumer is shown nothing).
#[test]
fn a_client_that_closes_with_nothing_owed_is_closed_at_once() {
    let mut session = line_server("[[rule]]\nmatch = \"x\"\nreply = \"y\\n\"\n", false);
    let mut client = TcpStream::connect(session.local_addr().expect("bound")).expect("connect");
    client.write_all(b"x\nx\n").expect("write");
    assert_eq!(read_exactly(&mut client, 4), b"y\ny\n");
    client.shutdown(Shutdown::Write).expect("half-close");
    // The events are not taken meanwhile: the consumer is no reason to wait.
    client.set_read_timeout(Some(Duration::from_secs(2))).expect("timeout");
    let mut rest = Vec::new();
    std::io::Read::read_to_end(&mut client, &mut rest).expect("closed well before the 5 s linger");
    assert!(rest.is_empty());
    wait_for(&mut session, "the client to leave", |_, kind| {
        matches!(kind, EventKind::PeerLeft { .. }).then_some(())
    });
}

/// The window's send box may still answer a half-closed client: it is kept open until the window took its bytes.
#[test]
fn a_half_closed_client_stays_open_for_a_consumer_that_may_answer() {
    let mut session = line_server("[[rule]]\nmatch = \"x\"\nreply = \"y\\n\"\n", true);
    let mut client = TcpStream::connect(session.local_addr().expect("bound")).expect("connect");
    client.write_all(b"hello\n").expect("write");
    client.shutdown(Shutdown::Write).expect("half-close");
    let peer = client.local_addr().expect("local");
    wait_for(&mut session, "the client's line", |_, kind| {
        matches!(kind, EventKind::Received { .. }).then_some(())
    });
    session.send(wirepad::net::Target::Peer(peer), b"answer".to_vec());
    assert_eq!(read_to_end(&mut client), b"answer");
}
