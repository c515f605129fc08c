//! Text encodings: the dropdown list, an encoder that refuses what it cannot represent, and a
//! streaming decoder per peer so a character split across two reads still decodes right.

use std::fmt;
use std::mem::MaybeUninit;
use std::str::FromStr;
use std::sync::OnceLock;

use encoding_rs::{CoderResult, Decoder, EncoderResult, Encoding};

/// Why text could not be converted; positions are 1-based characters in the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("unknown encoding \"{name}\" (try {})", choices())]
    UnknownEncoding { name: String },
    #[error("'{ch}' at position {position} cannot be encoded in {encoding}")]
    Unencodable {
        ch: char,
        position: usize,
        encoding: &'static str,
    },
}

/// The dropdown names, for error messages.
fn choices() -> String {
    let names: Vec<_> = TextEncoding::all().iter().map(TextEncoding::name).collect();
    names.join(", ")
}

/// A text encoding, chosen by name. Serialized as its name so settings stay readable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextEncoding(&'static Encoding);

/// Names people type that the WHATWG label list (used by `Encoding::for_label`) lacks.
const EXTRA_ALIASES: &[(&str, TextEncoding)] = &[
    ("cp936", TextEncoding::GBK),
    ("utf16le", TextEncoding(&encoding_rs::UTF_16LE_INIT)),
    ("utf16be", TextEncoding(&encoding_rs::UTF_16BE_INIT)),
    ("eucjp", TextEncoding(&encoding_rs::EUC_JP_INIT)),
    ("euckr", TextEncoding(&encoding_rs::EUC_KR_INIT)),
    ("shiftjis", TextEncoding(&encoding_rs::SHIFT_JIS_INIT)),
];

/// The dropdown list: what people debugging devices in East Asia and Europe actually meet.
static ALL: [TextEncoding; 10] = [
    TextEncoding::UTF8,
    TextEncoding::GBK,
    TextEncoding(&encoding_rs::GB18030_INIT),
    TextEncoding(&encoding_rs::BIG5_INIT),
    TextEncoding(&encoding_rs::SHIFT_JIS_INIT),
    TextEncoding(&encoding_rs::EUC_JP_INIT),
    TextEncoding(&encoding_rs::EUC_KR_INIT),
    TextEncoding(&encoding_rs::WINDOWS_1252_INIT),
    TextEncoding(&encoding_rs::UTF_16LE_INIT),
    TextEncoding(&encoding_rs::UTF_16BE_INIT),
];

impl TextEncoding {
    pub const UTF8: TextEncoding = TextEncoding(&encoding_rs::UTF_8_INIT);
    pub const GBK: TextEncoding = TextEncoding(&encoding_rs::GBK_INIT);

    /// Looks an encoding up by name or alias, ignoring case (`GB2312`, `sjis`, `latin1`, …).
    pub fn from_name(name: &str) -> Result<Self, TextError> {
        let label = name.trim();
        EXTRA_ALIASES
            .iter()
            .find(|(alias, _)| alias.eq_ignore_ascii_case(label))
            .map(|&(_, encoding)| encoding)
            // "replacement" is not something anyone can send or read, so it is not offered.
            .or_else(|| Encoding::for_label_no_replacement(label.as_bytes()).map(TextEncoding))
            .ok_or_else(|| TextError::UnknownEncoding { name: name.to_owned() })
    }

    /// Lowercase short name for the dropdown list; other encodings keep their WHATWG name
    /// (e.g. "ISO-8859-2"), which `from_name` accepts back.
    pub fn name(&self) -> &'static str {
        match self.0.name() {
            "UTF-8" => "utf-8",
            "GBK" => "gbk",
            "Big5" => "big5",
            "Shift_JIS" => "shift_jis",
            "EUC-JP" => "euc-jp",
            "EUC-KR" => "euc-kr",
            "UTF-16LE" => "utf-16le",
            "UTF-16BE" => "utf-16be",
            other => other,
        }
    }

    /// The encodings offered in the dropdown, in display order.
    pub fn all() -> &'static [TextEncoding] {
        &ALL
    }

    /// Encodes `text`, refusing characters the encoding cannot represent: a device expecting
    /// GBK must not silently receive "&#128512;" instead of an emoji.
    pub fn encode(&self, text: &str) -> Result<Vec<u8>, TextError> {
        // encoding_rs only encodes UTF-16 as UTF-8 (the web never sends UTF-16), so do it here.
        if self.0 == encoding_rs::UTF_16LE {
            return Ok(text.encode_utf16().flat_map(u16::to_le_bytes).collect());
        }
        if self.0 == encoding_rs::UTF_16BE {
            return Ok(text.encode_utf16().flat_map(u16::to_be_bytes).collect());
        }
        let mut encoder = self.0.new_encoder();
        let mut out = Vec::new();
        let mut read = 0;
        loop {
            let rest = &text[read..];
            let needed = encoder
                .max_buffer_length_from_utf8_without_replacement(rest.len())
                .unwrap_or(rest.len());
            out.reserve(needed);
            let (result, consumed) = encoder.encode_from_utf8_to_vec_without_replacement(rest, &mut out, true);
            read += consumed;
            match result {
                EncoderResult::InputEmpty => return Ok(out),
                EncoderResult::OutputFull => {}
                // The unmappable character is the last one consumed.
                EncoderResult::Unmappable(ch) => {
                    return Err(TextError::Unencodable {
                        ch,
                        position: text[..read].chars().count(),
                        encoding: self.name(),
                    });
                }
            }
        }
    }

    /// A decoder for one byte stream (one peer): keeps an incomplete character between reads.
    pub fn decoder(&self) -> StreamDecoder {
        StreamDecoder::new(self.0, Carry::default())
    }

    /// A decoder that continues a stream whose decoder held `carry` (see [`StreamDecoder::carry`]).
    /// ISO-2022-JP's mode is not in a carry: such a decoder starts in ASCII mode.
    pub fn resume(&self, carry: Carry) -> StreamDecoder {
        StreamDecoder::new(self.0, carry)
    }

    /// Decodes a complete byte string exactly: `None` if any sequence is malformed.
    pub fn decode_exact(&self, bytes: &[u8]) -> Option<String> {
        self.0
            .decode_without_bom_handling_and_without_replacement(bytes)
            .map(|text| text.into_owned())
    }

    /// Whether ASCII bytes mean ASCII characters (every encoding offered but UTF-16).
    pub fn is_ascii_compatible(&self) -> bool {
        self.0.is_ascii_compatible()
    }

    /// Decodes a complete byte string; malformed sequences become U+FFFD.
    pub fn decode_all(&self, bytes: &[u8]) -> String {
        self.0.decode_without_bom_handling(bytes).0.into_owned()
    }
}

impl Default for TextEncoding {
    fn default() -> Self {
        Self::UTF8
    }
}

impl FromStr for TextEncoding {
    type Err = TextError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::from_name(name)
    }
}

impl fmt::Display for TextEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for TextEncoding {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for TextEncoding {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::from_name(&name).map_err(serde::de::Error::custom)
    }
}

/// The bytes of an unfinished character a stream decoder holds between chunks (at most 3 in every
/// encoding it handles). `Copy`, so the view keeps one per chunk and can decode any chunk again on
/// its own, exactly as the stream decoded it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Carry {
    bytes: [u8; 3],
    len: u8,
}

