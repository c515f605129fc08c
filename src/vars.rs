//! Variables in what is sent: `{seq}`, `{conn}`, `{time_us}`, `{rand:N}`, `{count}`, `{peer}`, `{time}`.
//!
//! A template is parsed once into literal bytes and variables, so filling it in per message costs a few
//! appends. `{{` and `}}` are a literal brace. The literal runs go through the caller's conversion (escapes and
//! encoding) when parsed; checksum and line ending are the caller's, after expansion.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::codec::checksum::Checksum;
use crate::payload::{PayloadError, PayloadSpec};

/// The most random bytes one `{rand:N}` makes: a payload is a message, not a file.
pub const MAX_RAND: usize = 65_536;

/// One variable of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Var {
    /// The message's number on its connection, from 0.
    Seq,
    /// The connection's number, from 0.
    Conn,
    /// Unix time in microseconds.
    TimeUs,
    /// This many random bytes.
    Rand(usize),
    /// The messages sent so far by the whole run (or a rule's matches).
    Count,
    /// The peer's address.
    Peer,
    /// Local time, HH:MM:SS.mmm.
    Time,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Bytes(Vec<u8>),
    Var(Var),
}

/// A payload with its variables found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

/// What each message is: the template filled in, then its checksum, then the line ending (the contract's order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    pub template: Template,
    pub checksum: Option<Checksum>,
    pub append: &'static [u8],
}

impl Payload {
    /// `input` read as `spec` reads a send box's text, with its variables found: the literal runs take the
    /// escapes and encoding, checksum and line ending come after each expansion.
    pub fn parse(input: &str, spec: &PayloadSpec) -> Result<Payload, VarError> {
        let literal = PayloadSpec {
            checksum: None,
            append: crate::payload::LineEnding::None,
            ..*spec
        };
        Ok(Payload {
            template: Template::parse(input, |run| literal.payload(run))?,
            checksum: spec.checksum,
            append: spec.append.bytes(),
        })
    }

    /// Appends one message to `out`.
    pub fn build(&self, values: &Values, out: &mut Vec<u8>) {
        let start = out.len();
        self.template.expand(values, out);
        if let Some(checksum) = self.checksum {
            let sum = checksum.compute(&out[start..]);
            out.extend_from_slice(&sum);
        }
        out.extend_from_slice(self.append);
    }
}

/// What the variables of one message are.
#[derive(Debug, Clone, Copy)]
pub struct Values<'a> {
    pub seq: u64,
    pub conn: u64,
    pub count: u64,
    pub peer: &'a str,
}

impl Values<'static> {
    /// A first message's values, to check what a template makes before anything is sent.
    pub fn first() -> Values<'static> {
        Values {
            seq: 0,
            conn: 0,
            count: 0,
            peer: "",
        }
    }
}

/// Why a template does not parse; positions are 1-based characters of the user's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VarError {
    #[error(
        "unknown variable {{{name}}} at position {position} (known: {{seq}} {{conn}} {{time_us}} {{rand:N}} \
         {{count}} {{peer}} {{time}}; write {{{{ for a brace)"
    )]
    Unknown { name: String, position: usize },
    #[error("unclosed {{ at position {position} (write {{{{ for a brace)")]
    Unclosed { position: usize },
    #[error("{{rand:{n}}} at position {position}: give 1 to {MAX_RAND} bytes")]
    BadRand { n: String, position: usize },
    #[error("{source} (in the text from position {position})")]
    Literal { position: usize, source: PayloadError },
}

impl Template {
    /// `bytes` as they are, no variables (hex and file payloads).
    pub fn literal(bytes: Vec<u8>) -> Template {
        Template {
            parts: vec![Part::Bytes(bytes)],
        }
    }

    /// Finds the variables in `input`; each literal run between them becomes bytes through `literal`.
    pub fn parse(input: &str, literal: impl Fn(&str) -> Result<Vec<u8>, PayloadError>) -> Result<Template, VarError> {
        let mut parts = Vec::new();
        let mut run = String::new();
        let mut run_start = 1;
        let chars: Vec<char> = input.chars().collect();
        let mut at = 0;
        while at < chars.len() {
            let (ch, next) = (chars[at], chars.get(at + 1).copied());
            if (ch == '{' && next == Some('{')) || (ch == '}' && next == Some('}')) {
                run.push(ch);
                at += 2;
                continue;
            }
            if ch != '{' {
                run.push(ch);
                at += 1;
                continue;
            }
            let position = at + 1;
            let close = chars[at..]
                .iter()
                .position(|&c| c == '}')
                .ok_or(VarError::Unclosed { position })?;
            let name: String = chars[at + 1..at + close].iter().collect();
            let var = Var::named(&name, position)?;
            flush(&mut parts, &mut run, run_start, &literal)?;
            parts.push(Part::Var(var));
            at += close + 1;
            run_start = at + 1;
        }
        flush(&mut parts, &mut run, run_start, &literal)?;
        Ok(Template { parts })
    }

