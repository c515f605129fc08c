//! A session the command line hands to the window (`wirepad gui SESSION [+ SESSION]...`): where it goes, how its
//! data shows, and what fills its send box (nothing is sent until the user says so). The command line builds it
//! (refusing what only the command line does); the window shows it in a tab's fields.
use std::path::PathBuf;

use crate::automation::rules::RuleSpec;
use crate::automation::script::ScriptSpec;
use crate::codec::checksum::Checksum;
use crate::codec::framing::Framing;
use crate::codec::text::TextEncoding;
use crate::net::Mode;
use crate::payload::LineEnding;

#[derive(Debug, Clone, PartialEq)]
pub struct WindowSession {
    pub mode: Mode,
    /// `-e` when given; `None` keeps the window's own default (GBK on a Chinese system).
    pub encoding: Option<TextEncoding>,
    pub hex: bool,
    pub log: bool,
    pub send_box: Option<SendBox>,
    /// `--vars`: the Variables box ticked.
    pub vars: bool,
    pub append: Option<LineEnding>,
    pub checksum: Option<Checksum>,
    /// `--repeat N` with `--interval MS`: the periodic send's count and interval.
    pub repeat: Option<(u64, u64)>,
    pub recv_file: Option<PathBuf>,
    pub pcap: Option<PathBuf>,
    /// `--frame`.
    pub frame: Option<Framing>,
    /// `--rules FILE`, read and checked whole: in force from the start.
    pub rules: Option<Vec<RuleSpec>>,
    /// `--script FILE`, read and checked whole: running from the start.
    pub script: Option<ScriptSpec>,
}

/// What `--send` or `--send-hex` puts in the send box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendBox {
    /// With escapes on, as `--send` interprets them.
    Text(String),
    Hex(String),
}