impl Carry {
    fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The last `len` bytes of `head` followed by `tail`.
    fn tail_of(head: &[u8], tail: &[u8], len: usize) -> Carry {
        let mut carry = Carry::default();
        let from_tail = len.min(tail.len());
        let from_head = len - from_tail;
        carry.bytes[..from_head].copy_from_slice(&head[head.len() - from_head..]);
        carry.bytes[from_head..len].copy_from_slice(&tail[tail.len() - from_tail..]);
        carry.len = len as u8;
        carry
    }
}

/// How an encoding's decoder can be in the middle of a character, which decides how the bytes it
/// holds between chunks are found. Every state is a suffix of the input except ISO-2022-JP's mode.
#[derive(Clone, Copy)]
enum Family {
    /// Decoded here: malformed runs in random bytes are 10× faster than in encoding_rs.
    Utf8,
    Utf16 {
        big_endian: bool,
    },
    /// GBK and GB18030 (one WHATWG decoder): up to 3 bytes of a 4-byte sequence.
    Gb18030,
    /// Big5, EUC-KR, Shift_JIS: one lead byte.
    LeadTrail(fn(u8) -> bool),
    /// A lead byte, or 0x8F and a lead byte (JIS X 0212).
    EucJp,
    SingleByte,
    /// A mode that lasts across characters: kept in an encoding_rs decoder.
    Stateful,
}

impl Family {
    fn of(encoding: &'static Encoding) -> Family {
        if encoding == encoding_rs::UTF_8 {
            Family::Utf8
        } else if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
            Family::Utf16 {
                big_endian: encoding == encoding_rs::UTF_16BE,
            }
        } else if encoding == encoding_rs::GBK || encoding == encoding_rs::GB18030 {
            Family::Gb18030
        } else if encoding == encoding_rs::BIG5 || encoding == encoding_rs::EUC_KR {
            Family::LeadTrail(|byte| matches!(byte, 0x81..=0xFE))
        } else if encoding == encoding_rs::SHIFT_JIS {
            Family::LeadTrail(|byte| matches!(byte, 0x81..=0x9F | 0xE0..=0xFC))
        } else if encoding == encoding_rs::EUC_JP {
            Family::EucJp
        } else if encoding.is_single_byte() {
            Family::SingleByte
        } else {
            Family::Stateful
        }
    }

    /// How many bytes at the end of `carry ++ bytes` are an unfinished character, following the
    /// WHATWG decoders' state machines (only the state, not the output). Each scan starts where
    /// the state is known to be empty: after an ASCII byte (after two for GB18030, whose 4-byte
    /// sequences have ASCII digits in them).
    fn pending(self, carry: &[u8], bytes: &[u8]) -> usize {
        match self {
            Family::Utf8 | Family::SingleByte | Family::Stateful => 0,
            Family::Utf16 { big_endian } => {
                let total = carry.len() + bytes.len();
                let odd = total % 2;
                let unit_at = |i: usize| {
                    if i < carry.len() {
                        carry[i]
                    } else {
                        bytes[i - carry.len()]
                    }
                };
                let whole = total - odd;
                if whole < 2 {
                    return odd;
                }
                let (first, second) = (unit_at(whole - 2), unit_at(whole - 1));
                let unit = if big_endian {
                    u16::from_be_bytes([first, second])
                } else {
                    u16::from_le_bytes([first, second])
                };
                // A lead surrogate waits for its trail.
                odd + if (0xD800..=0xDBFF).contains(&unit) { 2 } else { 0 }
            }
            Family::LeadTrail(is_lead) => scan(carry, bytes, 1, 0u8, |lead, byte| {
                if *lead != 0 {
                    *lead = 0;
                } else if is_lead(byte) {
                    *lead = byte;
                }
                usize::from(*lead != 0)
            }),
            Family::EucJp => scan(carry, bytes, 1, (0u8, false), |(lead, jis0212), byte| {
                if *lead == 0x8E && matches!(byte, 0xA1..=0xDF) {
                    *lead = 0;
                } else if *lead == 0x8F && matches!(byte, 0xA1..=0xFE) {
                    (*lead, *jis0212) = (byte, true);
                } else if *lead != 0 {
                    (*lead, *jis0212) = (0, false);
                } else if matches!(byte, 0x8E | 0x8F | 0xA1..=0xFE) {
                    *lead = byte;
                }
                match (*lead, *jis0212) {
                    (0, _) => 0,
                    (_, true) => 2,
                    (_, false) => 1,
                }
            }),
            Family::Gb18030 => scan(carry, bytes, 2, [0u8; 3], |[first, second, third], byte| {
                // An invalid fourth byte restores the second (ASCII) and third (a first byte),
                // which then pairs with this byte: every path out of the third state ends clean.
                if *third != 0 {
                    (*first, *second, *third) = (0, 0, 0);
                } else if *second != 0 {
                    if matches!(byte, 0x81..=0xFE) {
                        *third = byte;
                    } else {
                        (*first, *second) = (0, 0);
                    }
                } else if *first != 0 {
                    if byte.is_ascii_digit() {
                        *second = byte;
                    } else {
                        *first = 0;
                    }
                } else if matches!(byte, 0x81..=0xFE) {
                    *first = byte;
                }
                [*first, *second, *third].iter().filter(|&&b| b != 0).count()
            }),
        }
    }
}

/// Runs a decoder's state machine over the end of `carry ++ bytes`, from just after the last run
/// of `sync` ASCII bytes (where the state is empty), or from the start; returns what `step` said
/// of the state after the last byte.
fn scan<S>(carry: &[u8], bytes: &[u8], sync: usize, mut state: S, mut step: impl FnMut(&mut S, u8) -> usize) -> usize {
    let mut ascii_run = 0;
    let mut from = None;
    for (i, &byte) in bytes.iter().enumerate().rev() {
        if byte.is_ascii() {
            ascii_run += 1;
            if ascii_run == sync {
                from = Some(i + sync);
                break;
            }
        } else {
            ascii_run = 0;
        }
    }
    let mut pending = 0;
    let rest = match from {
        Some(from) => &bytes[from..],
        None => {
            for &byte in carry {
                pending = step(&mut state, byte);
            }
            bytes
        }
    };
    for &byte in rest {
        pending = step(&mut state, byte);
    }
    pending
}

/// Bytes in a UTF-8 sequence that starts with `lead` (0 if it cannot start one).
const fn utf8_len(lead: u8) -> usize {
    match lead {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 0,
    }
}

/// Per first byte: the bytes in its sequence (1 for ASCII, 0 if none starts with it) and the range
/// its second byte must lie in (Unicode's table 3-7).
const UTF8_LEADS: [(u8, u8, u8); 256] = {
    let mut table = [(0, 0x80, 0xBF); 256];
    let mut byte = 0;
    while byte < 256 {
        let lead = byte as u8;
        table[byte].0 = if lead.is_ascii() { 1 } else { utf8_len(lead) as u8 };
        (table[byte].1, table[byte].2) = match lead {
            0xE0 => (0xA0, 0xBF),
            0xED => (0x80, 0x9F),
            0xF0 => (0x90, 0xBF),
            0xF4 => (0x80, 0x8F),
            _ => (0x80, 0xBF),
        };
        byte += 1;
    }
    table
};

/// U+FFFD's UTF-8, in the low bytes of a little-endian word.
const REPLACEMENT: u32 = 0x00BD_BFEF;

/// Per byte taken alone: itself if ASCII, else U+FFFD; the UTF-8 in the low 3 bytes of a
/// little-endian word, its length in the top one.
const UTF8_SINGLE: [u32; 256] = {
    let mut table = [0; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = if byte < 0x80 {
            byte as u32 | 1 << 24
        } else {
            REPLACEMENT | 3 << 24
        };
        byte += 1;
    }
    table
};

