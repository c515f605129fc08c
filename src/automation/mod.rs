//! Automation without I/O: auto-reply rules and send/expect scripts — their TOML files (the formats are in
//! docs/file-formats.md), what they match and what they answer. The engine runs them on every message.
pub mod problem;
pub mod replay;
pub mod rules;
pub mod script;

use std::ops::Range;

use crate::codec::text::TextEncoding;
use crate::payload::{LineEnding, PayloadFormat, PayloadSpec};
use problem::Problem;

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

/// A rules or script file whose bytes are not UTF-8 text: where its first bad byte is, and the byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{at}: not UTF-8 text (byte 0x{byte:02X})")]
pub struct NotUtf8 {
    pub at: Location,
    pub byte: u8,
}

/// A rules or script file's bytes as the text its parser takes, or the place of the first byte that is not UTF-8
/// (a column counts the characters before it on its line, as every other message's column does).
pub fn file_text(bytes: &[u8]) -> Result<&str, NotUtf8> {
    std::str::from_utf8(bytes).map_err(|error| {
        let valid = error.valid_up_to();
        let before = String::from_utf8_lossy(&bytes[..valid]);
        NotUtf8 {
            at: Location::of(&before, Some(valid..valid)),
            byte: bytes.get(valid).copied().unwrap_or_default(),
        }
    })
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// Text with escapes, encoded as the send box does it (`\xHH` passes through as that byte).
fn encode_escaped(text: &str, encoding: TextEncoding) -> Result<Vec<u8>, Problem> {
    let spec = PayloadSpec {
        format: PayloadFormat::Text { escapes: true },
        encoding,
        checksum: None,
        append: LineEnding::None,
    };
    Ok(spec.payload(text)?)
}

/// A regex as a match or an expect takes it: an empty one would match anything at once (`empty` says how).
fn compile_regex(pattern: &str, empty: Problem) -> Result<regex::Regex, Problem> {
    if pattern.is_empty() {
        return Err(empty);
    }
    regex::Regex::new(pattern).map_err(|error| {
        // The regex crate's message spans three lines (the pattern, a caret, the error): the last says it.
        let text = error.to_string();
        let what = text.lines().last().unwrap_or_default().trim();
        Problem::Regex(what.strip_prefix("error: ").unwrap_or(what).to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_is_not_utf8_names_its_first_bad_byte() {
        assert_eq!(file_text(b"a = 1\n"), Ok("a = 1\n"));
        let place = |bytes: &[u8]| file_text(bytes).map(|_| ()).map_err(|error| error.to_string());
        assert_eq!(
            place(b"\xFF"),
            Err("line 1, column 1: not UTF-8 text (byte 0xFF)".into())
        );
        // Columns count characters: "ü" is two bytes, one column.
        assert_eq!(
            place(&["a\nü=\"".as_bytes(), b"\xC0\x80\n"].concat()),
            Err("line 2, column 4: not UTF-8 text (byte 0xC0)".into())
        );
        // A sequence cut short by the end of the file.
        assert_eq!(
            place(b"x\r\ny\n\xE4\xBD"),
            Err("line 3, column 1: not UTF-8 text (byte 0xE4)".into())
        );
    }
}
