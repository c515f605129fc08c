//! Splitting one peer's byte stream into messages. A TCP read boundary means nothing: "the reply to my request" is a
//! line, a run up to a delimiter, a length-prefixed record or a burst followed by silence. Pure: a [`Framer`] per
//! peer is fed reads (with their arrival time, for gaps) and hands out whole messages; a partial one waits.
//!
//! Every byte comes out exactly once, in order. A message that would outgrow [`MAX_MESSAGE`] (a line that never
//! ends, a length field claiming gigabytes) comes out in parts of that size instead of holding memory without bound.
use std::fmt;
use std::ops::Range;
use std::str::FromStr;
use std::time::{Duration, Instant};

use super::find_bytes;
use super::hex::{HexError, parse_hex};

/// The most a message holds before it is handed out in parts.
pub const MAX_MESSAGE: usize = 16 << 20;
/// The longest delimiter accepted (a long "delimiter" is a typo for something else).
pub const MAX_DELIMITER: usize = 64;

/// How a stream is cut into messages; the command line's `--frame` (its syntax: docs/file-formats.md, "Framing").
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Framing {
    /// Each read is a message.
    #[default]
    None,
    /// Up to and including `\n` (a `\r` before it belongs to the line ending too).
    Line,
    /// Up to and including these bytes.
    Delimiter(Vec<u8>),
    /// A length field, then that many bytes.
    Length(LengthPrefix),
    /// What arrives with no pause of this long in between.
    Gap(Duration),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LengthPrefix {
    pub width: Width,
    pub big_endian: bool,
    /// Whether the length counts the field itself (the whole record) or only what follows it.
    pub counts_header: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    U8,
    U16,
    U32,
}

impl Width {
    pub fn bytes(self) -> usize {
        match self {
            Width::U8 => 1,
            Width::U16 => 2,
            Width::U32 => 4,
        }
    }
}

/// Why a `--frame` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    #[error(
        "unknown framing \"{0}\": expected none, line, delim:HEX, len:u8, len:u16be, len:u16le, len:u32be, \
         len:u32le (add +header when the length counts itself) or gap:MS"
    )]
    Unknown(String),
    #[error("bad delimiter: {0}")]
    Delimiter(#[from] HexError),
    #[error("the delimiter is empty")]
    EmptyDelimiter,
    #[error("the delimiter is {0} bytes; at most {MAX_DELIMITER}")]
    LongDelimiter(usize),
    #[error("bad gap \"{0}\": expected whole milliseconds from 1 to 3600000")]
    Gap(String),
}

impl FromStr for Framing {
    type Err = FramingError;

    fn from_str(text: &str) -> Result<Framing, FramingError> {
        let unknown = || FramingError::Unknown(text.to_owned());
        let (kind, arg) = text.split_once(':').unwrap_or((text, ""));
        match (kind, arg) {
            ("none", "") => Ok(Framing::None),
            ("line", "") => Ok(Framing::Line),
            ("delim", hex) => {
                let delimiter = parse_hex(hex)?;
                match delimiter.len() {
                    0 => Err(FramingError::EmptyDelimiter),
                    n if n > MAX_DELIMITER => Err(FramingError::LongDelimiter(n)),
                    _ => Ok(Framing::Delimiter(delimiter)),
                }
            }
            ("len", spec) => {
                let (spec, counts_header) = match spec.strip_suffix("+header") {
                    Some(spec) => (spec, true),
                    None => (spec, false),
                };
                let (width, big_endian) = match spec {
                    "u8" => (Width::U8, true),
                    "u16be" => (Width::U16, true),
                    "u16le" => (Width::U16, false),
                    "u32be" => (Width::U32, true),
                    "u32le" => (Width::U32, false),
                    _ => return Err(unknown()),
                };
                Ok(Framing::Length(LengthPrefix {
                    width,
                    big_endian,
                    counts_header,
                }))
            }
            ("gap", ms) => match ms.parse::<u64>() {
                Ok(ms @ 1..=3_600_000) => Ok(Framing::Gap(Duration::from_millis(ms))),
                _ => Err(FramingError::Gap(ms.to_owned())),
            },
            _ => Err(unknown()),
        }
    }
}

