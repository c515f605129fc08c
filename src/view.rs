//! What the receive pane shows: the log as rows of text. Rows are an index over the log's raw
//! chunks (per shown chunk: where its rows start and the decoder state carried into it), and only
//! the rows asked for are rendered, so a view costs little more than the bytes it shows. The index
//! grows as chunks arrive and is rebuilt when a display option changes, a few milliseconds per
//! frame. Rows are numbered, so the window can scroll through millions of them with
//! `ScrollArea::show_rows`.
//!
//! Rendering rules:
//! - Text: one streaming decoder per (peer, direction), in both modes, so a character split
//!   across chunks shows whole where its last byte arrives. `\r\n`, `\n` and a lone `\r` end a
//!   row (a `\r\n` split across chunks ends one row). Control characters other than `\t` show as
//!   `\x01` (the send box's escape syntax, so the text can be pasted back); malformed bytes as U+FFFD.
//! - Stream mode: a chunk continues the last row if it is of the same peer and direction and that
//!   row has not ended; any other peer or direction starts a new row.
//! - Log mode: each chunk gets a header row, then its data rows.
//! - Hex: "48 65 6C". Stream mode fills rows of 16 bytes like a hex viewer, log mode gives each
//!   chunk one row (up to [`MAX_ROW_WIDTH`]); with `wrap_columns`, both put as many bytes on a row
//!   as the columns hold.
//! - Sent binary (a TX chunk with control bytes other than `\t \r \n`, such as a Modbus frame) shows
//!   as hex in the text view too, on rows of its own: as text it would be `\x01\x03…` and stray CJK.
//! - Rows wrap at `wrap_columns` (CJK characters count two columns) and, without it, at
//!   [`MAX_ROW_WIDTH`].
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::ops::{Range, RangeInclusive};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::codec::hex::to_hex;
use crate::codec::text::{Carry, TextEncoding};
use crate::log::{Chunk, Direction, Log};

/// The widest row even without wrapping: egui lays text out a row at a time and eviction drops
/// whole rows, so a peer that never sends a newline must not make one endless row.
pub const MAX_ROW_WIDTH: usize = 4096;
/// Bytes per hex row in stream mode without wrapping.
const HEX_STREAM_ROW: usize = 16;
/// Columns taken by a control character shown as `\xHH`.
const ESCAPE_WIDTH: usize = 4;
/// Indexing time per `append` or `set_options` call; the rest waits for the next frame, so
/// re-indexing a full 64 MiB view never holds a frame longer than this.
const INDEX_BUDGET: Duration = Duration::from_millis(4);
/// How much is indexed between two looks at the clock.
const CLOCK_EVERY: usize = 32 << 10;
/// Rendered chunks kept for the rows on screen (a frame shows rows from a few chunks).
const CACHED_CHUNKS: usize = 16;
/// Memory let go at once (a cleared view) that is worth handing back to the system.
const TRIM_AFTER: usize = 1 << 20;
/// And at most this much of their text.
const CACHE_BYTES: usize = 8 << 20;

#[derive(Debug, Clone, PartialEq)]
pub struct ViewOptions {
    pub hex: bool,
    pub encoding: TextEncoding,
    /// A header row per chunk ("[12:00:00.123] RX ← 127.0.0.1:5000") before its data, instead of
    /// one continuous stream.
    pub log_mode: bool,
    pub show_tx: bool,
    /// Wrap rows at this many columns; `None` wraps only at [`MAX_ROW_WIDTH`].
    pub wrap_columns: Option<usize>,
    /// Show only this peer's chunks.
    pub peer_filter: Option<SocketAddr>,
}

impl ViewOptions {
    /// Text in UTF-8 as one continuous stream, sent data shown, no wrapping, every peer.
    pub const STREAM: ViewOptions = ViewOptions {
        hex: false,
        encoding: TextEncoding::UTF8,
        log_mode: false,
        show_tx: true,
        wrap_columns: None,
        peer_filter: None,
    };
}

impl Default for ViewOptions {
    fn default() -> Self {
        ViewOptions::STREAM
    }
}

impl ViewOptions {
    fn shows(&self, chunk: &Chunk) -> bool {
        (self.show_tx || chunk.direction == Direction::Rx) && self.peer_filter.is_none_or(|peer| peer == chunk.peer)
    }

    /// Whether `chunk` is laid out as hex: everything in hex view, and sent binary in text view.
    fn hex_for(&self, chunk: &Chunk) -> bool {
        self.hex
            || (chunk.direction == Direction::Tx
                && chunk
                    .bytes
                    .iter()
                    .any(|&byte| (byte < 0x20 && !matches!(byte, b'\t' | b'\r' | b'\n')) || byte == 0x7F))
    }

    fn columns(&self) -> usize {
        self.wrap_columns
            .map_or(MAX_ROW_WIDTH, |columns| columns.clamp(1, MAX_ROW_WIDTH))
    }

    fn hex_bytes_per_row(&self) -> usize {
        if self.wrap_columns.is_none() && !self.log_mode {
            return HEX_STREAM_ROW;
        }
        // n bytes take 3n - 1 columns ("XX" and " XX" for each further byte).
        ((self.columns() + 1) / 3).max(1)
    }
}

/// A place in a chunk: an offset in its bytes, or in the text it decodes to (with the stream's carry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum At {
    Byte(usize),
    Text(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// Log mode's "[time] RX ← peer" line.
    Header,
    Data,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The log sequence number of the chunk this row starts in.
    pub seq: u64,
    pub peer: SocketAddr,
    pub direction: Direction,
    pub kind: RowKind,
    pub text: String,
}

/// One byte stream: a peer in one direction.
type Stream = (SocketAddr, Direction);

/// What a text stream carries from one chunk to the next.
#[derive(Debug, Clone, Copy, Default)]
struct TextState {
    /// The bytes of a character the chunk did not finish.
    carry: Carry,
    /// The last text ended in `\r`, so a leading `\n` completes that line break.
    after_cr: bool,
}

/// The last row, still open to more data of its stream.
#[derive(Debug, Clone, Copy)]
struct Open {
    stream: Stream,
    /// Columns (text) or bytes (hex) on it.
    width: usize,
}

/// A shown chunk and what it takes to lay it out again on its own: rows are not stored, only
/// counted; the ones on screen are rendered from the raw bytes when asked for.
struct Entry {
    seq: u64,
    chunk: Arc<Chunk>,
    /// The number of the first row that starts in this chunk.
    first_row: u64,
    /// Rows that start in this chunk (a header counts).
    rows: u32,
    text_in: TextState,
    /// The width of the open row this chunk's first data continues.
    continues: Option<usize>,
}

/// A chunk laid out as text: what it adds to the row it continues, then the rows it starts.
#[derive(Default)]
struct Rendered {
    lead: String,
    rows: Vec<(RowKind, String)>,
}

/// The log as rows, following one [`Log`]. `append` indexes what arrived since the last call
/// (within a time budget per call, so a re-index after an option change spreads over frames) and
/// drops rows whose chunks the log has dropped. Memory is a small entry per shown chunk: row text
/// exists only for the rows asked for.
pub struct View {
    options: ViewOptions,
    entries: VecDeque<Entry>,
    /// The number of the first row held; rows are numbered from 0 at each (re)build.
    first_row: u64,
    /// The number the next row to start gets.
    next_row: u64,
    open: Option<Open>,
    texts: HashMap<Stream, TextState>,
    /// The sequence number of the next chunk to index.
    next_seq: u64,
    /// Rows removed because the log dropped their chunks.
    removed: u64,
    /// The log holds chunks not indexed yet.
    behind: bool,
    /// Decoded text of the chunk being indexed (kept to reuse its allocation).
    scratch: String,
    cache: RefCell<VecDeque<(u64, Arc<Rendered>)>>,
    /// Rows picked by the user, as the chunks they show: numbers stay valid as data arrives and across rebuilds.
    selection: Option<Selection>,
}

