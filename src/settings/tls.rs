//! A session's TLS options as the window's fields hold them (saved as typed), and the `TlsSpec` they mean. One
//! `TlsSettings` describes one end of a connection (`TlsSide`): a tab's client or server, later a relay's leg.
use std::path::{Path, PathBuf};

use rustls::pki_types::ServerName;
use serde::{Deserialize, Serialize};

use crate::net::Caps;
use crate::net::tls::{TlsError, TlsSpec, TlsVersion, UPSTREAM_LEG, Verify};
pub use crate::session::spec::TlsField;
use crate::session::spec::{Field, FieldErrors, Invalid};

/// Which end of a connection a block of TLS settings is for: what its fields mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsSide {
    /// Connects, and checks the server's certificate.
    Client,
    /// Accepts, and presents a certificate.
    Server,
}

impl TlsSide {
    /// A kind that accepts connections is the server end.
    pub fn of(caps: &Caps) -> TlsSide {
        if caps.accepts { TlsSide::Server } else { TlsSide::Client }
    }
}

/// `--verify`, as saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum VerifyMode {
    #[default]
    Warn,
    Strict,
    Off,
}

impl VerifyMode {
    pub const ALL: [VerifyMode; 3] = [VerifyMode::Warn, VerifyMode::Strict, VerifyMode::Off];
}

/// `--tls-versions`, as saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Versions {
    #[default]
    Both,
    Only12,
    Only13,
}

impl Versions {
    pub const ALL: [Versions; 3] = [Versions::Both, Versions::Only12, Versions::Only13];

    pub fn name(self) -> &'static str {
        match self {
            Versions::Both => "1.2, 1.3",
            Versions::Only12 => "1.2",
            Versions::Only13 => "1.3",
        }
    }
}

/// The TLS fields of one end, as typed. Paths are kept as text: a typed path and a picked one are the same.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TlsSettings {
    pub enabled: bool,
    /// Server: its certificate chain and key (PEM); both empty: a self-signed one made at Open.
    pub cert: String,
    pub key: String,
    pub require_client_cert: bool,
    /// Server: the CA client certificates are checked against.
    pub client_ca: String,
    /// Client: how far the server's certificate is trusted.
    pub verify: VerifyMode,
    /// Client: trust anchors (PEM); empty: the system's store.
    pub ca: String,
    /// Client: the name sent and verified; empty: the remote host.
    pub sni: String,
    pub no_sni: bool,
    /// Protocols offered (client) or accepted (server), comma-separated.
    pub alpn: String,
    /// Client: a certificate and key for mutual TLS.
    pub client_cert: String,
    pub client_key: String,
    pub versions: Versions,
}

impl TlsSettings {
    /// The options the fields of `side` mean, checked as far as can be without reading a file (the files are
    /// read at Open, where a bad one is named beside its field).
    pub fn spec(&self, side: TlsSide) -> Result<TlsSpec, FieldErrors> {
        let mut errors = Vec::new();
        let mut spec = TlsSpec {
            alpn: alpn(&self.alpn, &mut errors),
            versions: match self.versions {
                Versions::Both => Vec::new(),
                Versions::Only12 => vec![TlsVersion::V12],
                Versions::Only13 => vec![TlsVersion::V13],
            },
            ..TlsSpec::default()
        };
        match side {
            TlsSide::Server => {
                spec.cert = pair(&self.cert, &self.key, (TlsField::Cert, TlsField::Key), &mut errors);
                spec.ca = path(&self.client_ca);
                spec.require_client_cert = self.require_client_cert;
                if self.require_client_cert && spec.ca.is_none() {
                    errors.push((Field::Tls(TlsField::ClientCa), Invalid::NeedsCa));
                }
            }
            TlsSide::Client => {
                spec.verify = match self.verify {
                    VerifyMode::Warn => Verify::Warn,
                    VerifyMode::Strict => Verify::Strict,
                    VerifyMode::Off => Verify::Off,
                };
                spec.ca = path(&self.ca);
                spec.sni = Some(self.sni.trim().to_owned()).filter(|name| !name.is_empty());
                if let Some(name) = &spec.sni
                    && ServerName::try_from(name.as_str()).is_err()
                {
                    errors.push((Field::Tls(TlsField::Sni), Invalid::ServerName));
                }
                spec.no_sni = self.no_sni;
                let fields = (TlsField::ClientCert, TlsField::ClientKey);
                spec.client_cert = pair(&self.client_cert, &self.client_key, fields, &mut errors);
            }
        }
        if errors.is_empty() { Ok(spec) } else { Err(errors) }
    }

