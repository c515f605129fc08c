//! TLS on a relay's legs: towards its clients (`--tls-listen`, the relay is their server) and towards the
//! upstream (`--tls-upstream`, the relay is its client), either or both. What passes between the legs, and what
//! rules, capture and view see, is the plaintext; the pcap has each leg's records and secrets.
use std::sync::Arc;

use super::super::conn::Conn;
use super::super::tls::{CLIENT_LEG, ClientTls, Deadlines, ServerTls, TlsLayer, UPSTREAM_LEG};
use super::super::transport::Ctx;
use super::super::{EventKind, NetError};
use super::Config;

pub(super) struct RelayTls {
    listen: Option<ServerTls>,
    upstream: Option<Arc<ClientTls>>,
    /// The upstream as given (`host:port`): its host is the name sent (SNI) and verified.
    upstream_name: String,
    /// When each leg's handshake is due, by its token: the connect timeout, from the moment the pair is open.
    pub handshakes: Deadlines,
}

impl RelayTls {
    /// Reads the files (or makes the self-signed certificate) before anything listens: bad input starts nothing.
    pub fn build(config: &Config) -> Result<RelayTls, NetError> {
        // Both legs have a `--ca` and `--tls-versions`: the error says whose it is.
        let on = |leg| move |error| NetError::TlsSetup { leg: Some(leg), error };
        let listen = (config.tls_listen.as_deref())
            .map(|spec| ServerTls::build(spec, config.listen))
            .transpose()
            .map_err(on(CLIENT_LEG))?;
        let upstream = (config.tls_upstream.as_deref())
            .map(ClientTls::build)
            .transpose()
            .map_err(on(UPSTREAM_LEG))?;
        Ok(RelayTls {
            listen,
            upstream: upstream.map(Arc::new),
            upstream_name: config.upstream.clone(),
            handshakes: Deadlines::new(config.connect_timeout),
        })
    }

    /// Says which certificate the clients are shown (after the ready line, as tcp-server does).
    pub fn announce(&self, ctx: &mut Ctx) {
        if let Some(tls) = &self.listen {
            ctx.emit(EventKind::TlsServing {
                cert: Arc::new(tls.cert.clone()),
                self_signed: tls.self_signed,
            });
        }
    }

    /// A client's connection, with TLS when the listen leg has it.
    pub fn client_leg(&self, conn: Conn) -> Result<Conn, NetError> {
        let Some(tls) = &self.listen else {
            return Ok(conn);
        };
        match TlsLayer::server(tls) {
            Ok(layer) => Ok(conn.with_tls(layer.on_leg(CLIENT_LEG))),
            Err(reason) => Err(conn.tls_failed(reason)),
        }
    }

    /// The upstream connection, with TLS when the upstream leg has it.
    pub fn upstream_leg(&self, conn: Conn) -> Result<Conn, NetError> {
        let Some(tls) = &self.upstream else {
            return Ok(conn);
        };
        match TlsLayer::client(tls, &self.upstream_name) {
            Ok(layer) => Ok(conn.with_tls(layer.on_leg(UPSTREAM_LEG))),
            Err(reason) => Err(conn.tls_failed(reason)),
        }
    }
}
