//! Wirepad's entry point: a session subcommand runs on the command line, anything else opens the window.
// No console window behind the GUI on Windows; the subcommands attach to their caller's console instead.
#![cfg_attr(windows, windows_subsystem = "windows")]
use std::process::ExitCode;

use wirepad::cli::{self, CliCommand};
use wirepad::gui::run_gui;

fn main() -> ExitCode {
    attach_console();
    let cli = match cli::parse_args() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    match cli.command {
        Some(CliCommand::Session(session)) => cli::run(*session),
        Some(CliCommand::Gui { sessions }) => match cli::gui_sessions(sessions) {
            Ok(sessions) => run_gui(sessions),
            Err(code) => code,
        },
        None => run_gui(Vec::new()),
    }
}

/// A GUI-subsystem program starts without a console: borrow the parent's (if it has one) so that
/// `--help`, errors and received data print where the user typed the command. Redirected output
/// (pipes, files) is inherited either way.
#[cfg(windows)]
fn attach_console() {
    use windows_sys::Win32::System::Console::{ATTACH_PARENT_PROCESS, AttachConsole};
    // SAFETY: no pointers; failing (no parent console, e.g. started from Explorer) is harmless.
    unsafe {
        AttachConsole(ATTACH_PARENT_PROCESS);
    }
}

#[cfg(not(windows))]
fn attach_console() {}
