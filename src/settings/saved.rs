//! The window's own entry in the settings file: the prefs, each tab's settings and the layout, each its own RON
//! text, so one part that cannot be read costs that part only. Read field by field and range-checked: what
//! comes out is safe to build a window from (the layout, egui_tiles' own RON, the window checks itself).
use std::collections::BTreeSet;

use ron::value::RawValue;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::check::{Checked, Fixes};
use super::lenient::{self, Fields};
use super::repair::parse_cut_short;
use super::{Lang, Prefs, TabConfig};

/// The entry's format: 1 from the first version with tabs; 0 (absent) is the single-session file before it.
pub const VERSION: u64 = 1;
/// The most tabs a file opens: each is a session's settings, history and view.
pub const MAX_TABS: usize = 100;
/// Tab ids count up from 0; a larger one (or a repeat) gets a fresh id, so counting up never overflows.
pub const MAX_TAB_ID: u64 = 1 << 32;

/// What the window stores under eframe's "app" key.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Saved {
    pub version: u64,
    pub prefs: String,
    pub tabs: Vec<(u64, String)>,
    pub layout: String,
    pub focused: u64,
}

/// What the window opens with.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub prefs: Prefs,
    /// Distinct ids below `MAX_TAB_ID`, at most `MAX_TABS`; empty: one fresh tab.
    pub tabs: Vec<(u64, TabConfig)>,
    /// The layout's RON (egui_tiles'), when the file has one.
    pub layout: Option<String>,
    pub focused: Option<u64>,
    /// What could not be used ("*": nothing could be read).
    pub fixes: Fixes,
}

/// Reads the window's entry (`None`: there is none); `system` is the language a fresh tab is made for.
pub fn load(stored: Option<&str>, system: Lang) -> Loaded {
    let mut fixes = Fixes::default();
    let Some(text) = stored else {
        return Loaded {
            prefs: Prefs::default(),
            tabs: Vec::new(),
            layout: None,
            focused: None,
            fixes,
        };
    };
    match Saved::read(text, &mut fixes) {
        Some(saved) => {
            let prefs = load_part(&saved.prefs, Prefs::default(), "", &mut fixes);
            let tabs = saved
                .tabs
                .iter()
                .enumerate()
                .map(|(index, (id, text))| {
                    let what = format!("tab {}", index + 1);
                    (*id, load_part(text, TabConfig::for_lang(system), &what, &mut fixes))
                })
                .collect();
            Loaded {
                prefs,
                tabs,
                layout: Some(saved.layout),
                focused: Some(saved.focused),
                fixes,
            }
        }
        // The single-session file from before tabs: its global fields and its one tab.
        None => {
            let prefs = load_part(text, Prefs::default(), "", &mut fixes);
            let tab = load_part(text, TabConfig::for_lang(system), "", &mut fixes);
            fixes.reset.dedup();
            fixes.cut.dedup();
            Loaded {
                prefs,
                tabs: vec![(0, tab)],
                layout: None,
                focused: None,
                fixes,
            }
        }
    }
}

/// One part read field by field over `defaults` and range-checked; what was dropped or cut is named in
/// `fixes`, prefixed with `what` ("tab 2: mode").
fn load_part<T: Serialize + DeserializeOwned + Checked>(text: &str, defaults: T, what: &str, fixes: &mut Fixes) -> T {
    let lenient::Lenient { mut value, dropped } = lenient::load(text, defaults);
    if !what.is_empty() && dropped.iter().any(|field| field == "*") {
        fixes.reset.push(what.to_string());
        return value;
    }
    let mut found = value.check();
    found.reset.splice(0..0, dropped);
    fixes.extend(what, found);
    value
}

impl Saved {
    /// The tabbed entry, field by field: a value out of range is named in `fixes` and left at its default.
    /// `None` if `text` is not a tabbed entry (neither `tabs` nor `version`).
    fn read(text: &str, fixes: &mut Fixes) -> Option<Saved> {
        let whole = ron::from_str::<Fields>(text).ok();
        let cut_short = whole.is_none();
        let Fields(fields) = whole.or_else(|| parse_cut_short(text, |t| ron::from_str::<Fields>(t).ok()))?;
        if !fields.iter().any(|(name, _)| name == "tabs" || name == "version") {
            return None;
        }
        if cut_short {
            fixes.reset.push("app".into());
        }
        let mut saved = Saved::default();
        for (name, raw) in &fields {
            let text = raw.get_ron();
            let read = match name.as_str() {
                "version" => parse(text)
                    .filter(|version| (1..=VERSION).contains(version))
                    .map(|version| saved.version = version),
                "prefs" => parse(text).map(|prefs| saved.prefs = prefs),
                "layout" => parse(text).map(|layout| saved.layout = layout),
                "focused" => parse(text).map(|focused| saved.focused = focused),
                "tabs" => read_tabs(text, fixes).map(|tabs| saved.tabs = tabs),
                // A field no version wrote is ignored, as serde would.
                _ => Some(()),
            };
            if read.is_none() {
                fixes.reset.push(name.clone());
            }
        }
        Some(saved)
    }
}

fn parse<T: DeserializeOwned>(text: &str) -> Option<T> {
    ron::from_str(text).ok()
}

