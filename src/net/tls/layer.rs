//! The TLS layer of one connection. rustls does no I/O: records are read from and written to the socket here,
//! plaintext goes in and out of the session, and the connection's own queue stays the only bounded queue (nothing
//! is handed to rustls while it still holds records to write, or before the handshake is done).
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;

use mio::net::TcpStream;
use rustls::pki_types::ServerName;
use rustls::{ClientConnection, Connection, ProtocolVersion, ServerConnection};

use super::keylog::Secrets;
use super::report::{Handshake, Heard, TlsFailure, Verdict, failure, no_tls};
use super::{CertInfo, ClientTls, ServerTls};

/// How many of the peer's first bytes are kept, to show them when they were no TLS.
const FIRST_BYTES: usize = 16;

/// What reading a TLS connection gave instead of plaintext.
pub(in crate::net) enum ReadError {
    Io(io::Error),
    /// The TLS session failed, and why.
    Tls(TlsFailure),
}

enum Side {
    Client {
        tls: Arc<ClientTls>,
        name: ServerName<'static>,
    },
    Server {
        checks_clients: bool,
    },
}

pub(in crate::net) struct TlsLayer {
    session: Connection,
    side: Side,
    first: Vec<u8>,
    announced: bool,
    /// A relay's leg, named in its handshake line.
    leg: Option<&'static str>,
    /// The session has ended (it failed, or its close_notify is queued): no close_notify after that.
    ended: bool,
    secrets: Arc<Secrets>,
    /// Keep what goes over the socket for the pcap (`take_wire`): only while there is one.
    pub recording: bool,
    wire: Wire,
}

/// What went over a TLS connection's socket since the last look, for the pcap; the secrets come first, since
/// Wireshark needs them before the records they decrypt.
#[derive(Default)]
pub struct Wire {
    pub secrets: Vec<u8>,
    pub read: Vec<u8>,
    pub written: Vec<u8>,
}

impl TlsLayer {
    /// A client's layer towards `remote` (`host:port`); `Err` in words when the name cannot be used.
    pub fn client(tls: &Arc<ClientTls>, remote: &str) -> Result<TlsLayer, TlsFailure> {
        let name = tls.server_name(remote)?;
        let session = ClientConnection::new(tls.config.clone(), name.clone()).map_err(|e| failure(&e, &[]))?;
        let secrets = tls.secrets.clone();
        Ok(TlsLayer::new(
            session.into(),
            Side::Client { tls: tls.clone(), name },
            secrets,
        ))
    }

    pub fn server(tls: &ServerTls) -> Result<TlsLayer, TlsFailure> {
        let session = ServerConnection::new(tls.config.clone()).map_err(|e| failure(&e, &[]))?;
        let checks_clients = tls.checks_clients;
        Ok(TlsLayer::new(
            session.into(),
            Side::Server { checks_clients },
            tls.secrets.clone(),
        ))
    }

    fn new(session: Connection, side: Side, secrets: Arc<Secrets>) -> TlsLayer {
        TlsLayer {
            session,
            side,
            first: Vec::with_capacity(FIRST_BYTES),
            announced: false,
            leg: None,
            ended: false,
            secrets,
            recording: false,
            wire: Wire::default(),
        }
    }

    /// Names the relay leg this layer is on (`client`, `upstream`) in its handshake line.
    pub fn on_leg(mut self, leg: &'static str) -> Self {
        self.leg = Some(leg);
        self
    }

    /// Queues a close_notify (once, and neither after a failure nor before the handshake is done: a peer that never
    /// finished it gets no alert), so the peer sees a clean end of the TLS session rather than a truncation;
    /// `flush` writes it.
    pub fn close_notify(&mut self) {
        if !self.ended && !self.session.is_handshaking() {
            self.ended = true;
            self.session.send_close_notify();
        }
    }

    /// What went over the socket since the last take (nothing unless `recording`).
    pub fn take_wire(&mut self) -> Wire {
        let mut wire = std::mem::take(&mut self.wire);
        // The session's secrets, whichever of its connections made them.
        wire.secrets = self.secrets.take();
        wire
    }

