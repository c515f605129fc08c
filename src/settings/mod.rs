//! What the window remembers across restarts (the global `Prefs` and each tab's `TabConfig`), what a tab's
//! fields mean as a session, and how the settings file is read back. Every field has a default
//! (`#[serde(default)]`), so an old or partial settings file still loads. Window-free: the fuzz crate reads
//! settings files through it without egui.
pub mod check;
pub mod file;
pub mod lenient;
pub mod load;
pub mod repair;
pub mod saved;
pub mod tls;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::automation::rules::RuleSpec;
use crate::automation::script::ScriptSpec;
use crate::codec::checksum::Checksum;
use crate::codec::framing::{Framing, FramingError};
use crate::codec::text::TextEncoding;
use crate::net::{Delivery, SessionConfig};
use crate::payload::{LineEnding, PayloadFormat, PayloadSpec};
use crate::session::spec::Form;
// The window's form vocabulary lives with the session spec that checks it.
use crate::net::{Kind, PerKind};
pub use crate::session::spec::{Field, FieldErrors, Invalid};

/// The window's language (its labels are in `gui::i18n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lang {
    Zh,
    En,
}

const HISTORY: usize = 20;
/// A day: the longest periodic interval (and far from what a clock can add without overflowing).
pub const MAX_INTERVAL_MS: u64 = 86_400_000;

/// What holds for every tab: the language, the quick commands, the remotes used lately and the history budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Prefs {
    /// `None` follows the system locale.
    pub language: Option<Lang>,
    /// `host:port`, most recent first.
    pub remote_history: Vec<String>,
    pub quick_commands: Vec<QuickCommand>,
    /// What the histories of all tabs together may hold, in MiB: the tabs share it (busy and lately viewed
    /// ones get more), so memory does not grow with the number of tabs.
    pub history_mib: u32,
}

/// The window's history budget by default, in MiB.
pub const DEFAULT_HISTORY_MIB: u32 = 256;

impl Default for Prefs {
    fn default() -> Self {
        Prefs {
            language: None,
            remote_history: Vec::new(),
            quick_commands: Vec::new(),
            history_mib: DEFAULT_HISTORY_MIB,
        }
    }
}

impl Prefs {
    /// Remembers a remote just used, most recent first, without duplicates.
    pub fn remember_remote(&mut self, remote: String) {
        self.remote_history.retain(|r| *r != remote);
        self.remote_history.insert(0, remote);
        self.remote_history.truncate(HISTORY);
    }
}

/// One tab's session as the user set it up: what a restart brings back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TabConfig {
    /// The tab's title as the user named it; empty: the mode and port.
    pub name: String,
    /// The session's kind (saved under its old name, `mode`).
    pub mode: Kind,
    pub local_ip: String,
    /// Each kind keeps its own local port, as in NetAssist: a TCP client's is 0 (any) unless the user sets one.
    pub local_ports: LocalPorts,
    pub remote_host: String,
    pub remote_port: String,
    pub follow_peer: bool,
    pub broadcast: bool,
    pub multicast_group: String,
    pub reconnect: bool,
    pub receive: ReceiveSettings,
    pub send: SendSettings,
    pub find: FindSettings,
    /// The throughput plot is on show.
    pub show_plot: bool,
    pub framing: FramingSettings,
    /// The auto-reply rules table, as edited (in force once valid: at Open, or with Apply).
    pub rules: Vec<RuleSpec>,
    pub script: ScriptSpec,
    /// The script starts with every Open (with the connection: an expect sees the greeting).
    pub script_on_open: bool,
    /// The automation panel on show under the receive view (none at first: a first user sees a plain window).
    pub automation: Option<AutoPanel>,
    /// The tab is a load test (its form below) instead of a session of `mode`.
    pub load_test: bool,
    pub load: load::LoadForm,
    /// TLS for a kind that speaks it (`Caps::tls`); a relay's listen leg.
    pub tls: tls::TlsSettings,
    /// A relay's TLS to its upstream (`Caps::tls_upstream`): the client end's fields.
    pub tls_upstream: tls::TlsSettings,
    /// The certificate panel is on show.
    pub show_tls: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AutoPanel {
    Rules,
    Script,
}

