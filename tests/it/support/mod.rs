//! Helpers shared by the integration tests. Every wait has a deadline.
#![allow(dead_code)]
mod eventually;
mod skip;

use std::collections::VecDeque;
use std::io::{ErrorKind, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wirepad::net::{Event, EventKind, Mode, Notify, Session, SessionConfig, tcp_client, tcp_server, udp};

pub use eventually::eventually;
pub use skip::skip_unless;

pub const TIMEOUT: Duration = Duration::from_secs(20);

pub fn no_notify() -> Notify {
    Arc::new(|| {})
}

/// A TCP server on `listen` with no client limit.
pub fn server_mode(listen: &str) -> Mode {
    Mode::TcpServer(tcp_server::Config {
        listen: listen.parse().expect("address"),
        max_clients: None,
        tls: None,
    })
}

/// A TCP client of `remote` (an address or a name), bound to nothing, giving up on a connect after `TIMEOUT`.
pub fn client_mode(remote: impl ToString, reconnect: bool) -> Mode {
    Mode::TcpClient(tcp_client::Config {
        remote: remote.to_string(),
        bind: None,
        reconnect,
        connect_timeout: TIMEOUT,
        tls: None,
    })
}

/// A UDP session on `bind`, neither broadcasting nor in a group.
pub fn udp_mode(bind: &str, remote: Option<String>, follow_peer: bool) -> Mode {
    Mode::Udp(udp::Config {
        bind: bind.parse().expect("address"),
        remote,
        follow_peer,
        broadcast: false,
        groups: vec![],
    })
}

/// `SessionConfig::new(mode)` changed by `edit`: a test states only what differs from the defaults.
pub fn config(mode: Mode, edit: impl FnOnce(&mut SessionConfig)) -> SessionConfig {
    let mut config = SessionConfig::new(mode);
    edit(&mut config);
    config
}

pub fn start_with(mode: Mode, edit: impl FnOnce(&mut SessionConfig)) -> Tap {
    Tap::new(Session::start(config(mode, edit), no_notify()).expect("session starts"))
}

pub fn start(mode: Mode) -> Tap {
    start_with(mode, |_| {})
}

/// A session whose events are read one at a time: what one wait does not take stays for the next.
pub struct Tap {
    session: Session,
    backlog: VecDeque<Event>,
}

impl Tap {
    pub fn new(session: Session) -> Self {
        Tap {
            session,
            backlog: VecDeque::new(),
        }
    }

    pub fn stop(self) {
        self.session.stop();
    }

    fn next(&mut self, deadline: Instant) -> Option<Event> {
        while self.backlog.is_empty() {
            let left = deadline.checked_duration_since(Instant::now())?;
            self.backlog.extend(self.session.events().recv_timeout(left).ok()?);
        }
        self.backlog.pop_front()
    }
}

impl Deref for Tap {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.session
    }
}

/// Waits for the first event `pick` accepts; panics with what was seen instead.
pub fn wait_for<T>(tap: &mut Tap, what: &str, mut pick: impl FnMut(&Session, &EventKind) -> Option<T>) -> T {
    let deadline = Instant::now() + TIMEOUT;
    let mut seen = Vec::new();
    while let Some(event) = tap.next(deadline) {
        if let Some(found) = pick(&tap.session, &event.kind) {
            return found;
        }
        seen.push(format!("{:?}", event.kind).chars().take(200).collect::<String>());
    }
    panic!("timed out waiting for {what}; saw: {seen:#?}");
}

/// Collects received bytes (all peers) until `len` have arrived.
pub fn receive_bytes(tap: &mut Tap, len: usize) -> Vec<u8> {
    let mut got = Vec::new();
    wait_for(tap, &format!("{len} received bytes"), |_, kind| {
        if let EventKind::Received { bytes, .. } = kind {
            got.extend_from_slice(bytes);
        }
        (got.len() >= len).then_some(())
    });
    got
}

pub fn read_exactly(stream: &mut TcpStream, len: usize) -> Vec<u8> {
    stream.set_read_timeout(Some(TIMEOUT)).expect("read timeout");
    let mut buf = vec![0; len];
    stream
        .read_exact(&mut buf)
        .expect("peer sends the expected bytes in time");
    buf
}

/// `true` if nothing arrives within `wait` (used only to show that something was *not* sent).
pub fn stays_silent(stream: &mut TcpStream, wait: Duration) -> bool {
    stream.set_read_timeout(Some(wait)).expect("read timeout");
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
    }
}

/// Accepts one connection, waiting no longer than `TIMEOUT` (a std listener has no accept timeout).
pub fn accept_within(listener: &TcpListener) -> (TcpStream, SocketAddr) {
    let listener = listener.try_clone().expect("clone listener");
    let (tx, rx) = crossbeam_channel::bounded(1);
    // On a timeout this thread stays blocked in accept; the test has failed by then.
    std::thread::spawn(move || {
        let _ = tx.send(listener.accept());
    });
    rx.recv_timeout(TIMEOUT)
        .expect("a connection arrives in time")
        .expect("accept")
}

/// Everything the peer sends until it closes; panics if it does not close normally within `TIMEOUT`.
pub fn read_to_end(stream: &mut TcpStream) -> Vec<u8> {
    read_until_end(stream, false)
}

/// What a connection yields until it ends, treating a reset or abort as the end; panics if it
/// neither closes nor resets within `TIMEOUT`.
pub fn read_to_end_or_reset(stream: &mut TcpStream) -> Vec<u8> {
    read_until_end(stream, true)
}

fn read_until_end(stream: &mut TcpStream, reset_ends: bool) -> Vec<u8> {
    stream.set_read_timeout(Some(TIMEOUT)).expect("read timeout");
    let mut bytes = Vec::new();
    match stream.read_to_end(&mut bytes) {
        Ok(_) => {}
        Err(e) if reset_ends && matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted) => {}
        Err(e) => panic!("the connection did not end in time: {e}"),
    }
    bytes
}
