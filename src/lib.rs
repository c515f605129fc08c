//! Wirepad: a network debugging assistant. The engine (`net`, with its capture), codecs, history, view, automation and
//! what the window and the command line share (`session`) have no UI code; only `gui` uses egui.
pub mod automation;
pub mod cli;
pub mod codec;
pub mod export;
pub mod gui;
pub mod history;
pub mod net;
pub mod payload;
pub mod render;
pub mod session;
pub mod view;
