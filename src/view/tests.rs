use std::net::{IpAddr, Ipv4Addr};

use chrono::{DateTime, Local, NaiveDate};
use proptest::prelude::*;

use super::*;
use crate::codec::hex::to_hex;
use crate::history::CHUNK_OVERHEAD;
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
const LOG_GBK: ViewOptions = ViewOptions { log_mode: true, ..GBK };

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
    Chunk::new(noon(), peer(port), direction, bytes.to_vec())
}

/// Pushes the chunks into a log and renders them one `append` at a time, as the window does.
fn build(options: &ViewOptions, input: Input) -> (History, View) {
    build_in(History::default(), options, input)
}

fn build_in(mut log: History, options: &ViewOptions, input: Input) -> (History, View) {
    let mut view = View::new(options.clone());
    for &item in input {
        log.push(chunk(item));
        settle(&mut view, &log);
    }
    (log, view)
}

/// Appends until everything the log holds is indexed (a slow machine may need several calls).
fn settle(view: &mut View, log: &History) {
    view.append(log);
    while view.catching_up() {
        view.append(log);
    }
}

fn fresh(options: &ViewOptions, log: &History) -> View {
    let mut view = View::new(options.clone());
    settle(&mut view, log);
    view
}

fn all_rows(view: &View) -> Vec<Row> {
    view.rows_in(0..view.rows()).collect()
}

fn texts(view: &View) -> Vec<String> {
    view.rows_in(0..view.rows()).map(|row| row.text).collect()
}

fn check(cases: &[(ViewOptions, Input, &[&str])]) {
    for (options, input, expected) in cases {
        let (_, view) = build(options, input);
        assert_eq!(texts(&view), *expected, "{options:?} {input:?}");
    }
}

#[test]
fn sent_binary_shows_as_hex_on_rows_of_its_own_in_a_text_view() {
    let modbus: &[u8] = &[0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCD];
    check(&[
        // Not "\x01\x03\x00\x00\x00\n磐" in GBK.
        (GBK, &[(Tx, A, modbus)], &["01 03 00 00 00 0A C5 CD"]),
        // Sent text (spaces and `~`, the printable bytes at either end, included) stays text; the binary
        // send neither continues nor is continued by it.
        (
            STREAM,
            &[(Tx, A, b"a b~"), (Tx, A, modbus), (Tx, A, b"cd\r\n")],
            &["a b~", "01 03 00 00 00 0A C5 CD", "cd"],
        ),
        // Received bytes are the reader's to show as they choose (Hex view), unless mostly control bytes: then
        // the frame stays whole on a row of its own, its `0A` included.
        (STREAM, &[(Rx, A, &[0x01, b'x'])], &["\\x01x"]),
        (
            GBK,
            &[(Rx, A, b"ok "), (Rx, A, modbus), (Rx, A, b"\x01\n")],
            &["ok ", "01 03 00 00 00 0A C5 CD", "\\x01"],
        ),
    ]);
}

