//! What a `TlsSpec` builds at start: rustls configurations, their files read and checked, so that bad input is
//! an error before anything connects.
use std::net::SocketAddr;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig, SupportedProtocolVersion};

use super::cert::{CertInfo, load_certs, load_key, self_signed};
use super::keylog::{FileKeyLog, Secrets};
use super::report::{CertProblem, TlsFailure, certificate_problem};
use super::verify::Lenient;
use super::{TlsError, TlsSpec, TlsVersion, Verdict, Verify};

/// ring, not the default aws-lc-rs (which breaks cross-building for Windows); rustls deprecates it for its lack of
/// post-quantum key exchange, which no peer of ours needs yet.
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn versions(spec: &TlsSpec) -> Vec<&'static SupportedProtocolVersion> {
    let wanted = |v| spec.versions.is_empty() || spec.versions.contains(&v);
    let mut versions = Vec::new();
    if wanted(TlsVersion::V13) {
        versions.push(&rustls::version::TLS13);
    }
    if wanted(TlsVersion::V12) {
        versions.push(&rustls::version::TLS12);
    }
    versions
}

fn option_error(option: &'static str, problem: impl std::fmt::Display) -> TlsError {
    TlsError::Option {
        option,
        problem: problem.to_string(),
    }
}

/// The trust anchors: `--ca`, or the system's store (`None` when it has none).
fn roots(spec: &TlsSpec) -> Result<Option<Arc<RootCertStore>>, TlsError> {
    let mut store = RootCertStore::empty();
    match &spec.ca {
        Some(path) => {
            for cert in load_certs("--ca", path)? {
                store.add(cert).map_err(|e| TlsError::File {
                    option: "--ca",
                    path: path.clone(),
                    problem: format!("not a usable CA certificate: {e}"),
                })?;
            }
        }
        None => {
            // Certificates the store cannot parse are skipped, as browsers do.
            let found = rustls_native_certs::load_native_certs();
            store.add_parsable_certificates(found.certs);
        }
    }
    Ok((!store.is_empty()).then(|| Arc::new(store)))
}

fn secrets(spec: &TlsSpec) -> Result<Arc<Secrets>, TlsError> {
    let file = spec.keylog.as_deref().map(FileKeyLog::open).transpose()?;
    Ok(Arc::new(Secrets::new(file)))
}

/// A client's TLS: its configuration, and the checker its verdicts come from.
#[derive(Debug)]
pub struct ClientTls {
    pub(super) config: Arc<ClientConfig>,
    pub(super) secrets: Arc<Secrets>,
    /// `None`: `--verify off`, or no trust anchors.
    checker: Option<Arc<WebPkiServerVerifier>>,
    sni: Option<String>,
    verify: Verify,
}

impl ClientTls {
    pub fn build(spec: &TlsSpec) -> Result<ClientTls, TlsError> {
        let provider = provider();
        let roots = roots(spec)?;
        let checker = match (&roots, spec.verify) {
            (_, Verify::Off) => None,
            (Some(roots), _) => Some(
                WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone())
                    .build()
                    .map_err(|e| option_error("--ca", e))?,
            ),
            (None, Verify::Strict) => {
                return Err(option_error(
                    "--verify strict",
                    "the system's certificate store is empty: give the trust anchors with --ca",
                ));
            }
            (None, Verify::Warn) => None,
        };
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&versions(spec))
            .map_err(|e| option_error("--tls-versions", e))?;
        let verifier: Arc<dyn ServerCertVerifier> = match (&checker, spec.verify) {
            (Some(checker), Verify::Strict) => checker.clone(),
            _ => Arc::new(Lenient::new(&provider)),
        };
        let builder = builder.dangerous().with_custom_certificate_verifier(verifier);
        let mut config = match &spec.client_cert {
            Some((cert, key)) => {
                let certs = load_certs("--client-cert", cert)?;
                let key = load_key("--client-key", key)?;
                builder
                    .with_client_auth_cert(certs, key)
                    .map_err(|e| option_error("--client-key", format!("does not fit --client-cert: {e}")))?
            }
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = spec.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
        config.enable_sni = !spec.no_sni;
        let secrets = secrets(spec)?;
        config.key_log = secrets.clone();
        Ok(ClientTls {
            config: Arc::new(config),
            secrets,
            checker,
            sni: spec.sni.clone(),
            verify: spec.verify,
        })
    }

    /// The name to send and verify for `remote` (`host:port`): `--sni`, or the host.
    pub(super) fn server_name(&self, remote: &str) -> Result<ServerName<'static>, TlsFailure> {
        let host = match &self.sni {
            Some(name) => name.as_str(),
            None => remote.rsplit_once(':').map_or(remote, |(host, _)| host),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        ServerName::try_from(host.to_owned()).map_err(|e| TlsFailure::Other(format!("{host:?} is no server name: {e}")))
    }

    /// Whether the chain `certs` verifies for `name`, in words.
    pub(super) fn verdict(&self, certs: &[CertificateDer<'static>], name: &ServerName<'_>) -> Verdict {
        let Some((end, intermediates)) = certs.split_first() else {
            return Verdict::NoCertificate;
        };
        let Some(checker) = &self.checker else {
            return match self.verify {
                Verify::Off => Verdict::NotChecked,
                _ => Verdict::Failed(CertProblem::NoTrustAnchors),
            };
        };
        match checker.verify_server_cert(end, intermediates, name, &[], UnixTime::now()) {
            Ok(_) => Verdict::Verified,
            Err(error) => Verdict::Failed(certificate_problem(&error)),
        }
    }
}

