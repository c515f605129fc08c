//! The command line's arguments (clap) and what they mean as a session.
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};

use super::{CliError, reported};
use crate::automation::file_text;
use crate::automation::rules::{Rules, RulesError};
use crate::automation::script::{ScriptError, ScriptSpec};
use crate::codec::checksum::Checksum;
use crate::codec::framing::{Framing, FramingError};
use crate::codec::text::TextEncoding;
use crate::net::CaptureFile;
use crate::net::load::{MAX_CONNECTIONS, MAX_IN_FLIGHT, MAX_RATE, MIN_RATE};
use crate::net::tls::{TlsSpec, Verify};
use crate::net::{Delivery, Group, Mode, ReceivedAs, SessionConfig, relay, tcp_client, tcp_server, udp};
use crate::payload::{LineEnding, PayloadFormat, PayloadSpec};
use crate::session::launch::{SendBox, WindowSession};
use crate::session::spec::parse_group;

const AFTER_HELP: &str = "\
The first line on stderr says where the socket is, so port 0 can be discovered by scripts: \
\"listening on ADDR\" (tcp-server), \"bound to ADDR\" (udp), \"connected to ADDR from LOCAL\" (tcp-client), \"relaying ADDR to UPSTREAM\" (relay). \
Received data goes to stdout only, as UTF-8; peers joining and leaving, and errors, go to stderr.

Exit codes: 0 done (a quit condition, the server closed a tcp-client, or a --script met every expect), \
1 network or file error, or a --script step that failed, 2 bad arguments or bad input (bad hex, bad escape, \
unknown encoding, text not encodable, a --rules or --script file that does not parse; nothing is sent).";

/// The synopsis of every subcommand and option, so `wirepad --help` alone shows everything there is.
const SYNOPSIS: &str = "\
Sessions:
  wirepad                                   open the window
  wirepad gui [SESSION [+ SESSION]...]      open the window, one tab per session, each open
                                            (wirepad gui tcp-server 7788 + tcp-client 127.0.0.1:7788);
                                            SESSION may be `load tcp|udp HOST:PORT [load options]`: a load test, started
  wirepad tcp-server LISTEN [--max-clients N] [OPTIONS]      LISTEN = PORT | IP:PORT | [IPv6]:PORT
  wirepad tcp-client REMOTE [--bind LOCAL] [--reconnect] [OPTIONS]      REMOTE = HOST:PORT
  wirepad udp [--bind LOCAL] [--remote HOST:PORT] [--follow-peer] [--broadcast] [--join GROUP]... [OPTIONS]
  wirepad relay LISTEN UPSTREAM [--max-pairs N] [--connect-timeout MS] [OPTIONS]      each client gets its own
                                            connection to UPSTREAM; bytes pass unchanged both ways
        [--udp [--udp-idle S]]              relay datagrams: a socket towards UPSTREAM per client address
  wirepad load tcp|udp HOST:PORT [-c N] [--connect-rate R] [--rate R | --total-rate R] [--in-flight N]
        [--duration S | --count N] [--report text|json] [--report-file F]      a load test; a report at the end
  wirepad load merge A.json B.json...       one report from the reports of several machines
  wirepad cert new --cn NAME [--san NAME]... [--days N] --out PREFIX      a self-signed certificate and its key
                                            (PREFIX.crt, PREFIX.key, PEM) for --cert/--key and --ca

TLS (tcp-client, tcp-server): --tls [--cert F --key F] [--ca F] [--verify warn|strict|off] [--sni NAME | --no-sni]
  [--alpn A,B] [--tls-versions 1.2,1.3] [--client-cert F --client-key F] [--require-client-cert] [--keylog F]
  relay: --tls-listen (towards the clients: --cert/--key, --require-client-cert) and/or --tls-upstream (towards
  UPSTREAM: --ca, --verify, --sni/--no-sni, --client-cert/--client-key); --alpn, --tls-versions, --keylog: both
  wirepad cert new ... --ca-out PREFIX      also a small CA (PREFIX.crt, PREFIX.key) that signs the certificate

OPTIONS (see `wirepad help tcp-server` for the details):
  -e, --encoding NAME   --hex   --log   -q, --quiet   --recv-file PATH   --pcap FILE
  -s, --send TEXT | --send-hex HEX | --send-file PATH   --append cr|lf|crlf
  --checksum sum8|xor8|crc16-modbus|crc16-ccitt|crc32|lrc   --repeat N   --interval MS   --stdin   --echo
  --vars (fill in {seq}, {time}, {rand:N}, ... in --send and --stdin lines for each send)
  --quit-after-bytes N   --quit-after-secs S   --quit-when-idle MS
  --rules FILE   --script FILE   --frame none|line|delim:HEX|len:u8|len:u16be|len:u16le|len:u32be|len:u32le|gap:MS
";

/// `wirepad --version`: the release and the commit it was built from.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("WIREPAD_COMMIT"), ")");

/// Wirepad: a network debugging assistant (TCP server, TCP client, UDP). Without a subcommand it opens the window.
#[derive(Debug, Parser)]
#[command(name = "wirepad", version = VERSION, after_help = format!("{SYNOPSIS}\n{AFTER_HELP}"))]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<CliCommand>,
}

#[derive(Debug, Subcommand)]
pub enum CliCommand {
    #[command(flatten)]
    Session(Box<SessionArgs>),
    /// Certificates for --tls
    #[command(subcommand)]
    Cert(super::cert::CertCommand),
    /// Open the window, optionally with sessions already open, one tab each (`wirepad gui tcp-server 7788 +
    /// tcp-client 127.0.0.1:7788`)
    Gui {
        /// SESSION [+ SESSION]...: each as its subcommand takes it, a lone `+` between two
        #[arg(value_name = "SESSION", trailing_var_arg = true, allow_hyphen_values = true)]
        sessions: Vec<std::ffi::OsString>,
    },
    /// A load test against a server (tcp, udp), or one report from several (merge)
    #[command(subcommand)]
    Load(Box<LoadCommand>),
}

