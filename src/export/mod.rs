//! What leaves the window as a file: pcapng for Wireshark, and the history as CSV or JSON lines.
pub mod pcapng;
pub mod records;
