//! Find in the history: text (encoded in the view's encoding), hex bytes, or a regex over the decoded text. Pure
//! and streaming: chunks go in one at a time (the window feeds it a snapshot on a thread of its own), matches come
//! out as they are found.
//!
//! Each stream (a peer in one direction) is searched on its own, so a match split across two chunks of the same
//! stream is found: bytes carry the last `pattern - 1` bytes into the next chunk; a regex runs over the text
//! decoded per stream (a character split across chunks decodes whole) with the last [`OVERLAP`] bytes of text
//! kept. The limit: a regex match that crosses into a later chunk is found only if it starts within the last
//! [`OVERLAP`] bytes of text before it, and one that runs to the end of the text so far waits for more (up to
//! [`MAX_DEFERRED`] bytes) before it counts. Matches do not overlap, as `grep -o` and Python's `bytes.count`.
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::ops::Range;
use std::time::{Duration, Instant};

use memchr::memmem;
use regex::Regex;

use crate::codec::hex::{HexError, parse_hex, to_hex};
use crate::codec::text::{StreamDecoder, TextEncoding, TextError};
use crate::history::{Chunk, Direction};
use crate::view::At;

/// The longest text or hex pattern: what each stream carries between chunks.
pub const MAX_PATTERN: usize = 4096;
/// Text kept before the end of each stream's decoded text, for a regex match that goes on in the next chunk.
pub const OVERLAP: usize = 4096;
/// A regex match that reaches the end of the text so far waits for more text up to this length, then counts.
pub const MAX_DEFERRED: usize = 64 << 10;
/// Matches kept at most: a search for "a" in 64 MiB of "a" stops counting here.
pub const MAX_MATCHES: usize = 100_000;
/// Text before a regex's next search position kept for its assertions (`\b`, `^`).
const CONTEXT: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum FindMode {
    /// The typed text, encoded as the view decodes.
    #[default]
    Text,
    /// Bytes typed as hex, as in the send box ("C4 E3").
    Hex,
    /// A regex over the decoded text.
    Regex,
}

