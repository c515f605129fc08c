//! The settings file as the window reads it at start: any bytes, as `app.ron` (first byte even) or as the
//! window's own entry in it (odd), never panic, and what comes out is what a window can be built from: at most
//! `MAX_TABS` tabs with distinct ids below `MAX_TAB_ID`, every value in range. Saved again, it loads back the
//! same with nothing to fix.
#![no_main]
use std::collections::BTreeSet;

use libfuzzer_sys::fuzz_target;
use wirepad::settings::check::{BUFFER_MIB, MAX_FIELD, MAX_ROWS, MAX_TEXT};
use wirepad::settings::saved::{self, Loaded, MAX_TAB_ID, MAX_TABS, Saved};
use wirepad::settings::{Lang, file};

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let app = if choice % 2 == 0 {
        file::read(rest).entries.get(file::APP_KEY).cloned()
    } else {
        Some(String::from_utf8_lossy(rest).into_owned())
    };
    let loaded = saved::load(app.as_deref(), Lang::En);
    in_range(&loaded);
    let again = Saved {
        version: saved::VERSION,
        prefs: ron::to_string(&loaded.prefs).expect("prefs save"),
        tabs: loaded
            .tabs
            .iter()
            .map(|(id, tab)| (*id, ron::to_string(tab).expect("tab saves")))
            .collect(),
        layout: String::new(),
        focused: 0,
    };
    let back = saved::load(Some(&ron::to_string(&again).expect("saves")), Lang::En);
    assert_eq!(back.prefs, loaded.prefs);
    assert_eq!(back.tabs, loaded.tabs);
    assert!(
        back.fixes.reset.is_empty() && back.fixes.cut.is_empty(),
        "{:?}",
        back.fixes
    );
});

fn in_range(loaded: &Loaded) {
    assert!(loaded.tabs.len() <= MAX_TABS);
    let ids: BTreeSet<u64> = loaded.tabs.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids.len(), loaded.tabs.len(), "distinct ids");
    assert!(ids.iter().all(|id| *id < MAX_TAB_ID));
    let prefs = &loaded.prefs;
    assert!(prefs.remote_history.len() <= 20 && prefs.quick_commands.len() <= MAX_ROWS);
    assert!(prefs.quick_commands.iter().all(|c| c.text.chars().count() <= MAX_TEXT));
    for (_, tab) in &loaded.tabs {
        assert!(tab.send.text.chars().count() <= MAX_TEXT);
        assert!(tab.remote_port.chars().count() <= MAX_FIELD && tab.name.chars().count() <= MAX_FIELD);
        assert!(BUFFER_MIB.contains(&tab.receive.buffer_mib));
        assert!(tab.rules.len() <= MAX_ROWS && tab.script.steps.len() <= MAX_ROWS);
    }
}