impl fmt::Display for Framing {
    /// The `--frame` spelling, which parses back to the same framing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Framing::None => f.write_str("none"),
            Framing::Line => f.write_str("line"),
            Framing::Delimiter(bytes) => write!(f, "delim:{}", super::hex::to_hex(bytes).replace(' ', "")),
            Framing::Length(prefix) => {
                let width = match prefix.width {
                    Width::U8 => "u8",
                    Width::U16 => "u16",
                    Width::U32 => "u32",
                };
                let order = match (prefix.width, prefix.big_endian) {
                    (Width::U8, _) => "",
                    (_, true) => "be",
                    (_, false) => "le",
                };
                let header = if prefix.counts_header { "+header" } else { "" };
                write!(f, "len:{width}{order}{header}")
            }
            Framing::Gap(gap) => write!(f, "gap:{}", gap.as_millis()),
        }
    }
}

/// How a message ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Its framing says it is whole.
    Whole,
    /// A piece of a message too big to hold (see [`MAX_MESSAGE`]); more of it follows.
    Part,
    /// What was left when the stream ended (the peer left) or the gap passed: no framing said it was whole.
    Cut,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Every byte of it, framing included.
    pub bytes: Vec<u8>,
    /// The payload within `bytes`: without the line ending, the delimiter or the length field.
    pub body: Range<usize>,
    pub end: End,
}

impl Message {
    pub fn body(&self) -> &[u8] {
        &self.bytes[self.body.clone()]
    }

    fn unframed(bytes: Vec<u8>, end: End) -> Message {
        Message {
            body: 0..bytes.len(),
            bytes,
            end,
        }
    }
}

/// A message found at the front of a buffer: its length and its body's range.
#[derive(Debug, PartialEq, Eq)]
enum Split {
    Message(usize, Range<usize>),
    /// Not whole yet; the first `usize` bytes need not be looked at again.
    Incomplete(usize),
}

/// One peer's stream being cut into messages.
#[derive(Debug)]
pub struct Framer {
    framing: Framing,
    buf: Vec<u8>,
    /// Bytes at the front of `buf` already searched for a line ending or delimiter.
    scanned: usize,
    /// What is left of a message too big to hold, handed out in parts as it arrives.
    oversize_left: usize,
    /// When the last read arrived (gap framing).
    last_read: Option<Instant>,
    /// The most a message holds before it is handed out in parts: `MAX_MESSAGE`, or less while many peers hold
    /// partial messages at once (see `set_limit`).
    limit: usize,
}

impl Framer {
    pub fn new(framing: Framing) -> Framer {
        Framer {
            framing,
            buf: Vec::new(),
            scanned: 0,
            oversize_left: 0,
            last_read: None,
            limit: MAX_MESSAGE,
        }
    }

