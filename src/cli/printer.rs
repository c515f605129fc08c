//! Received data on stdout: text, hex or log lines.
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
}

impl Printer {
    pub(super) fn new(style: PrintStyle) -> Self {
        Printer {
            style,
            out: BufWriter::new(io::stdout().lock()),
            streams: TextStreams::new(style.encoding),
            text: String::new(),
            line: String::new(),
        }
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

    /// Ends a peer's text stream: an unfinished character becomes U+FFFD.
    pub(super) fn peer_gone(&mut self, peer: SocketAddr) -> io::Result<()> {
        let tail = self.streams.finish(peer);
        if tail.is_empty() {
            return Ok(());
        }
        self.show(SystemTime::now(), peer, &tail)
    }

    fn show(&mut self, at: SystemTime, peer: SocketAddr, data: &str) -> io::Result<()> {
        if self.style.log {
            self.line.clear();
            log_line(&mut self.line, &DateTime::<Local>::from(at), peer, data);
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
