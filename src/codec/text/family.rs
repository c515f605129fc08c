//! What a stream decoder holds between chunks, per family of encodings: each family's state machine,
//! run over the end of a chunk, says how many bytes there are an unfinished character.
use encoding_rs::Encoding;

/// How an encoding's decoder can be in the middle of a character, which decides how the bytes it
/// holds between chunks are found. Every state is a suffix of the input except ISO-2022-JP's mode.
#[derive(Clone, Copy)]
pub(super) enum Family {
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
    pub(super) fn of(encoding: &'static Encoding) -> Family {
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
    pub(super) fn pending(self, carry: &[u8], bytes: &[u8]) -> usize {
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
