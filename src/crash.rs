//! Panics. A session's worker runs `guarded`: its panic ends that session only, with a message naming the crash
//! log, while the window and the other sessions go on. Every panic's message and backtrace go to a crash log in
//! the data directory (`install`); one nothing catches also says on stderr where its log is.
use std::backtrace::Backtrace;
use std::cell::{Cell, RefCell};
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::panic::{self, AssertUnwindSafe, PanicHookInfo};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// Where crash logs go, once `install` has run.
static DIR: OnceLock<PathBuf> = OnceLock::new();
/// Tests only: the bytes whose arrival makes a worker panic (`arm_test_panic`).
static TEST_PANIC: OnceLock<Box<[u8]>> = OnceLock::new();
/// Tells apart two logs of one process in one second.
static SERIAL: AtomicU64 = AtomicU64::new(0);
/// Read by the binary: a worker that receives these bytes panics (what the tests of this file's promises use).
pub const TEST_PANIC_ENV: &str = "WIREPAD_TEST_PANIC_ON";

thread_local! {
    /// Set while this thread runs `guarded`: its panic is reported by the catcher, not on stderr.
    static GUARDED: Cell<bool> = const { Cell::new(false) };
    /// What this thread's last panic left, for the catcher.
    static LAST: RefCell<Option<Crash>> = const { RefCell::new(None) };
}

/// A panic caught by `guarded`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crash {
    pub message: String,
    /// The crash log written for it (`None`: no crash directory, or it could not be written; the report went to
    /// stderr instead).
    pub log: Option<PathBuf>,
}

/// `data_dir()/crashes`, or the temporary directory's `wirepad-crashes` where there is no data directory.
pub fn default_dir() -> PathBuf {
    data_dir().map_or_else(
        || std::env::temp_dir().join("wirepad-crashes"),
        |dir| dir.join("crashes"),
    )
}

/// The directory the window keeps its settings in too (eframe's `storage_dir("wirepad")`).
#[cfg(windows)]
fn data_dir() -> Option<PathBuf> {
    std::env::var_os("APPDATA").map(|dir| PathBuf::from(dir).join("wirepad").join("data"))
}

/// The directory the window keeps its settings in too (eframe's `storage_dir("wirepad")`).
#[cfg(target_os = "macos")]
fn data_dir() -> Option<PathBuf> {
    let home = std::env::var_os("HOME")?;
    Some(PathBuf::from(home).join("Library/Application Support/wirepad"))
}

/// The directory the window keeps its settings in too (eframe's `storage_dir("wirepad")`).
#[cfg(not(any(windows, target_os = "macos")))]
fn data_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/share")))?;
    Some(base.join("wirepad"))
}

/// Every panic from now on writes a crash log in `dir` (made when first needed). The first call decides the
/// directory; later ones change nothing.
pub fn install(dir: PathBuf) {
    if DIR.set(dir).is_err() {
        return;
    }
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        let message = message(info.payload());
        let report = report(info, &message);
        let log = DIR.get().and_then(|dir| write_log(dir, &report).ok());
        if GUARDED.get() {
            if log.is_none() {
                note(&report);
            }
            LAST.set(Some(Crash { message, log }));
            return;
        }
        previous(info);
        match log {
            Some(path) => note(&format!("wirepad: crash log: {}", path.display())),
            None => note(&report),
        }
    }));
}

/// The binary's tests' hook: when `WIREPAD_TEST_PANIC_ON` is set, a worker that receives its bytes panics.
pub fn arm_test_panic_from_env() {
    if let Some(marker) = std::env::var_os(TEST_PANIC_ENV).filter(|marker| !marker.is_empty()) {
        arm_test_panic(marker.as_encoded_bytes());
    }
}

/// Tests only: from now on a worker that receives `marker` (within one read) panics. The first call decides.
#[doc(hidden)]
pub fn arm_test_panic(marker: &[u8]) {
    let _ = TEST_PANIC.set(marker.into());
}

/// What `arm_test_panic` set, looked up once per session.
pub(crate) fn test_panic_marker() -> Option<&'static [u8]> {
    TEST_PANIC.get().map(|marker| &marker[..])
}

/// Runs `work`; a panic in it comes back as the `Crash` it left instead of unwinding further.
pub fn guarded<R>(work: impl FnOnce() -> R) -> Result<R, Crash> {
    let was = GUARDED.replace(true);
    // The work's state is dropped as it unwinds, and nothing of it is looked at afterwards.
    let result = panic::catch_unwind(AssertUnwindSafe(work));
    GUARDED.set(was);
    result.map_err(|payload| {
        LAST.take().unwrap_or_else(|| Crash {
            message: message(payload.as_ref()),
            log: None,
        })
    })
}

fn message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(a panic without a message)".into())
}

fn report(info: &PanicHookInfo, message: &str) -> String {
    let thread = std::thread::current();
    let place = info.location().map_or_else(String::new, |at| {
        format!(" at {}:{}:{}", at.file(), at.line(), at.column())
    });
    format!(
        "wirepad {} panicked on thread '{}'{place}:\n{message}\n\nbacktrace:\n{}\n",
        env!("CARGO_PKG_VERSION"),
        thread.name().unwrap_or("unnamed"),
        Backtrace::force_capture(),
    )
}

/// `crash-YYYYMMDD-HHMMSS-PID-N.log`, never overwriting one.
fn write_log(dir: &Path, report: &str) -> io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let name = format!(
        "crash-{}-{}-{}.log",
        chrono::Local::now().format("%Y%m%d-%H%M%S"),
        std::process::id(),
        SERIAL.fetch_add(1, Ordering::Relaxed),
    );
    let path = dir.join(name);
    let mut file = OpenOptions::new().write(true).create_new(true).open(&path)?;
    file.write_all(report.as_bytes())?;
    Ok(path)
}

/// A closed stderr is no reason for a second panic, as `eprintln!` would make.
fn note(text: &str) {
    let _ = writeln!(io::stderr().lock(), "{text}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guarded_panic_comes_back_with_its_message_and_the_work_that_does_not_panic_goes_on() {
        let crash = guarded(|| -> u8 { panic!("worker broke: {}", 42) }).expect_err("it panicked");
        assert_eq!(crash.message, "worker broke: 42");
        assert_eq!(guarded(|| 7), Ok(7));
    }
}
