//! Send/expect scripts: a conversation over one connection — send, wait for the reply, check it, send the next —
//! repeated N times or until stopped. [`Script`] is the checked file (format: docs/file-formats.md); [`Run`] is one
//! run of it against one peer, a state machine fed with what arrives and the time, that says what to send and when
//! it passed or which step failed with what did arrive. No I/O: the engine drives it.
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use toml::Spanned;

use super::problem::Problem;
use super::{Location, NotUtf8, compile_regex, encode_escaped};
use crate::codec::checksum::Checksum;
use crate::codec::find_bytes;
use crate::codec::hex::parse_hex;
use crate::codec::text::TextEncoding;
use crate::payload::{LineEnding, PayloadFormat, PayloadSpec};
use crate::vars::{Payload, Template, Values};

/// An expect without `timeout_ms` waits this long.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest timeout or sleep a step may ask for.
pub const MAX_WAIT_MS: u64 = 24 * 3_600_000;
/// A run that went a whole round without waiting yields to its driver after it (see `Run::advance`); if that round
/// sent nothing and took in nothing (sleeps of 0 ms, an expect matching no bytes), until this much later, as if it
/// slept the least a step can: rounds of nothing, `repeat = 0`, must not spin a core.
pub const IDLE_ROUND: Duration = Duration::from_millis(1);
/// What an expect keeps of the data it waits in: a reply this far behind the newest byte is not looked for.
pub const EXPECT_WINDOW: usize = 1 << 20;

#[derive(Debug, Clone)]
pub enum Step {
    /// Filled in for each send (a fixed template unless the script has `vars = true`).
    Send(Payload),
    Expect {
        pattern: Pattern,
        timeout: Duration,
    },
    Sleep(Duration),
}

#[derive(Debug, Clone)]
pub enum Pattern {
    /// Encoded text (or hex bytes) the data must contain.
    Bytes(Vec<u8>),
    /// A regex on the data decoded in the session's encoding.
    Regex(regex::Regex),
}

/// A checked script, compiled for a session's encoding.
#[derive(Debug, Clone)]
pub struct Script {
    pub steps: Vec<Step>,
    /// Each step as written, for the script panel and for messages.
    pub sources: Vec<String>,
    /// Rounds to run; `None` runs until stopped.
    pub repeat: Option<u64>,
    encoding: TextEncoding,
}

/// The same script: the same steps as written, rounds and encoding (what they compile to follows from those).
impl PartialEq for Script {
    fn eq(&self, other: &Script) -> bool {
        self.sources == other.sources && self.repeat == other.repeat && self.encoding == other.encoding
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptFile {
    #[serde(default = "one")]
    repeat: u64,
    #[serde(default)]
    vars: bool,
    #[serde(default)]
    step: Vec<Spanned<StepFile>>,
}

fn one() -> u64 {
    1
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StepFile {
    send: Option<Spanned<String>>,
    send_hex: Option<Spanned<String>>,
    checksum: Option<Spanned<Checksum>>,
    expect: Option<Spanned<String>>,
    expect_hex: Option<Spanned<String>>,
    expect_regex: Option<Spanned<String>>,
    timeout_ms: Option<Spanned<u64>>,
    sleep_ms: Option<Spanned<u64>>,
}

/// Why a script file was refused; nothing runs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScriptError {
    #[error(transparent)]
    NotUtf8(#[from] NotUtf8),
    #[error("{at}: {message}")]
    Syntax { at: Location, message: String },
    #[error("{at}: step {number}: `{key}`: {problem}")]
    Step {
        at: Location,
        /// 1-based, in file order.
        number: usize,
        key: &'static str,
        problem: Problem,
    },
}

impl ScriptError {
    /// Where in the file the problem is.
    pub fn at(&self) -> Location {
        match self {
            ScriptError::NotUtf8(error) => error.at,
            ScriptError::Syntax { at, .. } | ScriptError::Step { at, .. } => *at,
        }
    }
}

/// One `[[step]]` as written: what the window's script table edits and export writes back.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_hex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<Checksum>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_hex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_regex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sleep_ms: Option<u64>,
}

/// A script file as written (the window keeps it in a tab's settings).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptSpec {
    #[serde(default = "one")]
    pub repeat: u64,
    /// Variables in `send` steps ({seq}: this run's sends, from 0), as `--vars` does for `--send`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub vars: bool,
    #[serde(default, rename = "step")]
    pub steps: Vec<StepSpec>,
}

impl Default for ScriptSpec {
    fn default() -> Self {
        ScriptSpec {
            repeat: 1,
            vars: false,
            steps: Vec::new(),
        }
    }
}

impl ScriptSpec {
    /// A script file, checked whole as `Script::parse` checks it (a problem names its line, column, step and key).
    pub fn parse(text: &str, encoding: TextEncoding) -> Result<ScriptSpec, ScriptError> {
        Script::parse(text, encoding)?;
        toml::from_str(text).map_err(|error| ScriptError::Syntax {
            at: Location::of(text, error.span()),
            message: error.message().trim_end().to_owned(),
        })
    }

