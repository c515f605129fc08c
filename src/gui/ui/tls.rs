//! One block of TLS settings: a "TLS" checkbox and, when ticked, the fields of one end (`TlsSide`). It borrows
//! only its `TlsSettings`, so a relay's two legs each draw one; the files it asks for come back as actions.
use crate::gui::dialog::FilePurpose;
use crate::gui::i18n::Notice;
use crate::gui::i18n::tls::TlsLabels;
use crate::gui::tab::MadeCert;
use crate::gui::ui::{Cx, field_error, labelled_field};
use crate::settings::tls::{TlsField, TlsSettings, TlsSide, VerifyMode, Versions};
use crate::settings::{Field, Invalid};

const PATH_WIDTH: f32 = 110.0;

/// What a block shows besides its fields: its checkbox's words, the check's errors, a file refused at the last
/// Open (its field and why), and the certificate the button made.
pub struct TlsShown<'a> {
    pub title: &'static str,
    /// The form field each of this block's fields is (`Field::Tls`, or a relay's `Field::UpstreamTls`).
    pub field: fn(TlsField) -> Field,
    pub errors: &'a [(Field, Invalid)],
    pub setup: Option<(Field, String)>,
    pub made: Option<&'a Result<MadeCert, Notice>>,
}

/// Draws the block (`id` tells two blocks apart); returns the files it asks for.
pub fn tls_block(
    ui: &mut egui::Ui,
    cx: Cx,
    id: &str,
    side: TlsSide,
    tls: &mut TlsSettings,
    shown: &TlsShown<'_>,
) -> Vec<FilePurpose> {
    let t = &cx.t.tls;
    ui.checkbox(&mut tls.enabled, shown.title).on_hover_text(t.tip_tls);
    if !tls.enabled {
        return Vec::new();
    }
    let mut picks = Vec::new();
    let mut form = Form {
        cx,
        tls,
        shown,
        picks: &mut picks,
    };
    ui.push_id(id, |ui| {
        ui.indent("tls", |ui| {
            match side {
                TlsSide::Server => form.server(ui),
                TlsSide::Client => form.client(ui),
            }
            let hidden_error = advanced_fields(side).iter().find_map(|field| form.message(*field));
            let mut advanced = egui::CollapsingHeader::new(t.advanced).id_salt("advanced");
            if reveal(ui, hidden_error) {
                advanced = advanced.open(Some(true));
            }
            advanced.show(ui, |ui| {
                match side {
                    TlsSide::Server => form.server_advanced(ui),
                    TlsSide::Client => form.client_advanced(ui),
                }
                form.shared_advanced(ui);
            });
            form.error(ui, TlsField::Whole);
        });
    });
    picks
}

/// The fields `side`'s Advanced section holds (`server_advanced`/`client_advanced`, then `shared_advanced`).
fn advanced_fields(side: TlsSide) -> &'static [TlsField] {
    match side {
        TlsSide::Server => &[TlsField::ClientCa, TlsField::Alpn, TlsField::Versions],
        TlsSide::Client => &[
            TlsField::ClientCert,
            TlsField::ClientKey,
            TlsField::Alpn,
            TlsField::Versions,
        ],
    }
}

/// Whether to open the Advanced section this frame: once for each new `error` of a field in it, since a
/// collapsed section hides the field and the error said beside it (the message under Open leaves it to the
/// field). The user may close it again; the same error does not reopen it.
fn reveal(ui: &egui::Ui, error: Option<&str>) -> bool {
    let id = ui.make_persistent_id("advanced-revealed-for");
    ui.data_mut(|data| match error {
        None => {
            data.remove::<String>(id);
            false
        }
        Some(error) if data.get_temp::<String>(id).as_deref() == Some(error) => false,
        Some(error) => {
            data.insert_temp(id, error.to_owned());
            true
        }
    })
}

/// The block being drawn.
struct Form<'a> {
    cx: Cx,
    tls: &'a mut TlsSettings,
    shown: &'a TlsShown<'a>,
    picks: &'a mut Vec<FilePurpose>,
}