    /// Holds at most `limit` bytes (`MAX_DELIMITER` to `MAX_MESSAGE`: a delimiter or length field always fits)
    /// from now on: a message longer than that comes out in parts.
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit.clamp(MAX_DELIMITER, MAX_MESSAGE);
    }

    /// Bytes waiting for the rest of their message.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Takes a read that arrived at `at`, and appends the messages it completes to `out`.
    pub fn push(&mut self, data: &[u8], at: Instant, out: &mut Vec<Message>) {
        self.push_with(data, at, |bytes, body, end| {
            out.push(Message {
                bytes: bytes.to_vec(),
                body,
                end,
            })
        });
    }

    /// `push`, handing each message completed to `each` as its bytes, body range and end, without a copy of its own
    /// (a consumer that only looks at messages need not allocate one for each).
    pub fn push_with(&mut self, data: &[u8], at: Instant, mut each: impl FnMut(&[u8], Range<usize>, End)) {
        match &self.framing {
            Framing::None => {
                if !data.is_empty() {
                    each(data, 0..data.len(), End::Whole);
                }
                return;
            }
            Framing::Gap(_) => {
                if self.deadline().is_some_and(|due| at >= due)
                    && let Some(message) = self.finish()
                {
                    each(&message.bytes, message.body, message.end);
                }
                self.last_read = Some(at);
            }
            _ => {}
        }
        let mut data = data;
        while !data.is_empty() {
            if self.oversize_left > 0 {
                let n = self.oversize_left.min(data.len());
                each(&data[..n], 0..n, End::Part);
                self.oversize_left -= n;
                data = &data[n..];
                continue;
            }
            if self.buf.is_empty() && !matches!(self.framing, Framing::Gap(_)) {
                // Nothing held: whole messages come straight from the read, and only an unfinished one is kept.
                while let Split::Message(len, body) = split(&self.framing, data, 0) {
                    each(&data[..len], body, End::Whole);
                    data = &data[len..];
                }
                if data.is_empty() {
                    break;
                }
            }
            // Never hold more than the limit: take what fits, cut it, then go on with the rest (a lowered limit
            // may leave no room at all: `cut` hands out what is held then).
            let room = self.limit.saturating_sub(self.buf.len());
            let n = room.min(data.len());
            self.buf.extend_from_slice(&data[..n]);
            data = &data[n..];
            self.cut(&mut each);
        }
    }

    /// When the gap after the last read ends the message being gathered (gap framing with data waiting).
    pub fn deadline(&self) -> Option<Instant> {
        match self.framing {
            Framing::Gap(gap) if !self.buf.is_empty() => self.last_read.and_then(|at| at.checked_add(gap)),
            _ => None,
        }
    }

    /// The message the gap ended, once `now` is past the deadline.
    pub fn expire(&mut self, now: Instant) -> Option<Message> {
        if self.deadline().is_some_and(|due| now >= due) {
            self.finish()
        } else {
            None
        }
    }

    /// What is left when the stream ends: the bytes of an unfinished message.
    pub fn finish(&mut self) -> Option<Message> {
        self.scanned = 0;
        self.oversize_left = 0;
        if self.buf.is_empty() {
            return None;
        }
        let end = match self.framing {
            Framing::Gap(_) => End::Whole,
            _ => End::Cut,
        };
        Some(Message::unframed(std::mem::take(&mut self.buf), end))
    }

    /// Hands out every whole message at the front of `buf`.
    fn cut(&mut self, each: &mut impl FnMut(&[u8], Range<usize>, End)) {
        let mut start = 0;
        loop {
            match split(&self.framing, &self.buf[start..], self.scanned) {
                Split::Message(len, body) => {
                    each(&self.buf[start..start + len], body, End::Whole);
                    start += len;
                    self.scanned = 0;
                }
                Split::Incomplete(scanned) => {
                    self.scanned = scanned;
                    break;
                }
            }
        }
        self.buf.drain(..start);
        if let Framing::Length(prefix) = self.framing
            && let Some(total) = record_len(prefix, &self.buf)
            && total > self.limit
        {
            // Too big to hold: what is here goes out now, the rest as it arrives.
            self.oversize_left = total - self.buf.len();
            let part = std::mem::take(&mut self.buf);
            each(&part, 0..part.len(), End::Part);
        } else if self.buf.len() >= self.limit {
            let part = std::mem::take(&mut self.buf);
            each(&part, 0..part.len(), End::Part);
            self.scanned = 0;
        }
    }
}

/// The whole record's length a length prefix announces, once its field is in.
fn record_len(prefix: LengthPrefix, buf: &[u8]) -> Option<usize> {
    let width = prefix.width.bytes();
    let field = buf.get(..width)?;
    let mut word = [0u8; 4];
    let value = if prefix.big_endian {
        word[4 - width..].copy_from_slice(field);
        u32::from_be_bytes(word)
    } else {
        word[..width].copy_from_slice(field);
        u32::from_le_bytes(word)
    };
    let value = usize::try_from(value).unwrap_or(usize::MAX);
    // A length that counts the field but is shorter than it is malformed: taken as the field alone.
    Some(if prefix.counts_header {
        value.max(width)
    } else {
        value.saturating_add(width)
    })
}