    /// The fields showing `spec` for `side` (what `wirepad gui … --tls` asked for), switched on.
    pub fn from_spec(side: TlsSide, spec: &TlsSpec) -> TlsSettings {
        let text = |path: &Option<PathBuf>| path.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
        let (first, second) = match &spec.cert.as_ref().or(spec.client_cert.as_ref()) {
            Some((cert, key)) => (cert.display().to_string(), key.display().to_string()),
            None => Default::default(),
        };
        let mut settings = TlsSettings {
            enabled: true,
            verify: match spec.verify {
                Verify::Warn => VerifyMode::Warn,
                Verify::Strict => VerifyMode::Strict,
                Verify::Off => VerifyMode::Off,
            },
            sni: spec.sni.clone().unwrap_or_default(),
            no_sni: spec.no_sni,
            alpn: spec.alpn.join(","),
            require_client_cert: spec.require_client_cert,
            versions: match spec.versions[..] {
                [TlsVersion::V12] => Versions::Only12,
                [TlsVersion::V13] => Versions::Only13,
                _ => Versions::Both,
            },
            ..TlsSettings::default()
        };
        match side {
            TlsSide::Server => (settings.cert, settings.key, settings.client_ca) = (first, second, text(&spec.ca)),
            TlsSide::Client => {
                (settings.client_cert, settings.client_key, settings.ca) = (first, second, text(&spec.ca))
            }
        }
        settings
    }

    /// The end whose block has `field` (the path fields are one end's): a relay's client-side fields are its
    /// upstream block's.
    pub fn side_of(field: TlsField) -> Option<TlsSide> {
        match field {
            TlsField::Cert | TlsField::Key | TlsField::ClientCa => Some(TlsSide::Server),
            TlsField::Ca | TlsField::ClientCert | TlsField::ClientKey | TlsField::Sni => Some(TlsSide::Client),
            TlsField::Alpn | TlsField::Versions | TlsField::Whole => None,
        }
    }

    /// The text field a path of `field` goes in.
    pub fn path_mut(&mut self, field: TlsField) -> Option<&mut String> {
        match field {
            TlsField::Cert => Some(&mut self.cert),
            TlsField::Key => Some(&mut self.key),
            TlsField::Ca => Some(&mut self.ca),
            TlsField::ClientCa => Some(&mut self.client_ca),
            TlsField::ClientCert => Some(&mut self.client_cert),
            TlsField::ClientKey => Some(&mut self.client_key),
            TlsField::Sni | TlsField::Alpn | TlsField::Versions | TlsField::Whole => None,
        }
    }
}

/// The field of `side` a setup error at Open belongs to (the engine names the command line's option).
pub fn field_of(error: &TlsError, side: TlsSide) -> TlsField {
    let option = match error {
        TlsError::Read { option, .. } | TlsError::File { option, .. } | TlsError::Option { option, .. } => *option,
    };
    match (option, side) {
        ("--cert", _) => TlsField::Cert,
        ("--key", _) => TlsField::Key,
        ("--ca" | "--require-client-cert", TlsSide::Server) => TlsField::ClientCa,
        // Strict with an empty system store: the trust anchors are what is missing.
        ("--ca" | "--verify strict", _) => TlsField::Ca,
        ("--client-cert", _) => TlsField::ClientCert,
        ("--client-key", _) => TlsField::ClientKey,
        ("--tls-versions", _) => TlsField::Versions,
        _ => TlsField::Whole,
    }
}

/// The block and field a setup error at Open belongs to. `leg` is the relay's leg the engine says it is for:
/// the upstream leg is the upstream block, the client leg the tab's own (a relay's legs have options of the
/// same name, so the option alone cannot tell). `own` is the side of the tab's block when on.
pub fn setup_field(error: &TlsError, leg: Option<&str>, own: Option<TlsSide>) -> Option<Field> {
    match (leg, own) {
        (Some(UPSTREAM_LEG), _) => Some(Field::UpstreamTls(field_of(error, TlsSide::Client))),
        (_, Some(side)) => Some(Field::Tls(field_of(error, side))),
        (_, None) => None,
    }
}