/// Decodes UTF-8 with U+FFFD for each maximal invalid subpart (what encoding_rs and
/// `String::from_utf8_lossy` do), keeping an unfinished character at the end in `carry`.
/// encoding_rs restarts its whole decode loop at each malformed sequence; the branches of a per-byte
/// loop are a coin toss on random bytes. Here each character costs a few table look-ups and
/// comparisons, without a branch on the kind of byte.
fn decode_utf8(carry: &mut Carry, mut bytes: &[u8], out: &mut String) {
    if carry.len > 0 {
        // Complete the held character with the first bytes of this chunk.
        let held = usize::from(carry.len);
        let needed = utf8_len(carry.bytes[0]);
        let take = (needed - held).min(bytes.len());
        let mut buffer = [0; 4];
        buffer[..held].copy_from_slice(carry.as_slice());
        buffer[held..held + take].copy_from_slice(&bytes[..take]);
        let Some(first) = buffer[..held + take].utf8_chunks().next() else {
            return;
        };
        if let Some(ch) = first.valid().chars().next() {
            out.push(ch);
            bytes = &bytes[ch.len_utf8() - held..];
        } else if held + take < needed && first.invalid().len() == held + take {
            // Still a valid start with nothing more to read.
            *carry = Carry::tail_of(&[], &buffer[..held + take], held + take);
            return;
        } else {
            out.push(char::REPLACEMENT_CHARACTER);
            // The invalid part always covers the held bytes: they were a valid start.
            bytes = &bytes[first.invalid().len() - held..];
        }
        *carry = Carry::default();
    }
    // Valid text goes through the standard library's fast validation; from the first error on,
    // one pass over the bytes.
    let i = match std::str::from_utf8(bytes) {
        Ok(text) => return out.push_str(text),
        Err(error) => error.valid_up_to(),
    };
    out.push_str(std::str::from_utf8(&bytes[..i]).unwrap_or_default());
    let room = room(out, 3 * (bytes.len() - i));
    let (i, mut written) = utf8_bulk(bytes, i, room, 0);
    // The last few bytes, zero-padded so every position has 4 to read: a zero is not a continuation
    // byte, so no sequence reaches past the end.
    let left = bytes.len() - i;
    let mut tail = [0; 16];
    tail[..left].copy_from_slice(&bytes[i..]);
    let mut at = 0;
    while at < left {
        let mut four = [0; 4];
        four.copy_from_slice(&tail[at..at + 4]);
        let (len, char_bytes, char_len) = utf8_sequence(four);
        if at + len == left && len < usize::from(UTF8_LEADS[usize::from(four[0])].0) {
            // An unfinished character at the very end: the next chunk may complete it.
            *carry = Carry::tail_of(&[], &tail[at..left], len);
            break;
        }
        put(room, &mut written, char_bytes.to_le_bytes(), char_len);
        at += len;
    }
    // SAFETY: `utf8_bulk` and `put`s of `utf8_sequence`s write whole characters up to `written`.
    unsafe { commit(out, written) };
}

/// Decodes UTF-8 from `bytes[i..]` into `out` from `written` on, while 12 bytes are left; returns where it
/// stopped and where the whole characters written end. 8 bytes per step, and no branch that is a coin toss
/// on random bytes: the bytes before the first lead byte followed by a continuation byte
/// are each one character (ASCII) or one U+FFFD, whatever they are; then the sequence at that lead byte.
fn utf8_bulk(bytes: &[u8], mut i: usize, out: &mut [MaybeUninit<u8>], mut written: usize) -> (usize, usize) {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some((&eight, rest)) = bytes.get(i..).and_then(<[u8]>::split_first_chunk::<8>) {
        let Some(&after) = rest.first_chunk::<4>() else {
            break;
        };
        // At most 8 × 3 + 4 bytes are written a step: one check for all, none per store.
        let Some(room) = out
            .get_mut(written..)
            .and_then(<[MaybeUninit<u8>]>::first_chunk_mut::<64>)
        else {
            break;
        };
        let word = u64::from_le_bytes(eight);
        if word & HIGH == 0 {
            room[..8].copy_from_slice(&eight.map(MaybeUninit::new));
            (i, written) = (i + 8, written + 8);
            continue;
        }
        // Per byte, in its top bit: 11xxxxxx (a lead byte, or C0, C1, F5..FF, which the sequence step
        // handles too) and, for the byte after it, 10xxxxxx.
        let next = (word >> 8) | (u64::from(after[0]) << 56);
        let lead = word & (word << 1) & HIGH;
        let continued = next & !(next << 1) & HIGH;
        let simple = ((lead & continued).trailing_zeros() / 8) as usize;
        let mut at = 0;
        for (k, byte) in eight.into_iter().enumerate() {
            let single = UTF8_SINGLE[usize::from(byte)];
            room[at..at + 4].copy_from_slice(&single.to_le_bytes().map(MaybeUninit::new));
            at += (single >> 24) as usize & usize::from(k < simple).wrapping_neg();
        }
        i += simple;
        // The sequence at the lead byte, if any; written and skipped only then.
        let mut four = [0; 4];
        four.copy_from_slice(&bytes[i..i + 4]);
        let (len, char_bytes, char_len) = utf8_sequence(four);
        let found = usize::from(simple < 8).wrapping_neg();
        room[at..at + 4].copy_from_slice(&char_bytes.to_le_bytes().map(MaybeUninit::new));
        written += at + (char_len & found & 7);
        i += len & found;
    }
    (i, written)
}

/// The sequence starting with `four[0]`: how many bytes it takes (its maximal subpart if malformed), and
/// the UTF-8 it decodes to in the low bytes of a word and their count.
fn utf8_sequence(four: [u8; 4]) -> (usize, u32, usize) {
    let [b0, b1, b2, b3] = four;
    let (needed, low, high) = UTF8_LEADS[usize::from(b0)];
    let second = (needed >= 2) & (low <= b1) & (b1 <= high);
    let third = second & (needed >= 3) & (b2 & 0xC0 == 0x80);
    let fourth = third & (needed >= 4) & (b3 & 0xC0 == 0x80);
    let len = 1 + usize::from(second) + usize::from(third) + usize::from(fourth);
    let whole = usize::from(len == usize::from(needed)).wrapping_neg();
    let char_bytes = (u32::from_le_bytes(four) & whole as u32) | (REPLACEMENT & !whole as u32);
    (len, char_bytes, (len & whole) | (3 & !whole))
}

/// Writes `word` at `at` in `out` and moves `at` past its first `keep` bytes: a fixed-size store
/// instead of a copy of a variable length.
fn put<const N: usize>(out: &mut [MaybeUninit<u8>], at: &mut usize, word: [u8; N], keep: usize) {
    out[*at..*at + N].copy_from_slice(&word.map(MaybeUninit::new));
    *at += keep;
}

/// The spare capacity after `out`'s text, at least `len` bytes plus slack for the widest words
/// written; nothing in it is part of `out` until [`commit`]ted (and nothing is zero-filled).
fn room(out: &mut String, len: usize) -> &mut [MaybeUninit<u8>] {
    // SAFETY: only the spare capacity is handed out; `out`'s text is not touched.
    let bytes = unsafe { out.as_mut_vec() };
    bytes.reserve(len + 64);
    bytes.spare_capacity_mut()
}

/// Appends the first `len` bytes of [`room`] to `out`.
///
/// # Safety
/// They were written, and are whole UTF-8 characters.
unsafe fn commit(out: &mut String, len: usize) {
    // SAFETY: the caller's promise.
    unsafe {
        let bytes = out.as_mut_vec();
        bytes.set_len(bytes.len() + len);
    }
}

