//! How a chunk is written out, in one place for the receive view, the command line's printer and export: the time
//! of day, the two header forms, and text decoded per peer with streaming decoders (a character split across
//! reads comes out whole). Hex is `codec::hex::to_hex` everywhere.
use std::collections::HashMap;
use std::fmt::Write;
use std::net::SocketAddr;

use chrono::{DateTime, Local, Timelike};

use crate::codec::text::{StreamDecoder, TextEncoding};
use crate::history::{Direction, Note, Way};
use crate::net::LeaveReason;

/// "12:00:00.123". A leap second's nanoseconds run past 10⁹; it shows as .999.
pub fn clock(at: &DateTime<Local>) -> String {
    let time = at.time();
    let millis = (time.nanosecond() / 1_000_000).min(999);
    format!(
        "{:02}:{:02}:{:02}.{millis:03}",
        time.hour(),
        time.minute(),
        time.second()
    )
}

/// The view's header row: "[12:00:00.123] RX ← 127.0.0.1:5000" (the arrow points the way the bytes went).
pub fn header(at: &DateTime<Local>, direction: Direction, peer: SocketAddr) -> String {
    let (name, arrow) = match direction {
        Direction::Rx => ("RX", '←'),
        Direction::Tx => ("TX", '→'),
    };
    format!("[{}] {name} {arrow} {peer}", clock(at))
}

/// A relay's header row: "[12:00:00.123] C → U 127.0.0.1:5000", the way the bytes went as the command line's
/// `--log` says it and the pair's client; what the window injected is "TX → U" or "TX → C".
pub fn relay_header(at: &DateTime<Local>, way: Way, injected: bool, client: SocketAddr) -> String {
    let label = match (injected, way) {
        (false, Way::ToUpstream) => "C → U",
        (false, Way::ToClient) => "U → C",
        (true, Way::ToUpstream) => "TX → U",
        (true, Way::ToClient) => "TX → C",
    };
    format!("[{}] {label} {client}", clock(at))
}

/// A note row's words in a saved or exported view: "connected", "disconnected (reset)".
pub fn note(note: Note) -> String {
    let reason = match note {
        Note::Connected => return "connected".to_owned(),
        Note::Disconnected(LeaveReason::Closed) => "closed",
        Note::Disconnected(LeaveReason::Reset) => "reset",
        Note::Disconnected(LeaveReason::Kicked) => "kicked",
        Note::Disconnected(LeaveReason::Error) => "error",
        Note::Disconnected(LeaveReason::Idle) => "idle",
    };
    format!("disconnected ({reason})")
}

/// The command line's `--log` line (a contract): "[12:00:00.123] 127.0.0.1:5000: DATA", ending with one newline
/// (data that ends its own line keeps it).
pub fn log_line(out: &mut String, at: &DateTime<Local>, peer: impl std::fmt::Display, data: &str) {
    let _ = write!(out, "[{}] {peer}: {data}", clock(at));
    if !data.ends_with('\n') {
        out.push('\n');
    }
}

/// One streaming decoder per stream (a peer, or a peer and a direction): text split across reads decodes whole,
/// and a stream's unfinished character becomes U+FFFD when it ends.
pub struct TextStreams<K = SocketAddr> {
    encoding: TextEncoding,
    decoders: HashMap<K, StreamDecoder>,
}

impl<K: Copy + Eq + std::hash::Hash> TextStreams<K> {
    pub fn new(encoding: TextEncoding) -> TextStreams<K> {
        TextStreams {
            encoding,
            decoders: HashMap::new(),
        }
    }

    /// Appends the text `bytes` complete to `out`; an unfinished character waits for the peer's next bytes.
    pub fn decode(&mut self, peer: K, bytes: &[u8], out: &mut String) {
        let encoding = self.encoding;
        self.decoders
            .entry(peer)
            .or_insert_with(|| encoding.decoder())
            .decode_into(bytes, out);
    }

    /// Ends a peer's stream: what it left unfinished (U+FFFD), or nothing.
    pub fn finish(&mut self, peer: K) -> String {
        self.decoders
            .remove(&peer)
            .map(|mut decoder| decoder.finish())
            .unwrap_or_default()
    }
}

impl<K: Copy + Eq + Ord + std::hash::Hash> TextStreams<K> {
    /// Every stream still open, in order.
    pub fn peers(&self) -> Vec<K> {
        let mut peers: Vec<K> = self.decoders.keys().copied().collect();
        peers.sort_unstable();
        peers
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn noon() -> DateTime<Local> {
        Local
            .with_ymd_and_hms(2026, 11, 30, 12, 0, 0)
            .single()
            .expect("a local noon")
            + chrono::Duration::milliseconds(123)
    }

    #[test]
    fn headers_and_log_lines() {
        let peer: SocketAddr = "127.0.0.1:5000".parse().expect("addr");
        assert_eq!(
            header(&noon(), Direction::Rx, peer),
            "[12:00:00.123] RX ← 127.0.0.1:5000"
        );
        assert_eq!(
            header(&noon(), Direction::Tx, peer),
            "[12:00:00.123] TX → 127.0.0.1:5000"
        );
        assert_eq!(
            relay_header(&noon(), Way::ToClient, false, peer),
            "[12:00:00.123] U → C 127.0.0.1:5000"
        );
        assert_eq!(
            relay_header(&noon(), Way::ToUpstream, true, peer),
            "[12:00:00.123] TX → U 127.0.0.1:5000"
        );
        let mut out = String::new();
        log_line(&mut out, &noon(), peer, "ok\r\n");
        log_line(&mut out, &noon(), peer, "no newline");
        assert_eq!(
            out,
            "[12:00:00.123] 127.0.0.1:5000: ok\r\n[12:00:00.123] 127.0.0.1:5000: no newline\n"
        );
    }

    #[test]
    fn a_character_split_between_reads_decodes_whole_per_peer() {
        let (a, b): (SocketAddr, SocketAddr) = ("127.0.0.1:1".parse().expect("a"), "127.0.0.1:2".parse().expect("b"));
        let mut streams = TextStreams::new(TextEncoding::GBK);
        let mut out = String::new();
        // 你 is C4 E3 in GBK: its first byte from a, then b's own text, then a's second byte.
        streams.decode(a, &[0xC4], &mut out);
        streams.decode(b, b"hi", &mut out);
        streams.decode(a, &[0xE3], &mut out);
        assert_eq!(out, "hi你");
        streams.decode(b, &[0xC4], &mut out);
        assert_eq!(streams.peers(), vec![a, b]);
        assert_eq!(streams.finish(b), "\u{FFFD}");
        assert_eq!(streams.finish(b), "", "once");
    }
}
