//! Wirepad: a network debugging assistant. The engine (`net`), codecs and capture have no UI code.
pub mod capture;
pub mod cli;
pub mod codec;
pub mod net;
pub mod send;
