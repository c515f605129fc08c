//! Wirepad: a network debugging assistant. The engine (`net`, with its capture), codecs, log, view, automation and
//! what the window and the command line share (`session`) have no UI code; only `gui` uses egui.
pub mod automation;
pub mod cli;
pub mod codec;
pub mod export;
pub mod gui;
pub mod i18n;
pub mod log;
pub mod memory;
pub mod net;
pub mod render;
pub mod send;
pub mod session;
pub mod view;