/// A double-byte encoding (GBK, GB18030, Big5, Shift_JIS, EUC-KR) decoded by table look-up: what
/// encoding_rs's decoder makes of every byte on its own and of every lead byte with every byte after
/// it, asked once. encoding_rs tests and branches byte by byte and restarts at each malformed
/// sequence, 1 in 2 bytes of random input; here 8 bytes are looked up at once without a branch on
/// their kind.
struct PairTable {
    encoding: &'static Encoding,
    /// Per first byte: where its entries start (low 16 bits) and which bits of the next byte pick one
    /// (0xFF for a lead byte, 0 for a byte that is a character or an error by itself).
    steps: [u32; 256],
    /// Row 0: each byte by itself; the row of a lead byte: it followed by each byte. Per entry: its
    /// UTF-8 in the low 4 bytes (little-endian), their count in bits 32..40, and [`GB18030_FOUR`].
    entries: Box<[u64]>,
}

/// A GB18030 lead byte and an ASCII digit: the start of a four-byte sequence if a byte in
/// 0x81..=0xFE and another digit follow; otherwise an error and the digit (the entry's text).
const GB18030_FOUR: u64 = 1 << 40;

/// Per set of lead bytes among 8 (a bit each), the first of them starting a character: which of the
/// 8 start one (a bit each), and where the next character starts (8, or 9 if the last is a lead byte
/// starting a pair).
const PAIR_STARTS: [(u8, u8); 256] = {
    let mut table = [(0, 0); 256];
    let mut leads = 0;
    while leads < 256 {
        let (mut starts, mut at) = (0, 0);
        while at < 8 {
            starts |= 1 << at;
            at += 1 + (leads >> at & 1);
        }
        table[leads] = (starts as u8, at as u8);
        leads += 1;
    }
    table
};

impl PairTable {
    /// The table for `encoding`, built on first use; `None` for encodings it does not serve.
    fn of(encoding: &'static Encoding) -> Option<&'static PairTable> {
        static SERVED: [&Encoding; 5] = [
            &encoding_rs::GBK_INIT,
            &encoding_rs::GB18030_INIT,
            &encoding_rs::BIG5_INIT,
            &encoding_rs::SHIFT_JIS_INIT,
            &encoding_rs::EUC_KR_INIT,
        ];
        static TABLES: [OnceLock<Option<PairTable>>; 5] = [const { OnceLock::new() }; 5];
        let index = SERVED.iter().position(|&served| served == encoding)?;
        TABLES[index].get_or_init(|| PairTable::build(encoding)).as_ref()
    }

    /// Asks encoding_rs about every byte and every pair starting with a lead byte; `None` if any
    /// answer is not of the shape the table holds (a promise about encoding_rs a test checks).
    fn build(encoding: &'static Encoding) -> Option<PairTable> {
        let four_bytes = encoding == encoding_rs::GB18030 || encoding == encoding_rs::GBK;
        let (steps, entries) = PairTable::tables(four_bytes, |bytes| {
            let mut decoder = encoding.new_decoder_without_bom_handling();
            let mut text = String::new();
            feed(&mut decoder, bytes, &mut text, false);
            let done = text.len();
            feed(&mut decoder, &[], &mut text, true);
            let pending = text.len() > done;
            text.truncate(done);
            (text, pending)
        })?;
        Some(PairTable {
            encoding,
            steps,
            entries,
        })
    }

    /// The steps and entries from `decode`'s answers: the text a fresh decoder makes of some bytes,
    /// and whether it still holds part of a character. `None` if an answer has a shape the table
    /// cannot hold: a byte that makes nothing yet holds nothing (a change of mode), or makes text and
    /// holds more; an unfinished pair other than GB18030's lead byte and digit (`four_bytes`); more
    /// rows than 16 bits can index.
    fn tables(four_bytes: bool, decode: impl Fn(&[u8]) -> (String, bool)) -> Option<([u32; 256], Box<[u64]>)> {
        let entry = |text: &str| {
            let mut word = [0; 4];
            word.get_mut(..text.len())?.copy_from_slice(text.as_bytes());
            Some(u64::from(u32::from_le_bytes(word)) | (text.len() as u64) << 32)
        };
        let mut steps = [0; 256];
        let mut entries = vec![0; 256];
        for byte in 0..=255u8 {
            match decode(&[byte]) {
                (text, false) if !text.is_empty() => {
                    entries[usize::from(byte)] = entry(&text)?;
                    steps[usize::from(byte)] = u32::from(byte);
                }
                (text, true) if text.is_empty() => {
                    steps[usize::from(byte)] =
                        u32::try_from(entries.len()).ok().filter(|&at| at < 1 << 16)? | 0xFF << 16;
                    for next in 0..=255u8 {
                        entries.push(match decode(&[byte, next]) {
                            (text, false) => entry(&text)?,
                            (_, true) if four_bytes && next.is_ascii_digit() => {
                                // What the pair makes when no four-byte sequence follows ("AA").
                                let (text, _) = decode(&[byte, next, b'A', b'A']);
                                entry(text.strip_suffix("AA")?)? | GB18030_FOUR
                            }
                            _ => return None,
                        });
                    }
                }
                _ => return None,
            }
        }
        Some((steps, entries.into_boxed_slice()))
    }

    /// Decodes `bytes[i..]` into `out` from `written` on while 4 bytes are left, from a state with
    /// no character begun; returns where it stopped (again with none begun) and where the written
    /// characters end.
    fn bulk(&self, bytes: &[u8], mut i: usize, out: &mut [MaybeUninit<u8>], mut written: usize) -> (usize, usize) {
        const HIGH: u64 = 0x8080_8080_8080_8080;
        // 8 bytes a step (a pair may take a ninth), looked up all at once: no chain from one
        // character's length to where the next starts, and no branch on the kind of byte.
        while let Some(window) = bytes.get(i..).and_then(<[u8]>::first_chunk::<12>) {
            let Some(room) = out
                .get_mut(written..)
                .and_then(<[MaybeUninit<u8>]>::first_chunk_mut::<64>)
            else {
                break;
            };
            let eight = u64::from_le_bytes(*window.first_chunk().unwrap_or(&[0; 8]));
            if eight & HIGH == 0 {
                room[..8].copy_from_slice(&eight.to_le_bytes().map(MaybeUninit::new));
                (i, written) = (i + 8, written + 8);
                continue;
            }
            let steps: [u32; 8] = std::array::from_fn(|k| self.steps[usize::from(window[k])]);
            let leads = (0..8).fold(0, |leads, k| leads | (steps[k] >> 16 & 1) << k);
            let (starts, next) = PAIR_STARTS[leads as usize];
            let (mut at, mut fours) = (0, 0);
            for (k, &step) in steps.iter().enumerate() {
                let entry = self.entries[(step & 0xFFFF) as usize + (u32::from(window[k + 1]) & step >> 16) as usize];
                fours |= (entry >> 40 & 1) << k;
                let len = (entry >> 32) as usize & 7 & usize::from(starts >> k & 1).wrapping_neg();
                room[at..at + 4].copy_from_slice(&(entry as u32).to_le_bytes().map(MaybeUninit::new));
                at += len;
            }
            // A GB18030 lead byte and a digit, twice, is one four-byte character, not two errors
            // (a pair at 6 or 7 may be the first half: its second is not looked up here).
            if u64::from(starts) & fours & (fours >> 2 | 0xC0) != 0 {
                let end = i + usize::from(next);
                while i < end {
                    (i, written) = self.step(bytes, i, out, written);
                }
                continue;
            }
            (i, written) = (i + usize::from(next), written + at);
        }
        while bytes.len() - i >= 4 {
            (i, written) = self.step(bytes, i, out, written);
        }
        (i, written)
    }

    /// Decodes the character (or error) at `bytes[i..]`, which has 4 bytes or more.
    fn step(&self, bytes: &[u8], i: usize, out: &mut [MaybeUninit<u8>], mut written: usize) -> (usize, usize) {
        let [first, second, third, fourth] = [0, 1, 2, 3].map(|k| bytes[i + k]);
        let step = self.steps[usize::from(first)];
        let mask = step >> 16;
        let entry = self.entries[(step & 0xFFFF) as usize + (u32::from(second) & mask) as usize];
        if (entry & GB18030_FOUR != 0) & matches!(third, 0x81..=0xFE) & fourth.is_ascii_digit() {
            written += self.four_bytes([first, second, third, fourth], &mut out[written..]);
            return (i + 4, written);
        }
        put(
            out,
            &mut written,
            (entry as u32).to_le_bytes(),
            (entry >> 32) as u8 as usize,
        );
        (i + 1 + (mask & 1) as usize, written)
    }

    /// One character or one error for all four bytes of a GB18030 four-byte sequence: rare enough
    /// for encoding_rs. Returns the bytes of UTF-8 written at the start of `out`.
    #[cold]
    #[inline(never)]
    fn four_bytes(&self, bytes: [u8; 4], out: &mut [MaybeUninit<u8>]) -> usize {
        let mut text = [0; 8];
        let (_, _, len, _) = self
            .encoding
            .new_decoder_without_bom_handling()
            .decode_to_utf8(&bytes, &mut text, true);
        let mut written = 0;
        put(out, &mut written, text, len);
        written
    }

    /// Decodes `carry ++ bytes`, keeping an unfinished character at the end in `carry`.
    fn decode(&self, family: Family, carry: &mut Carry, bytes: &[u8], out: &mut String) {
        // The held bytes and the first few of the chunk, so the steps can go on across the seam.
        let held = usize::from(carry.len);
        let take = bytes.len().min(12);
        let mut seam = [0; 16];
        seam[..held].copy_from_slice(carry.as_slice());
        seam[held..held + take].copy_from_slice(&bytes[..take]);
        let seam = &seam[..held + take];
        // At most 3 bytes of UTF-8 per byte: a byte makes at most one character (or error).
        let room = room(out, 3 * (held + bytes.len()));
        let (i, written) = self.bulk(seam, 0, room, 0);
        // Past the held bytes unless the seam is all there is.
        let (rest, i) = if i >= held { (bytes, i - held) } else { (seam, i) };
        let (i, written) = self.bulk(rest, i, room, written);
        // SAFETY: `bulk` writes whole characters up to `written`.
        unsafe { commit(out, written) };
        // The last few bytes, from a state with nothing begun.
        let tail = &rest[i..];
        feed(&mut self.encoding.new_decoder_without_bom_handling(), tail, out, false);
        *carry = Carry::tail_of(&[], tail, family.pending(&[], tail));
    }
}

/// Decodes one byte stream chunk by chunk. BOMs are data here, not hints: a debugging tool
/// shows what arrived and must not switch encodings behind the user's back.
///
/// Between chunks only the bytes of an unfinished character are kept ([`Carry`]), so a decoder
/// can resume anywhere from a saved carry; each chunk gets a fresh encoding_rs decoder.
pub struct StreamDecoder {
    encoding: &'static Encoding,
    family: Family,
    carry: Carry,
    /// ISO-2022-JP's mode outlives characters: that family keeps a real decoder.
    stateful: Option<Decoder>,
}

impl StreamDecoder {
    fn new(encoding: &'static Encoding, carry: Carry) -> StreamDecoder {
        let family = Family::of(encoding);
        StreamDecoder {
            encoding,
            family,
            carry,
            stateful: matches!(family, Family::Stateful).then(|| encoding.new_decoder_without_bom_handling()),
        }
    }

