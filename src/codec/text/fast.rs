//! The decoders' fast paths: UTF-8, and the double-byte encodings by table look-up, written straight into
//! a `String`'s spare capacity. The text codec's only `unsafe` code is here, with the tests that hold it to
//! encoding_rs.
use std::mem::MaybeUninit;
use std::sync::OnceLock;

use encoding_rs::Encoding;

use super::family::Family;
use super::{Carry, feed};

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
pub(super) fn decode_utf8(carry: &mut Carry, mut bytes: &[u8], out: &mut String) {
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
pub(super) struct PairTable {
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
    pub(super) fn of(encoding: &'static Encoding) -> Option<&'static PairTable> {
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
    pub(super) fn decode(&self, family: Family, carry: &mut Carry, bytes: &[u8], out: &mut String) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::text::TextEncoding;
    use crate::codec::text::tests::enc;

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
    fn room_is_what_was_asked_and_the_slack() {
        for len in [0, 1, 100, 4096] {
            let mut out = String::from("text");
            let room = room(&mut out, len).len();
            // The 64 bytes of slack, and at most one growth step (Vec doubles) beyond.
            assert!(room >= len + 64, "{len}: {room}");
            assert!(room <= 2 * ("text".len() + len + 64), "{len}: {room}");
        }
    }
}
