//! A run worked out and checked before anything touches the network: the session, what to send, how to print.
use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, bounded};

use super::CliError;
use super::args::{QuitArgs, SendArgs, SessionArgs, session_config};
use super::printer::PrintStyle;
use crate::automation::script::Script;
use crate::net::{NetError, Outgoing, RemoteUse, SessionConfig};
use crate::payload::{PayloadError, PayloadFormat, PayloadSpec};
use crate::vars::{Payload, Values, VarError};

/// Lines read ahead from standard input while nothing can be sent yet.
const STDIN_LINES_AHEAD: usize = 64;
/// The longest `--stdin` line: each is held whole until sent, so this times `STDIN_LINES_AHEAD` bounds the memory.
pub(super) const MAX_STDIN_LINE: usize = 1 << 20;

/// What to send as soon as there is somewhere to send it.
pub(super) enum Greeting {
    /// `len`: of the first send (a template's later ones may differ).
    Bytes {
        bytes: Outgoing,
        len: usize,
        repeat: Option<Repeat>,
    },
    File(PathBuf),
}

#[derive(Clone, Copy)]
pub(super) struct Repeat {
    /// `None`: until stopped.
    pub(super) count: Option<u64>,
    pub(super) interval: Duration,
}

/// A run worked out and checked before anything touches the network.
pub(super) struct Plan {
    pub(super) config: SessionConfig,
    pub(super) greeting: Option<Greeting>,
    /// How `--stdin` lines become bytes.
    pub(super) spec: PayloadSpec,
    pub(super) printer: Option<PrintStyle>,
    pub(super) stdin: bool,
    /// `--vars`: variables are filled in in `--stdin` lines too.
    pub(super) vars: bool,
    pub(super) quit: QuitArgs,
    /// UDP: the largest payload one send may have.
    pub(super) datagram_limit: Option<usize>,
}

impl Plan {
    pub(super) fn new(args: &SessionArgs) -> Result<Plan, CliError> {
        let common = args.common();
        if let Some(option) = args.refused_option() {
            let kind = args.mode().caps().name;
            return Err(CliError::Usage(format!(
                "{option} is not for a {kind}: it passes its clients' bytes on and sends nothing of its own"
            )));
        }
        if let SessionArgs::Relay(relay) = args
            && let Some(misfit) = relay.tls_misfit()
        {
            return Err(CliError::Usage(misfit));
        }
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
        let mode = args.mode();
        let datagram_limit = mode.datagram_limit();
        if let (Some(limit), Some(Greeting::Bytes { len, .. })) = (datagram_limit, &greeting)
            && *len > limit
        {
            let option = if send.send.is_some() { "--send" } else { "--send-hex" };
            return Err(CliError::DatagramTooLarge {
                option,
                len: *len,
                limit,
            });
        }
        let auto = &common.auto;
        // A kind that may have a remote sends nowhere without one, unless it replies to whoever sent.
        let parts = mode.parts();
        if mode.caps().remote == RemoteUse::Optional
            && parts.remote.is_none()
            && !parts.follow_peer
            && (greeting.is_some() || send.stdin || auto.script.is_some())
        {
            return Err(CliError::Usage(format!(
                "{}: sending needs --remote HOST:PORT (or --follow-peer to reply to whoever sends first)",
                mode.caps().name
            )));
        }
        // Both files are checked whole before anything runs.
        let rules = auto.read_rules(spec.encoding)?;
        // A rule that would rewrite, drop or delay anywhere but in a relay would silently do something else.
        if let Some(rule) = rules.as_ref().and_then(|rules| rules.first_forwarding_rule())
            && !mode.caps().forwards
        {
            return Err(CliError::Usage(format!(
                "--rules: rule {}: `direction` and `action` apply only in a relay",
                rule + 1
            )));
        }
        let script = auto
            .read_script(|text| Script::parse(text, spec.encoding))?
            .map(Arc::new);
        let receive = &common.receive;
        let printer = (!receive.quiet).then_some(PrintStyle {
            hex: receive.hex,
            log: receive.log,
            encoding: spec.encoding,
        });
        Ok(Plan {
            config: SessionConfig {
                rules,
                script,
                ..session_config(args)
            },
            greeting,
            spec,
            printer,
            stdin: send.stdin,
            vars: send.vars,
            quit: common.quit.clone(),
            datagram_limit,
        })
    }
}

/// Checks that `path` is a regular file this process can read, and returns its length. A FIFO or device is
/// refused without being opened: opening a FIFO waits for a writer, and the engine would read it on the
/// session's own thread, so neither the ready line nor a quit condition would ever come.
pub(super) fn sendable_file(path: &Path) -> Result<u64, CliError> {
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

/// A rules or script file, as UTF-8 text (TOML's own encoding).
/// Builds the bytes of `--send` / `--send-hex` now, so bad input stops the run before anything is sent.
fn greeting(send: &SendArgs, spec: PayloadSpec) -> Result<Option<Greeting>, CliError> {
    let (option, input, spec, vars) = match (&send.send, &send.send_hex, &send.send_file) {
        (Some(text), _, _) => ("--send", text, spec, send.vars),
        (_, Some(hex), _) => {
            let spec = PayloadSpec {
                format: PayloadFormat::Hex,
                ..spec
            };
            // Hex has no variables (--vars with --stdin is for the lines).
            ("--send-hex", hex, spec, false)
        }
        (_, _, Some(path)) => {
            // Fail now rather than when the first peer arrives.
            sendable_file(path)?;
            return Ok(Some(Greeting::File(path.clone())));
        }
        (None, None, None) => return Ok(None),
    };
    let (bytes, len) = outgoing(input, &spec, vars).map_err(|error| match error {
        Unsendable::Vars(error) => CliError::Usage(format!("{option}: {error}")),
        Unsendable::Payload(source) => CliError::Payload { option, source },
    })?;
    if len == 0 {
        return Err(CliError::NothingToSend { option });
    }
    let repeat = send.repeat.map(|count| Repeat {
        count: (count > 0).then_some(count),
        interval: Duration::from_millis(send.interval),
    });
    Ok(Some(Greeting::Bytes { bytes, len, repeat }))
}

/// Why a send's text makes no bytes.
pub(super) enum Unsendable {
    Payload(PayloadError),
    Vars(VarError),
}

/// What one send of `input` carries: with `vars` a template the session fills in per send (so `{seq}` numbers
/// each), else the bytes built now; and the length of its first filling (what the checks see). `--send` and each
/// `--stdin` line go through here.
pub(super) fn outgoing(input: &str, spec: &PayloadSpec, vars: bool) -> Result<(Outgoing, usize), Unsendable> {
    if vars {
        let payload = Payload::parse(input, spec).map_err(Unsendable::Vars)?;
        let mut first = Vec::new();
        payload.build(&Values::first(), &mut first);
        Ok((Outgoing::Vars(Arc::new(payload)), first.len()))
    } else {
        let bytes = spec.build(input).map_err(Unsendable::Payload)?;
        let len = bytes.len();
        Ok((Outgoing::Bytes(bytes.into()), len))
    }
}

pub(super) type StdinLine = Result<Vec<u8>, StdinError>;

pub(super) enum StdinError {
    Read(io::Error),
    TooLong,
}

/// Reads standard input on a thread of its own, one line (without its newline) per message.
/// The thread is left blocked in `read` when the run ends; the process exit takes it.
pub(super) fn read_stdin_lines() -> io::Result<Receiver<StdinLine>> {
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
