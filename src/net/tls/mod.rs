//! TLS as a layer under a TCP connection (rustls, ring provider): the options a session is given (`TlsSpec`, plain
//! data the window can keep), what they build at start (`ClientTls`, `ServerTls`: files read, a self-signed
//! certificate made), the layer each connection drives (`layer`), and what a handshake is in words (`report`).
mod build;
mod cert;
mod deadline;
mod keylog;
mod layer;
mod report;
mod verify;

use std::path::PathBuf;

pub use build::{ClientTls, ServerTls};
pub use cert::{CertInfo, NewCert, Written, write_new_cert};
pub(super) use deadline::Deadlines;
pub use deadline::SERVER_HANDSHAKE_TIMEOUT;
pub(super) use layer::{ReadError, TlsLayer, Wire};
pub use report::{CLIENT_LEG, CertProblem, Handshake, Heard, TlsFailure, UPSTREAM_LEG, Verdict};

/// How far the peer's certificate is trusted (`--verify`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verify {
    /// Connect whatever it is, and say plainly what failed to verify.
    #[default]
    Warn,
    /// Refuse a certificate that does not verify.
    Strict,
    /// Do not check it (the handshake's signatures still are).
    Off,
}

/// A TLS protocol version rustls speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsVersion {
    V12,
    V13,
}

/// TLS options, as the command line (and later the window) gives them; `ClientTls::build`/`ServerTls::build` read
/// their files at start.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TlsSpec {
    /// The server's certificate chain and key (PEM); without them a server makes a self-signed one at start.
    pub cert: Option<(PathBuf, PathBuf)>,
    /// Trust anchors for the peer's certificate (PEM); `None`: the system's store (client side).
    pub ca: Option<PathBuf>,
    pub verify: Verify,
    /// The name sent as SNI and verified: `None` the remote's host.
    pub sni: Option<String>,
    /// Send no SNI at all (the name is still verified).
    pub no_sni: bool,
    pub alpn: Vec<String>,
    /// Empty: both 1.2 and 1.3.
    pub versions: Vec<TlsVersion>,
    /// The client's certificate and key for mutual TLS.
    pub client_cert: Option<(PathBuf, PathBuf)>,
    /// A server refuses clients without a certificate that verifies against `ca`.
    pub require_client_cert: bool,
    /// Append the session secrets here (NSS key log); `SSLKEYLOGFILE` is honoured without it.
    pub keylog: Option<PathBuf>,
}

/// Bad TLS input, found at start: the option or file it concerns, in words (exit 2 on the command line).
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{option} {}: cannot read it: {source}", path.display())]
    Read {
        option: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{option} {}: {problem}", path.display())]
    File {
        option: &'static str,
        path: PathBuf,
        problem: String,
    },
    #[error("{option}: {problem}")]
    Option { option: &'static str, problem: String },
}

/// A SHA-256 fingerprint as openssl prints it: `AB:CD:…`.
pub fn fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    let hex: Vec<String> = digest.as_ref().iter().map(|b| format!("{b:02X}")).collect();
    hex.join(":")
}

/// Parses one of `--tls-versions`: `1.2` or `1.3`.
pub fn parse_version(text: &str) -> Result<TlsVersion, String> {
    match text.trim() {
        "1.2" => Ok(TlsVersion::V12),
        "1.3" => Ok(TlsVersion::V13),
        old @ ("1.0" | "1.1") => Err(format!("TLS {old} is not spoken here (rustls speaks 1.2 and 1.3 only)")),
        other => Err(format!("unknown TLS version `{other}` (1.2, 1.3)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_old_ones_are_named() {
        assert_eq!(parse_version("1.2"), Ok(TlsVersion::V12));
        assert_eq!(parse_version(" 1.3"), Ok(TlsVersion::V13));
        assert!(parse_version("1.1").unwrap_err().contains("rustls speaks 1.2 and 1.3"));
        assert!(parse_version("2").is_err());
    }

    #[test]
    fn fingerprint_is_colon_separated_uppercase_sha256() {
        // sha256("abc")
        assert!(fingerprint(b"abc").starts_with("BA:78:16:BF:8F:01:CF:EA"));
        assert_eq!(fingerprint(b"abc").len(), 32 * 3 - 1);
    }
}
