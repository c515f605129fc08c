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
//!   as hex in the text view too, on rows of its own: as text it would be `\x01\x03…` and stray CJK. So does
//!   a received chunk more than half of whose bytes are such control bytes (a Modbus reply), `0A`s and all.
//! - Rows wrap at `wrap_columns` (CJK characters count two columns) and, without it, at
//!   [`MAX_ROW_WIDTH`].
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::ops::{Range, RangeInclusive};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::codec::text::{Carry, TextEncoding};
use crate::history::{Chunk, Direction, History, Note, Way};

mod layout;
mod rows;
mod selection;
mod snapshot;

use layout::Line;
pub use layout::char_width;
pub use snapshot::ViewSnapshot;

/// The widest row even without wrapping: egui lays text out a row at a time and eviction drops
/// whole rows, so a peer that never sends a newline must not make one endless row.
pub const MAX_ROW_WIDTH: usize = 4096;
/// Bytes per hex row in stream mode without wrapping.
const HEX_STREAM_ROW: usize = 16;
/// Columns taken by a control character shown as `\xHH`.
const ESCAPE_WIDTH: usize = 4;
/// Indexing time per `append` call for new data; the rest waits for the next frame. A flood is indexed a
/// frame's worth at a time (the view shows what it has indexed), and every millisecond here is one of its frames'.
const INDEX_BUDGET: Duration = Duration::from_millis(1);
/// And while the whole log is indexed again (an option changed): the user waits for that, so a frame gives it more;
/// re-indexing a full 64 MiB view never holds a frame longer than this.
const REBUILD_BUDGET: Duration = Duration::from_millis(4);
/// How much is indexed between two looks at the clock.
const CLOCK_EVERY: usize = 32 << 10;
/// Rendered chunks kept for the rows on screen (a frame shows rows from a few chunks).
const CACHED_CHUNKS: usize = 16;
/// Memory let go at once (a cleared view) that is worth handing back to the system.
const TRIM_AFTER: usize = 1 << 20;
/// And at most this much of their text.
const CACHE_BYTES: usize = 8 << 20;
/// Streams whose unfinished character or line break is carried at once (see `View::carry`).
const CARRIED_STREAMS: usize = 4096;

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
    /// Show only this peer's chunks (a relay: both sides of this client's pair).
    pub peer_filter: Option<SocketAddr>,
    /// A relay: show only the bytes that went this way.
    pub way_filter: Option<Way>,
    /// Show each malformed sequence as its bytes (`\xC4`, marked in [`Row::malformed`]) instead of U+FFFD: the
    /// window's view. Export and the copied or saved view keep U+FFFD.
    pub escape_malformed: bool,
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
        way_filter: None,
        escape_malformed: false,
    };
}

impl Default for ViewOptions {
    fn default() -> Self {
        ViewOptions::STREAM
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
    /// "[time] peer", followed by what happened in the window's language.
    Note(Note),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The log sequence number of the chunk this row starts in.
    pub seq: u64,
    pub peer: SocketAddr,
    pub direction: Direction,
    /// A relay's: the way its bytes went.
    pub way: Option<Way>,
    pub kind: RowKind,
    pub text: String,
    /// Where `text` shows the bytes of malformed sequences (see [`ViewOptions::escape_malformed`]).
    pub malformed: Vec<Range<usize>>,
}

/// One byte stream: a peer in one direction.
type Stream = (SocketAddr, Direction);

/// What a text stream carries from one chunk to the next.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
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
#[derive(Clone)]
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
    /// Laid out as hex (see `ViewOptions::hex_for`).
    hex: bool,
}

/// A chunk laid out as text: what it adds to the row it continues, then the rows it starts.
#[derive(Default)]
struct Rendered {
    lead: String,
    rows: Vec<(RowKind, String)>,
    /// Malformed sequences' escapes: in the lead (0) or in `rows[n - 1]` (n), and where in its text.
    malformed: Vec<(usize, Range<usize>)>,
}

