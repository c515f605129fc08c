//! Live pcap: every byte received and sent, and every TCP peer's join and leave, written as pcapng while the
//! session runs (the engine's own copy, not the view's). The packets are made on a thread of its own behind a
//! bounded queue; while it is behind, the worker neither reads nor writes (`Ctx::rx_paused`, `Ctx::tx_paused`),
//! so nothing is lost and the sequence numbers follow what went on the wire.
use std::io::BufWriter;
use std::net::SocketAddr;
use std::path::Path;
use std::time::SystemTime;

use crossbeam_channel::{Receiver, TryRecvError};

use super::capture::{CaptureFile, open};
use super::error::PcapFileError;
use super::spool::{Pool, Shared, Spool};
use super::{Bytes, LeaveReason};
use crate::codec::pcapng::{Carrier, PcapError, PcapSynth, Way};

/// Records queued before back-pressure starts (a data record is at most one socket read or one write).
const QUEUE_RECORDS: usize = 64;
/// Small packets are gathered up to this before they go to the file; a bigger payload goes straight on, uncopied.
const WRITE_BUFFER: usize = 32 * 1024;

/// The bytes of a data record: a copy of a read (the capture's too), or the part of a send the socket took.
enum Payload {
    Copied(Shared),
    Shared(Bytes, std::ops::Range<usize>),
}

enum Record {
    Joined {
        opened_by: Way,
    },
    Data {
        way: Way,
        bytes: Payload,
    },
    Left {
        closed_by: Way,
        reset: bool,
    },
    /// TLS secrets (NSS key log lines), before the records they decrypt.
    Secrets(Vec<u8>),
}

/// One record, when it happened and between whom.
struct Timed {
    at: SystemTime,
    local: SocketAddr,
    peer: SocketAddr,
    record: Record,
}

pub struct Pcap {
    spool: Spool<Timed, PcapFileError>,
}

impl Pcap {
    /// Opens the file at once (a bad path is an immediate error) and writes its header. A file appended to
    /// (a window's reopened session) gets a section of its own, which Wireshark reads as one more.
    pub fn create(
        target: &CaptureFile,
        carrier: Carrier,
        pool: Pool,
        on_exit: impl FnOnce() + Send + 'static,
    ) -> Result<Pcap, PcapFileError> {
        let path = target.path.as_path();
        let io = |source| PcapFileError {
            path: path.to_owned(),
            source,
        };
        let file = open(target).map_err(io)?;
        let synth = PcapSynth::new(BufWriter::with_capacity(WRITE_BUFFER, file), carrier)
            .map_err(|error| pcap_error(path, error))?;
        let owned = path.to_owned();
        let spool = Spool::spawn(
            "wirepad-pcap",
            path,
            QUEUE_RECORDS,
            move |records| write_all(synth, records, &pool, &owned),
            on_exit,
            |path| PcapFileError {
                path: path.to_owned(),
                source: std::io::Error::other("the pcap writer stopped unexpectedly"),
            },
        )
        .map_err(io)?;
        Ok(Pcap { spool })
    }

    /// A TCP peer connected; `opened_by` `In`: it connected to us.
    pub fn joined(&mut self, local: SocketAddr, peer: SocketAddr, opened_by: Way) {
        self.push(local, peer, Record::Joined { opened_by });
    }

    /// Bytes read from `peer`.
    pub fn received(&mut self, local: SocketAddr, peer: SocketAddr, chunk: Shared) {
        let bytes = Payload::Copied(chunk);
        self.push(local, peer, Record::Data { way: Way::In, bytes });
    }

    /// The part `range` of `bytes` went to `peer`.
    pub fn sent(&mut self, local: SocketAddr, peer: SocketAddr, bytes: &Bytes, range: std::ops::Range<usize>) {
        let bytes = Payload::Shared(bytes.clone(), range);
        self.push(local, peer, Record::Data { way: Way::Out, bytes });
    }

