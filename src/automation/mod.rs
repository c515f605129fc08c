//! Automation without I/O: auto-reply rules and send/expect scripts — their TOML files (the formats are in
//! docs/file-formats.md), what they match and what they answer. The engine runs them on every message.
pub mod rules;
pub mod script;

use std::ops::Range;

use crate::codec::text::TextEncoding;
use crate::payload::{LineEnding, PayloadFormat, PayloadSpec};

/// A place in a file, for messages that name the line and column (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

impl Location {
    /// Where byte `span.start` of `text` is.
    pub fn of(text: &str, span: Option<Range<usize>>) -> Location {
        let at = span.map_or(0, |span| span.start).min(text.len());
        let before = text.get(..at).unwrap_or(text);
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Location {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// Text with escapes, encoded as the send box does it (`\xHH` passes through as that byte).
fn encode_escaped(text: &str, encoding: TextEncoding) -> Result<Vec<u8>, String> {
    let spec = PayloadSpec {
        format: PayloadFormat::Text { escapes: true },
        encoding,
        checksum: None,
        append: LineEnding::None,
    };
    spec.payload(text).map_err(|error| error.to_string())
}

/// A regex error in one line: the regex crate's message spans three (the pattern, a caret, the error).
fn regex_problem(error: &regex::Error) -> String {
    let text = error.to_string();
    let what = text.lines().last().unwrap_or_default().trim();
    format!(
        "the regex does not compile: {}",
        what.strip_prefix("error: ").unwrap_or(what)
    )
}