#[test]
// Lists of escapes' places, some of one.
#[allow(clippy::single_range_in_vec_init)]
fn malformed_bytes_show_as_marked_escapes_in_the_window_only() {
    let window = |options: &ViewOptions| ViewOptions {
        escape_malformed: true,
        ..options.clone()
    };
    let shown = |view: &View| -> Vec<(String, Vec<Range<usize>>)> {
        all_rows(view)
            .into_iter()
            .map(|row| (row.text, row.malformed))
            .collect()
    };
    // C4 is a UTF-8 lead byte and a GBK lead byte, each followed here by what cannot go on from it.
    for options in [STREAM, GBK] {
        let (_, view) = build(&window(&options), &[(Rx, A, b"ok \xC4 end")]);
        assert_eq!(shown(&view), [("ok \\xC4 end".to_owned(), vec![3..7])], "{options:?}");
        assert_eq!(view.text_of_all(), "ok \u{FFFD} end\n", "copy and save keep U+FFFD");
        let (_, plain) = build(&options, &[(Rx, A, b"ok \xC4 end")]);
        assert_eq!(shown(&plain), [("ok \u{FFFD} end".to_owned(), vec![])], "{options:?}");
    }
    // A sequence cut by a read's end continues the row it began on; an escape is wrapped whole.
    let (_, view) = build(&window(&STREAM), &[(Rx, A, b"a\xE4"), (Rx, A, b"\xBDx\xFF")]);
    assert_eq!(shown(&view), [("a\\xE4\\xBDx\\xFF".to_owned(), vec![1..9, 10..14])]);
    let narrow = ViewOptions {
        wrap_columns: Some(6),
        ..window(&STREAM)
    };
    let (_, view) = build(&narrow, &[(Rx, A, b"ok \xC4 end")]);
    let rows = [("ok ", vec![]), ("\\xC4 e", vec![0..4]), ("nd", vec![])];
    assert_eq!(shown(&view), rows.map(|(text, ranges)| (text.to_owned(), ranges)));
    // Valid text that holds a U+FFFD of its own keeps it.
    let (_, view) = build(&window(&STREAM), &[(Rx, A, b"\xEF\xBF\xBD\xFF")]);
    assert_eq!(shown(&view), [("\u{FFFD}\\xFF".to_owned(), vec![3..7])]);
    // Sequences side by side are one marked range (random bytes are mostly such runs): FF, then C3 cut short.
    let (_, view) = build(&window(&STREAM), &[(Rx, A, b"a\xFF\xC3b")]);
    assert_eq!(shown(&view), [("a\\xFF\\xC3b".to_owned(), vec![1..9])]);
}

#[test]
fn iso_2022_jp_shows_the_bytes_it_cannot_decode_too() {
    let options = ViewOptions {
        encoding: "iso-2022-jp".parse().expect("offered"),
        escape_malformed: true,
        ..STREAM
    };
    // 亜 in JIS X 0208 between the mode switches, then a byte no mode has.
    let (_, view) = build(&options, &[(Rx, A, b"\x1b$B\x30\x21\x1b(B ok \xC4 end")]);
    let rows: Vec<_> = all_rows(&view)
        .into_iter()
        .map(|row| (row.text, row.malformed))
        .collect();
    let escape = 7..11;
    assert_eq!(rows, [("亜 ok \\xC4 end".to_owned(), vec![escape])]);
}