    /// TLS secrets of the connection with `peer`, as NSS key log lines.
    pub fn secrets(&mut self, local: SocketAddr, peer: SocketAddr, key_log: Vec<u8>) {
        self.push(local, peer, Record::Secrets(key_log));
    }

    /// A TCP peer is gone: a reset or an error ends its stream with RST, a close with FIN from whoever closed.
    pub fn left(&mut self, local: SocketAddr, peer: SocketAddr, reason: LeaveReason) {
        let (closed_by, reset) = match reason {
            LeaveReason::Closed => (Way::In, false),
            LeaveReason::Kicked | LeaveReason::Idle => (Way::Out, false),
            LeaveReason::Reset | LeaveReason::Error => (Way::In, true),
        };
        self.push(local, peer, Record::Left { closed_by, reset });
    }

    /// Never refused: a full queue holds the record, and `is_blocked` tells the worker to pause.
    fn push(&mut self, local: SocketAddr, peer: SocketAddr, record: Record) {
        self.spool.push(Timed {
            at: SystemTime::now(),
            local,
            peer,
            record,
        });
    }

    /// Tries to queue what is held; `true` when nothing is held any more.
    pub fn retry(&mut self) -> bool {
        self.spool.retry()
    }

    pub fn is_blocked(&self) -> bool {
        self.spool.is_blocked()
    }

    /// The writer stopped by itself: the error it met. (`None` while it runs.)
    pub fn failed(&mut self) -> Option<PcapFileError> {
        self.spool.failed()
    }

    /// Queues what is held, lets the writer end every open TCP stream with FIN and flush, and waits for it.
    pub fn finish(self) -> Result<(), PcapFileError> {
        self.spool.finish()
    }
}

fn write_all(
    mut synth: PcapSynth<BufWriter<std::fs::File>>,
    records: &Receiver<Timed>,
    pool: &Pool,
    path: &Path,
) -> Result<(), PcapFileError> {
    let pcap = |error| pcap_error(path, error);
    let mut last = SystemTime::now();
    loop {
        let timed = match records.try_recv() {
            Ok(timed) => timed,
            Err(TryRecvError::Empty) => {
                // Idle: put what we have on disk before waiting, so the file is current.
                synth.flush().map_err(|source| PcapFileError {
                    path: path.to_owned(),
                    source,
                })?;
                match records.recv() {
                    Ok(timed) => timed,
                    Err(_) => break,
                }
            }
            Err(TryRecvError::Disconnected) => break,
        };
        let Timed {
            at,
            local,
            peer,
            record,
        } = timed;
        last = at;
        match record {
            Record::Joined { opened_by } => synth.joined(at, local, peer, opened_by).map_err(pcap)?,
            Record::Data { way, bytes } => match bytes {
                Payload::Copied(chunk) => {
                    synth.data(at, local, peer, way, &chunk).map_err(pcap)?;
                    pool.recycle(chunk);
                }
                Payload::Shared(bytes, range) => synth.data(at, local, peer, way, &bytes[range]).map_err(pcap)?,
            },
            Record::Left { closed_by, reset } => synth.left(at, local, peer, closed_by, reset).map_err(pcap)?,
            Record::Secrets(key_log) => synth.secrets(&key_log).map_err(|source| PcapFileError {
                path: path.to_owned(),
                source,
            })?,
        }
    }
    // The capture ends, not the connections: the streams still open are closed in the file, so Wireshark sees
    // each one whole.
    let mut out = synth.finish(last.max(SystemTime::now())).map_err(pcap)?;
    std::io::Write::flush(&mut out).map_err(|source| PcapFileError {
        path: path.to_owned(),
        source,
    })
}

/// The OS error underneath where there is one (a full disk says so), else what went wrong in words.
fn pcap_error(path: &Path, error: PcapError) -> PcapFileError {
    let source = match error {
        PcapError::Write(pcap_file::PcapError::IoError(source)) | PcapError::Io(source) => source,
        other => std::io::Error::other(other.to_string()),
    };
    PcapFileError {
        path: path.to_owned(),
        source,
    }
}
