//! Work on files: the files the user picks, receive-to-file and live pcap handed to the session, and the exports,
//! saves, copies and imports that run on threads of their own and report back through the window.
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use crate::automation::file_text;
use crate::automation::replay::{Speaker, replay_script};
use crate::automation::rules::{Rules, RulesError};
use crate::automation::script::{ScriptError, ScriptSpec};
use crate::export::{ExportError, Format, Progress, Session as ExportSession};
use crate::gui::auto_state::{editable_rules, editable_script};
use crate::gui::dialog::FilePurpose;
use crate::gui::i18n::Notice;
use crate::history::{Chunk, Direction, Leg};
use crate::net::{CaptureFile, Command, Session};
use crate::session::state::LinkState;
use crate::settings::tls::TlsSettings;

use super::{Imported, Picked, Tab};

impl Tab {
    /// A file the user chose for `purpose`.
    pub fn chosen(&mut self, purpose: FilePurpose, path: PathBuf) {
        match purpose {
            FilePurpose::SendFile => self.command(Command::SendFile {
                to: self.send_target(),
                path,
            }),
            FilePurpose::Capture => {
                self.state.capture = Some(CaptureFile::truncate(path));
                self.start_capture();
            }
            FilePurpose::Pcap => {
                self.state.pcap = Some(CaptureFile::truncate(path));
                self.start_pcap();
            }
            FilePurpose::SaveView => self.save_view(path),
            FilePurpose::Export(format) => self.export(format, path),
            FilePurpose::ImportRules | FilePurpose::ImportScript => self.import(purpose, path),
            FilePurpose::ExportRules => {
                let text = crate::automation::rules::specs_to_toml(&self.config.rules);
                self.write_file("wirepad-write", path, move || text)
            }
            FilePurpose::ExportScript => {
                let text = self.config.script.to_toml();
                self.write_file("wirepad-write", path, move || text)
            }
            FilePurpose::PairScript(client) => self.save_pair_script(client, path),
            FilePurpose::Tls(field) => {
                let tls = self.config.tls_of_side_mut(TlsSettings::side_of(field));
                if let Some(text) = tls.path_mut(field) {
                    *text = path.display().to_string();
                }
            }
            FilePurpose::MakeCert(side) => self.make_cert(side, path),
            // Only its name now: Start reads it, off this thread.
            FilePurpose::LoadSendFile => self.config.load.send_file = path.display().to_string(),
            FilePurpose::LoadReport { csv } => {
                if let Some(report) = self.state.load.report().cloned() {
                    self.write_file("wirepad-write", path, move || match csv {
                        true => report.to_csv(),
                        false => report.to_json() + "\n",
                    })
                }
            }
        }
    }

    /// A relay pair's conversation, as the history holds it, written as a script that replays its client's part
    /// (on a thread of its own: here only the chunks' handles are taken).
    fn save_pair_script(&self, client: SocketAddr, path: PathBuf) {
        let said: Vec<(Speaker, Arc<Chunk>)> = self
            .state
            .log
            .since_shared(0)
            .filter(|(_, chunk)| chunk.direction == Direction::Rx && chunk.owner() == client)
            .filter_map(|(_, chunk)| match chunk.leg {
                Leg::Client => Some((Speaker::Client, chunk.clone())),
                Leg::Upstream { .. } => Some((Speaker::Server, chunk.clone())),
                Leg::Direct => None,
            })
            .collect();
        let encoding = self.config.receive.encoding;
        self.write_file("wirepad-pair-script", path, move || {
            let said = said.iter().map(|(speaker, chunk)| (*speaker, &chunk.bytes[..]));
            replay_script(said, encoding).to_toml()
        });
    }

    /// Hands the capture file to the open session; a later session appends to what this one writes.
    pub(super) fn start_capture(&mut self) {
        hand_over(self.state.session.as_ref(), &mut self.state.capture, Command::Capture);
    }