#[test]
fn a_read_kept_as_pieces_shows_as_the_one_read_it_was() {
    // 你 in GBK, after one byte: a piece boundary falls inside a character.
    let mut read = vec![b'x'];
    for _ in 0..12_000 {
        read.extend_from_slice(&[0xC4, 0xE3]);
    }
    for hex in [false, true] {
        let options = ViewOptions { hex, ..LOG_GBK };
        let (log, view) = build(&options, &[(Rx, A, &read), (Rx, A, b"!")]);
        assert_eq!(log.len(), 3, "kept as two pieces, then the next read");
        let rows = all_rows(&view);
        let headers = rows.iter().filter(|row| row.kind == RowKind::Header).count();
        assert_eq!(headers, 2, "one header per read (hex: {hex})");
        let data: Vec<&str> = rows
            .iter()
            .filter(|row| row.kind == RowKind::Data)
            .map(|row| row.text.as_str())
            .collect();
        let (last, first) = data.split_last().expect("rows");
        assert_eq!(*last, if hex { "21" } else { "!" });
        let want = if hex {
            to_hex(&read)
        } else {
            format!("x{}", "你".repeat(12_000))
        };
        assert_eq!(first.join(if hex { " " } else { "" }), want, "hex: {hex}");
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
        // The open row's width goes on across chunks.
        (
            HEX,
            &[(Rx, A, &bytes[..3]), (Rx, A, &bytes[3..5]), (Rx, A, &bytes[5..])],
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
        // U+1100, the first wide character (Hangul).
        (
            wrap(3),
            &[(Rx, A, "\u{10FF}\u{1100}".as_bytes())],
            &["\u{10FF}\u{1100}"],
        ),
        (
            wrap(3),
            &[(Rx, A, "\u{1100}\u{1100}".as_bytes())],
            &["\u{1100}", "\u{1100}"],
        ),
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

/// The bytes of a snapshot's chunks, as text.
fn chunk_texts(snapshot: &ViewSnapshot) -> Vec<String> {
    snapshot
        .chunks()
        .map(|chunk| String::from_utf8_lossy(&chunk.bytes).into_owned())
        .collect()
}

/// Clicks row `from`, then Shift+clicks row `to`, as the window does.
fn select_rows(view: &mut View, from: usize, to: usize) {
    let seqs = |view: &View, row| view.row_seqs(row).expect("a row");
    view.select(seqs(view, from), false);
    view.select(seqs(view, to), true);
}

#[test]
fn a_selection_of_rows_snapshots_just_their_chunks() {
    let input: Input = &[(Rx, A, b"a\n"), (Tx, A, b"b\n"), (Rx, A, b"c\n"), (Rx, A, b"d\n")];
    let (mut log, mut view) = build(&STREAM, input);
    assert_eq!(
        chunk_texts(&view.snapshot_selected()).len(),
        4,
        "nothing selected: everything"
    );
    // Shift+click upwards selects the same rows.
    select_rows(&mut view, 2, 1);
    assert_eq!(view.selection(), Some(1..=2));
    assert_eq!(view.selected_rows(), 2);
    let snapshot = view.snapshot_selected();
    assert_eq!(chunk_texts(&snapshot), ["b\n", "c\n"]);
    assert_eq!(snapshot.text(), "b\nc\n");
    let selected: Vec<bool> = all_rows(&view).iter().map(|row| view.is_selected(row)).collect();
    assert_eq!(selected, [false, true, true, false]);
    // A rebuild (log mode: a header row per chunk) keeps the selection; new data leaves it alone.
    log.push(chunk((Rx, A, b"e\n")));
    view.set_options(LOG, &log);
    settle(&mut view, &log);
    assert_eq!(chunk_texts(&view.snapshot_selected()), ["b\n", "c\n"]);
    assert_eq!(view.selected_rows(), 4);
    // A plain click elsewhere starts over; on the selected row alone it lets go.
    view.select(view.row_seqs(7).expect("a row"), false);
    assert_eq!(view.selection(), Some(3..=3));
    view.select(view.row_seqs(6).expect("a row"), false);
    assert_eq!(view.selection(), None);
    select_rows(&mut view, 0, 1);
    view.clear_selection();
    assert_eq!(chunk_texts(&view.snapshot_selected()).len(), 5);
}

#[test]
fn a_row_spread_over_chunks_selects_them_all() {
    let (_, mut view) = build(
        &STREAM,
        &[(Rx, A, b"ab"), (Rx, A, b"cd"), (Rx, A, b"e\nf"), (Rx, A, b"g\n")],
    );
    assert_eq!(texts(&view), ["abcde", "fg"]);
    // The chunk that ends the row and starts the next is taken whole.
    assert_eq!(view.row_seqs(0), Some(0..=2));
    assert_eq!(view.row_seqs(1), Some(2..=3));
    assert_eq!(view.row_seqs(2), None);
    view.select(view.row_seqs(0).expect("a row"), false);
    assert_eq!(chunk_texts(&view.snapshot_selected()), ["ab", "cd", "e\nf"]);
}

#[test]
fn a_selection_is_clipped_as_its_chunks_fall_out_and_dropped_with_the_last() {
    let mut log = History::new(3 * (2 + CHUNK_OVERHEAD));
    let mut view = View::new(STREAM);
    for text in ["a\n", "b\n", "c\n"] {
        log.push(chunk((Rx, A, text.as_bytes())));
    }
    settle(&mut view, &log);
    select_rows(&mut view, 0, 1);
    assert_eq!(chunk_texts(&view.snapshot_selected()), ["a\n", "b\n"]);
    log.push(chunk((Rx, A, b"d\n")));
    settle(&mut view, &log);
    assert_eq!(view.selection(), Some(1..=1));
    assert_eq!(chunk_texts(&view.snapshot_selected()), ["b\n"]);
    assert_eq!(view.selected_rows(), 1);
    log.push(chunk((Rx, A, b"e\n")));
    settle(&mut view, &log);
    assert_eq!(view.selection(), None);
    assert_eq!(chunk_texts(&view.snapshot_selected()), ["c\n", "d\n", "e\n"]);
    // Clear drops it too.
    select_rows(&mut view, 0, 2);
    assert_eq!(view.selected_rows(), 3);
    log.clear();
    view.append(&log);
    assert_eq!(view.selection(), None);
    assert!(view.snapshot_selected().is_empty());
}

#[test]
fn a_range_snapshot_holds_only_shown_chunks_in_the_range() {
    let (_, view) = build(&STREAM, &[(Rx, A, b"a\n"), (Rx, B, b"b\n"), (Rx, A, b"c\n")]);
    assert!(view.snapshot_range(5..=9).is_empty());
    assert_eq!(view.snapshot_range(0..=0).text(), "a\n");
    let filtered = ViewOptions {
        peer_filter: Some(peer(A)),
        ..STREAM
    };
    let (_, view) = build(&filtered, &[(Rx, A, b"a\n"), (Rx, B, b"b\n"), (Rx, A, b"c\n")]);
    assert_eq!(chunk_texts(&view.snapshot_range(0..=2)), ["a\n", "c\n"]);
    assert!(View::new(STREAM).snapshot_range(0..=3).is_empty());
}

#[test]
fn rows_know_their_chunk() {
    let (_, view) = build(&LOG, &[(Rx, A, b"x"), (Tx, B, b"y\nz")]);
    let row = |seq, port, direction, kind, text: &str| Row {
        seq,
        peer: peer(port),
        direction,
        way: None,
        kind,
        text: text.to_owned(),
        malformed: Vec::new(),
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
    assert_eq!(view.row(1).map(|row| row.text), Some("x".to_owned()));
    assert_eq!(view.row(5), None);
    let texts_in = |range| view.rows_in(range).map(|row| row.text).collect::<Vec<_>>();
    assert_eq!(texts_in(3..5), ["y", "z"]);
    assert_eq!(texts_in(4..99), ["z"]);
    assert_eq!(texts_in(7..99), Vec::<&str>::new());
}

/// A place in a chunk maps to the row that shows it, in every layout: the row's text holds what is there.
#[test]
fn a_place_in_a_chunk_maps_to_its_row() {
    let input: Input = &[
        (Rx, A, b"one\ntw"),
        (Rx, A, b"o\nthree\nfour"),
        (Rx, A, "\n你好".as_bytes()),
    ];
    for options in [STREAM, LOG, HEX] {
        let (_, view) = build(&options, input);
        let rows = texts(&view);
        // (seq, place, what the row shows there)
        let cases = [
            (0, At::Byte(0), "one", "6F 6E 65"),
            (0, At::Byte(4), "tw", "74 77"),
            (1, At::Byte(0), "o", "6F"),
            (1, At::Byte(2), "three", "74 68"),
            (1, At::Text(8), "four", "6F"),
            (2, At::Text(1), "你好", "0A"),
        ];
        for (seq, at, text, hex) in cases {
            let row = view.row_at(seq, at).expect("shown");
            let wanted = if options.hex { hex } else { text };
            assert!(
                rows[row].contains(wanted),
                "{options:?} {seq} {at:?}: row {row} {:?}",
                rows[row]
            );
        }
        assert_eq!(view.row_at(3, At::Byte(0)), None);
    }
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
                                way_filter: None,
                                escape_malformed: show_tx,
                            };
                            view.set_options(options.clone(), &log);
                            settle(&mut view, &log);
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
    let mut log = History::new(3 * (2 + CHUNK_OVERHEAD));
    let mut view = View::new(LOG);
    for digit in b'0'..=b'9' {
        log.push(chunk((Rx, A, &[digit, b'\n'])));
        settle(&mut view, &log);
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
    let mut log = History::new(2 * (2 + CHUNK_OVERHEAD));
    let mut view = View::new(STREAM);
    for (bytes, rows) in [(b"ab", &["ab"]), (b"cd", &["abcd"]), (b"ef", &["ef"])] {
        log.push(chunk((Rx, A, bytes)));
        settle(&mut view, &log);
        assert_eq!(texts(&view), rows);
    }
    assert_eq!(view.rows_removed_total(), 1);
}

/// Small chunks appended one at a time index the rows a rebuild finds, then every layout rebuilds them. (Their
/// speed is measured by `cargo bench --bench view`, not here.)
#[test]
fn small_chunks_appended_one_at_a_time_index_as_a_rebuild_does() {
    const CHUNKS: u64 = 100_000;
    let mut log = History::new(usize::MAX);
    let mut view = View::new(STREAM);
    for n in 0..CHUNKS {
        let bytes: &[u8] = if n % 4 == 3 { b"line end\r\n" } else { b"0123456789" };
        log.push(chunk((Rx, A, bytes)));
        settle(&mut view, &log);
    }
    assert_eq!(view.rows(), (CHUNKS / 4) as usize);
    assert_eq!(view.rows(), fresh(&STREAM, &log).rows());
    view.set_options(LOG, &log);
    settle(&mut view, &log);
    assert_eq!(view.rows(), 2 * CHUNKS as usize, "a header and a row per chunk");
    view.set_options(HEX, &log);
    settle(&mut view, &log);
    assert_eq!(view.rows(), (CHUNKS * 10 / 16) as usize);
}

/// Rows leave with their chunks and give their memory back: the index does not keep a flood's peak, and a
/// cleared view lets go of the text it rendered (the chunks' last holder after Clear).
#[test]
fn evicted_rows_give_their_memory_back() {
    let mut log = History::new(usize::MAX);
    for _ in 0..5000 {
        log.push(chunk((Rx, A, b"x\n")));
    }
    let mut view = fresh(&STREAM, &log);
    let peak = view.entries.capacity();
    log.set_budget(2 * (CHUNK_OVERHEAD + 2));
    settle(&mut view, &log);
    assert_eq!(texts(&view), ["x", "x"]);
    assert!(
        view.entries.capacity() < peak / 100,
        "{} of {peak}",
        view.entries.capacity()
    );

    let mut log = History::default();
    log.push(chunk((Rx, A, &[b'x'; 2 << 20])));
    let mut view = fresh(&STREAM, &log);
    assert!(view.rows_in(0..1).next().is_some_and(|row| row.text.starts_with('x')));
    assert!(!view.cache.borrow().is_empty(), "what was shown is cached");
    log.clear();
    settle(&mut view, &log);
    assert_eq!(view.rows(), 0);
    assert!(
        view.cache.borrow().is_empty(),
        "the cleared view still holds rendered text"
    );
}

/// Rows rendered for the screen are kept for the next frames within the cache's bounds: the last
/// `CACHED_CHUNKS` chunks, and only as many large ones as fit in `CACHE_BYTES`.
#[test]
fn the_render_cache_keeps_recent_chunks_within_its_bounds() {
    let cached = |view: &View| {
        let _ = view.rows_in(0..view.rows()).count();
        let cache = view.cache.borrow();
        let text: usize = cache
            .iter()
            .map(|(_, rendered)| rendered.lead.len() + rendered.rows.iter().map(|(_, row)| row.len()).sum::<usize>())
            .sum();
        (cache.iter().map(|(seq, _)| *seq).collect::<Vec<u64>>(), text)
    };
    let mut log = History::default();
    for _ in 0..40 {
        log.push(chunk((Rx, A, b"ab")));
    }
    let (seqs, _) = cached(&fresh(&LOG, &log));
    assert_eq!(seqs, (40 - CACHED_CHUNKS as u64..40).collect::<Vec<u64>>());

    // Pieces of line ends alone: each renders to 16 Ki empty rows, 512 KiB with their overhead, so the byte
    // bound holds exactly sixteen of them (the newest) and a seventeenth would not fit.
    let mut log = History::default();
    log.push(chunk((Rx, A, &[b'\n'; 20 * crate::history::MAX_PIECE])));
    let view = fresh(&STREAM, &log);
    let _ = view.rows_in(0..view.rows()).count();
    let cache = view.cache.borrow();
    let sizes: Vec<usize> = cache.iter().map(|(_, rendered)| rendered.size()).collect();
    assert_eq!(sizes, vec![CACHE_BYTES / 16; 16]);
    let seqs: Vec<u64> = cache.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(seqs, (4..20).collect::<Vec<u64>>());
}

#[test]
fn a_carried_byte_outlives_its_chunk() {
    // The log holds one chunk: the first half of 你 is gone when the second arrives.
    let log = History::new(CHUNK_OVERHEAD + 1);
    let (log, view) = build_in(log, &GBK, &[(Rx, A, &[0xC4]), (Rx, A, &[0xE3])]);
    assert_eq!(log.len(), 1);
    assert_eq!(texts(&view), ["你"]);
    // A chunk shown again (scrolled to, saved) is decoded from the bytes carried into it.
    assert_eq!(view.text_of_all(), "你\n");
}

#[test]
fn saved_text_leaves_out_a_row_whose_start_fell_out() {
    let (mut log, mut view) = build_in(History::default(), &STREAM, &[(Rx, A, b"ab"), (Rx, A, b"cd\nef")]);
    // The log keeps one chunk now: the row "abcd" goes with "ab", where it started.
    log.set_budget(CHUNK_OVERHEAD + 5);
    settle(&mut view, &log);
    assert_eq!(log.len(), 1);
    assert_eq!(texts(&view), ["ef"]);
    assert_eq!(view.text_of_all(), "ef\n");
}

#[test]
fn a_row_goes_on_through_the_chunks_that_continue_it() {
    let wrap = ViewOptions {
        wrap_columns: Some(6),
        ..STREAM
    };
    let input: Input = &[
        (Rx, A, b"ab"),
        (Rx, B, b""),
        (Rx, A, "c你".as_bytes()),
        (Rx, A, &[0xE5, 0xA5]),
        (Rx, A, &[0xBD, b'x', b'y']),
        (Rx, A, b"\n"),
        (Rx, A, b"z"),
    ];
    let (_, view) = build(&wrap, input);
    assert_eq!(texts(&view), ["abc你", "好xy", "z"]);
    let seqs: Vec<u64> = all_rows(&view).iter().map(|row| row.seq).collect();
    assert_eq!(seqs, [0, 4, 6]);
    for index in 0..view.rows() {
        assert_eq!(view.row(index), view.rows_in(index..index + 1).next(), "row {index}");
    }
}

#[test]
fn empty_chunks_count_toward_the_clock() {
    // Empty reads (UDP's empty datagrams) cost something too: with no time at all, a call stops
    // after CLOCK_EVERY / 64 of them.
    let mut log = History::default();
    for _ in 0..2 * CLOCK_EVERY / 64 {
        log.push(chunk((Rx, A, b"")));
    }
    let mut view = View::new(STREAM);
    view.append_within(&log, Duration::ZERO);
    assert!(view.catching_up());
    assert_eq!(view.entries.len(), CLOCK_EVERY / 64);
}

#[test]
fn reindexing_spreads_over_calls() {
    let block: Vec<u8> = b"0123456789abcdef\n".iter().copied().cycle().take(64 << 10).collect();
    let mut log = History::default();
    for _ in 0..16 {
        log.push(chunk((Rx, A, &block)));
    }
    let mut view = fresh(&STREAM, &log);
    view.options = HEX;
    view.restart();
    let mut calls = 0;
    loop {
        // No time at all: each call still indexes what it does between two looks at the clock.
        view.append_within(&log, Duration::ZERO);
        calls += 1;
        let indexed: usize = view.entries.iter().map(|entry| entry.chunk.bytes.len()).sum();
        assert!(
            indexed <= (CLOCK_EVERY + crate::history::MAX_PIECE) * calls,
            "{indexed} bytes in {calls} calls"
        );
        if !view.catching_up() {
            break;
        }
        assert!(calls < 100, "indexing never ends");
    }
    assert!(calls > 1);
    assert_eq!(all_rows(&view), all_rows(&fresh(&HEX, &log)));
    assert_eq!(view.rows(), 16 * block.len() / HEX_STREAM_ROW);
}

#[test]
fn indexing_everything_again_gets_more_time_than_new_data_until_it_catches_up() {
    let mut log = History::default();
    for _ in 0..2 * CLOCK_EVERY / 64 {
        log.push(chunk((Rx, A, b"")));
    }
    let mut view = fresh(&STREAM, &log);
    assert_eq!(view.budget(), INDEX_BUDGET);
    view.options = HEX;
    view.restart();
    assert_eq!(view.budget(), REBUILD_BUDGET);
    view.append_within(&log, Duration::ZERO);
    assert!(view.catching_up());
    view.append(&log);
    assert!(!view.catching_up());
    assert_eq!(view.budget(), INDEX_BUDGET, "caught up");
    log.push(chunk((Rx, A, b"new")));
    view.append(&log);
    assert_eq!(view.budget(), INDEX_BUDGET);
}

/// A smaller buffer cuts the newest chunk: the view shows what the log keeps of it.
#[test]
fn a_cut_chunk_is_shown_cut() {
    let (mut log, mut view) = build(&STREAM, &[(Rx, A, b"0123456789")]);
    log.set_budget(CHUNK_OVERHEAD + 4);
    view.append(&log);
    assert_eq!(texts(&view), ["6789"]);
}

fn arbitrary_options() -> impl Strategy<Value = ViewOptions> {
    (any::<[bool; 6]>(), proptest::option::of(1usize..24)).prop_map(|(flags, wrap_columns)| ViewOptions {
        hex: flags[0],
        encoding: if flags[1] {
            TextEncoding::GBK
        } else {
            TextEncoding::UTF8
        },
        log_mode: flags[2],
        show_tx: flags[3],
        wrap_columns,
        peer_filter: flags[4].then(|| peer(B)),
        way_filter: None,
        escape_malformed: flags[5],
    })
}

/// Chunks of text with line breaks, control characters, CJK in UTF-8 and GBK and random bytes,
/// from two peers in both directions.
fn arbitrary_chunks() -> impl Strategy<Value = Vec<(Direction, u16, Vec<u8>)>> {
    let piece = prop_oneof![
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"ab\tc\x01".to_vec()),
        Just("你好".as_bytes().to_vec()),
        Just(vec![0xC4, 0xE3, 0xBA, 0xC3]),
        proptest::collection::vec(any::<u8>(), 0..6),
    ];
    let chunk = (any::<bool>(), any::<bool>(), proptest::collection::vec(piece, 0..4));
    proptest::collection::vec(chunk, 0..12).prop_map(|chunks| {
        chunks
            .into_iter()
            .map(|(tx, b, pieces)| (if tx { Tx } else { Rx }, if b { B } else { A }, pieces.concat()))
            .collect()
    })
}

proptest! {
    /// However rows are reached (one by one, in ranges, all at once for saving) and however the
    /// view was built (chunk by chunk, or all at once after an option change), they agree.
    #[test]
    fn every_way_to_the_rows_agrees(options in arbitrary_options(), chunks in arbitrary_chunks()) {
        let input: Vec<(Direction, u16, &[u8])> =
            chunks.iter().map(|(direction, port, bytes)| (*direction, *port, bytes.as_slice())).collect();
        let (log, view) = build(&options, &input);
        let rows = all_rows(&view);
        let mut changed = View::new(STREAM);
        changed.set_options(options.clone(), &log);
        settle(&mut changed, &log);
        prop_assert_eq!(&all_rows(&changed), &rows);
        // Copy, save and export keep U+FFFD (with wrapping, escapes may have ended rows where U+FFFD would not).
        let plain = ViewOptions { escape_malformed: false, ..options.clone() };
        if !options.escape_malformed || options.wrap_columns.is_none() {
            let joined: String = all_rows(&fresh(&plain, &log)).iter().map(|row| format!("{}\n", row.text)).collect();
            prop_assert_eq!(view.text_of_all(), joined);
        }
        for (index, row) in rows.iter().enumerate() {
            prop_assert_eq!(view.row(index), Some(row.clone()));
            let mid: Vec<Row> = view.rows_in(index..index + 2).collect();
            prop_assert_eq!(&mid[..], &rows[index..(index + 2).min(rows.len())]);
        }
        // Without a header or wrapping, the rows are the text itself.
        if !options.escape_malformed && !options.hex && !options.log_mode && options.wrap_columns.is_none() && options.peer_filter.is_none() && options.show_tx && input.iter().all(|(_, port, _)| *port == A) && input.iter().all(|(direction, _, _)| *direction == Rx) {
            let bytes: Vec<u8> = input.iter().flat_map(|(_, _, bytes)| bytes.iter().copied()).collect();
            let mut decoder = options.encoding.decoder();
            let text = decoder.decode(&bytes);
            let shown: String = rows.iter().map(|row| row.text.as_str()).collect();
            let expected: String = text
                .chars()
                .filter(|ch| !matches!(ch, '\r' | '\n'))
                .map(|ch| if ch.is_control() && ch != '\t' { format!("\\x{:02X}", u32::from(ch)) } else { ch.to_string() })
                .collect();
            prop_assert_eq!(shown, expected);
        }
    }
}

/// A relay's pair: client A, its upstream leg B. Both sides belong to A; each side keeps its own text stream.
#[test]
fn a_relays_chunks_say_their_way_and_filter_by_pair_and_way() {
    use crate::history::{Leg, Way};
    let upstream = Leg::Upstream { client: peer(A) };
    let said = [
        (Rx, A, Leg::Client, &b"ping\n"[..]),
        (Rx, B, upstream, b"pong\n"),
        (Tx, B, upstream, b"up\n"),
        (Rx, 7000, Leg::Client, b"other\n"),
    ];
    let mut log = History::default();
    for (direction, port, leg, bytes) in said {
        log.push(chunk((direction, port, bytes)).on(leg));
    }
    let view_of = |options: ViewOptions| {
        let mut view = View::new(options);
        settle(&mut view, &log);
        texts(&view)
    };
    assert_eq!(
        view_of(LOG),
        [
            "[12:00:00.123] C → U 127.0.0.1:5000",
            "ping",
            "[12:00:00.123] U → C 127.0.0.1:5000",
            "pong",
            "[12:00:00.123] TX → U 127.0.0.1:5000",
            "up",
            "[12:00:00.123] C → U 127.0.0.1:7000",
            "other",
        ]
    );
    let pair = ViewOptions {
        peer_filter: Some(peer(A)),
        ..STREAM
    };
    assert_eq!(view_of(pair.clone()), ["ping", "pong", "up"]);
    let towards_upstream = ViewOptions {
        way_filter: Some(Way::ToUpstream),
        ..pair
    };
    assert_eq!(view_of(towards_upstream), ["ping", "up"]);
    let rows: Vec<Option<Way>> = {
        let mut view = View::new(STREAM);
        settle(&mut view, &log);
        all_rows(&view).into_iter().map(|row| row.way).collect()
    };
    assert_eq!(
        rows,
        [
            Some(Way::ToUpstream),
            Some(Way::ToClient),
            Some(Way::ToUpstream),
            Some(Way::ToUpstream)
        ]
    );
}

#[test]
fn a_peer_connecting_and_leaving_are_rows_of_their_own() {
    use crate::history::Note;
    use crate::net::LeaveReason;
    let note = |port, note| Chunk::noted(noon(), peer(port), note);
    let left = Note::Disconnected(LeaveReason::Reset);
    for options in [STREAM, LOG, HEX] {
        let mut log = History::default();
        log.push(note(A, Note::Connected));
        log.push(chunk((Rx, A, b"ab")));
        log.push(note(A, left));
        // The same peer's data after it is not the row before it continued.
        log.push(chunk((Rx, A, b"c")));
        let view = fresh(&options, &log);
        let kinds: Vec<RowKind> = all_rows(&view).iter().map(|row| row.kind).collect();
        let data = match options.log_mode {
            true => vec![RowKind::Header, RowKind::Data],
            false => vec![RowKind::Data],
        };
        let expected: Vec<RowKind> = [
            vec![RowKind::Note(Note::Connected)],
            data.clone(),
            vec![RowKind::Note(left)],
            data,
        ]
        .concat();
        assert_eq!(kinds, expected, "{options:?}");
        assert_eq!(all_rows(&view)[0].text, "[12:00:00.123] 127.0.0.1:5000", "{options:?}");
        let saved = view.text_of_all();
        assert!(
            saved.starts_with("[12:00:00.123] 127.0.0.1:5000 connected\n")
                && saved.contains("[12:00:00.123] 127.0.0.1:5000 disconnected (reset)\n"),
            "{options:?}: {saved:?}"
        );
    }
}
