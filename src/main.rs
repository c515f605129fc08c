//! Wirepad's entry point: a session subcommand runs on the command line, anything else opens the window.
use std::io::{self, Write};
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use wirepad::cli::{self, Cli, CliCommand, SessionArgs};

fn main() -> ExitCode {
    match Cli::parse().command {
        Some(CliCommand::Session(session)) => cli::run(session),
        Some(CliCommand::Gui { session }) => run_gui(session),
        None => run_gui(None),
    }
}

/// Opens the window, with `session` already open when given. Placeholder until the window is built.
fn run_gui(session: Option<SessionArgs>) -> ExitCode {
    let _ = session;
    let mut stderr = io::stderr();
    let _ = writeln!(stderr, "the window is not built yet; use tcp-server, tcp-client or udp");
    let _ = Cli::command().write_help(&mut stderr);
    ExitCode::from(2)
}
