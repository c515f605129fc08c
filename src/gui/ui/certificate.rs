//! The certificate panel: the handshake of a TLS session (a client's server, or the client a server's panel is
//! on), each certificate of the peer's chain, the verdict in words and in a colour, the certificate a server
//! presents, and the handshakes that failed. Opened from the status bar's TLS button (the
//! bundled fonts have no lock glyph).
use std::net::SocketAddr;

use crate::gui::i18n::tls::TlsLabels;
use crate::gui::tab::{TabAction as Action, TabState};
use crate::gui::ui::Cx;
use crate::gui::ui::tls::fingerprint;
use crate::net::tls::{CLIENT_LEG, CertInfo, Handshake, UPSTREAM_LEG, Verdict};
use crate::settings::TabConfig;

pub fn certificate_panel(ui: &mut egui::Ui, cx: Cx, config: &TabConfig, state: &TabState) -> Vec<Action> {
    let t = &cx.t.tls;
    let tls = state.tls();
    let mut actions = Vec::new();
    egui::ScrollArea::vertical().auto_shrink([false, true]).show(ui, |ui| {
        ui.strong(t.certificates);
        if let Some((cert, self_signed)) = tls.serving() {
            let made = if *self_signed {
                format!(" ({})", t.made_at_start)
            } else {
                String::new()
            };
            ui.label(format!("{}: {}{made}", t.presented, cert.subject));
            fingerprint(ui, t.fingerprint, &cert.sha256);
            ui.separator();
        }
        if config.mode.caps().tls_upstream() {
            actions.extend(pair_legs(ui, cx, state));
        } else {
            if config.mode.caps().accepts && tls.any() {
                let clients: Vec<SocketAddr> = tls.peers().collect();
                let shown = tls.shown(state.target()).map(|handshake| handshake.peer);
                actions.extend(client_choice(ui, t, &clients, shown));
            }
            match tls.shown(state.target()) {
                Some(handshake) => handshake_ui(ui, cx, handshake),
                None => {
                    ui.weak(t.no_handshake);
                }
            }
        }
        failures(ui, cx, state);
    });
    actions
}

/// A relay's panel: the pair chosen by its client, and the handshake of each of its legs that speaks TLS.
fn pair_legs(ui: &mut egui::Ui, cx: Cx, state: &TabState) -> Option<Action> {
    let (t, tls) = (&cx.t.tls, state.tls());
    let pairs: Vec<(SocketAddr, Option<SocketAddr>)> = (state.pairs().iter())
        .filter(|pair| pair.is_open())
        .map(|pair| (pair.client, pair.via))
        .collect();
    let shown = tls.shown_client(state.target(), &pairs);
    let clients: Vec<SocketAddr> = pairs.iter().map(|(client, _)| *client).collect();
    let chosen = if clients.is_empty() {
        None
    } else {
        client_choice(ui, t, &clients, shown)
    };
    let via = shown
        .and_then(|client| pairs.iter().find(|(c, _)| *c == client))
        .and_then(|(_, via)| *via);
    let legs = [
        (t.client_leg, CLIENT_LEG, shown.and_then(|client| tls.with_peer(client))),
        (t.upstream_leg, UPSTREAM_LEG, via.and_then(|via| tls.upstream(via))),
    ];
    if legs.iter().all(|(_, _, handshake)| handshake.is_none()) {
        ui.weak(t.no_handshake);
    }
    // A leg without this pair's handshake says its last failure there: the pair that failed is gone.
    for (title, leg, handshake) in legs {
        match (handshake, tls.last_failure(leg)) {
            (Some(handshake), _) => ui.push_id(leg, |ui| {
                ui.strong(title);
                handshake_ui(ui, cx, handshake);
            }),
            (None, Some(error)) => ui.push_id(leg, |ui| {
                ui.strong(title);
                failure_line(ui, &format!("{}: {}", t.last_failure, cx.lang.net_error(error)));
            }),
            (None, None) => continue,
        };
    }
    chosen
}

