//! Range checks on what a settings file gave, before the window uses it: a value no version of Wirepad writes
//! (a hand edit, a damaged disk) gets its default, and text too long to draw is cut. Every check returns what
//! it changed, so the window can say so.
use crate::automation::rules::{MAX_DELAY_MS, RuleSpec};
use crate::automation::script::{MAX_WAIT_MS, StepSpec};
use crate::net::Kind;

use super::{HISTORY, Prefs, ReceiveSettings, TabConfig};

/// The most characters a send box, a quick command or a rule's text holds. egui lays a text box out whole
/// (about 400 bytes a character: 5 MB of text took 2 GB), so more is sent with Send file.
pub const MAX_TEXT: usize = 64 << 10;
/// The most characters of a one-line field (an address, a port, a name, a number).
pub const MAX_FIELD: usize = 1024;
/// The most quick commands, rules or script steps a file may bring: each is a row the window draws.
pub const MAX_ROWS: usize = 1000;
/// The receive buffer's range, as its field allows it (0: the tab's share of the window's budget).
pub const BUFFER_MIB: std::ops::RangeInclusive<u32> = 0..=4096;
/// The window's history budget's range.
pub const HISTORY_MIB: std::ops::RangeInclusive<u32> = 16..=65536;

/// What a check changed, as dotted field paths.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Fixes {
    /// Values that could not be used and got their defaults.
    pub reset: Vec<String>,
    /// Text longer than its limit, cut to it.
    pub cut: Vec<String>,
}

impl Fixes {
    pub fn is_empty(&self) -> bool {
        self.reset.is_empty() && self.cut.is_empty()
    }

    /// Adds `other`'s paths, each prefixed with `what` ("tab 2: send.text").
    pub fn extend(&mut self, what: &str, other: Fixes) {
        let named = |field: String| {
            if what.is_empty() {
                field
            } else {
                format!("{what}: {field}")
            }
        };
        self.reset.extend(other.reset.into_iter().map(named));
        self.cut.extend(other.cut.into_iter().map(named));
    }

    /// Cuts `text` to `max` characters; says so under `path`.
    fn cut(&mut self, path: &str, text: &mut String, max: usize) {
        if let Some((end, _)) = text.char_indices().nth(max) {
            text.truncate(end);
            self.cut.push(path.to_string());
        }
    }

    /// A one-line field longer than any valid one gets `default`.
    fn field(&mut self, path: &str, text: &mut String, default: &str) {
        if text.chars().nth(MAX_FIELD).is_some() {
            *text = default.to_string();
            self.reset.push(path.to_string());
        }
    }

    /// Keeps the first `max` rows.
    fn rows<T>(&mut self, path: &str, rows: &mut Vec<T>, max: usize) {
        if rows.len() > max {
            rows.truncate(max);
            self.cut.push(path.to_string());
        }
    }
}

/// Cuts `text` to what a send box holds; `true` if it was longer.
pub fn cut_to_send_box(text: &mut String) -> bool {
    let mut fixes = Fixes::default();
    fixes.cut("", text, MAX_TEXT);
    !fixes.is_empty()
}

/// A part of the settings that checks its own values.
pub trait Checked {
    /// Puts every value in range; says what it changed.
    fn check(&mut self) -> Fixes;
}

impl Checked for Prefs {
    /// Bounds the remote history, the quick commands and the history budget.
    fn check(&mut self) -> Fixes {
        let mut fixes = Fixes::default();
        if !HISTORY_MIB.contains(&self.history_mib) {
            self.history_mib = Prefs::default().history_mib;
            fixes.reset.push("history_mib".into());
        }
        let before = self.remote_history.len();
        self.remote_history
            .retain(|remote| remote.chars().nth(MAX_FIELD).is_none());
        self.remote_history.truncate(HISTORY);
        if self.remote_history.len() != before {
            fixes.cut.push("remote_history".into());
        }
        fixes.rows("quick_commands", &mut self.quick_commands, MAX_ROWS);
        for (index, command) in self.quick_commands.iter_mut().enumerate() {
            fixes.cut(
                &format!("quick_commands.{}.name", index + 1),
                &mut command.name,
                MAX_FIELD,
            );
            fixes.cut(
                &format!("quick_commands.{}.text", index + 1),
                &mut command.text,
                MAX_TEXT,
            );
        }
        fixes
    }
}