    /// Reads records from `stream` and fills `buf` with their plaintext: `Ok(n)` of it, `Ok(0)` at the end, and
    /// `WouldBlock` once the socket is drained with none. What arrived before a failure is handed over first (the
    /// failure stays, and comes with the next read).
    pub fn read(&mut self, stream: &mut TcpStream, buf: &mut [u8]) -> Result<usize, ReadError> {
        let mut filled = 0;
        loop {
            match self.session.reader().read(&mut buf[filled..]) {
                Ok(0) => return Ok(filled),
                Ok(n) if filled + n == buf.len() => return Ok(buf.len()),
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // The peer closed without close_notify: many do; an end like any other.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(filled),
                Err(e) => return if filled > 0 { Ok(filled) } else { Err(ReadError::Io(e)) },
            }
            let mut tee = Tee {
                stream: &mut *stream,
                first: &mut self.first,
                wire: self.recording.then_some(&mut self.wire.read),
            };
            match self.session.read_tls(&mut tee) {
                Ok(0) if self.session.is_handshaking() => {
                    self.ended = true;
                    return Err(ReadError::Tls(self.closed_early()));
                }
                Ok(0) => return Ok(filled),
                Ok(_) => {}
                Err(e) if filled > 0 && e.kind() == io::ErrorKind::WouldBlock => return Ok(filled),
                Err(e) => return Err(ReadError::Io(e)),
            }
            if let Err(error) = self.session.process_new_packets() {
                if filled > 0 {
                    return Ok(filled);
                }
                // The alert that says why goes out if it can.
                self.ended = true;
                let _ = self.flush(stream);
                return Err(ReadError::Tls(failure(&error, &self.first)));
            }
        }
    }

    /// Records wait to be written.
    pub fn wants_write(&self) -> bool {
        self.session.wants_write()
    }

    pub fn handshaking(&self) -> bool {
        self.session.is_handshaking()
    }

    /// What the peer has sent so far, in words (for a handshake that does not end).
    pub fn heard(&self) -> Heard {
        match self.first.is_empty() {
            true => Heard::Nothing,
            false => no_tls(&self.first).map_or(Heard::Unfinished, Heard::NoTls),
        }
    }

    /// The peer closed before the handshake was done: after sending what, if anything.
    fn closed_early(&self) -> TlsFailure {
        no_tls(&self.first).map_or(TlsFailure::ClosedDuringHandshake, TlsFailure::NoTls)
    }

    /// Writes the records rustls holds: `Ok(true)` all of them, `Ok(false)` the socket is full.
    pub fn flush(&mut self, stream: &mut TcpStream) -> io::Result<bool> {
        while self.session.wants_write() {
            let mut tee = Tee {
                stream: &mut *stream,
                first: &mut Vec::new(),
                wire: self.recording.then_some(&mut self.wire.written),
            };
            match self.session.write_tls(&mut tee) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// Encrypts what it can of `bytes` and writes it: `WouldBlock` while records still wait or the handshake is
    /// not done (the bytes stay in the connection's own queue).
    pub fn write(&mut self, stream: &mut TcpStream, bytes: &[u8]) -> io::Result<usize> {
        if !self.flush(stream)? || self.session.is_handshaking() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = self.session.writer().write(bytes)?;
        self.flush(stream)?;
        Ok(n)
    }

    /// The handshake, once, when it has just finished.
    pub fn finished(&mut self, local: SocketAddr, peer: SocketAddr) -> Option<Handshake> {
        if self.announced || self.session.is_handshaking() {
            return None;
        }
        self.announced = true;
        let certs = self.session.peer_certificates().unwrap_or_default();
        let verdict = match &self.side {
            Side::Client { tls, name } => tls.verdict(certs, name),
            Side::Server { .. } if certs.is_empty() => Verdict::NoCertificate,
            // rustls has checked it against --ca, or refused the handshake.
            Side::Server { checks_clients: true } => Verdict::Verified,
            Side::Server { checks_clients: false } => Verdict::NotChecked,
        };
        let version = match self.session.protocol_version() {
            Some(ProtocolVersion::TLSv1_3) => "TLS 1.3".into(),
            Some(ProtocolVersion::TLSv1_2) => "TLS 1.2".into(),
            other => format!("{other:?}"),
        };
        Some(Handshake {
            peer,
            local,
            leg: self.leg,
            version,
            suite: self
                .session
                .negotiated_cipher_suite()
                .map_or_else(String::new, |suite| format!("{:?}", suite.suite())),
            alpn: self
                .session
                .alpn_protocol()
                .map(|p| String::from_utf8_lossy(p).into_owned()),
            chain: certs.iter().map(|cert| CertInfo::of(cert)).collect(),
            verdict,
        })
    }
}

/// The socket, keeping a copy of the peer's first bytes, and of everything for the pcap while it records.
struct Tee<'a> {
    stream: &'a mut TcpStream,
    first: &'a mut Vec<u8>,
    wire: Option<&'a mut Vec<u8>>,
}

impl Read for Tee<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.stream.read(buf)?;
        let keep = FIRST_BYTES.saturating_sub(self.first.len()).min(n);
        self.first.extend_from_slice(&buf[..keep]);
        if let Some(wire) = &mut self.wire {
            wire.extend_from_slice(&buf[..n]);
        }
        Ok(n)
    }
}

impl Write for Tee<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.stream.write(buf)?;
        if let Some(wire) = &mut self.wire {
            wire.extend_from_slice(&buf[..n]);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}