/// How each peer's stream is cut into messages, as the fields say (the command line's `--frame`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FramingSettings {
    pub kind: FrameKind,
    /// Hex bytes, as typed.
    pub delimiter: String,
    pub length: LengthKind,
    /// The length field counts itself too (the whole record).
    pub counts_header: bool,
    pub gap_ms: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FrameKind {
    None,
    Line,
    Delimiter,
    Length,
    Gap,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LengthKind {
    U8,
    U16Be,
    U16Le,
    U32Be,
    U32Le,
}

impl LengthKind {
    pub const ALL: [LengthKind; 5] = [
        LengthKind::U8,
        LengthKind::U16Be,
        LengthKind::U16Le,
        LengthKind::U32Be,
        LengthKind::U32Le,
    ];

    /// As `--frame len:…` spells it.
    pub fn name(self) -> &'static str {
        match self {
            LengthKind::U8 => "u8",
            LengthKind::U16Be => "u16be",
            LengthKind::U16Le => "u16le",
            LengthKind::U32Be => "u32be",
            LengthKind::U32Le => "u32le",
        }
    }
}

impl Default for FramingSettings {
    fn default() -> Self {
        FramingSettings {
            kind: FrameKind::None,
            delimiter: "0D 0A".into(),
            length: LengthKind::U16Be,
            counts_header: false,
            gap_ms: "20".into(),
        }
    }
}

impl FramingSettings {
    /// The framing the fields describe, checked by the command line's own `--frame` parser.
    pub fn framing(&self) -> Result<Framing, FramingError> {
        let spec = match self.kind {
            FrameKind::None => "none".to_owned(),
            FrameKind::Line => "line".to_owned(),
            FrameKind::Delimiter => format!("delim:{}", self.delimiter.trim()),
            FrameKind::Length => {
                let header = if self.counts_header { "+header" } else { "" };
                format!("len:{}{header}", self.length.name())
            }
            FrameKind::Gap => format!("gap:{}", self.gap_ms.trim()),
        };
        spec.parse()
    }

    /// The fields showing `framing` (what `--frame` asked for).
    pub fn set(&mut self, framing: &Framing) {
        let spelled = framing.to_string();
        let (kind, arg) = spelled.split_once(':').unwrap_or((&spelled, ""));
        match kind {
            "line" => self.kind = FrameKind::Line,
            "delim" => {
                self.kind = FrameKind::Delimiter;
                self.delimiter = arg.to_owned();
            }
            "len" => {
                self.kind = FrameKind::Length;
                let (width, header) = match arg.strip_suffix("+header") {
                    Some(width) => (width, true),
                    None => (arg, false),
                };
                self.counts_header = header;
                if let Some(length) = LengthKind::ALL.into_iter().find(|l| l.name() == width) {
                    self.length = length;
                }
            }
            "gap" => {
                self.kind = FrameKind::Gap;
                self.gap_ms = arg.to_owned();
            }
            _ => self.kind = FrameKind::None,
        }
    }
}

/// The find bar's mode and pattern (Ctrl+F).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FindSettings {
    pub mode: crate::export::find::FindMode,
    pub text: String,
}

impl Default for TabConfig {
    fn default() -> Self {
        TabConfig {
            name: String::new(),
            mode: Kind::default(),
            local_ip: "0.0.0.0".into(),
            local_ports: LocalPorts::default(),
            remote_host: "127.0.0.1".into(),
            remote_port: "8080".into(),
            follow_peer: true,
            broadcast: false,
            multicast_group: String::new(),
            reconnect: false,
            receive: ReceiveSettings::default(),
            send: SendSettings::default(),
            framing: FramingSettings::default(),
            rules: Vec::new(),
            script: ScriptSpec::default(),
            script_on_open: false,
            automation: None,
            find: FindSettings::default(),
            show_plot: false,
            load_test: false,
            load: load::LoadForm::default(),
            tls: tls::TlsSettings::default(),
            tls_upstream: tls::TlsSettings::default(),
            show_tls: false,
        }
    }
}

