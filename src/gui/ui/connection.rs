//! The left column: 通信设置 (connection), in a narrow window the client list and quick commands, 接收设置
//! (receive), 发送设置 (send).
use std::net::IpAddr;
use std::sync::OnceLock;

use crate::codec::checksum::Checksum;
use crate::codec::text::TextEncoding;
use crate::export::Format;
use crate::gui::dialog::FilePurpose;
use crate::gui::i18n::Texts;
use crate::gui::tab::{TabAction as Action, TabState};
use crate::gui::ui::send::{QuickCommands, side_panel};
use crate::gui::ui::tls::{TlsShown, tls_block};
use crate::gui::ui::{Cx, error_label, field_error, labelled_field};
use crate::net::{Kind, RemoteUse};
use crate::payload::LineEnding;
use crate::session::state::LinkState;
use crate::settings::tls::{TlsField, TlsSide};
use crate::settings::{Field, Invalid, ReceiveSettings, SendSettings, TabConfig};

const FIELD_WIDTH: f32 = 120.0;

/// `history`: the remotes used lately (every tab's), to pick from; `side`: the client list and quick commands
/// go here (a narrow window).
pub fn settings_column(
    ui: &mut egui::Ui,
    cx: Cx,
    config: &mut TabConfig,
    state: &TabState,
    history: &[String],
    side: Option<QuickCommands<'_>>,
) -> Vec<Action> {
    let mut actions = Vec::new();
    let t = cx.t;
    ui.heading(t.connection.connection);
    actions.extend(connection(ui, cx, config, state, history));
    ui.separator();
    if let Some(quick) = side {
        actions.extend(side_panel(ui, cx, config, state, quick));
        ui.separator();
    }
    ui.heading(t.receive.receive_settings);
    actions.extend(receive(ui, cx, config, state));
    ui.separator();
    ui.heading(t.send.send_settings);
    actions.extend(send(ui, cx, config, state));
    ui.separator();
    crate::gui::ui::automation_section::section(ui, cx, config);
    actions
}

fn connection(
    ui: &mut egui::Ui,
    cx: Cx,
    settings: &mut TabConfig,
    state: &TabState,
    history: &[String],
) -> Vec<Action> {
    // Starting counts as open: the fields are in use, and Close gives up on it.
    let open = state.is_open() || state.starting();
    // What the fields say right now; Open stays disabled while any is wrong.
    let errors = match settings.validate() {
        Ok(_) => Vec::new(),
        Err(errors) => errors,
    };
    ui.add_enabled_ui(!open, |ui| address_fields(ui, cx, settings, history, &errors));
    let setup = state.tls_setup_error(settings, cx.lang);
    let mut actions = Vec::new();
    actions.extend(tls_blocks(ui, cx, settings, state, &errors, setup.as_ref(), open));
    let link = if state.starting() { None } else { Some(state.link()) };
    actions.extend(open_row(ui, cx.t, open, errors.is_empty(), link));
    // A TLS file refused at Open is said beside its field instead.
    if let Some(error) = state.error(settings, cx.lang).filter(|_| setup.is_none()) {
        error_label(ui, &error);
    }
    actions
}

/// The TLS blocks of a kind that speaks it: the tab's own end (a relay's listen leg) and a relay's upstream leg.
fn tls_blocks(
    ui: &mut egui::Ui,
    cx: Cx,
    settings: &mut TabConfig,
    state: &TabState,
    errors: &[(Field, Invalid)],
    setup: Option<&(Field, String)>,
    open: bool,
) -> Vec<Action> {
    let caps = settings.mode.caps();
    let t = &cx.t.tls;
    let own = caps.tls.then(|| {
        let title = if caps.tls_upstream() { t.tls_listen } else { t.tls };
        (
            "tls",
            TlsSide::of(caps),
            title,
            Field::Tls as fn(TlsField) -> Field,
            &mut settings.tls,
        )
    });
    let upstream = caps.tls_upstream().then(|| {
        let field = Field::UpstreamTls as fn(TlsField) -> Field;
        (
            "tls-upstream",
            TlsSide::Client,
            t.tls_upstream,
            field,
            &mut settings.tls_upstream,
        )
    });
    let mut picks = Vec::new();
    for (id, side, title, field, tls) in own.into_iter().chain(upstream) {
        let shown = TlsShown {
            title,
            field,
            errors,
            setup: setup.cloned(),
            made: state.tls().made(side),
        };
        picks.extend(
            ui.add_enabled_ui(!open, |ui| tls_block(ui, cx, id, side, tls, &shown))
                .inner,
        );
    }
    picks.into_iter().map(Action::PickFile).collect()
}

