//! What the receive pane shows: the log rendered as rows of text, built incrementally as chunks
//! arrive and rebuilt from the raw bytes only when a display option changes. Rows are indexable,
//! so the window can scroll through millions of them with `ScrollArea::show_rows`.
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
//! - Rows wrap at `wrap_columns` (CJK characters count two columns) and, without it, at
//!   [`MAX_ROW_WIDTH`].
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::ops::Range;

use chrono::Timelike;

use crate::codec::hex::to_hex;
use crate::codec::text::{StreamDecoder, TextEncoding};
use crate::log::{Chunk, Direction, Log};

/// The widest row even without wrapping: egui lays text out a row at a time and eviction drops
/// whole rows, so a peer that never sends a newline must not make one endless row.
pub const MAX_ROW_WIDTH: usize = 4096;
/// Bytes per hex row in stream mode without wrapping.
const HEX_STREAM_ROW: usize = 16;
/// Columns taken by a control character shown as `\xHH`.
const ESCAPE_WIDTH: usize = 4;

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
struct TextState {
    decoder: StreamDecoder,
    /// The last text ended in `\r`, so a leading `\n` completes that line break.
    after_cr: bool,
}

/// The log as rows, following one [`Log`]: `append` renders what arrived since the last call and
/// drops rows whose chunks the log has dropped.
pub struct View {
    options: ViewOptions,
    rows: Rows,
    texts: HashMap<Stream, TextState>,
    /// The sequence number of the next chunk to render.
    next_seq: u64,
}

impl View {
    pub fn new(options: ViewOptions) -> View {
        View {
            options,
            rows: Rows::default(),
            texts: HashMap::new(),
            next_seq: 0,
        }
    }

    pub fn options(&self) -> &ViewOptions {
        &self.options
    }

    /// Changes the options; if they differ, re-renders everything the log holds.
    pub fn set_options(&mut self, options: ViewOptions, log: &Log) {
        if options == self.options {
            return;
        }
        let removed = self.rows.removed;
        *self = View::new(options);
        self.rows.removed = removed;
        self.append(log);
    }

    /// Drops rows of chunks the log no longer holds, then renders the chunks pushed since the last call.
    pub fn append(&mut self, log: &Log) {
        self.rows.evict(log.first_seq());
        for (seq, chunk) in log.since(self.next_seq) {
            self.render(seq, chunk);
        }
        self.next_seq = log.next_seq();
    }

    fn render(&mut self, seq: u64, chunk: &Chunk) {
        let options = &self.options;
        if !options.shows(chunk) {
            return;
        }
        let stream = (chunk.peer, chunk.direction);
        if options.log_mode {
            self.rows.header(seq, stream, header(chunk));
        }
        if options.hex {
            self.rows
                .write_hex(seq, stream, &chunk.bytes, options.hex_bytes_per_row());
        } else {
            let state = self.texts.entry(stream).or_insert_with(|| TextState {
                decoder: options.encoding.decoder(),
                after_cr: false,
            });
            let text = state.decoder.decode(&chunk.bytes);
            state.after_cr = self
                .rows
                .write_text(seq, stream, &text, state.after_cr, options.columns());
        }
    }

    pub fn rows(&self) -> usize {
        self.rows.rows.len()
    }

    pub fn row(&self, index: usize) -> Option<&Row> {
        self.rows.rows.get(index)
    }

    /// The rows in `range`, cut to the rows there are (what `ScrollArea::show_rows` asks for).
    pub fn rows_in(&self, range: Range<usize>) -> impl Iterator<Item = &Row> {
        let end = range.end.min(self.rows());
        self.rows.rows.range(range.start.min(end)..end)
    }

    /// Rows dropped from the front because the log dropped their chunks, since this view was made.
    /// Row indices shift down by as many, so the window subtracts the growth of this number from
    /// its scroll position. A rebuild replaces rows without counting them.
    pub fn rows_removed_total(&self) -> u64 {
        self.rows.removed
    }