/// Each kind's local port, as typed.
pub type LocalPorts = PerKind<String>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReceiveSettings {
    pub hex: bool,
    pub encoding: TextEncoding,
    pub log_mode: bool,
    pub show_sent: bool,
    pub wrap: bool,
    /// NetAssist's 接收缓冲大小: this tab's own cap, in MiB; 0 (the default) leaves it to its share of the
    /// window's budget ([`Prefs::history_mib`]).
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
            buffer_mib: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SendSettings {
    pub hex: bool,
    pub escapes: bool,
    /// Variables ({seq}, {time}, …) filled in for each send of the text (not hex).
    pub vars: bool,
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
            vars: false,
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

impl TabConfig {
    /// A fresh tab: on a Chinese system the text encoding is GBK (what NetAssist shows there), else UTF-8.
    pub fn for_lang(system: Lang) -> TabConfig {
        let mut settings = TabConfig::default();
        if system == Lang::Zh {
            settings.receive.encoding = TextEncoding::GBK;
        }
        settings
    }

    /// The local port of the current kind.
    pub fn local_port(&self) -> &str {
        self.local_ports.get(self.mode)
    }

    pub fn local_port_mut(&mut self) -> &mut String {
        self.local_ports.get_mut(self.mode)
    }

    pub fn remote(&self) -> String {
        self.form().remote()
    }

    /// Fills the remote fields from `host:port` (`[v6]:port` too), as history and the command line give it.
    pub fn set_remote(&mut self, remote: &str) {
        if let Some((host, port)) = remote.rsplit_once(':') {
            self.remote_host = host.trim_start_matches('[').trim_end_matches(']').to_string();
            self.remote_port = port.to_string();
        }
    }

    /// The connection fields of the current mode, as typed.
    pub fn form(&self) -> Form<'_> {
        Form {
            kind: self.mode,
            local_ip: &self.local_ip,
            local_port: self.local_port(),
            remote_host: &self.remote_host,
            remote_port: &self.remote_port,
            reconnect: self.reconnect,
            follow_peer: self.follow_peer,
            broadcast: self.broadcast,
            multicast_group: &self.multicast_group,
        }
    }

    /// Validates every field the mode uses. Errors name their field, so each shows beside it. A window must
    /// never stall, so it drops display data when behind.
    pub fn validate(&self) -> Result<SessionConfig, FieldErrors> {
        let tls = match self.tls_side() {
            Some(side) => self.tls.spec(side).map(Some),
            None => Ok(None),
        };
        let upstream = match self.tls_upstream_on() {
            true => self
                .tls_upstream
                .spec(tls::TlsSide::Client)
                .map(Some)
                .map_err(tls::on_upstream),
            false => Ok(None),
        };
        let mode = self
            .form()
            .mode_with(tls.clone().ok().flatten(), upstream.clone().ok().flatten());
        match (mode, tls, upstream) {
            (Ok(mode), Ok(_), Ok(_)) => Ok(mode.config(Delivery::DropWhenBehind)),
            (mode, tls, upstream) => Err([mode.err(), tls.err(), upstream.err()]
                .into_iter()
                .flatten()
                .flatten()
                .collect()),
        }
    }

    /// The block that has the fields of `side`: a relay's upstream block is its client end, else the tab's own.
    pub fn tls_of_side_mut(&mut self, side: Option<tls::TlsSide>) -> &mut tls::TlsSettings {
        match side {
            Some(tls::TlsSide::Client) if self.mode.caps().tls_upstream() => &mut self.tls_upstream,
            _ => &mut self.tls,
        }
    }

    /// Some leg of the session speaks TLS: the status bar's TLS button and the certificate panel are for it.
    pub fn speaks_tls(&self) -> bool {
        self.tls_side().is_some() || self.tls_upstream_on()
    }

    /// The mode passes connections on and its TLS to the upstream is switched on.
    pub fn tls_upstream_on(&self) -> bool {
        self.mode.caps().tls_upstream() && self.tls_upstream.enabled
    }

    /// The end of the connection the TLS fields are for, when the mode speaks TLS and it is switched on.
    pub fn tls_side(&self) -> Option<tls::TlsSide> {
        let caps = self.mode.caps();
        (caps.tls && self.tls.enabled).then(|| tls::TlsSide::of(caps))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{Group, Mode, relay, tcp_server, udp};

    fn with(edit: impl FnOnce(&mut TabConfig)) -> TabConfig {
        let mut settings = TabConfig::default();
        edit(&mut settings);
        settings
    }

    #[test]
    fn bad_fields_are_named() {
        type Edit = fn(&mut TabConfig);
        let cases: &[(Edit, FieldErrors)] = &[
            (
                |s| s.local_ports.tcp_server = "70000".into(),
                vec![(Field::LocalPort, Invalid::Port)],
            ),
            (|s| s.local_ip = "300.1.1.1".into(), vec![(Field::LocalIp, Invalid::Ip)]),
            (
                |s| {
                    s.mode = Kind::TcpClient;
                    s.remote_host = "300.1.1.1".into();
                    s.remote_port = "x".into();
                },
                vec![(Field::RemoteHost, Invalid::Ip), (Field::RemotePort, Invalid::Port)],
            ),
            (
                |s| {
                    s.mode = Kind::Udp;
                    s.multicast_group = "10.0.0.1".into();
                },
                vec![(Field::MulticastGroup, Invalid::Group)],
            ),
            (
                |s| {
                    s.mode = Kind::Udp;
                    s.remote_port = "0".into();
                },
                vec![(Field::RemotePort, Invalid::RemotePort)],
            ),
            (
                |s| {
                    s.mode = Kind::TcpClient;
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
            Mode::TcpServer(tcp_server::Config {
                listen: "0.0.0.0:0".parse().expect("addr"),
                max_clients: None,
                tls: None,
            })
        );
        let client = with(|s| {
            s.mode = Kind::TcpClient;
            s.remote_host = "::1".into();
            s.remote_port = "7788".into();
        });
        match client.validate().expect("valid").mode {
            Mode::TcpClient(client) => assert_eq!((client.remote.as_str(), client.bind), ("[::1]:7788", None)),
            other => panic!("{other:?}"),
        }
        let udp = with(|s| {
            s.mode = Kind::Udp;
            s.remote_host = String::new();
            s.multicast_group = "ff12::1%2".into();
        });
        match udp.validate().expect("valid").mode {
            Mode::Udp(udp::Config { remote, groups, .. }) => {
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
    fn tls_fields_reach_the_session_of_a_kind_that_speaks_it() {
        use crate::net::tcp_client;
        let mut client = with(|s| {
            s.mode = Kind::TcpClient;
            s.tls.sni = "device.local".into();
        });
        let tls_of = |settings: &TabConfig| match settings.validate().map(|config| config.mode) {
            Ok(Mode::TcpClient(tcp_client::Config { tls, .. })) => tls,
            Ok(Mode::TcpServer(tcp_server::Config { tls, .. })) => tls,
            other => panic!("{other:?}"),
        };
        assert_eq!(tls_of(&client), None, "off until ticked");
        client.tls.enabled = true;
        assert_eq!(
            tls_of(&client).and_then(|spec| spec.sni).as_deref(),
            Some("device.local")
        );
        let server = with(|s| {
            s.tls.enabled = true;
            s.tls.cert = "s.crt".into();
        });
        assert_eq!(
            server.validate().err(),
            Some(vec![(Field::Tls(tls::TlsField::Key), Invalid::HalfPair)]),
            "named beside the key, with the address fields' errors"
        );
        let udp = with(|s| {
            s.mode = Kind::Udp;
            s.tls.enabled = true;
            s.tls.cert = "s.crt".into();
        });
        assert!(udp.validate().is_ok(), "a kind without TLS ignores the fields");
    }

    #[test]
    fn a_relays_two_blocks_are_its_two_legs() {
        let relay = |edit: fn(&mut TabConfig)| {
            with(|s| {
                s.mode = Kind::Relay;
                s.remote_host = "device.local".into();
                s.remote_port = "443".into();
                s.tls_upstream.enabled = true;
                s.tls_upstream.verify = tls::VerifyMode::Off;
                edit(s);
            })
        };
        let legs = |settings: &TabConfig| match settings.validate().map(|config| config.mode) {
            Ok(Mode::Relay(relay::Config {
                tls_listen,
                tls_upstream,
                ..
            })) => (tls_listen, tls_upstream),
            other => panic!("{other:?}"),
        };
        let (listen, upstream) = legs(&relay(|_| {}));
        assert_eq!(listen, None, "the listen leg is off until ticked");
        assert_eq!(upstream.map(|spec| spec.verify), Some(crate::net::tls::Verify::Off));
        let (listen, upstream) = legs(&relay(|s| {
            s.tls.enabled = true;
            s.tls_upstream.enabled = false;
        }));
        assert!(listen.is_some() && upstream.is_none());
        // The same half pair in each block is named in its own block.
        let both = relay(|s| {
            s.tls.enabled = true;
            s.tls.cert = "s.crt".into();
            s.tls_upstream.client_cert = "c.crt".into();
        });
        assert_eq!(
            both.validate().err(),
            Some(vec![
                (Field::Tls(tls::TlsField::Key), Invalid::HalfPair),
                (Field::UpstreamTls(tls::TlsField::ClientKey), Invalid::HalfPair),
            ])
        );
        let server = with(|s| {
            s.tls_upstream.enabled = true;
            s.tls_upstream.sni = "not a name".into();
        });
        assert!(
            server.validate().is_ok(),
            "a kind without an upstream ignores that block"
        );
    }

    #[test]
    fn a_settings_file_from_before_the_upstream_block_loads() {
        let old: TabConfig = ron::from_str("(mode: Relay, tls: (enabled: true))").expect("loads");
        assert!(old.tls.enabled);
        assert_eq!(old.tls_upstream, tls::TlsSettings::default());
    }

    #[test]
    fn framing_fields_read_as_the_command_line_spells_them() {
        for spelled in [
            "none",
            "line",
            "delim:0D0A",
            "len:u8",
            "len:u16le+header",
            "len:u32be",
            "gap:15",
        ] {
            let framing: Framing = spelled.parse().expect(spelled);
            let mut fields = FramingSettings::default();
            fields.set(&framing);
            assert_eq!(fields.framing(), Ok(framing), "{spelled}");
        }
        let bad = |edit: fn(&mut FramingSettings)| {
            let mut fields = FramingSettings::default();
            edit(&mut fields);
            fields.framing().expect_err("refused")
        };
        assert!(matches!(
            bad(|f| {
                f.kind = FrameKind::Delimiter;
                f.delimiter = "0G".into();
            }),
            FramingError::Delimiter(_)
        ));
        for gap in ["0", "99999999999999999999999", "x", ""] {
            let mut fields = FramingSettings {
                kind: FrameKind::Gap,
                ..FramingSettings::default()
            };
            fields.gap_ms = gap.into();
            assert!(matches!(fields.framing(), Err(FramingError::Gap(_))), "{gap}");
        }
    }

    #[test]
    fn history_keeps_the_latest_first_without_duplicates() {
        let (mut settings, mut prefs) = (TabConfig::default(), Prefs::default());
        for host in ["a", "b", "a"] {
            settings.remote_host = host.into();
            prefs.remember_remote(settings.remote());
        }
        assert_eq!(prefs.remote_history, vec!["a:8080", "b:8080"]);
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