impl FindMode {
    pub const ALL: [FindMode; 3] = [FindMode::Text, FindMode::Hex, FindMode::Regex];
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FindError {
    #[error(transparent)]
    Hex(#[from] HexError),
    #[error(transparent)]
    Text(#[from] TextError),
    #[error("{0}")]
    Regex(String),
    #[error("the pattern is {len} bytes long; at most {MAX_PATTERN}")]
    TooLong { len: usize },
}

/// What to look for, compiled.
#[derive(Debug, Clone)]
pub struct Query {
    needle: Needle,
    encoding: TextEncoding,
}

#[derive(Debug, Clone)]
enum Needle {
    Bytes(Vec<u8>),
    Regex(Regex),
}

/// A match: where it starts. Bytes are found in the chunk's bytes; a regex in the chunk's decoded text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Match {
    pub seq: u64,
    pub at: At,
}

impl Query {
    /// `None` for an empty pattern (nothing to find).
    pub fn new(mode: FindMode, pattern: &str, encoding: TextEncoding) -> Result<Option<Query>, FindError> {
        if pattern.is_empty() {
            return Ok(None);
        }
        let needle = match mode {
            FindMode::Text => Needle::Bytes(encoding.encode(pattern)?),
            FindMode::Hex => Needle::Bytes(parse_hex(pattern)?),
            FindMode::Regex => Needle::Regex(
                regex::RegexBuilder::new(pattern)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|error| FindError::Regex(error.to_string()))?,
            ),
        };
        match &needle {
            Needle::Bytes(bytes) if bytes.is_empty() => return Ok(None),
            Needle::Bytes(bytes) if bytes.len() > MAX_PATTERN => return Err(FindError::TooLong { len: bytes.len() }),
            _ => {}
        }
        Ok(Some(Query { needle, encoding }))
    }

    /// What to mark in a row as drawn (hex rows, or text rows), where that can be told from the row alone: the
    /// pattern as the row would show it. A match split across rows is not marked.
    pub fn highlight(&self, hex_rows: bool) -> Option<Highlight> {
        match (&self.needle, hex_rows) {
            (Needle::Bytes(bytes), true) => Some(Highlight::Text(to_hex(bytes))),
            (Needle::Bytes(bytes), false) => self.encoding.decode_exact(bytes).map(Highlight::Text),
            (Needle::Regex(regex), false) => Some(Highlight::Regex(regex.clone())),
            (Needle::Regex(_), true) => None,
        }
    }
}

/// A pattern looked for in a row's text, for marking.
#[derive(Debug, Clone)]
pub enum Highlight {
    Text(String),
    Regex(Regex),
}

impl Highlight {
    /// The byte ranges of `text` to mark, in order, not overlapping.
    pub fn ranges(&self, text: &str) -> Vec<Range<usize>> {
        match self {
            Highlight::Text(needle) if needle.is_empty() => Vec::new(),
            Highlight::Text(needle) => text
                .match_indices(needle.as_str())
                .map(|(at, found)| at..at + found.len())
                .collect(),
            Highlight::Regex(regex) => regex
                .find_iter(text)
                .filter(|found| !found.is_empty())
                .map(|found| found.range())
                .collect(),
        }
    }
}

/// Finds a query in chunks fed one at a time, oldest first.
pub struct Searcher {
    query: Query,
    finder: Option<memmem::Finder<'static>>,
    streams: Vec<Stream>,
    /// Where each stream is in `streams`, and the last one looked up (runs of chunks of one stream skip the map).
    index: HashMap<(SocketAddr, Direction), usize>,
    last: Option<((SocketAddr, Direction), usize)>,
    /// The carried tail and the next chunk's head, joined (kept to reuse its allocation).
    joined: Vec<u8>,
}

/// What one stream carries from chunk to chunk.
#[derive(Default)]
struct Stream {
    /// Bytes seen so far.
    total: u64,
    /// Where the last match ended (stream offset): the next may not start before.
    claimed: u64,
    /// The last bytes seen (up to the pattern's length less one) and where each was: (seq, offset).
    tail: Vec<u8>,
    tail_at: Vec<(u64, usize)>,
    text: Option<TextWindow>,
}

/// A regex's view of a stream: its decoded text from a little before where the next search starts.
struct TextWindow {
    decoder: StreamDecoder,
    text: String,
    /// The stream offset of `text[0]`.
    base: usize,
    /// Where the next search starts (stream offset).
    resume: usize,
    /// Where each chunk's text starts (stream offset), oldest first; the first may start before `base`.
    starts: VecDeque<(usize, u64)>,
}

impl Searcher {
    pub fn new(query: Query) -> Searcher {
        let finder = match &query.needle {
            Needle::Bytes(bytes) => Some(memmem::Finder::new(bytes).into_owned()),
            Needle::Regex(_) => None,
        };
        Searcher {
            query,
            finder,
            streams: Vec::new(),
            index: HashMap::new(),
            last: None,
            joined: Vec::new(),
        }
    }

    /// Searches the next chunk; the matches it completes go to `out`.
    pub fn push(&mut self, seq: u64, chunk: &Chunk, out: &mut Vec<Match>) {
        let key = (chunk.peer, chunk.direction);
        let at = match self.last {
            Some((last, at)) if last == key => at,
            _ => *self.index.entry(key).or_insert_with(|| {
                self.streams.push(Stream::default());
                self.streams.len() - 1
            }),
        };
        self.last = Some((key, at));
        let stream = &mut self.streams[at];
        match (&self.finder, &self.query.needle) {
            (Some(finder), _) => stream.push_bytes(finder, seq, &chunk.bytes, &mut self.joined, out),
            (None, Needle::Regex(regex)) => {
                let encoding = self.query.encoding;
                let window = stream.text.get_or_insert_with(|| TextWindow::new(encoding));
                let start = window.base + window.text.len();
                window.starts.push_back((start, seq));
                window.decoder.decode_into(&chunk.bytes, &mut window.text);
                window.find(regex, false, out);
            }
            (None, Needle::Bytes(_)) => unreachable!("a byte needle has a finder"),
        }
    }

