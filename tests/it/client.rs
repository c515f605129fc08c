//! Names resolved off the worker thread: sessions given `localhost:PORT`, on 127.0.0.1, port 0, every wait bounded.
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, UdpSocket};

use wirepad::net::{Command, EventKind, Group, Target};

use crate::support::*;

fn udp_to(remote: String) -> Tap {
    start(udp_mode("127.0.0.1:0", Some(remote), false))
}

fn peer() -> UdpSocket {
    let peer = UdpSocket::bind("127.0.0.1:0").expect("bind");
    peer.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    peer
}

fn datagram(socket: &UdpSocket) -> String {
    let mut buf = [0; 64];
    let (n, _) = socket.recv_from(&mut buf).expect("a datagram in time");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

fn remote_changed(session: &mut Tap) -> SocketAddr {
    wait_for(session, "the remote to change", |_, kind| match kind {
        EventKind::RemoteChanged { remote } => Some(*remote),
        _ => None,
    })
}

#[test]
fn udp_sends_made_while_its_remote_name_resolves_reach_it() {
    let peer = peer();
    let port = peer.local_addr().expect("addr").port();
    let mut session = udp_to(format!("localhost:{port}"));
    // At once: the lookup has hardly started, so the send waits for it rather than failing.
    session.send(Target::Default, &b"early"[..]);
    assert_eq!(datagram(&peer), "early");
    // An IPv4 socket prefers localhost's IPv4 address.
    assert_eq!(remote_changed(&mut session), peer.local_addr().expect("addr"));
}

#[test]
fn udp_set_remote_to_a_name_applies_to_the_sends_after_it() {
    let old = peer();
    let new = peer();
    let new_port = new.local_addr().expect("addr").port();
    let mut session = udp_to(old.local_addr().expect("addr").to_string());
    session.command(Command::SetRemote(format!("localhost:{new_port}")));
    session.send(Target::Default, &b"to the new one"[..]);
    assert_eq!(datagram(&new), "to the new one");
    assert_eq!(remote_changed(&mut session), new.local_addr().expect("addr"));
    // Had the send gone to the old remote, it would be there before this.
    session.send(Target::Peer(old.local_addr().expect("addr")), &b"probe"[..]);
    assert_eq!(datagram(&old), "probe");
}

#[test]
fn udp_set_remote_that_fails_to_resolve_keeps_the_old_remote() {
    let old = peer();
    let mut session = udp_to(old.local_addr().expect("addr").to_string());
    // No port: the lookup fails without asking any name server.
    session.command(Command::SetRemote("localhost".into()));
    session.send(Target::Default, &b"still to the old one"[..]);
    let error = wait_for(&mut session, "an error", |_, kind| match kind {
        EventKind::Error(e) => Some(e.to_string()),
        _ => None,
    });
    assert!(error.starts_with("cannot resolve localhost:"), "{error}");
    assert_eq!(datagram(&old), "still to the old one");
}

#[test]
fn tcp_client_resolves_its_name_again_for_each_reconnect() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut session = start(client_mode(format!("localhost:{}", addr.port()), true));
    let (first, _) = accept_within(&listener);
    // The server closes the connection but keeps listening: rebinding its port after a drop could find it taken
    // (another test's connection, or the client's own retry connecting to itself).
    drop(first);
    wait_for(&mut session, "a retry", |_, kind| {
        matches!(kind, EventKind::Reconnecting { .. }).then_some(())
    });
    let (mut second, _) = accept_within(&listener);
    let peer = wait_for(&mut session, "reconnected", |_, kind| match kind {
        EventKind::Connected { peer, .. } => Some(*peer),
        _ => None,
    });
    assert_eq!(peer, addr);
    session.send(Target::Default, &b"back"[..]);
    assert_eq!(read_exactly(&mut second, 4), b"back");
}

#[test]
fn joining_a_group_is_an_error_for_a_tcp_session() {
    let mut session = start(server_mode("127.0.0.1:0"));
    session.command(Command::Join(Group {
        addr: IpAddr::V4(Ipv4Addr::new(239, 1, 2, 3)),
        interface: 0,
    }));
    let error = wait_for(&mut session, "an error", |_, kind| match kind {
        EventKind::Error(e) => Some(e.to_string()),
        _ => None,
    });
    assert!(
        error.contains("only a UDP session can join multicast groups"),
        "{error}"
    );
}
