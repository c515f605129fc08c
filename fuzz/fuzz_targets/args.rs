//! The argument parser: any argument list parses or is refused without a panic, and what parses turns into a
//! session and a send spec without one, also each of `wirepad gui`'s sessions. Arguments are the input split at NUL
//! bytes.
#![no_main]
use std::cell::RefCell;

use clap::{Command, CommandFactory, FromArgMatches};
use libfuzzer_sys::fuzz_target;
use wirepad::cli::{Cli, CliCommand, SessionArgs, parse_session, session_config};

fn check(session: &SessionArgs) {
    let _ = session_config(session);
    let common = session.common();
    if let (Ok(spec), Some(text)) = (common.payload_spec(), &common.send.send) {
        let _ = spec.build(text);
    }
}

thread_local! {
    /// Built once and parsed with in place: deriving the command anew, or cloning it, for every input would be
    /// most of each run.
    static COMMAND: RefCell<Command> = RefCell::new(Cli::command());
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let args = std::iter::once("wirepad").chain(text.split('\0'));
    let parsed = COMMAND
        .with_borrow_mut(|command| command.try_get_matches_from_mut(args))
        .and_then(|matches| Cli::from_arg_matches(&matches));
    match parsed {
        Ok(Cli {
            command: Some(CliCommand::Session(session)),
        }) => check(&session),
        Ok(Cli {
            command: Some(CliCommand::Gui { sessions }),
        }) => {
            // As `gui_sessions` splits them, without its messages on stderr.
            for session in sessions.split(|arg| arg == "+") {
                if let Ok(session) = parse_session(session) {
                    check(&session);
                }
            }
        }
        Ok(_) => {}
        Err(error) => {
            let _ = error.render().to_string();
        }
    }
});
