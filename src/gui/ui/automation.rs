//! The left column's collapsed "Automation" section: the framing, and which automation panel (rules, script)
//! shows under the receive view.
use crate::gui::settings::{AutoPanel, FrameKind, LengthKind, TabConfig};
use crate::gui::ui::{Cx, field_error, labelled_field};

pub fn section(ui: &mut egui::Ui, cx: Cx, config: &mut TabConfig) {
    let a = cx.t.auto;
    egui::CollapsingHeader::new(a.automation)
        .id_salt("automation")
        .default_open(false)
        .show(ui, |ui| {
            framing(ui, cx, config);
            ui.horizontal(|ui| {
                for (panel, label, tip) in [
                    (AutoPanel::Rules, a.rules, a.tip_rules),
                    (AutoPanel::Script, a.script, a.tip_script),
                ] {
                    let on = config.automation == Some(panel);
                    if ui.selectable_label(on, label).on_hover_text(tip).clicked() {
                        config.automation = (!on).then_some(panel);
                    }
                }
            });
        })
        .header_response
        .on_hover_text(a.tip_automation);
}

fn framing(ui: &mut egui::Ui, cx: Cx, config: &mut TabConfig) {
    let a = cx.t.auto;
    let framing = &mut config.framing;
    let kind_name = |kind: FrameKind| match kind {
        FrameKind::None => a.frame_none,
        FrameKind::Line => a.frame_line,
        FrameKind::Delimiter => a.frame_delimiter,
        FrameKind::Length => a.frame_length,
        FrameKind::Gap => a.frame_gap,
    };
    ui.horizontal(|ui| {
        let label = ui.label(a.framing);
        egui::ComboBox::from_id_salt("framing")
            .selected_text(kind_name(framing.kind))
            .show_ui(ui, |ui| {
                for kind in [
                    FrameKind::None,
                    FrameKind::Line,
                    FrameKind::Delimiter,
                    FrameKind::Length,
                    FrameKind::Gap,
                ] {
                    ui.selectable_value(&mut framing.kind, kind, kind_name(kind));
                }
            })
            .response
            .labelled_by(label.id)
            .on_hover_text(a.tip_framing);
    });
    match framing.kind {
        FrameKind::Delimiter => {
            labelled_field(ui, a.delimiter, &mut framing.delimiter, 100.0);
        }
        FrameKind::Length => {
            ui.horizontal(|ui| {
                let label = ui.label(a.length_field);
                egui::ComboBox::from_id_salt("length-field")
                    .selected_text(framing.length.name())
                    .show_ui(ui, |ui| {
                        for length in LengthKind::ALL {
                            ui.selectable_value(&mut framing.length, length, length.name());
                        }
                    })
                    .response
                    .labelled_by(label.id);
            });
            ui.checkbox(&mut framing.counts_header, a.counts_header);
        }
        FrameKind::Gap => {
            labelled_field(ui, a.gap_ms, &mut framing.gap_ms, 70.0);
        }
        FrameKind::None | FrameKind::Line => {}
    }
    let problem = framing.framing().err().map(|error| cx.lang.framing_error(&error));
    field_error(ui, problem.as_deref());
}