/// A server's or relay's panel: which client's handshake it shows.
fn client_choice(
    ui: &mut egui::Ui,
    t: &TlsLabels,
    clients: &[SocketAddr],
    shown: Option<SocketAddr>,
) -> Option<Action> {
    let mut chosen = None;
    ui.horizontal(|ui| {
        let label = ui.label(t.client);
        egui::ComboBox::from_id_salt("tls-client")
            .selected_text(shown.map(|peer| peer.to_string()).unwrap_or_default())
            .show_ui(ui, |ui| {
                for peer in clients {
                    if ui.selectable_label(Some(*peer) == shown, peer.to_string()).clicked() {
                        chosen = Some(*peer);
                    }
                }
            })
            .response
            .labelled_by(label.id);
    });
    chosen.map(Action::ShowTlsClient)
}

/// Version, suite and ALPN on one line, the verdict in its colour, then each certificate of the chain.
fn handshake_ui(ui: &mut egui::Ui, cx: Cx, handshake: &Handshake) {
    let t = &cx.t.tls;
    let alpn = handshake
        .alpn
        .as_ref()
        .map_or_else(|| t.no_alpn.to_owned(), |alpn| format!("ALPN {alpn}"));
    ui.add(
        egui::Label::new(format!(
            "{} {} · {}: {} · {alpn}",
            handshake.peer,
            version_words(&handshake.version),
            t.suite,
            handshake.suite
        ))
        .wrap(),
    );
    let (words, colour) = verdict(ui, cx, &handshake.verdict);
    ui.add(egui::Label::new(egui::RichText::new(words).color(colour).strong()).wrap());
    for (index, cert) in handshake.chain.iter().enumerate() {
        egui::CollapsingHeader::new(format!("#{} {}", index + 1, cert.subject))
            .id_salt(("tls-cert", index))
            .default_open(index == 0)
            .show(ui, |ui| cert_ui(ui, t, cert));
    }
}

fn cert_ui(ui: &mut egui::Ui, t: &TlsLabels, cert: &CertInfo) {
    egui::Grid::new("tls-cert-fields").num_columns(2).show(ui, |ui| {
        for (name, value) in [
            (t.subject, cert.subject.clone()),
            (t.issuer, cert.issuer.clone()),
            (t.san, cert.san.join(", ")),
            (t.not_before, cert.not_before.clone()),
            (t.not_after, cert.not_after.clone()),
        ] {
            ui.label(name);
            ui.add(egui::Label::new(value).wrap().selectable(true));
            ui.end_row();
        }
    });
    fingerprint(ui, t.fingerprint, &cert.sha256);
}

/// The verdict in words, and a colour that says it: green verified, red not, grey not looked at.
fn verdict(ui: &egui::Ui, cx: Cx, verdict: &Verdict) -> (String, egui::Color32) {
    let t = &cx.t.tls;
    let visuals = ui.visuals();
    let good = if visuals.dark_mode {
        egui::Color32::LIGHT_GREEN
    } else {
        egui::Color32::DARK_GREEN
    };
    match verdict {
        Verdict::Verified => (t.verified.to_owned(), good),
        Verdict::Failed(why) => (
            format!("{}: {}", t.not_verified, cx.lang.cert_problem(why)),
            visuals.error_fg_color,
        ),
        Verdict::NotChecked => (t.not_checked.to_owned(), visuals.warn_fg_color),
        Verdict::NoCertificate => (t.no_client_cert.to_owned(), visuals.weak_text_color()),
    }
}

/// The handshakes that failed since Open, newest last (at most a screenful kept; the count is whole).
fn failures(ui: &mut egui::Ui, cx: Cx, state: &TabState) {
    let (failures, count) = state.tls().failures();
    if failures.is_empty() {
        return;
    }
    ui.separator();
    ui.strong(format!("{} ({count})", cx.t.tls.recent_failures));
    for error in failures {
        failure_line(ui, &cx.lang.net_error(error));
    }
}

/// A failed handshake in words, in the error colour.
fn failure_line(ui: &mut egui::Ui, words: &str) {
    ui.add(egui::Label::new(egui::RichText::new(words).color(ui.visuals().error_fg_color)).wrap());
}

/// `TLSv1_3` (rustls's name) as people write it: `TLS 1.3`.
pub(crate) fn version_words(version: &str) -> String {
    match version.strip_prefix("TLSv") {
        Some(number) => format!("TLS {}", number.replace('_', ".")),
        None => version.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn versions_read_as_people_write_them() {
        assert_eq!(super::version_words("TLSv1_3"), "TLS 1.3");
        assert_eq!(super::version_words("TLSv1_2"), "TLS 1.2");
        assert_eq!(super::version_words("SSLv3"), "SSLv3");
    }
}
