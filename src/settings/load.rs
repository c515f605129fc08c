//! The load test tab's form, saved as typed: Start checks each field with the command line's own parsers.
use serde::{Deserialize, Serialize};

use crate::codec::checksum::Checksum;
use crate::codec::text::TextEncoding;
use crate::payload::LineEnding;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoadForm {
    pub udp: bool,
    /// HOST:PORT or [IPv6]:PORT.
    pub target: String,
    pub connections: String,
    /// New connections per second; empty: all at once.
    pub connect_rate: String,
    /// Messages per second; 0: as fast as it can.
    pub rate: String,
    /// The rate is for all connections together, not for each.
    pub total: bool,
    /// Seconds; empty (and no count): until Stop.
    pub duration: String,
    /// Messages in total; empty: no count.
    pub count: String,
    pub timeout_ms: String,
    /// Text with escapes and variables ({seq} {conn} …), or hex bytes.
    pub payload: String,
    pub hex: bool,
    /// Of the text payload (`-e`).
    pub encoding: TextEncoding,
    /// Appended to each message after its variables are filled in, before the line ending.
    pub checksum: Option<Checksum>,
    pub append: LineEnding,
    /// A file whose bytes are each message, as they are (read at Start, off the UI thread); empty: the text.
    pub send_file: String,
    /// TCP: the most unanswered messages per connection; empty: the run's default.
    pub in_flight: String,
    /// How replies are cut, as `--frame` spells it; empty: each read is one.
    pub frame: String,
}

impl Default for LoadForm {
    fn default() -> Self {
        LoadForm {
            udp: false,
            target: "127.0.0.1:8080".into(),
            connections: "10".into(),
            connect_rate: String::new(),
            rate: "10".into(),
            total: false,
            duration: "10".into(),
            count: String::new(),
            timeout_ms: "5000".into(),
            payload: "hello {seq}".into(),
            hex: false,
            encoding: TextEncoding::UTF8,
            checksum: None,
            append: LineEnding::Lf,
            send_file: String::new(),
            in_flight: String::new(),
            frame: "line".into(),
        }
    }
}

/// A field of the form, for the message shown next to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadField {
    Target,
    Connections,
    ConnectRate,
    Rate,
    Duration,
    Count,
    Timeout,
    InFlight,
    Frame,
    /// The text (or hex) each message is: a bad escape, variable or encoding.
    Payload,
    SendFile,
}