/// One session as the command line describes it; `wirepad gui SESSION…` hands the same to the window.
#[derive(Debug, Clone, Subcommand)]
pub enum SessionArgs {
    /// Listen for TCP clients and talk to all of them
    #[command(after_help = AFTER_HELP)]
    TcpServer(TcpServerArgs),
    /// Connect to a TCP server
    #[command(after_help = AFTER_HELP)]
    TcpClient(TcpClientArgs),
    /// Send and receive UDP datagrams (unicast, broadcast, multicast)
    #[command(after_help = AFTER_HELP)]
    Udp(UdpArgs),
    /// Give every client accepted on LISTEN its own connection to UPSTREAM and pass the bytes both ways
    #[command(after_help = AFTER_HELP)]
    Relay(RelayArgs),
}

#[derive(Debug, Clone, Args)]
pub struct TcpServerArgs {
    /// Where to listen: PORT (all IPv4 interfaces), IP:PORT or [IPv6]:PORT; port 0 picks a free one
    #[arg(value_name = "LISTEN", value_parser = parse_local)]
    pub listen: SocketAddr,
    /// Refuse clients beyond N connected at once
    #[arg(long, value_name = "N", value_parser = parse_max_clients)]
    pub max_clients: Option<usize>,
    #[command(flatten)]
    pub tls: TlsArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Clone, Args)]
pub struct TcpClientArgs {
    /// The server: HOST:PORT or [IPv6]:PORT (hostnames are resolved)
    #[arg(value_name = "REMOTE", value_parser = parse_remote)]
    pub remote: String,
    /// Connect from this local address: PORT, IP:PORT or [IPv6]:PORT
    #[arg(long, value_name = "LOCAL", value_parser = parse_local)]
    pub bind: Option<SocketAddr>,
    /// When the connection fails or ends, connect again (with backoff) instead of exiting
    #[arg(long)]
    pub reconnect: bool,
    #[command(flatten)]
    pub tls: TlsArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Clone, Args)]