    /// The same for the pcap: a later session adds a section to its file.
    pub(super) fn start_pcap(&mut self) {
        hand_over(self.state.session.as_ref(), &mut self.state.pcap, Command::Pcap);
    }

    /// The session just started got `given` in its config (so it captured from its first byte); a file picked or
    /// stopped while it was starting goes to it now. Whatever opens next appends.
    pub(super) fn settle_files(&mut self, (capture, pcap): GivenFiles) {
        let state = &mut self.state;
        settle(state.session.as_ref(), &mut state.capture, capture, Command::Capture);
        settle(state.session.as_ref(), &mut state.pcap, pcap, Command::Pcap);
    }

    /// Stop receiving to file: the session lets go of it.
    pub(super) fn stop_capture(&mut self) {
        let_go(self.state.session.as_ref(), &mut self.state.capture, Command::Capture);
    }

    /// The same for the pcap.
    pub(super) fn stop_pcap(&mut self) {
        let_go(self.state.session.as_ref(), &mut self.state.pcap, Command::Pcap);
    }

    /// The view's history (or its selected rows) written as `format` on a thread of its own, one export at a
    /// time; the progress shows in the tab until it ends.
    fn export(&mut self, format: Format, path: PathBuf) {
        if self.state.export.is_some() {
            return;
        }
        let snapshot = self.state.view.snapshot_selected();
        let session = ExportSession {
            local: self.local_end(),
            carrier: self.config.mode.caps().carrier,
        };
        let progress = Arc::new(Progress::default());
        self.state.export = Some((format, progress.clone()));
        let id = self.id;
        let spawned = self.background("wirepad-export", move || {
            let notice = match crate::export::write(&snapshot, format, session, &path, &progress) {
                Ok(()) => Some(Notice::Saved { path }),
                Err(ExportError::Cancelled { .. }) => None,
                Err(ExportError::Write { path, source }) => Some(Notice::Write {
                    path,
                    error: Arc::new(source),
                }),
                Err(ExportError::Pcap { path, source }) => Some(Notice::Write {
                    path,
                    error: Arc::new(std::io::Error::other(source)),
                }),
            };
            Some(Picked::Exported(id, notice))
        });
        if !spawned {
            self.state.export = None;
        }
    }

