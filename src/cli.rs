//! The command line front end: the same engine as the window, driven by flags.
//!
//! Contract (DESIGN.md, "Command line"): the first stderr line says where the socket is, received
//! data goes to stdout only, and the exit code is 0 when done, 1 on a network or file error and 2
//! on bad arguments or bad input, which are found before anything is sent.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io::{self, BufRead, BufWriter, Read, StdoutLock, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, Local};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use crossbeam_channel::{Receiver, RecvError, bounded, never, select};

use crate::capture::CaptureFile;
use crate::codec::checksum::Checksum;
use crate::codec::hex::to_hex;
use crate::codec::text::{StreamDecoder, TextEncoding, TextError};
use crate::net::{
    Bytes, CloseReason, Command, Delivery, Event, EventKind, Group, LeaveReason, MAX_DATAGRAM, Mode, NetError,
    ReceivedAs, Session, SessionConfig, Target,
};
use crate::send::{LineEnding, PayloadError, PayloadFormat, PayloadSpec};
use crate::session::Endpoint;
use crate::session::spec::parse_group;

/// Lines read ahead from standard input while nothing can be sent yet.
const STDIN_LINES_AHEAD: usize = 64;
/// The longest `--stdin` line: each is held whole until sent, so this times `STDIN_LINES_AHEAD` bounds the memory.
const MAX_STDIN_LINE: usize = 1 << 20;

const AFTER_HELP: &str = "\
The first line on stderr says where the socket is, so port 0 can be discovered by scripts: \
\"listening on ADDR\" (tcp-server), \"bound to ADDR\" (udp), \"connected to ADDR from LOCAL\" (tcp-client). \
Received data goes to stdout only, as UTF-8; peers joining and leaving, and errors, go to stderr.

Exit codes: 0 done (a quit condition, or the server closed a tcp-client), 1 network or file error, \
2 bad arguments or bad input (bad hex, bad escape, unknown encoding, text not encodable; nothing is sent).";

/// The synopsis of every subcommand and option, so `wirepad --help` alone shows everything there is.
const SYNOPSIS: &str = "\
Sessions:
  wirepad                                   open the window
  wirepad gui [SESSION...]                  open the window with that session open (wirepad gui tcp-server 7788)
  wirepad tcp-server LISTEN [--max-clients N] [OPTIONS]      LISTEN = PORT | IP:PORT | [IPv6]:PORT
  wirepad tcp-client REMOTE [--bind LOCAL] [--reconnect] [OPTIONS]      REMOTE = HOST:PORT
  wirepad udp [--bind LOCAL] [--remote HOST:PORT] [--follow-peer] [--broadcast] [--join GROUP]... [OPTIONS]

OPTIONS (see `wirepad help tcp-server` for the details):
  -e, --encoding NAME   --hex   --log   -q, --quiet   --recv-file PATH
  -s, --send TEXT | --send-hex HEX | --send-file PATH   --append cr|lf|crlf
  --checksum sum8|xor8|crc16-modbus|crc16-ccitt|crc32|lrc   --repeat N   --interval MS   --stdin   --echo
  --quit-after-bytes N   --quit-after-secs S   --quit-when-idle MS
";

/// Wirepad: a network debugging assistant (TCP server, TCP client, UDP). Without a subcommand it opens the window.
#[derive(Debug, Parser)]
#[command(name = "wirepad", version, after_help = format!("{SYNOPSIS}\n{AFTER_HELP}"))]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<CliCommand>,
}

