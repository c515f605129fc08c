//! Integration tests: real sockets on loopback, port 0, every wait bounded.
mod automation;
mod automation_ui;
mod cli;
mod client;
mod engine;
mod export;
mod first_use;
mod pcap;
mod resilience;
mod support;
mod tabs;
mod ui;
mod wirepad;
