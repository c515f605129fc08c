//! What a handshake was (`Handshake`: the stderr line and the window's certificate panel), and why one failed, in
//! words a user can act on.
use std::fmt;
use std::net::SocketAddr;

use rustls::{AlertDescription, CertificateError, Error, PeerIncompatible};

use super::CertInfo;

/// Whether the peer's certificate is trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Verified,
    /// `--verify warn`: connected anyway; what failed.
    Failed(CertProblem),
    /// `--verify off`.
    NotChecked,
    /// The peer sent none (a client, when the server does not ask for one).
    NoCertificate,
}

/// The names of a relay's legs in its handshakes (`Handshake::leg`).
pub const CLIENT_LEG: &str = "client";
pub const UPSTREAM_LEG: &str = "upstream";

/// One finished handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    pub peer: SocketAddr,
    /// This end's address: it names a relay's upstream leg (its `via`), whose peer is the same for every pair.
    pub local: SocketAddr,
    /// A relay's leg the handshake was on (`CLIENT_LEG`, `UPSTREAM_LEG`); `None` for the other kinds.
    pub leg: Option<&'static str>,
    /// `TLSv1_3`, as rustls names it.
    pub version: String,
    pub suite: String,
    pub alpn: Option<String>,
    /// The peer's chain, its own certificate first.
    pub chain: Vec<CertInfo>,
    pub verdict: Verdict,
}

impl fmt::Display for Handshake {
    /// One line: `TLS with PEER: TLSv1_3, TLS13_AES_256_GCM_SHA384, ALPN h2, certificate CN=x (sha256 AB:…):
    /// verified`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.leg {
            Some(leg) => write!(f, "TLS with {leg} {}: ", self.peer)?,
            None => write!(f, "TLS with {}: ", self.peer)?,
        }
        write!(f, "{}, {}, ", self.version, self.suite)?;
        match &self.alpn {
            Some(alpn) => write!(f, "ALPN {alpn}, ")?,
            None => write!(f, "no ALPN, ")?,
        }
        match self.chain.first() {
            Some(cert) => write!(f, "certificate {} (sha256 {}): ", cert.subject, cert.sha256)?,
            None => write!(f, "no certificate: ")?,
        }
        match &self.verdict {
            Verdict::Verified => write!(f, "verified"),
            Verdict::Failed(why) => write!(f, "NOT verified: {why}"),
            Verdict::NotChecked => write!(f, "not checked (--verify off)"),
            Verdict::NoCertificate => write!(f, "the client sent no certificate"),
        }
    }
}

/// Why a certificate did not verify: a kind, so that each front end words it in its own language (`Display`: the
/// command line's English).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertProblem {
    UnknownIssuer,
    Expired,
    /// Expired; valid until this Unix time.
    ExpiredAt(u64),
    NotValidYet,
    NameMismatch,
    /// The name wanted, and the names the certificate is for.
    NameMismatchFor {
        expected: String,
        presented: Vec<String>,
    },
    BadSignature,
    Revoked,
    /// No `--ca` and the system's store is empty.
    NoTrustAnchors,
    /// What rustls said, as it said it.
    Other(String),
}

impl fmt::Display for CertProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertProblem::UnknownIssuer => write!(f, "unknown issuer / self-signed"),
            CertProblem::Expired => write!(f, "expired"),
            CertProblem::ExpiredAt(until) => write!(f, "expired (valid until {until} Unix time)"),
            CertProblem::NotValidYet => write!(f, "not valid yet"),
            CertProblem::NameMismatch => write!(f, "the name does not match"),
            CertProblem::NameMismatchFor { expected, presented } => write!(
                f,
                "the name does not match: wanted {expected}, the certificate is for {}",
                presented.join(", ")
            ),
            CertProblem::BadSignature => write!(f, "bad signature"),
            CertProblem::Revoked => write!(f, "revoked"),
            CertProblem::NoTrustAnchors => write!(f, "no trust anchors: the system's store is empty (give --ca)"),
            CertProblem::Other(words) => write!(f, "{words}"),
        }
    }
}

