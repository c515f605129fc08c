//! Integration tests: real sockets on loopback, port 0, every wait bounded.
mod automation;
#[cfg(feature = "gui")]
mod automation_ui;
mod cli;
mod client;
mod engine;
mod export;
#[cfg(feature = "gui")]
mod first_use;
mod hostile;
#[cfg(feature = "gui")]
mod layout;
mod load;
#[cfg(feature = "gui")]
mod load_ui;
mod pcap;
mod relay;
#[cfg(feature = "gui")]
mod relay_ui;
mod resilience;
#[cfg(feature = "gui")]
mod settings_file;
#[cfg(unix)]
mod signals;
mod support;
#[cfg(feature = "gui")]
mod tabs;
mod tls;
#[cfg(feature = "gui")]
mod tls_ui;
#[cfg(feature = "gui")]
mod ui;
mod wirepad;
