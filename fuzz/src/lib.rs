//! Wirepad's window-free modules, compiled from their sources. The parsers under test live there; building
//! the whole library would instrument eframe and wgpu too, which only the window uses and no target reaches.
#![allow(dead_code, unused_imports)]

#[path = "../../src/automation/mod.rs"]
pub mod automation;
#[path = "../../src/cli/mod.rs"]
pub mod cli;
#[path = "../../src/codec/mod.rs"]
pub mod codec;
#[path = "../../src/gui/i18n/mod.rs"]
pub mod i18n;
#[path = "../../src/net/mod.rs"]
pub mod net;
#[path = "../../src/persist.rs"]
pub mod persist;
#[path = "../../src/send.rs"]
pub mod send;
#[path = "../../src/session/mod.rs"]
pub mod session;
#[path = "../../src/settings.rs"]
pub mod settings;