    /// Asks the export being written to stop (its thread removes the partial file).
    pub(super) fn cancel_export(&self) {
        if let Some((_, progress)) = &self.state.export {
            progress.cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// The view (or its selected rows) laid out on a thread of its own, for the clipboard.
    pub(super) fn copy_all(&self) {
        let snapshot = self.state.view.snapshot_selected();
        let _ = self.background("wirepad-copy-all", move || Some(Picked::Copy(snapshot.text())));
    }

    /// An export ended.
    pub fn exported(&mut self) {
        self.state.export = None;
    }

    /// Our end of the session, for a pcap: the bound or connected address, else the fields' own.
    fn local_end(&self) -> SocketAddr {
        let fields = || {
            let ip = self
                .config
                .local_ip
                .trim()
                .parse()
                .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED.into());
            SocketAddr::new(ip, self.config.local_port().trim().parse().unwrap_or(0))
        };
        match (self.state.local_addr(), self.state.link()) {
            (Some(local), _) => local,
            (None, LinkState::Connected { local, .. }) => *local,
            _ => fields(),
        }
    }

    /// Written on a thread of its own; a failure shows in the window.
    fn save_view(&mut self, path: PathBuf) {
        // The text is made on the writer's thread too: a 64 MiB history takes a while to lay out.
        let snapshot = self.state.view.snapshot_selected();
        self.write_file("wirepad-save-view", path, move || snapshot.text());
    }

    /// A rules or script file came back read: it replaces the table (applied with Apply, or at Open).
    pub fn imported(&mut self, imported: Imported) {
        let error = match imported {
            Imported::Rules(Ok(rules)) => {
                self.config.rules = editable_rules(rules);
                None
            }
            Imported::Script(Ok(script)) => {
                self.config.script = editable_script(script);
                None
            }
            Imported::Rules(Err(error)) | Imported::Script(Err(error)) => Some(error),
        };
        self.state.auto.set_import_error(error);
    }

    /// Reads and checks a rules or script file on a thread of its own.
    fn import(&self, purpose: FilePurpose, path: PathBuf) {
        let (id, encoding) = (self.id, self.config.receive.encoding);
        let _ = self.background("wirepad-import", move || {
            // Checked as the command line checks `--rules` and `--script`, with the same messages.
            let bytes = std::fs::read(&path).map_err(|error| Notice::Read {
                path: path.clone(),
                error: Arc::new(error),
            });
            let imported = match purpose {
                FilePurpose::ImportScript => Imported::Script(bytes.and_then(|bytes| {
                    file_text(&bytes)
                        .map_err(ScriptError::from)
                        .and_then(|text| ScriptSpec::parse(text, encoding))
                        .map_err(|error| Notice::ScriptFile { path, error })
                })),
                _ => Imported::Rules(bytes.and_then(|bytes| {
                    file_text(&bytes)
                        .map_err(RulesError::from)
                        .and_then(|text| Rules::parse(text, encoding))
                        .map(|rules| rules.table().map(|(spec, _)| spec.clone()).collect())
                        .map_err(|error| Notice::RulesFile { path, error })
                })),
            };
            Some(Picked::Imported(id, imported))
        });
    }

    /// Writes the text `text` makes, both on a thread of its own; the window says where it went, or why not.
    fn write_file(&self, thread: &str, path: PathBuf, text: impl FnOnce() -> String + Send + 'static) {
        let _ = self.background(thread, move || {
            Some(Picked::Notice(match std::fs::write(&path, text()) {
                Ok(()) => Notice::Saved { path },
                Err(error) => Notice::Write {
                    path,
                    error: Arc::new(error),
                },
            }))
        });
    }

    /// Runs `work` on a thread of its own; what it returns comes back through the window. `false` when no
    /// thread could be started.
    pub(super) fn background(&self, name: &str, work: impl FnOnce() -> Option<Picked> + Send + 'static) -> bool {
        self.background_streaming(name, move |deliver| {
            if let Some(picked) = work() {
                deliver(picked);
            }
        })
    }

    /// [`background`](Self::background) for work that hands results over as it goes.
    pub(super) fn background_streaming(&self, name: &str, work: impl FnOnce(&dyn Fn(Picked)) + Send + 'static) -> bool {
        let (tx, repaint) = (self.state.picked.clone(), self.state.repaint.clone());
        let spawned = std::thread::Builder::new().name(name.into()).spawn(move || {
            work(&|picked| {
                let _ = tx.send(picked);
                repaint.request_repaint();
            });
        });
        spawned.is_ok()
    }
}

/// Gives `file` to the open session with `command`; whatever opens next appends to it.
fn hand_over(session: Option<&Session>, file: &mut Option<CaptureFile>, command: fn(Option<CaptureFile>) -> Command) {
    if let (Some(session), Some(file)) = (session, file) {
        session.command(command(Some(file.clone())));
        file.append = true;
    }
}

/// The capture and the pcap file a session was started with.
pub(super) type GivenFiles = (Option<CaptureFile>, Option<CaptureFile>);

/// Tells the session of `file` when it is not the `given` one it started with; marks it for appending.
fn settle(
    session: Option<&Session>,
    file: &mut Option<CaptureFile>,
    given: Option<CaptureFile>,
    command: fn(Option<CaptureFile>) -> Command,
) {
    if let Some(session) = session
        && *file != given
    {
        session.command(command(file.clone()));
    }
    if let Some(file) = file {
        file.append = true;
    }
}

/// Takes `file` back from the open session with `command`: nothing more is written to it.
fn let_go(session: Option<&Session>, file: &mut Option<CaptureFile>, command: fn(Option<CaptureFile>) -> Command) {
    if let Some(session) = session {
        session.command(command(None));
    }
    *file = None;
}