    /// Whether a message carries its `{seq}`, so replies can be matched by it.
    pub fn carries_seq(&self) -> bool {
        self.has(Var::Seq)
    }

    pub fn has(&self, var: Var) -> bool {
        self.parts.contains(&Part::Var(var))
    }

    /// Appends the message for `values` to `out`.
    pub fn expand(&self, values: &Values, out: &mut Vec<u8>) {
        for part in &self.parts {
            match part {
                Part::Bytes(bytes) => out.extend_from_slice(bytes),
                Part::Var(var) => var.write(values, out),
            }
        }
    }

    /// The bytes before the first `{seq}` when they are known without a clock or dice (literals, `{conn}`,
    /// `{peer}`): what a reply echoing the message starts with, so its sequence number can be read after them.
    pub fn seq_prefix(&self, values: &Values) -> Option<Vec<u8>> {
        let mut prefix = Vec::new();
        for part in &self.parts {
            match part {
                Part::Bytes(bytes) => prefix.extend_from_slice(bytes),
                Part::Var(Var::Seq) => return Some(prefix),
                Part::Var(var @ (Var::Conn | Var::Peer)) => var.write(values, &mut prefix),
                Part::Var(_) => return None,
            }
        }
        None
    }
}

/// The literal run gathered so far becomes bytes.
fn flush(
    parts: &mut Vec<Part>,
    run: &mut String,
    position: usize,
    literal: &impl Fn(&str) -> Result<Vec<u8>, PayloadError>,
) -> Result<(), VarError> {
    if run.is_empty() {
        return Ok(());
    }
    let bytes = literal(run).map_err(|error| VarError::Literal {
        position,
        source: error,
    })?;
    run.clear();
    parts.push(Part::Bytes(bytes));
    Ok(())
}

impl Var {
    fn named(name: &str, position: usize) -> Result<Var, VarError> {
        Ok(match name {
            "seq" => Var::Seq,
            "conn" => Var::Conn,
            "time_us" => Var::TimeUs,
            "count" => Var::Count,
            "peer" => Var::Peer,
            "time" => Var::Time,
            _ => {
                let Some(n) = name.strip_prefix("rand:") else {
                    return Err(VarError::Unknown {
                        name: name.to_owned(),
                        position,
                    });
                };
                match n.parse::<usize>() {
                    Ok(len @ 1..=MAX_RAND) => Var::Rand(len),
                    _ => {
                        return Err(VarError::BadRand {
                            n: n.to_owned(),
                            position,
                        });
                    }
                }
            }
        })
    }

    /// Appends this variable's value for `values` (numbers, addresses and clocks as ASCII).
    pub fn write(self, values: &Values, out: &mut Vec<u8>) {
        match self {
            Var::Seq => push_number(out, values.seq),
            Var::Conn => push_number(out, values.conn),
            Var::Count => push_number(out, values.count),
            Var::TimeUs => {
                let micros = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_micros());
                push_number(out, u64::try_from(micros).unwrap_or(u64::MAX));
            }
            Var::Rand(len) => out.extend((0..len).map(|_| fastrand::u8(..))),
            Var::Peer => out.extend_from_slice(values.peer.as_bytes()),
            Var::Time => out.extend_from_slice(clock(chrono::Local::now()).as_bytes()),
        }
    }
}

/// The variable `text` starts with (`{seq}`, `{rand:4}`, …) and the bytes it takes; `None` when it starts with
/// none. Rule replies fill in these and keep every other brace as written, so a JSON reply works as before.
pub fn leading_var(text: &str) -> Option<(Var, usize)> {
    let inner = text.strip_prefix('{')?;
    let close = inner.find('}')?;
    let var = Var::named(&inner[..close], 1).ok()?;
    Some((var, close + 2))
}

