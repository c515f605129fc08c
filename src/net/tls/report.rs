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
    Failed(String),
    /// `--verify off`.
    NotChecked,
    /// The peer sent none (a client, when the server does not ask for one).
    NoCertificate,
}

/// One finished handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    pub peer: SocketAddr,
    /// A relay's leg the handshake was on (`client`, `upstream`); `None` for the other kinds.
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

/// Why a certificate did not verify, in words.
pub(super) fn certificate_words(error: &Error) -> String {
    let Error::InvalidCertificate(cert) = error else {
        return error.to_string();
    };
    match cert {
        CertificateError::UnknownIssuer => "unknown issuer / self-signed".into(),
        CertificateError::Expired => "expired".into(),
        CertificateError::ExpiredContext { not_after, .. } => {
            format!("expired (valid until {} Unix time)", not_after.as_secs())
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => "not valid yet".into(),
        CertificateError::NotValidForName => "the name does not match".into(),
        CertificateError::NotValidForNameContext { expected, presented } => {
            format!(
                "the name does not match: wanted {expected:?}, the certificate is for {}",
                presented.join(", ")
            )
        }
        CertificateError::BadSignature => "bad signature".into(),
        CertificateError::Revoked => "revoked".into(),
        other => format!("{other:?}"),
    }
}

/// Why a handshake (or the connection) failed, in words; `first` is what the peer sent first, shown when it
/// was no TLS.
pub(super) fn failure_words(error: &Error, first: &[u8]) -> String {
    match error {
        Error::InvalidMessage(_) if let Some(words) = no_tls(first) => words,
        Error::PeerIncompatible(
            PeerIncompatible::ServerDoesNotSupportTls12Or13 | PeerIncompatible::SupportedVersionsExtensionRequired,
        ) => "the peer speaks only TLS 1.0/1.1, which rustls does not speak (1.2 and 1.3 only)".into(),
        Error::PeerIncompatible(
            PeerIncompatible::Tls12NotOffered
            | PeerIncompatible::Tls12NotOfferedOrEnabled
            | PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig,
        )
        | Error::AlertReceived(AlertDescription::ProtocolVersion) => {
            "no TLS version in common (see --tls-versions)".into()
        }
        Error::PeerIncompatible(PeerIncompatible::NoCipherSuitesInCommon) => "no cipher suite in common".into(),
        // A TLS 1.2 peer offering only RSA key exchange (AES128-SHA, …) sends no groups at all.
        Error::PeerIncompatible(PeerIncompatible::NoKxGroupsInCommon) => {
            "no cipher suite in common: the peer offers no key exchange rustls speaks (ECDHE with X25519, P-256 or \
             P-384; RSA key exchange is not spoken)"
                .into()
        }
        Error::AlertReceived(AlertDescription::HandshakeFailure) => {
            "the peer ended the handshake (handshake_failure: often no cipher suite or version in common)".into()
        }
        Error::NoCertificatesPresented => "client certificate required: the client sent none".into(),
        Error::AlertReceived(AlertDescription::CertificateRequired) => {
            "client certificate required by the server (see --client-cert)".into()
        }
        Error::AlertReceived(alert) => format!("the peer refused the handshake: {alert:?} alert"),
        Error::InvalidCertificate(_) => format!("certificate refused: {}", certificate_words(error)),
        other => other.to_string(),
    }
}

/// When `first` cannot start a TLS record (a content type of 20..=24 and a version of 3.x), what the peer sent.
pub(super) fn no_tls(first: &[u8]) -> Option<String> {
    let tls = first.is_empty() || matches!(first, [20..=24] | [20..=24, 3, ..]);
    (!tls).then(|| format!("the peer speaks no TLS: it sent {}", shown(first)))
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
        let words = failure_words(&rustls::InvalidMessage::InvalidContentType.into(), b"HTTP/1.1 400");
        assert_eq!(
            words,
            "the peer speaks no TLS: it sent \"HTTP/1.1 400\" (48 54 54 50 2F 31 2E 31 20 34 30 30)"
        );
        assert!(!failure_words(&rustls::InvalidMessage::InvalidContentType.into(), &[22, 3, 1]).contains("no TLS"));
    }

    #[test]
    fn the_line_names_version_suite_alpn_subject_fingerprint_and_verdict() {
        let handshake = Handshake {
            peer: "127.0.0.1:443".parse().expect("addr"),
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
            verdict: Verdict::Failed("unknown issuer / self-signed".into()),
        };
        assert_eq!(
            handshake.to_string(),
            "TLS with 127.0.0.1:443: TLSv1_3, TLS13_AES_128_GCM_SHA256, ALPN h2, certificate CN=x (sha256 AB:CD): \
             NOT verified: unknown issuer / self-signed"
        );
        let upstream = Handshake {
            leg: Some("upstream"),
            ..handshake
        };
        assert!(
            upstream
                .to_string()
                .starts_with("TLS with upstream 127.0.0.1:443: TLSv1_3, ")
        );
    }
}
