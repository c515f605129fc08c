//! Wirepad's entry point: a session subcommand runs on the command line, anything else opens the window.
// No console window behind the GUI on Windows; the subcommands attach to their caller's console instead. A build
// without the window is a console program.
#![cfg_attr(all(windows, feature = "gui"), windows_subsystem = "windows")]
use std::process::ExitCode;

use wirepad::cli::{self, CliCommand};
#[cfg(feature = "gui")]
use wirepad::gui::run_gui;

fn main() -> ExitCode {
    wirepad::crash::install(wirepad::crash::default_dir());
    wirepad::crash::arm_test_panic_from_env();
    let session = {
        let _console = console::Utf8Console::attach();
        let cli = match cli::parse_args() {
            Ok(cli) => cli,
            Err(code) => return code,
        };
        match cli.command {
            Some(CliCommand::Session(session)) => return cli::run(*session),
            Some(CliCommand::Load(command)) => return cli::load::run(*command),
            Some(CliCommand::Cert(command)) => return cli::cert::run(command),
            Some(CliCommand::Gui { sessions }) => match cli::gui_sessions(sessions) {
                Ok(sessions) => sessions,
                Err(code) => return code,
            },
            None => Vec::new(),
        }
        // The window outlives the prompt it was started from: the console is the user's again.
    };
    run_gui(session)
}

/// Built without the `gui` feature: the command line alone. Asked for the window, say there is none, as a usage error.
#[cfg(not(feature = "gui"))]
fn run_gui(_: Vec<wirepad::cli::Launch>) -> ExitCode {
    use std::io::Write;
    // A closed stderr is no reason to panic, as `eprintln!` would.
    let _ = writeln!(
        std::io::stderr().lock(),
        "error: this build has no window (built without the gui feature)"
    );
    ExitCode::from(2)
}

/// The caller's console, on Windows: everything platform-specific about it is here.
#[cfg(windows)]
mod console {
    use std::sync::atomic::{AtomicU32, Ordering};
    use windows_sys::Win32::System::Console::{
        ATTACH_PARENT_PROCESS, AttachConsole, GetConsoleOutputCP, SetConsoleCtrlHandler, SetConsoleOutputCP,
    };
    use windows_sys::core::BOOL;

    const CP_UTF8: u32 = 65001;
    /// The code page to give back, also from the Ctrl+C handler (0: nothing to restore).
    static SAVED: AtomicU32 = AtomicU32::new(0);

    /// While it lives, the console's output code page is UTF-8 (what stdout carries, by contract), so that what
    /// decodes our output by that code page (PowerShell capturing or piping it, `more`) reads it right; dropped,
    /// or at Ctrl+C / Ctrl+Break / close, the console gets its code page back.
    pub struct Utf8Console;

    impl Utf8Console {
        /// A GUI-subsystem program starts without a console: borrow the parent's (if it has one) so that
        /// `--help`, errors and received data print where the user typed the command. Redirected output
        /// (pipes, files) is inherited either way.
        pub fn attach() -> Self {
            // SAFETY: none of these calls takes a pointer; each fails harmlessly without a console
            // (started from Explorer), GetConsoleOutputCP by returning 0.
            unsafe {
                AttachConsole(ATTACH_PARENT_PROCESS);
                let old = GetConsoleOutputCP();
                if old != 0 && old != CP_UTF8 && SetConsoleOutputCP(CP_UTF8) != 0 {
                    SAVED.store(old, Ordering::SeqCst);
                    SetConsoleCtrlHandler(Some(restore_on_exit), 1);
                }
            }
            Utf8Console
        }
    }

    fn restore() {
        let old = SAVED.swap(0, Ordering::SeqCst);
        if old != 0 {
            // SAFETY: no pointers; a failure leaves the console as it is.
            unsafe { SetConsoleOutputCP(old) };
        }
    }

    impl Drop for Utf8Console {
        fn drop(&mut self) {
            restore();
        }
    }

    /// Runs on a thread of its own when the console ends the process; 0 lets the default handler exit it.
    unsafe extern "system" fn restore_on_exit(_ctrl_type: u32) -> BOOL {
        restore();
        0
    }
}

#[cfg(not(windows))]
mod console {
    /// Terminals elsewhere take UTF-8 as it is.
    pub struct Utf8Console;

    impl Utf8Console {
        pub fn attach() -> Self {
            Utf8Console
        }
    }
}
