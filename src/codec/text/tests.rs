use super::*;
use proptest::prelude::*;
use serde::Deserialize;
use serde::de::IntoDeserializer;
use serde::de::value::{Error as DeError, StrDeserializer};

pub(super) fn enc(name: &str) -> TextEncoding {
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

            let mut resumed = String::new();
            let carry = resumed_each(encoding, &chunks, |decoder, chunk| decoder.decode_into(chunk, &mut resumed));
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
fn continuation_bytes_alone_are_not_ascii() {
    // 8 bytes of 0x80 have their top bits set and nothing else: a fast path for ASCII words must
    // not take them.
    let bytes = [0x80; 20];
    for name in STREAMED {
        assert_eq!(stream(name, &[&bytes]), enc(name).decode_all(&bytes), "{name}");
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

/// `chunks` decoded with marks, each chunk by a decoder resumed from the last one's carry (as the view does);
/// `generic` marks UTF-8 the way the other encodings are, for comparison.
fn marked(encoding: TextEncoding, chunks: &[Vec<u8>], generic: bool) -> (String, Malformed) {
    let (mut text, mut malformed) = (String::new(), Malformed::default());
    resumed_each(encoding, chunks, |decoder, chunk| {
        if generic {
            decoder.mark_with_encoding_rs(chunk, &mut text, &mut malformed);
        } else {
            decoder.decode_marking(chunk, &mut text, &mut malformed);
        }
    });
    (text, malformed)
}

/// Runs `decode` on each chunk with a decoder resumed from the last one's carry, as the view lays chunks out;
/// returns the carry left at the end.
fn resumed_each(
    encoding: TextEncoding,
    chunks: &[Vec<u8>],
    mut decode: impl FnMut(&mut StreamDecoder, &[u8]),
) -> Carry {
    let mut carry = Carry::default();
    for chunk in chunks {
        let mut decoder = encoding.resume(carry);
        decode(&mut decoder, chunk);
        carry = decoder.carry();
    }
    carry
}

proptest! {
    /// Marking changes no text, and every marked U+FFFD is one (the view shows its bytes instead). UTF-8 is
    /// marked in one pass of its own: its marks are the ones encoding_rs gives, and with them the text gives
    /// back every byte that came in, however the input was cut.
    #[test]
    fn marks_say_which_bytes_each_replacement_stands_for(
        pieces in mixed_input(),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
        noise in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        for name in STREAMED {
            let encoding = enc(name);
            let mut bytes = materialize(encoding, &pieces);
            bytes.extend(&noise);
            let chunks = split(&bytes, &cuts);
            let (text, malformed) = marked(encoding, &chunks, false);
            let mut plain = String::new();
            resumed_each(encoding, &chunks, |decoder, chunk| decoder.decode_into(chunk, &mut plain));
            prop_assert_eq!(&text, &plain, "{} {:02X?}", name, chunks);
            for (at, sequence) in malformed.iter() {
                prop_assert!(text[at..].starts_with(char::REPLACEMENT_CHARACTER), "{} at {}", name, at);
                prop_assert!(!sequence.is_empty());
            }
        }
        let utf8 = enc("utf-8");
        let mut bytes = materialize(utf8, &pieces);
        bytes.extend(&noise);
        let chunks = split(&bytes, &cuts);
        let (text, malformed) = marked(utf8, &chunks, false);
        prop_assert_eq!(&malformed, &marked(utf8, &chunks, true).1, "{:02X?}", chunks);
        let mut given_back = Vec::new();
        let mut marks = malformed.iter().peekable();
        for (i, ch) in text.char_indices() {
            match marks.next_if(|&(at, _)| at == i) {
                Some((_, sequence)) => given_back.extend_from_slice(sequence),
                None => given_back.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes()),
            }
        }
        let unfinished = bytes.len() - given_back.len();
        prop_assert!(unfinished <= 3);
        prop_assert_eq!(&given_back[..], &bytes[..given_back.len()], "{:02X?}", chunks);
    }
}
