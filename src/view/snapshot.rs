//! The rows as they stand, taken cheaply on the UI thread and turned into text elsewhere (save, copy, export).
use std::ops::{Range, RangeInclusive};

use super::{Entry, RowKind, View, ViewOptions};
use crate::codec::text::TextEncoding;
use crate::history::Chunk;

impl View {
    /// Every row indexed so far as shown, each ending in "\n": for "save view" and "copy all".
    pub fn text_of_all(&self) -> String {
        self.snapshot().text()
    }

    /// What [`text_of_all`](Self::text_of_all) needs, taken in one cheap pass (the chunks are shared), so the
    /// text itself can be made on another thread.
    pub fn snapshot(&self) -> ViewSnapshot {
        self.snapshot_since(0)
    }

    /// [`snapshot`](Self::snapshot) of the chunks numbered `seq` and later.
    pub fn snapshot_since(&self, seq: u64) -> ViewSnapshot {
        let from = self.entries.partition_point(|entry| entry.seq < seq);
        self.snapshot_of(from..self.entries.len())
    }

    /// [`snapshot`](Self::snapshot) of the chunks numbered within `seqs` only (those the view shows).
    pub fn snapshot_range(&self, seqs: RangeInclusive<u64>) -> ViewSnapshot {
        let from = self.entries.partition_point(|entry| entry.seq < *seqs.start());
        let to = self.entries.partition_point(|entry| entry.seq <= *seqs.end());
        self.snapshot_of(from..to.max(from))
    }

    /// The entries at `range` with the options they were laid out with (the chunks are shared, not copied).
    fn snapshot_of(&self, range: Range<usize>) -> ViewSnapshot {
        ViewSnapshot {
            options: self.options.clone(),
            entries: self.entries.range(range).cloned().collect(),
        }
    }

    /// What save, copy and export act on: the selected rows' chunks if rows are selected, else everything.
    pub fn snapshot_selected(&self) -> ViewSnapshot {
        match &self.selection {
            Some(selection) => self.snapshot_range(selection.seqs.clone()),
            None => self.snapshot(),
        }
    }
}

/// The view's rows as they stand, to be turned into text away from the UI thread.
pub struct ViewSnapshot {
    options: ViewOptions,
    entries: Vec<Entry>,
}

impl ViewSnapshot {
    /// The chunks on show (the peer filter and the sent-data setting applied), oldest first.
    pub fn chunks(&self) -> impl Iterator<Item = &Chunk> {
        self.entries.iter().map(|entry| &*entry.chunk)
    }

    /// [`chunks`](Self::chunks) with their sequence numbers in the log.
    pub fn numbered(&self) -> impl Iterator<Item = (u64, &Chunk)> {
        self.entries.iter().map(|entry| (entry.seq, &*entry.chunk))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The encoding the view decodes text with.
    pub fn encoding(&self) -> TextEncoding {
        self.options.encoding
    }

    /// Every row, each ending in "\n".
    pub fn text(&self) -> String {
        let mut all = String::new();
        let mut in_row = false;
        // What was received, as export writes it: U+FFFD, not the window's escapes.
        let options = ViewOptions {
            escape_malformed: false,
            ..self.options.clone()
        };
        for entry in &self.entries {
            // Whether it is hex was decided as it was indexed (escapes do not change that).
            let rendered = options.render(&entry.chunk, entry.hex, entry.text_in, entry.continues);
            // The first chunk may continue a row that fell out with an older chunk.
            if entry.continues.is_some() && in_row {
                all.push_str(&rendered.lead);
            }
            for (kind, text) in &rendered.rows {
                if in_row {
                    all.push('\n');
                }
                all.push_str(text);
                if let RowKind::Note(note) = kind {
                    all.push(' ');
                    all.push_str(&crate::render::note(*note));
                }
                in_row = true;
            }
        }
        if in_row {
            all.push('\n');
        }
        all
    }
}