pub struct UdpArgs {
    /// Local address: PORT, IP:PORT or [IPv6]:PORT [default: 0.0.0.0:0, or [::]:0 for an IPv6 remote or group]
    #[arg(long, value_name = "LOCAL", value_parser = parse_local)]
    pub bind: Option<SocketAddr>,
    /// Where sends go: HOST:PORT or [IPv6]:PORT (hostnames are resolved)
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_remote)]
    pub remote: Option<String>,
    /// Send to whoever sent the last datagram; without --remote, sends wait for the first one
    #[arg(long)]
    pub follow_peer: bool,
    /// Allow sending to broadcast addresses (SO_BROADCAST)
    #[arg(long)]
    pub broadcast: bool,
    /// Join a multicast group (repeatable): IPv4 (239.1.2.3) or IPv6 (ff02::1, or ff02::1%IFINDEX to pick the
    /// interface by its index); bind the group's port with --bind
    #[arg(long, value_name = "GROUP", value_parser = parse_group)]
    pub join: Vec<Group>,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RelayArgs {
    /// Where clients connect: PORT (all IPv4 interfaces), IP:PORT or [IPv6]:PORT; port 0 picks a free one
    #[arg(value_name = "LISTEN", value_parser = parse_local)]
    pub listen: SocketAddr,
    /// Where each client's own connection goes: HOST:PORT or [IPv6]:PORT (resolved once, at start)
    #[arg(value_name = "UPSTREAM", value_parser = parse_upstream)]
    pub upstream: String,
    /// Refuse clients beyond N pairs at once (with --udp: datagrams of a client address past N are dropped)
    #[arg(long, value_name = "N", value_parser = parse_max_clients)]
    pub max_pairs: Option<usize>,
    /// Milliseconds each connection to the upstream may take (1 to 3600000; default 5000; TCP only)
    #[arg(long, value_name = "MS", conflicts_with = "udp", value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub connect_timeout: Option<u64>,
    /// Relay datagrams: each client address gets its own socket towards UPSTREAM
    #[arg(long)]
    pub udp: bool,
    /// With --udp: forget a client after S seconds without a datagram either way (default 120; at most 86400)
    #[arg(long, value_name = "S", requires = "udp", value_parser = parse_udp_idle)]
    pub udp_idle: Option<Duration>,
    #[command(flatten)]
    pub tls_legs: RelayTlsArgs,
    #[command(flatten)]
    pub tls: TlsOptions,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// TLS on a TCP client or server (`Caps::tls`); udp has none of them, so `--tls` there is a usage error.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "TLS")]
pub struct TlsArgs {
    /// Speak TLS (rustls: TLS 1.2 and 1.3); after each handshake one stderr line says the version, cipher suite,
    /// ALPN, the peer's certificate (subject, SHA-256) and whether it verified
    #[arg(long)]
    pub tls: bool,
    #[command(flatten)]
    pub options: TlsOptions,
}

impl TlsArgs {
    /// The options as the engine takes them; `None` without `--tls`.
    pub fn spec(&self) -> Option<TlsSpec> {
        self.tls.then(|| self.options.spec())
    }
}

/// Which legs of a relay speak TLS; the group `tls` is what the options require, as `--tls` is elsewhere.
#[derive(Debug, Clone, Args)]
#[group(id = "tls", multiple = true)]
#[command(next_help_heading = "TLS")]
pub struct RelayTlsArgs {
    /// Speak TLS to the clients: the relay is their server (--cert/--key, or a self-signed certificate made at
    /// start; --require-client-cert with --ca)
    #[arg(long, conflicts_with = "udp")]
    pub tls_listen: bool,
    /// Speak TLS to UPSTREAM: the relay is its client (--ca, --verify, --sni/--no-sni, --client-cert/--client-key)
    #[arg(long, conflicts_with = "udp")]
    pub tls_upstream: bool,
}

/// The TLS options: one set for a client or a server, and for both legs of a relay (`RelayArgs::tls_legs`).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "TLS")]
pub struct TlsOptions {
    /// tcp-server, relay --tls-listen: the certificate chain to present (PEM); without --cert/--key a self-signed
    /// one for the listen address is made at start and its fingerprint printed
    #[arg(long, value_name = "F", requires_all = ["tls", "key"])]
    pub cert: Option<PathBuf>,
    /// The private key of --cert (PEM, unencrypted)
    #[arg(long, value_name = "F", requires_all = ["tls", "cert"])]
    pub key: Option<PathBuf>,
    /// Trust anchors for the peer's certificate (PEM) [default: the system's store]; tcp-server: the clients';
    /// relay: the upstream's, and the clients' too with --require-client-cert or when only --tls-listen is given
    #[arg(long, value_name = "F", requires = "tls")]
    pub ca: Option<PathBuf>,
    /// warn: connect and say plainly what failed to verify; strict: refuse; off: do not check [default: warn]
    #[arg(long, value_name = "MODE", value_parser = ["warn", "strict", "off"], requires = "tls")]
    pub verify: Option<String>,
    /// tcp-client, relay --tls-upstream: the name to send (SNI) and verify [default: the host of REMOTE]
    #[arg(long, value_name = "NAME", requires = "tls", conflicts_with = "no_sni")]
    pub sni: Option<String>,
    /// tcp-client, relay --tls-upstream: send no SNI (the name is still verified)
    #[arg(long, requires = "tls")]
    pub no_sni: bool,
    /// Protocols to offer (client) or accept (server) by ALPN, comma-separated: h2,http/1.1 (relay: both legs)
    #[arg(long, value_name = "A,B", value_delimiter = ',', requires = "tls")]
    pub alpn: Vec<String>,
    /// TLS versions to speak: 1.2, 1.3 or 1.2,1.3 [default: both] (relay: both legs)
    #[arg(long, value_name = "V,V", value_delimiter = ',', value_parser = crate::net::tls::parse_version, requires = "tls")]
    pub tls_versions: Vec<crate::net::tls::TlsVersion>,
    /// tcp-client, relay --tls-upstream: a certificate to present for mutual TLS (PEM)
    #[arg(long, value_name = "F", requires_all = ["tls", "client_key"])]
    pub client_cert: Option<PathBuf>,
    /// The private key of --client-cert (PEM, unencrypted)
    #[arg(long, value_name = "F", requires_all = ["tls", "client_cert"])]
    pub client_key: Option<PathBuf>,
    /// tcp-server, relay --tls-listen: refuse clients without a certificate that verifies against --ca
    #[arg(long, requires_all = ["tls", "ca"])]
    pub require_client_cert: bool,
    /// Append the TLS secrets to F (NSS key log, for Wireshark; relay: both legs); SSLKEYLOGFILE is honoured too
    #[arg(long, value_name = "F", requires = "tls")]
    pub keylog: Option<PathBuf>,
}

impl TlsOptions {
    fn spec(&self) -> TlsSpec {
        let verify = match self.verify.as_deref() {
            Some("strict") => Verify::Strict,
            Some("off") => Verify::Off,
            _ => Verify::Warn,
        };
        TlsSpec {
            cert: self.cert.clone().zip(self.key.clone()),
            ca: self.ca.clone(),
            verify,
            sni: self.sni.clone(),
            no_sni: self.no_sni,
            alpn: self.alpn.clone(),
            versions: self.tls_versions.clone(),
            client_cert: self.client_cert.clone().zip(self.client_key.clone()),
            require_client_cert: self.require_client_cert,
            keylog: self.keylog.clone(),
        }
    }
}

impl RelayArgs {
    /// One set of options for two legs: the server-side ones (--cert, --require-client-cert) go to the listen
    /// leg, the client-side ones (--verify, --sni, --no-sni, --client-cert) to the upstream leg; --alpn,
    /// --tls-versions and --keylog to both. --ca is the upstream's trust anchors; the listen leg asks clients for
    /// a certificate against it only when told to (--require-client-cert) or when it is the only TLS leg, as
    /// tcp-server does, so that verifying the upstream does not make the relay ask its clients for certificates.
    pub fn tls_legs(&self) -> (Option<Box<TlsSpec>>, Option<Box<TlsSpec>>) {
        let spec = self.tls.spec();
        let legs = &self.tls_legs;
        let listen = legs.tls_listen.then(|| TlsSpec {
            ca: spec
                .ca
                .clone()
                .filter(|_| spec.require_client_cert || !legs.tls_upstream),
            sni: None,
            no_sni: false,
            client_cert: None,
            ..spec.clone()
        });
        let upstream = legs.tls_upstream.then_some(TlsSpec {
            cert: None,
            require_client_cert: false,
            ..spec
        });
        (listen.map(Box::new), upstream.map(Box::new))
    }

    /// A TLS option given for a leg that does not speak TLS: it would do nothing.
    pub fn tls_misfit(&self) -> Option<String> {
        let (tls, legs) = (&self.tls, &self.tls_legs);
        let listen_only = [
            (tls.cert.is_some(), "--cert"),
            (tls.require_client_cert, "--require-client-cert"),
        ];
        let upstream_only = [
            (tls.verify.is_some(), "--verify"),
            (tls.sni.is_some(), "--sni"),
            (tls.no_sni, "--no-sni"),
            (tls.client_cert.is_some(), "--client-cert"),
        ];
        let misfit = |options: &[(bool, &'static str)], leg_on: bool| {
            options
                .iter()
                .find(|(given, _)| *given && !leg_on)
                .map(|(_, option)| *option)
        };
        if let Some(option) = misfit(&listen_only, legs.tls_listen) {
            return Some(format!(
                "{option} is for --tls-listen (the relay's TLS towards its clients), which is not given"
            ));
        }
        misfit(&upstream_only, legs.tls_upstream).map(|option| {
            format!("{option} is for --tls-upstream (the relay's TLS towards UPSTREAM), which is not given")
        })
    }
}

/// Options shared by the session kinds.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Text encoding of received and sent text: utf-8, gbk, gb18030, big5, shift_jis, euc-jp, euc-kr,
    /// windows-1252, utf-16le, utf-16be or another WHATWG label (case-insensitive)
    /// (default utf-8; the window keeps its own choice unless this is given)
    #[arg(short, long, value_name = "NAME")]
    pub encoding: Option<String>,
    #[command(flatten)]
    pub receive: ReceiveArgs,
    #[command(flatten)]
    pub send: SendArgs,
    #[command(flatten)]
    pub quit: QuitArgs,
    #[command(flatten)]
    pub auto: AutoArgs,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Automation")]
pub struct AutoArgs {
    /// Auto-reply rules (TOML, [[rule]] tables: match / match_hex / match_regex, reply / reply_hex, checksum,
    /// delay_ms); the first rule that matches a message answers it. Checked whole before anything runs
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Send/expect script (TOML: repeat, [[step]] tables with send / send_hex / expect / expect_hex / expect_regex
    /// / sleep_ms, timeout_ms); tcp-client and udp: run once, exit 0 if every expect was met, 1 naming the step
    /// that failed and what arrived instead; tcp-server: run for each client that joins
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,
    /// Split each peer's stream into messages: none (each read), line (LF or CRLF), delim:HEX, len:u8,
    /// len:u16be, len:u16le, len:u32be, len:u32le (add +header when the length counts itself) or gap:MS;
    /// --log prints one line per message, rules and expects match one message
    #[arg(long, value_name = "SPEC", value_parser = parse_framing)]
    pub frame: Option<Framing>,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Receive")]
pub struct ReceiveArgs {
    /// Print received bytes as hex, one line per received chunk: "48 65 6C 6C 6F"
    #[arg(long)]
    pub hex: bool,
    /// Print one line per received chunk: "[HH:MM:SS.mmm] PEER: DATA" (local time; DATA as text, or hex with --hex)
    #[arg(long)]
    pub log: bool,
    /// Do not print received data (counters, events and capture still work)
    #[arg(short, long)]
    pub quiet: bool,
    /// Write every received byte, raw and in arrival order, to PATH
    #[arg(long, value_name = "PATH")]
    pub recv_file: Option<PathBuf>,
    /// Write everything received and sent to FILE as pcapng for Wireshark/tshark, as it happens: the real
    /// addresses and ports, synthesized Ethernet/IP/TCP|UDP headers, a TCP handshake at join, FIN or RST at
    /// leave (FIN for streams still open at the end)
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Send")]
// What --vars fills in: --send, --stdin lines, or both.
#[command(group(clap::ArgGroup::new("templated").args(["send", "stdin"]).multiple(true)))]
pub struct SendArgs {
    /// Send TEXT once ready (escapes \r \n \t \0 \\ \xHH interpreted, text encoded with --encoding);
    /// tcp-server: to each client as it joins
    #[arg(short, long, value_name = "TEXT", group = "payload")]
    pub send: Option<String>,
    /// Send these bytes instead, as hex: tokens separated by spaces, commas or newlines; a one-digit token is
    /// one byte (A = 0A), a longer one needs an even number of digits (0A0B); 0x prefixes allowed ("1 03 0x0A0B")
    #[arg(long, value_name = "HEX", group = "payload")]
    pub send_hex: Option<String>,
    /// Send a file's bytes as they are (no checksum, no --append); tcp-server: to each client as it joins
    #[arg(long, value_name = "PATH", conflicts_with = "payload")]
    pub send_file: Option<PathBuf>,
    /// Append a line ending after the payload and its checksum
    #[arg(long, value_name = "ENDING", value_parser = line_ending_parser())]
    pub append: Option<LineEnding>,
    /// Append a checksum of the payload; on the wire crc16-modbus is low byte first, crc16-ccitt
    /// (CCITT-FALSE) high byte first, crc32 (as zlib) little-endian, sum8, xor8 and lrc one byte
    #[arg(long, value_name = "NAME")]
    pub checksum: Option<Checksum>,
    /// Send N times in total, --interval apart (0 = until stopped); tcp-server: to every connected client
    #[arg(long, value_name = "N", requires = "payload")]
    pub repeat: Option<u64>,
    /// Milliseconds between repeated sends
    #[arg(long, value_name = "MS", default_value_t = 1000, requires = "repeat")]
    pub interval: u64,
    /// Also send each line of standard input (without its newline; at most 1 MiB), read like --send, with
    /// --checksum and --append
    #[arg(long)]
    pub stdin: bool,
    /// Send every received chunk back to its sender
    #[arg(long)]
    pub echo: bool,
    /// Fill in variables in --send and --stdin lines for each send: {seq} (this session's sends, from 0),
    /// {count}, {peer}, {time}, {time_us}, {rand:N}, {conn} (0); {{ and }} are braces. Without it braces are sent
    /// as they are
    #[arg(long, requires = "templated")]
    pub vars: bool,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Quit (exit 0; the first to come wins)")]
pub struct QuitArgs {
    /// Once N bytes have been received (and, with --echo, echoed)
    #[arg(long, value_name = "N")]
    pub quit_after_bytes: Option<u64>,
    /// S seconds after the first stderr line (fractions allowed)
    #[arg(long, value_name = "S", value_parser = parse_secs)]
    pub quit_after_secs: Option<Duration>,
    /// After MS milliseconds without a byte received or sent (counting from the first stderr line)
    #[arg(long, value_name = "MS")]
    pub quit_when_idle: Option<u64>,
}

/// Parses the process's arguments. Help and version print as clap prints them (exit 0); a usage
/// error is one line on stderr and exit 2 (contract), not clap's error, tip and usage.
pub fn parse_args() -> Result<Cli, ExitCode> {
    Cli::try_parse().map_err(|error| clap_exit(&error))
}

/// What clap's "error" means: help or version printed (exit 0), or a usage error reported (exit 2).
pub(super) fn clap_exit(error: &clap::Error) -> ExitCode {
    if error.use_stderr() {
        reported(usage_error(error))
    } else {
        // A closed stdout is no reason to fail `--help`.
        let _ = error.print();
        ExitCode::SUCCESS
    }
}

/// clap's first paragraph on one line (a missing argument's name is on the line after its
/// message), without the "error: " that `note` adds again.
fn usage_error(error: &clap::Error) -> CliError {
    let rendered = error.render().to_string();
    let message = rendered
        .lines()
        .take_while(|line| !line.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    CliError::Usage(format!("{message} (see wirepad --help)"))
}

/// Parses a load test as `wirepad gui load` takes it, e.g. `["tcp", "127.0.0.1:7", "-c", "10"]`.
pub(super) fn parse_load(args: &[std::ffi::OsString]) -> Result<LoadCommand, clap::Error> {
    #[derive(Parser)]
    #[command(name = "wirepad gui load", no_binary_name = true)]
    struct LoadOnly {
        #[command(subcommand)]
        load: LoadCommand,
    }
    LoadOnly::try_parse_from(args).map(|parsed| parsed.load)
}

/// Parses a session as `wirepad gui` takes it, e.g. `["tcp-server", "8080"]`.
pub fn parse_session<I, T>(args: I) -> Result<SessionArgs, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    #[derive(Parser)]
    #[command(name = "wirepad gui", no_binary_name = true)]
    struct SessionOnly {
        #[command(subcommand)]
        session: SessionArgs,
    }
    SessionOnly::try_parse_from(args).map(|parsed| parsed.session)
}

impl SessionArgs {
    pub fn common(&self) -> &CommonArgs {
        match self {
            SessionArgs::TcpServer(args) => &args.common,
            SessionArgs::TcpClient(args) => &args.common,
            SessionArgs::Udp(args) => &args.common,
            SessionArgs::Relay(args) => &args.common,
        }
    }

    /// The first option given that this kind does not take: a relay passes its clients' bytes on and sends
    /// nothing of its own.
    pub fn refused_option(&self) -> Option<&'static str> {
        let SessionArgs::Relay(relay) = self else {
            return None;
        };
        let (send, auto) = (&relay.common.send, &relay.common.auto);
        [
            (send.send.is_some(), "--send"),
            (send.send_hex.is_some(), "--send-hex"),
            (send.send_file.is_some(), "--send-file"),
            (send.stdin, "--stdin"),
            (send.echo, "--echo"),
            (auto.script.is_some(), "--script"),
        ]
        .into_iter()
        .find_map(|(given, option)| given.then_some(option))
    }

    /// The session these arguments describe.
    pub fn mode(&self) -> Mode {
        match self {
            SessionArgs::TcpServer(server) => Mode::TcpServer(tcp_server::Config {
                listen: server.listen,
                max_clients: server.max_clients,
                tls: server.tls.spec(),
            }),
            SessionArgs::TcpClient(client) => Mode::TcpClient(tcp_client::Config {
                remote: client.remote.clone(),
                bind: client.bind,
                reconnect: client.reconnect,
                connect_timeout: tcp_client::CONNECT_TIMEOUT,
                tls: client.tls.spec(),
            }),
            SessionArgs::Udp(args) => Mode::Udp(udp::Config {
                bind: args
                    .bind
                    .unwrap_or_else(|| udp::default_bind(args.remote.as_deref(), &args.join)),
                remote: args.remote.clone(),
                follow_peer: args.follow_peer,
                broadcast: args.broadcast,
                groups: args.join.clone(),
            }),
            SessionArgs::Relay(args) => {
                let (tls_listen, tls_upstream) = args.tls_legs();
                Mode::Relay(relay::Config {
                    listen: args.listen,
                    upstream: args.upstream.clone(),
                    max_pairs: args.max_pairs,
                    connect_timeout: args
                        .connect_timeout
                        .map_or(relay::CONNECT_TIMEOUT, Duration::from_millis),
                    udp_idle: args.udp.then(|| args.udp_idle.unwrap_or(relay::UDP_IDLE)),
                    tls_listen,
                    tls_upstream,
                })
            }
        }
    }
}

impl SessionArgs {
    /// The session as the window takes it; what only the command line does (echo, stdin, quit conditions, …)
    /// is refused rather than ignored.
    pub fn for_window(&self) -> Result<WindowSession, CliError> {
        let common = self.common();
        let parts = self.mode().parts();
        // The option as the user typed it: a relay's limit is --max-pairs.
        let (max_option, udp) = match self {
            SessionArgs::Relay(relay) => ("--max-pairs", relay.udp),
            _ => ("--max-clients", false),
        };
        let cli_only = [
            (common.receive.quiet, "--quiet"),
            (common.send.stdin, "--stdin"),
            (common.send.echo, "--echo"),
            (common.send.send_file.is_some(), "--send-file"),
            (common.quit.quit_after_bytes.is_some(), "--quit-after-bytes"),
            (common.quit.quit_after_secs.is_some(), "--quit-after-secs"),
            (common.quit.quit_when_idle.is_some(), "--quit-when-idle"),
            (parts.max_clients.is_some(), max_option),
            (udp, "--udp"),
            (parts.groups.len() > 1, "a second --join"),
            // On any kind and leg (a relay's options are not `tls_args`).
            (
                [&parts.tls, &parts.tls_upstream]
                    .iter()
                    .any(|spec| spec.as_ref().is_some_and(|spec| spec.keylog.is_some())),
                "--keylog",
            ),
        ];
        if let Some((_, option)) = cli_only.iter().find(|(given, _)| *given) {
            return Err(CliError::Usage(format!(
                "{option} is for the command line only; the window does not take it"
            )));
        }
        let encoding = match common.encoding {
            Some(_) => Some(common.text_encoding()?),
            None => None,
        };
        // Checked whole now, as the command line checks them: a bad file opens no window.
        let text_encoding = common.text_encoding()?;
        let rules = common.auto.read_rules(text_encoding)?;
        let script = common.auto.read_script(|text| ScriptSpec::parse(text, text_encoding))?;
        let send = &common.send;
        let send_box = match (&send.send, &send.send_hex) {
            (Some(text), _) => Some(SendBox::Text(text.clone())),
            (None, Some(hex)) => Some(SendBox::Hex(hex.clone())),
            (None, None) => None,
        };
        Ok(WindowSession {
            mode: self.mode(),
            encoding,
            hex: common.receive.hex,
            log: common.receive.log,
            send_box,
            vars: send.vars,
            append: send.append,
            checksum: send.checksum,
            repeat: send.repeat.map(|count| (count, send.interval)),
            recv_file: common.receive.recv_file.clone(),
            pcap: common.receive.pcap.clone(),
            frame: common.auto.frame.clone(),
            rules: rules.map(|rules| rules.table().map(|(spec, _)| spec.clone()).collect()),
            script,
        })
    }
}

impl AutoArgs {
    /// The `--rules` file, read and checked whole.
    pub fn read_rules(&self, encoding: TextEncoding) -> Result<Option<Rules>, CliError> {
        let Some(path) = &self.rules else { return Ok(None) };
        let bytes = read_file("--rules", path)?;
        file_text(&bytes)
            .map_err(RulesError::from)
            .and_then(|text| Rules::parse(text, encoding))
            .map(Some)
            .map_err(|source| CliError::Rules {
                path: path.clone(),
                source,
            })
    }

    /// The `--script` file, read and checked whole by `parse` (as a script to run, or as the window's table).
    pub fn read_script<T>(&self, parse: impl FnOnce(&str) -> Result<T, ScriptError>) -> Result<Option<T>, CliError> {
        let Some(path) = &self.script else { return Ok(None) };
        let bytes = read_file("--script", path)?;
        file_text(&bytes)
            .map_err(ScriptError::from)
            .and_then(parse)
            .map(Some)
            .map_err(|source| CliError::Script {
                path: path.clone(),
                source,
            })
    }
}

/// A rules or script file's bytes; whether they are text is the file's check (exit 2 with a place), not a read error.
fn read_file(option: &'static str, path: &std::path::Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|source| CliError::ReadAutomation {
        option,
        path: path.to_owned(),
        source,
    })
}

impl CommonArgs {
    pub fn text_encoding(&self) -> Result<TextEncoding, CliError> {
        Ok(TextEncoding::from_name(self.encoding.as_deref().unwrap_or("utf-8"))?)
    }

    /// How `--send` text and `--stdin` lines become bytes (`--send-hex` swaps the format for hex).
    pub fn payload_spec(&self) -> Result<PayloadSpec, CliError> {
        Ok(PayloadSpec {
            format: PayloadFormat::Text { escapes: true },
            encoding: self.text_encoding()?,
            checksum: self.send.checksum,
            append: self.send.append.unwrap_or(LineEnding::None),
        })
    }
}

/// The engine's configuration for a session. The command line never drops data, so delivery is lossless.
pub fn session_config(args: &SessionArgs) -> SessionConfig {
    let common = args.common();
    let quit = &common.quit;
    // The bytes are only needed to print them; a quit condition needs their count; the engine echoes by itself.
    let received_as = if !common.receive.quiet {
        ReceivedAs::Bytes
    } else if quit.quit_after_bytes.is_some() || quit.quit_when_idle.is_some() {
        ReceivedAs::Lengths
    } else {
        ReceivedAs::Nothing
    };
    SessionConfig {
        capture: common.receive.recv_file.clone().map(CaptureFile::truncate),
        pcap: common.receive.pcap.clone().map(CaptureFile::truncate),
        received_as,
        echo: common.send.echo,
        framing: common.auto.frame.clone().unwrap_or_default(),
        consumer_replies: common.send.stdin,
        ..args.mode().config(Delivery::Lossless)
    }
}

/// LISTEN / LOCAL: `PORT` (every IPv4 interface), `IP:PORT` or `[IPv6]:PORT`.
fn parse_local(text: &str) -> Result<SocketAddr, String> {
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), port));
    }
    text.parse().map_err(|_| "expected PORT, IP:PORT or [IPv6]:PORT".into())
}

