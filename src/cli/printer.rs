//! Received data on stdout: text, hex or log lines.
use std::collections::HashMap;
use std::io::{self, BufWriter, StdoutLock, Write};
use std::net::SocketAddr;
use std::time::SystemTime;

use chrono::{DateTime, Local};

use crate::codec::hex::to_hex;
use crate::codec::text::TextEncoding;
use crate::render::{TextStreams, log_line};

/// How received data is shown.
#[derive(Clone, Copy)]
pub(super) struct PrintStyle {
    pub(super) hex: bool,
    pub(super) log: bool,
    pub(super) encoding: TextEncoding,
}

/// Received data on stdout: decoded text (one streaming decoder per peer, so a character split
/// across reads survives), hex lines, or log lines. Flushed once per event batch.
pub(super) struct Printer {
    style: PrintStyle,
    out: BufWriter<StdoutLock<'static>>,
    streams: TextStreams,
    /// Decoded text, reused: a read of up to 1 MiB decodes to up to 3 MiB, too big to allocate afresh each time.
    text: String,
    /// A log line, reused likewise.
    line: String,
    /// A relay's legs, shown in log lines as the way their bytes go ("client → upstream").
    labels: HashMap<SocketAddr, String>,
    /// A relay's clients, each with the name of its upstream leg.
    vias: HashMap<SocketAddr, SocketAddr>,
}

impl Printer {
    pub(super) fn new(style: PrintStyle) -> Self {
        Printer {
            style,
            out: BufWriter::new(io::stdout().lock()),
            streams: TextStreams::new(style.encoding),
            text: String::new(),
            line: String::new(),
            labels: HashMap::new(),
            vias: HashMap::new(),
        }
    }

    /// A relay pair: what each of its legs received is shown with the way it goes.
    pub(super) fn paired(&mut self, client: SocketAddr, via: SocketAddr, upstream: SocketAddr) {
        self.labels.insert(client, format!("{client} → {upstream}"));
        self.labels.insert(via, format!("{upstream} → {client}"));
        self.vias.insert(client, via);
    }

    pub(super) fn chunk(&mut self, at: SystemTime, peer: SocketAddr, bytes: &[u8]) -> io::Result<()> {
        if self.style.hex {
            let data = to_hex(bytes);
            return self.show(at, peer, &data);
        }
        let mut text = std::mem::take(&mut self.text);
        text.clear();
        self.streams.decode(peer, bytes, &mut text);
        // Only part of a character: the decoder keeps it for the next chunk, and a log line
        // with no data would say nothing.
        let shown = if text.is_empty() && !bytes.is_empty() {
            Ok(())
        } else {
            self.show(at, peer, &text)
        };
        self.text = text;
        shown
    }

    /// Ends every text stream when the run ends: unfinished characters become U+FFFD.
    pub(super) fn finish(&mut self) -> io::Result<()> {
        for peer in self.streams.peers() {
            self.peer_gone(peer)?;
        }
        Ok(())
    }

    /// Ends a peer's text stream (and a relay client's upstream leg's): an unfinished character becomes U+FFFD.
    pub(super) fn peer_gone(&mut self, peer: SocketAddr) -> io::Result<()> {
        let via = self.vias.remove(&peer);
        for leg in std::iter::once(peer).chain(via) {
            let tail = self.streams.finish(leg);
            if !tail.is_empty() {
                self.show(SystemTime::now(), leg, &tail)?;
            }
            self.labels.remove(&leg);
        }
        Ok(())
    }

    fn show(&mut self, at: SystemTime, peer: SocketAddr, data: &str) -> io::Result<()> {
        if self.style.log {
            self.line.clear();
            let at = DateTime::<Local>::from(at);
            match self.labels.get(&peer) {
                Some(label) => log_line(&mut self.line, &at, label, data),
                None => log_line(&mut self.line, &at, peer, data),
            }
            self.out.write_all(self.line.as_bytes())?;
        } else {
            self.out.write_all(data.as_bytes())?;
            if self.style.hex {
                self.out.write_all(b"\n")?;
            }
        }
        Ok(())
    }

    pub(super) fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
