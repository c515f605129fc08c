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

/// A certificate's parameters: for `cn` and `sans` (IP addresses become IP names), valid from an hour ago (clocks
/// differ a little) until `days` from now.
fn params(cn: &str, sans: &[String], days: u32) -> Result<rcgen::CertificateParams, rcgen::Error> {
    let mut params = rcgen::CertificateParams::new(sans.to_vec())?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CommonName, cn);
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + time::Duration::days(i64::from(days));
    Ok(params)
}

impl NewCert {
    fn of(cert: &rcgen::Certificate, key: &rcgen::KeyPair) -> NewCert {
        NewCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert_der: cert.der().clone(),
            key_der: PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        }
    }
}

/// Makes a self-signed certificate (ECDSA P-256) for `cn` and `sans`, valid from now for `days`.
pub fn self_signed(cn: &str, sans: &[String], days: u32) -> Result<NewCert, rcgen::Error> {
    let key = rcgen::KeyPair::generate()?;
    let cert = params(cn, sans, days)?.self_signed(&key)?;
    Ok(NewCert::of(&cert, &key))
}

/// A small CA (`CN=<cn> CA`, allowed to sign certificates and no intermediate) and a certificate for `cn` and
/// `sans` signed by it, both ECDSA P-256 and valid for `days`: clients given the CA verify the server strictly.
pub fn signed_by_new_ca(cn: &str, sans: &[String], days: u32) -> Result<(NewCert, NewCert), rcgen::Error> {
    let mut ca = params(&format!("{cn} CA"), &[], days)?;
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
    ca.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
    let ca_key = rcgen::KeyPair::generate()?;
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = rcgen::Issuer::new(ca, &ca_key);
    let key = rcgen::KeyPair::generate()?;
    let cert = params(cn, sans, days)?.signed_by(&key, &issuer)?;
    Ok((NewCert::of(&ca_cert, &ca_key), NewCert::of(&cert, &key)))
}

/// What `wirepad cert new` wrote: the certificate's path and fields, and the CA's when it made one.
pub struct Written {
    pub cert: (PathBuf, CertInfo),
    pub ca: Option<(PathBuf, CertInfo)>,
}

/// `wirepad cert new`: writes `PREFIX.crt` and `PREFIX.key`, self-signed; with `ca_out`, signed by a new CA
/// written to `CA_OUT.crt` and `CA_OUT.key`. Keys are readable by their owner only (Unix).
pub fn write_new_cert(
    cn: &str,
    sans: &[String],
    days: u32,
    prefix: &Path,
    ca_out: Option<&Path>,
) -> Result<Written, TlsError> {
    let mut names = sans.to_vec();
    if names.is_empty() {
        names.push(cn.to_owned());
    }
    let refused = |e: rcgen::Error| TlsError::Option {
        option: "--san",
        problem: e.to_string(),
    };
    let Some(ca_out) = ca_out else {
        let made = self_signed(cn, &names, days).map_err(refused)?;
        let cert = write_pair("--out", prefix, &made)?;
        return Ok(Written { cert, ca: None });
    };
    let (ca, made) = signed_by_new_ca(cn, &names, days).map_err(refused)?;
    let ca = write_pair("--ca-out", ca_out, &ca)?;
    let cert = write_pair("--out", prefix, &made)?;
    Ok(Written { cert, ca: Some(ca) })
}

/// Writes `PREFIX.crt` and `PREFIX.key` (the key first, so no certificate is left without its key).
fn write_pair(option: &'static str, prefix: &Path, made: &NewCert) -> Result<(PathBuf, CertInfo), TlsError> {
    let with = |ext: &str| {
        let mut path = prefix.as_os_str().to_owned();
        path.push(ext);
        PathBuf::from(path)
    };
    let (crt, key) = (with(".crt"), with(".key"));
    write_file(option, &key, made.key_pem.as_bytes(), true)?;
    write_file(option, &crt, made.cert_pem.as_bytes(), false)?;
    Ok((crt, CertInfo::of(&made.cert_der)))
}

fn write_file(option: &'static str, path: &Path, bytes: &[u8], private: bool) -> Result<(), TlsError> {
    let error = |source| TlsError::Read {
        option,
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
    fn the_new_ca_signs_the_certificate_and_only_the_ca_may_sign() {
        let (ca, leaf) = signed_by_new_ca("localhost", &["localhost".into()], 2).expect("made");
        let (ca_info, leaf_info) = (CertInfo::of(&ca.cert_der), CertInfo::of(&leaf.cert_der));
        assert_eq!(ca_info.subject, "CN=localhost CA");
        assert_eq!(leaf_info.issuer, ca_info.subject);
        let ca_parsed = x509_parser::parse_x509_certificate(&ca.cert_der).expect("ca").1;
        let leaf_parsed = x509_parser::parse_x509_certificate(&leaf.cert_der).expect("leaf").1;
        // The signature itself is checked by a strict client in tests/it/tls.rs.
        assert!(ca_parsed.is_ca() && !leaf_parsed.is_ca());
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