    /// Decodes the next chunk; an incomplete trailing character waits for the next call.
    /// Malformed sequences become U+FFFD.
    pub fn decode(&mut self, bytes: &[u8]) -> String {
        let mut out = String::new();
        self.decode_into(bytes, &mut out);
        out
    }

    /// Like [`decode`](Self::decode), appending to `out`.
    pub fn decode_into(&mut self, bytes: &[u8], out: &mut String) {
        // encoding_rs's Big5, Shift_JIS and EUC-KR decoders forget a pending lead byte when handed no input
        // (an empty UDP datagram), so that byte's U+FFFD would go missing.
        if bytes.is_empty() {
            return;
        }
        match self.family {
            Family::Utf8 => decode_utf8(&mut self.carry, bytes, out),
            Family::Stateful => {
                let decoder = self
                    .stateful
                    .get_or_insert_with(|| self.encoding.new_decoder_without_bom_handling());
                feed(decoder, bytes, out, false);
            }
            family => {
                if let Some(table) = PairTable::of(self.encoding) {
                    return table.decode(family, &mut self.carry, bytes, out);
                }
                let carry = self.carry;
                let pending = family.pending(carry.as_slice(), bytes);
                // The fresh decoder ends holding the same `pending` bytes; they are kept as the carry.
                let mut decoder = self.encoding.new_decoder_without_bom_handling();
                feed(&mut decoder, carry.as_slice(), out, false);
                feed(&mut decoder, bytes, out, false);
                self.carry = Carry::tail_of(carry.as_slice(), bytes, pending);
            }
        }
    }

    /// What this decoder holds between chunks; [`TextEncoding::resume`] continues from it.
    pub fn carry(&self) -> Carry {
        self.carry
    }

