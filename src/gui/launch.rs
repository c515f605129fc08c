//! Starting the window: the sessions the command line gives it (`wirepad gui SESSION [+ SESSION]...`), and the
//! renderers tried in turn.
use std::net::SocketAddr;
use std::process::ExitCode;

use crate::cli::SessionArgs;
use crate::codec::text::TextEncoding;
use crate::gui::app::WirepadApp;
use crate::gui::settings::{ModeKind, TabConfig};
use crate::net::CaptureFile;
use crate::session::spec::default_udp_bind;

/// A command-line session for the window (`wirepad gui tcp-server 8080 -e gbk`), checked before the window opens.
#[derive(Debug, Clone)]
pub struct Launch {
    args: SessionArgs,
    /// `-e` when given; otherwise the window's own default (GBK on a Chinese system) stays.
    encoding: Option<TextEncoding>,
}

impl Launch {
    /// Refuses what only the command line does (echo, stdin, quit conditions, …) rather than ignore it.
    pub fn new(args: SessionArgs) -> Result<Launch, String> {
        let common = args.common();
        let cli_only = [
            (common.receive.quiet, "--quiet"),
            (common.send.stdin, "--stdin"),
            (common.send.echo, "--echo"),
            (common.send.send_file.is_some(), "--send-file"),
            (common.quit.quit_after_bytes.is_some(), "--quit-after-bytes"),
            (common.quit.quit_after_secs.is_some(), "--quit-after-secs"),
            (common.quit.quit_when_idle.is_some(), "--quit-when-idle"),
            (
                matches!(&args, SessionArgs::TcpServer(s) if s.max_clients.is_some()),
                "--max-clients",
            ),
            (
                matches!(&args, SessionArgs::Udp(u) if u.join.len() > 1),
                "a second --join",
            ),
        ];
        if let Some((_, option)) = cli_only.iter().find(|(given, _)| *given) {
            return Err(format!(
                "{option} is for the command line only; the window does not take it"
            ));
        }
        let encoding = match common.encoding {
            Some(_) => Some(common.text_encoding().map_err(|e| e.to_string())?),
            None => None,
        };
        Ok(Launch { args, encoding })
    }

    /// Shows the session in a tab's fields; returns the capture file to open with it.
    pub(crate) fn apply(&self, settings: &mut TabConfig) -> Option<CaptureFile> {
        // After the mode is set: each mode has its own local port.
        let set_local = |settings: &mut TabConfig, addr: SocketAddr| {
            settings.local_ip = addr.ip().to_string();
            *settings.local_port_mut() = addr.port().to_string();
        };
        match &self.args {
            SessionArgs::TcpServer(server) => {
                settings.mode = ModeKind::TcpServer;
                set_local(settings, server.listen);
            }
            SessionArgs::TcpClient(client) => {
                settings.mode = ModeKind::TcpClient;
                settings.set_remote(&client.remote);
                settings.reconnect = client.reconnect;
                set_local(
                    settings,
                    client.bind.unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0))),
                );
            }
            SessionArgs::Udp(udp) => {
                settings.mode = ModeKind::Udp;
                set_local(
                    settings,
                    udp.bind
                        .unwrap_or_else(|| default_udp_bind(udp.remote.as_deref(), &udp.join)),
                );
                settings.remote_host.clear();
                if let Some(remote) = &udp.remote {
                    settings.set_remote(remote);
                }
                settings.follow_peer = udp.follow_peer;
                settings.broadcast = udp.broadcast;
                settings.multicast_group = udp.join.first().map(ToString::to_string).unwrap_or_default();
            }
        }
        let common = self.args.common();
        if let Some(encoding) = self.encoding {
            settings.receive.encoding = encoding;
        }
        settings.receive.hex = common.receive.hex;
        if common.receive.log {
            settings.receive.log_mode = true;
        }
        // The send box is filled, not sent: the user presses Send (or starts the periodic send) when ready.
        let send = &common.send;
        if let Some(text) = &send.send {
            settings.send.text = text.clone();
            settings.send.hex = false;
            settings.send.escapes = true;
        } else if let Some(hex) = &send.send_hex {
            settings.send.text = hex.clone();
            settings.send.hex = true;
        }
        if let Some(append) = send.append {
            settings.send.append = append;
        }
        if send.checksum.is_some() {
            settings.send.checksum = send.checksum;
        }
        if let Some(repeat) = send.repeat {
            settings.send.count = repeat.to_string();
            settings.send.interval_ms = send.interval.to_string();
        }
        common.receive.recv_file.clone().map(CaptureFile::truncate)
    }
}

