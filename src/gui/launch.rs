//! Starting the window: the sessions the command line gives it (`wirepad gui SESSION [+ SESSION]...`), and the
//! renderers tried in turn.
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

use crossbeam_channel::Receiver;

use crate::cli::Launch;
use crate::gui::app::WirepadApp;
use crate::gui::auto_state::{editable_rules, editable_script};
use crate::net::{CaptureFile, RemoteUse};
use crate::session::launch::{SendBox, WindowSession};
use crate::settings::file::{self, Opened};
use crate::settings::tls::{TlsSettings, TlsSide};
use crate::settings::{AutoPanel, TabConfig};
use crate::signals::Stop;

impl TabConfig {
    /// Shows a command-line session in this tab's fields; returns the capture file to open with it.
    pub(crate) fn apply_launch(&mut self, launch: &WindowSession) -> Option<CaptureFile> {
        // After the kind is set: each kind has its own local port.
        // After the kind is set: each kind has its own local port. Only the fields the kind uses change.
        self.mode = launch.mode.kind();
        let caps = launch.mode.caps();
        let parts = launch.mode.parts();
        let local = parts.local.unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
        self.local_ip = local.ip().to_string();
        *self.local_port_mut() = local.port().to_string();
        if caps.remote != RemoteUse::None {
            self.remote_host.clear();
            if let Some(remote) = &parts.remote {
                self.set_remote(remote);
            }
        }
        if caps.reconnects {
            self.reconnect = parts.reconnect;
        }
        if caps.follows_peer {
            self.follow_peer = parts.follow_peer;
        }
        let block = |side, spec: &Option<_>| {
            spec.as_ref()
                .map_or_else(TlsSettings::default, |spec| TlsSettings::from_spec(side, spec))
        };
        if caps.tls {
            self.tls = block(TlsSide::of(caps), &parts.tls);
        }
        if caps.tls_upstream() {
            self.tls_upstream = block(TlsSide::Client, &parts.tls_upstream);
        }
        if caps.multicast {
            self.broadcast = parts.broadcast;
            self.multicast_group = parts.groups.first().map(ToString::to_string).unwrap_or_default();
        }
        if let Some(encoding) = launch.encoding {
            self.receive.encoding = encoding;
        }
        self.receive.hex = launch.hex;
        if launch.log {
            self.receive.log_mode = true;
        }
        // The send box is filled, not sent: the user presses Send (or starts the periodic send) when ready.
        match &launch.send_box {
            Some(SendBox::Text(text)) => {
                self.send.text = text.clone();
                self.send.hex = false;
                self.send.escapes = true;
            }
            Some(SendBox::Hex(hex)) => {
                self.send.text = hex.clone();
                self.send.hex = true;
            }
            None => {}
        }
        self.send.vars = launch.vars;
        if let Some(append) = launch.append {
            self.send.append = append;
        }
        if launch.checksum.is_some() {
            self.send.checksum = launch.checksum;
        }
        if let Some((count, interval)) = launch.repeat {
            self.send.count = count.to_string();
            self.send.interval_ms = interval.to_string();
        }
        if let Some(frame) = &launch.frame {
            self.framing.set(frame);
        }
        if let Some(rules) = &launch.rules {
            self.rules = editable_rules(rules.clone());
            self.automation = Some(AutoPanel::Rules);
        }
        if let Some(script) = &launch.script {
            self.script = editable_script(script.clone());
            self.automation = Some(AutoPanel::Script);
        }
        launch.recv_file.clone().map(CaptureFile::truncate)
    }
}

/// eframe's name for the window's settings (its storage directory), and its file there.
const APP_ID: &str = "wirepad";
const FILE: &str = "app.ron";

/// The zoom factors a settings file may give: egui's own Ctrl+Plus / Ctrl+Minus range.
const ZOOM_RANGE: std::ops::RangeInclusive<f32> = 0.2..=5.0;

/// eframe's key for egui's memory in the settings file.
const EGUI_KEY: &str = "egui";

/// The egui context eframe would make from egui's entry in the settings file, with a stored zoom factor that
/// is not a number in `ZOOM_RANGE` reset to 1: eframe scales the window by it before the app is made, and
/// winit panics on a zero or absurd scale, at every start.
pub(crate) fn egui_context(stored: Option<&str>) -> egui::Context {
    let mut memory = stored
        .and_then(|text| ron::from_str::<egui::Memory>(text).ok())
        .unwrap_or_default();
    if !ZOOM_RANGE.contains(&memory.options.zoom_factor) {
        memory.options.zoom_factor = 1.0;
    }
    let ctx = egui::Context::default();
    // As eframe sets a native window's context up.
    ctx.set_embed_viewports(false);
    ctx.options_mut(|options| options.max_passes = std::num::NonZeroUsize::MIN.saturating_add(1));
    ctx.memory_mut(|mem| *mem = memory);
    ctx
}