impl Checked for TabConfig {
    /// Checks every value a tab's file entry gave.
    fn check(&mut self) -> Fixes {
        let mut fixes = Fixes::default();
        let fresh = TabConfig::default();
        fixes.cut("name", &mut self.name, MAX_FIELD);
        for (path, text, default) in [
            ("local_ip", &mut self.local_ip, &fresh.local_ip),
            ("remote_host", &mut self.remote_host, &fresh.remote_host),
            ("remote_port", &mut self.remote_port, &fresh.remote_port),
            ("multicast_group", &mut self.multicast_group, &fresh.multicast_group),
            ("send.interval_ms", &mut self.send.interval_ms, &fresh.send.interval_ms),
            ("send.count", &mut self.send.count, &fresh.send.count),
            (
                "framing.delimiter",
                &mut self.framing.delimiter,
                &fresh.framing.delimiter,
            ),
            ("framing.gap_ms", &mut self.framing.gap_ms, &fresh.framing.gap_ms),
            ("tls.cert", &mut self.tls.cert, &fresh.tls.cert),
            ("tls.key", &mut self.tls.key, &fresh.tls.key),
            ("tls.client_ca", &mut self.tls.client_ca, &fresh.tls.client_ca),
            ("tls.ca", &mut self.tls.ca, &fresh.tls.ca),
            ("tls.sni", &mut self.tls.sni, &fresh.tls.sni),
            ("tls.alpn", &mut self.tls.alpn, &fresh.tls.alpn),
            ("tls.client_cert", &mut self.tls.client_cert, &fresh.tls.client_cert),
            ("tls.client_key", &mut self.tls.client_key, &fresh.tls.client_key),
        ] {
            fixes.field(path, text, default);
        }
        for kind in Kind::ALL.iter().copied() {
            let path = format!("local_ports.{}", kind.caps().name);
            fixes.field(&path, self.local_ports.get_mut(kind), fresh.local_ports.get(kind));
        }
        if !BUFFER_MIB.contains(&self.receive.buffer_mib) {
            self.receive.buffer_mib = ReceiveSettings::default().buffer_mib;
            fixes.reset.push("receive.buffer_mib".into());
        }
        fixes.cut("send.text", &mut self.send.text, MAX_TEXT);
        fixes.cut("find.text", &mut self.find.text, MAX_FIELD);
        check_automation(self, &mut fixes);
        fixes
    }
}

fn check_automation(tab: &mut TabConfig, fixes: &mut Fixes) {
    fixes.rows("rules", &mut tab.rules, MAX_ROWS);
    for (index, rule) in tab.rules.iter_mut().enumerate() {
        let at = format!("rules.{}", index + 1);
        for (name, text) in rule_texts(rule) {
            fixes.cut(&format!("{at}.{name}"), text, MAX_TEXT);
        }
        if rule.delay_ms > MAX_DELAY_MS {
            rule.delay_ms = 0;
            fixes.reset.push(format!("{at}.delay_ms"));
        }
    }
    fixes.rows("script.steps", &mut tab.script.steps, MAX_ROWS);
    for (index, step) in tab.script.steps.iter_mut().enumerate() {
        let at = format!("script.steps.{}", index + 1);
        for (name, wait) in [("timeout_ms", &mut step.timeout_ms), ("sleep_ms", &mut step.sleep_ms)] {
            if wait.is_some_and(|ms| ms > MAX_WAIT_MS) {
                *wait = None;
                fixes.reset.push(format!("{at}.{name}"));
            }
        }
        for (name, text) in step_texts(step) {
            fixes.cut(&format!("{at}.{name}"), text, MAX_TEXT);
        }
    }
}