#[derive(Debug, Subcommand)]
pub enum CliCommand {
    #[command(flatten)]
    Session(SessionArgs),
    /// Open the window, optionally with a session already open (e.g. `wirepad gui tcp-server 7788`)
    Gui {
        #[command(subcommand)]
        session: Option<SessionArgs>,
    },
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

/// Options shared by the three session kinds.
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
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Send")]
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
    Cli::try_parse().map_err(|error| {
        if error.use_stderr() {
            let error = usage_error(&error);
            note(format_args!("error: {error}"));
            error.exit_code()
        } else {
            // A closed stdout is no reason to fail `--help`.
            let _ = error.print();
            ExitCode::SUCCESS
        }
    })
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
        }
    }

    /// The session these arguments describe.
    pub fn endpoint(&self) -> Endpoint {
        match self {
            SessionArgs::TcpServer(server) => Endpoint::TcpServer {
                listen: server.listen,
                max_clients: server.max_clients,
            },
            SessionArgs::TcpClient(client) => Endpoint::TcpClient {
                remote: client.remote.clone(),
                bind: client.bind,
                reconnect: client.reconnect,
            },
            SessionArgs::Udp(udp) => Endpoint::Udp {
                bind: udp.bind,
                remote: udp.remote.clone(),
                follow_peer: udp.follow_peer,
                broadcast: udp.broadcast,
                groups: udp.join.clone(),
            },
        }
    }
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
        received_as,
        echo: common.send.echo,
        ..args.endpoint().config(Delivery::Lossless)
    }
}

/// Everything that can end a run other than success. Exit codes are decided in `exit_code` only.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Arguments clap cannot check by itself.
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Encoding(#[from] TextError),
    #[error("{option}: {source}")]
    Payload { option: &'static str, source: PayloadError },
    #[error("{option}: nothing to send")]
    NothingToSend { option: &'static str },
    #[error("{option}: {len} bytes do not fit in one UDP datagram (at most {limit})")]
    DatagramTooLarge {
        option: &'static str,
        len: usize,
        limit: usize,
    },
    #[error("standard input, line {line}: {source}")]
    StdinLine { line: u64, source: PayloadError },
    #[error("standard input, line {line}: not valid UTF-8")]
    StdinNotUtf8 { line: u64 },
    #[error("standard input, line {line}: longer than {MAX_STDIN_LINE} bytes (send big data with --send-file)")]
    StdinTooLong { line: u64 },
    #[error(
        "--send-file: {} is not a regular file (a pipe or device could block the session; send a stream with \
         --stdin)",
        path.display()
    )]
    NotAFile { path: PathBuf },
    #[error(transparent)]
    Net(Arc<NetError>),
    #[error("connection reset by peer")]
    Reset,
    #[error("the session ended after an error")]
    Failed,
    #[error("cannot write to standard output: {0}")]
    Stdout(io::Error),
    #[error("cannot read standard input: {0}")]
    Stdin(io::Error),
}

impl From<NetError> for CliError {
    fn from(error: NetError) -> Self {
        CliError::Net(Arc::new(error))
    }
}

impl CliError {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Usage(_)
            | CliError::Encoding(_)
            | CliError::Payload { .. }
            | CliError::NothingToSend { .. }
            | CliError::DatagramTooLarge { .. }
            | CliError::StdinLine { .. }
            | CliError::StdinNotUtf8 { .. }
            | CliError::StdinTooLong { .. }
            | CliError::NotAFile { .. } => ExitCode::from(2),
            CliError::Net(_) | CliError::Reset | CliError::Failed | CliError::Stdout(_) | CliError::Stdin(_) => {
                ExitCode::from(1)
            }
        }
    }
}

/// Runs one session until a quit condition, the end of the connection, or an error.
pub fn run(args: SessionArgs) -> ExitCode {
    match Plan::new(&args).and_then(Plan::run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            note(format_args!("error: {error}"));
            error.exit_code()
        }
    }
}

/// What to send as soon as there is somewhere to send it.
enum Greeting {
    Bytes { bytes: Bytes, repeat: Option<Repeat> },
    File(PathBuf),
}

#[derive(Clone, Copy)]
struct Repeat {
    /// `None`: until stopped.
    count: Option<u64>,
    interval: Duration,
}

/// A run worked out and checked before anything touches the network.
struct Plan {
    config: SessionConfig,
    greeting: Option<Greeting>,
    /// How `--stdin` lines become bytes.
    spec: PayloadSpec,
    printer: Option<PrintStyle>,
    stdin: bool,
    quit: QuitArgs,
    /// UDP: the largest payload one send may have.
    datagram_limit: Option<usize>,
}

