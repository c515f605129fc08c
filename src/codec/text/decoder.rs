use encoding_rs::{Decoder, DecoderResult, Encoding};

use super::family::Family;
use super::fast::{PairTable, decode_utf8};
use super::{Carry, feed};

/// The malformed sequences of decoded text: where each one's U+FFFD is in the text, and the bytes it stands for.
/// All the bytes share one buffer, so random input (a malformed sequence every few bytes) costs no allocation each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Malformed {
    /// (the U+FFFD's byte offset in the text, where its bytes end in `bytes`), in text order.
    marks: Vec<(usize, usize)>,
    bytes: Vec<u8>,
}

impl Malformed {
    fn push(&mut self, at: usize, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
        self.marks.push((at, self.bytes.len()));
    }

    pub fn is_empty(&self) -> bool {
        self.marks.is_empty()
    }

    /// Each sequence in text order: where its U+FFFD is, and its bytes.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &[u8])> + '_ {
        let starts = std::iter::once(0).chain(self.marks.iter().map(|&(_, end)| end));
        self.marks
            .iter()
            .zip(starts)
            .map(|(&(at, end), start)| (at, &self.bytes[start..end]))
    }
}

/// Decodes `input` without replacement, noting each malformed sequence's bytes where its U+FFFD goes. A sequence
/// begun in an earlier input (held by a stateful decoder) is marked with the bytes of this one only.
fn mark(decoder: &mut Decoder, input: &[u8], out: &mut String, malformed: &mut Malformed) {
    let mut read = 0;
    loop {
        let rest = &input[read..];
        let needed = decoder
            .max_utf8_buffer_length_without_replacement(rest.len())
            .unwrap_or(rest.len());
        out.reserve(needed);
        let (result, consumed) = decoder.decode_to_string_without_replacement(rest, out, false);
        read += consumed;
        match result {
            DecoderResult::InputEmpty => return,
            DecoderResult::OutputFull => {}
            // The malformed bytes end `extra` bytes before what was consumed.
            DecoderResult::Malformed(len, extra) => {
                let end = read.saturating_sub(usize::from(extra));
                malformed.push(out.len(), &input[end.saturating_sub(usize::from(len))..end]);
                out.push(char::REPLACEMENT_CHARACTER);
            }
        }
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
    pub(super) fn new(encoding: &'static Encoding, carry: Carry) -> StreamDecoder {
        let family = Family::of(encoding);
        StreamDecoder {
            encoding,
            family,
            carry,
            stateful: matches!(family, Family::Stateful).then(|| encoding.new_decoder_without_bom_handling()),
        }
    }

    /// ISO-2022-JP's decoder, which keeps its mode from chunk to chunk.
    fn stateful(&mut self) -> &mut Decoder {
        self.stateful
            .get_or_insert_with(|| self.encoding.new_decoder_without_bom_handling())
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
            Family::Stateful => feed(self.stateful(), bytes, out, false),
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

    /// Like [`decode_into`](Self::decode_into), and says where in `out` malformed sequences are, for a view
    /// that shows their bytes. UTF-8 and ISO-2022-JP are marked in the one pass; in other encodings text
    /// without U+FFFD takes the fast path alone, and other text is decoded once more without replacement.
    pub fn decode_marking(&mut self, bytes: &[u8], out: &mut String, malformed: &mut Malformed) {
        if bytes.is_empty() {
            return;
        }
        match self.family {
            Family::Utf8 => self.mark_utf8(bytes, out, malformed),
            // ISO-2022-JP's mode cannot be decoded again: its own decoder marks as it goes.
            Family::Stateful => mark(self.stateful(), bytes, out, malformed),
            _ => self.mark_with_encoding_rs(bytes, out, malformed),
        }
    }

    /// The standard library's chunks are the same maximal subparts encoding_rs replaces.
    fn mark_utf8(&mut self, bytes: &[u8], out: &mut String, malformed: &mut Malformed) {
        if self.carry.len == 0
            && let Ok(text) = std::str::from_utf8(bytes)
        {
            return out.push_str(text);
        }
        let joined;
        let input = if self.carry.len == 0 {
            bytes
        } else {
            joined = [self.carry.as_slice(), bytes].concat();
            &joined
        };
        self.carry = Carry::default();
        let mut chunks = input.utf8_chunks().peekable();
        while let Some(chunk) = chunks.next() {
            out.push_str(chunk.valid());
            let invalid = chunk.invalid();
            if invalid.is_empty() {
                continue;
            }
            let unfinished = std::str::from_utf8(invalid).is_err_and(|error| error.error_len().is_none());
            if chunks.peek().is_none() && unfinished {
                // The next chunk may complete it.
                self.carry = Carry::tail_of(&[], invalid, invalid.len());
            } else {
                malformed.push(out.len(), invalid);
                out.push(char::REPLACEMENT_CHARACTER);
            }
        }
    }

    pub(super) fn mark_with_encoding_rs(&mut self, bytes: &[u8], out: &mut String, malformed: &mut Malformed) {
        let (start, carry) = (out.len(), self.carry);
        self.decode_into(bytes, out);
        if !out[start..].contains(char::REPLACEMENT_CHARACTER) {
            return;
        }
        out.truncate(start);
        let input = [carry.as_slice(), bytes].concat();
        // Ends holding the same unfinished character the fast path left in the carry.
        mark(
            &mut self.encoding.new_decoder_without_bom_handling(),
            &input,
            out,
            malformed,
        );
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