/// Opens the window (with one tab per `sessions`, each already open, when given), trying each of the
/// platform's renderers in turn, so it runs in VMs and over remote X where one of them is missing.
pub fn run_gui(launches: Vec<Launch>) -> ExitCode {
    crate::memory::keep_memory_between_frames();
    // Decoded once, whichever renderer starts.
    let icon = crate::gui::desktop::icon();
    // Started from a terminal, Ctrl+C or SIGTERM closes the window as its close button does: every session
    // finishes its capture and pcap first.
    let stops = crate::signals::listen().ok();
    let stopped = Arc::new(OnceLock::new());
    // Read (and, damaged, moved aside) before eframe reads it: eframe would lose a damaged file.
    let opened = eframe::storage_dir(APP_ID).map_or_else(Opened::default, |dir| file::open(&dir.join(FILE)));
    for &renderer in crate::gui::desktop::RENDERERS {
        let mut viewport = egui::ViewportBuilder::default()
            .with_title("Wirepad")
            .with_inner_size([1100.0, 720.0])
            .with_min_inner_size([800.0, 560.0]);
        if let Some(icon) = &icon {
            viewport = viewport.with_icon(icon.clone());
        }
        let options = eframe::NativeOptions {
            renderer,
            viewport,
            persistence_path: opened.save_elsewhere.clone(),
            ..Default::default()
        };
        let (launches, opened) = (launches.clone(), opened.clone());
        let (stops, stopped_by) = (stops.clone(), stopped.clone());
        // eframe's own context, but with the stored zoom checked: eframe hands it to winit before the app runs.
        let egui = opened.read.entries.get(EGUI_KEY).map(String::as_str);
        let result = eframe::run_native_ext(
            APP_ID,
            options,
            Some(egui_context(egui)),
            Box::new(move |cc| {
                if let Some(stops) = stops {
                    close_on_signal(stops, cc.egui_ctx.clone(), stopped_by);
                }
                Ok(Box::new(WirepadApp::from_creation(cc, &opened, &launches)))
            }),
        );
        match result {
            Ok(()) => {
                return stopped
                    .get()
                    .map_or(ExitCode::SUCCESS, |stop: &Stop| ExitCode::from(stop.exit_code()));
            }
            // No display at all: another renderer would not help (and winit cannot make a second event loop).
            Err(error @ eframe::Error::WinitEventLoop(_)) => {
                eprintln!("wirepad: cannot open a window: {error}");
                return ExitCode::from(1);
            }
            // The next renderer is tried at once: one line saying which, not an error (under Wine, wgpu's
            // "Parent device is lost" is followed by a working OpenGL window).
            Err(error) => eprintln!("wirepad: {renderer:?} cannot draw here ({error}); trying the next renderer"),
        }
    }
    eprintln!("wirepad: cannot open a window with either renderer");
    ExitCode::from(1)
}

/// Closes the window on the first Ctrl+C or SIGTERM, and notes which one it was for the exit code.
fn close_on_signal(stops: Receiver<Stop>, ctx: egui::Context, stopped: Arc<OnceLock<Stop>>) {
    let _ = std::thread::Builder::new()
        .name("wirepad-close-on-signal".into())
        .spawn(move || {
            if let Ok(stop) = stops.recv() {
                let _ = stopped.set(stop);
                crate::gui::app::close_for_signal(&ctx);
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// egui's entry in the settings file as eframe writes it, with the zoom at `zoom`.
    fn stored_with_zoom(zoom: f32) -> String {
        let mut memory = egui::Memory::default();
        memory.options.zoom_factor = zoom;
        ron::to_string(&memory).expect("ron")
    }

    #[test]
    fn a_stored_zoom_out_of_range_is_reset() {
        for zoom in [0.0, -1.0, 0.1, 5.5, 100.0, 1e30, f32::INFINITY, f32::NAN] {
            let ctx = egui_context(Some(&stored_with_zoom(zoom)));
            assert_eq!(ctx.zoom_factor(), 1.0, "{zoom}");
        }
        for zoom in [0.2, 0.5, 1.5, 5.0] {
            assert_eq!(egui_context(Some(&stored_with_zoom(zoom))).zoom_factor(), zoom);
        }
        for stored in [None, Some(""), Some("not ron"), Some("(")] {
            assert_eq!(egui_context(stored).zoom_factor(), 1.0, "{stored:?}");
        }
    }
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
            let launch = session.for_window().expect("the window takes it");
            assert_eq!(settings.apply_launch(&launch), None, "no capture");
            let window = settings
                .validate()
                .unwrap_or_else(|errors| panic!("{args:?}: {errors:?}"));
            let cli = session_config(&session);
            assert_eq!(cli.delivery, Delivery::Lossless);
            assert_eq!(
                window,
                SessionConfig {
                    delivery: Delivery::DropWhenBehind,
                    consumer_replies: true,
                    ..cli
                },
                "{args:?}"
            );
        }
    }
}