/// REMOTE: `HOST:PORT` or `[IPv6]:PORT`; the host is resolved later, by the engine.
fn parse_remote(text: &str) -> Result<String, String> {
    let (host, port) = text.rsplit_once(':').ok_or("expected HOST:PORT or [IPv6]:PORT")?;
    if host.is_empty() {
        return Err("the host is missing: expected HOST:PORT".into());
    }
    if host.contains(':') && !(host.starts_with('[') && host.ends_with(']')) {
        return Err("write an IPv6 address in brackets: [ADDR]:PORT".into());
    }
    port.parse::<u16>()
        .map_err(|_| format!("\"{port}\" is not a port number (0-65535)"))?;
    Ok(text.to_owned())
}

/// UPSTREAM: as REMOTE, but a port to connect to.
pub(super) fn parse_upstream(text: &str) -> Result<String, String> {
    let upstream = parse_remote(text)?;
    if upstream
        .rsplit_once(':')
        .is_some_and(|(_, port)| port.parse::<u16>() == Ok(0))
    {
        return Err("port 0 is not a port to connect to".into());
    }
    Ok(upstream)
}

pub(super) fn parse_framing(text: &str) -> Result<Framing, String> {
    text.parse().map_err(|error: FramingError| error.to_string())
}

fn parse_max_clients(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("a server that refuses every client is no server: give 1 or more".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("\"{text}\" is not a whole number")),
    }
}

