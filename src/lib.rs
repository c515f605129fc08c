//! Wirepad: a network debugging assistant. The engine (`net`, with its capture), codecs, history, view, automation
//! and what the window and the command line share (`session`) have no UI code; only `gui` uses egui, and it is built
//! only with the `gui` feature (on by default): without it, the rest builds alone (the command line, fuzzing, mutants).
pub mod automation;
pub mod cli;
pub mod codec;
pub mod crash;
pub mod export;
#[cfg(feature = "gui")]
pub mod gui;
pub mod history;
pub mod memory;
pub mod net;
pub mod payload;
pub mod render;
pub mod session;
pub mod settings;
pub mod signals;
pub mod vars;
pub mod view;
