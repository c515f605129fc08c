//! Ctrl+C and SIGTERM (on Windows also Ctrl+Break and the console closing) as a request to stop cleanly: the
//! command line and the window take the first from a channel and stop their sessions the ordinary way (capture
//! and pcap finished, open connections closed in the pcap, the summary printed); a second one ends the process at
//! once. Everything platform-specific about it is in this file.
use std::fmt;
use std::io;

use crossbeam_channel::{Receiver, Sender, bounded};

/// Which request to stop arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Ctrl+C (SIGINT), or Ctrl+Break on Windows.
    Interrupt,
    /// SIGTERM, or on Windows the console closing, a log-off or a shutdown.
    Terminate,
}

impl Stop {
    /// 128 + the signal's number, as a shell reports a process the signal ended.
    pub fn exit_code(self) -> u8 {
        match self {
            Stop::Interrupt => 130,
            Stop::Terminate => 143,
        }
    }
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stop::Interrupt => "interrupted (Ctrl+C)",
            Stop::Terminate => "terminated",
        })
    }
}

/// From now on the first request to stop comes on the returned channel instead of ending the process; the
/// second ends it at once. Once per process.
pub fn listen() -> io::Result<Receiver<Stop>> {
    let (tx, rx) = bounded(1);
    platform::listen(tx)?;
    Ok(rx)
}

#[cfg(unix)]
mod platform {
    use std::time::{Duration, Instant};

    use super::{Sender, Stop, io};
    use signal_hook::consts::{SIGINT, SIGTERM};
    use signal_hook::iterator::Signals;

    /// Signals this close together are one request (no one presses Ctrl+C twice within it).
    const SAME_REQUEST: Duration = Duration::from_millis(100);

    /// What a second request does: the user insists, so nothing more is finished.
    fn force(stop: Stop) -> ! {
        std::process::exit(i32::from(stop.exit_code()))
    }

    /// signal-hook's handler only writes to a pipe; this thread turns what it reads into `Stop`s.
    pub fn listen(stops: Sender<Stop>) -> io::Result<()> {
        let mut signals = Signals::new([SIGINT, SIGTERM])?;
        std::thread::Builder::new()
            .name("wirepad-signals".into())
            .spawn(move || {
                let mut first: Option<Instant> = None;
                for signal in signals.forever() {
                    let stop = if signal == SIGTERM {
                        Stop::Terminate
                    } else {
                        Stop::Interrupt
                    };
                    match first {
                        // `timeout` signals the process and then its whole group: one request arrives twice.
                        Some(at) if at.elapsed() < SAME_REQUEST => continue,
                        Some(_) => force(stop),
                        None => first = Some(Instant::now()),
                    }
                    // Full or gone: one request is already waiting, or nobody is left to stop.
                    let _ = stops.try_send(stop);
                }
            })?;
        Ok(())
    }
}

#[cfg(windows)]
mod platform {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use super::{Sender, Stop, io};
    use windows_sys::Win32::System::Console::{CTRL_BREAK_EVENT, CTRL_C_EVENT, SetConsoleCtrlHandler};
    use windows_sys::core::BOOL;

    static STOPS: OnceLock<Sender<Stop>> = OnceLock::new();
    static ASKED: AtomicBool = AtomicBool::new(false);
    /// Windows ends the process this long after a close, log-off or shutdown event at the latest.
    const CLOSE_GRACE: Duration = Duration::from_secs(5);

    pub fn listen(stops: Sender<Stop>) -> io::Result<()> {
        STOPS
            .set(stops)
            .map_err(|_| io::Error::other("already listening for Ctrl+C"))?;
        // SAFETY: `on_ctrl` is a plain function that lives as long as the process.
        if unsafe { SetConsoleCtrlHandler(Some(on_ctrl), 1) } == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Runs on a thread the system makes for each event.
    unsafe extern "system" fn on_ctrl(kind: u32) -> BOOL {
        if ASKED.swap(true, Ordering::SeqCst) {
            // The second request: the handlers after this one (and at last the default one) end the process.
            return 0;
        }
        let stop = match kind {
            CTRL_C_EVENT | CTRL_BREAK_EVENT => Stop::Interrupt,
            _ => Stop::Terminate,
        };
        if let Some(stops) = STOPS.get() {
            let _ = stops.try_send(stop);
        }
        if stop == Stop::Terminate {
            // The process ends as soon as this returns: wait here while the run finishes (its end ends the
            // process, and this thread with it).
            std::thread::sleep(CLOSE_GRACE);
        }
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_128_plus_the_signal() {
        assert_eq!(Stop::Interrupt.exit_code(), 128 + 2);
        assert_eq!(Stop::Terminate.exit_code(), 128 + 15);
    }
}