    /// The end of the history: regex matches that waited for more text count now.
    pub fn finish(&mut self, out: &mut Vec<Match>) {
        let Needle::Regex(regex) = &self.query.needle else {
            return;
        };
        let mut streams: Vec<_> = self.streams.iter_mut().filter_map(|s| s.text.as_mut()).collect();
        // Matches come out oldest chunk first whatever order the map keeps streams in.
        streams.sort_by_key(|window| window.starts.front().map(|(_, seq)| *seq));
        for window in streams {
            let rest = window.decoder.finish();
            window.text.push_str(&rest);
            window.find(regex, true, out);
        }
    }
}

impl Stream {
    fn push_bytes(
        &mut self,
        finder: &memmem::Finder<'_>,
        seq: u64,
        bytes: &[u8],
        joined: &mut Vec<u8>,
        out: &mut Vec<Match>,
    ) {
        let len = finder.needle().len();
        // Matches starting in the carried tail and ending in this chunk.
        if !self.tail.is_empty() {
            joined.clear();
            joined.extend_from_slice(&self.tail);
            joined.extend_from_slice(&bytes[..(len - 1).min(bytes.len())]);
            let base = self.total - self.tail.len() as u64;
            let mut from = 0;
            while let Some(found) = finder.find(&joined[from..]) {
                let start = from + found;
                if start >= self.tail.len() {
                    break;
                }
                if base + start as u64 >= self.claimed {
                    let (seq, offset) = self.tail_at[start];
                    out.push(Match {
                        seq,
                        at: At::Byte(offset),
                    });
                    self.claimed = base + (start + len) as u64;
                }
                from = start + 1;
            }
        }
        let skip = usize::try_from(self.claimed.saturating_sub(self.total)).unwrap_or(usize::MAX);
        if skip < bytes.len() {
            let mut last_end = None;
            for start in finder.find_iter(&bytes[skip..]) {
                out.push(Match {
                    seq,
                    at: At::Byte(skip + start),
                });
                last_end = Some(skip + start + len);
            }
            if let Some(end) = last_end {
                self.claimed = self.total + end as u64;
            }
        }
        // Carry the last len - 1 bytes of the stream.
        let keep = len - 1;
        let from_chunk = keep.min(bytes.len());
        let from_tail = (keep - from_chunk).min(self.tail.len());
        self.tail.drain(..self.tail.len() - from_tail);
        self.tail_at.drain(..self.tail_at.len() - from_tail);
        self.tail.extend_from_slice(&bytes[bytes.len() - from_chunk..]);
        self.tail_at
            .extend((bytes.len() - from_chunk..bytes.len()).map(|offset| (seq, offset)));
        self.total += bytes.len() as u64;
    }
}

impl TextWindow {
    fn new(encoding: TextEncoding) -> TextWindow {
        TextWindow {
            decoder: encoding.decoder(),
            text: String::new(),
            base: 0,
            resume: 0,
            starts: VecDeque::new(),
        }
    }

    /// Finds from `resume` on; a match reaching the end of the text waits for more unless `last` (or too long).
    fn find(&mut self, regex: &Regex, last: bool, out: &mut Vec<Match>) {
        let mut from = self.resume - self.base;
        while let Some(found) = regex.find_at(&self.text, from) {
            if found.is_empty() {
                // Empty matches mark nothing; look on after the next character.
                match self.text[found.start()..].chars().next() {
                    Some(ch) => from = found.start() + ch.len_utf8(),
                    None => {
                        from = self.text.len();
                        break;
                    }
                }
                continue;
            }
            if found.end() == self.text.len() && !last && found.len() < MAX_DEFERRED {
                self.resume = self.base + found.start();
                self.trim();
                return;
            }
            out.push(self.locate(found.start()));
            from = found.end();
        }
        // Nothing more now; a match may yet start within the last OVERLAP bytes and end in the next chunk.
        let overlap_from = floor_char_boundary(&self.text, self.text.len().saturating_sub(OVERLAP));
        self.resume = self.base + from.max(overlap_from);
        self.trim();
    }

