//! The connection fields as the window's settings hold them, checked by the window-free `Form`: any text in any
//! field gives a session of the form's kind or names the fields in error, never a panic; the session gives back the
//! fields it was made from and makes a session config; a multicast group that parses prints back to itself. Fields
//! are the input split at NUL bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wirepad::net::{Delivery, Kind, Mode};
use wirepad::session::spec::{Form, parse_group};

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let mut fields = text.split('\0');
    let mut field = || fields.next().unwrap_or("");
    let form = Form {
        kind: Kind::ALL[usize::from(choice) % Kind::ALL.len()],
        local_ip: field(),
        local_port: field(),
        remote_host: field(),
        remote_port: field(),
        reconnect: choice & 0x10 != 0,
        follow_peer: choice & 0x20 != 0,
        broadcast: choice & 0x40 != 0,
        multicast_group: field(),
    };
    match form.mode() {
        Ok(mode) => {
            assert_eq!(mode.kind(), form.kind, "{form:?}");
            assert_eq!(
                Mode::from_parts(form.kind, mode.parts()).as_ref(),
                Some(&mode),
                "{form:?}"
            );
            let _ = mode.datagram_limit();
            let _ = mode.config(Delivery::DropWhenBehind);
        }
        Err(errors) => assert!(!errors.is_empty(), "{form:?}: refused without naming a field"),
    }
    if let Ok(group) = parse_group(form.multicast_group) {
        assert_eq!(parse_group(&group.to_string()), Ok(group), "{form:?}");
    }
});