    /// The file that reads back to this script.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }
}

impl Script {
    /// A script edited in the window: written out as its file and read back, so it gets exactly the file's
    /// checks (a problem's step and key are what the window shows; its line is the written file's).
    pub fn from_spec(spec: &ScriptSpec, encoding: TextEncoding) -> Result<Script, ScriptError> {
        Script::parse(&spec.to_toml(), encoding)
    }

    pub fn parse(text: &str, encoding: TextEncoding) -> Result<Script, ScriptError> {
        let file: ScriptFile = toml::from_str(text).map_err(|error| ScriptError::Syntax {
            at: Location::of(text, error.span()),
            message: error.message().trim_end().to_owned(),
        })?;
        if file.step.is_empty() {
            return Err(ScriptError::Syntax {
                at: Location::of(text, None),
                message: "no steps: add [[step]] tables".into(),
            });
        }
        let mut steps = Vec::new();
        let mut sources = Vec::new();
        // A table's span is its header: a step's source runs to the next step's header.
        let starts: Vec<usize> = file.step.iter().map(|step| step.span().start).collect();
        for (index, spanned) in file.step.into_iter().enumerate() {
            let span = spanned.span();
            let end = starts.get(index + 1).copied().unwrap_or(text.len());
            sources.push(source_of(text.get(span.start..end).unwrap_or_default()));
            let step = spanned.into_inner();
            let fail =
                |key: &'static str, value_span: Option<std::ops::Range<usize>>, problem: Problem| ScriptError::Step {
                    at: Location::of(text, Some(value_span.unwrap_or_else(|| span.clone()))),
                    number: index + 1,
                    key,
                    problem,
                };
            steps.push(compile(&step, encoding, file.vars, fail)?);
        }
        Ok(Script {
            steps,
            sources,
            repeat: (file.repeat > 0).then_some(file.repeat),
            encoding,
        })
    }
}

/// A step as written, without its header, comments and blank lines: `expect = "Welcome"; timeout_ms = 2000`.
fn source_of(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#') && *line != "[[step]]")
        .collect::<Vec<_>>()
        .join("; ")
}