/// The tabs, each read on its own, at most `MAX_TABS`, with ids made distinct and below `MAX_TAB_ID`.
fn read_tabs(text: &str, fixes: &mut Fixes) -> Option<Vec<(u64, String)>> {
    let entries: Vec<Box<RawValue>> = parse_cut_short(text, parse)?;
    if entries.len() > MAX_TABS {
        fixes.cut.push("tabs".into());
    }
    let mut tabs = Vec::new();
    let mut ids = BTreeSet::new();
    let mut renumber = Vec::new();
    for (index, entry) in entries.iter().take(MAX_TABS).enumerate() {
        let Some((id, tab)) = parse::<(u64, String)>(entry.get_ron()) else {
            fixes.reset.push(format!("tab {}", index + 1));
            continue;
        };
        if id >= MAX_TAB_ID || !ids.insert(id) {
            fixes.reset.push(format!("tab {}: id", index + 1));
            renumber.push(tabs.len());
        }
        tabs.push((id, tab));
    }
    // The smallest ids no tab has: with at most MAX_TABS tabs, far below MAX_TAB_ID.
    let free = (0..).filter(|id| !ids.contains(id));
    for (id, index) in free.zip(renumber) {
        tabs[index].0 = id;
    }
    Some(tabs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(tabs: &[(u64, &str)]) -> Saved {
        Saved {
            version: VERSION,
            prefs: ron::to_string(&Prefs::default()).expect("ron"),
            tabs: tabs
                .iter()
                .map(|(id, name)| {
                    let tab = TabConfig {
                        name: name.to_string(),
                        ..TabConfig::default()
                    };
                    (*id, ron::to_string(&tab).expect("ron"))
                })
                .collect(),
            layout: String::new(),
            focused: 1,
        }
    }

    fn names(loaded: &Loaded) -> Vec<(u64, &str)> {
        loaded.tabs.iter().map(|(id, tab)| (*id, tab.name.as_str())).collect()
    }

    #[test]
    fn the_windows_own_entry_loads_as_it_was() {
        let text = ron::to_string(&saved(&[(0, "a"), (1, "b"), (5, "c")])).expect("ron");
        let loaded = load(Some(&text), Lang::En);
        assert_eq!(names(&loaded), [(0, "a"), (1, "b"), (5, "c")]);
        assert_eq!(loaded.fixes, Fixes::default());
        assert_eq!(loaded.focused, Some(1));
    }

    #[test]
    fn a_version_out_of_range_is_named_and_the_tabs_still_load() {
        let text = ron::to_string(&saved(&[(0, "a"), (1, "b")])).expect("ron");
        for version in ["18446744073709551615", "2", "-1", "\"x\"", "99999999999999999999999"] {
            let broken = text.replacen("version:1", &format!("version:{version}"), 1);
            let loaded = load(Some(&broken), Lang::En);
            assert_eq!(names(&loaded), [(0, "a"), (1, "b")], "{version}");
            assert_eq!(loaded.fixes.reset, ["version"], "{version}");
        }
    }

    #[test]
    fn ids_out_of_range_or_repeated_are_renumbered() {
        let last = MAX_TAB_ID - 1;
        let tabs = [
            (u64::MAX, "a"),
            (3, "b"),
            (3, "c"),
            (MAX_TAB_ID, "d"),
            (last, "e"),
            (last, "f"),
        ];
        let loaded = load(Some(&ron::to_string(&saved(&tabs)).expect("ron")), Lang::En);
        // The smallest free ids: counting up from the largest would pass the limit.
        assert_eq!(
            names(&loaded),
            [(0, "a"), (3, "b"), (1, "c"), (2, "d"), (last, "e"), (4, "f")]
        );
        assert_eq!(loaded.fixes.reset, ["tab 1: id", "tab 3: id", "tab 4: id", "tab 6: id"]);
    }

    #[test]
    fn one_unreadable_tab_costs_only_itself_and_too_many_are_cut() {
        let mut many = saved(&[(0, "a"), (1, "b")]);
        many.tabs[1].0 = 7;
        let text = ron::to_string(&many).expect("ron").replacen("(7,", "(\"seven\",", 1);
        let loaded = load(Some(&text), Lang::En);
        assert_eq!(names(&loaded), [(0, "a")]);
        assert_eq!(loaded.fixes.reset, ["tab 2"]);
        let lots: Vec<(u64, &str)> = (0..MAX_TABS as u64 + 3).map(|id| (id, "t")).collect();
        let loaded = load(Some(&ron::to_string(&saved(&lots)).expect("ron")), Lang::En);
        assert_eq!(loaded.tabs.len(), MAX_TABS);
        assert_eq!(loaded.fixes.cut, ["tabs"]);
    }

    #[test]
    fn an_entry_cut_short_keeps_the_tabs_before_the_cut() {
        let text = ron::to_string(&saved(&[(0, "a"), (1, "b"), (2, "c")])).expect("ron");
        let cut = &text[..text.find("(2,").expect("third tab") + 10];
        let loaded = load(Some(cut), Lang::En);
        assert_eq!(&names(&loaded)[..2], [(0, "a"), (1, "b")]);
        assert!(loaded.fixes.reset.contains(&"app".to_string()), "{:?}", loaded.fixes);
    }
}
