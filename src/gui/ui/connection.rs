//! The left column: 通信设置 (connection), 接收设置 (receive), 发送设置 (send).
use std::net::IpAddr;
use std::sync::OnceLock;

use crate::codec::checksum::Checksum;
use crate::codec::text::TextEncoding;
use crate::export::Format;
use crate::gui::dialog::FilePurpose;
use crate::gui::i18n::Texts;
use crate::gui::settings::{Field, Invalid, ModeKind, TabConfig};
use crate::gui::tab::{TabAction as Action, TabState};
use crate::gui::ui::{Cx, error_label, field_error, labelled_field};
use crate::send::LineEnding;
use crate::session::state::LinkState;

const FIELD_WIDTH: f32 = 120.0;

/// `history`: the remotes used lately (every tab's), to pick from.
pub fn settings_column(
    ui: &mut egui::Ui,
    cx: Cx,
    config: &mut TabConfig,
    state: &TabState,
    history: &[String],
) -> Vec<Action> {
    let mut actions = Vec::new();
    let t = cx.t;
    ui.heading(t.connection);
    actions.extend(connection(ui, cx, config, state, history));
    ui.separator();
    ui.heading(t.receive_settings);
    actions.extend(receive(ui, cx, config, state));
    ui.separator();
    ui.heading(t.send_settings);
    actions.extend(send(ui, cx, config, state));
    ui.separator();
    crate::gui::ui::automation::section(ui, cx, config);
    actions
}

fn connection(
    ui: &mut egui::Ui,
    cx: Cx,
    settings: &mut TabConfig,
    state: &TabState,
    history: &[String],
) -> Vec<Action> {
    let t = cx.t;
    let open = state.is_open();
    // What the fields say right now; Open stays disabled while any is wrong.
    let errors = match settings.validate() {
        Ok(_) => Vec::new(),
        Err(errors) => errors,
    };
    let message = |field: Field| {
        errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, invalid)| match invalid {
                Invalid::Port => t.bad_port,
                Invalid::RemotePort => t.bad_remote_port,
                Invalid::Ip => t.bad_ip,
                Invalid::Host => t.bad_host,
                Invalid::Group => t.bad_group,
                Invalid::Number => t.bad_number,
            })
    };
    ui.add_enabled_ui(!open, |ui| {
        ui.horizontal(|ui| {
            let label = ui.label(t.mode);
            egui::ComboBox::from_id_salt("mode")
                .selected_text(t.mode_name(settings.mode))
                .show_ui(ui, |ui| {
                    for mode in [ModeKind::TcpClient, ModeKind::TcpServer, ModeKind::Udp] {
                        ui.selectable_value(&mut settings.mode, mode, t.mode_name(mode));
                    }
                })
                .response
                .labelled_by(label.id)
                .on_hover_text(t.tip_mode);
        });
        ui.horizontal(|ui| {
            labelled_field(ui, t.local_ip, &mut settings.local_ip, FIELD_WIDTH).on_hover_text(t.tip_local_ip);
            ui.menu_button("…", |ui| {
                for ip in local_addresses() {
                    if ui.button(ip.to_string()).clicked() {
                        settings.local_ip = ip.to_string();
                        ui.close();
                    }
                }
            });
        });
        field_error(ui, message(Field::LocalIp));
        let port_tip = if settings.mode == ModeKind::TcpClient {
            t.tip_local_port_client
        } else {
            t.tip_local_port
        };
        labelled_field(ui, t.local_port, settings.local_port_mut(), 70.0).on_hover_text(port_tip);
        field_error(ui, message(Field::LocalPort));
        if settings.mode != ModeKind::TcpServer {
            ui.horizontal(|ui| {
                labelled_field(ui, t.remote_host, &mut settings.remote_host, FIELD_WIDTH)
                    .on_hover_text(t.tip_remote_host);
                if !history.is_empty() {
                    ui.menu_button("…", |ui| {
                        for remote in history {
                            if ui.button(remote).clicked() {
                                settings.set_remote(remote);
                                ui.close();
                            }
                        }
                    });
                }
            });
            field_error(ui, message(Field::RemoteHost));
            labelled_field(ui, t.remote_port, &mut settings.remote_port, 70.0).on_hover_text(t.tip_remote_port);
            field_error(ui, message(Field::RemotePort));
        }
        match settings.mode {
            ModeKind::TcpClient => {
                ui.checkbox(&mut settings.reconnect, t.reconnect)
                    .on_hover_text(t.tip_reconnect);
            }
            ModeKind::Udp => {
                ui.checkbox(&mut settings.follow_peer, t.follow_peer)
                    .on_hover_text(t.tip_follow_peer);
                ui.checkbox(&mut settings.broadcast, t.broadcast)
                    .on_hover_text(t.tip_broadcast);
                labelled_field(ui, t.multicast, &mut settings.multicast_group, FIELD_WIDTH)
                    .on_hover_text(t.tip_multicast);
                field_error(ui, message(Field::MulticastGroup));
            }
            ModeKind::TcpServer => {}
        }
    });
    let mut actions = Vec::new();
    ui.horizontal(|ui| {
        let (label, action, tip) = if open {
            (t.close, Action::Close, t.tip_close)
        } else {
            (t.open, Action::Open, t.tip_open)
        };
        let button = egui::Button::new(egui::RichText::new(label).strong()).min_size(egui::vec2(90.0, 28.0));
        if ui
            .add_enabled(open || errors.is_empty(), button)
            .on_hover_text(tip)
            .clicked()
        {
            actions.push(action);
        }
        match state.link() {
            LinkState::Connecting(_) => {
                ui.spinner();
                ui.label(t.connecting);
            }
            LinkState::Reconnecting(after) => {
                ui.label(t.reconnecting.replace("{}", &format!("{:.1} s", after.as_secs_f32())));
            }
            _ => {}
        }
    });
    if let Some(error) = state.error(settings.mode, cx.lang) {
        error_label(ui, &error);
    }
    actions
}