/// Opens the window (with one tab per `sessions`, each already open, when given), trying each of the
/// platform's renderers in turn, so it runs in VMs and over remote X where one of them is missing.
pub fn run_gui(sessions: Vec<SessionArgs>) -> ExitCode {
    let launches = match sessions.into_iter().map(Launch::new).collect::<Result<Vec<_>, _>>() {
        Ok(launches) => launches,
        Err(message) => {
            eprintln!("wirepad: {message}");
            return ExitCode::from(2);
        }
    };
    // Decoded once, whichever renderer starts.
    let icon = crate::gui::desktop::icon();
    for renderer in crate::gui::desktop::RENDERERS {
        let mut viewport = egui::ViewportBuilder::default()
            .with_title("Wirepad")
            .with_inner_size([1100.0, 720.0])
            .with_min_inner_size([800.0, 560.0]);
        if let Some(icon) = &icon {
            viewport = viewport.with_icon(icon.clone());
        }
        let options = eframe::NativeOptions {
            renderer,
            wgpu_options: crate::gui::desktop::wgpu_options(),
            viewport,
            ..Default::default()
        };
        let launches = launches.clone();
        let result = eframe::run_native(
            "wirepad",
            options,
            Box::new(move |cc| Ok(Box::new(WirepadApp::from_creation(cc, &launches)))),
        );
        match result {
            Ok(()) => return ExitCode::SUCCESS,
            // No display at all: another renderer would not help (and winit cannot make a second event loop).
            Err(error @ eframe::Error::WinitEventLoop(_)) => {
                eprintln!("wirepad: cannot open a window: {error}");
                return ExitCode::from(1);
            }
            Err(error) => eprintln!("wirepad: the {renderer:?} renderer did not start: {error}"),
        }
    }
    eprintln!("wirepad: cannot open a window with either renderer");
    ExitCode::from(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{parse_session, session_config};
    use crate::net::{Delivery, SessionConfig};

    /// `wirepad gui SESSION` fills the window's fields; Open then makes the session the command line would,
    /// except that a window drops display data rather than stall.
    #[test]
    fn a_launched_session_is_the_command_lines_session() {
        let sessions: &[&[&str]] = &[
            &["tcp-server", "127.0.0.1:0"],
            &["tcp-server", "[::1]:7788"],
            &["tcp-client", "[::1]:7", "--reconnect"],
            &["tcp-client", "localhost:9", "--bind", "127.0.0.1:5000"],
            &["udp", "--remote", "[::1]:9", "--follow-peer"],
            &["udp", "--bind", "5000", "--broadcast", "--remote", "host:9"],
            &["udp", "--bind", "[::]:5000", "--join", "ff02::1%3"],
            &["udp", "--join", "239.1.2.3"],
        ];
        for args in sessions {
            let session = parse_session(*args).expect("valid session");
            let mut settings = TabConfig::default();
            let launch = Launch::new(session.clone()).expect("the window takes it");
            assert_eq!(launch.apply(&mut settings), None, "no capture");
            let window = settings
                .validate()
                .unwrap_or_else(|errors| panic!("{args:?}: {errors:?}"));
            let cli = session_config(&session);
            assert_eq!(cli.delivery, Delivery::Lossless);
            assert_eq!(
                window,
                SessionConfig {
                    delivery: Delivery::DropWhenBehind,
                    ..cli
                },
                "{args:?}"
            );
        }
    }
}