fn compile(
    step: &StepFile,
    encoding: TextEncoding,
    vars: bool,
    fail: impl Fn(&'static str, Option<std::ops::Range<usize>>, Problem) -> ScriptError,
) -> Result<Step, ScriptError> {
    let span = |value: &Option<Spanned<String>>| value.as_ref().map(Spanned::span);
    let kinds = [
        step.send.is_some(),
        step.send_hex.is_some(),
        step.expect.is_some(),
        step.expect_hex.is_some(),
        step.expect_regex.is_some(),
        step.sleep_ms.is_some(),
    ];
    match kinds.iter().filter(|&&kind| kind).count() {
        0 => return Err(fail("step", None, Problem::NoAction)),
        1 => {}
        _ => return Err(fail("step", None, Problem::SeveralActions)),
    }
    let is_send = step.send.is_some() || step.send_hex.is_some();
    if let Some(checksum) = &step.checksum
        && !is_send
    {
        return Err(fail("checksum", Some(checksum.span()), Problem::ChecksumWithoutSend));
    }
    let is_expect = step.expect.is_some() || step.expect_hex.is_some() || step.expect_regex.is_some();
    let timeout = match &step.timeout_ms {
        Some(ms) if !is_expect => {
            return Err(fail("timeout_ms", Some(ms.span()), Problem::TimeoutWithoutExpect));
        }
        Some(ms) => checked_wait(ms).map_err(|problem| fail("timeout_ms", Some(ms.span()), problem))?,
        None => DEFAULT_TIMEOUT,
    };
    let with_checksum = |mut bytes: Vec<u8>| {
        if let Some(checksum) = &step.checksum {
            checksum.get_ref().append_to(&mut bytes);
        }
        bytes
    };
    let fixed = |bytes| {
        Step::Send(Payload {
            template: Template::literal(with_checksum(bytes)),
            checksum: None,
            append: b"",
        })
    };
    if let Some(text) = &step.send
        && vars
    {
        let spec = PayloadSpec {
            format: PayloadFormat::Text { escapes: true },
            encoding,
            checksum: step.checksum.as_ref().map(|checksum| *checksum.get_ref()),
            append: LineEnding::None,
        };
        let payload = Payload::parse(text.get_ref(), &spec)
            .map_err(|error| fail("send", span(&step.send), Problem::Vars(Box::new(error))))?;
        return Ok(Step::Send(payload));
    }
    if let Some(text) = &step.send {
        let bytes = encode_escaped(text.get_ref(), encoding).map_err(|p| fail("send", span(&step.send), p))?;
        return Ok(fixed(bytes));
    }
    if let Some(hex) = &step.send_hex {
        let bytes = parse_hex(hex.get_ref()).map_err(|e| fail("send_hex", span(&step.send_hex), e.into()))?;
        return Ok(fixed(bytes));
    }
    let pattern = if let Some(text) = &step.expect {
        let bytes = encode_escaped(text.get_ref(), encoding).map_err(|p| fail("expect", span(&step.expect), p))?;
        non_empty(bytes).map_err(|p| fail("expect", span(&step.expect), p))?
    } else if let Some(hex) = &step.expect_hex {
        let bytes = parse_hex(hex.get_ref()).map_err(|e| fail("expect_hex", span(&step.expect_hex), e.into()))?;
        non_empty(bytes).map_err(|p| fail("expect_hex", span(&step.expect_hex), p))?
    } else if let Some(pattern) = &step.expect_regex {
        Pattern::Regex(
            compile_regex(pattern.get_ref(), Problem::MatchesAtOnce)
                .map_err(|p| fail("expect_regex", span(&step.expect_regex), p))?,
        )
    } else {
        let ms = step.sleep_ms.as_ref().expect("one action, and not the others");
        let sleep = checked_wait(ms).map_err(|problem| fail("sleep_ms", Some(ms.span()), problem))?;
        return Ok(Step::Sleep(sleep));
    };
    Ok(Step::Expect { pattern, timeout })
}

/// Bytes an expect waits for: none would match at once.
fn non_empty(bytes: Vec<u8>) -> Result<Pattern, Problem> {
    if bytes.is_empty() {
        return Err(Problem::MatchesAtOnce);
    }
    Ok(Pattern::Bytes(bytes))
}

fn checked_wait(ms: &Spanned<u64>) -> Result<Duration, Problem> {
    match *ms.get_ref() {
        ms @ 0..=MAX_WAIT_MS => Ok(Duration::from_millis(ms)),
        ms => Err(Problem::WaitTooLong { ms, max: MAX_WAIT_MS }),
    }
}

/// What a run asks of its driver next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Send(Vec<u8>),
    /// Nothing until data arrives or this moment passes.
    WaitUntil(Instant),
    /// Every round's every expect was met.
    Passed,
    Failed(Failure),
}

