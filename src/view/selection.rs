//! Rows picked by the user, kept as the chunks they show.
use std::ops::RangeInclusive;

use super::{Row, Selection, View};

impl View {
    /// A click on the row showing chunks `seqs`: selects it alone (or drops the selection if it was exactly that
    /// row), or with `extend`, everything from the first row picked to it.
    pub fn select(&mut self, seqs: RangeInclusive<u64>, extend: bool) {
        self.selection = match self.selection.take() {
            Some(Selection { anchor, .. }) if extend => Some(Selection {
                seqs: *anchor.start().min(seqs.start())..=*anchor.end().max(seqs.end()),
                anchor,
            }),
            Some(selection) if selection.seqs == seqs => None,
            _ => Some(Selection {
                anchor: seqs.clone(),
                seqs,
            }),
        };
        self.clip_selection(self.entries.front().map_or(self.next_seq, |entry| entry.seq));
    }

    pub fn clear_selection(&mut self) {
        self.selection = None;
    }

    /// The selected chunks' sequence numbers, if rows are selected.
    pub fn selection(&self) -> Option<RangeInclusive<u64>> {
        self.selection.as_ref().map(|selection| selection.seqs.clone())
    }

    /// Whether `row` starts in a selected chunk.
    pub fn is_selected(&self, row: &Row) -> bool {
        self.selection
            .as_ref()
            .is_some_and(|selection| selection.seqs.contains(&row.seq))
    }

    /// How many rows start in selected chunks.
    pub fn selected_rows(&self) -> usize {
        let Some(selection) = &self.selection else {
            return 0;
        };
        let from = self
            .entries
            .partition_point(|entry| entry.seq < *selection.seqs.start());
        let to = self.entries.partition_point(|entry| entry.seq <= *selection.seqs.end());
        self.entries
            .range(from..to.max(from))
            .map(|entry| entry.rows as usize)
            .sum()
    }

    /// Chunks below `first_seq` are gone: the selection keeps what is left of it, or goes.
    pub(super) fn clip_selection(&mut self, first_seq: u64) {
        let Some(selection) = &mut self.selection else {
            return;
        };
        if *selection.seqs.end() < first_seq {
            self.selection = None;
            return;
        }
        let clip = |seqs: &RangeInclusive<u64>| *seqs.start().max(&first_seq)..=*seqs.end().max(&first_seq);
        selection.seqs = clip(&selection.seqs);
        selection.anchor = clip(&selection.anchor);
    }
}