    /// Where a match starting at `text[start]` is: its chunk and the offset in that chunk's text.
    fn locate(&self, start: usize) -> Match {
        let at = self.base + start;
        let index = self
            .starts
            .partition_point(|(begins, _)| *begins <= at)
            .saturating_sub(1);
        let (begins, seq) = self.starts.get(index).copied().unwrap_or((self.base, 0));
        Match {
            seq,
            at: At::Text(at - begins),
        }
    }

    /// Drops text more than CONTEXT bytes before the next search position.
    fn trim(&mut self) {
        let cut = floor_char_boundary(&self.text, (self.resume - self.base).saturating_sub(CONTEXT));
        self.text.drain(..cut);
        self.base += cut;
        while self.starts.len() > 1 && self.starts[1].0 <= self.base {
            self.starts.pop_front();
        }
    }
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// A batch of matches from [`run`].
#[derive(Debug, Default)]
pub struct Batch {
    pub matches: Vec<Match>,
    /// The search is over (the last batch).
    pub done: bool,
    /// It stopped at [`MAX_MATCHES`].
    pub capped: bool,
}

/// Searches `chunks` in order, handing matches over as they come: the first at once, then every `every` (and at
/// the end). Stops early when `cancelled` says so (nothing more is handed over then).
pub fn run<'a>(
    query: Query,
    chunks: impl IntoIterator<Item = (u64, &'a Chunk)>,
    every: Duration,
    cancelled: impl Fn() -> bool,
    mut deliver: impl FnMut(Batch),
) {
    let mut searcher = Searcher::new(query);
    let mut pending = Vec::new();
    let (mut found, mut first_sent, mut last_sent) = (0usize, false, Instant::now());
    for (seq, chunk) in chunks {
        if cancelled() {
            return;
        }
        searcher.push(seq, chunk, &mut pending);
        if found + pending.len() >= MAX_MATCHES {
            pending.truncate(MAX_MATCHES - found);
            return deliver(Batch {
                matches: pending,
                done: true,
                capped: true,
            });
        }
        if !pending.is_empty() && (!first_sent || last_sent.elapsed() >= every) {
            found += pending.len();
            deliver(Batch {
                matches: std::mem::take(&mut pending),
                ..Batch::default()
            });
            (first_sent, last_sent) = (true, Instant::now());
        }
    }
    searcher.finish(&mut pending);
    let capped = found + pending.len() > MAX_MATCHES;
    pending.truncate(MAX_MATCHES - found);
    if !cancelled() {
        deliver(Batch {
            matches: pending,
            done: true,
            capped,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Local;

    const A: u16 = 5000;
    const B: u16 = 6000;

    fn chunk(direction: Direction, port: u16, bytes: &[u8]) -> Chunk {
        let peer = SocketAddr::from(([127, 0, 0, 1], port));
        Chunk::new(Local::now(), peer, direction, bytes.to_vec())
    }

    fn find(mode: FindMode, pattern: &str, encoding: TextEncoding, chunks: &[Chunk]) -> Vec<Match> {
        let query = Query::new(mode, pattern, encoding).expect("valid").expect("not empty");
        let mut matches = Vec::new();
        run(
            query,
            chunks.iter().enumerate().map(|(seq, chunk)| (seq as u64, chunk)),
            Duration::ZERO,
            || false,
            |batch| matches.extend(batch.matches),
        );
        matches
    }

    fn at(seq: u64, offset: usize) -> Match {
        Match {
            seq,
            at: At::Byte(offset),
        }
    }

    fn text_at(seq: u64, offset: usize) -> Match {
        Match {
            seq,
            at: At::Text(offset),
        }
    }

    #[test]
    fn text_split_across_chunks_of_one_peer_is_found_and_not_across_peers() {
        let chunks = [
            chunk(Direction::Rx, A, b"xxhel"),
            chunk(Direction::Rx, B, b"lo hello"),
            chunk(Direction::Rx, A, b"l"),
            chunk(Direction::Rx, A, b"o, hello"),
        ];
        let utf8 = TextEncoding::UTF8;
        // A's "hel" + "l" + "o" across three chunks, B's own, A's in one chunk; B's "lo" never joins A's "hel".
        assert_eq!(
            find(FindMode::Text, "hello", utf8, &chunks),
            [at(1, 3), at(0, 2), at(3, 3)]
        );
        // Sent data is a stream of its own too.
        let mixed = [chunk(Direction::Rx, A, b"he"), chunk(Direction::Tx, A, b"llo")];
        assert_eq!(find(FindMode::Text, "hello", utf8, &mixed), []);
    }

    #[test]
    fn gbk_text_split_across_chunks_is_found() {
        // 你好 is C4 E3 BA C3 in GBK: split inside 你 and between the two characters.
        let chunks = [
            chunk(Direction::Rx, A, &[b'a', 0xC4]),
            chunk(Direction::Rx, A, &[0xE3, 0xBA]),
            chunk(Direction::Rx, A, &[0xC3, b'b', 0xC4, 0xE3, 0xBA, 0xC3]),
        ];
        assert_eq!(
            find(FindMode::Text, "你好", TextEncoding::GBK, &chunks),
            [at(0, 1), at(2, 2)]
        );
        // The same pattern in UTF-8 bytes is not there.
        assert_eq!(find(FindMode::Text, "你好", TextEncoding::UTF8, &chunks), []);
        // A regex over the text decoded per stream finds both too, in the chunk where each starts.
        assert_eq!(
            find(FindMode::Regex, "你.", TextEncoding::GBK, &chunks),
            [text_at(1, 0), text_at(2, 4)]
        );
    }

    #[test]
    fn hex_bytes_and_bad_hex() {
        let chunks = [
            chunk(Direction::Rx, A, &[1, 3, 0xC4]),
            chunk(Direction::Rx, A, &[0xE3, 0xC4, 0xE3]),
        ];
        assert_eq!(
            find(FindMode::Hex, "c4 E3", TextEncoding::UTF8, &chunks),
            [at(0, 2), at(1, 1)]
        );
        assert_eq!(
            Query::new(FindMode::Hex, "C4 G3", TextEncoding::UTF8).err(),
            Some(FindError::Hex(HexError::BadDigit { position: 4, ch: 'G' }))
        );
        let too_long = "00 ".repeat(MAX_PATTERN + 1);
        assert_eq!(
            Query::new(FindMode::Hex, &too_long, TextEncoding::UTF8).err(),
            Some(FindError::TooLong { len: MAX_PATTERN + 1 })
        );
        assert!(
            Query::new(FindMode::Hex, " ", TextEncoding::UTF8)
                .expect("empty")
                .is_none()
        );
    }

    #[test]
    fn matches_do_not_overlap_even_across_chunks() {
        // "aaaa" as a, aa, a: "aa" twice, as bytes.count does.
        let chunks = [
            chunk(Direction::Rx, A, b"a"),
            chunk(Direction::Rx, A, b"aa"),
            chunk(Direction::Rx, A, b"a"),
        ];
        assert_eq!(
            find(FindMode::Text, "aa", TextEncoding::UTF8, &chunks),
            [at(0, 0), at(1, 1)]
        );
        assert_eq!(
            find(FindMode::Regex, "aa", TextEncoding::UTF8, &chunks),
            [text_at(0, 0), text_at(1, 1)]
        );
    }

    #[test]
    fn regex_matches_across_chunks_and_waits_for_a_match_that_may_go_on() {
        let chunks = [
            chunk(Direction::Rx, A, b"id=12"),
            chunk(Direction::Rx, B, b"id=7;"),
            chunk(Direction::Rx, A, b"34;id=5"),
        ];
        // A's id=1234 is one match, not id=12 then 34; the last one counts at the end.
        let found = find(FindMode::Regex, r"id=\d+", TextEncoding::UTF8, &chunks);
        assert_eq!(found, [text_at(1, 0), text_at(0, 0), text_at(2, 3)]);
        assert!(matches!(
            Query::new(FindMode::Regex, "(unclosed", TextEncoding::UTF8),
            Err(FindError::Regex(message)) if message.contains("unclosed")
        ));
        // A regex that matches the empty string marks nothing empty.
        assert_eq!(find(FindMode::Regex, "x*", TextEncoding::UTF8, &chunks[..1]), []);
    }

    /// A regex match is found across a boundary when it starts within OVERLAP bytes of it (the documented limit).
    #[test]
    fn regex_overlap_is_the_limit_across_chunks() {
        for (gap, found) in [(OVERLAP - 10, 1), (OVERLAP + 10, 0)] {
            let mut first = b"BEGIN".to_vec();
            first.extend(vec![b'-'; gap]);
            let chunks = [chunk(Direction::Rx, A, &first), chunk(Direction::Rx, A, b"-END")];
            assert_eq!(
                find(FindMode::Regex, "BEGIN-+END", TextEncoding::UTF8, &chunks).len(),
                found,
                "gap {gap}"
            );
        }
    }

    /// The window searches the view's snapshot: with a peer filter, only that peer's chunks (and their own
    /// boundaries) are searched.
    #[test]
    fn a_search_over_a_filtered_view_finds_only_that_peers_matches() {
        let mut log = crate::history::History::default();
        for (port, bytes) in [(A, &b"ping "[..]), (B, b"pi"), (A, b"ng "), (B, b"ng ping")] {
            log.push(chunk(Direction::Rx, port, bytes));
        }
        let search = |peer_filter: Option<u16>| {
            let options = crate::view::ViewOptions {
                peer_filter: peer_filter.map(|port| SocketAddr::from(([127, 0, 0, 1], port))),
                ..crate::view::ViewOptions::STREAM
            };
            let mut view = crate::view::View::new(options);
            view.append(&log);
            while view.catching_up() {
                view.append(&log);
            }
            let query = Query::new(FindMode::Text, "ping", TextEncoding::UTF8)
                .expect("ok")
                .expect("some");
            let mut matches = Vec::new();
            let snapshot = view.snapshot();
            run(
                query,
                snapshot.numbered(),
                Duration::ZERO,
                || false,
                |b| matches.extend(b.matches),
            );
            matches
        };
        assert_eq!(search(None), [at(0, 0), at(1, 0), at(3, 3)]);
        assert_eq!(search(Some(B)), [at(1, 0), at(3, 3)]);
        assert_eq!(search(Some(A)), [at(0, 0)]);
    }

    #[test]
    fn a_search_stops_counting_at_the_cap_and_when_cancelled() {
        let chunks = [chunk(Direction::Rx, A, &vec![b'a'; MAX_MATCHES + 5])];
        let query = || {
            Query::new(FindMode::Text, "a", TextEncoding::UTF8)
                .expect("ok")
                .expect("some")
        };
        let mut batches = Vec::new();
        run(
            query(),
            [(0, &chunks[0])],
            Duration::ZERO,
            || false,
            |b| batches.push(b),
        );
        let total: usize = batches.iter().map(|b| b.matches.len()).sum();
        assert_eq!(total, MAX_MATCHES);
        assert!(batches.last().is_some_and(|b| b.done && b.capped));
        let mut delivered = 0;
        run(query(), [(0, &chunks[0])], Duration::ZERO, || true, |_| delivered += 1);
        assert_eq!(delivered, 0);
    }

    #[test]
    fn highlights_as_rows_show_the_pattern() {
        let query = Query::new(FindMode::Text, "你好", TextEncoding::GBK)
            .expect("ok")
            .expect("some");
        let hex = query.highlight(true).expect("hex rows");
        assert_eq!(hex.ranges("41 C4 E3 BA C3"), vec![(3..14)]);
        let text = query.highlight(false).expect("text rows");
        assert_eq!(text.ranges("a你好b你好"), [1..7, 8..14]);
        let regex = Query::new(FindMode::Regex, r"\d+", TextEncoding::UTF8)
            .expect("ok")
            .expect("some");
        assert!(regex.highlight(true).is_none());
        assert_eq!(regex.highlight(false).expect("text").ranges("a12b3"), [1..3, 4..5]);
    }
}
