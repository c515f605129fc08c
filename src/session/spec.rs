//! A session as the window and the command line describe it. Each front end reads its own input (the window's
//! text fields in a `Form`, the command line's arguments) into a `Mode`; the engine's `SessionConfig` is made
//! from that in one place, with one set of defaults and one multicast group parser.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::net::tls::TlsSpec;
use crate::net::{Delivery, Group, Kind, Mode, Parts, RemoteUse, SessionConfig};

impl Mode {
    /// The engine's configuration; the rest of it (capture, echo, what received data is delivered as) is each
    /// front end's own.
    pub fn config(self, delivery: Delivery) -> SessionConfig {
        SessionConfig {
            delivery,
            ..SessionConfig::new(self)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GroupError {
    #[error("the interface index \"{0}\" is not a number")]
    Interface(String),
    #[error("\"{0}\" is not an IP address")]
    Address(String),
    #[error("{0} is not a multicast address")]
    NotMulticast(IpAddr),
    #[error("%IFINDEX is for IPv6 groups only")]
    InterfaceOnIpv4,
}

/// GROUP: an IPv4 or IPv6 multicast address; IPv6 may name its interface by index, `ff02::1%3` (what `Group`'s
/// `Display` writes).
pub fn parse_group(text: &str) -> Result<Group, GroupError> {
    let (addr, interface) = match text.split_once('%') {
        Some((addr, index)) => {
            let index = index
                .parse::<u32>()
                .map_err(|_| GroupError::Interface(index.to_owned()))?;
            (addr, index)
        }
        None => (text, 0),
    };
    let addr: IpAddr = addr.parse().map_err(|_| GroupError::Address(addr.to_owned()))?;
    if !addr.is_multicast() {
        return Err(GroupError::NotMulticast(addr));
    }
    if addr.is_ipv4() && interface != 0 {
        return Err(GroupError::InterfaceOnIpv4);
    }
    Ok(Group { addr, interface })
}

/// The window's connection fields as typed (only those of `mode` are looked at).
#[derive(Debug, Clone, Copy)]
pub struct Form<'a> {
    pub kind: Kind,
    pub local_ip: &'a str,
    pub local_port: &'a str,
    pub remote_host: &'a str,
    pub remote_port: &'a str,
    pub reconnect: bool,
    pub follow_peer: bool,
    pub broadcast: bool,
    pub multicast_group: &'a str,
}

/// The form field an error belongs to, so the window can show it beside that field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    LocalIp,
    LocalPort,
    RemoteHost,
    RemotePort,
    MulticastGroup,
    Interval,
    Count,
    Tls(TlsField),
    /// A field of a relay's second TLS block: its upstream leg's.
    UpstreamTls(TlsField),
}

/// A field of a TLS settings block (`gui::ui::tls`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsField {
    /// A server's certificate and key.
    Cert,
    Key,
    /// A client's trust anchors.
    Ca,
    /// The CA a server checks client certificates against.
    ClientCa,
    Sni,
    Alpn,
    /// A client's certificate and key for mutual TLS.
    ClientCert,
    ClientKey,
    Versions,
    /// The block as a whole (a self-signed certificate that could not be made).
    Whole,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    Port,
    /// A remote port cannot be 0.
    RemotePort,
    Ip,
    Host,
    Group,
    Number,
    /// One file of a certificate and key pair is given without the other.
    HalfPair,
    /// Client certificates are required but no CA checks them.
    NeedsCa,
    /// Not a name a server certificate can be for (SNI).
    ServerName,
    /// An ALPN protocol is empty or longer than 255 bytes.
    Alpn,
}

pub type FieldErrors = Vec<(Field, Invalid)>;

