//! The script file: any text parses or is refused, never a panic; a parsed script run against any data, cut into
//! any reads at any times, never panics, ends at most once, and never asks for more than two rounds in one call.
#![no_main]
use std::sync::Arc;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use wirepad::automation::script::{Action, Run, Script};
use wirepad::codec::text::TextEncoding;

fuzz_target!(|input: (&str, Vec<(u16, Vec<u8>)>)| {
    let (file, reads) = input;
    let encoding = TextEncoding::from_name("UTF-8").expect("known");
    let Ok(script) = Script::parse(file, encoding) else {
        return;
    };
    let most = 2 * script.steps.len() + 2;
    let start = Instant::now();
    let mut run = Run::new(Arc::new(script), None, start);
    let mut ends = 0;
    let mut at = start;
    for (ms, data) in reads {
        at += Duration::from_millis(u64::from(ms));
        run.received(&data);
        let actions = run.advance(at);
        assert!(actions.len() <= most);
        for action in actions {
            if matches!(action, Action::Passed | Action::Failed(_)) {
                ends += 1;
            }
        }
    }
    assert!(ends <= 1);
});