/// Selected rows as a range of chunk sequence numbers, and the first row picked (a Shift+click extends from it).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Selection {
    anchor: RangeInclusive<u64>,
    seqs: RangeInclusive<u64>,
}

impl View {
    pub fn new(options: ViewOptions) -> View {
        View {
            options,
            entries: VecDeque::new(),
            first_row: 0,
            next_row: 0,
            open: None,
            texts: HashMap::new(),
            next_seq: 0,
            removed: 0,
            behind: false,
            scratch: String::new(),
            cache: RefCell::default(),
            selection: None,
        }
    }

    pub fn options(&self) -> &ViewOptions {
        &self.options
    }

    /// Changes the options; if they differ, indexes the log again: the first rows at once, the
    /// rest over the next calls to [`append`](Self::append) (see [`catching_up`](Self::catching_up)).
    pub fn set_options(&mut self, options: ViewOptions, log: &Log) {
        if options == self.options {
            return;
        }
        self.options = options;
        self.restart();
        self.append(log);
    }

    /// Whether chunks the log holds are not shown yet: the window should call `append` again next frame.
    pub fn catching_up(&self) -> bool {
        self.behind
    }

    /// Forgets every row (not the count of removed rows: a rebuild replaces rows, it does not drop them).
    fn restart(&mut self) {
        let (options, removed, selection) = (self.options.clone(), self.removed, self.selection.take());
        *self = View::new(options);
        self.removed = removed;
        self.selection = selection;
    }

    /// Drops rows of chunks the log no longer holds, then indexes the chunks pushed since the last
    /// call, for at most [`INDEX_BUDGET`].
    pub fn append(&mut self, log: &Log) {
        self.append_within(log, INDEX_BUDGET);
    }

    fn append_within(&mut self, log: &Log, budget: Duration) {
        // A smaller budget cuts the log's newest chunk: what was indexed of it is wrong now.
        if let Some(last) = self.entries.back()
            && log
                .get_shared(last.seq)
                .is_some_and(|chunk| !Arc::ptr_eq(chunk, &last.chunk))
        {
            self.restart();
        }
        self.evict(log.first_seq());
        let started = Instant::now();
        let mut unclocked = 0;
        for (seq, chunk) in log.since_shared(self.next_seq) {
            if unclocked >= CLOCK_EVERY {
                if started.elapsed() >= budget {
                    break;
                }
                unclocked = 0;
            }
            self.index(seq, chunk);
            self.next_seq = seq + 1;
            unclocked += chunk.bytes.len() + 64;
        }
        self.next_seq = self.next_seq.max(log.first_seq());
        self.behind = self.next_seq < log.next_seq();
    }

    /// Counts the rows a chunk starts and remembers what laying it out again takes.
    fn index(&mut self, seq: u64, chunk: &Arc<Chunk>) {
        if !self.options.shows(chunk) {
            return;
        }
        let stream = (chunk.peer, chunk.direction);
        // Sent binary in a text view keeps to rows of its own: it neither continues a text row nor is continued.
        let own_rows = self.options.hex_for(chunk) != self.options.hex;
        let continues = match self.open {
            Some(open) if open.stream == stream && (!self.options.log_mode || chunk.continued) && !own_rows => {
                Some(open.width)
            }
            _ => None,
        };
        let text_in = self.texts.get(&stream).copied().unwrap_or_default();
        let mut line = Line::new(continues);
        let mut rows = 0;
        let mut scratch = std::mem::take(&mut self.scratch);
        let text_out = self.options.lay_out(chunk, text_in, &mut line, &mut rows, &mut scratch);
        scratch.clear();
        self.scratch = scratch;
        if !self.options.hex {
            self.texts.insert(stream, text_out);
        }
        if line.open && !own_rows {
            self.open = Some(Open {
                stream,
                width: line.width,
            });
        } else if line.touched || own_rows {
            self.open = None;
        }
        self.entries.push_back(Entry {
            seq,
            chunk: chunk.clone(),
            first_row: self.next_row,
            rows: u32::try_from(rows).unwrap_or(u32::MAX),
            text_in,
            continues,
        });
        self.next_row += rows;
    }

    /// Drops the rows of chunks numbered below `first_seq` (a row goes with the chunk it starts in).
    fn evict(&mut self, first_seq: u64) {
        let gone = self.entries.partition_point(|entry| entry.seq < first_seq);
        if gone == 0 {
            return;
        }
        let freed: usize = self.entries.drain(..gone).map(|entry| entry.chunk.bytes.len()).sum();
        let first_row = self.entries.front().map_or(self.next_row, |entry| entry.first_row);
        self.removed += first_row - self.first_row;
        self.first_row = first_row;
        if first_row == self.next_row {
            // The open row went too: the stream's next data starts a new one.
            self.open = None;
        }
        self.clip_selection(first_seq);
        if self.entries.capacity() > 1024 && self.entries.len() < self.entries.capacity() / 4 {
            self.entries.shrink_to_fit();
        }
        // After Clear the view lets go of the chunks last: the log's trim could not free them yet.
        if self.entries.is_empty() && freed >= TRIM_AFTER {
            self.cache.borrow_mut().clear();
            crate::memory::return_free_memory();
        }
    }

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
        let (kind, mut text) = self.nth_row(entry, nth);
        if nth + 1 == entry.rows as usize {
            // The last row of a chunk goes on in the chunks after it that continue it.
            for next in self.entries.range(at + 1..) {
                if next.continues.is_some() {
                    text.push_str(&self.lead(next));
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
            kind,
            text,
        }
    }

    /// Hex rows are cut from the bytes directly; text rows from the chunk laid out again.
    fn nth_row(&self, entry: &Entry, mut nth: usize) -> (RowKind, String) {
        if !self.options.hex_for(&entry.chunk) {
            return self
                .rendered(entry)
                .rows
                .get(nth)
                .cloned()
                .unwrap_or((RowKind::Data, String::new()));
        }
        if self.options.log_mode && !entry.chunk.continued {
            if nth == 0 {
                return (RowKind::Header, header(&entry.chunk));
            }
            nth -= 1;
        }
        let per_row = self.options.hex_bytes_per_row();
        let from = (self.hex_lead_len(entry) + nth * per_row).min(entry.chunk.bytes.len());
        let to = (from + per_row).min(entry.chunk.bytes.len());
        (RowKind::Data, to_hex(&entry.chunk.bytes[from..to]))
    }

    /// What a chunk adds to the row it continues.
    fn lead(&self, entry: &Entry) -> String {
        if !self.options.hex_for(&entry.chunk) {
            return self.rendered(entry).lead.clone();
        }
        match self.hex_lead_len(entry) {
            0 => String::new(),
            len => format!(" {}", to_hex(&entry.chunk.bytes[..len])),
        }
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
        self.options.render(&entry.chunk, entry.text_in, entry.continues)
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
        if self.options.hex_for(chunk) {
            let bytes = match at {
                At::Byte(offset) => offset.min(chunk.bytes.len()),
                At::Text(_) => 0,
            };
            line.write_hex(&mut rows, &chunk.bytes[..bytes], self.options.hex_bytes_per_row());
        } else {
            let mut decoder = self.options.encoding.resume(entry.text_in.carry);
            let mut text = String::new();
            let cut = match at {
                At::Byte(offset) => {
                    decoder.decode_into(&chunk.bytes[..offset.min(chunk.bytes.len())], &mut text);
                    text.len()
                }
                At::Text(offset) => {
                    decoder.decode_into(&chunk.bytes, &mut text);
                    let mut offset = offset.min(text.len());
                    while !text.is_char_boundary(offset) {
                        offset -= 1;
                    }
                    offset
                }
            };
            line.write_text(&mut rows, &text[..cut], entry.text_in.after_cr, self.options.columns());
        }
        // Within the open row it is on that row; after a row ended it starts the next.
        let number = entry.first_row + rows - u64::from(line.open);
        usize::try_from(number.checked_sub(self.first_row)?).ok()
    }

    /// Rows dropped from the front because the log dropped their chunks, since this view was made.
    /// Row indices shift down by as many, so the window subtracts the growth of this number from
    /// its scroll position. A rebuild replaces rows without counting them.
    pub fn rows_removed_total(&self) -> u64 {
        self.removed
    }

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
        ViewSnapshot {
            options: self.options.clone(),
            entries: self
                .entries
                .range(from..)
                .map(|entry| (entry.seq, entry.chunk.clone(), entry.text_in, entry.continues))
                .collect(),
        }
    }