/// Seconds, more than 0 and at most a day.
fn parse_udp_idle(text: &str) -> Result<Duration, String> {
    let idle = parse_secs(text)?;
    if idle.is_zero() || idle > Duration::from_secs(86_400) {
        return Err(format!("\"{text}\": give more than 0 and at most 86400 seconds"));
    }
    Ok(idle)
}

pub(super) fn parse_secs(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .ok_or_else(|| format!("\"{text}\" is not a number of seconds"))
}

/// `cr | lf | crlf`, with their byte values as help ("none" is what leaving the option out means).
pub(super) fn line_ending_parser() -> impl TypedValueParser<Value = LineEnding> {
    let values = LineEnding::value_variants()
        .iter()
        .filter(|&&ending| ending != LineEnding::None)
        .filter_map(ValueEnum::to_possible_value);
    PossibleValuesParser::new(values).try_map(|name| LineEnding::from_str(&name, false))
}

// `wirepad load`: its arguments (the run is src/cli/load.rs).

/// The longest load run: a year.
const MAX_DURATION: Duration = Duration::from_secs(365 * 86_400);

#[derive(Debug, Clone, Subcommand)]
pub enum LoadCommand {
    /// Load a TCP server: N connections, each sending on its schedule; replies complete the oldest message
    Tcp(LoadArgs),
    /// Load a UDP server: N sockets, each sending on its schedule; replies matched by {seq} when they carry it
    Udp(LoadArgs),
    /// One report from the JSON reports of several runs: counts add up, histograms merge exactly
    Merge(MergeArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, PartialEq, Args)]