/// A server's TLS: its configuration, and the self-signed certificate it made (if it did), to say so at start.
#[derive(Debug)]
pub struct ServerTls {
    pub(super) config: Arc<ServerConfig>,
    pub(super) secrets: Arc<Secrets>,
    /// The certificate it presents, and whether it made it at start.
    pub cert: CertInfo,
    pub self_signed: bool,
    /// Client certificates are checked (`--ca` given).
    pub(super) checks_clients: bool,
}

impl ServerTls {
    /// `listen` names the self-signed certificate made when no `--cert` is given.
    pub fn build(spec: &TlsSpec, listen: SocketAddr) -> Result<ServerTls, TlsError> {
        let provider = provider();
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&versions(spec))
            .map_err(|e| option_error("--tls-versions", e))?;
        let builder = match (&spec.ca, spec.require_client_cert) {
            (None, true) => {
                return Err(option_error(
                    "--require-client-cert",
                    "needs --ca (the clients' trust anchors)",
                ));
            }
            (None, false) => builder.with_no_client_auth(),
            (Some(_), require) => {
                let roots = roots(spec)?.ok_or_else(|| option_error("--ca", "holds no certificate"))?;
                let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider);
                let verifier = if require {
                    verifier
                } else {
                    verifier.allow_unauthenticated()
                };
                builder.with_client_cert_verifier(verifier.build().map_err(|e| option_error("--ca", e))?)
            }
        };
        let (certs, key) = match &spec.cert {
            Some((cert, key)) => (load_certs("--cert", cert)?, load_key("--key", key)?),
            None => {
                let names = self_signed_names(listen);
                let made = self_signed(&names[0], &names, 30).map_err(|e| option_error("--tls", e))?;
                (vec![made.cert_der], made.key_der)
            }
        };
        let cert = CertInfo::of(&certs[0]);
        let mut config = builder.with_single_cert(certs, key).map_err(|e| match &spec.cert {
            Some((_, key)) => TlsError::File {
                option: "--key",
                path: key.clone(),
                problem: format!("does not fit --cert: {e}"),
            },
            None => option_error("--tls", e),
        })?;
        config.alpn_protocols = spec.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
        let secrets = secrets(spec)?;
        config.key_log = secrets.clone();
        Ok(ServerTls {
            config: Arc::new(config),
            secrets,
            cert,
            self_signed: spec.cert.is_none(),
            checks_clients: spec.ca.is_some(),
        })
    }
}

/// The names a self-signed certificate for `listen` carries: its address, and localhost and the loopback
/// addresses when it listens on all of them.
fn self_signed_names(listen: SocketAddr) -> Vec<String> {
    let ip = listen.ip();
    if ip.is_unspecified() {
        vec!["localhost".into(), "127.0.0.1".into(), "::1".into()]
    } else {
        vec![ip.to_string(), "localhost".into()]
    }
}