/// What the peer had sent when a handshake ended unfinished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    Nothing,
    /// Something that is no TLS: its first bytes as text and hex.
    NoTls(String),
    /// The start of a handshake it did not finish.
    Unfinished,
}

/// Why a TLS session failed: a kind, worded by each front end (`Display`: the command line's English).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsFailure {
    /// The peer speaks no TLS: its first bytes as text and hex.
    NoTls(String),
    ClosedDuringHandshake,
    OnlyOldVersions,
    NoVersionInCommon,
    NoCipherSuite,
    /// A TLS 1.2 peer offering only RSA key exchange.
    NoKeyExchange,
    /// A handshake_failure alert.
    PeerEndedHandshake,
    /// Server side: the client sent no certificate.
    ClientCertMissing,
    /// Client side: the server wants one.
    ClientCertRequired,
    /// Another alert, by its name.
    Alert(String),
    CertificateRefused(CertProblem),
    /// No handshake within `millis`.
    Timeout {
        millis: u128,
        heard: Heard,
    },
    /// What rustls said, as it said it.
    Other(String),
}

impl fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsFailure::NoTls(sent) => write!(f, "the peer speaks no TLS: it sent {sent}"),
            TlsFailure::ClosedDuringHandshake => write!(f, "the peer closed the connection during the handshake"),
            TlsFailure::OnlyOldVersions => write!(
                f,
                "the peer speaks only TLS 1.0/1.1, which rustls does not speak (1.2 and 1.3 only)"
            ),
            TlsFailure::NoVersionInCommon => write!(f, "no TLS version in common (see --tls-versions)"),
            TlsFailure::NoCipherSuite => write!(f, "no cipher suite in common"),
            TlsFailure::NoKeyExchange => write!(
                f,
                "no cipher suite in common: the peer offers no key exchange rustls speaks (ECDHE with X25519, P-256 \
                 or P-384; RSA key exchange is not spoken)"
            ),
            TlsFailure::PeerEndedHandshake => write!(
                f,
                "the peer ended the handshake (handshake_failure: often no cipher suite or version in common)"
            ),
            TlsFailure::ClientCertMissing => write!(f, "client certificate required: the client sent none"),
            TlsFailure::ClientCertRequired => {
                write!(f, "client certificate required by the server (see --client-cert)")
            }
            TlsFailure::Alert(alert) => write!(f, "the peer refused the handshake: {alert} alert"),
            TlsFailure::CertificateRefused(problem) => write!(f, "certificate refused: {problem}"),
            TlsFailure::Timeout { millis, heard } => {
                write!(f, "no TLS handshake within {millis} ms: ")?;
                match heard {
                    Heard::Nothing => write!(f, "the peer sent nothing"),
                    Heard::NoTls(sent) => write!(f, "the peer speaks no TLS: it sent {sent}"),
                    Heard::Unfinished => write!(f, "the peer did not finish it"),
                }
            }
            TlsFailure::Other(words) => write!(f, "{words}"),
        }
    }
}

/// Why a certificate did not verify, by kind.
pub(super) fn certificate_problem(error: &Error) -> CertProblem {
    let Error::InvalidCertificate(cert) = error else {
        return CertProblem::Other(error.to_string());
    };
    match cert {
        CertificateError::UnknownIssuer => CertProblem::UnknownIssuer,
        CertificateError::Expired => CertProblem::Expired,
        CertificateError::ExpiredContext { not_after, .. } => CertProblem::ExpiredAt(not_after.as_secs()),
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => CertProblem::NotValidYet,
        CertificateError::NotValidForName => CertProblem::NameMismatch,
        CertificateError::NotValidForNameContext { expected, presented } => CertProblem::NameMismatchFor {
            expected: format!("{expected:?}"),
            presented: presented.clone(),
        },
        CertificateError::BadSignature => CertProblem::BadSignature,
        CertificateError::Revoked => CertProblem::Revoked,
        other => CertProblem::Other(format!("{other:?}")),
    }
}

