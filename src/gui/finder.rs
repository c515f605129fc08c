//! A tab's find bar at run time: the search running on a thread of its own over a snapshot of the view, its
//! matches as they stream back, and the current one. Typing starts a new search; the old one sees its generation
//! go stale and stops.
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::codec::text::TextEncoding;
use crate::export::find::{Batch, FindError, Highlight, MAX_MATCHES, Match, Query};
use crate::settings::FindSettings;
use crate::view::{View, ViewOptions};

/// New data is searched at most this often while the bar is open: often enough that the count climbs with a
/// flood (and with a view still laying out a long history) rather than in jumps a second apart.
const FOLLOW_EVERY: Duration = Duration::from_millis(100);

/// A search started: what the tab must run, on a thread of its own, over the view's chunks from `since` on.
pub struct Started {
    pub query: Query,
    pub since: u64,
    pub generation: u64,
    pub cancelled: Arc<AtomicU64>,
}

/// What decides the matches: the pattern, and which data the view shows in what encoding (not how it lays the
/// data out: wrapping or hex moves rows, not matches).
#[derive(Debug, Clone, PartialEq)]
struct Key {
    settings: FindSettings,
    encoding: TextEncoding,
    peer_filter: Option<SocketAddr>,
    show_tx: bool,
}

impl Key {
    fn new(settings: &FindSettings, options: &ViewOptions) -> Key {
        Key {
            settings: settings.clone(),
            encoding: options.encoding,
            peer_filter: options.peer_filter,
            show_tx: options.show_tx,
        }
    }
}

#[derive(Default)]
pub struct Finder {
    pub open: bool,
    /// What the matches are for (`None`: nothing searched yet).
    key: Option<Key>,
    /// Why the pattern as typed cannot be searched; the last matches stay meanwhile.
    error: Option<FindError>,
    /// Bumped for every new search: a search whose number is no longer this one stops.
    generation: Arc<AtomicU64>,
    matches: Vec<Match>,
    done: bool,
    capped: bool,
    current: Option<usize>,
    /// Bumped at every move to a match: the receive pane scrolls once per jump.
    jumps: u64,
    /// Bumped at every Ctrl+F: the bar takes the keyboard once per time.
    opens: u64,
    /// What to mark in hex rows and in text rows.
    marks: Option<(Option<Highlight>, Option<Highlight>)>,
    /// The query of the matches on show, the view's chunks it has searched (those before this number), and when
    /// the last search started: data that arrives later is searched in turn.
    query: Option<Query>,
    searched_to: u64,
    started: Option<Instant>,
}

impl Finder {
    pub fn matches(&self) -> usize {
        self.matches.len()
    }

    pub fn done(&self) -> bool {
        self.done
    }

    pub fn capped(&self) -> bool {
        self.capped
    }

    pub fn current(&self) -> Option<usize> {
        self.current
    }

    pub fn error(&self) -> Option<&FindError> {
        self.error.as_ref()
    }

    pub fn jumps(&self) -> u64 {
        self.jumps
    }

    pub fn opens(&self) -> u64 {
        self.opens
    }

    /// Ctrl+F: the bar shows (or takes the keyboard again).
    pub fn open(&mut self) {
        self.open = true;
        self.opens += 1;
    }

    /// The current match's row in `view` as laid out now, if the view still shows it.
    pub fn current_row(&self, view: &View) -> Option<usize> {
        let found = self.matches.get(self.current?)?;
        view.row_at(found.seq, found.at)
    }

    /// What to mark in the rows on screen, while the bar is open.
    pub fn highlight(&self, hex_rows: bool) -> Option<&Highlight> {
        let (hex, text) = self.marks.as_ref().filter(|_| self.open)?;
        if hex_rows { hex.as_ref() } else { text.as_ref() }
    }

    /// Whether the pattern or the view changed since the last search: if so, a new one (`None` when there is
    /// nothing to search, or the pattern is bad and the last results stay).
    pub fn restart(&mut self, settings: &FindSettings, view: &View) -> Option<Started> {
        let key = Key::new(settings, view.options());
        if !self.open {
            return None;
        }
        if self.key.as_ref() == Some(&key) {
            // Back to the pattern of the results on show (a typo undone).
            self.error = None;
            return None;
        }
        let query = match Query::new(settings.mode, &settings.text, view.options().encoding) {
            Ok(query) => query,
            Err(error) => {
                self.error = Some(error);
                return None;
            }
        };
        self.key = Some(key);
        self.error = None;
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        self.matches = Vec::new();
        (self.done, self.capped, self.current) = (query.is_none(), false, None);
        self.marks = query
            .as_ref()
            .map(|query| (query.highlight(true), query.highlight(false)));
        self.query = query;
        self.searched_to = 0;
        self.follow(view, generation)
    }

    /// Data the view gained since the last search finished is searched too, [`FOLLOW_EVERY`] after that search
    /// started at the soonest (`None`: nothing to do now). A match split between the old data and the new is not found.
    pub fn more(&mut self, view: &View) -> Option<Started> {
        let due = self.started.is_none_or(|started| started.elapsed() >= FOLLOW_EVERY);
        if !self.open || !self.done || self.capped || self.error.is_some() || !due {
            return None;
        }
        if view.next_seq() <= self.searched_to {
            return None;
        }
        self.done = false;
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        self.follow(view, generation)
    }

    /// When to look again, while the view holds data not searched yet.
    pub fn more_due(&self, view: &View) -> Option<Instant> {
        let waiting = self.open && self.query.is_some() && view.next_seq() > self.searched_to;
        Some(self.started.filter(|_| waiting)? + FOLLOW_EVERY)
    }