/// The log as rows, following one [`History`]. `append` indexes what arrived since the last call
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
    /// Indexing everything again, not yet caught up.
    rebuilding: bool,
    /// Decoded text of the chunk being indexed (kept to reuse its allocation).
    scratch: String,
    cache: RefCell<VecDeque<(u64, Arc<Rendered>)>>,
    /// Rows picked by the user, as the chunks they show: numbers stay valid as data arrives and across rebuilds.
    selection: Option<Selection>,
    /// Times the rows were laid out afresh (every row number changed).
    rebuilds: u64,
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
            rebuilding: false,
            scratch: String::new(),
            cache: RefCell::default(),
            selection: None,
            rebuilds: 0,
        }
    }

    pub fn options(&self) -> &ViewOptions {
        &self.options
    }

    /// Changes the options; if they differ, indexes the log again: the first rows at once, the
    /// rest over the next calls to [`append`](Self::append) (see [`catching_up`](Self::catching_up)).
    pub fn set_options(&mut self, options: ViewOptions, log: &History) {
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
        let rebuilds = self.rebuilds + 1;
        *self = View::new(options);
        self.removed = removed;
        self.selection = selection;
        self.rebuilds = rebuilds;
        self.rebuilding = true;
    }

    /// Times the rows were laid out afresh (an option changed, or the newest chunk was cut): row numbers from
    /// before mean nothing now.
    pub fn rebuilds(&self) -> u64 {
        self.rebuilds
    }

    /// Drops rows of chunks the log no longer holds, then indexes the chunks pushed since the last
    /// call, for at most [`INDEX_BUDGET`] ([`REBUILD_BUDGET`] while everything is indexed again).
    pub fn append(&mut self, log: &History) {
        self.append_within(log, self.budget());
        self.rebuilding &= self.behind;
    }

    /// What the next [`append`](Self::append) may take.
    fn budget(&self) -> Duration {
        if self.rebuilding { REBUILD_BUDGET } else { INDEX_BUDGET }
    }

    fn append_within(&mut self, log: &History, budget: Duration) {
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
        let hex = self.options.hex_for(chunk);
        let own_rows = hex != self.options.hex;
        let continues = match self.open {
            Some(open)
                if open.stream == stream
                    && (!self.options.log_mode || chunk.continued)
                    && !own_rows
                    && chunk.note.is_none() =>
            {
                Some(open.width)
            }
            _ => None,
        };
        let text_in = self.texts.get(&stream).copied().unwrap_or_default();
        let mut line = Line::new(continues);
        let mut rows = 0;
        let mut scratch = std::mem::take(&mut self.scratch);
        let text_out = self
            .options
            .lay_out(chunk, hex, text_in, &mut line, &mut rows, &mut scratch);
        scratch.clear();
        self.scratch = scratch;
        if !self.options.hex {
            self.carry(stream, text_out);
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
            hex,
        });
        self.next_row += rows;
    }

    /// Keeps what a stream carries into its next chunk. Only streams with something to carry are kept, and at most
    /// [`CARRIED_STREAMS`] of them: a storm of short connections must not keep an entry per peer ever seen.
    fn carry(&mut self, stream: Stream, text: TextState) {
        if text == TextState::default() {
            self.texts.remove(&stream);
            return;
        }
        if self.texts.len() >= CARRIED_STREAMS && !self.texts.contains_key(&stream) {
            // Their next text starts afresh: a character split across their chunks shows as U+FFFD.
            self.texts.clear();
        }
        self.texts.insert(stream, text);
    }

    /// Peers' streams whose unfinished text is carried into their next chunk.
    pub fn carried_streams(&self) -> usize {
        self.texts.len()
    }

    /// Drops the rows of chunks the log dropped, without indexing what it gained (a view not on show).
    pub fn forget_dropped(&mut self, log: &History) {
        self.evict(log.first_seq());
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

    /// Rows dropped from the front because the log dropped their chunks, since this view was made.
    /// Row indices shift down by as many, so the window subtracts the growth of this number from
    /// its scroll position. A rebuild replaces rows without counting them.
    pub fn rows_removed_total(&self) -> u64 {
        self.removed
    }

    /// The sequence number of the next chunk the view will index: everything before it is shown or filtered out.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }
}

#[cfg(test)]
mod tests;
