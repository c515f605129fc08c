//! What leaves the window as a file: pcapng for Wireshark (more formats join here).
pub mod pcapng;