/// The step that failed, and what did arrive while it waited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// 0-based.
    pub step: usize,
    pub round: u64,
    pub received: Vec<u8>,
}

/// How each step of the current round went, for the script panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepState {
    Waiting,
    Running,
    /// Done, and how long it took.
    Done(Duration),
    Failed,
}

/// A step that was done, for the driver to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepDone {
    /// 0-based.
    pub step: usize,
    pub round: u64,
    pub elapsed: Duration,
}

/// One run of a script against one peer.
#[derive(Debug)]
pub struct Run {
    script: std::sync::Arc<Script>,
    step: usize,
    round: u64,
    /// When the current step began.
    began: Instant,
    /// What arrived since the last met expect (its last `EXPECT_WINDOW` bytes).
    received: Vec<u8>,
    pub states: Vec<StepState>,
    /// Steps done since the driver last took them (one round's at most: `advance` stops at a round's start).
    done: Vec<StepDone>,
    ended: bool,
    /// The `{seq}` of this run's next send.
    sends: u64,
    /// What `{peer}` is in its sends: the peer it runs against (empty for a UDP socket's run).
    peer: String,
}

impl Run {
    pub fn new(script: std::sync::Arc<Script>, peer: Option<SocketAddr>, now: Instant) -> Run {
        let steps = script.steps.len();
        let mut states = vec![StepState::Waiting; steps];
        states[0] = StepState::Running;
        Run {
            script,
            step: 0,
            round: 1,
            began: now,
            received: Vec::new(),
            states,
            done: Vec::new(),
            ended: false,
            sends: 0,
            peer: peer.map(|peer| peer.to_string()).unwrap_or_default(),
        }
    }

    /// The step running now (0-based).
    pub fn step(&self) -> usize {
        self.step
    }

    /// When the step running now began.
    pub fn began(&self) -> Instant {
        self.began
    }

    /// What arrived since the last met expect, taken (for a run that cannot go on).
    pub fn take_received(&mut self) -> Vec<u8> {
        self.ended = true;
        std::mem::take(&mut self.received)
    }

    /// The steps done since the last call, in order.
    pub fn take_done(&mut self) -> Vec<StepDone> {
        std::mem::take(&mut self.done)
    }

    pub fn round(&self) -> u64 {
        self.round
    }

    /// Data from the peer.
    pub fn received(&mut self, data: &[u8]) {
        self.received.extend_from_slice(data);
        if self.received.len() > EXPECT_WINDOW {
            self.received.drain(..self.received.len() - EXPECT_WINDOW);
        }
    }

    /// Goes as far as it can at `now`: the sends due, then what to wait for (or how it ended). Call again after
    /// new data arrives or when the wait is over.
    pub fn advance(&mut self, now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        let mut round_began_here = false;
        // Whether the round that began in this call sent or took in any bytes.
        let mut worked = false;
        while !self.ended {
            match &self.script.steps[self.step] {
                Step::Send(payload) => {
                    let mut bytes = Vec::new();
                    let values = Values {
                        seq: self.sends,
                        conn: 0,
                        count: self.sends,
                        peer: &self.peer,
                    };
                    payload.build(&values, &mut bytes);
                    self.sends += 1;
                    worked |= !bytes.is_empty();
                    actions.push(Action::Send(bytes));
                }
                Step::Sleep(sleep) => {
                    let until = self.began.checked_add(*sleep).unwrap_or(now);
                    if now < until {
                        actions.push(Action::WaitUntil(until));
                        return actions;
                    }
                }
                Step::Expect { pattern, timeout } => {
                    if let Some(end) = find(pattern, &self.received, self.script.encoding) {
                        worked |= end > 0;
                        self.received.drain(..end);
                    } else {
                        let until = self.began.checked_add(*timeout).unwrap_or(now);
                        if now < until {
                            actions.push(Action::WaitUntil(until));
                        } else {
                            self.states[self.step] = StepState::Failed;
                            self.ended = true;
                            actions.push(Action::Failed(Failure {
                                step: self.step,
                                round: self.round,
                                received: std::mem::take(&mut self.received),
                            }));
                        }
                        return actions;
                    }
                }
            }
            if self.next_step(now, &mut actions) {
                // A round that never waits (sends alone) would go round forever here: it gets one round per
                // call, so the driver serves its sockets in between; one that did nothing at all, a timer's turn.
                if round_began_here {
                    actions.push(Action::WaitUntil(if worked { now } else { now + IDLE_ROUND }));
                    return actions;
                }
                round_began_here = true;
                worked = false;
            }
        }
        actions
    }

