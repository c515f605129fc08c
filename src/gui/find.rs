//! A tab's find bar at run time: the search running on a thread of its own over a snapshot of the view, its
//! matches as they stream back, and the current one. Typing starts a new search; the old one sees its generation
//! go stale and stops.
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::export::search::{Batch, FindError, Highlight, Match, Query};
use crate::gui::settings::FindSettings;
use crate::view::{View, ViewOptions};

/// A search started: what the tab must run, on a thread of its own.
pub struct Started {
    pub query: Query,
    pub generation: u64,
    pub cancelled: Arc<AtomicU64>,
}

#[derive(Default)]
pub struct Finder {
    pub open: bool,
    /// The pattern and the view options the matches are for (`None`: nothing searched yet).
    key: Option<(FindSettings, ViewOptions)>,
    /// Why the pattern as typed cannot be searched; the last matches stay meanwhile.
    error: Option<FindError>,
    /// Bumped for every new search: a search whose number is no longer this one stops.
    generation: Arc<AtomicU64>,
    matches: Vec<Match>,
    done: bool,
    capped: bool,
    current: Option<usize>,
    /// The current match's row, counted with the rows removed since the view was made (so it holds as old rows
    /// fall out).
    current_row: Option<u64>,
    /// Bumped at every move to a match: the receive pane scrolls once per jump.
    jumps: u64,
    /// Bumped at every Ctrl+F: the bar takes the keyboard once per time.
    opens: u64,
    /// What to mark in hex rows and in text rows.
    marks: Option<(Option<Highlight>, Option<Highlight>)>,
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

    /// The current match's row in `view`, if it is still shown.
    pub fn current_row(&self, view: &View) -> Option<usize> {
        let row = self.current_row?.checked_sub(view.rows_removed_total())?;
        usize::try_from(row).ok().filter(|row| *row < view.rows())
    }

    /// What to mark in the rows on screen, while the bar is open.
    pub fn highlight(&self, hex_rows: bool) -> Option<&Highlight> {
        let (hex, text) = self.marks.as_ref().filter(|_| self.open)?;
        if hex_rows { hex.as_ref() } else { text.as_ref() }
    }

    /// Whether the pattern or the view changed since the last search: if so, a new one (`None` when there is
    /// nothing to search, or the pattern is bad and the last results stay).
    pub fn restart(&mut self, settings: &FindSettings, view: &View) -> Option<Started> {
        let key = (settings.clone(), view.options().clone());
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
        (self.done, self.capped, self.current, self.current_row) = (query.is_none(), false, None, None);
        self.marks = query
            .as_ref()
            .map(|query| (query.highlight(true), query.highlight(false)));
        Some(Started {
            query: query?,
            generation,
            cancelled: self.generation.clone(),
        })
    }

    /// A batch of the running search; the first match becomes the current one.
    pub fn found(&mut self, generation: u64, batch: Batch, view: &View) {
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
        self.done = batch.done;
        self.capped = batch.capped;
        match current {
            Some(current) => self.current = self.matches.binary_search(&current).ok(),
            None if !self.matches.is_empty() => self.go(0, view),
            None => {}
        }
    }

    /// The next match (`forward`) or the previous one, wrapping around.
    pub fn step(&mut self, forward: bool, view: &View) {
        let count = self.matches.len();
        if count == 0 {
            return;
        }
        let index = match (self.current, forward) {
            (None, _) => 0,
            (Some(index), true) => (index + 1) % count,
            (Some(index), false) => (index + count - 1) % count,
        };
        self.go(index, view);
    }

    fn go(&mut self, index: usize, view: &View) {
        let found = self.matches[index];
        self.current = Some(index);
        self.current_row = view
            .row_at(found.seq, found.at)
            .map(|row| row as u64 + view.rows_removed_total());
        self.jumps += 1;
    }

    /// The bar closes: a running search stops, the marks go; the pattern and results stay for the next open.
    pub fn close(&mut self) {
        self.open = false;
        self.generation.fetch_add(1, Ordering::Relaxed);
        self.key = None;
    }
}
