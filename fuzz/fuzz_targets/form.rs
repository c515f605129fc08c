//! The connection fields as the window's settings hold them, checked by the window-free `Form`: any text in any
//! field gives an endpoint or names the fields in error, never a panic; an endpoint makes a session config without
//! one; a multicast group that parses prints back to itself. Fields are the input split at NUL bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wirepad::net::Delivery;
use wirepad::session::spec::{Form, ModeKind, parse_group};

const MODES: [ModeKind; 3] = [ModeKind::TcpServer, ModeKind::TcpClient, ModeKind::Udp];

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let mut fields = text.split('\0');
    let mut field = || fields.next().unwrap_or("");
    let form = Form {
        mode: MODES[usize::from(choice) % MODES.len()],
        local_ip: field(),
        local_port: field(),
        remote_host: field(),
        remote_port: field(),
        reconnect: choice & 0x10 != 0,
        follow_peer: choice & 0x20 != 0,
        broadcast: choice & 0x40 != 0,
        multicast_group: field(),
    };
    match form.endpoint() {
        Ok(endpoint) => {
            let _ = endpoint.config(Delivery::DropWhenBehind);
            let _ = endpoint.datagram_limit();
        }
        Err(errors) => assert!(!errors.is_empty(), "{form:?}: refused without naming a field"),
    }
    if let Ok(group) = parse_group(form.multicast_group) {
        assert_eq!(parse_group(&group.to_string()), Ok(group), "{form:?}");
    }
});
