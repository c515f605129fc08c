//! Integration tests: real sockets on loopback, port 0, every wait bounded.
mod cli;
mod client;
mod common;
mod engine;
mod resilience;
mod ui;
mod wirepad;
