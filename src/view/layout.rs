//! How a chunk is laid out as rows: the same code counts rows while indexing and renders them for the
//! screen (a [`Sink`] of each kind), so the two cannot disagree.
use super::{ESCAPE_WIDTH, HEX_STREAM_ROW, MAX_ROW_WIDTH, Rendered, RowKind, TextState, ViewOptions};
use std::ops::Range;

use crate::codec::hex::to_hex;
use crate::codec::text::{Malformed, StreamDecoder};
use crate::history::{Chunk, Direction};

impl ViewOptions {
    pub(super) fn shows(&self, chunk: &Chunk) -> bool {
        (self.show_tx || chunk.direction == Direction::Rx)
            && self.peer_filter.is_none_or(|peer| peer == chunk.owner())
            && self.way_filter.is_none_or(|way| chunk.way() == Some(way))
    }

    /// Whether `chunk` is laid out as hex: everything in hex view, and binary in text view: sent data with any
    /// control byte, received data that is mostly control bytes (a Modbus reply; as text its `0A` would split it).
    /// It reads the whole chunk, so the view asks once, when it indexes the chunk.
    pub(super) fn hex_for(&self, chunk: &Chunk) -> bool {
        let control = |&byte: &u8| (byte < 0x20 && !matches!(byte, b'\t' | b'\r' | b'\n')) || byte == 0x7F;
        self.hex
            || match chunk.direction {
                Direction::Tx => chunk.bytes.iter().any(control),
                Direction::Rx => chunk.bytes.iter().filter(|byte| control(byte)).count() * 2 > chunk.bytes.len(),
            }
    }

    pub(super) fn columns(&self) -> usize {
        self.wrap_columns
            .map_or(MAX_ROW_WIDTH, |columns| columns.clamp(1, MAX_ROW_WIDTH))
    }

    pub(super) fn hex_bytes_per_row(&self) -> usize {
        if self.wrap_columns.is_none() && !self.log_mode {
            return HEX_STREAM_ROW;
        }
        // n bytes take 3n - 1 columns ("XX" and " XX" for each further byte).
        ((self.columns() + 1) / 3).max(1)
    }
}

impl ViewOptions {
    /// A chunk laid out on its own (as hex if `hex`, see [`Self::hex_for`]), from the text state and open row it
    /// had when indexed.
    pub(super) fn render(&self, chunk: &Chunk, hex: bool, text_in: TextState, continues: Option<usize>) -> Rendered {
        let mut rendered = Rendered::default();
        let mut line = Line::new(continues);
        self.lay_out(chunk, hex, text_in, &mut line, &mut rendered, &mut String::new());
        rendered
    }

    /// Lays a chunk out into `sink`, continuing `line`; returns the text state after it.
    pub(super) fn lay_out(
        &self,
        chunk: &Chunk,
        hex: bool,
        text_in: TextState,
        line: &mut Line,
        sink: &mut impl Sink,
        scratch: &mut String,
    ) -> TextState {
        if chunk.note.is_some() || (self.log_mode && !chunk.continued) {
            line.header(sink, chunk);
        }
        if chunk.note.is_some() {
            return text_in;
        }
        if hex {
            line.write_hex(sink, &chunk.bytes, self.hex_bytes_per_row());
            return text_in;
        }
        let mut decoder = self.encoding.resume(text_in.carry);
        let malformed = self.decode(&mut decoder, &chunk.bytes, scratch);
        let after_cr = line.write_text(sink, scratch, &malformed, text_in.after_cr, self.columns());
        TextState {
            carry: decoder.carry(),
            after_cr,
        }
    }
}

impl ViewOptions {
    /// Decodes `bytes` into `out`; where malformed sequences are if this view shows their bytes.
    pub(super) fn decode(&self, decoder: &mut StreamDecoder, bytes: &[u8], out: &mut String) -> Malformed {
        let mut malformed = Malformed::default();
        if self.escape_malformed {
            decoder.decode_marking(bytes, out, &mut malformed);
        } else {
            decoder.decode_into(bytes, out);
        }
        malformed
    }
}

/// Where laid-out rows go: counted while indexing, rendered for the screen.
pub(super) trait Sink {
    fn header(&mut self, chunk: &Chunk);
    fn start(&mut self);
    fn push(&mut self, text: &str);
    fn push_hex(&mut self, bytes: &[u8]);
    /// A malformed sequence's bytes, shown as escapes.
    fn push_malformed(&mut self, bytes: &[u8]);
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

    fn push_malformed(&mut self, _: &[u8]) {}
}

impl Rendered {
    /// Memory held, roughly.
    pub(super) fn size(&self) -> usize {
        self.lead.len() + self.rows.iter().map(|(_, row)| row.len() + 32).sum::<usize>() + self.malformed.len() * 24
    }

    fn current(&mut self) -> &mut String {
        match self.rows.last_mut() {
            Some((_, row)) => row,
            None => &mut self.lead,
        }
    }
}