impl Form<'_> {
    /// `host:port` of the remote fields.
    pub fn remote(&self) -> String {
        join_host_port(self.remote_host.trim(), self.remote_port.trim())
    }

    /// Checks every field the kind uses. Errors name their field, so each shows beside it.
    pub fn mode(&self) -> Result<Mode, FieldErrors> {
        self.mode_with(None, None)
    }

    /// As `mode`, speaking TLS with `tls` where the kind can (`Caps::tls`), and with `tls_upstream` to the
    /// upstream of a kind that has one (`Caps::tls_upstream`).
    pub fn mode_with(&self, tls: Option<TlsSpec>, tls_upstream: Option<TlsSpec>) -> Result<Mode, FieldErrors> {
        let caps = self.kind.caps();
        let mut errors = Vec::new();
        let local_ip = check(&mut errors, Field::LocalIp, parse_ip(self.local_ip));
        let local_port = check(&mut errors, Field::LocalPort, parse_port(self.local_port));
        let local = local_ip.zip(local_port).map(|(ip, port)| SocketAddr::new(ip, port));
        let remote_given = match caps.remote {
            RemoteUse::None => false,
            RemoteUse::Required => true,
            RemoteUse::Optional => !self.remote_host.trim().is_empty(),
        };
        let remote = remote_given.then(|| {
            let host = check(&mut errors, Field::RemoteHost, check_host(self.remote_host));
            let port = check(&mut errors, Field::RemotePort, remote_port(self.remote_port));
            host.zip(port).map(|_| self.remote())
        });
        let groups = match self.multicast_group.trim() {
            text if !caps.multicast || text.is_empty() => Some(vec![]),
            text => check(
                &mut errors,
                Field::MulticastGroup,
                parse_group(text).map_err(|_| Invalid::Group),
            )
            .map(|group| vec![group]),
        };
        let (Some(local), Some(groups)) = (local, groups) else {
            return Err(errors);
        };
        let parts = Parts {
            local: Some(local),
            remote: remote.flatten(),
            max_clients: None,
            reconnect: self.reconnect && caps.reconnects,
            follow_peer: self.follow_peer && caps.follows_peer,
            broadcast: self.broadcast && caps.multicast,
            groups,
            tls: tls.filter(|_| caps.tls),
            tls_upstream: tls_upstream.filter(|_| caps.tls_upstream()),
        };
        match Mode::from_parts(self.kind, parts) {
            Some(mode) if errors.is_empty() => Ok(mode),
            _ => Err(errors),
        }
    }
}

fn check<T>(errors: &mut FieldErrors, field: Field, value: Result<T, Invalid>) -> Option<T> {
    value.map_err(|invalid| errors.push((field, invalid))).ok()
}

fn parse_port(text: &str) -> Result<u16, Invalid> {
    text.trim().parse::<u16>().map_err(|_| Invalid::Port)
}

/// Nobody listens on port 0: a remote needs a real one.
fn remote_port(text: &str) -> Result<u16, Invalid> {
    match parse_port(text)? {
        0 => Err(Invalid::RemotePort),
        port => Ok(port),
    }
}

fn parse_ip(text: &str) -> Result<IpAddr, Invalid> {
    text.trim().parse::<IpAddr>().map_err(|_| Invalid::Ip)
}

/// A host name or an IP address; something that looks like a dotted IPv4 address must be one (300.1.1.1 is not).
fn check_host(text: &str) -> Result<(), Invalid> {
    let host = text.trim();
    let looks_numeric = host.chars().all(|c| c.is_ascii_digit() || c == '.');
    let valid = if looks_numeric {
        host.parse::<Ipv4Addr>().is_ok()
    } else if host.contains(':') {
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<Ipv6Addr>()
            .is_ok()
    } else {
        !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.' || c == '_')
    };
    if valid {
        Ok(())
    } else {
        Err(if looks_numeric { Invalid::Ip } else { Invalid::Host })
    }
}

