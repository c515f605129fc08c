//! Certificates and keys: PEM files read with errors naming the file, self-signed ones made (rcgen), and what a
//! certificate says (x509-parser) for the handshake line and the window's panel.
use std::path::{Path, PathBuf};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::{TlsError, fingerprint};

/// A certificate's fields, as shown to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub san: Vec<String>,
    pub not_before: String,
    pub not_after: String,
    pub sha256: String,
}

impl CertInfo {
    /// What `der` says; a certificate x509-parser cannot read still has its fingerprint.
    pub fn of(der: &[u8]) -> CertInfo {
        let sha256 = fingerprint(der);
        let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
            return CertInfo {
                subject: "(unreadable certificate)".into(),
                issuer: String::new(),
                san: Vec::new(),
                not_before: String::new(),
                not_after: String::new(),
                sha256,
            };
        };
        let san = match cert.subject_alternative_name() {
            Ok(Some(ext)) => ext.value.general_names.iter().map(san_text).collect(),
            _ => Vec::new(),
        };
        CertInfo {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            san,
            not_before: cert.validity().not_before.to_string(),
            not_after: cert.validity().not_after.to_string(),
            sha256,
        }
    }
}

/// A subject alternative name as a user writes it: a host name or an address.
fn san_text(name: &x509_parser::extensions::GeneralName) -> String {
    use x509_parser::extensions::GeneralName;
    match name {
        GeneralName::DNSName(host) => (*host).to_owned(),
        GeneralName::IPAddress(bytes) => {
            match bytes.len() {
                4 => <[u8; 4]>::try_from(*bytes)
                    .map_or_else(|_| String::new(), |b| std::net::Ipv4Addr::from(b).to_string()),
                16 => <[u8; 16]>::try_from(*bytes)
                    .map_or_else(|_| String::new(), |b| std::net::Ipv6Addr::from(b).to_string()),
                _ => format!("{bytes:02X?}"),
            }
        }
        other => format!("{other:?}"),
    }
}

/// Reads a file for `option`, the error naming both.
fn read(option: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        option,
        path: path.to_owned(),
        source,
    })
}

fn file_error(option: &'static str, path: &Path, problem: impl Into<String>) -> TlsError {
    TlsError::File {
        option,
        path: path.to_owned(),
        problem: problem.into(),
    }
}

/// Every certificate in a PEM file; none is an error.
pub(super) fn load_certs(option: &'static str, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read(option, path)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(option, path, format!("not a PEM certificate file: {e}")))?;
    if certs.is_empty() {
        return Err(file_error(
            option,
            path,
            "holds no certificate (PEM, -----BEGIN CERTIFICATE-----)",
        ));
    }
    Ok(certs)
}

/// The private key in a PEM file (PKCS#8, PKCS#1 or SEC1); an encrypted one is named as such.
pub(super) fn load_key(option: &'static str, path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = read(option, path)?;
    if memchr::memmem::find(&bytes, b"ENCRYPTED").is_some() {
        return Err(file_error(
            option,
            path,
            "the key is encrypted; give it unencrypted (openssl pkey -in KEY -out PLAIN)",
        ));
    }
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| file_error(option, path, format!("holds no private key: {e}")))
}

/// A new certificate and its key, both PEM.
#[derive(Debug)]
pub struct NewCert {
    pub cert_pem: String,
    pub key_pem: String,
    pub cert_der: CertificateDer<'static>,
    pub key_der: PrivateKeyDer<'static>,
}

/// Makes a self-signed certificate (ECDSA P-256) for `cn` and `sans` (IP addresses become IP names), valid from
/// now for `days`.
pub fn self_signed(cn: &str, sans: &[String], days: u32) -> Result<NewCert, rcgen::Error> {
    let mut params = rcgen::CertificateParams::new(sans.to_vec())?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CommonName, cn);
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + time::Duration::days(i64::from(days));
    let key = rcgen::KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok(NewCert {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        cert_der: cert.der().clone(),
        key_der: PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    })
}

/// `wirepad cert new`: writes `PREFIX.crt` and `PREFIX.key`; the key is readable by its owner only (Unix).
pub fn write_new_cert(cn: &str, sans: &[String], days: u32, prefix: &Path) -> Result<(PathBuf, CertInfo), TlsError> {
    let mut names = sans.to_vec();
    if names.is_empty() {
        names.push(cn.to_owned());
    }
    let made = self_signed(cn, &names, days).map_err(|e| TlsError::Option {
        option: "--san",
        problem: e.to_string(),
    })?;
    let with = |ext: &str| {
        let mut path = prefix.as_os_str().to_owned();
        path.push(ext);
        PathBuf::from(path)
    };
    let (crt, key) = (with(".crt"), with(".key"));
    write_file(&key, made.key_pem.as_bytes(), true)?;
    write_file(&crt, made.cert_pem.as_bytes(), false)?;
    Ok((crt, CertInfo::of(&made.cert_der)))
}

fn write_file(path: &Path, bytes: &[u8], private: bool) -> Result<(), TlsError> {
    let error = |source| TlsError::Read {
        option: "--out",
        path: path.to_owned(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path).map_err(error)?;
    std::io::Write::write_all(&mut file, bytes).map_err(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_names_its_subject_and_sans() {
        let made = self_signed("wirepad test", &["localhost".into(), "127.0.0.1".into()], 30).expect("made");
        let info = CertInfo::of(&made.cert_der);
        assert_eq!(info.subject, "CN=wirepad test");
        assert_eq!(info.issuer, info.subject);
        assert_eq!(info.san, ["localhost", "127.0.0.1"]);
        assert!(made.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    }

    #[test]
    fn files_that_are_no_key_or_certificate_are_named() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("x.pem");
        std::fs::write(
            &path,
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
        )
        .expect("write");
        let error = load_key("--key", &path).expect_err("encrypted").to_string();
        assert!(error.starts_with("--key ") && error.contains("encrypted"), "{error}");
        let error = load_certs("--ca", &path).expect_err("no certificate").to_string();
        assert!(error.contains("holds no certificate"), "{error}");
        let missing = dir.path().join("missing.pem");
        let error = load_certs("--cert", &missing).expect_err("missing").to_string();
        assert!(error.starts_with("--cert ") && error.contains("missing.pem"), "{error}");
    }
}