/// A block's errors as the upstream leg's block (`Field::UpstreamTls`), so they show in that block.
pub fn on_upstream(errors: FieldErrors) -> FieldErrors {
    let leg = |field| match field {
        Field::Tls(field) => Field::UpstreamTls(field),
        other => other,
    };
    errors
        .into_iter()
        .map(|(field, invalid)| (leg(field), invalid))
        .collect()
}

/// What the window asks `wirepad cert new` for: `PREFIX.crt` and `PREFIX.key`, from the name chosen in a save
/// dialog (which may already end in one of them).
pub fn cert_prefix(chosen: &Path) -> PathBuf {
    match chosen.extension().and_then(|ext| ext.to_str()) {
        Some("crt" | "key" | "pem") => chosen.with_extension(""),
        _ => chosen.to_owned(),
    }
}

fn path(text: &str) -> Option<PathBuf> {
    Some(text.trim()).filter(|text| !text.is_empty()).map(PathBuf::from)
}

/// A certificate and its key: both or neither; the missing one is named.
fn pair(cert: &str, key: &str, fields: (TlsField, TlsField), errors: &mut FieldErrors) -> Option<(PathBuf, PathBuf)> {
    match (path(cert), path(key)) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        (Some(_), None) => {
            errors.push((Field::Tls(fields.1), Invalid::HalfPair));
            None
        }
        (None, Some(_)) => {
            errors.push((Field::Tls(fields.0), Invalid::HalfPair));
            None
        }
    }
}