    /// Every row as shown, each ending in "\n": for "save view" and "copy all".
    pub fn text_of_all(&self) -> String {
        let rows = &self.rows.rows;
        let mut all = String::with_capacity(rows.iter().map(|row| row.text.len() + 1).sum());
        for row in rows {
            all.push_str(&row.text);
            all.push('\n');
        }
        all
    }
}

/// "[12:00:00.123] RX ← 127.0.0.1:5000": the arrow points the way the bytes went.
fn header(chunk: &Chunk) -> String {
    let time = chunk.at.time();
    // A leap second's nanoseconds run past 10⁹; show it as .999.
    let millis = (time.nanosecond() / 1_000_000).min(999);
    let (direction, arrow) = match chunk.direction {
        Direction::Rx => ("RX", '←'),
        Direction::Tx => ("TX", '→'),
    };
    format!(
        "[{:02}:{:02}:{:02}.{millis:03}] {direction} {arrow} {}",
        time.hour(),
        time.minute(),
        time.second(),
        chunk.peer
    )
}

/// The rows, and which stream's last row is still open to more text.
#[derive(Default)]
struct Rows {
    rows: VecDeque<Row>,
    /// The stream whose row is last and unfinished: its next text continues that row.
    open: Option<Stream>,
    /// Columns of the open row, so wrapping need not measure it again for every chunk.
    open_width: usize,
    removed: u64,
}

impl Rows {
    fn push(&mut self, seq: u64, (peer, direction): Stream, kind: RowKind, text: String) {
        self.rows.push_back(Row {
            seq,
            peer,
            direction,
            kind,
            text,
        });
    }

    fn header(&mut self, seq: u64, stream: Stream, text: String) {
        self.push(seq, stream, RowKind::Header, text);
        self.open = None;
    }

    fn start_row(&mut self, seq: u64, stream: Stream, text: String) {
        self.push(seq, stream, RowKind::Data, text);
        self.open = Some(stream);
    }

    fn open_row(&mut self, stream: Stream) -> Option<&mut Row> {
        if self.open == Some(stream) {
            self.rows.back_mut()
        } else {
            None
        }
    }

    /// Adds text to the stream's open row, or starts one.
    fn append(&mut self, seq: u64, stream: Stream, text: &str) {
        if text.is_empty() {
            return;
        }
        match self.open_row(stream) {
            Some(row) => row.text.push_str(text),
            None => self.start_row(seq, stream, text.to_owned()),
        }
    }

    /// Ends the stream's current row; a line with nothing on it becomes an empty row.
    fn end_row(&mut self, seq: u64, stream: Stream) {
        if self.open != Some(stream) {
            self.push(seq, stream, RowKind::Data, String::new());
        }
        self.open = None;
    }

    /// Writes decoded text: line breaks end rows, rows wrap at `columns`, control characters
    /// become `\xHH`. `after_cr` says the stream's previous text ended in `\r`; the return value
    /// says the same of this text.
    fn write_text(&mut self, seq: u64, stream: Stream, text: &str, mut after_cr: bool, columns: usize) -> bool {
        let mut width = if self.open == Some(stream) { self.open_width } else { 0 };
        // Plain characters are written in runs: text[run..] is not written yet.
        let mut run = 0;
        for (i, ch) in text.char_indices() {
            let crlf = after_cr && ch == '\n';
            after_cr = ch == '\r';
            if matches!(ch, '\r' | '\n') {
                self.append(seq, stream, &text[run..i]);
                run = i + 1;
                if !crlf {
                    self.end_row(seq, stream);
                }
                width = 0;
                continue;
            }
            let escape = ch.is_control() && ch != '\t';
            let ch_width = if escape { ESCAPE_WIDTH } else { char_width(ch) };
            if width > 0 && width + ch_width > columns {
                self.append(seq, stream, &text[run..i]);
                run = i;
                self.end_row(seq, stream);
                width = 0;
            }
            width += ch_width;
            if escape {
                self.append(seq, stream, &text[run..i]);
                self.append(seq, stream, std::str::from_utf8(&escaped(ch)).expect("ASCII"));
                run = i + ch.len_utf8();
            }
        }
        self.append(seq, stream, &text[run..]);
        if self.open == Some(stream) {
            self.open_width = width;
        }
        after_cr
    }

