//! The left column's collapsed "Automation" section: the framing, and which automation panel (rules, script)
//! shows under the receive view.
use crate::gui::ui::{Cx, field_error, labelled_field};
use crate::settings::{AutoPanel, FrameKind, LengthKind, TabConfig};

pub fn section(ui: &mut egui::Ui, cx: Cx, config: &mut TabConfig) {
    let t = cx.t;
    egui::CollapsingHeader::new(t.automation.automation)
        .id_salt("automation")
        .default_open(false)
        .show(ui, |ui| {
            framing(ui, cx, config);
            ui.horizontal(|ui| {
                for (panel, label, tip) in [
                    (AutoPanel::Rules, t.automation.rules, t.automation.tip_rules),
                    (AutoPanel::Script, t.automation.script, t.automation.tip_script),
                ] {
                    let on = config.automation == Some(panel);
                    if ui.selectable_label(on, label).on_hover_text(tip).clicked() {
                        config.automation = (!on).then_some(panel);
                    }
                }
            });
        })
        .header_response
        .on_hover_text(t.automation.tip_automation);
}

fn framing(ui: &mut egui::Ui, cx: Cx, config: &mut TabConfig) {
    let t = cx.t;
    let framing = &mut config.framing;
    let kind_name = |kind: FrameKind| match kind {
        FrameKind::None => t.automation.frame_none,
        FrameKind::Line => t.automation.frame_line,
        FrameKind::Delimiter => t.automation.frame_delimiter,
        FrameKind::Length => t.automation.frame_length,
        FrameKind::Gap => t.automation.frame_gap,
    };
    ui.horizontal(|ui| {
        let label = ui.label(t.automation.framing);
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
            .on_hover_text(t.automation.tip_framing);
    });
    match framing.kind {
        FrameKind::Delimiter => {
            labelled_field(ui, t.automation.delimiter, &mut framing.delimiter, 100.0);
        }
        FrameKind::Length => {
            ui.horizontal(|ui| {
                let label = ui.label(t.automation.length_field);
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
            ui.checkbox(&mut framing.counts_header, t.automation.counts_header);
        }
        FrameKind::Gap => {
            labelled_field(ui, t.automation.gap_ms, &mut framing.gap_ms, 70.0);
        }
        FrameKind::None | FrameKind::Line => {}
    }
    let problem = framing.framing().err().map(|error| cx.lang.framing_error(&error));
    field_error(ui, problem.as_deref());
}