impl Plan {
    fn new(args: &SessionArgs) -> Result<Plan, CliError> {
        let common = args.common();
        let spec = common.payload_spec()?;
        let send = &common.send;
        // Clap cannot say "unless --stdin"; --send and --send-hex already conflict with --send-file.
        let framing = [
            ("--checksum", send.checksum.is_some()),
            ("--append", send.append.is_some()),
        ];
        if let Some((option, _)) = framing.iter().find(|(_, given)| *given)
            && send.send_file.is_some()
            && !send.stdin
        {
            return Err(CliError::Usage(format!(
                "{option} does not apply to --send-file (the file is sent as it is), only to --send, --send-hex and \
                 --stdin lines"
            )));
        }
        let greeting = greeting(send, spec)?;
        let datagram_limit = args.endpoint().datagram_limit();
        if let (Some(limit), Some(Greeting::Bytes { bytes, .. })) = (datagram_limit, &greeting)
            && bytes.len() > limit
        {
            let option = if send.send.is_some() { "--send" } else { "--send-hex" };
            return Err(CliError::DatagramTooLarge {
                option,
                len: bytes.len(),
                limit,
            });
        }
        if let SessionArgs::Udp(udp) = args
            && udp.remote.is_none()
            && !udp.follow_peer
            && (greeting.is_some() || send.stdin)
        {
            return Err(CliError::Usage(
                "udp: sending needs --remote HOST:PORT (or --follow-peer to reply to whoever sends first)".into(),
            ));
        }
        let receive = &common.receive;
        let printer = (!receive.quiet).then_some(PrintStyle {
            hex: receive.hex,
            log: receive.log,
            encoding: spec.encoding,
        });
        Ok(Plan {
            config: session_config(args),
            greeting,
            spec,
            printer,
            stdin: send.stdin,
            quit: common.quit.clone(),
            datagram_limit,
        })
    }

    fn run(self) -> Result<(), CliError> {
        let session = Session::start(self.config.clone(), Arc::new(|| {}))?;
        let stdin = if self.stdin {
            Some(read_stdin_lines().map_err(CliError::Stdin)?)
        } else {
            None
        };
        Runner::new(self, session, stdin).run()
    }
}

/// Checks that `path` is a regular file this process can read, and returns its length. A FIFO or device is
/// refused without being opened: opening a FIFO waits for a writer, and the engine would read it on the
/// session's own thread, so neither the ready line nor a quit condition would ever come.
fn sendable_file(path: &Path) -> Result<u64, CliError> {
    let read_error = |source| NetError::ReadFile {
        path: path.to_owned(),
        source,
    };
    let metadata = std::fs::metadata(path).map_err(read_error)?;
    if !metadata.is_file() {
        return Err(CliError::NotAFile { path: path.to_owned() });
    }
    std::fs::File::open(path).map_err(read_error)?;
    Ok(metadata.len())
}

/// Builds the bytes of `--send` / `--send-hex` now, so bad input stops the run before anything is sent.
fn greeting(send: &SendArgs, spec: PayloadSpec) -> Result<Option<Greeting>, CliError> {
    let (option, input, spec) = match (&send.send, &send.send_hex, &send.send_file) {
        (Some(text), _, _) => ("--send", text, spec),
        (_, Some(hex), _) => {
            let spec = PayloadSpec {
                format: PayloadFormat::Hex,
                ..spec
            };
            ("--send-hex", hex, spec)
        }
        (_, _, Some(path)) => {
            // Fail now rather than when the first peer arrives.
            sendable_file(path)?;
            return Ok(Some(Greeting::File(path.clone())));
        }
        (None, None, None) => return Ok(None),
    };
    let bytes = spec
        .build(input)
        .map_err(|source| CliError::Payload { option, source })?;
    if bytes.is_empty() {
        return Err(CliError::NothingToSend { option });
    }
    let repeat = send.repeat.map(|count| Repeat {
        count: (count > 0).then_some(count),
        interval: Duration::from_millis(send.interval),
    });
    Ok(Some(Greeting::Bytes {
        bytes: bytes.into(),
        repeat,
    }))
}

type StdinLine = Result<Vec<u8>, StdinError>;

enum StdinError {
    Read(io::Error),
    TooLong,
}