fn receive(ui: &mut egui::Ui, cx: Cx, config: &mut TabConfig, state: &TabState) -> Vec<Action> {
    let t = cx.t;
    let mut actions = Vec::new();
    let receive = &mut config.receive;
    ui.horizontal(|ui| {
        ui.checkbox(&mut receive.hex, t.hex_view).on_hover_text(t.tip_hex_view);
        ui.checkbox(&mut receive.log_mode, t.log_mode)
            .on_hover_text(t.tip_log_mode);
    });
    ui.horizontal(|ui| {
        ui.checkbox(&mut receive.show_sent, t.show_sent)
            .on_hover_text(t.tip_show_sent);
        ui.checkbox(&mut receive.wrap, t.wrap).on_hover_text(t.tip_wrap);
    });
    ui.horizontal(|ui| {
        let label = ui.label(t.encoding);
        encoding_combo(ui, "receive-encoding", &mut receive.encoding)
            .labelled_by(label.id)
            .on_hover_text(t.tip_encoding);
    });
    ui.horizontal(|ui| {
        let label = ui.label(t.buffer_mib);
        ui.add(
            egui::DragValue::new(&mut receive.buffer_mib)
                .range(1..=4096)
                .suffix(" MiB"),
        )
        .labelled_by(label.id)
        .on_hover_text(t.tip_buffer);
    });
    let mut paused = state.paused();
    if ui.checkbox(&mut paused, t.pause).on_hover_text(t.tip_pause).changed() {
        actions.push(Action::SetPaused(paused));
    }
    let dialog_free = cx.dialog_free;
    ui.horizontal_wrapped(|ui| {
        if state.capture().is_some() {
            if ui.button(t.stop_file).on_hover_text(t.tip_stop_file).clicked() {
                actions.push(Action::StopCapture);
            }
        } else if file_button(ui, t, t.receive_to_file, t.tip_receive_to_file, dialog_free) {
            actions.push(Action::PickFile(FilePurpose::Capture));
        }
        if state.pcap().is_some() {
            if ui.button(t.stop_pcap).on_hover_text(t.tip_stop_pcap).clicked() {
                actions.push(Action::StopPcap);
            }
        } else if file_button(ui, t, t.capture_pcap, t.tip_capture_pcap, dialog_free) {
            actions.push(Action::PickFile(FilePurpose::Pcap));
        }
        if ui.button(t.clear).on_hover_text(t.tip_clear).clicked() {
            actions.push(Action::ClearView);
        }
        // With rows selected in the receive view, these take just those rows.
        let selected = state.view().selection().is_some();
        let (save, copy, export) = if selected {
            (t.save_selection, t.copy_selection, t.export_selection)
        } else {
            (t.save_view, t.copy_all, t.export)
        };
        if file_button(ui, t, save, t.tip_save_view, dialog_free) {
            actions.push(Action::PickFile(FilePurpose::SaveView));
        }
        if ui.button(copy).on_hover_text(t.tip_copy_all).clicked() {
            actions.push(Action::CopyAll);
        }
        if state.export().is_none() {
            // A button of its own, not a menu_button in an enabled scope: the scope took the row's leftover width
            // and squeezed the label to one character a line instead of wrapping the button to the next line.
            let button = ui
                .add_enabled(dialog_free, egui::Button::new(export))
                .on_hover_text(t.tip_export)
                .on_disabled_hover_text(t.file_dialog_busy);
            egui::Popup::menu(&button).show(|ui| {
                for format in Format::ALL {
                    if ui.button(format.name()).clicked() {
                        actions.push(Action::PickFile(FilePurpose::Export(format)));
                        ui.close();
                    }
                }
            });
        }
    });
    if let Some((format, progress)) = state.export() {
        ui.horizontal(|ui| {
            ui.label(format!("{} {}", t.exporting, format.name()));
            if ui.button(t.cancel).clicked() {
                actions.push(Action::CancelExport);
            }
        });
        ui.add(egui::ProgressBar::new(progress.fraction()).show_percentage());
    }
    if let Some(capture) = state.capture() {
        ui.add(egui::Label::new(format!("{} {}", t.receiving_to, capture.path.display())).wrap());
    }
    if let Some(pcap) = state.pcap() {
        ui.add(egui::Label::new(format!("{} {}", t.pcap_to, pcap.path.display())).wrap());
    }
    actions
}

