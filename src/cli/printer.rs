//! Received data on stdout: text, hex or log lines.
use std::collections::HashMap;
use std::io::{self, BufWriter, StdoutLock, Write};
use std::net::SocketAddr;
use std::time::SystemTime;

use chrono::{DateTime, Local};

use crate::codec::hex::to_hex;
use crate::codec::text::{StreamDecoder, TextEncoding};

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
    decoders: HashMap<SocketAddr, StreamDecoder>,
    /// Decoded text, reused: a read of up to 1 MiB decodes to up to 3 MiB, too big to allocate afresh each time.
    text: String,
}

impl Printer {
    pub(super) fn new(style: PrintStyle) -> Self {
        Printer {
            style,
            out: BufWriter::new(io::stdout().lock()),
            decoders: HashMap::new(),
            text: String::new(),
        }
    }

    pub(super) fn chunk(&mut self, at: SystemTime, peer: SocketAddr, bytes: &[u8]) -> io::Result<()> {
        if self.style.hex {
            let data = to_hex(bytes);
            return self.show(at, peer, &data);
        }
        let encoding = self.style.encoding;
        let decoder = self.decoders.entry(peer).or_insert_with(|| encoding.decoder());
        let mut text = std::mem::take(&mut self.text);
        text.clear();
        decoder.decode_into(bytes, &mut text);
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
        let mut peers: Vec<SocketAddr> = self.decoders.keys().copied().collect();
        peers.sort_unstable();
        for peer in peers {
            self.peer_gone(peer)?;
        }
        Ok(())
    }

    /// Ends a peer's text stream: an unfinished character becomes U+FFFD.
    pub(super) fn peer_gone(&mut self, peer: SocketAddr) -> io::Result<()> {
        let Some(mut decoder) = self.decoders.remove(&peer) else {
            return Ok(());
        };
        let tail = decoder.finish();
        if tail.is_empty() {
            return Ok(());
        }
        self.show(SystemTime::now(), peer, &tail)
    }

    fn show(&mut self, at: SystemTime, peer: SocketAddr, data: &str) -> io::Result<()> {
        if self.style.log {
            let time = DateTime::<Local>::from(at).format("%H:%M:%S%.3f");
            write!(self.out, "[{time}] {peer}: {data}")?;
            // Data that ends its own line (e.g. "ok\r\n") keeps it; anything else gets one.
            if !data.ends_with('\n') {
                self.out.write_all(b"\n")?;
            }
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