/// `h2, http/1.1` as protocols; an empty entry (`h2,,x`) or one longer than TLS allows is refused.
fn alpn(text: &str, errors: &mut FieldErrors) -> Vec<String> {
    if text.trim().is_empty() {
        return Vec::new();
    }
    let protocols: Vec<String> = text.split(',').map(|p| p.trim().to_owned()).collect();
    if protocols.iter().any(|p| p.is_empty() || p.len() > 255) {
        errors.push((Field::Tls(TlsField::Alpn), Invalid::Alpn));
    }
    protocols
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::tls::CLIENT_LEG;

    fn errors(settings: &TlsSettings, side: TlsSide) -> FieldErrors {
        settings.spec(side).expect_err("refused")
    }

    #[test]
    fn a_client_block_means_the_command_lines_options() {
        let settings = TlsSettings {
            enabled: true,
            verify: VerifyMode::Strict,
            ca: " ca.pem ".into(),
            sni: "example.com".into(),
            alpn: "h2, http/1.1".into(),
            client_cert: "me.crt".into(),
            client_key: "me.key".into(),
            versions: Versions::Only13,
            // A server's fields are not a client's.
            cert: "server.crt".into(),
            require_client_cert: true,
            ..TlsSettings::default()
        };
        let spec = settings.spec(TlsSide::Client).expect("valid");
        assert_eq!(
            spec,
            TlsSpec {
                cert: None,
                ca: Some("ca.pem".into()),
                verify: Verify::Strict,
                sni: Some("example.com".into()),
                no_sni: false,
                alpn: vec!["h2".into(), "http/1.1".into()],
                versions: vec![TlsVersion::V13],
                client_cert: Some(("me.crt".into(), "me.key".into())),
                require_client_cert: false,
                keylog: None,
            }
        );
        assert_eq!(
            TlsSettings::from_spec(TlsSide::Client, &spec).spec(TlsSide::Client),
            Ok(spec)
        );
        // Empty fields: warn, the system's store, the host as SNI, both versions.
        assert_eq!(TlsSettings::default().spec(TlsSide::Client), Ok(TlsSpec::default()));
    }

    #[test]
    fn a_server_block_means_the_command_lines_options() {
        let settings = TlsSettings {
            cert: "s.crt".into(),
            key: "s.key".into(),
            require_client_cert: true,
            client_ca: "clients.pem".into(),
            ca: "not-the-server's.pem".into(),
            verify: VerifyMode::Off,
            ..TlsSettings::default()
        };
        let spec = settings.spec(TlsSide::Server).expect("valid");
        assert_eq!(spec.cert, Some(("s.crt".into(), "s.key".into())));
        assert_eq!(spec.ca, Some("clients.pem".into()));
        assert_eq!((spec.require_client_cert, spec.verify), (true, Verify::Warn));
        assert_eq!(
            TlsSettings::from_spec(TlsSide::Server, &spec).spec(TlsSide::Server),
            Ok(spec)
        );
        // No certificate: a self-signed one is made at start.
        assert_eq!(TlsSettings::default().spec(TlsSide::Server).map(|s| s.cert), Ok(None));
    }

    #[test]
    fn bad_fields_are_named() {
        let half = TlsSettings {
            cert: "s.crt".into(),
            client_key: "c.key".into(),
            ..TlsSettings::default()
        };
        assert_eq!(
            errors(&half, TlsSide::Server),
            [(Field::Tls(TlsField::Key), Invalid::HalfPair)]
        );
        assert_eq!(
            errors(&half, TlsSide::Client),
            [(Field::Tls(TlsField::ClientCert), Invalid::HalfPair)]
        );
        let require = TlsSettings {
            require_client_cert: true,
            ..TlsSettings::default()
        };
        assert_eq!(
            errors(&require, TlsSide::Server),
            [(Field::Tls(TlsField::ClientCa), Invalid::NeedsCa)]
        );
        let names = TlsSettings {
            sni: "not a name".into(),
            alpn: "h2,,x".into(),
            ..TlsSettings::default()
        };
        assert_eq!(
            errors(&names, TlsSide::Client),
            [
                (Field::Tls(TlsField::Alpn), Invalid::Alpn),
                (Field::Tls(TlsField::Sni), Invalid::ServerName)
            ]
        );
        let long = TlsSettings {
            alpn: "a".repeat(256),
            ..TlsSettings::default()
        };
        assert_eq!(
            errors(&long, TlsSide::Server),
            [(Field::Tls(TlsField::Alpn), Invalid::Alpn)]
        );
    }

    #[test]
    fn setup_errors_go_beside_their_field() {
        let error = |option| TlsError::Option {
            option,
            problem: String::new(),
        };
        assert_eq!(field_of(&error("--ca"), TlsSide::Server), TlsField::ClientCa);
        assert_eq!(field_of(&error("--ca"), TlsSide::Client), TlsField::Ca);
        assert_eq!(field_of(&error("--verify strict"), TlsSide::Client), TlsField::Ca);
        assert_eq!(field_of(&error("--client-key"), TlsSide::Client), TlsField::ClientKey);
        let read = TlsError::Read {
            option: "--cert",
            path: "x".into(),
            source: std::io::ErrorKind::NotFound.into(),
        };
        assert_eq!(field_of(&read, TlsSide::Server), TlsField::Cert);
        assert_eq!(field_of(&error("--tls"), TlsSide::Server), TlsField::Whole);
    }

    #[test]
    fn a_relays_setup_errors_go_to_the_block_of_their_leg() {
        let read = |option| TlsError::Read {
            option,
            path: "ca.pem".into(),
            source: std::io::ErrorKind::NotFound.into(),
        };
        let relay = |option, leg| setup_field(&read(option), Some(leg), Some(TlsSide::Server));
        // The same option on either leg: the leg decides, not the option or its path.
        assert_eq!(relay("--ca", UPSTREAM_LEG), Some(Field::UpstreamTls(TlsField::Ca)));
        assert_eq!(relay("--ca", CLIENT_LEG), Some(Field::Tls(TlsField::ClientCa)));
        assert_eq!(
            relay("--tls-versions", UPSTREAM_LEG),
            Some(Field::UpstreamTls(TlsField::Versions))
        );
        assert_eq!(
            relay("--tls-versions", CLIENT_LEG),
            Some(Field::Tls(TlsField::Versions))
        );
        let only_upstream = setup_field(&read("--client-key"), Some(UPSTREAM_LEG), None);
        assert_eq!(only_upstream, Some(Field::UpstreamTls(TlsField::ClientKey)));
        // The other kinds name no leg: the tab's own block, when on.
        assert_eq!(
            setup_field(&read("--ca"), None, Some(TlsSide::Client)),
            Some(Field::Tls(TlsField::Ca))
        );
        assert_eq!(setup_field(&read("--ca"), None, None), None);
    }

    #[test]
    fn a_chosen_name_gives_the_prefix() {
        assert_eq!(cert_prefix(Path::new("/t/server.crt")), Path::new("/t/server"));
        assert_eq!(cert_prefix(Path::new("/t/server.key")), Path::new("/t/server"));
        assert_eq!(cert_prefix(Path::new("/t/server")), Path::new("/t/server"));
        assert_eq!(cert_prefix(Path::new("/t/my.device")), Path::new("/t/my.device"));
    }
}
