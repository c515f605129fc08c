//! Reading what is left of a RON text that was cut short (a full disk, a crash while writing, a hand edit that
//! lost the last `}`): the open string and brackets are closed, and where that does not parse, the text is cut
//! back to an earlier comma, a few times at most.

/// How many commas back a cut text is tried: each try parses the text once.
const TRIES: usize = 8;

/// `parse` of `text`, or of `text` cut short and closed; `None` if neither parses.
pub fn parse_cut_short<T>(text: &str, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
    if let Some(value) = parse(text) {
        return Some(value);
    }
    let mut end = text.len();
    for _ in 0..TRIES {
        let scan = Scan::of(&text[..end]);
        if let Some(value) = parse(&scan.closed(&text[..end])) {
            return Some(value);
        }
        end = scan.last_comma?;
    }
    None
}

/// What a left-to-right reading of a RON text leaves open at its end.
struct Scan {
    /// The brackets still open, innermost last.
    open: Vec<char>,
    /// In a string: `Some`, holding where its unfinished escape starts, if one is.
    string: Option<Option<usize>>,
    /// Where the last comma outside strings is.
    last_comma: Option<usize>,
}

impl Scan {
    fn of(text: &str) -> Scan {
        let mut scan = Scan {
            open: Vec::new(),
            string: None,
            last_comma: None,
        };
        let mut escape = Escape::Started;
        for (at, c) in text.char_indices() {
            match scan.string {
                Some(Some(start)) => {
                    escape = escape.after(c);
                    scan.string = Some((escape != Escape::Done).then_some(start));
                }
                Some(None) => match c {
                    '\\' => {
                        escape = Escape::Started;
                        scan.string = Some(Some(at));
                    }
                    '"' => scan.string = None,
                    _ => {}
                },
                None => match c {
                    '"' => scan.string = Some(None),
                    '(' | '[' | '{' => scan.open.push(c),
                    ')' | ']' | '}' => {
                        scan.open.pop();
                    }
                    ',' => scan.last_comma = Some(at),
                    _ => {}
                },
            }
        }
        scan
    }

    /// `text` with its unfinished escape dropped and its string and brackets closed.
    fn closed(&self, text: &str) -> String {
        let mut closed = match self.string {
            Some(Some(escape)) => text[..escape].to_string() + "\"",
            Some(None) => text.to_string() + "\"",
            None => text.to_string(),
        };
        closed.extend(self.open.iter().rev().map(|open| match open {
            '(' => ')',
            '[' => ']',
            _ => '}',
        }));
        closed
    }
}

/// How far a string escape is: `\n` is done at its letter, `\x41` after two digits, `\u{1F600}` at its `}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    Started,
    Hex(u8),
    Unicode,
    Done,
}

impl Escape {
    fn after(self, c: char) -> Escape {
        match (self, c) {
            (Escape::Started, 'x') => Escape::Hex(2),
            (Escape::Started, 'u') => Escape::Unicode,
            (Escape::Hex(2), _) => Escape::Hex(1),
            (Escape::Unicode, '}') => Escape::Done,
            (Escape::Unicode, _) => Escape::Unicode,
            _ => Escape::Done,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn map(text: &str) -> Option<HashMap<String, String>> {
        ron::from_str(text).ok()
    }

    #[test]
    fn a_text_cut_short_is_closed() {
        let whole = "{\n    \"app\": \"(version:1,name:\\\"x\\\")\",\n    \"egui\": \"()\",\n}";
        let expected = map(whole).expect("whole parses");
        // The last brace lost: everything is still there.
        assert_eq!(parse_cut_short(&whole[..whole.len() - 1], map), Some(expected.clone()));
        // Cut inside the second value, in an escape or not: the first entry and what there is of the second.
        let second = whole.find("\"egui").expect("second entry");
        for end in second + 1..whole.len() {
            let cut = &whole[..end];
            let read = parse_cut_short(cut, map).unwrap_or_else(|| panic!("{cut:?}"));
            assert_eq!(read.get("app"), expected.get("app"), "{cut:?}");
        }
    }

    #[test]
    fn escapes_cut_in_the_middle_are_dropped() {
        for cut in [r#"["a\"#, r#"["a\x4"#, r#"["a\u{1F60"#, r#"["a\u{1F600}"#, r#"["a\n"#] {
            let read: Option<Vec<String>> = parse_cut_short(cut, |t| ron::from_str(t).ok());
            let read = read.unwrap_or_else(|| panic!("{cut:?}"));
            assert!(read[0].starts_with('a'), "{cut:?}: {read:?}");
        }
    }

    #[test]
    fn what_is_not_ron_stays_unread() {
        for text in ["", "not ron", "}}}", "{\"a\": 1,,,,,,,,,,,,,,,"] {
            assert_eq!(parse_cut_short(text, map), None, "{text:?}");
        }
    }
}