    /// The history went (Clear): the next frame searches afresh.
    pub fn invalidate(&mut self) {
        self.key = None;
    }

    fn follow(&mut self, view: &View, generation: u64) -> Option<Started> {
        let since = std::mem::replace(&mut self.searched_to, view.next_seq());
        self.started = Some(Instant::now());
        Some(Started {
            query: self.query.clone()?,
            since,
            generation,
            cancelled: self.generation.clone(),
        })
    }

    /// A batch of the running search; the first match becomes the current one.
    pub fn found(&mut self, generation: u64, batch: Batch) {
        if generation != self.generation.load(Ordering::Relaxed) {
            return;
        }
        let current = self.current.map(|index| self.matches[index]);
        // Streams finish matches out of order (one split across chunks comes when its end does).
        let sorted = match (self.matches.last(), batch.matches.first()) {
            (Some(last), Some(first)) => last <= first && batch.matches.is_sorted(),
            _ => batch.matches.is_sorted(),
        };
        self.matches.extend(batch.matches);
        if !sorted {
            self.matches.sort_unstable();
        }
        (self.done, self.capped) = (batch.done, batch.capped);
        // Searches of new data add up: together they stop counting where one would.
        if self.matches.len() > MAX_MATCHES {
            self.matches.truncate(MAX_MATCHES);
            self.generation.fetch_add(1, Ordering::Relaxed);
            (self.done, self.capped) = (true, true);
        }
        match current {
            Some(current) => self.current = self.matches.binary_search(&current).ok(),
            None if !self.matches.is_empty() => self.go(0),
            None => {}
        }
    }

    /// The next match (`forward`) or the previous one, wrapping around.
    pub fn step(&mut self, forward: bool) {
        let count = self.matches.len();
        if count == 0 {
            return;
        }
        let index = match (self.current, forward) {
            (None, _) => 0,
            (Some(index), true) => (index + 1) % count,
            (Some(index), false) => (index + count - 1) % count,
        };
        self.go(index);
    }

    fn go(&mut self, index: usize) {
        self.current = Some(index);
        self.jumps += 1;
    }

    /// The bar closes: a running search stops, the marks go; the pattern and results stay for the next open.
    pub fn close(&mut self) {
        self.open = false;
        self.generation.fetch_add(1, Ordering::Relaxed);
        self.key = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::find::FindMode;
    use crate::view::At;

    fn at(seq: u64) -> Match {
        Match { seq, at: At::Byte(0) }
    }

    fn batch(seqs: &[u64], done: bool) -> Batch {
        Batch {
            matches: seqs.iter().copied().map(at).collect(),
            done,
            capped: false,
        }
    }

    #[test]
    fn matches_come_in_order_keep_the_current_one_and_stale_searches_are_ignored() {
        let view = View::new(ViewOptions::STREAM);
        let mut finder = Finder::default();
        finder.open();
        let settings = FindSettings {
            mode: FindMode::Text,
            text: "x".into(),
        };
        let started = finder.restart(&settings, &view).expect("a search");
        assert!(finder.restart(&settings, &view).is_none(), "the same pattern again");
        finder.found(started.generation, batch(&[3, 7], false));
        assert_eq!(finder.current(), Some(0), "the first match is the current one");
        finder.step(true);
        // A match split across chunks comes when its end does: the list stays in order, the current one stays.
        finder.found(started.generation, batch(&[5, 9], true));
        assert_eq!(finder.matches, [at(3), at(5), at(7), at(9)]);
        assert_eq!((finder.current(), finder.done()), (Some(2), true));
        finder.step(false);
        finder.step(false);
        finder.step(false);
        assert_eq!(finder.current(), Some(3), "wraps around");

        let other = FindSettings {
            text: "y".into(),
            ..settings
        };
        let newer = finder.restart(&other, &view).expect("a new search");
        assert_ne!(newer.generation, started.generation);
        assert_eq!(
            started.cancelled.load(Ordering::Relaxed),
            newer.generation,
            "the old search sees it is stale"
        );
        finder.found(started.generation, batch(&[1], true));
        assert_eq!(
            (finder.matches(), finder.current()),
            (0, None),
            "a stale batch is dropped"
        );
    }

    #[test]
    fn searches_of_new_data_stop_counting_at_the_cap_together() {
        let view = View::new(ViewOptions::STREAM);
        let mut finder = Finder::default();
        finder.open();
        let settings = FindSettings {
            mode: FindMode::Text,
            text: "x".into(),
        };
        let started = finder.restart(&settings, &view).expect("a search");
        let seqs: Vec<u64> = (0..MAX_MATCHES as u64 + 10).collect();
        finder.found(started.generation, batch(&seqs, true));
        assert_eq!(
            (finder.matches(), finder.capped(), finder.done()),
            (MAX_MATCHES, true, true)
        );
    }

    #[test]
    fn a_bad_pattern_keeps_the_last_results_until_it_is_undone() {
        let view = View::new(ViewOptions::STREAM);
        let mut finder = Finder::default();
        finder.open();
        let good = FindSettings {
            mode: FindMode::Regex,
            text: "a+".into(),
        };
        let started = finder.restart(&good, &view).expect("a search");
        finder.found(started.generation, batch(&[1, 2], true));
        let bad = FindSettings {
            text: "a+(".into(),
            ..good.clone()
        };
        assert!(finder.restart(&bad, &view).is_none());
        assert!(matches!(finder.error(), Some(FindError::Regex(_))));
        assert_eq!(finder.matches(), 2, "the last results stay");
        assert!(
            finder.restart(&good, &view).is_none(),
            "undoing the typo searches nothing again"
        );
        assert!(finder.error().is_none());
        assert_eq!(finder.matches(), 2);
    }
}
