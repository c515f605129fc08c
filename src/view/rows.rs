//! Rows on demand: the ones asked for are rendered from the raw bytes (recent chunks from a small cache), and
//! places in chunks are mapped to rows.
use std::ops::{Range, RangeInclusive};
use std::sync::Arc;

use super::layout::{Line, header};
use super::{At, CACHE_BYTES, CACHED_CHUNKS, Entry, Rendered, Row, RowKind, View};
use crate::codec::hex::to_hex;

impl View {
    pub fn rows(&self) -> usize {
        (self.next_row - self.first_row) as usize
    }

    pub fn row(&self, index: usize) -> Option<Row> {
        (index < self.rows()).then(|| self.render_row(index))
    }

    /// The rows in `range`, cut to the rows there are (what `ScrollArea::show_rows` asks for),
    /// rendered from the raw bytes now.
    pub fn rows_in(&self, range: Range<usize>) -> impl Iterator<Item = Row> + '_ {
        let end = range.end.min(self.rows());
        (range.start.min(end)..end).map(|index| self.render_row(index))
    }

    fn render_row(&self, index: usize) -> Row {
        let number = self.first_row + index as u64;
        let at = self
            .entries
            .partition_point(|entry| entry.first_row + u64::from(entry.rows) <= number);
        let entry = &self.entries[at];
        let nth = (number - entry.first_row) as usize;
        let (kind, mut text, mut malformed) = self.nth_row(entry, nth);
        if nth + 1 == entry.rows as usize {
            // The last row of a chunk goes on in the chunks after it that continue it.
            for next in self.entries.range(at + 1..) {
                if next.continues.is_some() {
                    let (lead, lead_malformed) = self.lead(next);
                    let shift = text.len();
                    malformed.extend(
                        lead_malformed
                            .into_iter()
                            .map(|range| range.start + shift..range.end + shift),
                    );
                    text.push_str(&lead);
                }
                if next.rows > 0 {
                    break;
                }
            }
        }
        Row {
            seq: entry.seq,
            peer: entry.chunk.peer,
            direction: entry.chunk.direction,
            way: entry.chunk.way(),
            kind,
            text,
            malformed,
        }
    }

    /// Hex rows are cut from the bytes directly; text rows from the chunk laid out again.
    fn nth_row(&self, entry: &Entry, mut nth: usize) -> (RowKind, String, Vec<Range<usize>>) {
        if let Some(note) = entry.chunk.note {
            return (RowKind::Note(note), header(&entry.chunk), Vec::new());
        }
        if !entry.hex {
            let rendered = self.rendered(entry);
            let (kind, text) = rendered
                .rows
                .get(nth)
                .cloned()
                .unwrap_or((RowKind::Data, String::new()));
            return (kind, text, rendered.malformed_in(nth + 1).collect());
        }
        if self.options.log_mode && !entry.chunk.continued {
            if nth == 0 {
                return (RowKind::Header, header(&entry.chunk), Vec::new());
            }
            nth -= 1;
        }
        let per_row = self.options.hex_bytes_per_row();
        let from = (self.hex_lead_len(entry) + nth * per_row).min(entry.chunk.bytes.len());
        let to = (from + per_row).min(entry.chunk.bytes.len());
        (RowKind::Data, to_hex(&entry.chunk.bytes[from..to]), Vec::new())
    }

    /// What a chunk adds to the row it continues, and where its malformed sequences are in that.
    fn lead(&self, entry: &Entry) -> (String, Vec<Range<usize>>) {
        if !entry.hex {
            let rendered = self.rendered(entry);
            return (rendered.lead.clone(), rendered.malformed_in(0).collect());
        }
        let lead = match self.hex_lead_len(entry) {
            0 => String::new(),
            len => format!(" {}", to_hex(&entry.chunk.bytes[..len])),
        };
        (lead, Vec::new())
    }

    /// Bytes of a chunk that fill the open hex row it continues.
    fn hex_lead_len(&self, entry: &Entry) -> usize {
        let room = entry
            .continues
            .map_or(0, |held| self.options.hex_bytes_per_row().saturating_sub(held));
        room.min(entry.chunk.bytes.len())
    }

    /// A chunk laid out again, from the cache if it was on screen lately.
    fn rendered(&self, entry: &Entry) -> Arc<Rendered> {
        let mut cache = self.cache.borrow_mut();
        if let Some((_, rendered)) = cache.iter().find(|(seq, _)| *seq == entry.seq) {
            return rendered.clone();
        }
        let rendered = Arc::new(self.render(entry));
        // Bounded in chunks and in bytes (a 1 MiB read of short lines is many rows).
        let mut held: usize = cache.iter().map(|(_, rendered)| rendered.size()).sum();
        while !cache.is_empty() && (cache.len() == CACHED_CHUNKS || held + rendered.size() > CACHE_BYTES) {
            held -= cache.pop_front().map_or(0, |(_, rendered)| rendered.size());
        }
        cache.push_back((entry.seq, rendered.clone()));
        rendered
    }

    fn render(&self, entry: &Entry) -> Rendered {
        self.options
            .render(&entry.chunk, entry.hex, entry.text_in, entry.continues)
    }

    /// The row that shows the place `at` of chunk `seq`, if the view shows that chunk: its prefix is laid out
    /// again, counting rows (a hex view or sent binary places text offsets at the chunk's start).
    pub fn row_at(&self, seq: u64, at: At) -> Option<usize> {
        let index = self.entries.partition_point(|entry| entry.seq < seq);
        let entry = self.entries.get(index).filter(|entry| entry.seq == seq)?;
        let chunk = &entry.chunk;
        let mut line = Line::new(entry.continues);
        let mut rows = 0u64;
        if self.options.log_mode && !chunk.continued {
            line.header(&mut rows, chunk);
        }
        if entry.hex {
            let bytes = match at {
                At::Byte(offset) => offset.min(chunk.bytes.len()),
                At::Text(_) => 0,
            };
            line.write_hex(&mut rows, &chunk.bytes[..bytes], self.options.hex_bytes_per_row());
        } else {
            let mut decoder = self.options.encoding.resume(entry.text_in.carry);
            let mut text = String::new();
            let (cut, malformed) = match at {
                At::Byte(offset) => {
                    let bytes = &chunk.bytes[..offset.min(chunk.bytes.len())];
                    let malformed = self.options.decode(&mut decoder, bytes, &mut text);
                    (text.len(), malformed)
                }
                At::Text(offset) => {
                    let malformed = self.options.decode(&mut decoder, &chunk.bytes, &mut text);
                    let mut offset = offset.min(text.len());
                    while !text.is_char_boundary(offset) {
                        offset -= 1;
                    }
                    (offset, malformed)
                }
            };
            let columns = self.options.columns();
            line.write_text(&mut rows, &text[..cut], &malformed, entry.text_in.after_cr, columns);
        }
        // Within the open row it is on that row; after a row ended it starts the next.
        let number = entry.first_row + rows - u64::from(line.open);
        usize::try_from(number.checked_sub(self.first_row)?).ok()
    }

    /// The chunks a row shows: the one it starts in, through those that only continue it (and the first one that
    /// continues it and starts rows of its own, as a chunk is taken whole).
    pub fn row_seqs(&self, index: usize) -> Option<RangeInclusive<u64>> {
        if index >= self.rows() {
            return None;
        }
        let number = self.first_row + index as u64;
        let at = self
            .entries
            .partition_point(|entry| entry.first_row + u64::from(entry.rows) <= number);
        let entry = self.entries.get(at)?;
        let mut last = entry.seq;
        if number + 1 == entry.first_row + u64::from(entry.rows) {
            for next in self.entries.range(at + 1..) {
                if next.continues.is_none() {
                    break;
                }
                last = next.seq;
                if next.rows > 0 {
                    break;
                }
            }
        }
        Some(entry.seq..=last)
    }
}