/// `host:port`, with an IPv6 host in brackets.
pub fn join_host_port(host: &str, port: &str) -> String {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{tcp_client, udp};

    fn addr(text: &str) -> SocketAddr {
        text.parse().expect(text)
    }

    fn group(addr: &str, interface: u32) -> Group {
        Group {
            addr: addr.parse().expect(addr),
            interface,
        }
    }

    #[test]
    fn groups() {
        assert_eq!(parse_group("239.1.2.3"), Ok(group("239.1.2.3", 0)));
        assert_eq!(parse_group("ff02::1"), Ok(group("ff02::1", 0)));
        assert_eq!(parse_group("ff02::1%3"), Ok(group("ff02::1", 3)));
        let cases = [
            ("10.0.0.1", "10.0.0.1 is not a multicast address"),
            ("239.1.2.3%2", "%IFINDEX is for IPv6 groups only"),
            ("ff02::1%eth0", "the interface index \"eth0\" is not a number"),
            ("nonsense", "\"nonsense\" is not an IP address"),
        ];
        for (bad, reason) in cases {
            assert_eq!(
                parse_group(bad).map_err(|e| e.to_string()),
                Err(reason.into()),
                "{bad:?}"
            );
        }
        // What `Display` writes reads back as the same group.
        for text in ["239.1.2.3", "ff02::1", "ff02::1%3"] {
            let parsed = parse_group(text).expect(text);
            assert_eq!(parsed.to_string(), text);
        }
    }

    #[test]
    fn udp_binds_the_family_of_its_remote_or_group() {
        let bind = |remote: Option<&str>, groups: &[Group]| udp::default_bind(remote, groups).to_string();
        assert_eq!(bind(Some("[::1]:9"), &[]), "[::]:0");
        assert_eq!(bind(None, &[group("ff02::1", 0)]), "[::]:0");
        assert_eq!(bind(Some("localhost:9"), &[]), "0.0.0.0:0");
        assert_eq!(bind(Some("127.0.0.1:9"), &[group("239.1.2.3", 0)]), "0.0.0.0:0");
    }

    #[test]
    fn defaults_are_filled_in_once() {
        let client = Mode::from_parts(
            Kind::TcpClient,
            Parts {
                remote: Some("h:1".into()),
                reconnect: true,
                ..Parts::default()
            },
        )
        .expect("client");
        assert_eq!(
            client.clone().config(Delivery::Lossless).mode,
            Mode::TcpClient(tcp_client::Config {
                remote: "h:1".into(),
                bind: None,
                reconnect: true,
                connect_timeout: tcp_client::CONNECT_TIMEOUT,
                tls: None,
            })
        );
        let udp = Mode::from_parts(
            Kind::Udp,
            Parts {
                remote: Some("[::1]:9".into()),
                ..Parts::default()
            },
        )
        .expect("udp");
        let config = udp.config(Delivery::DropWhenBehind);
        assert_eq!(config.delivery, Delivery::DropWhenBehind);
        assert!(matches!(config.mode, Mode::Udp(udp::Config { bind, .. }) if bind == addr("[::]:0")));
    }

    fn form(kind: Kind) -> Form<'static> {
        Form {
            kind,
            local_ip: "0.0.0.0",
            local_port: "0",
            remote_host: "127.0.0.1",
            remote_port: "7",
            reconnect: false,
            follow_peer: false,
            broadcast: false,
            multicast_group: "",
        }
    }

    #[test]
    fn a_client_on_any_local_address_binds_nothing() {
        let bind = |local_ip, local_port| match (Form {
            local_ip,
            local_port,
            ..form(Kind::TcpClient)
        })
        .mode()
        {
            Ok(Mode::TcpClient(client)) => client.bind,
            other => panic!("{other:?}"),
        };
        assert_eq!(bind("0.0.0.0", "0"), None);
        assert_eq!(bind(" 0.0.0.0 ", " 5000 "), Some(addr("0.0.0.0:5000")));
        assert_eq!(bind("127.0.0.1", "0"), Some(addr("127.0.0.1:0")));
    }

    #[test]
    fn a_window_group_is_checked_by_the_one_parser() {
        let udp = |group| {
            Form {
                multicast_group: group,
                ..form(Kind::Udp)
            }
            .mode()
        };
        assert_eq!(
            udp("239.1.2.3%2"),
            Err(vec![(Field::MulticastGroup, Invalid::Group)]),
            "an interface index is for IPv6 only, as on the command line"
        );
        match udp(" ff02::1%3 ") {
            Ok(Mode::Udp(udp::Config { groups, remote, .. })) => {
                assert_eq!(groups, vec![group("ff02::1", 3)]);
                assert_eq!(remote.as_deref(), Some("127.0.0.1:7"));
            }
            other => panic!("{other:?}"),
        }
    }
}
