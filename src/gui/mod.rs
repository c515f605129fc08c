//! The window (egui): the only part of Wirepad that draws. `app` holds the global `Prefs`, the tabs and their
//! layout; `tab` is one session's settings and runtime; `ui` holds one file per panel.
pub mod app;
pub mod auto_state;
pub mod desktop;
pub mod dialog;
pub mod finder;
pub mod frame_log;
pub mod glyph_atlas;
pub mod i18n;
pub mod launch;
pub mod tab;
pub mod tiles;
pub mod ui;

pub use app::WirepadApp;
pub use launch::run_gui;