pub struct LoadArgs {
    /// The server: HOST:PORT or [IPv6]:PORT
    #[arg(value_name = "HOST:PORT", value_parser = parse_upstream)]
    pub target: String,
    /// Concurrent connections (tcp) or sending sockets (udp)
    #[arg(short, long, value_name = "N", default_value_t = 1, value_parser = parse_connections)]
    pub connections: u32,
    /// New connections per second (default: all at once)
    #[arg(long, value_name = "R", value_parser = parse_positive_rate, allow_hyphen_values = true)]
    pub connect_rate: Option<f64>,
    /// Messages per second per connection; 0 (the default) sends as fast as it can
    #[arg(long, value_name = "R", value_parser = parse_rate, conflicts_with = "total_rate", allow_hyphen_values = true)]
    pub rate: Option<f64>,
    /// Messages per second in total, spread evenly over the connections
    #[arg(long, value_name = "R", value_parser = parse_rate, allow_hyphen_values = true)]
    pub total_rate: Option<f64>,
    /// Send for S seconds (fractions allowed), then wait up to --timeout for the replies
    #[arg(long, value_name = "S", value_parser = parse_duration, conflicts_with = "count", allow_hyphen_values = true)]
    pub duration: Option<Duration>,
    /// Send N messages in total, then wait up to --timeout for the replies (default: until Ctrl+C)
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub count: Option<u64>,
    /// Milliseconds a connect may take, and replies are waited for at the end (1 to 3600000)
    #[arg(long, value_name = "MS", default_value_t = 5000, value_parser = parse_timeout)]
    pub timeout: u64,
    /// tcp: at most N unanswered messages per connection (default 128 at --rate 0); 1 is a closed loop, each
    /// message sent when the previous one's reply arrives
    #[arg(long, value_name = "N", value_parser = parse_in_flight)]
    pub in_flight: Option<u32>,
    /// Text encoding of --send
    #[arg(short, long, value_name = "NAME")]
    pub encoding: Option<String>,
    /// Each message: TEXT with escapes and variables ({seq} {conn} {time_us} {rand:N} {count} {peer} {time};
    /// {{ and }} are braces)
    #[arg(short, long, value_name = "TEXT", group = "payload")]
    pub send: Option<String>,
    /// Each message as hex bytes (no variables)
    #[arg(long, value_name = "HEX", group = "payload")]
    pub send_hex: Option<String>,
    /// Each message is this file's bytes, as they are
    #[arg(long, value_name = "PATH", group = "payload")]
    pub send_file: Option<PathBuf>,
    /// Append a checksum of each message (after its variables are filled in)
    #[arg(long, value_name = "NAME", conflicts_with = "send_file")]
    pub checksum: Option<Checksum>,
    /// Append a line ending after each message and its checksum
    #[arg(long, value_name = "ENDING", value_parser = line_ending_parser(), conflicts_with = "send_file")]
    pub append: Option<LineEnding>,
    /// How replies are cut into messages (tcp; default none = each read): line, delim:HEX, len:…, gap:MS
    #[arg(long, value_name = "SPEC", value_parser = parse_framing)]
    pub frame: Option<Framing>,
    /// The report on stdout
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub report: ReportFormat,
    /// Also write the JSON report to F
    #[arg(long, value_name = "F")]
    pub report_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct MergeArgs {
    /// JSON reports (`--report json` or `--report-file`)
    #[arg(value_name = "REPORT.json", required = true, num_args = 1..)]
    pub reports: Vec<PathBuf>,
    /// The merged report on stdout
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub report: ReportFormat,
    /// Also write the merged JSON report to F
    #[arg(long, value_name = "F")]
    pub report_file: Option<PathBuf>,
}

pub(super) fn parse_connections(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(0) => Err("a load test needs 1 or more connections".into()),
        Ok(n @ 1..=MAX_CONNECTIONS) => Ok(n),
        _ => Err(format!("\"{text}\": give 1 to {MAX_CONNECTIONS}")),
    }
}