/// A button that asks for a file; disabled, and saying why, while another file dialog is open.
fn file_button(ui: &mut egui::Ui, t: &Texts, label: &str, tip: &str, dialog_free: bool) -> bool {
    ui.add_enabled(dialog_free, egui::Button::new(label))
        .on_hover_text(tip)
        .on_disabled_hover_text(t.file_dialog_busy)
        .clicked()
}

fn send(ui: &mut egui::Ui, cx: Cx, config: &mut TabConfig, state: &TabState) -> Vec<Action> {
    let t = cx.t;
    let mut actions = Vec::new();
    let open = state.is_open();
    let running = state.periodic_sent();
    let dialog_free = cx.dialog_free;
    let file_idle = state.file_progress().is_none();
    let box_invalid = state.send_box_invalid();
    let send = &mut config.send;
    ui.horizontal(|ui| {
        let mut hex = send.hex;
        if ui
            .checkbox(&mut hex, t.hex_send)
            .on_hover_text(t.tip_hex_send)
            .changed()
        {
            actions.push(Action::SetSendHex(hex));
        }
        ui.add_enabled(!send.hex, egui::Checkbox::new(&mut send.escapes, t.escapes))
            .on_hover_text(t.tip_escapes);
    });
    ui.horizontal(|ui| {
        let label = ui.label(t.append);
        egui::ComboBox::from_id_salt("append")
            .selected_text(line_ending_name(t, send.append))
            .show_ui(ui, |ui| {
                for ending in [LineEnding::None, LineEnding::Cr, LineEnding::Lf, LineEnding::CrLf] {
                    ui.selectable_value(&mut send.append, ending, line_ending_name(t, ending));
                }
            })
            .response
            .labelled_by(label.id)
            .on_hover_text(t.tip_append);
    });
    ui.horizontal(|ui| {
        let label = ui.label(t.checksum);
        egui::ComboBox::from_id_salt("checksum")
            .selected_text(send.checksum.map_or(t.none, Checksum::name))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut send.checksum, None, t.none);
                for checksum in Checksum::all() {
                    ui.selectable_value(&mut send.checksum, Some(*checksum), checksum.name())
                        .on_hover_text(checksum.wire_order());
                }
            })
            .response
            .labelled_by(label.id)
            .on_hover_text(t.tip_checksum);
    });
    let schedule_errors = send.schedule().err().unwrap_or_default();
    // NetAssist's 定时发送 is a checkbox: ticked while the schedule runs.
    ui.horizontal(|ui| {
        let mut ticked = running.is_some();
        let can_start = open && schedule_errors.is_empty() && !box_invalid;
        let checkbox = ui
            .add_enabled(ticked || can_start, egui::Checkbox::new(&mut ticked, t.periodic))
            .on_hover_text(t.tip_periodic);
        if checkbox.changed() {
            actions.push(if ticked {
                Action::StartPeriodic
            } else {
                Action::StopPeriodic
            });
        }
        if let Some(sent) = running {
            ui.spinner();
            ui.label(format!("{} {sent}", t.sent_count));
        }
    });
    ui.add_enabled_ui(running.is_none(), |ui| {
        labelled_field(ui, t.interval_ms, &mut send.interval_ms, 70.0).on_hover_text(t.tip_interval);
        labelled_field(ui, t.count, &mut send.count, 70.0).on_hover_text(t.tip_count);
    });
    for (field, _) in &schedule_errors {
        let (name, tip) = if *field == Field::Interval {
            (t.interval_ms, t.tip_interval)
        } else {
            (t.count, t.tip_count)
        };
        field_error(ui, Some(&format!("{name}: {tip}")));
    }
    ui.horizontal(|ui| {
        // One file at a time: the engine streams one per session.
        if ui
            .add_enabled(open && file_idle && dialog_free, egui::Button::new(t.send_file))
            .on_hover_text(t.tip_send_file)
            .on_disabled_hover_text(if open {
                t.file_dialog_busy
            } else {
                t.send_disabled_closed
            })
            .clicked()
        {
            actions.push(Action::PickFile(FilePurpose::SendFile));
        }
    });
    if let Some((sent, total)) = state.file_progress() {
        let fraction = if total == 0 { 1.0 } else { sent as f32 / total as f32 };
        ui.add(egui::ProgressBar::new(fraction).show_percentage());
    }
    actions
}