/// What a field's error says, if it has one.
fn field_message(t: &Texts, errors: &[(Field, Invalid)], field: Field) -> Option<&'static str> {
    errors
        .iter()
        .find(|(f, _)| *f == field)
        .map(|(_, invalid)| match invalid {
            // A remote port's range is 1–65535 whatever is wrong with it (0, 70000 or "x").
            Invalid::Port if field == Field::RemotePort => t.connection.bad_remote_port,
            Invalid::Port => t.connection.bad_port,
            Invalid::RemotePort => t.connection.bad_remote_port,
            Invalid::Ip => t.connection.bad_ip,
            Invalid::Host => t.connection.bad_host,
            Invalid::Group => t.connection.bad_group,
            Invalid::Number => t.connection.bad_number,
            // The TLS block says these beside its own fields.
            Invalid::HalfPair => t.tls.bad_half_pair,
            Invalid::NeedsCa => t.tls.bad_needs_ca,
            Invalid::ServerName => t.tls.bad_server_name,
            Invalid::Alpn => t.tls.bad_alpn,
        })
}

/// The session kinds, and after them the load test (a tab of its own kind: no session, a run and its report).
pub(crate) fn mode_combo(ui: &mut egui::Ui, cx: Cx, settings: &mut TabConfig) {
    let t = cx.t;
    ui.horizontal(|ui| {
        let label = ui.label(t.connection.mode);
        let selected = match settings.load_test {
            true => t.load.load_test,
            false => cx.lang.kind_name(settings.mode),
        };
        egui::ComboBox::from_id_salt("mode")
            .selected_text(selected)
            .show_ui(ui, |ui| {
                for &kind in Kind::ALL {
                    let chosen = !settings.load_test && settings.mode == kind;
                    if ui.selectable_label(chosen, cx.lang.kind_name(kind)).clicked() {
                        settings.mode = kind;
                        settings.load_test = false;
                    }
                }
                ui.selectable_value(&mut settings.load_test, true, t.load.load_test);
            })
            .response
            .labelled_by(label.id)
            .on_hover_text(t.connection.tip_mode);
    });
}