impl<'a> Form<'a> {
    fn t(&self) -> &'static TlsLabels {
        &self.cx.t.tls
    }

    fn server(&mut self, ui: &mut egui::Ui) {
        let t = self.t();
        self.path(ui, t.cert, TlsField::Cert);
        self.path(ui, t.key, TlsField::Key);
        ui.weak(t.hint_self_signed);
        self.make_cert(ui, TlsSide::Server);
    }

    fn client(&mut self, ui: &mut egui::Ui) {
        let t = self.t();
        ui.horizontal(|ui| {
            let label = ui.label(t.verify);
            egui::ComboBox::from_id_salt("verify")
                .selected_text(verify_name(t, self.tls.verify))
                .show_ui(ui, |ui| {
                    for mode in VerifyMode::ALL {
                        ui.selectable_value(&mut self.tls.verify, mode, verify_name(t, mode));
                    }
                })
                .response
                .labelled_by(label.id)
                .on_hover_text(t.tip_verify);
        });
        self.path(ui, t.ca, TlsField::Ca);
        ui.weak(t.hint_system_store);
        labelled_field(ui, t.sni, &mut self.tls.sni, PATH_WIDTH).on_hover_text(t.tip_sni);
        self.error(ui, TlsField::Sni);
        ui.checkbox(&mut self.tls.no_sni, t.no_sni);
    }

    fn server_advanced(&mut self, ui: &mut egui::Ui) {
        let t = self.t();
        ui.checkbox(&mut self.tls.require_client_cert, t.require_client_cert)
            .on_hover_text(t.tip_require_client_cert);
        self.path(ui, t.client_ca, TlsField::ClientCa);
    }

    fn client_advanced(&mut self, ui: &mut egui::Ui) {
        let t = self.t();
        self.path(ui, t.client_cert, TlsField::ClientCert);
        self.path(ui, t.client_key, TlsField::ClientKey);
        self.make_cert(ui, TlsSide::Client);
    }

    /// ALPN and versions, on either end.
    fn shared_advanced(&mut self, ui: &mut egui::Ui) {
        let t = self.t();
        labelled_field(ui, t.alpn, &mut self.tls.alpn, PATH_WIDTH).on_hover_text(t.tip_alpn);
        self.error(ui, TlsField::Alpn);
        ui.horizontal(|ui| {
            let label = ui.label(t.versions);
            egui::ComboBox::from_id_salt("versions")
                .selected_text(self.tls.versions.name())
                .show_ui(ui, |ui| {
                    for versions in Versions::ALL {
                        ui.selectable_value(&mut self.tls.versions, versions, versions.name());
                    }
                })
                .response
                .labelled_by(label.id);
        });
        self.error(ui, TlsField::Versions);
    }

    /// A path field with its file picker, and its error under it.
    fn path(&mut self, ui: &mut egui::Ui, label: &str, field: TlsField) {
        let (t, dialog_free) = (self.t(), self.cx.dialog_free);
        if let Some(text) = self.tls.path_mut(field) {
            ui.horizontal(|ui| {
                labelled_field(ui, label, text, PATH_WIDTH);
                let button = ui
                    .add_enabled(dialog_free, egui::Button::new("…"))
                    .on_hover_text(t.choose_file)
                    .on_disabled_hover_text(self.cx.t.dialogs.file_dialog_busy);
                if button.clicked() {
                    self.picks.push(FilePurpose::Tls(field));
                }
            });
        }
        self.error(ui, field);
    }

    /// Says under the field what is wrong with it.
    fn error(&self, ui: &mut egui::Ui, field: TlsField) {
        field_error(ui, self.message(field));
    }

    /// What is wrong with `field`: the check's words, or the file refused at Open.
    fn message(&self, field: TlsField) -> Option<&'a str> {
        let t = self.t();
        let shown: &'a TlsShown<'a> = self.shown;
        let field = (shown.field)(field);
        let checked = shown.errors.iter().find_map(|(f, invalid)| match invalid {
            _ if *f != field => None,
            Invalid::HalfPair => Some(t.bad_half_pair),
            Invalid::NeedsCa => Some(t.bad_needs_ca),
            Invalid::ServerName => Some(t.bad_server_name),
            Invalid::Alpn => Some(t.bad_alpn),
            _ => None,
        });
        let setup = shown
            .setup
            .as_ref()
            .filter(|(f, _)| *f == field)
            .map(|(_, why)| why.as_str());
        checked.or(setup)
    }

    /// The button that writes a self-signed certificate for this end, and what it made last.
    fn make_cert(&mut self, ui: &mut egui::Ui, side: TlsSide) {
        let t = self.t();
        let button = ui
            .add_enabled(self.cx.dialog_free, egui::Button::new(t.make_cert))
            .on_hover_text(t.tip_make_cert)
            .on_disabled_hover_text(self.cx.t.dialogs.file_dialog_busy);
        if button.clicked() {
            self.picks.push(FilePurpose::MakeCert(side));
        }
        match self.shown.made {
            Some(Ok(made)) => {
                ui.label(format!("{} {}", t.made_cert, made.cert.display()));
                fingerprint(ui, t.fingerprint, &made.sha256);
            }
            Some(Err(notice)) => field_error(ui, Some(&self.cx.lang.notice(notice))),
            None => {}
        }
    }
}

/// A SHA-256 fingerprint under its name, small and wrapped (it is 95 characters), selectable to copy.
pub(crate) fn fingerprint(ui: &mut egui::Ui, name: &str, sha256: &str) {
    ui.add(
        egui::Label::new(egui::RichText::new(format!("{name}: {sha256}")).small().monospace())
            .wrap()
            .selectable(true),
    );
}

fn verify_name(t: &TlsLabels, mode: VerifyMode) -> &'static str {
    match mode {
        VerifyMode::Warn => t.verify_warn,
        VerifyMode::Strict => t.verify_strict,
        VerifyMode::Off => t.verify_off,
    }
}