    /// The sequence number of the next chunk the view will index: everything before it is shown or filtered out.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// [`snapshot`](Self::snapshot) of the chunks numbered within `seqs` only (those the view shows).
    pub fn snapshot_range(&self, seqs: RangeInclusive<u64>) -> ViewSnapshot {
        let from = self.entries.partition_point(|entry| entry.seq < *seqs.start());
        let to = self.entries.partition_point(|entry| entry.seq <= *seqs.end());
        ViewSnapshot {
            options: self.options.clone(),
            entries: self
                .entries
                .range(from..to.max(from))
                .map(|entry| (entry.seq, entry.chunk.clone(), entry.text_in, entry.continues))
                .collect(),
        }
    }

    /// What save, copy and export act on: the selected rows' chunks if rows are selected, else everything.
    pub fn snapshot_selected(&self) -> ViewSnapshot {
        match &self.selection {
            Some(selection) => self.snapshot_range(selection.seqs.clone()),
            None => self.snapshot(),
        }
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
    fn clip_selection(&mut self, first_seq: u64) {
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

/// The view's rows as they stand, to be turned into text away from the UI thread.
pub struct ViewSnapshot {
    options: ViewOptions,
    entries: Vec<(u64, Arc<Chunk>, TextState, Option<usize>)>,
}

impl ViewSnapshot {
    /// The chunks on show (the peer filter and the sent-data setting applied), oldest first.
    pub fn chunks(&self) -> impl Iterator<Item = &Chunk> {
        self.entries.iter().map(|(_, chunk, _, _)| &**chunk)
    }

    /// [`chunks`](Self::chunks) with their sequence numbers in the log.
    pub fn numbered(&self) -> impl Iterator<Item = (u64, &Chunk)> {
        self.entries.iter().map(|(seq, chunk, _, _)| (*seq, &**chunk))
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
        for (_, chunk, text_in, continues) in &self.entries {
            let rendered = self.options.render(chunk, *text_in, *continues);
            // The first chunk may continue a row that fell out with an older chunk.
            if continues.is_some() && in_row {
                all.push_str(&rendered.lead);
            }
            for (_, text) in &rendered.rows {
                if in_row {
                    all.push('\n');
                }
                all.push_str(text);
                in_row = true;
            }
        }
        if in_row {
            all.push('\n');
        }
        all
    }
}

impl ViewOptions {
    /// A chunk laid out on its own, from the text state and open row it had when indexed.
    fn render(&self, chunk: &Chunk, text_in: TextState, continues: Option<usize>) -> Rendered {
        let mut rendered = Rendered::default();
        let mut line = Line::new(continues);
        self.lay_out(chunk, text_in, &mut line, &mut rendered, &mut String::new());
        rendered
    }

    /// Lays a chunk out into `sink`, continuing `line`; returns the text state after it.
    fn lay_out(
        &self,
        chunk: &Chunk,
        text_in: TextState,
        line: &mut Line,
        sink: &mut impl Sink,
        scratch: &mut String,
    ) -> TextState {
        if self.log_mode && !chunk.continued {
            line.header(sink, chunk);
        }
        if self.hex_for(chunk) {
            line.write_hex(sink, &chunk.bytes, self.hex_bytes_per_row());
            return text_in;
        }
        let mut decoder = self.encoding.resume(text_in.carry);
        decoder.decode_into(&chunk.bytes, scratch);
        let after_cr = line.write_text(sink, scratch, text_in.after_cr, self.columns());
        TextState {
            carry: decoder.carry(),
            after_cr,
        }
    }
}

/// Where laid-out rows go: counted while indexing, rendered for the screen.
trait Sink {
    fn header(&mut self, chunk: &Chunk);
    fn start(&mut self);
    fn push(&mut self, text: &str);
    fn push_hex(&mut self, bytes: &[u8]);
}

/// Indexing only counts rows.
impl Sink for u64 {
    fn header(&mut self, _: &Chunk) {
        *self += 1;
    }

    fn start(&mut self) {
        *self += 1;
    }

    fn push(&mut self, _: &str) {}

    fn push_hex(&mut self, _: &[u8]) {}
}

impl Rendered {
    /// Memory held, roughly.
    fn size(&self) -> usize {
        self.lead.len() + self.rows.iter().map(|(_, row)| row.len() + 32).sum::<usize>()
    }

    fn current(&mut self) -> &mut String {
        match self.rows.last_mut() {
            Some((_, row)) => row,
            None => &mut self.lead,
        }
    }
}

impl Sink for Rendered {
    fn header(&mut self, chunk: &Chunk) {
        self.rows.push((RowKind::Header, header(chunk)));
    }

    fn start(&mut self) {
        self.rows.push((RowKind::Data, String::new()));
    }

    fn push(&mut self, text: &str) {
        self.current().push_str(text);
    }

    fn push_hex(&mut self, bytes: &[u8]) {
        self.current().push_str(&to_hex(bytes));
    }
}

/// The row a stream writes to while one chunk is laid out.
struct Line {
    /// The last row is this stream's and open to more data.
    open: bool,
    /// Columns (text) or bytes (hex) on the open row.
    width: usize,
    /// Rows were started or ended: `open` now says whether any row is open.
    touched: bool,
}

impl Line {
    fn new(continues: Option<usize>) -> Line {
        Line {
            open: continues.is_some(),
            width: continues.unwrap_or(0),
            touched: false,
        }
    }

    fn header(&mut self, sink: &mut impl Sink, chunk: &Chunk) {
        sink.header(chunk);
        self.open = false;
        self.touched = true;
    }

    fn start(&mut self, sink: &mut impl Sink) {
        sink.start();
        self.open = true;
        self.touched = true;
    }

    /// Adds text to the open row, or starts one.
    fn append(&mut self, sink: &mut impl Sink, text: &str) {
        if text.is_empty() {
            return;
        }
        if !self.open {
            self.start(sink);
        }
        sink.push(text);
    }

    /// Ends the current row; a line with nothing on it becomes an empty row.
    fn end_row(&mut self, sink: &mut impl Sink) {
        if !self.open {
            sink.start();
        }
        self.open = false;
        self.touched = true;
        self.width = 0;
    }

    /// Writes decoded text: line breaks end rows, rows wrap at `columns`, control characters
    /// become `\xHH`. `after_cr` says the stream's previous text ended in `\r`; the return value
    /// says the same of this text.
    fn write_text(&mut self, sink: &mut impl Sink, text: &str, mut after_cr: bool, columns: usize) -> bool {
        // Plain characters are written in runs: text[run..] is not written yet.
        let mut run = 0;
        for (i, ch) in text.char_indices() {
            let crlf = after_cr && ch == '\n';
            after_cr = ch == '\r';
            if matches!(ch, '\r' | '\n') {
                self.append(sink, &text[run..i]);
                run = i + 1;
                if !crlf {
                    self.end_row(sink);
                }
                self.width = 0;
                continue;
            }
            let escape = ch.is_control() && ch != '\t';
            let ch_width = if escape { ESCAPE_WIDTH } else { char_width(ch) };
            if self.width > 0 && self.width + ch_width > columns {
                self.append(sink, &text[run..i]);
                run = i;
                self.end_row(sink);
            }
            self.width += ch_width;
            if escape {
                self.append(sink, &text[run..i]);
                self.append(sink, std::str::from_utf8(&escaped(ch)).expect("ASCII"));
                run = i + ch.len_utf8();
            }
        }
        self.append(sink, &text[run..]);
        after_cr
    }

    /// Writes bytes as hex, `per_row` to a row, filling the open row first.
    fn write_hex(&mut self, sink: &mut impl Sink, bytes: &[u8], per_row: usize) {
        let mut rest = bytes;
        if self.open {
            let (head, tail) = rest.split_at(per_row.saturating_sub(self.width).min(rest.len()));
            if !head.is_empty() {
                sink.push(" ");
                sink.push_hex(head);
                self.width += head.len();
            }
            rest = tail;
        }
        for piece in rest.chunks(per_row) {
            self.start(sink);
            sink.push_hex(piece);
            self.width = piece.len();
        }
    }
}

fn header(chunk: &Chunk) -> String {
    crate::render::header(&chunk.at, chunk.direction, chunk.peer)
}

/// `\x01` for a control character (all are below U+00A0, so two digits suffice).
fn escaped(ch: char) -> [u8; 4] {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let code = u32::from(ch) as usize;
    [b'\\', b'x', DIGITS[code >> 4], DIGITS[code & 0xF]]
}

/// Display columns of a character: 2 in the East Asian wide ranges (CJK, kana, Hangul, fullwidth
/// forms, common emoji), 1 otherwise. Simpler than Unicode's width tables, and enough to wrap
/// Chinese text where a monospace font does.
fn char_width(ch: char) -> usize {
    let code = u32::from(ch);
    // Most text is below the first wide range: one comparison instead of eleven.
    if code < 0x1100 {
        return 1;
    }
    let wide = matches!(
        code,
        0x1100..=0x115F
            | 0x2E80..=0x303E
            | 0x3041..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x1F300..=0x1F64F
            | 0x1F900..=0x1F9FF
            | 0x20000..=0x3FFFD
    );
    1 + usize::from(wide)
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use chrono::{DateTime, Local, NaiveDate};
    use proptest::prelude::*;

    use super::*;
    use crate::log::CHUNK_OVERHEAD;
    use Direction::{Rx, Tx};

    const A: u16 = 5000;
    const B: u16 = 6000;
    const HEAD_A: &str = "[12:00:00.123] RX ← 127.0.0.1:5000";
    const STREAM: ViewOptions = ViewOptions::STREAM;
    const LOG: ViewOptions = ViewOptions {
        log_mode: true,
        ..STREAM
    };
    const GBK: ViewOptions = ViewOptions {
        encoding: TextEncoding::GBK,
        ..STREAM
    };
    const HEX: ViewOptions = ViewOptions { hex: true, ..STREAM };
    const LOG_GBK: ViewOptions = ViewOptions { log_mode: true, ..GBK };

    /// (direction, peer port, bytes)
    type Input<'a> = &'a [(Direction, u16, &'a [u8])];

    fn peer(port: u16) -> SocketAddr {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)
    }

    fn noon() -> DateTime<Local> {
        let time = NaiveDate::from_ymd_opt(2024, 5, 6).and_then(|day| day.and_hms_milli_opt(12, 0, 0, 123));
        time.expect("valid").and_local_timezone(Local).unwrap()
    }

    fn chunk((direction, port, bytes): (Direction, u16, &[u8])) -> Chunk {
        Chunk::new(noon(), peer(port), direction, bytes.to_vec())
    }

    /// Pushes the chunks into a log and renders them one `append` at a time, as the window does.
    fn build(options: &ViewOptions, input: Input) -> (Log, View) {
        build_in(Log::default(), options, input)
    }

    fn build_in(mut log: Log, options: &ViewOptions, input: Input) -> (Log, View) {
        let mut view = View::new(options.clone());
        for &item in input {
            log.push(chunk(item));
            settle(&mut view, &log);
        }
        (log, view)
    }

    /// Appends until everything the log holds is indexed (a slow machine may need several calls).
    fn settle(view: &mut View, log: &Log) {
        view.append(log);
        while view.catching_up() {
            view.append(log);
        }
    }

    fn fresh(options: &ViewOptions, log: &Log) -> View {
        let mut view = View::new(options.clone());
        settle(&mut view, log);
        view
    }

    fn all_rows(view: &View) -> Vec<Row> {
        view.rows_in(0..view.rows()).collect()
    }

    fn texts(view: &View) -> Vec<String> {
        view.rows_in(0..view.rows()).map(|row| row.text).collect()
    }

    fn check(cases: &[(ViewOptions, Input, &[&str])]) {
        for (options, input, expected) in cases {
            let (_, view) = build(options, input);
            assert_eq!(texts(&view), *expected, "{options:?} {input:?}");
        }
    }

    #[test]
    fn sent_binary_shows_as_hex_on_rows_of_its_own_in_a_text_view() {
        let modbus: &[u8] = &[0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCD];
        check(&[
            // Not "\x01\x03\x00\x00\x00\n磐" in GBK.
            (GBK, &[(Tx, A, modbus)], &["01 03 00 00 00 0A C5 CD"]),
            // Sent text (spaces and `~`, the printable bytes at either end, included) stays text; the binary
            // send neither continues nor is continued by it.
            (
                STREAM,
                &[(Tx, A, b"a b~"), (Tx, A, modbus), (Tx, A, b"cd\r\n")],
                &["a b~", "01 03 00 00 00 0A C5 CD", "cd"],
            ),
            // Received bytes are the reader's to show as they choose (Hex view).
            (STREAM, &[(Rx, A, &[0x01, b'x'])], &["\\x01x"]),
        ]);
    }

    #[test]
    fn a_read_kept_as_pieces_shows_as_the_one_read_it_was() {
        // 你 in GBK, after one byte: a piece boundary falls inside a character.
        let mut read = vec![b'x'];
        for _ in 0..12_000 {
            read.extend_from_slice(&[0xC4, 0xE3]);
        }
        for hex in [false, true] {
            let options = ViewOptions { hex, ..LOG_GBK };
            let (log, view) = build(&options, &[(Rx, A, &read), (Rx, A, b"!")]);
            assert_eq!(log.len(), 3, "kept as two pieces, then the next read");
            let rows = all_rows(&view);
            let headers = rows.iter().filter(|row| row.kind == RowKind::Header).count();
            assert_eq!(headers, 2, "one header per read (hex: {hex})");
            let data: Vec<&str> = rows
                .iter()
                .filter(|row| row.kind == RowKind::Data)
                .map(|row| row.text.as_str())
                .collect();
            let (last, first) = data.split_last().expect("rows");
            assert_eq!(*last, if hex { "21" } else { "!" });
            let want = if hex {
                to_hex(&read)
            } else {
                format!("x{}", "你".repeat(12_000))
            };
            assert_eq!(first.join(if hex { " " } else { "" }), want, "hex: {hex}");
        }
    }

    #[test]
    fn text_in_stream_mode() {
        check(&[
            (
                GBK,
                &[(Rx, A, &[0xC4]), (Rx, A, &[0xE3, 0xBA]), (Rx, A, &[0xC3])],
                &["你好"],
            ),
            // Each peer has its own decoder: B's bytes do not complete A's character.
            (GBK, &[(Rx, A, &[0xC4]), (Rx, B, b"x"), (Rx, A, &[0xE3])], &["x", "你"]),
            (STREAM, &[(Rx, A, b"one\r\ntwo\r\n")], &["one", "two"]),
            (STREAM, &[(Rx, A, b"a\rb\nc")], &["a", "b", "c"]),
            (STREAM, &[(Rx, A, b"a\r"), (Rx, A, b"\nb")], &["a", "b"]),
            (STREAM, &[(Rx, A, b"x\r\r\ny")], &["x", "", "y"]),
            (STREAM, &[(Rx, A, b"a\n\n\nb")], &["a", "", "", "b"]),
            (STREAM, &[(Rx, A, b"\r\n")], &[""]),
            (
                STREAM,
                &[(Rx, A, b"he"), (Rx, A, b"llo\n"), (Rx, A, b"wor"), (Rx, A, b"ld")],
                &["hello", "world"],
            ),
            (
                STREAM,
                &[(Rx, A, b"ab"), (Rx, B, b"cd"), (Rx, A, b"ef")],
                &["ab", "cd", "ef"],
            ),
            (STREAM, &[(Rx, A, b"ab"), (Tx, A, b"cd"), (Tx, A, b"e")], &["ab", "cde"]),
            (
                STREAM,
                &[(Rx, A, b"ab"), (Rx, B, b"\n"), (Rx, A, b"c")],
                &["ab", "", "c"],
            ),
            (STREAM, &[(Rx, A, b"a\x01\tb\x7F\x00")], &["a\\x01\tb\\x7F\\x00"]),
            (STREAM, &[(Rx, A, &[0xFF, b'A'])], &["\u{FFFD}A"]),
        ]);
    }

    #[test]
    fn text_in_log_mode() {
        let log_gbk = ViewOptions { log_mode: true, ..GBK };
        check(&[
            // The carried half character shows in the next chunk's row.
            (
                log_gbk,
                &[(Rx, A, &[0xC4]), (Rx, A, &[0xE3, 0xBA]), (Rx, A, &[0xC3])],
                &[HEAD_A, HEAD_A, "你", HEAD_A, "好"],
            ),
            (LOG, &[(Rx, A, b"one\r\ntwo")], &[HEAD_A, "one", "two"]),
            (
                LOG,
                &[(Rx, A, b"ok\r\n"), (Rx, A, b"ok")],
                &[HEAD_A, "ok", HEAD_A, "ok"],
            ),
            (LOG, &[(Rx, A, b"a\r"), (Rx, A, b"\nb")], &[HEAD_A, "a", HEAD_A, "b"]),
            (LOG, &[(Tx, B, b"hi")], &["[12:00:00.123] TX → 127.0.0.1:6000", "hi"]),
        ]);
    }

    #[test]
    fn hex_rows() {
        let bytes: Vec<u8> = (0..20).collect();
        let log_hex = ViewOptions { hex: true, ..LOG };
        let wrap = |columns, options: &ViewOptions| ViewOptions {
            wrap_columns: Some(columns),
            ..options.clone()
        };
        let all20 = "00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F 10 11 12 13";
        check(&[
            (
                HEX,
                &[(Rx, A, &bytes[..10]), (Rx, A, &bytes[10..])],
                &["00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F", "10 11 12 13"],
            ),
            // The open row's width goes on across chunks.
            (
                HEX,
                &[(Rx, A, &bytes[..3]), (Rx, A, &bytes[3..5]), (Rx, A, &bytes[5..])],
                &["00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F", "10 11 12 13"],
            ),
            (
                HEX,
                &[(Rx, A, &[1, 2]), (Rx, B, &[3]), (Rx, A, &[4])],
                &["01 02", "03", "04"],
            ),
            (log_hex.clone(), &[(Rx, A, &bytes)], &[HEAD_A, all20]),
            (
                log_hex.clone(),
                &[(Rx, A, &[]), (Rx, A, b"Hel")],
                &[HEAD_A, HEAD_A, "48 65 6C"],
            ),
            // 12 columns hold 4 bytes ("00 01 02 03" is 11), and so do 11; 10 hold 3.
            (
                wrap(12, &log_hex),
                &[(Rx, A, &bytes[..10])],
                &[HEAD_A, "00 01 02 03", "04 05 06 07", "08 09"],
            ),
            (
                wrap(11, &HEX),
                &[(Rx, A, &[0, 1, 2]), (Rx, A, &[3, 4, 5])],
                &["00 01 02 03", "04 05"],
            ),
            (wrap(10, &HEX), &[(Rx, A, &bytes[..5])], &["00 01 02", "03 04"]),
            (wrap(0, &HEX), &[(Rx, A, &bytes[..2])], &["00", "01"]),
        ]);
    }

    #[test]
    fn wrapping_counts_columns() {
        let wrap = |columns| ViewOptions {
            wrap_columns: Some(columns),
            ..STREAM
        };
        check(&[
            (wrap(4), &[(Rx, A, b"abcdefghij")], &["abcd", "efgh", "ij"]),
            (wrap(4), &[(Rx, A, "你好世界".as_bytes())], &["你好", "世界"]),
            (wrap(5), &[(Rx, A, "a你好b".as_bytes())], &["a你好", "b"]),
            (wrap(3), &[(Rx, A, "你好".as_bytes())], &["你", "好"]),
            // A character wider than the row still goes somewhere.
            (wrap(1), &[(Rx, A, "你a".as_bytes())], &["你", "a"]),
            // U+1100, the first wide character (Hangul).
            (
                wrap(3),
                &[(Rx, A, "\u{10FF}\u{1100}".as_bytes())],
                &["\u{10FF}\u{1100}"],
            ),
            (
                wrap(3),
                &[(Rx, A, "\u{1100}\u{1100}".as_bytes())],
                &["\u{1100}", "\u{1100}"],
            ),
            (wrap(4), &[(Rx, A, b"ab"), (Rx, A, b"cdef")], &["abcd", "ef"]),
            // A full row followed by a line break makes no empty row.
            (wrap(4), &[(Rx, A, b"abcd\nef")], &["abcd", "ef"]),
            (wrap(4), &[(Rx, A, b"ab\x01")], &["ab", "\\x01"]),
        ]);
        let long = vec![b'x'; MAX_ROW_WIDTH + 1];
        let (_, view) = build(&STREAM, &[(Rx, A, &long)]);
        assert_eq!(texts(&view), ["x".repeat(MAX_ROW_WIDTH).as_str(), "x"]);
    }

    #[test]
    fn filters() {
        let input: Input = &[(Rx, A, b"a\n"), (Rx, B, b"b\n"), (Tx, A, b"c\n"), (Tx, B, b"d\n")];
        check(&[
            (STREAM, input, &["a", "b", "c", "d"]),
            (
                ViewOptions {
                    peer_filter: Some(peer(A)),
                    ..STREAM
                },
                input,
                &["a", "c"],
            ),
            (
                ViewOptions {
                    show_tx: false,
                    ..STREAM
                },
                input,
                &["a", "b"],
            ),
        ]);
    }

    /// The bytes of a snapshot's chunks, as text.
    fn chunk_texts(snapshot: &ViewSnapshot) -> Vec<String> {
        snapshot
            .chunks()
            .map(|chunk| String::from_utf8_lossy(&chunk.bytes).into_owned())
            .collect()
    }

    /// Clicks row `from`, then Shift+clicks row `to`, as the window does.
    fn select_rows(view: &mut View, from: usize, to: usize) {
        let seqs = |view: &View, row| view.row_seqs(row).expect("a row");
        view.select(seqs(view, from), false);
        view.select(seqs(view, to), true);
    }

    #[test]
    fn a_selection_of_rows_snapshots_just_their_chunks() {
        let input: Input = &[(Rx, A, b"a\n"), (Tx, A, b"b\n"), (Rx, A, b"c\n"), (Rx, A, b"d\n")];
        let (mut log, mut view) = build(&STREAM, input);
        assert_eq!(
            chunk_texts(&view.snapshot_selected()).len(),
            4,
            "nothing selected: everything"
        );
        // Shift+click upwards selects the same rows.
        select_rows(&mut view, 2, 1);
        assert_eq!(view.selection(), Some(1..=2));
        assert_eq!(view.selected_rows(), 2);
        let snapshot = view.snapshot_selected();
        assert_eq!(chunk_texts(&snapshot), ["b\n", "c\n"]);
        assert_eq!(snapshot.text(), "b\nc\n");
        let selected: Vec<bool> = all_rows(&view).iter().map(|row| view.is_selected(row)).collect();
        assert_eq!(selected, [false, true, true, false]);
        // A rebuild (log mode: a header row per chunk) keeps the selection; new data leaves it alone.
        log.push(chunk((Rx, A, b"e\n")));
        view.set_options(LOG, &log);
        settle(&mut view, &log);
        assert_eq!(chunk_texts(&view.snapshot_selected()), ["b\n", "c\n"]);
        assert_eq!(view.selected_rows(), 4);
        // A plain click elsewhere starts over; on the selected row alone it lets go.
        view.select(view.row_seqs(7).expect("a row"), false);
        assert_eq!(view.selection(), Some(3..=3));
        view.select(view.row_seqs(6).expect("a row"), false);
        assert_eq!(view.selection(), None);
        select_rows(&mut view, 0, 1);
        view.clear_selection();
        assert_eq!(chunk_texts(&view.snapshot_selected()).len(), 5);
    }

    #[test]
    fn a_row_spread_over_chunks_selects_them_all() {
        let (_, mut view) = build(
            &STREAM,
            &[(Rx, A, b"ab"), (Rx, A, b"cd"), (Rx, A, b"e\nf"), (Rx, A, b"g\n")],
        );
        assert_eq!(texts(&view), ["abcde", "fg"]);
        // The chunk that ends the row and starts the next is taken whole.
        assert_eq!(view.row_seqs(0), Some(0..=2));
        assert_eq!(view.row_seqs(1), Some(2..=3));
        assert_eq!(view.row_seqs(2), None);
        view.select(view.row_seqs(0).expect("a row"), false);
        assert_eq!(chunk_texts(&view.snapshot_selected()), ["ab", "cd", "e\nf"]);
    }

    #[test]
    fn a_selection_is_clipped_as_its_chunks_fall_out_and_dropped_with_the_last() {
        let mut log = Log::new(3 * (2 + CHUNK_OVERHEAD));
        let mut view = View::new(STREAM);
        for text in ["a\n", "b\n", "c\n"] {
            log.push(chunk((Rx, A, text.as_bytes())));
        }
        settle(&mut view, &log);
        select_rows(&mut view, 0, 1);
        assert_eq!(chunk_texts(&view.snapshot_selected()), ["a\n", "b\n"]);
        log.push(chunk((Rx, A, b"d\n")));
        settle(&mut view, &log);
        assert_eq!(view.selection(), Some(1..=1));
        assert_eq!(chunk_texts(&view.snapshot_selected()), ["b\n"]);
        assert_eq!(view.selected_rows(), 1);
        log.push(chunk((Rx, A, b"e\n")));
        settle(&mut view, &log);
        assert_eq!(view.selection(), None);
        assert_eq!(chunk_texts(&view.snapshot_selected()), ["c\n", "d\n", "e\n"]);
        // Clear drops it too.
        select_rows(&mut view, 0, 2);
        assert_eq!(view.selected_rows(), 3);
        log.clear();
        view.append(&log);
        assert_eq!(view.selection(), None);
        assert!(view.snapshot_selected().is_empty());
    }

    #[test]
    fn a_range_snapshot_holds_only_shown_chunks_in_the_range() {
        let (_, view) = build(&STREAM, &[(Rx, A, b"a\n"), (Rx, B, b"b\n"), (Rx, A, b"c\n")]);
        assert!(view.snapshot_range(5..=9).is_empty());
        assert_eq!(view.snapshot_range(0..=0).text(), "a\n");
        let filtered = ViewOptions {
            peer_filter: Some(peer(A)),
            ..STREAM
        };
        let (_, view) = build(&filtered, &[(Rx, A, b"a\n"), (Rx, B, b"b\n"), (Rx, A, b"c\n")]);
        assert_eq!(chunk_texts(&view.snapshot_range(0..=2)), ["a\n", "c\n"]);
        assert!(View::new(STREAM).snapshot_range(0..=3).is_empty());
    }

    #[test]
    fn rows_know_their_chunk() {
        let (_, view) = build(&LOG, &[(Rx, A, b"x"), (Tx, B, b"y\nz")]);
        let row = |seq, port, direction, kind, text: &str| Row {
            seq,
            peer: peer(port),
            direction,
            kind,
            text: text.to_owned(),
        };
        assert_eq!(
            all_rows(&view),
            [
                row(0, A, Rx, RowKind::Header, HEAD_A),
                row(0, A, Rx, RowKind::Data, "x"),
                row(1, B, Tx, RowKind::Header, "[12:00:00.123] TX → 127.0.0.1:6000"),
                row(1, B, Tx, RowKind::Data, "y"),
                row(1, B, Tx, RowKind::Data, "z"),
            ]
        );
        assert_eq!(
            view.text_of_all(),
            format!("{HEAD_A}\nx\n[12:00:00.123] TX → 127.0.0.1:6000\ny\nz\n")
        );
        assert_eq!(view.row(1).map(|row| row.text), Some("x".to_owned()));
        assert_eq!(view.row(5), None);
        let texts_in = |range| view.rows_in(range).map(|row| row.text).collect::<Vec<_>>();
        assert_eq!(texts_in(3..5), ["y", "z"]);
        assert_eq!(texts_in(4..99), ["z"]);
        assert_eq!(texts_in(7..99), Vec::<&str>::new());
    }

    /// A place in a chunk maps to the row that shows it, in every layout: the row's text holds what is there.
    #[test]
    fn a_place_in_a_chunk_maps_to_its_row() {
        let input: Input = &[
            (Rx, A, b"one\ntw"),
            (Rx, A, b"o\nthree\nfour"),
            (Rx, A, "\n你好".as_bytes()),
        ];
        for options in [STREAM, LOG, HEX] {
            let (_, view) = build(&options, input);
            let rows = texts(&view);
            // (seq, place, what the row shows there)
            let cases = [
                (0, At::Byte(0), "one", "6F 6E 65"),
                (0, At::Byte(4), "tw", "74 77"),
                (1, At::Byte(0), "o", "6F"),
                (1, At::Byte(2), "three", "74 68"),
                (1, At::Text(8), "four", "6F"),
                (2, At::Text(1), "你好", "0A"),
            ];
            for (seq, at, text, hex) in cases {
                let row = view.row_at(seq, at).expect("shown");
                let wanted = if options.hex { hex } else { text };
                assert!(
                    rows[row].contains(wanted),
                    "{options:?} {seq} {at:?}: row {row} {:?}",
                    rows[row]
                );
            }
            assert_eq!(view.row_at(3, At::Byte(0)), None);
        }
    }

    #[test]
    fn rebuild_after_option_change_matches_a_fresh_build() {
        let input: Input = &[
            (Rx, A, b"hello\r"),
            (Rx, A, b"\nwor"),
            (Tx, A, b"sent\x01\n"),
            (Rx, B, &[0xC4, 0xE3, 0xBA]),
            (Rx, A, b"ld, a long line that wraps\n"),
            (Rx, B, &[0xC3, b'\n']),
            (Tx, B, &[0xFF; 20]),
        ];
        let (log, mut view) = build(&STREAM, input);
        assert_eq!(all_rows(&view), all_rows(&fresh(&STREAM, &log)));
        for hex in [false, true] {
            for log_mode in [false, true] {
                for show_tx in [true, false] {
                    for wrap_columns in [None, Some(8)] {
                        for peer_filter in [None, Some(peer(B))] {
                            for encoding in [TextEncoding::UTF8, TextEncoding::GBK] {
                                let options = ViewOptions {
                                    hex,
                                    encoding,
                                    log_mode,
                                    show_tx,
                                    wrap_columns,
                                    peer_filter,
                                };
                                view.set_options(options.clone(), &log);
                                settle(&mut view, &log);
                                assert_eq!(view.options(), &options);
                                assert_eq!(all_rows(&view), all_rows(&fresh(&options, &log)), "{options:?}");
                                // Incremental rendering agrees with the rebuild too.
                                assert_eq!(all_rows(&view), all_rows(&build(&options, input).1), "{options:?}");
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(view.rows_removed_total(), 0);
    }

    #[test]
    fn eviction_follows_the_log() {
        let mut log = Log::new(3 * (2 + CHUNK_OVERHEAD));
        let mut view = View::new(LOG);
        for digit in b'0'..=b'9' {
            log.push(chunk((Rx, A, &[digit, b'\n'])));
            settle(&mut view, &log);
            assert_eq!(all_rows(&view), all_rows(&fresh(&LOG, &log)));
        }
        assert_eq!(texts(&view), [HEAD_A, "7", HEAD_A, "8", HEAD_A, "9"]);
        assert_eq!(view.rows_removed_total(), 7 * 2);
        log.clear();
        view.append(&log);
        assert_eq!(view.rows(), 0);
        assert_eq!(view.rows_removed_total(), 10 * 2);

        // Stream mode: a row goes with the chunk it started in, even if later chunks added to it;
        // the next text then starts a new row.
        let mut log = Log::new(2 * (2 + CHUNK_OVERHEAD));
        let mut view = View::new(STREAM);
        for (bytes, rows) in [(b"ab", &["ab"]), (b"cd", &["abcd"]), (b"ef", &["ef"])] {
            log.push(chunk((Rx, A, bytes)));
            settle(&mut view, &log);
            assert_eq!(texts(&view), rows);
        }
        assert_eq!(view.rows_removed_total(), 1);
    }

    /// Small chunks appended one at a time index the rows a rebuild finds, then every layout rebuilds them. (Their
    /// speed is measured by `cargo bench --bench view`, not here.)
    #[test]
    fn small_chunks_appended_one_at_a_time_index_as_a_rebuild_does() {
        const CHUNKS: u64 = 100_000;
        let mut log = Log::new(usize::MAX);
        let mut view = View::new(STREAM);
        for n in 0..CHUNKS {
            let bytes: &[u8] = if n % 4 == 3 { b"line end\r\n" } else { b"0123456789" };
            log.push(chunk((Rx, A, bytes)));
            settle(&mut view, &log);
        }
        assert_eq!(view.rows(), (CHUNKS / 4) as usize);
        assert_eq!(view.rows(), fresh(&STREAM, &log).rows());
        view.set_options(LOG, &log);
        settle(&mut view, &log);
        assert_eq!(view.rows(), 2 * CHUNKS as usize, "a header and a row per chunk");
        view.set_options(HEX, &log);
        settle(&mut view, &log);
        assert_eq!(view.rows(), (CHUNKS * 10 / 16) as usize);
    }

    /// Rows leave with their chunks and give their memory back: the index does not keep a flood's peak, and a
    /// cleared view lets go of the text it rendered (the chunks' last holder after Clear).
    #[test]
    fn evicted_rows_give_their_memory_back() {
        let mut log = Log::new(usize::MAX);
        for _ in 0..5000 {
            log.push(chunk((Rx, A, b"x\n")));
        }
        let mut view = fresh(&STREAM, &log);
        let peak = view.entries.capacity();
        log.set_budget(2 * (CHUNK_OVERHEAD + 2));
        settle(&mut view, &log);
        assert_eq!(texts(&view), ["x", "x"]);
        assert!(
            view.entries.capacity() < peak / 100,
            "{} of {peak}",
            view.entries.capacity()
        );

        let mut log = Log::default();
        log.push(chunk((Rx, A, &[b'x'; 2 << 20])));
        let mut view = fresh(&STREAM, &log);
        assert!(view.rows_in(0..1).next().is_some_and(|row| row.text.starts_with('x')));
        assert!(!view.cache.borrow().is_empty(), "what was shown is cached");
        log.clear();
        settle(&mut view, &log);
        assert_eq!(view.rows(), 0);
        assert!(
            view.cache.borrow().is_empty(),
            "the cleared view still holds rendered text"
        );
    }

    /// Rows rendered for the screen are kept for the next frames within the cache's bounds: the last
    /// `CACHED_CHUNKS` chunks, and only as many large ones as fit in `CACHE_BYTES`.
    #[test]
    fn the_render_cache_keeps_recent_chunks_within_its_bounds() {
        let cached = |view: &View| {
            let _ = view.rows_in(0..view.rows()).count();
            let cache = view.cache.borrow();
            let text: usize = cache
                .iter()
                .map(|(_, rendered)| {
                    rendered.lead.len() + rendered.rows.iter().map(|(_, row)| row.len()).sum::<usize>()
                })
                .sum();
            (cache.iter().map(|(seq, _)| *seq).collect::<Vec<u64>>(), text)
        };
        let mut log = Log::default();
        for _ in 0..40 {
            log.push(chunk((Rx, A, b"ab")));
        }
        let (seqs, _) = cached(&fresh(&LOG, &log));
        assert_eq!(seqs, (40 - CACHED_CHUNKS as u64..40).collect::<Vec<u64>>());

        // Pieces of line ends alone: each renders to 16 Ki empty rows, 512 KiB with their overhead, so the byte
        // bound holds exactly sixteen of them (the newest) and a seventeenth would not fit.
        let mut log = Log::default();
        log.push(chunk((Rx, A, &[b'\n'; 20 * crate::log::MAX_PIECE])));
        let view = fresh(&STREAM, &log);
        let _ = view.rows_in(0..view.rows()).count();
        let cache = view.cache.borrow();
        let sizes: Vec<usize> = cache.iter().map(|(_, rendered)| rendered.size()).collect();
        assert_eq!(sizes, vec![CACHE_BYTES / 16; 16]);
        let seqs: Vec<u64> = cache.iter().map(|(seq, _)| *seq).collect();
        assert_eq!(seqs, (4..20).collect::<Vec<u64>>());
    }

    #[test]
    fn a_carried_byte_outlives_its_chunk() {
        // The log holds one chunk: the first half of 你 is gone when the second arrives.
        let log = Log::new(CHUNK_OVERHEAD + 1);
        let (log, view) = build_in(log, &GBK, &[(Rx, A, &[0xC4]), (Rx, A, &[0xE3])]);
        assert_eq!(log.len(), 1);
        assert_eq!(texts(&view), ["你"]);
        // A chunk shown again (scrolled to, saved) is decoded from the bytes carried into it.
        assert_eq!(view.text_of_all(), "你\n");
    }

    #[test]
    fn saved_text_leaves_out_a_row_whose_start_fell_out() {
        let (mut log, mut view) = build_in(Log::default(), &STREAM, &[(Rx, A, b"ab"), (Rx, A, b"cd\nef")]);
        // The log keeps one chunk now: the row "abcd" goes with "ab", where it started.
        log.set_budget(CHUNK_OVERHEAD + 5);
        settle(&mut view, &log);
        assert_eq!(log.len(), 1);
        assert_eq!(texts(&view), ["ef"]);
        assert_eq!(view.text_of_all(), "ef\n");
    }

    #[test]
    fn a_row_goes_on_through_the_chunks_that_continue_it() {
        let wrap = ViewOptions {
            wrap_columns: Some(6),
            ..STREAM
        };
        let input: Input = &[
            (Rx, A, b"ab"),
            (Rx, B, b""),
            (Rx, A, "c你".as_bytes()),
            (Rx, A, &[0xE5, 0xA5]),
            (Rx, A, &[0xBD, b'x', b'y']),
            (Rx, A, b"\n"),
            (Rx, A, b"z"),
        ];
        let (_, view) = build(&wrap, input);
        assert_eq!(texts(&view), ["abc你", "好xy", "z"]);
        let seqs: Vec<u64> = all_rows(&view).iter().map(|row| row.seq).collect();
        assert_eq!(seqs, [0, 4, 6]);
        for index in 0..view.rows() {
            assert_eq!(view.row(index), view.rows_in(index..index + 1).next(), "row {index}");
        }
    }

    #[test]
    fn empty_chunks_count_toward_the_clock() {
        // Empty reads (UDP's empty datagrams) cost something too: with no time at all, a call stops
        // after CLOCK_EVERY / 64 of them.
        let mut log = Log::default();
        for _ in 0..2 * CLOCK_EVERY / 64 {
            log.push(chunk((Rx, A, b"")));
        }
        let mut view = View::new(STREAM);
        view.append_within(&log, Duration::ZERO);
        assert!(view.catching_up());
        assert_eq!(view.entries.len(), CLOCK_EVERY / 64);
    }

    #[test]
    fn reindexing_spreads_over_calls() {
        let block: Vec<u8> = b"0123456789abcdef\n".iter().copied().cycle().take(64 << 10).collect();
        let mut log = Log::default();
        for _ in 0..16 {
            log.push(chunk((Rx, A, &block)));
        }
        let mut view = fresh(&STREAM, &log);
        view.options = HEX;
        view.restart();
        let mut calls = 0;
        loop {
            // No time at all: each call still indexes what it does between two looks at the clock.
            view.append_within(&log, Duration::ZERO);
            calls += 1;
            let indexed: usize = view.entries.iter().map(|entry| entry.chunk.bytes.len()).sum();
            assert!(
                indexed <= (CLOCK_EVERY + crate::log::MAX_PIECE) * calls,
                "{indexed} bytes in {calls} calls"
            );
            if !view.catching_up() {
                break;
            }
            assert!(calls < 100, "indexing never ends");
        }
        assert!(calls > 1);
        assert_eq!(all_rows(&view), all_rows(&fresh(&HEX, &log)));
        assert_eq!(view.rows(), 16 * block.len() / HEX_STREAM_ROW);
    }

    /// A smaller buffer cuts the newest chunk: the view shows what the log keeps of it.
    #[test]
    fn a_cut_chunk_is_shown_cut() {
        let (mut log, mut view) = build(&STREAM, &[(Rx, A, b"0123456789")]);
        log.set_budget(CHUNK_OVERHEAD + 4);
        view.append(&log);
        assert_eq!(texts(&view), ["6789"]);
    }

    fn arbitrary_options() -> impl Strategy<Value = ViewOptions> {
        (any::<[bool; 5]>(), proptest::option::of(1usize..24)).prop_map(|(flags, wrap_columns)| ViewOptions {
            hex: flags[0],
            encoding: if flags[1] {
                TextEncoding::GBK
            } else {
                TextEncoding::UTF8
            },
            log_mode: flags[2],
            show_tx: flags[3],
            wrap_columns,
            peer_filter: flags[4].then(|| peer(B)),
        })
    }

    /// Chunks of text with line breaks, control characters, CJK in UTF-8 and GBK and random bytes,
    /// from two peers in both directions.
    fn arbitrary_chunks() -> impl Strategy<Value = Vec<(Direction, u16, Vec<u8>)>> {
        let piece = prop_oneof![
            Just(b"\r".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(b"ab\tc\x01".to_vec()),
            Just("你好".as_bytes().to_vec()),
            Just(vec![0xC4, 0xE3, 0xBA, 0xC3]),
            proptest::collection::vec(any::<u8>(), 0..6),
        ];
        let chunk = (any::<bool>(), any::<bool>(), proptest::collection::vec(piece, 0..4));
        proptest::collection::vec(chunk, 0..12).prop_map(|chunks| {
            chunks
                .into_iter()
                .map(|(tx, b, pieces)| (if tx { Tx } else { Rx }, if b { B } else { A }, pieces.concat()))
                .collect()
        })
    }

    proptest! {
        /// However rows are reached (one by one, in ranges, all at once for saving) and however the
        /// view was built (chunk by chunk, or all at once after an option change), they agree.
        #[test]
        fn every_way_to_the_rows_agrees(options in arbitrary_options(), chunks in arbitrary_chunks()) {
            let input: Vec<(Direction, u16, &[u8])> =
                chunks.iter().map(|(direction, port, bytes)| (*direction, *port, bytes.as_slice())).collect();
            let (log, view) = build(&options, &input);
            let rows = all_rows(&view);
            let mut changed = View::new(STREAM);
            changed.set_options(options.clone(), &log);
            settle(&mut changed, &log);
            prop_assert_eq!(&all_rows(&changed), &rows);
            let joined: String = rows.iter().map(|row| format!("{}\n", row.text)).collect();
            prop_assert_eq!(view.text_of_all(), joined);
            for (index, row) in rows.iter().enumerate() {
                prop_assert_eq!(view.row(index), Some(row.clone()));
                let mid: Vec<Row> = view.rows_in(index..index + 2).collect();
                prop_assert_eq!(&mid[..], &rows[index..(index + 2).min(rows.len())]);
            }
            // Without a header or wrapping, the rows are the text itself.
            if !options.hex && !options.log_mode && options.wrap_columns.is_none() && options.peer_filter.is_none() && options.show_tx && input.iter().all(|(_, port, _)| *port == A) && input.iter().all(|(direction, _, _)| *direction == Rx) {
                let bytes: Vec<u8> = input.iter().flat_map(|(_, _, bytes)| bytes.iter().copied()).collect();
                let mut decoder = options.encoding.decoder();
                let text = decoder.decode(&bytes);
                let shown: String = rows.iter().map(|row| row.text.as_str()).collect();
                let expected: String = text
                    .chars()
                    .filter(|ch| !matches!(ch, '\r' | '\n'))
                    .map(|ch| if ch.is_control() && ch != '\t' { format!("\\x{:02X}", u32::from(ch)) } else { ch.to_string() })
                    .collect();
                prop_assert_eq!(shown, expected);
            }
        }
    }
}
