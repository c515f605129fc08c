//! The kept history as records, one per read (pieces of one read joined again), for CSV and JSON lines: time,
//! direction, peer, length, the bytes as hex and as text in the view's encoding (decoded as a stream per peer and
//! direction, so a character split between reads lands whole in the record where it ends).
use std::io::{self, Write};
use std::net::SocketAddr;

use chrono::{DateTime, Local, SecondsFormat};
use serde::{Deserialize, Serialize};

use crate::codec::hex::to_hex;
use crate::codec::text::TextEncoding;
use crate::history::{Chunk, Direction};
use crate::render::TextStreams;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// RFC 3339 with microseconds and the local offset.
    pub time: String,
    /// "rx" or "tx".
    pub direction: String,
    pub peer: String,
    pub length: usize,
    pub hex: String,
    pub text: String,
}

/// The records of `chunks` in order, decoded with `encoding`, one at a time (a 64 MiB history is never held
/// twice).
pub fn records<'a>(
    chunks: impl IntoIterator<Item = &'a Chunk>,
    encoding: TextEncoding,
) -> impl Iterator<Item = Record> {
    let mut streams: TextStreams<(SocketAddr, Direction)> = TextStreams::new(encoding);
    let mut chunks = chunks.into_iter().peekable();
    std::iter::from_fn(move || {
        let first = chunks.next()?;
        let mut bytes = first.bytes.to_vec();
        // Pieces of one read follow it directly.
        while let Some(next) =
            chunks.next_if(|next| next.continued && next.peer == first.peer && next.direction == first.direction)
        {
            bytes.extend_from_slice(&next.bytes);
        }
        Some(record(first.at, first.direction, first.peer, &bytes, &mut streams))
    })
}

fn record(
    at: DateTime<Local>,
    direction: Direction,
    peer: SocketAddr,
    bytes: &[u8],
    streams: &mut TextStreams<(SocketAddr, Direction)>,
) -> Record {
    let mut text = String::new();
    streams.decode((peer, direction), bytes, &mut text);
    Record {
        time: at.to_rfc3339_opts(SecondsFormat::Micros, false),
        direction: match direction {
            Direction::Rx => "rx",
            Direction::Tx => "tx",
        }
        .into(),
        peer: peer.to_string(),
        length: bytes.len(),
        hex: to_hex(bytes),
        text,
    }
}

/// CSV with a header row (RFC 4180 quoting, as the csv crate writes it).
pub fn write_csv(out: impl Write, records: impl IntoIterator<Item = Record>) -> io::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    for record in records {
        writer.serialize(&record).map_err(io::Error::other)?;
    }
    writer.flush()
}

/// One JSON object per line.
pub fn write_json_lines(mut out: impl Write, records: impl IntoIterator<Item = Record>) -> io::Result<()> {
    for record in records {
        serde_json::to_writer(&mut out, &record).map_err(io::Error::other)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Chunk;

    fn chunks() -> Vec<Chunk> {
        let (a, b): (SocketAddr, SocketAddr) = ("127.0.0.1:1".parse().expect("a"), "[::1]:2".parse().expect("b"));
        let at = Local::now();
        let mut continued = Chunk::new(at, a, Direction::Rx, b"\xE3, \"quoted\"\r\n".to_vec());
        continued.continued = true;
        vec![
            // 你好 in GBK is C4 E3 BA C3: the first character split between two reads of a.
            Chunk::new(at, a, Direction::Rx, vec![0xC4]),
            Chunk::new(at, b, Direction::Tx, b"\x01\x03".to_vec()),
            Chunk::new(at, a, Direction::Rx, vec![0xE3, 0xBA, 0xC3]),
            Chunk::new(at, a, Direction::Rx, b"x".to_vec()),
            continued,
        ]
    }

    #[test]
    fn records_join_pieces_of_a_read_and_decode_per_peer() {
        let chunks = chunks();
        let records: Vec<Record> = records(&chunks, TextEncoding::GBK).collect();
        let seen: Vec<(&str, &str, usize, &str, &str)> = records
            .iter()
            .map(|r| {
                (
                    r.direction.as_str(),
                    r.peer.as_str(),
                    r.length,
                    r.hex.as_str(),
                    r.text.as_str(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                ("rx", "127.0.0.1:1", 1, "C4", ""),
                ("tx", "[::1]:2", 2, "01 03", "\u{1}\u{3}"),
                ("rx", "127.0.0.1:1", 3, "E3 BA C3", "你好"),
                (
                    "rx",
                    "127.0.0.1:1",
                    14,
                    "78 E3 2C 20 22 71 75 6F 74 65 64 22 0D 0A",
                    "x\u{FFFD}, \"quoted\"\r\n"
                ),
            ]
        );
    }

    #[test]
    fn csv_and_json_lines_read_back_as_the_same_records() {
        let chunks = chunks();
        let records: Vec<Record> = records(&chunks, TextEncoding::GBK).collect();
        let mut csv_bytes = Vec::new();
        write_csv(&mut csv_bytes, records.clone()).expect("csv");
        let header = csv_bytes.split(|b| *b == b'\n').next().expect("a header");
        assert_eq!(header, b"time,direction,peer,length,hex,text");
        let back: Vec<Record> = csv::Reader::from_reader(csv_bytes.as_slice())
            .deserialize()
            .collect::<Result<_, _>>()
            .expect("csv reads back");
        assert_eq!(back, records);
        let mut json = Vec::new();
        write_json_lines(&mut json, records.clone()).expect("json");
        let back: Vec<Record> = json
            .split(|b| *b == b'\n')
            .filter(|line| !line.is_empty())
            .map(|line| serde_json::from_slice(line).expect("a JSON object"))
            .collect();
        assert_eq!(back, records);
        assert_eq!(String::from_utf8(json).expect("utf-8").lines().count(), records.len());
    }
}