    /// `true` when a new round began.
    fn next_step(&mut self, now: Instant, actions: &mut Vec<Action>) -> bool {
        let elapsed = now.saturating_duration_since(self.began);
        self.states[self.step] = StepState::Done(elapsed);
        self.done.push(StepDone {
            step: self.step,
            round: self.round,
            elapsed,
        });
        self.began = now;
        self.step += 1;
        if self.step == self.script.steps.len() {
            if self.script.repeat.is_some_and(|rounds| self.round >= rounds) {
                self.ended = true;
                actions.push(Action::Passed);
                return false;
            }
            self.round += 1;
            self.step = 0;
            self.states.fill(StepState::Waiting);
            self.states[0] = StepState::Running;
            return true;
        }
        self.states[self.step] = StepState::Running;
        false
    }
}

/// Where the first match of `pattern` in `data` ends.
fn find(pattern: &Pattern, data: &[u8], encoding: TextEncoding) -> Option<usize> {
    match pattern {
        Pattern::Bytes(needle) => find_bytes(data, needle).map(|at| at + needle.len()),
        Pattern::Regex(regex) => {
            // Decoded piece by piece would not map back to bytes; the decoded prefix up to the match is
            // re-encoded only to measure it, so the data after the match stays for the next expect.
            let text = encoding.decode_all(data);
            let found = regex.find(&text)?;
            let consumed = encoding
                .encode(&text[..found.end()])
                .map_or(data.len(), |bytes| bytes.len());
            Some(consumed.min(data.len()))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn utf8() -> TextEncoding {
        TextEncoding::from_name("UTF-8").expect("UTF-8")
    }

    fn gbk() -> TextEncoding {
        TextEncoding::from_name("GBK").expect("GBK")
    }

    const LOGIN: &str = r#"
[[step]]
expect = "Welcome!"
timeout_ms = 1000
[[step]]
send = "Michael\n"
[[step]]
expect_regex = 'Hello,(\w+)!'
"#;

    fn run(text: &str, encoding: TextEncoding) -> (Run, Instant) {
        let now = Instant::now();
        (
            Run::new(Arc::new(Script::parse(text, encoding).expect("script")), None, now),
            now,
        )
    }

    #[test]
    fn a_conversation_passes_step_by_step_whatever_the_reads() {
        let (mut run, t0) = run(LOGIN, utf8());
        assert_eq!(run.advance(t0), [Action::WaitUntil(t0 + 1000 * MS)]);
        run.received(b"Welc");
        assert_eq!(run.advance(t0 + MS), [Action::WaitUntil(t0 + 1000 * MS)]);
        run.received(b"ome!\n");
        assert_eq!(
            run.advance(t0 + 2 * MS),
            [
                Action::Send(b"Michael\n".to_vec()),
                Action::WaitUntil(t0 + 2 * MS + DEFAULT_TIMEOUT)
            ]
        );
        assert_eq!(
            run.states[..2],
            [StepState::Done(2 * MS), StepState::Done(Duration::ZERO)]
        );
        run.received(b"Hello,Michael!\n");
        assert_eq!(run.advance(t0 + 3 * MS), [Action::Passed]);
        assert_eq!(run.advance(t0 + 4 * MS), [], "a run that ended asks nothing more");
    }

    #[test]
    fn a_timeout_fails_the_step_with_what_did_arrive() {
        let (mut run, t0) = run(LOGIN, utf8());
        run.advance(t0);
        run.received(b"Go away");
        assert_eq!(run.advance(t0 + 999 * MS), [Action::WaitUntil(t0 + 1000 * MS)]);
        let failed = Action::Failed(Failure {
            step: 0,
            round: 1,
            received: b"Go away".to_vec(),
        });
        assert_eq!(run.advance(t0 + 1000 * MS), [failed]);
        assert_eq!(run.states[0], StepState::Failed);
    }

    #[test]
    fn an_expect_consumes_up_to_its_match_and_the_rest_waits_for_the_next() {
        let file = "[[step]]\nexpect = \"A\"\n[[step]]\nexpect = \"B\"\n[[step]]\nexpect = \"A\"\ntimeout_ms = 10\n";
        let (mut run, t0) = run(file, utf8());
        run.received(b"xAyBz");
        // The second A never came: the first one was used by step 1.
        assert_eq!(run.advance(t0), [Action::WaitUntil(t0 + 10 * MS)]);
        let failed = run.advance(t0 + 10 * MS);
        assert_eq!(
            failed,
            [Action::Failed(Failure {
                step: 2,
                round: 1,
                received: b"z".to_vec()
            })]
        );
    }

    #[test]
    fn an_expect_looks_only_at_the_newest_window_of_data() {
        let file = "[[step]]\nexpect = \"old\"\ntimeout_ms = 1\n";
        let (mut run, t0) = run(file, utf8());
        run.received(b"old");
        run.received(&vec![b'.'; EXPECT_WINDOW]);
        match run.advance(t0 + MS).as_slice() {
            [Action::Failed(failure)] => {
                assert_eq!(failure.received.len(), EXPECT_WINDOW, "the window's size is kept");
                assert_eq!(&failure.received[..2], b"..", "the oldest bytes went first");
            }
            other => panic!("expected a failure, got {other:?}"),
        }
        let (mut run, t0) = self::run(file, utf8());
        run.received(&vec![b'.'; EXPECT_WINDOW - 3]);
        run.received(b"old");
        assert_eq!(
            run.advance(t0),
            [Action::Passed],
            "data that just fits is all looked at"
        );
    }

    /// `vars = true`: send steps fill in variables per send, `{seq}` counting the run's sends across rounds;
    /// without it braces go as written; an unknown variable names its step.
    #[test]
    fn vars_number_the_sends_of_a_run_only_when_asked() {
        let sends = |file: &str| {
            let (mut run, start) = run(file, utf8());
            let mut sent = Vec::new();
            // A call goes as far as a round's start: one per round, and one more to see it has ended.
            for _ in 0..3 {
                for action in run.advance(start) {
                    if let Action::Send(bytes) = action {
                        sent.push(String::from_utf8(bytes).expect("text"));
                    }
                }
            }
            sent
        };
        let steps = "repeat = 2\n[[step]]\nsend = \"a{seq}\"\n[[step]]\nsend = \"b{seq}{{\"\n";
        assert_eq!(sends(&format!("vars = true\n{steps}")), ["a0", "b1{", "a2", "b3{"]);
        assert_eq!(sends(steps), ["a{seq}", "b{seq}{{", "a{seq}", "b{seq}{{"]);
        let error = Script::parse("vars = true\n[[step]]\nsend = \"{sq}\"\n", utf8()).expect_err("unknown");
        assert!(
            error.to_string().contains("unknown variable {sq} at position 1"),
            "{error}"
        );
    }

    /// `{peer}` in a send step is the peer the run is against; a UDP socket's run has none.
    #[test]
    fn a_runs_sends_name_its_peer() {
        let script = Arc::new(Script::parse("vars = true\n[[step]]\nsend = \"to {peer}\"\n", utf8()).expect("valid"));
        let peer: SocketAddr = "[::1]:7788".parse().expect("address");
        for (peer, expected) in [(Some(peer), "to [::1]:7788"), (None, "to ")] {
            let now = Instant::now();
            let actions = Run::new(script.clone(), peer, now).advance(now);
            assert_eq!(actions[0], Action::Send(expected.as_bytes().to_vec()), "{peer:?}");
        }
    }

    #[test]
    fn rounds_repeat_and_zero_means_until_stopped() {
        let file = "repeat = 3\n[[step]]\nsend_hex = \"01 03\"\nchecksum = \"xor8\"\n[[step]]\nsleep_ms = 5\n";
        let (mut run, t0) = run(file, utf8());
        let send = Action::Send(vec![0x01, 0x03, 0x02]);
        assert_eq!(run.advance(t0), [send.clone(), Action::WaitUntil(t0 + 5 * MS)]);
        assert_eq!(
            run.advance(t0 + 5 * MS),
            [send.clone(), Action::WaitUntil(t0 + 10 * MS)]
        );
        assert_eq!(run.round(), 2);
        assert_eq!(run.advance(t0 + 10 * MS), [send, Action::WaitUntil(t0 + 15 * MS)]);
        assert_eq!(run.advance(t0 + 15 * MS), [Action::Passed]);

        let (mut forever, t0) = self::run("repeat = 0\n[[step]]\nsleep_ms = 1\n", utf8());
        for n in 1..=100 {
            assert_eq!(forever.advance(t0 + n * MS), [Action::WaitUntil(t0 + (n + 1) * MS)]);
        }
        assert_eq!(forever.round(), 101);

        let (mut flood, t0) = self::run("repeat = 0\n[[step]]\nsend = \"a\"\n", utf8());
        let send = Action::Send(b"a".to_vec());
        let rounds = [send.clone(), send, Action::WaitUntil(t0)];
        assert_eq!(flood.advance(t0), rounds, "it yields after a round that never waited");
        assert_eq!(flood.advance(t0), rounds);

        // Rounds of nothing wait for a timer's turn instead: the driver would call again at once, and again.
        for file in [
            "repeat = 0\n[[step]]\nsleep_ms = 0\n",
            "repeat = 0\n[[step]]\nsend = \"\"\n",
            "repeat = 0\n[[step]]\nexpect_regex = 'x*'\n",
        ] {
            let (mut idle, t0) = self::run(file, utf8());
            assert_eq!(
                idle.advance(t0).last(),
                Some(&Action::WaitUntil(t0 + IDLE_ROUND)),
                "{file}"
            );
            assert_eq!(idle.round(), 3, "{file}");
        }
    }

    #[test]
    fn expects_match_in_the_session_encoding_split_across_reads() {
        let file = "[[step]]\nexpect = \"你好\"\n[[step]]\nexpect_regex = '名字:(\\w+)'\n[[step]]\nexpect = \"!\"\n";
        let (mut run, t0) = run(file, gbk());
        let hello = gbk().encode("你好").expect("gbk");
        run.received(&hello[..1]);
        assert_eq!(run.advance(t0).len(), 1);
        run.received(&hello[1..]);
        run.received(&gbk().encode("名字:小明!").expect("gbk"));
        assert_eq!(
            run.advance(t0 + MS),
            [Action::Passed],
            "the ! after the regex match is left for step 3"
        );
    }

    #[test]
    fn a_spec_writes_the_file_that_reads_back_to_it() {
        let spec = ScriptSpec::parse(LOGIN, utf8()).expect("the login script");
        assert_eq!(spec.repeat, 1);
        assert_eq!(spec.steps[0].expect.as_deref(), Some("Welcome!"));
        assert_eq!(spec.steps[0].timeout_ms, Some(1000));
        assert_eq!(ScriptSpec::parse(&spec.to_toml(), utf8()), Ok(spec.clone()));
        let (mut run, t0) = (
            Run::new(
                Arc::new(Script::from_spec(&spec, utf8()).expect("valid")),
                None,
                Instant::now(),
            ),
            Instant::now(),
        );
        run.received(b"Welcome!");
        assert_eq!(
            run.advance(t0)[0],
            Action::Send(b"Michael\n".to_vec()),
            "escapes survive the round trip"
        );
        let mut bad = spec;
        bad.steps[2].expect_regex = Some("(".into());
        match Script::from_spec(&bad, utf8()) {
            Err(ScriptError::Step { number, key, .. }) => assert_eq!((number, key), (3, "expect_regex")),
            other => panic!("{other:?}"),
        }
        assert!(ScriptSpec::parse("[[step]]\nsend = 1\n", utf8()).is_err());
    }

    /// An empty expect of any kind would match at once: refused, naming its own key.
    #[test]
    fn an_empty_expect_of_any_kind_is_refused() {
        for (key, line) in [
            ("expect", "expect = \"\""),
            ("expect_hex", "expect_hex = \"\""),
            ("expect_regex", "expect_regex = ''"),
        ] {
            let error = Script::parse(&format!("[[step]]\n{line}\n"), utf8()).expect_err(key);
            assert!(
                matches!(&error, ScriptError::Step { key: k, problem: Problem::MatchesAtOnce, .. } if *k == key),
                "{error}"
            );
        }
    }

    #[test]
    fn problems_name_the_line_column_step_and_key() {
        let error = |file: &str| Script::parse(file, gbk()).expect_err(file).to_string();
        assert_eq!(
            error("[[step]]\nsend = \"a\"\n[[step]]\nsend_hex = \"01 XY\"\n"),
            "line 4, column 12: step 2: `send_hex`: bad hex digit 'X' at position 4"
        );
        assert_eq!(
            error("[[step]]\nexpect = \"😀\"\n"),
            "line 2, column 10: step 1: `expect`: '😀' at position 1 cannot be encoded in gbk"
        );
        assert!(error("[[step]]\nexpect_regex = \"(\"\n").starts_with("line 2, column 16: step 1: `expect_regex`"));
        assert!(error("[[step]]\nsend = \"a\"\nexpect = \"b\"\n").contains("more than one action"));
        assert!(
            error("[[step]]\nsend = \"a\"\ntimeout_ms = 5\n").starts_with("line 3, column 14: step 1: `timeout_ms`")
        );
        assert!(error("[[step]]\nexpect = \"a\"\nchecksum = \"xor8\"\n").contains("only a send takes a checksum"));
        assert!(error("[[step]]\nsleep_ms = 86400001\n").contains("more than a day"));
        assert!(
            Script::parse("[[step]]\nsleep_ms = 86400000\n", gbk()).is_ok(),
            "a day itself is allowed"
        );
        for expect in ["expect = \"a\"", "expect_hex = \"61\"", "expect_regex = \"a\""] {
            let file = format!("[[step]]\n{expect}\ntimeout_ms = 5\n");
            assert!(Script::parse(&file, gbk()).is_ok(), "{file}");
        }
        for send in ["send = \"a\"", "send_hex = \"61\""] {
            let file = format!("[[step]]\n{send}\nchecksum = \"xor8\"\n");
            assert!(Script::parse(&file, gbk()).is_ok(), "{file}");
        }
        assert!(error("[[step]]\nsleep = 1\n").starts_with("line 2, column 1: unknown field `sleep`"));
        assert!(error("repeat = -1\n[[step]]\nsend = \"a\"\n").starts_with("line 1, column 10"));
        assert_eq!(error("repeat = 2\n"), "line 1, column 1: no steps: add [[step]] tables");
        assert!(error("[[step]]\n").contains("nothing to do"));
    }
}
