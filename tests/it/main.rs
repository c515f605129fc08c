//! Integration tests: real sockets on loopback, port 0, every wait bounded.
mod cli;
mod common;
mod engine;
mod ui;