/// Why a handshake (or the connection) failed, by kind; `first` is what the peer sent first, shown when it was no
/// TLS.
pub(super) fn failure(error: &Error, first: &[u8]) -> TlsFailure {
    match error {
        Error::InvalidMessage(_) if let Some(sent) = no_tls(first) => TlsFailure::NoTls(sent),
        Error::PeerIncompatible(
            PeerIncompatible::ServerDoesNotSupportTls12Or13 | PeerIncompatible::SupportedVersionsExtensionRequired,
        ) => TlsFailure::OnlyOldVersions,
        Error::PeerIncompatible(
            PeerIncompatible::Tls12NotOffered
            | PeerIncompatible::Tls12NotOfferedOrEnabled
            | PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig,
        )
        | Error::AlertReceived(AlertDescription::ProtocolVersion) => TlsFailure::NoVersionInCommon,
        Error::PeerIncompatible(PeerIncompatible::NoCipherSuitesInCommon) => TlsFailure::NoCipherSuite,
        Error::PeerIncompatible(PeerIncompatible::NoKxGroupsInCommon) => TlsFailure::NoKeyExchange,
        Error::AlertReceived(AlertDescription::HandshakeFailure) => TlsFailure::PeerEndedHandshake,
        Error::NoCertificatesPresented => TlsFailure::ClientCertMissing,
        Error::AlertReceived(AlertDescription::CertificateRequired) => TlsFailure::ClientCertRequired,
        Error::AlertReceived(alert) => TlsFailure::Alert(format!("{alert:?}")),
        Error::InvalidCertificate(_) => TlsFailure::CertificateRefused(certificate_problem(error)),
        other => TlsFailure::Other(other.to_string()),
    }
}

/// When `first` cannot start a TLS record (a content type of 20..=24 and a version of 3.x), what the peer sent:
/// `"HTTP/1.1 4" (48 54 54 50 …)`.
pub(super) fn no_tls(first: &[u8]) -> Option<String> {
    let tls = first.is_empty() || matches!(first, [20..=24] | [20..=24, 3, ..]);
    (!tls).then(|| shown(first))
}

/// The first bytes as text with escapes and as hex: `"HTTP/1.1 4" (48 54 54 50 …)`.
fn shown(first: &[u8]) -> String {
    let text: String = first
        .iter()
        .flat_map(|b| std::ascii::escape_default(*b))
        .map(char::from)
        .collect();
    let hex: Vec<String> = first.iter().map(|b| format!("{b:02X}")).collect();
    format!("\"{text}\" ({})", hex.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plaintext_is_shown_and_tls_records_are_not_taken_for_it() {
        let words = failure(&rustls::InvalidMessage::InvalidContentType.into(), b"HTTP/1.1 400");
        assert_eq!(
            words.to_string(),
            "the peer speaks no TLS: it sent \"HTTP/1.1 400\" (48 54 54 50 2F 31 2E 31 20 34 30 30)"
        );
        let record = failure(&rustls::InvalidMessage::InvalidContentType.into(), &[22, 3, 1]);
        assert!(!matches!(record, TlsFailure::NoTls(_)), "{record}");
    }

    #[test]
    fn the_line_names_version_suite_alpn_subject_fingerprint_and_verdict() {
        let handshake = Handshake {
            peer: "127.0.0.1:443".parse().expect("addr"),
            local: "127.0.0.1:5000".parse().expect("addr"),
            leg: None,
            version: "TLSv1_3".into(),
            suite: "TLS13_AES_128_GCM_SHA256".into(),
            alpn: Some("h2".into()),
            chain: vec![CertInfo {
                subject: "CN=x".into(),
                issuer: "CN=x".into(),
                san: vec![],
                not_before: String::new(),
                not_after: String::new(),
                sha256: "AB:CD".into(),
            }],
            verdict: Verdict::Failed(CertProblem::UnknownIssuer),
        };
        assert_eq!(
            handshake.to_string(),
            "TLS with 127.0.0.1:443: TLSv1_3, TLS13_AES_128_GCM_SHA256, ALPN h2, certificate CN=x (sha256 AB:CD): \
             NOT verified: unknown issuer / self-signed"
        );
        let upstream = Handshake {
            leg: Some(UPSTREAM_LEG),
            ..handshake
        };
        assert!(
            upstream
                .to_string()
                .starts_with("TLS with upstream 127.0.0.1:443: TLSv1_3, ")
        );
    }
}
