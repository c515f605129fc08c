//! What the window remembers across restarts, and what its fields mean as a session.
//! Every field has a default (`#[serde(default)]`), so an old or partial settings file still loads.
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::codec::checksum::Checksum;
use crate::codec::text::TextEncoding;
use crate::i18n::Lang;
use crate::net::{Delivery, Group, Mode, SessionConfig};
use crate::persist::Lenient;
use crate::send::{LineEnding, PayloadFormat, PayloadSpec};

const HISTORY: usize = 20;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A day: the longest periodic interval (and far from what a clock can add without overflowing).
pub const MAX_INTERVAL_MS: u64 = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ModeKind {
    TcpClient,
    #[default]
    TcpServer,
    Udp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// `None` follows the system locale.
    pub language: Option<Lang>,
    pub mode: ModeKind,
    pub local_ip: String,
    /// Each mode keeps its own local port, as in NetAssist: a TCP client's is 0 (any) unless the user sets one.
    pub local_ports: LocalPorts,
    pub remote_host: String,
    pub remote_port: String,
    /// `host:port`, most recent first.
    pub remote_history: Vec<String>,
    pub follow_peer: bool,
    pub broadcast: bool,
    pub multicast_group: String,
    pub reconnect: bool,
    pub receive: ReceiveSettings,
    pub send: SendSettings,
    pub quick_commands: Vec<QuickCommand>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            language: None,
            mode: ModeKind::TcpServer,
            local_ip: "0.0.0.0".into(),
            local_ports: LocalPorts::default(),
            remote_host: "127.0.0.1".into(),
            remote_port: "8080".into(),
            remote_history: Vec::new(),
            follow_peer: true,
            broadcast: false,
            multicast_group: String::new(),
            reconnect: false,
            receive: ReceiveSettings::default(),
            send: SendSettings::default(),
            quick_commands: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LocalPorts {
    pub tcp_server: String,
    pub tcp_client: String,
    pub udp: String,
}

impl Default for LocalPorts {
    fn default() -> Self {
        LocalPorts {
            tcp_server: "8080".into(),
            tcp_client: "0".into(),
            udp: "8080".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReceiveSettings {
    pub hex: bool,
    pub encoding: TextEncoding,
    pub log_mode: bool,
    pub show_sent: bool,
    pub wrap: bool,
    /// NetAssist's 接收缓冲大小.
    pub buffer_mib: u32,
}

impl Default for ReceiveSettings {
    fn default() -> Self {
        ReceiveSettings {
            hex: false,
            encoding: TextEncoding::UTF8,
            log_mode: true,
            show_sent: true,
            wrap: true,
            buffer_mib: 64,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SendSettings {
    pub hex: bool,
    pub escapes: bool,
    pub append: LineEnding,
    pub checksum: Option<Checksum>,
    pub interval_ms: String,
    /// Empty or 0: until stopped.
    pub count: String,
    pub text: String,
}

impl Default for SendSettings {
    fn default() -> Self {
        SendSettings {
            hex: false,
            escapes: false,
            append: LineEnding::None,
            checksum: None,
            interval_ms: "1000".into(),
            count: "0".into(),
            text: String::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct QuickCommand {
    pub name: String,
    pub text: String,
    pub hex: bool,
}

/// The settings field an error belongs to, so the window can show it beside that field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    LocalIp,
    LocalPort,
    RemoteHost,
    RemotePort,
    MulticastGroup,
    Interval,
    Count,
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
}

pub type FieldErrors = Vec<(Field, Invalid)>;

impl SendSettings {
    /// How the send box's text becomes bytes.
    pub fn spec(&self, encoding: TextEncoding, hex: bool) -> PayloadSpec {
        let format = if hex {
            PayloadFormat::Hex
        } else {
            PayloadFormat::Text { escapes: self.escapes }
        };
        PayloadSpec {
            format,
            encoding,
            checksum: self.checksum,
            append: self.append,
        }
    }

    /// The periodic schedule: interval (1 ms to a day) and count (`None` = until stopped).
    pub fn schedule(&self) -> Result<(Duration, Option<u64>), FieldErrors> {
        let interval = self
            .interval_ms
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|ms| (1..=MAX_INTERVAL_MS).contains(ms));
        let count = match self.count.trim() {
            "" => Some(0),
            text => text.parse::<u64>().ok(),
        };
        match (interval, count) {
            (Some(ms), Some(n)) => Ok((Duration::from_millis(ms), (n > 0).then_some(n))),
            _ => Err([(interval.is_none(), Field::Interval), (count.is_none(), Field::Count)]
                .into_iter()
                .filter(|(bad, _)| *bad)
                .map(|(_, field)| (field, Invalid::Number))
                .collect()),
        }
    }
}

impl Settings {
    /// A fresh profile: on a Chinese system the text encoding is GBK (what NetAssist shows there), else UTF-8.
    pub fn for_lang(system: Lang) -> Settings {
        let mut settings = Settings::default();
        if system == Lang::Zh {
            settings.receive.encoding = TextEncoding::GBK;
        }
        settings
    }

    /// The settings eframe stored (RON), read field by field over `for_lang(system)`: an unreadable value costs
    /// only itself. `dropped` names what was replaced by its default.
    pub fn load(stored: Option<&str>, system: Lang) -> Lenient<Settings> {
        let defaults = Settings::for_lang(system);
        match stored {
            Some(text) => crate::persist::load(text, defaults),
            None => Lenient {
                value: defaults,
                dropped: Vec::new(),
            },
        }
    }

    /// The local port of the current mode.
    pub fn local_port(&self) -> &str {
        match self.mode {
            ModeKind::TcpServer => &self.local_ports.tcp_server,
            ModeKind::TcpClient => &self.local_ports.tcp_client,
            ModeKind::Udp => &self.local_ports.udp,
        }
    }

    pub fn local_port_mut(&mut self) -> &mut String {
        match self.mode {
            ModeKind::TcpServer => &mut self.local_ports.tcp_server,
            ModeKind::TcpClient => &mut self.local_ports.tcp_client,
            ModeKind::Udp => &mut self.local_ports.udp,
        }
    }

    pub fn remote(&self) -> String {
        join_host_port(self.remote_host.trim(), self.remote_port.trim())
    }

    /// Fills the remote fields from `host:port` (`[v6]:port` too), as history and the command line give it.
    pub fn set_remote(&mut self, remote: &str) {
        if let Some((host, port)) = remote.rsplit_once(':') {
            self.remote_host = host.trim_start_matches('[').trim_end_matches(']').to_string();
            self.remote_port = port.to_string();
        }
    }

    /// Remembers the remote just used, most recent first, without duplicates.
    pub fn remember_remote(&mut self) {
        let remote = self.remote();
        self.remote_history.retain(|r| *r != remote);
        self.remote_history.insert(0, remote);
        self.remote_history.truncate(HISTORY);
    }

    /// Validates every field the mode uses. Errors name their field, so each shows beside it.
    pub fn validate(&self) -> Result<SessionConfig, FieldErrors> {
        let mut errors = Vec::new();
        let local_ip = check(&mut errors, Field::LocalIp, parse_ip(&self.local_ip));
        let local_port = check(&mut errors, Field::LocalPort, parse_port(self.local_port()));
        let local = local_ip.zip(local_port).map(|(ip, port)| SocketAddr::new(ip, port));
        let mode = match self.mode {
            ModeKind::TcpServer => local.map(|listen| Mode::TcpServer {
                listen,
                max_clients: None,
            }),
            ModeKind::TcpClient => {
                let host = check(&mut errors, Field::RemoteHost, check_host(&self.remote_host));
                let port = check(&mut errors, Field::RemotePort, remote_port(&self.remote_port));
                // Port 0 locally means "any": no bind needed.
                let bind = local.filter(|l| l.port() != 0 || !l.ip().is_unspecified());
                host.zip(port).map(|_| Mode::TcpClient {
                    remote: self.remote(),
                    bind,
                    reconnect: self.reconnect,
                    connect_timeout: CONNECT_TIMEOUT,
                })
            }
            ModeKind::Udp => {
                let remote = if self.remote_host.trim().is_empty() {
                    Some(None)
                } else {
                    let host = check(&mut errors, Field::RemoteHost, check_host(&self.remote_host));
                    let port = check(&mut errors, Field::RemotePort, remote_port(&self.remote_port));
                    host.zip(port).map(|_| Some(self.remote()))
                };
                let groups = match self.multicast_group.trim() {
                    "" => Some(vec![]),
                    text => check(&mut errors, Field::MulticastGroup, parse_group(text)).map(|g| vec![g]),
                };
                match (local, remote, groups) {
                    (Some(bind), Some(remote), Some(groups)) => Some(Mode::Udp {
                        bind,
                        remote,
                        follow_peer: self.follow_peer,
                        broadcast: self.broadcast,
                        groups,
                    }),
                    _ => None,
                }
            }
        };
        match mode {
            Some(mode) if errors.is_empty() => {
                let mut config = SessionConfig::new(mode);
                config.delivery = Delivery::DropWhenBehind;
                Ok(config)
            }
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
        host.parse::<std::net::Ipv4Addr>().is_ok()
    } else if host.contains(':') {
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::Ipv6Addr>()
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

/// `239.1.2.3`, or `ff12::1` / `ff12::1%3` (IPv6 with its interface index).
fn parse_group(text: &str) -> Result<Group, Invalid> {
    let (addr, interface) = match text.split_once('%') {
        Some((addr, index)) => (addr, index.parse::<u32>().map_err(|_| Invalid::Group)?),
        None => (text, 0),
    };
    let addr = addr.parse::<IpAddr>().map_err(|_| Invalid::Group)?;
    if addr.is_multicast() {
        Ok(Group { addr, interface })
    } else {
        Err(Invalid::Group)
    }
}

fn join_host_port(host: &str, port: &str) -> String {
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

    fn with(edit: impl FnOnce(&mut Settings)) -> Settings {
        let mut settings = Settings::default();
        edit(&mut settings);
        settings
    }

    #[test]
    fn bad_fields_are_named() {
        type Edit = fn(&mut Settings);
        let cases: &[(Edit, FieldErrors)] = &[
            (
                |s| s.local_ports.tcp_server = "70000".into(),
                vec![(Field::LocalPort, Invalid::Port)],
            ),
            (|s| s.local_ip = "300.1.1.1".into(), vec![(Field::LocalIp, Invalid::Ip)]),
            (
                |s| {
                    s.mode = ModeKind::TcpClient;
                    s.remote_host = "300.1.1.1".into();
                    s.remote_port = "x".into();
                },
                vec![(Field::RemoteHost, Invalid::Ip), (Field::RemotePort, Invalid::Port)],
            ),
            (
                |s| {
                    s.mode = ModeKind::Udp;
                    s.multicast_group = "10.0.0.1".into();
                },
                vec![(Field::MulticastGroup, Invalid::Group)],
            ),
            (
                |s| {
                    s.mode = ModeKind::Udp;
                    s.remote_port = "0".into();
                },
                vec![(Field::RemotePort, Invalid::RemotePort)],
            ),
            (
                |s| {
                    s.mode = ModeKind::TcpClient;
                    s.remote_port = "0".into();
                },
                vec![(Field::RemotePort, Invalid::RemotePort)],
            ),
        ];
        for (edit, expected) in cases {
            assert_eq!(with(*edit).validate().err().as_ref(), Some(expected));
        }
    }

    #[test]
    fn valid_fields_make_the_session() {
        let server = with(|s| s.local_ports.tcp_server = "0".into())
            .validate()
            .expect("valid");
        assert_eq!(
            server.mode,
            Mode::TcpServer {
                listen: "0.0.0.0:0".parse().expect("addr"),
                max_clients: None
            }
        );
        let client = with(|s| {
            s.mode = ModeKind::TcpClient;
            s.remote_host = "::1".into();
            s.remote_port = "7788".into();
        });
        match client.validate().expect("valid").mode {
            Mode::TcpClient { remote, bind, .. } => assert_eq!((remote.as_str(), bind), ("[::1]:7788", None)),
            other => panic!("{other:?}"),
        }
        let udp = with(|s| {
            s.mode = ModeKind::Udp;
            s.remote_host = String::new();
            s.multicast_group = "ff12::1%2".into();
        });
        match udp.validate().expect("valid").mode {
            Mode::Udp { remote, groups, .. } => {
                assert_eq!(remote, None);
                assert_eq!(
                    groups,
                    vec![Group {
                        addr: "ff12::1".parse().expect("addr"),
                        interface: 2
                    }]
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn history_keeps_the_latest_first_without_duplicates() {
        let mut settings = Settings::default();
        for host in ["a", "b", "a"] {
            settings.remote_host = host.into();
            settings.remember_remote();
        }
        assert_eq!(settings.remote_history, vec!["a:8080", "b:8080"]);
        settings.set_remote("[::1]:7788");
        assert_eq!(
            (settings.remote_host.as_str(), settings.remote_port.as_str()),
            ("::1", "7788")
        );
        assert_eq!(settings.remote(), "[::1]:7788");
    }

    #[test]
    fn periodic_schedule_needs_whole_numbers() {
        let ok = SendSettings {
            interval_ms: "1".into(),
            count: "5".into(),
            ..SendSettings::default()
        };
        assert_eq!(ok.schedule(), Ok((Duration::from_millis(1), Some(5))));
        let bad = SendSettings {
            interval_ms: "0".into(),
            count: "x".into(),
            ..SendSettings::default()
        };
        assert_eq!(
            bad.schedule(),
            Err(vec![
                (Field::Interval, Invalid::Number),
                (Field::Count, Invalid::Number)
            ])
        );
    }
}