/// Messages per second: 0 (as fast as it can) or MIN_RATE to MAX_RATE.
pub(super) fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate == 0.0 || (MIN_RATE..=MAX_RATE).contains(&rate) => Ok(rate),
        _ => Err(format!(
            "\"{text}\": give 0 (as fast as it can) or {MIN_RATE} to {MAX_RATE} per second"
        )),
    }
}

pub(super) fn parse_positive_rate(text: &str) -> Result<f64, String> {
    match parse_rate(text) {
        Ok(rate) if rate > 0.0 => Ok(rate),
        _ => Err(format!("\"{text}\": give {MIN_RATE} to {MAX_RATE} per second")),
    }
}

pub(super) fn parse_duration(text: &str) -> Result<Duration, String> {
    let span = parse_secs(text)?;
    if span.is_zero() || span > MAX_DURATION {
        return Err(format!("\"{text}\": give more than 0 and at most a year of seconds"));
    }
    Ok(span)
}

pub(super) fn parse_count(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(count) if count >= 1 => Ok(count),
        _ => Err(format!("\"{text}\": give a whole number of messages, 1 or more")),
    }
}

pub(super) fn parse_in_flight(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(n @ 1..=MAX_IN_FLIGHT) => Ok(n),
        _ => Err(format!("\"{text}\": give 1 to {MAX_IN_FLIGHT} unanswered messages")),
    }
}