    /// Ends the stream: an incomplete trailing character becomes U+FFFD, and the decoder is
    /// ready for a new stream.
    pub fn finish(&mut self) -> String {
        let mut out = String::new();
        let mut decoder = match self.stateful.take() {
            Some(decoder) => decoder,
            None => self.encoding.new_decoder_without_bom_handling(),
        };
        feed(&mut decoder, self.carry.as_slice(), &mut out, true);
        self.carry = Carry::default();
        out
    }
}

/// Runs an encoding_rs decoder over `bytes`, growing `out` as it needs.
fn feed(decoder: &mut Decoder, bytes: &[u8], out: &mut String, last: bool) {
    let mut read = 0;
    loop {
        let rest = &bytes[read..];
        let needed = decoder.max_utf8_buffer_length(rest.len()).unwrap_or(rest.len());
        out.reserve(needed);
        let (result, consumed, _) = decoder.decode_to_string(rest, out, last);
        read += consumed;
        if result == CoderResult::InputEmpty {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Deserialize;
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error as DeError, StrDeserializer};

    fn enc(name: &str) -> TextEncoding {
        TextEncoding::from_name(name).expect(name)
    }

    #[test]
    fn names_and_aliases() {
        let cases = [
            ("utf-8", "utf-8"),
            ("UTF8", "utf-8"),
            ("gbk", "gbk"),
            ("GB2312", "gbk"),
            ("cp936", "gbk"),
            ("gb18030", "gb18030"),
            ("Big5", "big5"),
            ("shift_jis", "shift_jis"),
            ("SJIS", "shift_jis"),
            ("Shift-JIS", "shift_jis"),
            ("euc-jp", "euc-jp"),
            ("EUC-KR", "euc-kr"),
            ("windows-1252", "windows-1252"),
            ("cp1252", "windows-1252"),
            ("latin1", "windows-1252"),
            ("utf-16le", "utf-16le"),
            ("UTF-16BE", "utf-16be"),
            (" koi8-r ", "KOI8-R"),
            ("iso-8859-2", "ISO-8859-2"),
        ];
        for (input, name) in cases {
            assert_eq!(enc(input).name(), name, "input {input:?}");
        }
    }

    #[test]
    fn dropdown_names_round_trip() {
        let names: Vec<_> = TextEncoding::all().iter().map(|e| e.name()).collect();
        assert_eq!(
            names,
            [
                "utf-8",
                "gbk",
                "gb18030",
                "big5",
                "shift_jis",
                "euc-jp",
                "euc-kr",
                "windows-1252",
                "utf-16le",
                "utf-16be"
            ]
        );
        for &encoding in TextEncoding::all() {
            assert_eq!(encoding.name().parse(), Ok(encoding));
            assert_eq!(encoding.to_string(), encoding.name());
        }
        assert_eq!(TextEncoding::default(), TextEncoding::UTF8);
    }

    #[test]
    fn unknown_names_are_errors() {
        for name in ["xyz", "", "replacement", "iso-2022-kr"] {
            assert_eq!(
                TextEncoding::from_name(name),
                Err(TextError::UnknownEncoding { name: name.to_owned() })
            );
        }
        assert_eq!(
            TextEncoding::from_name("xyz").unwrap_err().to_string(),
            "unknown encoding \"xyz\" (try utf-8, gbk, gb18030, big5, shift_jis, euc-jp, euc-kr, \
             windows-1252, utf-16le, utf-16be)"
        );
    }

    #[test]
    fn serde_uses_the_name() {
        let de: StrDeserializer<DeError> = "GB2312".into_deserializer();
        assert_eq!(TextEncoding::deserialize(de), Ok(TextEncoding::GBK));
        let de: StrDeserializer<DeError> = "klingon".into_deserializer();
        let error = TextEncoding::deserialize(de).unwrap_err().to_string();
        assert!(error.starts_with("unknown encoding \"klingon\""), "{error}");
    }

    #[test]
    fn encodes() {
        let cases: &[(&str, &str, &[u8])] = &[
            ("utf-8", "你好", &[0xE4, 0xBD, 0xA0, 0xE5, 0xA5, 0xBD]),
            ("gbk", "你好A", &[0xC4, 0xE3, 0xBA, 0xC3, 0x41]),
            ("gbk", "€", &[0x80]),
            ("gb18030", "😀", &[0x94, 0x39, 0xFC, 0x36]),
            ("big5", "中文", &[0xA4, 0xA4, 0xA4, 0xE5]),
            ("shift_jis", "あ", &[0x82, 0xA0]),
            ("euc-jp", "あ", &[0xA4, 0xA2]),
            ("euc-kr", "한", &[0xC7, 0xD1]),
            ("windows-1252", "é€", &[0xE9, 0x80]),
            ("utf-16le", "A你😀", &[0x41, 0x00, 0x60, 0x4F, 0x3D, 0xD8, 0x00, 0xDE]),
            ("utf-16be", "A你😀", &[0x00, 0x41, 0x4F, 0x60, 0xD8, 0x3D, 0xDE, 0x00]),
            ("gbk", "", &[]),
        ];
        for &(name, text, bytes) in cases {
            assert_eq!(enc(name).encode(text).as_deref(), Ok(bytes), "{name} {text:?}");
            assert_eq!(enc(name).decode_all(bytes), text, "{name} {bytes:02X?}");
        }
    }

    #[test]
    fn refuses_unencodable_characters() {
        let cases = [
            ("gbk", "ab😀", '😀', 3),
            ("gbk", "你好,한", '한', 4),
            ("big5", "中한x", '한', 2),
            ("shift_jis", "あ한", '한', 2),
            ("euc-kr", "😀", '😀', 1),
            ("windows-1252", "abc你", '你', 4),
        ];
        for (name, text, ch, position) in cases {
            let encoding = enc(name);
            assert_eq!(
                encoding.encode(text),
                Err(TextError::Unencodable {
                    ch,
                    position,
                    encoding: encoding.name()
                }),
                "{name} {text:?}"
            );
        }
        assert_eq!(
            enc("gbk").encode("ab😀").unwrap_err().to_string(),
            "'😀' at position 3 cannot be encoded in gbk"
        );
    }

    /// Feeds `chunks` to one stream decoder, one `decode` call each, then finishes it.
    fn stream(name: &str, chunks: &[&[u8]]) -> String {
        let mut decoder = enc(name).decoder();
        let mut text: String = chunks.iter().map(|chunk| decoder.decode(chunk)).collect();
        text.push_str(&decoder.finish());
        text
    }

    #[test]
    fn stream_decoding_survives_split_characters() {
        let cases: &[(&str, &[&[u8]], &str)] = &[
            ("gbk", &[&[0xC4], &[0xE3, 0xBA], &[0xC3]], "你好"),
            ("utf-8", &[&[0xE4, 0xBD], &[0xA0, 0xE5], &[0xA5, 0xBD]], "你好"),
            // A byte at a time: a held lead, then a held lead and one more byte, completed later.
            (
                "utf-8",
                &[&[0xE4], &[0xBD], &[0xA0], &[0xF0], &[0x9F], &[0x98], &[0x80]],
                "你😀",
            ),
            ("big5", &[&[0xA4], &[0xA4, 0xA4], &[0xE5]], "中文"),
            ("shift_jis", &[&[0x82], &[0xA0]], "あ"),
            ("euc-kr", &[&[0xC7], &[0xD1, 0x41]], "한A"),
            ("utf-16le", &[&[0x60], &[0x4F, 0x3D, 0xD8], &[0x00, 0xDE]], "你😀"),
            ("utf-16be", &[&[0x4F, 0x60, 0xD8], &[0x3D, 0xDE], &[0x00]], "你😀"),
            // A BOM is shown as data, never swallowed.
            ("utf-8", &[&[0xEF, 0xBB], &[0xBF, 0x41]], "\u{FEFF}A"),
            // Malformed input and an unfinished tail become U+FFFD.
            ("utf-8", &[&[0xFF, 0x41]], "\u{FFFD}A"),
            ("gbk", &[&[0x41, 0xC4]], "A\u{FFFD}"),
            ("utf-16le", &[&[0x41, 0x00, 0x42]], "A\u{FFFD}"),
            // An empty chunk between a lead byte and a byte that cannot follow it (proptest found it).
            ("big5", &[&[0x81], &[], &[0x30]], "\u{FFFD}0"),
            ("shift_jis", &[&[0x81], &[], &[0x00]], "\u{FFFD}\0"),
            ("euc-kr", &[&[0x81], &[], &[0x30]], "\u{FFFD}0"),
        ];
        for &(name, chunks, text) in cases {
            assert_eq!(stream(name, chunks), text, "{name} {chunks:02X?}");
        }
    }

    #[test]
    fn finish_resets_for_the_next_stream() {
        let mut decoder = TextEncoding::GBK.decoder();
        assert_eq!(decoder.decode(&[0x41, 0xC4]), "A");
        assert_eq!(decoder.finish(), "\u{FFFD}");
        // The dropped 0xC4 must not pair up with what comes next.
        assert_eq!(decoder.decode(&[0xBA, 0xC3]), "好");
        assert_eq!(decoder.finish(), "");
    }

    /// Bytes worth decoding in `encoding`: text it encodes (characters it cannot encode left out), with some
    /// arbitrary bytes mixed in so malformed input is covered too.
    fn stream_bytes() -> impl Strategy<Value = (TextEncoding, Vec<u8>)> {
        let encoding = proptest::sample::select(TextEncoding::all());
        let pieces = proptest::collection::vec(
            prop_oneof![
                4 => any::<char>().prop_map(Ok),
                1 => any::<u8>().prop_map(Err),
            ],
            0..40,
        );
        (encoding, pieces).prop_map(|(encoding, pieces)| {
            let mut bytes = Vec::new();
            for piece in pieces {
                match piece {
                    Ok(ch) => bytes.extend(encoding.encode(ch.encode_utf8(&mut [0; 4])).unwrap_or_default()),
                    Err(byte) => bytes.push(byte),
                }
            }
            (encoding, bytes)
        })
    }

    proptest! {
        /// However a stream is cut into reads, it decodes as it does whole, for every encoding offered.
        #[test]
        fn a_stream_cut_anywhere_decodes_as_whole(
            (encoding, bytes) in stream_bytes(),
            cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..8),
        ) {
            let mut cuts: Vec<usize> = cuts.iter().map(|cut| cut.index(bytes.len() + 1)).collect();
            cuts.sort_unstable();
            let mut decoder = encoding.decoder();
            let mut text = String::new();
            let mut from = 0;
            for cut in cuts.into_iter().chain([bytes.len()]) {
                text.push_str(&decoder.decode(&bytes[from..cut]));
                from = cut;
            }
            text.push_str(&decoder.finish());
            prop_assert_eq!(text, encoding.decode_all(&bytes), "{} {:02X?}", encoding.name(), bytes);
        }
    }

    /// Names the property tests cover: the dropdown's multi-byte encodings (the single-byte ones
    /// hold nothing between chunks).
    const STREAMED: [&str; 9] = [
        "utf-8",
        "gbk",
        "gb18030",
        "big5",
        "shift_jis",
        "euc-kr",
        "euc-jp",
        "utf-16le",
        "utf-16be",
    ];

    /// Input that is neither all valid nor all noise: random bytes mixed with encoded characters
    /// (ASCII, CJK, kana, Hangul, emoji) so splits land inside real multi-byte characters.
    fn mixed_input() -> impl Strategy<Value = Vec<(bool, u32)>> {
        proptest::collection::vec((any::<bool>(), any::<u32>()), 0..40)
    }

    fn materialize(encoding: TextEncoding, pieces: &[(bool, u32)]) -> Vec<u8> {
        const RANGES: [(u32, u32); 5] = [
            (0x20, 0x7F),
            (0x4E00, 0x9FA5),
            (0x3041, 0x30FF),
            (0xAC00, 0xD7A3),
            (0x1F600, 0x1F64F),
        ];
        let mut bytes = Vec::new();
        for &(raw, n) in pieces {
            if raw {
                bytes.push(n as u8);
                continue;
            }
            let (low, high) = RANGES[(n % 5) as usize];
            let ch = char::from_u32(low + (n >> 3) % (high - low)).unwrap_or('?');
            bytes.extend(encoding.encode(&ch.to_string()).unwrap_or_default());
        }
        bytes
    }

    /// `bytes` cut at the given points (taken modulo its length, in order).
    fn split(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
        let mut points: Vec<usize> = cuts.iter().map(|cut| cut % (bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut chunks = Vec::new();
        let mut from = 0;
        for point in points.into_iter().chain([bytes.len()]) {
            chunks.push(bytes[from..point].to_vec());
            from = point;
        }
        chunks
    }

    proptest! {
        /// The stream decoder (UTF-8's own fast path, the others' carried bytes) says exactly
        /// what encoding_rs says of the whole input at once, wherever the input is cut, and so
        /// does a decoder resumed from each chunk's carry (what the view does to render a chunk).
        #[test]
        fn streaming_equals_one_shot_decoding(
            pieces in mixed_input(),
            cuts in proptest::collection::vec(any::<usize>(), 0..8),
            noise in proptest::collection::vec(any::<u8>(), 0..24),
        ) {
            for name in STREAMED {
                let encoding = enc(name);
                let mut bytes = materialize(encoding, &pieces);
                bytes.extend(&noise);
                let chunks = split(&bytes, &cuts);
                let expected = encoding.0.decode_without_bom_handling(&bytes).0.into_owned();

                let mut decoder = encoding.decoder();
                let mut streamed: String = chunks.iter().map(|chunk| decoder.decode(chunk)).collect();
                streamed.push_str(&decoder.finish());
                prop_assert_eq!(&streamed, &expected, "{} {:02X?}", name, chunks);

                let mut carry = Carry::default();
                let mut resumed = String::new();
                for chunk in &chunks {
                    let mut decoder = encoding.resume(carry);
                    decoder.decode_into(chunk, &mut resumed);
                    carry = decoder.carry();
                }
                resumed.push_str(&encoding.resume(carry).finish());
                prop_assert_eq!(&resumed, &expected, "{} resumed {:02X?}", name, chunks);
            }
        }
    }

    proptest! {
        /// Arbitrary bytes, long enough for the 8-byte steps and the zero-padded tail, split anywhere:
        /// exactly what encoding_rs's own decoder says of them whole.
        #[test]
        fn arbitrary_bytes_decode_as_encoding_rs_does(
            bytes in proptest::collection::vec(any::<u8>(), 0..400),
            cuts in proptest::collection::vec(any::<usize>(), 0..6),
        ) {
            for name in STREAMED {
                let encoding = enc(name);
                let expected = encoding.0.decode_without_bom_handling(&bytes).0.into_owned();
                let mut decoder = encoding.decoder();
                let mut streamed = String::new();
                for chunk in split(&bytes, &cuts) {
                    decoder.decode_into(&chunk, &mut streamed);
                }
                streamed.push_str(&decoder.finish());
                prop_assert_eq!(&streamed, &expected, "{} {:02X?}", name, bytes);
            }
        }
    }

    #[test]
    fn double_byte_encodings_are_decoded_by_table() {
        // `PairTable::build` gives up on an answer from encoding_rs it did not expect: that would
        // quietly cost the speed, so it fails here.
        for name in ["gbk", "gb18030", "big5", "shift_jis", "euc-kr"] {
            assert!(PairTable::of(enc(name).0).is_some(), "{name}");
        }
        for name in ["utf-8", "euc-jp", "windows-1252", "utf-16le"] {
            assert!(PairTable::of(enc(name).0).is_none(), "{name}");
        }
    }

    /// A made-up double-byte decoder's answers for `PairTable::tables`: bytes in `leads` wait for a
    /// second byte and any pair is "字"; any other byte is itself.
    fn double_byte(leads: std::ops::RangeInclusive<u8>, bytes: &[u8]) -> (String, bool) {
        match *bytes {
            [byte] if leads.contains(&byte) => (String::new(), true),
            [byte] => (char::from(byte).to_string(), false),
            _ => ("字".to_owned(), false),
        }
    }

    /// A table entry as its doc says: UTF-8 in the low 4 bytes, their count in bits 32..40.
    fn entry_of(text: &str) -> u64 {
        let mut word = [0; 4];
        word[..text.len()].copy_from_slice(text.as_bytes());
        u64::from(u32::from_le_bytes(word)) | (text.len() as u64) << 32
    }

    #[test]
    fn pair_tables_hold_each_byte_and_each_pair() {
        let (steps, entries) = PairTable::tables(false, |bytes| double_byte(0x80..=0xFF, bytes)).expect("table");
        // A byte that is a character: itself as the step (no bits of the next byte pick), its entry in row 0.
        assert_eq!(steps[0x41], 0x41);
        assert_eq!(entries[0x41], entry_of("A"));
        // Lead bytes: a row of 256 each after row 0, in order; all 8 bits of the next byte pick.
        assert_eq!(steps[0x80], 256 | 0xFF << 16);
        assert_eq!(steps[0xFF], (256 + 0x7F * 256) | 0xFF << 16);
        assert_eq!(entries.len(), 256 + 0x80 * 256);
        assert_eq!(entries[256 + 0x41], entry_of("字"));
        // Rows start at a 16-bit index: 255 lead bytes fit (the last row at 65,280), 256 do not (65,536).
        assert!(PairTable::tables(false, |bytes| double_byte(0x01..=0xFF, bytes)).is_some());
        assert!(PairTable::tables(false, |bytes| double_byte(0x00..=0xFF, bytes)).is_none());
    }

    #[test]
    fn pair_tables_refuse_answers_they_cannot_hold() {
        type Answers = fn(&[u8]) -> (String, bool);
        let cases: [(&str, bool, Answers); 5] = [
            // A byte that makes nothing and holds nothing changed a mode (ISO-2022's shift out).
            ("a change of mode", false, |bytes| match bytes {
                [0x0E] => (String::new(), false),
                _ => double_byte(0x80..=0xFF, bytes),
            }),
            ("text and more held", false, |bytes| match bytes {
                [0x81] => ("x".to_owned(), true),
                _ => double_byte(0x80..=0xFF, bytes),
            }),
            // A lead byte and a digit left unfinished: GB18030's four-byte start, only where it is one.
            ("a four-byte start outside GB18030", false, |bytes| match bytes {
                [0x81, b'0'] => (String::new(), true),
                [0x81, b'0', b'A', b'A'] => ("\u{FFFD}0AA".to_owned(), false),
                _ => double_byte(0x80..=0xFF, bytes),
            }),
            ("an unfinished pair without a digit", true, |bytes| match bytes {
                [0x81, b'x'] => (String::new(), true),
                [0x81, b'x', b'A', b'A'] => ("\u{FFFD}xAA".to_owned(), false),
                _ => double_byte(0x80..=0xFF, bytes),
            }),
            (
                "a four-byte start whose pair is not its text",
                true,
                |bytes| match bytes {
                    [0x81, b'0'] => (String::new(), true),
                    [0x81, b'0', b'A', b'A'] => ("\u{FFFD}0A".to_owned(), false),
                    _ => double_byte(0x80..=0xFF, bytes),
                },
            ),
        ];
        for (what, four_bytes, answers) in cases {
            assert!(PairTable::tables(four_bytes, answers).is_none(), "{what}");
        }
        // The same four-byte start in GB18030: the error and the digit, marked.
        let (steps, entries) = PairTable::tables(true, cases[2].2).expect("GB18030");
        assert_eq!(
            entries[(steps[0x81] & 0xFFFF) as usize + usize::from(b'0')],
            entry_of("\u{FFFD}0") | GB18030_FOUR
        );
    }

    /// `utf8_bulk` from the start of `bytes`: where it stopped, and the UTF-8 it wrote.
    fn utf8_bulk_of(bytes: &[u8]) -> (usize, Vec<u8>) {
        let mut out = String::new();
        let (i, written) = utf8_bulk(bytes, 0, room(&mut out, 3 * bytes.len()), 0);
        // SAFETY: `utf8_bulk` wrote whole characters up to `written` (checked against encoding_rs below).
        unsafe { commit(&mut out, written) };
        (i, out.into_bytes())
    }

    #[test]
    fn utf8_bulk_takes_eight_bytes_a_step() {
        // 12 bytes: room for one step of 8 (and the 4 it looks at after them), so where it stops shows
        // what that step took: the bytes before the first lead byte followed by a continuation byte, each
        // a character or U+FFFD, then that sequence.
        let cases: &[(&[u8], usize)] = &[
            // No lead byte followed by a continuation byte: 8 bytes, each U+FFFD or itself, and no more.
            (
                &[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, b'a', b'b', b'c', b'd'],
                8,
            ),
            (
                &[b'a', 0x80, b'a', 0x80, b'a', 0x80, b'a', 0x80, b'a', b'b', b'c', b'd'],
                8,
            ),
            (
                &[0xC0, 0x41, 0xE4, 0x41, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80],
                8,
            ),
            // A lead byte before a continuation byte: the step ends after its sequence (valid or not).
            (
                &[b'a', b'b', 0xE4, 0xBD, 0xA0, b'x', b'y', b'z', b'a', b'b', b'c', b'd'],
                5,
            ),
            (
                &[b'a', b'b', b'c', b'd', b'e', b'f', b'g', 0xE4, 0xBD, 0xA0, b'x', b'y'],
                10,
            ),
            (
                &[b'a', 0xE4, 0xBD, 0x41, b'x', b'y', b'z', b'a', b'b', b'c', b'd', b'e'],
                3,
            ),
        ];
        for &(bytes, stop) in cases {
            let expected = TextEncoding::UTF8.decode_all(&bytes[..stop]);
            assert_eq!(utf8_bulk_of(bytes), (stop, expected.into_bytes()), "{bytes:02X?}");
        }
    }

    #[test]
    fn continuation_bytes_alone_are_not_ascii() {
        // 8 bytes of 0x80 have their top bits set and nothing else: a fast path for ASCII words must
        // not take them.
        let bytes = [0x80; 20];
        for name in STREAMED {
            assert_eq!(stream(name, &[&bytes]), enc(name).decode_all(&bytes), "{name}");
        }
    }

    #[test]
    fn room_is_what_was_asked_and_the_slack() {
        for len in [0, 1, 100, 4096] {
            let mut out = String::from("text");
            let room = room(&mut out, len).len();
            // The 64 bytes of slack, and at most one growth step (Vec doubles) beyond.
            assert!(room >= len + 64, "{len}: {room}");
            assert!(room <= 2 * ("text".len() + len + 64), "{len}: {room}");
        }
    }

    #[test]
    fn carries_only_unfinished_characters() {
        // (encoding, chunk, bytes held after it)
        let cases: &[(&str, &[u8], &[u8])] = &[
            ("utf-8", &[0x41, 0xE4, 0xBD], &[0xE4, 0xBD]),
            ("utf-8", &[0xE4, 0xBD, 0xA0], &[]),
            ("utf-8", &[0xE0, 0x80], &[]),
            ("utf-8", &[0xFF], &[]),
            ("gb18030", &[0x81, 0x30, 0x81], &[0x81, 0x30, 0x81]),
            ("gb18030", &[0x41, 0x81, 0x30], &[0x81, 0x30]),
            ("gbk", &[0xC4, 0xE3, 0xBA], &[0xBA]),
            ("big5", &[0xA4, 0xA4, 0xA4], &[0xA4]),
            ("shift_jis", &[0x82, 0xA0, 0xA1], &[]),
            ("euc-jp", &[0x8F, 0xA1], &[0x8F, 0xA1]),
            ("utf-16le", &[0x3D, 0xD8, 0x00], &[0x3D, 0xD8, 0x00]),
            ("utf-16be", &[0x00, 0x41, 0x4F], &[0x4F]),
            ("windows-1252", &[0xE9], &[]),
        ];
        for &(name, chunk, held) in cases {
            let mut decoder = enc(name).decoder();
            decoder.decode(chunk);
            assert_eq!(decoder.carry().as_slice(), held, "{name} {chunk:02X?}");
        }
    }
}