/// Reads standard input on a thread of its own, one line (without its newline) per message.
/// The thread is left blocked in `read` when the run ends; the process exit takes it.
fn read_stdin_lines() -> io::Result<Receiver<StdinLine>> {
    let (tx, rx) = bounded(STDIN_LINES_AHEAD);
    std::thread::Builder::new()
        .name("wirepad-stdin".into())
        .spawn(move || {
            let mut input = io::stdin().lock();
            loop {
                let mut line = Vec::new();
                // Room for the longest line and its "\r\n": anything that fills it without a newline is too long.
                let limit = MAX_STDIN_LINE as u64 + 2;
                let message = match (&mut input).take(limit).read_until(b'\n', &mut line) {
                    Ok(0) => return,
                    Ok(_) => match strip_newline(line) {
                        line if line.len() > MAX_STDIN_LINE => Err(StdinError::TooLong),
                        line => Ok(line),
                    },
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => Err(StdinError::Read(e)),
                };
                let failed = message.is_err();
                if tx.send(message).is_err() || failed {
                    return;
                }
            }
        })?;
    Ok(rx)
}

fn strip_newline(mut line: Vec<u8>) -> Vec<u8> {
    if line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    }
    line
}

/// How received data is shown.
#[derive(Clone, Copy)]
struct PrintStyle {
    hex: bool,
    log: bool,
    encoding: TextEncoding,
}

/// Received data on stdout: decoded text (one streaming decoder per peer, so a character split
/// across reads survives), hex lines, or log lines. Flushed once per event batch.
struct Printer {
    style: PrintStyle,
    out: BufWriter<StdoutLock<'static>>,
    decoders: HashMap<SocketAddr, StreamDecoder>,
    /// Decoded text, reused: a read of up to 1 MiB decodes to up to 3 MiB, too big to allocate afresh each time.
    text: String,
}

impl Printer {
    fn new(style: PrintStyle) -> Self {
        Printer {
            style,
            out: BufWriter::new(io::stdout().lock()),
            decoders: HashMap::new(),
            text: String::new(),
        }
    }

    fn chunk(&mut self, at: SystemTime, peer: SocketAddr, bytes: &[u8]) -> io::Result<()> {
        if self.style.hex {
            let data = to_hex(bytes);
            return self.show(at, peer, &data);
        }
        let encoding = self.style.encoding;
        let decoder = self.decoders.entry(peer).or_insert_with(|| encoding.decoder());
        let mut text = std::mem::take(&mut self.text);
        text.clear();
        decoder.decode_into(bytes, &mut text);
        // Only part of a character: the decoder keeps it for the next chunk, and a log line
        // with no data would say nothing.
        let shown = if text.is_empty() && !bytes.is_empty() {
            Ok(())
        } else {
            self.show(at, peer, &text)
        };
        self.text = text;
        shown
    }

    /// Ends every text stream when the run ends: unfinished characters become U+FFFD.
    fn finish(&mut self) -> io::Result<()> {
        let mut peers: Vec<SocketAddr> = self.decoders.keys().copied().collect();
        peers.sort_unstable();
        for peer in peers {
            self.peer_gone(peer)?;
        }
        Ok(())
    }

    /// Ends a peer's text stream: an unfinished character becomes U+FFFD.
    fn peer_gone(&mut self, peer: SocketAddr) -> io::Result<()> {
        let Some(mut decoder) = self.decoders.remove(&peer) else {
            return Ok(());
        };
        let tail = decoder.finish();
        if tail.is_empty() {
            return Ok(());
        }
        self.show(SystemTime::now(), peer, &tail)
    }