/// Mode, the local and remote ends and the kind's options, each field with its error under it.
fn address_fields(
    ui: &mut egui::Ui,
    cx: Cx,
    settings: &mut TabConfig,
    history: &[String],
    errors: &[(Field, Invalid)],
) {
    let t = cx.t;
    let message = |field| field_message(t, errors, field);
    mode_combo(ui, cx, settings);
    ui.horizontal(|ui| {
        labelled_field(ui, t.connection.local_ip, &mut settings.local_ip, FIELD_WIDTH)
            .on_hover_text(t.connection.tip_local_ip);
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
    let caps = settings.mode.caps();
    let port_tip = if caps.local_port_optional {
        t.connection.tip_local_port_client
    } else {
        t.connection.tip_local_port
    };
    labelled_field(ui, t.connection.local_port, settings.local_port_mut(), 70.0).on_hover_text(port_tip);
    field_error(ui, message(Field::LocalPort));
    if caps.remote != RemoteUse::None {
        remote_fields(ui, t, settings, history, errors);
    }
    kind_options(ui, t, settings, errors);
}

/// The remote host (with the remotes used lately to pick from) and port.
fn remote_fields(
    ui: &mut egui::Ui,
    t: &Texts,
    settings: &mut TabConfig,
    history: &[String],
    errors: &[(Field, Invalid)],
) {
    ui.horizontal(|ui| {
        labelled_field(ui, t.connection.remote_host, &mut settings.remote_host, FIELD_WIDTH)
            .on_hover_text(t.connection.tip_remote_host);
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
    field_error(ui, field_message(t, errors, Field::RemoteHost));
    labelled_field(ui, t.connection.remote_port, &mut settings.remote_port, 70.0)
        .on_hover_text(t.connection.tip_remote_port);
    field_error(ui, field_message(t, errors, Field::RemotePort));
}

/// Reconnect, follow the peer, broadcast and multicast, where the kind has them.
fn kind_options(ui: &mut egui::Ui, t: &Texts, settings: &mut TabConfig, errors: &[(Field, Invalid)]) {
    let caps = settings.mode.caps();
    if caps.reconnects {
        ui.checkbox(&mut settings.reconnect, t.connection.reconnect)
            .on_hover_text(t.connection.tip_reconnect);
    }
    if caps.follows_peer {
        ui.checkbox(&mut settings.follow_peer, t.connection.follow_peer)
            .on_hover_text(t.connection.tip_follow_peer);
    }
    if caps.multicast {
        ui.checkbox(&mut settings.broadcast, t.connection.broadcast)
            .on_hover_text(t.connection.tip_broadcast);
        labelled_field(ui, t.connection.multicast, &mut settings.multicast_group, FIELD_WIDTH)
            .on_hover_text(t.connection.tip_multicast);
        field_error(ui, field_message(t, errors, Field::MulticastGroup));
    }
}

/// Open or Close, and how the link is coming along (`None`: the session is still starting).
fn open_row(ui: &mut egui::Ui, t: &Texts, open: bool, valid: bool, link: Option<&LinkState>) -> Vec<Action> {
    let mut actions = Vec::new();
    ui.horizontal(|ui| {
        let (label, action, tip) = if open {
            (t.common.close, Action::Close, t.connection.tip_close)
        } else {
            (t.connection.open, Action::Open, t.connection.tip_open)
        };
        let button = egui::Button::new(egui::RichText::new(label).strong()).min_size(egui::vec2(90.0, 28.0));
        if ui.add_enabled(open || valid, button).on_hover_text(tip).clicked() {
            actions.push(action);
        }
        match link {
            None => {
                ui.spinner();
                ui.label(t.connection.opening);
            }
            Some(LinkState::Connecting(_)) => {
                ui.spinner();
                ui.label(t.common.connecting);
            }
            Some(LinkState::Reconnecting(after)) => {
                ui.label(
                    t.connection
                        .reconnecting
                        .replace("{}", &format!("{:.1} s", after.as_secs_f32())),
                );
            }
            _ => {}
        }
    });
    actions
}

fn receive(ui: &mut egui::Ui, cx: Cx, config: &mut TabConfig, state: &TabState) -> Vec<Action> {
    let t = cx.t;
    let mut actions = Vec::new();
    view_settings(ui, t, &mut config.receive);
    let mut paused = state.paused();
    if ui
        .checkbox(&mut paused, t.receive.pause)
        .on_hover_text(t.receive.tip_pause)
        .changed()
    {
        actions.push(Action::SetPaused(paused));
    }
    ui.horizontal_wrapped(|ui| actions.extend(file_buttons(ui, cx, state)));
    if let Some((format, progress)) = state.export() {
        ui.horizontal(|ui| {
            ui.label(format!("{} {}", t.export.exporting, format.name()));
            if ui.button(t.dialogs.cancel).clicked() {
                actions.push(Action::CancelExport);
            }
        });
        ui.add(egui::ProgressBar::new(progress.fraction()).show_percentage());
    }
    if let Some(capture) = state.capture() {
        ui.add(egui::Label::new(format!("{} {}", t.receive.receiving_to, capture.path.display())).wrap());
    }
    if let Some(pcap) = state.pcap() {
        ui.add(egui::Label::new(format!("{} {}", t.receive.pcap_to, pcap.path.display())).wrap());
    }
    actions
}

/// How the receive view shows the history: hex, log mode, sent data, wrap, encoding, and how much it keeps.
fn view_settings(ui: &mut egui::Ui, t: &Texts, receive: &mut ReceiveSettings) {
    ui.horizontal(|ui| {
        ui.checkbox(&mut receive.hex, t.receive.hex_view)
            .on_hover_text(t.receive.tip_hex_view);
        ui.checkbox(&mut receive.log_mode, t.receive.log_mode)
            .on_hover_text(t.receive.tip_log_mode);
    });
    ui.horizontal(|ui| {
        ui.checkbox(&mut receive.show_sent, t.receive.show_sent)
            .on_hover_text(t.receive.tip_show_sent);
        ui.checkbox(&mut receive.wrap, t.receive.wrap)
            .on_hover_text(t.receive.tip_wrap);
    });
    ui.horizontal(|ui| {
        let label = ui.label(t.receive.encoding);
        encoding_combo(ui, "receive-encoding", &mut receive.encoding)
            .labelled_by(label.id)
            .on_hover_text(t.receive.tip_encoding);
    });
    ui.horizontal(|ui| {
        let label = ui.label(t.receive.buffer_mib);
        ui.add(
            egui::DragValue::new(&mut receive.buffer_mib)
                .range(crate::settings::check::BUFFER_MIB)
                .custom_formatter(|mib, _| {
                    if mib < 0.5 {
                        t.receive.buffer_shared.to_string()
                    } else {
                        format!("{mib} MiB")
                    }
                }),
        )
        .labelled_by(label.id)
        .on_hover_text(t.receive.tip_buffer);
    });
}

/// Receive to file, pcap, clear, save, copy and export (of the selected rows, when there are some).
fn file_buttons(ui: &mut egui::Ui, cx: Cx, state: &TabState) -> Vec<Action> {
    let t = cx.t;
    let dialog_free = cx.dialog_free;
    let mut actions = Vec::new();
    let stop_capture = state
        .capture()
        .map(|_| (t.receive.stop_file, t.receive.tip_stop_file, Action::StopCapture));
    let pick_capture = (
        t.receive.receive_to_file,
        t.receive.tip_receive_to_file,
        FilePurpose::Capture,
    );
    actions.extend(writer_button(ui, t, dialog_free, stop_capture, pick_capture));
    let stop_pcap = state
        .pcap()
        .map(|_| (t.receive.stop_pcap, t.receive.tip_stop_pcap, Action::StopPcap));
    let pick_pcap = (t.receive.capture_pcap, t.receive.tip_capture_pcap, FilePurpose::Pcap);
    actions.extend(writer_button(ui, t, dialog_free, stop_pcap, pick_pcap));
    if ui.button(t.receive.clear).on_hover_text(t.receive.tip_clear).clicked() {
        actions.push(Action::ClearView);
    }
    // With rows selected in the receive view, these take just those rows.
    let selected = state.view().selection().is_some();
    let (save, copy, export) = if selected {
        (
            t.receive.save_selection,
            t.receive.copy_selection,
            t.export.export_selection,
        )
    } else {
        (t.receive.save_view, t.receive.copy_all, t.export.export)
    };
    if file_button(ui, t, save, t.receive.tip_save_view, dialog_free) {
        actions.push(Action::PickFile(FilePurpose::SaveView));
    }
    if ui.button(copy).on_hover_text(t.receive.tip_copy_all).clicked() {
        actions.push(Action::CopyAll);
    }
    if state.export().is_none() {
        // A button of its own, not a menu_button in an enabled scope: the scope took the row's leftover width
        // and squeezed the label to one character a line instead of wrapping the button to the next line.
        let button = ui
            .add_enabled(dialog_free, egui::Button::new(export))
            .on_hover_text(t.export.tip_export)
            .on_disabled_hover_text(t.dialogs.file_dialog_busy);
        egui::Popup::menu(&button).show(|ui| {
            for format in Format::ALL {
                if ui.button(format.name()).clicked() {
                    actions.push(Action::PickFile(FilePurpose::Export(format)));
                    ui.close();
                }
            }
        });
    }
    actions
}

/// Stop while a file is being written (`stop`), else the button that asks for one: each a label, a tip and what
/// it asks for.
fn writer_button(
    ui: &mut egui::Ui,
    t: &Texts,
    dialog_free: bool,
    stop: Option<(&str, &str, Action)>,
    (label, tip, purpose): (&str, &str, FilePurpose),
) -> Option<Action> {
    match stop {
        Some((label, tip, action)) => ui.button(label).on_hover_text(tip).clicked().then_some(action),
        None => file_button(ui, t, label, tip, dialog_free).then_some(Action::PickFile(purpose)),
    }
}

/// A button that asks for a file; disabled, and saying why, while another file dialog is open.
fn file_button(ui: &mut egui::Ui, t: &Texts, label: &str, tip: &str, dialog_free: bool) -> bool {
    ui.add_enabled(dialog_free, egui::Button::new(label))
        .on_hover_text(tip)
        .on_disabled_hover_text(t.dialogs.file_dialog_busy)
        .clicked()
}

fn send(ui: &mut egui::Ui, cx: Cx, config: &mut TabConfig, state: &TabState) -> Vec<Action> {
    let t = cx.t;
    let open = state.is_open();
    let file_idle = state.file_progress().is_none();
    let send = &mut config.send;
    let mut actions: Vec<Action> = payload_settings(ui, t, send).into_iter().collect();
    actions.extend(schedule(ui, t, send, state));
    ui.horizontal(|ui| {
        // One file at a time: the engine streams one per session.
        if ui
            .add_enabled(open && file_idle && cx.dialog_free, egui::Button::new(t.send.send_file))
            .on_hover_text(t.send.tip_send_file)
            .on_disabled_hover_text(if open {
                t.dialogs.file_dialog_busy
            } else {
                t.send.send_disabled_closed
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

/// How the send box's text becomes bytes: hex or escapes, the line ending and the checksum appended.
fn payload_settings(ui: &mut egui::Ui, t: &Texts, send: &mut SendSettings) -> Option<Action> {
    let mut action = None;
    ui.horizontal(|ui| {
        let mut hex = send.hex;
        if ui
            .checkbox(&mut hex, t.send.hex_send)
            .on_hover_text(t.send.tip_hex_send)
            .changed()
        {
            action = Some(Action::SetSendHex(hex));
        }
        ui.add_enabled(!send.hex, egui::Checkbox::new(&mut send.escapes, t.send.escapes))
            .on_hover_text(t.send.tip_escapes);
    });
    ui.add_enabled(!send.hex, egui::Checkbox::new(&mut send.vars, t.send.vars))
        .on_hover_text(t.send.tip_vars);
    ui.horizontal(|ui| {
        let label = ui.label(t.send.append);
        append_combo(ui, t, "append", &mut send.append)
            .labelled_by(label.id)
            .on_hover_text(t.send.tip_append);
    });
    ui.horizontal(|ui| {
        let label = ui.label(t.common.checksum);
        egui::ComboBox::from_id_salt("checksum")
            .selected_text(send.checksum.map_or(t.common.none, Checksum::name))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut send.checksum, None, t.common.none);
                for checksum in Checksum::all() {
                    ui.selectable_value(&mut send.checksum, Some(*checksum), checksum.name())
                        .on_hover_text(checksum.wire_order());
                }
            })
            .response
            .labelled_by(label.id)
            .on_hover_text(t.send.tip_checksum);
    });
    action
}

/// Periodic send: the tick that starts and stops it, how many went, its interval and count.
fn schedule(ui: &mut egui::Ui, t: &Texts, send: &mut SendSettings, state: &TabState) -> Option<Action> {
    let running = state.periodic_sent();
    let schedule_errors = send.schedule().err().unwrap_or_default();
    let mut action = None;
    // NetAssist's 定时发送 is a checkbox: ticked while the schedule runs.
    ui.horizontal(|ui| {
        let mut ticked = running.is_some();
        let can_start = state.is_open() && schedule_errors.is_empty() && !state.send_box_invalid();
        let checkbox = ui
            .add_enabled(ticked || can_start, egui::Checkbox::new(&mut ticked, t.send.periodic))
            .on_hover_text(t.send.tip_periodic);
        if checkbox.changed() {
            action = Some(if ticked {
                Action::StartPeriodic
            } else {
                Action::StopPeriodic
            });
        }
        if let Some(sent) = running {
            ui.spinner();
            ui.label(format!("{} {sent}", t.send.sent_count));
        }
    });
    ui.add_enabled_ui(running.is_none(), |ui| {
        labelled_field(ui, t.send.interval_ms, &mut send.interval_ms, 70.0).on_hover_text(t.send.tip_interval);
        labelled_field(ui, t.send.count, &mut send.count, 70.0).on_hover_text(t.send.tip_count);
    });
    for (field, _) in &schedule_errors {
        let (name, tip) = if *field == Field::Interval {
            (t.send.interval_ms, t.send.tip_interval)
        } else {
            (t.send.count, t.send.tip_count)
        };
        field_error(ui, Some(&format!("{name}: {tip}")));
    }
    action
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

/// The line ending appended to what is sent: none, CR, LF or CR LF.
pub(crate) fn append_combo(ui: &mut egui::Ui, t: &Texts, id: &str, append: &mut LineEnding) -> egui::Response {
    egui::ComboBox::from_id_salt(id)
        .selected_text(line_ending_name(t, *append))
        .show_ui(ui, |ui| {
            for ending in [LineEnding::None, LineEnding::Cr, LineEnding::Lf, LineEnding::CrLf] {
                ui.selectable_value(append, ending, line_ending_name(t, ending));
            }
        })
        .response
}

fn line_ending_name(t: &Texts, ending: LineEnding) -> &'static str {
    match ending {
        LineEnding::None => t.common.none,
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