fn split(framing: &Framing, buf: &[u8], scanned: usize) -> Split {
    match framing {
        Framing::None | Framing::Gap(_) => Split::Incomplete(buf.len()),
        Framing::Line => match memchr::memchr(b'\n', &buf[scanned..]) {
            Some(at) => {
                let end = scanned + at;
                let body_end = if end > 0 && buf[end - 1] == b'\r' { end - 1 } else { end };
                Split::Message(end + 1, 0..body_end)
            }
            None => Split::Incomplete(buf.len()),
        },
        Framing::Delimiter(delimiter) => {
            // A delimiter may straddle the last search's end.
            let from = scanned.saturating_sub(delimiter.len() - 1);
            match find_bytes(&buf[from..], delimiter) {
                Some(at) => Split::Message(from + at + delimiter.len(), 0..from + at),
                None => Split::Incomplete(buf.len()),
            }
        }
        Framing::Length(prefix) => match record_len(*prefix, buf) {
            Some(total) if total <= buf.len() => Split::Message(total, prefix.width.bytes()..total),
            _ => Split::Incomplete(0),
        },
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn frame(spec: &str, reads: &[&[u8]]) -> Vec<(Vec<u8>, Vec<u8>, End)> {
        let mut framer = Framer::new(spec.parse().expect("framing"));
        let mut out = Vec::new();
        let at = Instant::now();
        for read in reads {
            framer.push(read, at, &mut out);
        }
        out.extend(framer.finish());
        out.into_iter().map(|m| (m.body().to_vec(), m.bytes, m.end)).collect()
    }

    fn bodies(spec: &str, reads: &[&[u8]]) -> Vec<Vec<u8>> {
        frame(spec, reads).into_iter().map(|(body, _, _)| body).collect()
    }

    #[test]
    fn the_command_line_spellings_parse_and_print_back() {
        for spec in [
            "none",
            "line",
            "delim:0D0A",
            "delim:7E",
            "len:u8",
            "len:u16be",
            "len:u16le",
            "len:u32be",
            "len:u32le",
            "len:u16be+header",
            "gap:20",
        ] {
            let framing: Framing = spec.parse().expect(spec);
            assert_eq!(framing.to_string(), spec);
        }
        assert_eq!("delim:0d 0a".parse(), Ok(Framing::Delimiter(vec![13, 10])));
    }

    #[test]
    fn bad_spellings_say_what_is_wrong() {
        let error = |spec: &str| spec.parse::<Framing>().expect_err(spec).to_string();
        assert!(error("lines").starts_with("unknown framing \"lines\""));
        assert!(error("len:u24").starts_with("unknown framing \"len:u24\""));
        assert_eq!(error("delim:0G"), "bad delimiter: bad hex digit 'G' at position 2");
        assert_eq!(error("delim:"), "the delimiter is empty");
        assert_eq!(
            error(&format!("delim:{}", "00".repeat(65))),
            "the delimiter is 65 bytes; at most 64"
        );
        for gap in ["gap:0", "gap:-1", "gap:x", "gap:99999999999999999999", "gap:3600001"] {
            assert!(error(gap).starts_with("bad gap"), "{gap}");
        }
    }

    #[test]
    fn lines_end_at_lf_or_crlf_and_a_line_may_span_reads() {
        assert_eq!(
            bodies("line", &[b"one\r\ntw", b"o\nthr", b"ee\r", b"\nfour"]),
            [&b"one"[..], b"two", b"three", b"four"]
        );
        let last = frame("line", &[b"a\nb"]).pop().expect("b");
        assert_eq!(last.2, End::Cut, "an unfinished line is cut when the stream ends");
    }

    #[test]
    fn a_delimiter_split_across_reads_is_found() {
        assert_eq!(
            bodies(
                "delim:AABBCC",
                &[b"x\xAA", b"\xBB", b"\xCCy\xAA\xBB\xCC", b"\xAA\xBB\xCC"]
            ),
            [&b"x"[..], b"y", b""]
        );
        let (body, bytes, end) = frame("delim:7E", &[b"ab~"]).remove(0);
        assert_eq!((body, bytes, end), (b"ab".to_vec(), b"ab~".to_vec(), End::Whole));
    }

    #[test]
    fn length_prefixes_in_each_width_and_order() {
        assert_eq!(bodies("len:u8", &[b"\x03abc\x00\x01z"]), [&b"abc"[..], b"", b"z"]);
        assert_eq!(bodies("len:u16be", &[b"\x00", b"\x02h", b"i"]), [b"hi"]);
        assert_eq!(bodies("len:u16le", &[b"\x02\x00hi"]), [b"hi"]);
        assert_eq!(bodies("len:u32be", &[b"\x00\x00\x00\x01!"]), [b"!"]);
        assert_eq!(bodies("len:u32le", &[b"\x01\x00\x00\x00!"]), [b"!"]);
        // Counting the header: 4 = the field and two bytes.
        assert_eq!(bodies("len:u16be+header", &[b"\x00\x04hi\x00\x02"]), [&b"hi"[..], b""]);
        // Shorter than its own field: taken as the field alone, and the stream goes on.
        assert_eq!(bodies("len:u8+header", &[b"\x00\x02z"]), [&b""[..], b"z"]);
    }

    #[test]
    fn a_message_bigger_than_one_read_waits_for_all_of_it() {
        let body: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
        let mut stream = (body.len() as u32).to_be_bytes().to_vec();
        stream.extend_from_slice(&body);
        let reads: Vec<&[u8]> = stream.chunks(4096).collect();
        let messages = frame("len:u32be", &reads);
        assert_eq!(messages.len(), 1);
        assert!(messages[0].0 == body);
        assert_eq!(messages[0].2, End::Whole);
    }

    #[test]
    fn a_claimed_length_past_the_limit_comes_out_in_parts() {
        let mut framer = Framer::new("len:u32be".parse().expect("framing"));
        let mut out = Vec::new();
        let claimed = MAX_MESSAGE + 10;
        let mut first = (claimed as u32).to_be_bytes().to_vec();
        first.extend_from_slice(b"abc");
        framer.push(&first, Instant::now(), &mut out);
        assert_eq!(framer.pending(), 0, "nothing held for a record that big");
        // The rest of its body, and the next record in the same read.
        let mut rest = vec![1; claimed - 3];
        rest.extend_from_slice(b"\x00\x00\x00\x01z");
        framer.push(&rest, Instant::now(), &mut out);
        let parts: usize = out.iter().filter(|m| m.end == End::Part).map(|m| m.bytes.len()).sum();
        assert_eq!(parts, 4 + claimed, "the field and the body, every byte once");
        let last = out.last().expect("the next record");
        assert_eq!(
            (last.body(), last.end),
            (&b"z"[..], End::Whole),
            "framing resumes after it"
        );
    }

    #[test]
    fn the_limits_themselves_are_allowed() {
        let longest = format!("delim:{}", "7E".repeat(MAX_DELIMITER));
        assert_eq!(longest.parse(), Ok(Framing::Delimiter(vec![0x7E; MAX_DELIMITER])));
        // A record of exactly MAX_MESSAGE bytes is one whole message.
        let mut record = ((MAX_MESSAGE - 4) as u32).to_be_bytes().to_vec();
        record.resize(MAX_MESSAGE, 9);
        let mut framer = Framer::new("len:u32be".parse().expect("framing"));
        let mut out = Vec::new();
        framer.push(&record[..100], Instant::now(), &mut out);
        assert!(out.is_empty(), "it waits for the rest, as for any record that fits");
        framer.push(&record[100..], Instant::now(), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].bytes.len(), out[0].end), (MAX_MESSAGE, End::Whole));
    }

    #[test]
    fn a_line_filled_up_over_two_reads_is_cut_at_the_limit() {
        let mut framer = Framer::new(Framing::Line);
        let mut out = Vec::new();
        framer.push(&vec![b'a'; MAX_MESSAGE - 5], Instant::now(), &mut out);
        assert!(out.is_empty());
        framer.push(&[b'b'; 10], Instant::now(), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].bytes.len(), out[0].end), (MAX_MESSAGE, End::Part));
        assert_eq!(framer.pending(), 5);
    }

    #[test]
    fn a_line_that_never_ends_is_handed_out_at_the_limit() {
        let mut framer = Framer::new(Framing::Line);
        let mut out = Vec::new();
        framer.push(&vec![b'a'; MAX_MESSAGE + 5], Instant::now(), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].bytes.len(), out[0].end), (MAX_MESSAGE, End::Part));
        assert_eq!(framer.pending(), 5);
    }

    #[test]
    fn a_gap_ends_a_message_by_the_clock_or_by_the_next_read() {
        let gap = Duration::from_millis(20);
        let mut framer = Framer::new(Framing::Gap(gap));
        let mut out = Vec::new();
        let t0 = Instant::now();
        framer.push(b"ab", t0, &mut out);
        framer.push(b"cd", t0 + gap / 2, &mut out);
        assert!(out.is_empty());
        assert_eq!(framer.deadline(), Some(t0 + gap / 2 + gap));
        assert_eq!(framer.expire(t0 + gap), None, "not yet");
        let first = framer.expire(t0 + gap / 2 + gap).expect("the gap passed");
        assert_eq!((first.bytes, first.end), (b"abcd".to_vec(), End::Whole));
        assert_eq!(framer.deadline(), None, "nothing waits");
        // A read after the gap, before anyone looked at the clock, ends the one before it.
        framer.push(b"ef", t0 + 5 * gap, &mut out);
        framer.push(b"gh", t0 + 7 * gap, &mut out);
        assert_eq!(out.iter().map(|m| m.bytes.clone()).collect::<Vec<_>>(), [b"ef"]);
    }

    #[test]
    fn none_hands_out_each_read() {
        assert_eq!(bodies("none", &[b"a", b"", b"bc"]), [&b"a"[..], b"bc"]);
    }

    fn framing() -> impl Strategy<Value = Framing> {
        prop_oneof![
            Just(Framing::Line),
            prop::collection::vec(any::<u8>(), 1..4).prop_map(Framing::Delimiter),
            (0..3usize, any::<bool>(), any::<bool>()).prop_map(|(w, big_endian, counts_header)| {
                Framing::Length(LengthPrefix {
                    width: [Width::U8, Width::U16, Width::U32][w],
                    big_endian,
                    counts_header,
                })
            }),
        ]
    }

    fn merge_parts(messages: Vec<Message>) -> Vec<Message> {
        let mut merged: Vec<Message> = Vec::new();
        for message in messages {
            match merged.last_mut() {
                Some(last) if last.end == End::Part && message.end == End::Part => {
                    last.bytes.extend_from_slice(&message.bytes);
                    last.body = 0..last.bytes.len();
                }
                _ => merged.push(message),
            }
        }
        merged
    }

    proptest! {
        /// However the stream is cut into reads: every byte comes out once and in order, and the same messages.
        #[test]
        fn reads_do_not_change_the_messages(
            framing in framing(),
            stream in prop::collection::vec(prop_oneof![Just(b'\n'), Just(0u8), Just(1u8), any::<u8>()], 0..300),
            cuts in prop::collection::vec(0..300usize, 0..10),
        ) {
            let whole = {
                let mut framer = Framer::new(framing.clone());
                let mut out = Vec::new();
                framer.push(&stream, Instant::now(), &mut out);
                out.extend(framer.finish());
                out
            };
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(stream.len())).collect();
            cuts.push(0);
            cuts.push(stream.len());
            cuts.sort_unstable();
            let mut framer = Framer::new(framing);
            let mut pieces = Vec::new();
            for pair in cuts.windows(2) {
                framer.push(&stream[pair[0]..pair[1]], Instant::now(), &mut pieces);
            }
            pieces.extend(framer.finish());
            // Parts of an oversize record follow the reads; what they add up to does not.
            prop_assert_eq!(merge_parts(pieces), merge_parts(whole.clone()));
            let joined: Vec<u8> = whole.iter().flat_map(|m| m.bytes.iter().copied()).collect();
            prop_assert_eq!(joined, stream);
        }
    }
}