    fn show(&mut self, at: SystemTime, peer: SocketAddr, data: &str) -> io::Result<()> {
        if self.style.log {
            let time = DateTime::<Local>::from(at).format("%H:%M:%S%.3f");
            write!(self.out, "[{time}] {peer}: {data}")?;
            // Data that ends its own line (e.g. "ok\r\n") keeps it; anything else gets one.
            if !data.ends_with('\n') {
                self.out.write_all(b"\n")?;
            }
        } else {
            self.out.write_all(data.as_bytes())?;
            if self.style.hex {
                self.out.write_all(b"\n")?;
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// One line on stderr. A closed stderr is no reason to fail (or panic, as `eprintln!` would).
fn note(line: fmt::Arguments) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}

/// The main loop: reacts to engine events, stdin lines and the quit timers.
struct Runner {
    session: Session,
    config: SessionConfig,
    greeting: Option<Greeting>,
    spec: PayloadSpec,
    quit: QuitArgs,
    datagram_limit: Option<usize>,
    printer: Option<Printer>,
    stdin: Option<Receiver<StdinLine>>,
    stdin_lines: u64,
    /// Set once the session was told to stop: how the run ends. Events are drained until `Closed`.
    stopping: Option<Result<(), CliError>>,
    ready_at: Option<Instant>,
    last_activity: Instant,
    received: u64,
    /// Destinations a `Target::Default` send reaches now (TCP server: clients; otherwise 0 or 1).
    reachable: usize,
    periodic_running: bool,
    /// The engine streams one file at a time; the rest wait here.
    files_waiting: VecDeque<Target>,
    file_running: bool,
    connect_failure: Option<Arc<NetError>>,
}

impl Runner {
    fn new(plan: Plan, session: Session, stdin: Option<Receiver<StdinLine>>) -> Self {
        Runner {
            session,
            config: plan.config,
            greeting: plan.greeting,
            spec: plan.spec,
            quit: plan.quit,
            datagram_limit: plan.datagram_limit,
            printer: plan.printer.map(Printer::new),
            stdin,
            stdin_lines: 0,
            stopping: None,
            ready_at: None,
            last_activity: Instant::now(),
            received: 0,
            reachable: 0,
            periodic_running: false,
            files_waiting: VecDeque::new(),
            file_running: false,
            connect_failure: None,
        }
    }

    fn run(mut self) -> Result<(), CliError> {
        let events = self.session.events().clone();
        loop {
            // Lines wait in their channel until they have somewhere to go.
            let lines = match &self.stdin {
                Some(lines) if self.reachable > 0 && self.stopping.is_none() => lines.clone(),
                _ => never(),
            };
            let timer = self.deadline().map_or_else(never, crossbeam_channel::at);
            select! {
                recv(events) -> batch => {
                    let Ok(batch) = batch else {
                        return self.stopping.take().unwrap_or(Err(CliError::Failed));
                    };
                    for event in batch {
                        if let EventKind::Closed { reason } = event.kind {
                            self.print(Printer::finish);
                            self.flush_stdout();
                            self.summary();
                            return self.closed(reason);
                        }
                        self.handle(event);
                    }
                }
                recv(lines) -> line => self.stdin_line(line),
                recv(timer) -> _ => {
                    if self.deadline().is_some_and(|due| Instant::now() >= due) {
                        self.stop(Ok(()));
                    }
                }
            }
            self.flush_stdout();
        }
    }

    /// The earliest quit timer; none before the first stderr line or once it is stopping. A time too far
    /// off for the clock to represent never comes.
    fn deadline(&self) -> Option<Instant> {
        let ready_at = self.ready_at.filter(|_| self.stopping.is_none())?;
        let after_secs = self.quit.quit_after_secs.and_then(|secs| ready_at.checked_add(secs));
        let idle = self
            .quit
            .quit_when_idle
            .and_then(|ms| self.last_activity.checked_add(Duration::from_millis(ms)));
        after_secs.into_iter().chain(idle).min()
    }

    fn handle(&mut self, event: Event) {
        match event.kind {
            EventKind::Ready { local } => {
                match &self.config.mode {
                    Mode::Udp { remote, .. } => {
                        // A hostname is resolved later and reported as `RemoteChanged`.
                        let known = remote.as_deref().is_some_and(|r| r.parse::<SocketAddr>().is_ok());
                        self.ready(format_args!("bound to {local}"));
                        if let Some(buffer) = self.session.recv_buffer().filter(|b| b.capped()) {
                            let (granted, wanted) = (buffer.granted, buffer.wanted);
                            note(format_args!(
                                "note: the OS gave a UDP receive buffer of {granted} bytes, not {wanted}: bursts may \
                                 be dropped (Linux: raise net.core.rmem_max)"
                            ));
                        }
                        if known {
                            self.default_target_reachable();
                        }
                    }
                    _ => self.ready(format_args!("listening on {local}")),
                }
                self.quit_if_received_enough();
            }
            EventKind::Connected { local, peer } => {
                self.ready(format_args!("connected to {peer} from {local}"));
                self.default_target_reachable();
                self.quit_if_received_enough();
            }
            EventKind::PeerJoined { peer, .. } => {
                note(format_args!("client {peer} joined"));
                self.reachable += 1;
                self.greet(Target::Peer(peer));
            }
            EventKind::PeerRefused { peer } => {
                note(format_args!("client {peer} refused: --max-clients reached"));
            }
            EventKind::PeerLeft { peer, reason } => self.peer_left(peer, reason),
            EventKind::RemoteChanged { remote } => {
                note(format_args!("sending to {remote}"));
                self.default_target_reachable();
            }
            EventKind::Received { peer, bytes } => self.received(event.at, peer, bytes),
            EventKind::ReceivedLen { len, .. } => self.count_received(len),
            EventKind::Sent { .. } => self.last_activity = Instant::now(),
            EventKind::PeriodicProgress { done, .. } => self.periodic_running &= !done,
            EventKind::FileProgress { done, .. } => {
                self.last_activity = Instant::now();
                if done {
                    self.file_running = false;
                    self.next_file();
                }
            }
            EventKind::ConnectFailed { reason } => self.connect_failure = Some(reason),
            EventKind::Reconnecting { after } => {
                if let Some(failure) = self.connect_failure.take() {
                    note(format_args!("error: {failure}"));
                }
                note(format_args!("reconnecting in {} ms", after.as_millis()));
                // A client that never connects has no ready line: its first stderr line starts the clock.
                self.start_clock();
            }
            EventKind::Error(error) => match self.fatality(&error) {
                Fatality::Fatal => self.stop(Err(CliError::Net(error))),
                Fatality::ClientFile => self.file_failed(&error),
                Fatality::Reported => note(format_args!("error: {error}")),
            },
            // Lossless delivery never drops from view.
            EventKind::Connecting { .. } | EventKind::DroppedFromView { .. } | EventKind::Closed { .. } => {}
        }
    }

    /// What the engine could not do, counted, on stderr once the session is over.
    fn summary(&self) {
        let counters = self.session.counters().snapshot();
        if counters.missed_ticks > 0 {
            let ticks = counters.missed_ticks;
            note(format_args!(
                "periodic send: {ticks} ticks skipped (the sender was late; none are made up)"
            ));
        }
        if counters.kernel_dropped > 0 {
            let dropped = counters.kernel_dropped;
            note(format_args!(
                "udp: the kernel dropped {dropped} datagrams before they were read (buffer full)"
            ));
        }
    }

    /// The first stderr line (contract), and the start of the quit timers.
    fn ready(&mut self, line: fmt::Arguments) {
        note(line);
        self.start_clock();
        self.last_activity = Instant::now();
    }

    /// The quit timers count from the first stderr line (`--help` says so).
    fn start_clock(&mut self) {
        if self.ready_at.is_none() {
            let now = Instant::now();
            self.ready_at = Some(now);
            self.last_activity = now;
        }
    }

    /// TCP client connected, UDP remote known: sends to `Target::Default` can go.
    fn default_target_reachable(&mut self) {
        if self.reachable == 0 {
            self.reachable = 1;
            self.greet(Target::Default);
        }
    }

    fn peer_left(&mut self, peer: SocketAddr, reason: LeaveReason) {
        self.print(|printer| printer.peer_gone(peer));
        self.reachable = self.reachable.saturating_sub(1);
        self.files_waiting.retain(|&target| target != Target::Peer(peer));
        let why = match reason {
            LeaveReason::Closed => "closed by peer",
            LeaveReason::Reset => "connection reset by peer",
            LeaveReason::Kicked => "kicked",
            LeaveReason::Error => "error",
        };
        let who = match self.config.mode {
            Mode::TcpServer { .. } => "client",
            _ => "server",
        };
        note(format_args!("{who} {peer} left: {why}"));
    }

    /// Prints, then counts a chunk. The engine has already queued its echo: a chunk is echoed before it counts
    /// toward a quit condition.
    fn received(&mut self, at: SystemTime, peer: SocketAddr, bytes: Vec<u8>) {
        self.print(|printer| printer.chunk(at, peer, &bytes));
        self.count_received(bytes.len() as u64);
    }

    fn count_received(&mut self, len: u64) {
        self.last_activity = Instant::now();
        self.received = self.received.saturating_add(len);
        self.quit_if_received_enough();
    }

    /// `--quit-after-bytes`; checked when ready too, so 0 quits at once (after any greeting is queued).
    fn quit_if_received_enough(&mut self) {
        if self.quit.quit_after_bytes.is_some_and(|limit| self.received >= limit) {
            self.stop(Ok(()));
        }
    }

    /// Starts what `--send`, `--send-hex` or `--send-file` asked for towards a destination that just became reachable.
    fn greet(&mut self, target: Target) {
        match &self.greeting {
            Some(Greeting::File(_)) => {
                self.files_waiting.push_back(target);
                self.next_file();
            }
            Some(Greeting::Bytes { bytes, repeat: None }) => self.send(target, bytes.clone()),
            // One schedule per session: it goes to every client, and a client that joins while
            // none runs starts it again.
            Some(Greeting::Bytes {
                bytes,
                repeat: Some(repeat),
            }) if !self.periodic_running => {
                self.periodic_running = true;
                self.session.command(Command::SendPeriodic {
                    to: Target::Default,
                    bytes: bytes.clone(),
                    interval: repeat.interval,
                    count: repeat.count,
                });
            }
            // No greeting, or the schedule already runs.
            _ => {}
        }
    }

    fn next_file(&mut self) {
        let Some(Greeting::File(path)) = &self.greeting else {
            return;
        };
        if self.file_running {
            return;
        }
        let path = path.clone();
        while let Some(to) = self.files_waiting.pop_front() {
            // Looked at again for each client: it may have gone or changed since the last one got it.
            let len = match sendable_file(&path) {
                Ok(len) => len,
                Err(error) => match to {
                    // A server's clients are each on their own: only this one goes without.
                    Target::Peer(peer) => {
                        note(format_args!("error: {error} (client {peer} is sent nothing)"));
                        continue;
                    }
                    Target::Default => return self.stop(Err(error)),
                },
            };
            if matches!(self.config.mode, Mode::Udp { .. }) && len > MAX_DATAGRAM as u64 {
                let datagrams = len.div_ceil(MAX_DATAGRAM as u64);
                note(format_args!(
                    "--send-file: {len} bytes go as {datagrams} datagrams of at most {MAX_DATAGRAM} bytes"
                ));
            }
            self.file_running = true;
            self.session.command(Command::SendFile { to, path });
            return;
        }
    }

    /// A server's file send that failed while reading: that client goes without, the next one's starts.
    fn file_failed(&mut self, error: &NetError) {
        note(format_args!("error: {error}"));
        self.file_running = false;
        self.next_file();
    }

    fn stdin_line(&mut self, line: Result<StdinLine, RecvError>) {
        let bytes = match line {
            // End of input: nothing more to send, the session goes on.
            Err(RecvError) => {
                self.stdin = None;
                return;
            }
            Ok(Ok(bytes)) => bytes,
            Ok(Err(StdinError::Read(error))) => return self.stop(Err(CliError::Stdin(error))),
            Ok(Err(StdinError::TooLong)) => {
                let line = self.stdin_lines + 1;
                return self.stop(Err(CliError::StdinTooLong { line }));
            }
        };
        self.stdin_lines += 1;
        let line = self.stdin_lines;
        let built = String::from_utf8(bytes)
            .map_err(|_| CliError::StdinNotUtf8 { line })
            .and_then(|text| {
                self.spec
                    .build(&text)
                    .map_err(|source| CliError::StdinLine { line, source })
            });
        let limit = self.datagram_limit.unwrap_or(usize::MAX);
        match built {
            Ok(bytes) if bytes.len() > limit => self.stop(Err(CliError::DatagramTooLarge {
                option: "--stdin",
                len: bytes.len(),
                limit,
            })),
            Ok(bytes) => self.send(Target::Default, bytes.into()),
            Err(error) => self.stop(Err(error)),
        }
    }

    fn send(&self, to: Target, bytes: Bytes) {
        // An empty TCP write would read as a closed connection; there is nothing to send anyway.
        if !bytes.is_empty() {
            self.session.send(to, bytes);
        }
    }

    /// Tells the session to stop; the first reason given is how the run ends, except that an error met while
    /// stopping (bytes left unsent, a capture that could not be finished) turns a clean quit into a failure.
    /// Later errors are printed as they come.
    fn stop(&mut self, result: Result<(), CliError>) {
        match (&self.stopping, result) {
            (None, result) => {
                self.stopping = Some(result);
                self.session.command(Command::Stop);
            }
            (Some(Ok(())), Err(error)) => self.stopping = Some(Err(error)),
            (Some(_), Err(error)) => note(format_args!("error: {error}")),
            (Some(_), Ok(())) => {}
        }
    }

    fn closed(&mut self, reason: CloseReason) -> Result<(), CliError> {
        if let Some(result) = self.stopping.take() {
            return result;
        }
        match reason {
            CloseReason::Stopped | CloseReason::PeerClosed => Ok(()),
            CloseReason::PeerReset => Err(CliError::Reset),
            CloseReason::ConnectFailed => Err(self.connect_failure.take().map_or(CliError::Failed, CliError::Net)),
            CloseReason::Error => Err(CliError::Failed),
        }
    }

    /// Errors that end the run: the capture, the file to send, the remote's name, the engine itself, and a
    /// failed UDP send (its one destination is the session's whole purpose). A TCP server's trouble with one
    /// client is that client's: reported, and the session goes on.
    fn fatality(&self, error: &NetError) -> Fatality {
        let server = matches!(self.config.mode, Mode::TcpServer { .. });
        let udp = matches!(self.config.mode, Mode::Udp { .. });
        match error {
            NetError::ReadFile { .. } if server => Fatality::ClientFile,
            NetError::Capture { .. }
            | NetError::ReadFile { .. }
            | NetError::Unsent { .. }
            | NetError::FileStopped { .. }
            | NetError::Resolve { .. }
            | NetError::DatagramTooLarge { .. }
            | NetError::Internal(_) => Fatality::Fatal,
            NetError::Send { .. } | NetError::NoPeer(_) | NetError::SendQueueFull { .. } if udp => Fatality::Fatal,
            _ => Fatality::Reported,
        }
    }

    /// Runs `write` on the printer; a reader that went away (EPIPE) ends the run like a quit
    /// condition, any other write error as a failure.
    fn print(&mut self, write: impl FnOnce(&mut Printer) -> io::Result<()>) {
        let Some(printer) = &mut self.printer else {
            return;
        };
        if let Err(error) = write(printer) {
            self.printer = None;
            let result = match error.kind() {
                io::ErrorKind::BrokenPipe => Ok(()),
                _ => Err(CliError::Stdout(error)),
            };
            self.stop(result);
        }
    }

    fn flush_stdout(&mut self) {
        self.print(Printer::flush);
    }
}

/// What an engine error does to the run.
enum Fatality {
    /// It ends the run (exit 1).
    Fatal,
    /// A server's file send to one client failed; the others still get theirs.
    ClientFile,
    /// Reported on stderr; the session goes on.
    Reported,
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

fn parse_max_clients(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("a server that refuses every client is no server: give 1 or more".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("\"{text}\" is not a whole number")),
    }
}

fn parse_secs(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .ok_or_else(|| format!("\"{text}\" is not a number of seconds"))
}

/// `cr | lf | crlf`, with their byte values as help ("none" is what leaving the option out means).
fn line_ending_parser() -> impl TypedValueParser<Value = LineEnding> {
    let values = LineEnding::value_variants()
        .iter()
        .filter(|&&ending| ending != LineEnding::None)
        .filter_map(ValueEnum::to_possible_value);
    PossibleValuesParser::new(values).try_map(|name| LineEnding::from_str(&name, false))
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
            Mode::TcpServer {
                listen: "0.0.0.0:8080".parse().expect("addr"),
                max_clients: None
            }
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
                Mode::Udp { bind, .. } => bind.to_string(),
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