    /// Writes bytes as hex, `per_row` to a row, filling the stream's open row first.
    fn write_hex(&mut self, seq: u64, stream: Stream, bytes: &[u8], per_row: usize) {
        let mut rest = bytes;
        if let Some(row) = self.open_row(stream) {
            let held = (row.text.len() + 1) / 3;
            let (head, tail) = rest.split_at(per_row.saturating_sub(held).min(rest.len()));
            if !head.is_empty() {
                row.text.push(' ');
                row.text.push_str(&to_hex(head));
            }
            rest = tail;
        }
        for piece in rest.chunks(per_row) {
            self.start_row(seq, stream, to_hex(piece));
        }
    }

    /// Drops the rows of chunks numbered below `first_seq` (row numbers only grow down the list).
    fn evict(&mut self, first_seq: u64) {
        let gone = self.rows.partition_point(|row| row.seq < first_seq);
        self.rows.drain(..gone);
        self.removed += gone as u64;
        if self.rows.is_empty() {
            self.open = None;
        }
    }
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
    use std::time::Instant;

    use chrono::{DateTime, Local, NaiveDate};

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
        Chunk {
            at: noon(),
            peer: peer(port),
            direction,
            bytes: bytes.to_vec(),
        }
    }

    /// Pushes the chunks into a log and renders them one `append` at a time, as the window does.
    fn build(options: &ViewOptions, input: Input) -> (Log, View) {
        let mut log = Log::default();
        let mut view = View::new(options.clone());
        for &item in input {
            log.push(chunk(item));
            view.append(&log);
        }
        (log, view)
    }

    fn fresh(options: &ViewOptions, log: &Log) -> View {
        let mut view = View::new(options.clone());
        view.append(log);
        view
    }

    fn all_rows(view: &View) -> Vec<Row> {
        view.rows_in(0..view.rows()).cloned().collect()
    }

    fn texts(view: &View) -> Vec<&str> {
        view.rows_in(0..view.rows()).map(|row| row.text.as_str()).collect()
    }

    fn check(cases: &[(ViewOptions, Input, &[&str])]) {
        for (options, input, expected) in cases {
            let (_, view) = build(options, input);
            assert_eq!(texts(&view), *expected, "{options:?} {input:?}");
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
        assert_eq!(view.row(1).map(|row| row.text.as_str()), Some("x"));
        assert_eq!(view.row(5), None);
        let texts_in = |range| view.rows_in(range).map(|row| row.text.as_str()).collect::<Vec<_>>();
        assert_eq!(texts_in(3..5), ["y", "z"]);
        assert_eq!(texts_in(4..99), ["z"]);
        assert_eq!(texts_in(7..99), Vec::<&str>::new());
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
            view.append(&log);
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
            view.append(&log);
            assert_eq!(texts(&view), rows);
        }
        assert_eq!(view.rows_removed_total(), 1);
    }

    /// Times, never asserts: the numbers are for reading with `--nocapture`.
    #[test]
    fn a_million_small_chunks() {
        const CHUNKS: u64 = 1_000_000;
        let mut log = Log::new(usize::MAX);
        let mut view = View::new(STREAM);
        let started = Instant::now();
        for n in 0..CHUNKS {
            let bytes: &[u8] = if n % 4 == 3 { b"line end\r\n" } else { b"0123456789" };
            log.push(chunk((Rx, A, bytes)));
            view.append(&log);
        }
        println!(
            "{CHUNKS} chunks pushed and appended one at a time: {:?} ({} rows)",
            started.elapsed(),
            view.rows()
        );
        for (name, options) in [("log mode", LOG), ("hex", HEX)] {
            let started = Instant::now();
            view.set_options(options, &log);
            println!("rebuilt as {name}: {:?} ({} rows)", started.elapsed(), view.rows());
        }
        assert_eq!(view.rows(), (CHUNKS * 10 / 16) as usize);
    }
}
