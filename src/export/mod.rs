//! What leaves the window as a file: the history on show as text (as shown), CSV, JSON lines or pcapng for
//! Wireshark. Written on the caller's thread (the window runs it on one of its own) with progress and cancel; a
//! file that could not be finished is removed.
pub mod find;
pub mod records;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::SystemTime;

use crate::codec::pcapng::{self, Carrier, PcapSynth, Way};
use crate::history::{Chunk, Direction};
use crate::view::ViewSnapshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The rows as the view shows them.
    Txt,
    Csv,
    JsonLines,
    Pcapng,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Txt, Format::Csv, Format::JsonLines, Format::Pcapng];

    pub fn extension(self) -> &'static str {
        match self {
            Format::Txt => "txt",
            Format::Csv => "csv",
            Format::JsonLines => "jsonl",
            Format::Pcapng => "pcapng",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Txt => "TXT",
            Format::Csv => "CSV",
            Format::JsonLines => "JSON lines",
            Format::Pcapng => "pcapng (Wireshark)",
        }
    }
}

/// What an export needs besides the history: for pcapng, our end of the session and what its packets carry.
#[derive(Debug, Clone, Copy)]
pub struct Session {
    pub local: SocketAddr,
    pub carrier: Carrier,
}

/// Chunks written so far of how many, and the cancel flag, shared with whoever shows the progress.
#[derive(Debug, Default)]
pub struct Progress {
    pub done: AtomicU64,
    pub total: AtomicU64,
    pub cancel: AtomicBool,
}

impl Progress {
    /// 0.0 to 1.0.
    pub fn fraction(&self) -> f32 {
        let total = self.total.load(Ordering::Relaxed);
        if total == 0 {
            return 0.0;
        }
        (self.done.load(Ordering::Relaxed) as f32 / total as f32).min(1.0)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("cannot write {}: {source}", path.display())]
    Pcap { path: PathBuf, source: pcapng::PcapError },
    #[error("export to {} cancelled", path.display())]
    Cancelled { path: PathBuf },
}

/// Writes `snapshot` to `path` as `format`; on failure or cancel the partial file is removed.
pub fn write(
    snapshot: &ViewSnapshot,
    format: Format,
    session: Session,
    path: &Path,
    progress: &Progress,
) -> Result<(), ExportError> {
    progress.total.store(snapshot.len() as u64, Ordering::Relaxed);
    let result = write_unchecked(snapshot, format, session, path, progress).and_then(|()| {
        if progress.cancel.load(Ordering::Relaxed) {
            Err(ExportError::Cancelled { path: path.into() })
        } else {
            Ok(())
        }
    });
    if result.is_err() {
        let _ = std::fs::remove_file(path);
    }
    result
}

fn write_unchecked(
    snapshot: &ViewSnapshot,
    format: Format,
    session: Session,
    path: &Path,
    progress: &Progress,
) -> Result<(), ExportError> {
    let io = |source| ExportError::Write {
        path: path.into(),
        source,
    };
    let mut out = BufWriter::new(File::create(path).map_err(io)?);
    // Each chunk counts as it is taken; a cancel stops taking them.
    let chunks = || {
        snapshot
            .chunks()
            .take_while(|_| !progress.cancel.load(Ordering::Relaxed))
            .inspect(|_| {
                progress.done.fetch_add(1, Ordering::Relaxed);
            })
            // A peer connecting or leaving is a row of the text, not data.
            .filter(|chunk| chunk.note.is_none())
    };
    match format {
        Format::Txt => {
            out.write_all(snapshot.text().as_bytes()).map_err(io)?;
            progress.done.store(snapshot.len() as u64, Ordering::Relaxed);
        }
        Format::Csv => records::write_csv(&mut out, records::records(chunks(), snapshot.encoding())).map_err(io)?,
        Format::JsonLines => {
            records::write_json_lines(&mut out, records::records(chunks(), snapshot.encoding())).map_err(io)?
        }
        Format::Pcapng => {
            let pcap = |source| ExportError::Pcap {
                path: path.into(),
                source,
            };
            let mut synth = PcapSynth::new(&mut out, session.carrier).map_err(pcap)?;
            let mut last = SystemTime::UNIX_EPOCH;
            for chunk in chunks() {
                last = chunk.at.into();
                synth
                    .data(
                        last,
                        local_for(session.local, chunk.peer),
                        chunk.peer,
                        way(chunk),
                        &chunk.bytes,
                    )
                    .map_err(pcap)?;
            }
            synth.finish(last).map_err(pcap)?;
        }
    }
    out.flush().map_err(io)?;
    out.get_ref().sync_all().map_err(io)
}

/// Our end of a conversation with `peer`. A server bound to 0.0.0.0 (or ::) talks to a loopback peer from the
/// loopback address, as the live capture records it; for other peers only the system knew which address it used.
fn local_for(local: SocketAddr, peer: SocketAddr) -> SocketAddr {
    if !local.ip().is_unspecified() || !peer.ip().is_loopback() {
        return local;
    }
    let loopback: std::net::IpAddr = match peer {
        SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
        SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
    };
    SocketAddr::new(loopback, local.port())
}

fn way(chunk: &Chunk) -> Way {
    match chunk.direction {
        Direction::Rx => Way::In,
        Direction::Tx => Way::Out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 22.11: an exported pcapng names a 0.0.0.0 server's end as the live capture does, 127.0.0.1.
    #[test]
    fn a_wildcard_server_talks_to_loopback_peers_from_loopback() {
        let addr = |text: &str| text.parse::<SocketAddr>().expect("addr");
        assert_eq!(local_for(addr("0.0.0.0:7"), addr("127.0.0.1:9")), addr("127.0.0.1:7"));
        assert_eq!(local_for(addr("[::]:7"), addr("[::1]:9")), addr("[::1]:7"));
        assert_eq!(
            local_for(addr("0.0.0.0:7"), addr("10.0.0.2:9")),
            addr("0.0.0.0:7"),
            "unknown: kept"
        );
        assert_eq!(local_for(addr("10.0.0.1:7"), addr("127.0.0.1:9")), addr("10.0.0.1:7"));
    }
}
