//! File dialogs for the window, behind a trait so tests (and systems without any dialog) can stand in.
//!
//! On Linux rfd asks the desktop portal and falls back to zenity; with neither it returns nothing at once,
//! which looks exactly like Cancel. A dialog that "closed" faster than a person can click, with no zenity
//! installed, is taken to mean that no dialog exists, so the window can say so and ask for a typed path.
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::export::Format;
use crate::gui::desktop;
use crate::settings::tls::{TlsField, TlsSide};

/// What a file is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilePurpose {
    SendFile,
    Capture,
    Pcap,
    SaveView,
    Export(Format),
    ImportRules,
    ExportRules,
    ImportScript,
    ExportScript,
    /// A relay's pair (by its client) as a replay script.
    PairScript(SocketAddr),
    /// A load test's report: JSON (the command line's) or CSV (a row per metric).
    LoadReport {
        csv: bool,
    },
    /// The file a load test sends as each message.
    LoadSendFile,
    /// A PEM file for a TLS field (certificate, key, CA).
    Tls(TlsField),
    /// Where a new self-signed certificate and its key go, for that end's fields.
    MakeCert(TlsSide),
}

impl FilePurpose {
    /// Files to write are asked for with a save dialog.
    pub fn saves(self) -> bool {
        !matches!(
            self,
            FilePurpose::SendFile
                | FilePurpose::LoadSendFile
                | FilePurpose::ImportRules
                | FilePurpose::ImportScript
                | FilePurpose::Tls(_)
        )
    }

    fn suggested_name(self) -> Option<String> {
        match self {
            FilePurpose::SendFile
            | FilePurpose::LoadSendFile
            | FilePurpose::ImportRules
            | FilePurpose::ImportScript
            | FilePurpose::Tls(_) => None,
            FilePurpose::MakeCert(_) => Some("wirepad.crt".into()),
            FilePurpose::ExportRules => Some("rules.toml".into()),
            FilePurpose::ExportScript => Some("script.toml".into()),
            FilePurpose::PairScript(client) => Some(format!("pair-{}.toml", client.port())),
            FilePurpose::LoadReport { csv } => Some(if csv { "load-report.csv" } else { "load-report.json" }.into()),
            FilePurpose::Capture => Some("capture.bin".into()),
            FilePurpose::Pcap => Some("wirepad.pcapng".into()),
            FilePurpose::SaveView => Some("wirepad.txt".into()),
            FilePurpose::Export(format) => Some(format!("wirepad.{}", format.extension())),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chosen {
    Path(PathBuf),
    Cancelled,
    /// No dialog could be shown on this system.
    Unavailable,
}

pub trait FileDialogs: Send + Sync {
    /// Blocks until the user has chosen (called on a thread of its own).
    fn choose(&self, purpose: FilePurpose) -> Chosen;
}

/// The system's dialogs, through rfd.
pub struct SystemDialogs;

/// Faster than anyone closes a dialog.
const NO_DIALOG: Duration = Duration::from_millis(400);

impl FileDialogs for SystemDialogs {
    fn choose(&self, purpose: FilePurpose) -> Chosen {
        let mut dialog = rfd::FileDialog::new();
        if let Some(name) = purpose.suggested_name() {
            dialog = dialog.set_file_name(name);
        }
        let started = Instant::now();
        let path = if purpose.saves() {
            dialog.save_file()
        } else {
            dialog.pick_file()
        };
        match path {
            Some(path) => Chosen::Path(path),
            None if !desktop::has_fallback_dialog() && started.elapsed() < NO_DIALOG => Chosen::Unavailable,
            None => Chosen::Cancelled,
        }
    }
}
