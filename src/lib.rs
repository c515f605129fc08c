//! Wirepad: a network debugging assistant. The engine (`net`, with its capture), codecs, log, view, automation and
//! what the window and the command line share (`session`) have no UI code; only `app` (the glue) and `ui` use egui.
pub mod app;
pub mod automation;
pub mod cli;
pub mod codec;
pub mod desktop;
pub mod dialog;
pub mod frame_log;
pub mod i18n;
pub mod log;
pub mod net;
pub mod persist;
pub mod send;
pub mod session;
pub mod settings;
pub mod ui;
pub mod view;
