//! The command line front end: the same engine as the window, driven by flags.
//!
//! Contract (docs/cli.md, "The contract"): the first stderr line says where the socket is, received
//! data goes to stdout only, and the exit code is 0 when done, 1 on a network or file error, 2
//! on bad arguments or bad input, which are found before anything is sent, and 130 (Ctrl+C) or 143 (SIGTERM)
//! when stopped by a signal, after the files are finished.

mod args;
pub mod cert;
pub mod load;
mod plan;
mod printer;
mod runner;

use std::fmt;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use crate::automation::rules::RulesError;
use crate::automation::script::ScriptError;
use crate::codec::text::TextError;
use crate::net::NetError;
use crate::payload::PayloadError;
use crate::session::launch::WindowSession;
use crate::settings::load::LoadForm;
use crate::signals::Stop;
use crate::vars::VarError;

pub use args::{
    AutoArgs, Cli, CliCommand, CommonArgs, QuitArgs, ReceiveArgs, RelayArgs, SendArgs, SessionArgs, TcpClientArgs,
    TcpServerArgs, UdpArgs, parse_args, parse_session, session_config,
};
use args::{clap_exit, parse_load};
use plan::{MAX_STDIN_LINE, Plan};
use runner::Runner;

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
    #[error("standard input, line {line}: {source}")]
    StdinVars { line: u64, source: VarError },
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
    #[error("--rules {}: {source}", path.display())]
    Rules { path: PathBuf, source: RulesError },
    #[error("--script {}: {source}", path.display())]
    Script { path: PathBuf, source: ScriptError },
    #[error("{option} {}: cannot read it: {source}", path.display())]
    ReadAutomation {
        option: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// The step that failed and what arrived instead, already worded.
    #[error("{0}")]
    ScriptFailed(String),
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
    /// Ctrl+C or SIGTERM: the session was stopped cleanly (its files finished); exit 130 or 143.
    #[error("{0}")]
    Stopped(Stop),
    /// A load run that could connect nowhere, or a report that could not be read or written: already worded.
    #[error("{0}")]
    LoadFailed(String),
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
            | CliError::StdinVars { .. }
            | CliError::StdinNotUtf8 { .. }
            | CliError::StdinTooLong { .. }
            | CliError::NotAFile { .. }
            | CliError::Rules { .. }
            | CliError::Script { .. } => ExitCode::from(2),
            // A relay told to relay to itself: a bad argument, found once its listen address is real.
            CliError::Net(error) if matches!(**error, NetError::RelayLoop { .. }) => ExitCode::from(2),
            // A TLS file or option that cannot be used: bad input, found as the session starts.
            CliError::Net(error) if matches!(**error, NetError::TlsSetup { .. }) => ExitCode::from(2),
            CliError::Net(_)
            | CliError::Reset
            | CliError::Failed
            | CliError::Stdout(_)
            | CliError::Stdin(_)
            | CliError::ReadAutomation { .. }
            | CliError::ScriptFailed(_)
            | CliError::LoadFailed(_) => ExitCode::from(1),
            CliError::Stopped(stop) => ExitCode::from(stop.exit_code()),
        }
    }
}

/// Runs one session until a quit condition, the end of the connection, or an error.
pub fn run(args: SessionArgs) -> ExitCode {
    match Plan::new(&args).and_then(Runner::start) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => reported(error),
    }
}

/// One line on stderr, and the error's exit code.
fn reported(error: CliError) -> ExitCode {
    // A stop asked for was said when it came, and is no failure.
    if !matches!(error, CliError::Stopped(_)) {
        note(format_args!("error: {error}"));
    }
    error.exit_code()
}

/// One line on stderr, in one write: stderr is unbuffered, and formatting straight into it costs a system call per
/// piece (a handshake line had a dozen). A closed stderr is no reason to fail (or panic, as `eprintln!` would).
fn note(line: fmt::Arguments) {
    let _ = io::stderr().lock().write_all(format!("{line}\n").as_bytes());
}

/// What `wirepad gui` opens a tab with: a session (opened at once) or a load test (started at once).
#[derive(Debug, Clone, PartialEq)]
pub enum Launch {
    Session(Box<WindowSession>),
    /// `wirepad gui load tcp|udp TARGET …`: the load test tab's form, filled from `wirepad load`'s options.
    Load(Box<LoadForm>),
}

impl From<WindowSession> for Launch {
    fn from(session: WindowSession) -> Self {
        Launch::Session(Box::new(session))
    }
}

/// `wirepad gui`'s sessions, split at each lone `+`, as the window takes them; a bad one is a usage error
/// (exit 2) naming it, and `--help` after a session prints that session's help (exit 0).
pub fn gui_sessions(args: Vec<std::ffi::OsString>) -> Result<Vec<Launch>, ExitCode> {
    if args.is_empty() {
        return Ok(Vec::new());
    }
    args.split(|arg| arg == "+")
        .map(|session| match session {
            [] => Err(reported(CliError::Usage(
                "a lone `+` goes between two sessions (see wirepad --help)".into(),
            ))),
            [first, load @ ..] if first == "load" => {
                let parsed = parse_load(load).map_err(|error| clap_exit(&error))?;
                load::window_form(&parsed)
                    .map(|form| Launch::Load(Box::new(form)))
                    .map_err(reported)
            }
            _ => {
                let parsed = parse_session(session).map_err(|error| clap_exit(&error))?;
                parsed.for_window().map(Launch::from).map_err(reported)
            }
        })
        .collect()
}