fn rule_texts(rule: &mut RuleSpec) -> impl Iterator<Item = (&'static str, &mut String)> {
    [
        ("name", &mut rule.name),
        ("match", &mut rule.match_text),
        ("match_hex", &mut rule.match_hex),
        ("match_regex", &mut rule.match_regex),
        ("reply", &mut rule.reply),
        ("reply_hex", &mut rule.reply_hex),
    ]
    .into_iter()
    .filter_map(|(name, text)| Some((name, text.as_mut()?)))
}

fn step_texts(step: &mut StepSpec) -> impl Iterator<Item = (&'static str, &mut String)> {
    [
        ("send", &mut step.send),
        ("send_hex", &mut step.send_hex),
        ("expect", &mut step.expect),
        ("expect_hex", &mut step.expect_hex),
        ("expect_regex", &mut step.expect_regex),
    ]
    .into_iter()
    .filter_map(|(name, text)| Some((name, text.as_mut()?)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::QuickCommand;

    #[test]
    fn a_sound_tab_is_left_alone() {
        let mut tab = TabConfig {
            name: "device".into(),
            rules: vec![RuleSpec {
                reply: Some("PONG".into()),
                delay_ms: MAX_DELAY_MS,
                ..RuleSpec::default()
            }],
            ..TabConfig::default()
        };
        tab.send.text = "x".repeat(MAX_TEXT);
        let before = tab.clone();
        assert_eq!(tab.check(), Fixes::default());
        assert_eq!(tab, before);
    }

    #[test]
    fn out_of_range_values_get_defaults_and_long_text_is_cut() {
        let mut tab = TabConfig::default();
        tab.send.text = "é".repeat(5 << 20);
        tab.receive.buffer_mib = u32::MAX;
        tab.remote_port = "9".repeat(MAX_FIELD + 1);
        tab.local_ports.udp = "1".repeat(MAX_FIELD + 1);
        tab.rules = vec![
            RuleSpec {
                delay_ms: u64::MAX,
                ..RuleSpec::default()
            };
            MAX_ROWS + 1
        ];
        tab.script.steps = vec![StepSpec {
            sleep_ms: Some(u64::MAX),
            ..StepSpec::default()
        }];
        let fixes = tab.check();
        assert_eq!(tab.send.text.chars().count(), MAX_TEXT);
        assert_eq!(tab.receive.buffer_mib, ReceiveSettings::default().buffer_mib);
        assert_eq!(tab.remote_port, TabConfig::default().remote_port);
        assert_eq!(tab.local_ports.udp, TabConfig::default().local_ports.udp);
        assert_eq!(tab.rules.len(), MAX_ROWS);
        assert!(tab.rules.iter().all(|rule| rule.delay_ms == 0));
        assert_eq!(tab.script.steps[0].sleep_ms, None);
        assert_eq!(fixes.cut, vec!["send.text", "rules"]);
        assert_eq!(
            &fixes.reset[..4],
            [
                "remote_port",
                "local_ports.udp",
                "receive.buffer_mib",
                "rules.1.delay_ms"
            ]
        );
        assert_eq!(fixes.reset.last().map(String::as_str), Some("script.steps.1.sleep_ms"));
        assert_eq!(tab.check(), Fixes::default(), "checked values stay");
    }

    #[test]
    fn prefs_keep_a_bounded_history_and_bounded_commands() {
        let mut prefs = Prefs {
            remote_history: (0..HISTORY + 5).map(|i| format!("10.0.0.{i}:1")).collect(),
            quick_commands: vec![
                QuickCommand {
                    text: "A".repeat(MAX_TEXT + 1),
                    ..QuickCommand::default()
                };
                2
            ],
            history_mib: 0,
            ..Prefs::default()
        };
        let fixes = prefs.check();
        assert_eq!(prefs.history_mib, Prefs::default().history_mib);
        assert_eq!(fixes.reset, ["history_mib"]);
        assert_eq!(prefs.remote_history.len(), HISTORY);
        assert!(prefs.quick_commands.iter().all(|c| c.text.len() == MAX_TEXT));
        assert_eq!(
            fixes.cut,
            vec!["remote_history", "quick_commands.1.text", "quick_commands.2.text"]
        );
    }
}