/// `{time}`: local time as HH:MM:SS.mmm.
pub fn clock(time: chrono::DateTime<chrono::Local>) -> String {
    let mut text = String::with_capacity(12);
    let _ = write!(text, "{}", time.format("%H:%M:%S%.3f"));
    text
}

/// Decimal digits without a `String` per message.
fn push_number(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// The decimal number at the start of `bytes`, if any (a reply's `{seq}`).
pub fn leading_number(bytes: &[u8]) -> Option<u64> {
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    bytes[..digits]
        .iter()
        .try_fold(0u64, |n, &d| n.checked_mul(10)?.checked_add(u64::from(d - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> Result<Vec<u8>, PayloadError> {
        Ok(text.as_bytes().to_vec())
    }

    fn values() -> Values<'static> {
        Values {
            seq: 7,
            conn: 2,
            count: 1234,
            peer: "127.0.0.1:9",
        }
    }

    fn expand(template: &Template) -> Vec<u8> {
        let mut out = Vec::new();
        template.expand(&values(), &mut out);
        out
    }

    #[test]
    fn fills_in_the_variables() {
        let template = Template::parse("m{seq} c{conn} n{count} to {peer};", plain).expect("parses");
        assert_eq!(expand(&template), b"m7 c2 n1234 to 127.0.0.1:9;");
        assert!(template.carries_seq());
    }

    #[test]
    fn doubled_braces_are_braces() {
        let template = Template::parse("{{\"seq\": {seq}}}{{seq}}", plain).expect("parses");
        assert_eq!(expand(&template), b"{\"seq\": 7}{seq}");
        assert!(template.carries_seq());
        assert!(!Template::parse("{{seq}}", plain).expect("parses").carries_seq());
    }

    #[test]
    fn clocks_and_dice() {
        let template = Template::parse("{time_us}|{rand:5}|{time}", plain).expect("parses");
        let out = expand(&template);
        let micros = leading_number(&out).expect("a number first");
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_micros() as u64;
        assert!(now - micros < 10_000_000, "{micros} is now ({now})");
        let digits = micros.to_string().len();
        assert_eq!(out[digits], b'|');
        assert_eq!(out[digits + 6], b'|', "five random bytes");
        assert_eq!(out.len(), digits + 7 + "HH:MM:SS.mmm".len());
    }

    #[test]
    fn bad_templates_name_the_place() {
        let cases = [
            ("ab{sq}", "unknown variable {sq} at position 3"),
            ("{seq}{", "unclosed { at position 6"),
            ("x{rand:0}", "{rand:0} at position 2: give 1 to 65536 bytes"),
            ("x{rand:99999999999999999999}", "at position 2: give 1 to 65536"),
            ("{}", "unknown variable {} at position 1"),
        ];
        for (input, says) in cases {
            let error = Template::parse(input, plain).expect_err(input).to_string();
            assert!(error.contains(says), "{input}: {error}");
        }
    }

    #[test]
    fn literals_are_converted_once_and_their_errors_placed() {
        let spec = crate::payload::PayloadSpec {
            format: crate::payload::PayloadFormat::Text { escapes: true },
            encoding: crate::codec::text::TextEncoding::from_name("utf-8").expect("utf-8"),
            checksum: None,
            append: crate::payload::LineEnding::None,
        };
        let template = Template::parse(r"a\x00{seq}\r\n", |text| spec.payload(text)).expect("parses");
        assert_eq!(expand(&template), b"a\x007\r\n");
        let error = Template::parse(r"{seq}ab\q", |text| spec.payload(text)).expect_err("bad escape");
        assert!(error.to_string().contains("from position 6"), "{error}");
    }

    #[test]
    fn a_seq_prefix_is_known_when_nothing_before_it_varies() {
        let prefix = |text| Template::parse(text, plain).expect(text).seq_prefix(&values());
        assert_eq!(prefix("c{conn}-{seq}"), Some(b"c2-".to_vec()));
        assert_eq!(prefix("{time_us} {seq}"), None);
        assert_eq!(prefix("no seq"), None);
    }

    #[test]
    fn numbers() {
        let mut out = Vec::new();
        for n in [0, 9, 10, u64::MAX] {
            out.clear();
            push_number(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
        assert_eq!(leading_number(b"42 rest"), Some(42));
        assert_eq!(leading_number(b"x42"), None);
        assert_eq!(leading_number(b"99999999999999999999999"), None);
    }
}