impl Rendered {
    /// Where the malformed sequences' escapes are in the lead (0) or in `rows[n - 1]` (n). They were pushed row by
    /// row, so a row's are found by halving: a chunk of random bytes has thousands, and each shown row asks.
    pub(super) fn malformed_in(&self, row: usize) -> impl Iterator<Item = Range<usize>> + '_ {
        let start = self.malformed.partition_point(|(on, _)| *on < row);
        let end = start + self.malformed[start..].partition_point(|(on, _)| *on == row);
        self.malformed[start..end].iter().map(|(_, range)| range.clone())
    }
}

impl Sink for Rendered {
    fn header(&mut self, chunk: &Chunk) {
        let kind = chunk.note.map_or(RowKind::Header, RowKind::Note);
        self.rows.push((kind, header(chunk)));
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

    fn push_malformed(&mut self, bytes: &[u8]) {
        let row = self.rows.len();
        let text = self.current();
        let start = text.len();
        text.extend(bytes.iter().flat_map(|&byte| escaped(byte)).map(char::from));
        let end = text.len();
        // Sequences side by side are one range: one colour change, not one per sequence, for the window to lay out.
        match self.malformed.last_mut() {
            Some((on, range)) if *on == row && range.end == start => range.end = end,
            _ => self.malformed.push((row, start..end)),
        }
    }
}

/// The row a stream writes to while one chunk is laid out.
pub(super) struct Line {
    /// The last row is this stream's and open to more data.
    pub(super) open: bool,
    /// Columns (text) or bytes (hex) on the open row.
    pub(super) width: usize,
    /// Rows were started or ended: `open` now says whether any row is open.
    pub(super) touched: bool,
}

impl Line {
    pub(super) fn new(continues: Option<usize>) -> Line {
        Line {
            open: continues.is_some(),
            width: continues.unwrap_or(0),
            touched: false,
        }
    }

    pub(super) fn header(&mut self, sink: &mut impl Sink, chunk: &Chunk) {
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

    fn append_malformed(&mut self, sink: &mut impl Sink, bytes: &[u8]) {
        if !self.open {
            self.start(sink);
        }
        sink.push_malformed(bytes);
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

    /// Writes decoded text: line breaks end rows, rows wrap at `columns`, control characters and the
    /// U+FFFDs of `malformed` sequences become `\xHH`s. `after_cr` says the stream's previous text ended in
    /// `\r`; the return value says the same of this text.
    pub(super) fn write_text(
        &mut self,
        sink: &mut impl Sink,
        text: &str,
        malformed: &Malformed,
        mut after_cr: bool,
        columns: usize,
    ) -> bool {
        let mut malformed = malformed.iter().peekable();
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
            let bytes = malformed.next_if(|&(at, _)| at == i).map(|(_, bytes)| bytes);
            let escape = bytes.is_some() || (ch.is_control() && ch != '\t');
            let ch_width = match bytes {
                Some(bytes) => ESCAPE_WIDTH * bytes.len(),
                None if escape => ESCAPE_WIDTH,
                None => char_width(ch),
            };
            if self.width > 0 && self.width + ch_width > columns {
                self.append(sink, &text[run..i]);
                run = i;
                self.end_row(sink);
            }
            self.width += ch_width;
            if escape {
                self.append(sink, &text[run..i]);
                match bytes {
                    Some(bytes) => self.append_malformed(sink, bytes),
                    // Every control character is below U+00A0.
                    None => self.append(sink, std::str::from_utf8(&escaped(u32::from(ch) as u8)).expect("ASCII")),
                }
                run = i + ch.len_utf8();
            }
        }
        self.append(sink, &text[run..]);
        after_cr
    }

    /// Writes bytes as hex, `per_row` to a row, filling the open row first.
    pub(super) fn write_hex(&mut self, sink: &mut impl Sink, bytes: &[u8], per_row: usize) {
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

/// A chunk's header row; a note's row ("[time] peer", its words added where it is shown).
pub(super) fn header(chunk: &Chunk) -> String {
    if chunk.note.is_some() {
        return format!("[{}] {}", crate::render::clock(&chunk.at), chunk.peer);
    }
    match chunk.way() {
        Some(way) => crate::render::relay_header(&chunk.at, way, chunk.direction == Direction::Tx, chunk.owner()),
        None => crate::render::header(&chunk.at, chunk.direction, chunk.peer),
    }
}

/// `\x01` for a byte: a control character's (all are below U+00A0) or one of a malformed sequence.
fn escaped(byte: u8) -> [u8; 4] {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let code = usize::from(byte);
    [b'\\', b'x', DIGITS[code >> 4], DIGITS[code & 0xF]]
}

/// Display columns of a character: 2 in the East Asian wide ranges (CJK, kana, Hangul, fullwidth
/// forms, common emoji), 1 otherwise. Simpler than Unicode's width tables, and enough to wrap
/// Chinese text where a monospace font does.
pub fn char_width(ch: char) -> usize {
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
