use std::fmt::Display;
use std::time::{Duration, Instant};

/// Asks `check` again until it gives a value, pausing a millisecond between tries (a yield would spin a core
/// the engine needs); panics naming `what` once `within` has passed.
pub fn eventually<T>(what: impl Display, within: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}