pub(super) fn parse_timeout(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(ms @ 1..=3_600_000) => Ok(ms),
        _ => Err(format!("\"{text}\": give 1 to 3600000 ms")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn local_addresses() {
        let cases = [
            ("8080", "0.0.0.0:8080"),
            ("127.0.0.1:0", "127.0.0.1:0"),
            ("[::1]:7", "[::1]:7"),
        ];
        for (text, addr) in cases {
            assert_eq!(parse_local(text), Ok(addr.parse().expect(addr)), "{text}");
        }
        for bad in ["", "70000", "localhost:80", "::1:80", "1.2.3.4"] {
            assert_eq!(
                parse_local(bad),
                Err("expected PORT, IP:PORT or [IPv6]:PORT".into()),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn remotes() {
        for good in ["localhost:80", "127.0.0.1:1", "[::1]:65535", "example.com:0"] {
            assert_eq!(parse_remote(good).as_deref(), Ok(good));
        }
        let cases = [
            ("localhost", "expected HOST:PORT or [IPv6]:PORT"),
            (":80", "the host is missing: expected HOST:PORT"),
            ("::1:80", "write an IPv6 address in brackets: [ADDR]:PORT"),
            ("host:99999", "\"99999\" is not a port number (0-65535)"),
            ("host:x", "\"x\" is not a port number (0-65535)"),
        ];
        for (bad, reason) in cases {
            assert_eq!(parse_remote(bad), Err(reason.into()), "{bad:?}");
        }
    }

    #[test]
    fn max_clients() {
        assert_eq!(parse_max_clients("3"), Ok(3));
        assert!(parse_max_clients("0").is_err_and(|e| e.contains("1 or more")));
        assert!(parse_max_clients("many").is_err_and(|e| e.contains("\"many\" is not a whole number")));
    }

    #[test]
    fn seconds() {
        assert_eq!(parse_secs("1.5"), Ok(Duration::from_millis(1500)));
        for bad in ["-1", "NaN", "soon", "1e400"] {
            assert_eq!(parse_secs(bad), Err(format!("\"{bad}\" is not a number of seconds")));
        }
    }

    #[test]
    fn parses_a_session_as_the_window_receives_it() {
        let session = parse_session(["tcp-server", "8080", "-e", "GBK", "--append", "crlf"]).expect("valid session");
        let SessionArgs::TcpServer(server) = &session else {
            panic!("parsed as {session:?}");
        };
        assert_eq!(server.listen, "0.0.0.0:8080".parse().expect("addr"));
        assert_eq!(server.common.send.append, Some(LineEnding::CrLf));
        assert_eq!(server.common.text_encoding().expect("known"), TextEncoding::GBK);
        let config = session_config(&session);
        assert_eq!(
            config.mode,
            Mode::TcpServer(tcp_server::Config {
                listen: "0.0.0.0:8080".parse().expect("addr"),
                max_clients: None,
                tls: None,
            })
        );
        assert_eq!(config.delivery, Delivery::Lossless);
        let error = |args: &[&str]| parse_session(args).expect_err("rejected").kind();
        assert_eq!(
            error(&["tcp-server", "8080", "--append", "none"]),
            clap::error::ErrorKind::InvalidValue
        );
        assert_eq!(
            error(&["udp", "--max-clients", "1"]),
            clap::error::ErrorKind::UnknownArgument
        );
    }

    #[test]
    fn udp_binds_the_family_of_its_remote() {
        let bind = |args: &[&str]| {
            let session = parse_session(args).expect("valid session");
            match session_config(&session).mode {
                Mode::Udp(udp) => udp.bind.to_string(),
                mode => panic!("{mode:?}"),
            }
        };
        assert_eq!(bind(&["udp", "--remote", "[::1]:9"]), "[::]:0");
        assert_eq!(bind(&["udp", "--join", "ff02::1"]), "[::]:0");
        assert_eq!(bind(&["udp", "--remote", "localhost:9"]), "0.0.0.0:0");
        assert_eq!(bind(&["udp", "--bind", "5000"]), "0.0.0.0:5000");
    }

    #[test]
    fn argument_rules() {
        use clap::error::ErrorKind;
        let rejected = [
            (
                &["tcp-client", "h:1", "-s", "a", "--send-hex", "61"][..],
                ErrorKind::ArgumentConflict,
            ),
            (
                &["tcp-client", "h:1", "--send-file", "f", "-s", "a"],
                ErrorKind::ArgumentConflict,
            ),
            (
                &["tcp-client", "h:1", "--repeat", "3"],
                ErrorKind::MissingRequiredArgument,
            ),
            (
                &["tcp-client", "h:1", "-s", "a", "--interval", "5"],
                ErrorKind::MissingRequiredArgument,
            ),
            (&["tcp-server", "1", "--max-clients", "0"], ErrorKind::ValueValidation),
            (&["tcp-client", "h:1", "--checksum", "md5"], ErrorKind::InvalidValue),
        ];
        for (args, kind) in rejected {
            let error = parse_session(args).expect_err(&format!("{args:?} was accepted"));
            assert_eq!(error.kind(), kind, "{args:?}: {error}");
        }
        let accepted = parse_session(["tcp-client", "h:1", "-s", "a", "--repeat", "3"]).expect("--interval defaults");
        assert_eq!(accepted.common().send.interval, 1000);
    }
}
