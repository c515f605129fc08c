//! A tab's part of the window's history budget (`Prefs::history_mib`): the tabs share one, so memory does not
//! grow with their number. Each frame every tab makes a claim and the app splits the budget by them
//! (`history::share`): weight 1, +3 for a tab on show or shown within the last minute, +4 for one that received
//! within the last 10 s; an idle tab wants what it holds and room for a burst (a quarter of an equal share: what
//! arrives within one frame, before it counts as busy), a busy one as much as it may have. So a busy tab on show
//! weighs 8 against an idle hidden one's 1, and idle tabs keep what they hold while the busy ones share the rest.
use std::time::{Duration, Instant};

use crate::history::{CHUNK_OVERHEAD, Claim, DEFAULT_BUDGET, share};
use crate::settings::TabConfig;

use super::Tab;

/// Data within this long makes a tab busy.
const BUSY_FOR: Duration = Duration::from_secs(10);
/// A tab shown within this long counts as viewed.
const VIEWED_FOR: Duration = Duration::from_secs(60);
/// The least room for a burst an idle tab gets.
const MIN_ROOM: usize = 1 << 20;

/// When the tab last received and was last on show.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Activity {
    pub(super) data: Option<Instant>,
    pub(super) shown: Option<Instant>,
}

/// Splits the window's history budget, `total` bytes, among `tabs` by what each claims now.
pub fn share_history<'a>(tabs: impl Iterator<Item = &'a mut Tab>, total: usize) {
    let mut tabs: Vec<&mut Tab> = tabs.collect();
    let now = Instant::now();
    let room = (total / (4 * tabs.len().max(1))).max(MIN_ROOM);
    let claims: Vec<Claim> = tabs.iter().map(|tab| tab.history_claim(now, room)).collect();
    for (tab, part) in tabs.iter_mut().zip(share(total, &claims)) {
        tab.set_history_budget(part);
    }
}

impl Tab {
    /// What this tab asks of the window's history budget now, `room` for a burst if idle.
    fn history_claim(&self, now: Instant, room: usize) -> Claim {
        let within = |at: Option<Instant>, span| at.is_some_and(|at| now.saturating_duration_since(at) < span);
        let activity = &self.state.activity;
        let busy = within(activity.data, BUSY_FOR);
        let viewed = within(activity.shown, VIEWED_FOR);
        let log = &self.state.log;
        let held = log.bytes() + log.len() * CHUNK_OVERHEAD;
        let cap = own_cap(&self.config).unwrap_or(usize::MAX);
        Claim {
            weight: 1 + 3 * u32::from(viewed) + 4 * u32::from(busy),
            want: if busy { cap } else { cap.min(held + room) },
        }
    }

    /// The tab's part of the window's budget: a smaller one drops its oldest data at once (counted as dropped).
    fn set_history_budget(&mut self, budget: usize) {
        if self.state.log.budget() != budget {
            self.state.log.set_budget(budget);
        }
    }
}

/// The tab's own cap on its history (接收缓冲), if it has one.
fn own_cap(config: &TabConfig) -> Option<usize> {
    let mib = config.receive.buffer_mib;
    (mib > 0).then(|| mib as usize * 1024 * 1024)
}

/// What a tab holds before the window first shares its budget out (a tab made outside a window keeps this).
pub(super) fn first_budget(config: &TabConfig) -> usize {
    own_cap(config).unwrap_or(DEFAULT_BUDGET)
}