pub(crate) fn encoding_combo(ui: &mut egui::Ui, id: &str, encoding: &mut TextEncoding) -> egui::Response {
    egui::ComboBox::from_id_salt(id)
        .selected_text(encoding.name())
        .show_ui(ui, |ui| {
            for choice in TextEncoding::all() {
                ui.selectable_value(encoding, *choice, choice.name());
            }
        })
        .response
}

fn line_ending_name(t: &Texts, ending: LineEnding) -> &'static str {
    match ending {
        LineEnding::None => t.none,
        LineEnding::Cr => "\\r",
        LineEnding::Lf => "\\n",
        LineEnding::CrLf => "\\r\\n",
    }
}

/// 0.0.0.0, ::, loopback and this machine's interface addresses, looked up once.
fn local_addresses() -> &'static [IpAddr] {
    static ADDRESSES: OnceLock<Vec<IpAddr>> = OnceLock::new();
    ADDRESSES.get_or_init(|| {
        let mut all: Vec<IpAddr> = vec![[0, 0, 0, 0].into(), std::net::Ipv6Addr::UNSPECIFIED.into()];
        let interfaces = if_addrs::get_if_addrs().unwrap_or_default();
        all.extend(interfaces.iter().map(|interface| interface.ip()));
        all.dedup();
        all
    })
}
