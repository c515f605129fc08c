//! Auto-reply rules: the first enabled rule whose pattern matches a message answers it. A rule matches text the
//! message contains (encoded in the session's encoding, so a GBK device's 你好 matches the rule text 你好), a hex
//! prefix with `??` for any byte, or a regex on the decoded text; it replies with text (escapes, `$1..$9`, the
//! variables of `crate::vars`: `{peer}`, `{count}` this rule's matches, `{seq}` the same from 0, `{time}`, …) or
//! hex, plus an optional checksum, after an optional delay.
//!
//! A file is checked whole when it is loaded: a syntax error, an unknown key, bad hex, a regex that does not compile
//! or text the encoding cannot carry names its line, column, rule and key, and nothing runs.
use std::net::SocketAddr;
use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::problem::{Problem, ReplyProblem};
use super::{Location, NotUtf8, compile_regex, encode_escaped};
use crate::codec::checksum::Checksum;
use crate::codec::escape::{Segment, unescape};
use crate::codec::find_bytes;
use crate::codec::hex::{HexError, parse_hex};
use crate::codec::text::TextEncoding;
use crate::vars::{Values, Var, clock, leading_var};

/// The longest delay a rule may ask for.
pub const MAX_DELAY_MS: u64 = 3_600_000;

/// One `[[rule]]` as written in the file; what export writes back.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default = "enabled", skip_serializing_if = "is_true")]
    pub enabled: bool,
    #[serde(rename = "match", default, skip_serializing_if = "Option::is_none")]
    pub match_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_hex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_regex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_hex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<Checksum>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub delay_ms: u64,
    /// A relay's: which way the messages it looks at go.
    #[serde(default, skip_serializing_if = "is_default")]
    pub direction: Direction,
    /// A relay's: what it does with a message it matches.
    #[serde(default, skip_serializing_if = "is_default")]
    pub action: Action,
}

/// Which of a relay's messages a rule looks at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    #[default]
    Both,
    /// What a client sends to the upstream.
    ToUpstream,
    /// What the upstream sends to a client.
    ToClient,
}

impl Direction {
    fn takes(self, to_upstream: bool) -> bool {
        match self {
            Direction::Both => true,
            Direction::ToUpstream => to_upstream,
            Direction::ToClient => !to_upstream,
        }
    }
}

/// What a rule does with a message it matches (in a session other than a relay, it replies).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Answers the sender with `reply`/`reply_hex`; the message goes no further.
    #[default]
    Reply,
    /// Forwards `reply`/`reply_hex` in place of the whole message.
    Rewrite,
    /// Forwards nothing.
    Drop,
    /// Forwards the message unchanged after `delay_ms`.
    Delay,
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

fn enabled() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// The file as parsed, with where each rule's values are (for messages).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    rule: Vec<Spanned<SpannedRule>>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SpannedRule {
    name: Option<Spanned<String>>,
    #[serde(default = "enabled")]
    enabled: bool,
    #[serde(rename = "match")]
    match_text: Option<Spanned<String>>,
    match_hex: Option<Spanned<String>>,
    match_regex: Option<Spanned<String>>,
    reply: Option<Spanned<String>>,
    reply_hex: Option<Spanned<String>>,
    checksum: Option<Spanned<Checksum>>,
    delay_ms: Option<Spanned<u64>>,
    direction: Option<Spanned<Direction>>,
    action: Option<Spanned<Action>>,
}

/// Why a rules file (or a rule typed in the window) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error(transparent)]
    NotUtf8(#[from] NotUtf8),
    #[error("{at}: {message}")]
    Syntax { at: Location, message: String },
    #[error("{at}: rule {number}{}: `{key}`: {problem}", name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default())]
    Rule {
        at: Location,
        /// 1-based, in file order.
        number: usize,
        name: Option<String>,
        key: &'static str,
        problem: Problem,
    },
}

impl RulesError {
    /// Where in the file the problem is.
    pub fn at(&self) -> Location {
        match self {
            RulesError::NotUtf8(error) => error.at,
            RulesError::Syntax { at, .. } | RulesError::Rule { at, .. } => *at,
        }
    }
}

/// Why a rule that matched could not answer (the rest of the session goes on).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rule {rule}: {problem}")]
pub struct ReplyError {
    /// The rule's index in the list (its hit is counted all the same).
    pub index: usize,
    pub rule: String,
    pub problem: ReplyProblem,
}

#[derive(Debug, Clone)]
enum Matcher {
    Contains(Vec<u8>),
    /// `None` is `??`: any byte. Empty (the built-in echo only): every message.
    HexPrefix(Vec<Option<u8>>),
    Regex(regex::Regex),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Byte(u8),
    Group(usize),
    Var(Var),
}

#[derive(Debug, Clone)]
enum Reply {
    Template(Vec<Piece>),
    Bytes(Vec<u8>),
    /// The message itself (the built-in echo).
    Echo,
}

#[derive(Debug, Clone)]
pub struct Rule {
    spec: RuleSpec,
    matcher: Matcher,
    reply: Reply,
    hits: u64,
    /// The command line's `--echo`: not in the file, not exported, its replies not reported as sent.
    builtin: bool,
}

/// A rule's answer to one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The rule's index in the list.
    pub rule: usize,
    /// Shared, so a reply goes to the send queue without another copy.
    pub bytes: std::sync::Arc<[u8]>,
    pub delay: Duration,
    /// From the built-in echo: `--echo`'s bytes are sent without a `Sent` report, as before rules existed.
    pub quiet: bool,
    /// What a relay does with `bytes` (`Drop`: nothing; `Delay`: they are the message, forwarded after `delay`).
    pub action: Action,
}

/// What a reply may name besides the message.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    pub peer: SocketAddr,
    pub time: chrono::DateTime<chrono::Local>,
}

/// The rules of one session, compiled for its encoding.
#[derive(Debug, Clone)]
pub struct Rules {
    encoding: TextEncoding,
    rules: Vec<Rule>,
    index: Index,
}

/// Finds the first matching rule without trying each in turn: one automaton for every `match` text, hex
/// prefixes bucketed by their first byte, one regex set. A thousand rules cost a message about what one does.
/// Regexes that cannot share a set are tried in turn instead: slower, but every rule still answers.
#[derive(Debug, Clone, Default)]
struct Index {
    /// `None` when the automaton could not be built (past its size limits): each `match` text is looked for in
    /// turn instead, in rule order.
    contains: Option<aho_corasick::AhoCorasick>,
    /// Rule index of each automaton pattern.
    contains_rule: Vec<usize>,
    /// By a message's first byte: the hex-prefix rules that may match it, in rule order.
    prefix_by_first: Vec<Vec<usize>>,
    /// Every enabled hex-prefix rule (for an empty message).
    prefix_all: Vec<usize>,
    /// `None` when the set could not be built though each regex compiled alone: the size limit applies to the
    /// set's one program, all patterns together (`^A\w{200}` and `^B\w{200}` fit alone, not together). Then each
    /// rule's own regex is tried in rule order.
    regexes: Option<regex::RegexSet>,
    regex_rule: Vec<usize>,
}

impl Index {
    fn build(rules: &[Rule]) -> Index {
        let mut index = Index {
            prefix_by_first: vec![Vec::new(); 256],
            ..Index::default()
        };
        let mut needles = Vec::new();
        let mut patterns = Vec::new();
        for (at, rule) in rules.iter().enumerate().filter(|(_, rule)| rule.spec.enabled) {
            match &rule.matcher {
                Matcher::Contains(needle) => {
                    needles.push(needle.as_slice());
                    index.contains_rule.push(at);
                }
                Matcher::HexPrefix(pattern) => {
                    index.prefix_all.push(at);
                    match pattern.first().copied().flatten() {
                        Some(first) => index.prefix_by_first[usize::from(first)].push(at),
                        None => index.prefix_by_first.iter_mut().for_each(|bucket| bucket.push(at)),
                    }
                }
                Matcher::Regex(regex) => {
                    patterns.push(regex.as_str());
                    index.regex_rule.push(at);
                }
            }
        }
        if !needles.is_empty() {
            // A DFA: a few bytes of table per pattern byte buy the fastest scan of every message. It fails only
            // past aho-corasick's state-ID limit (2^31 table entries, gigabytes of `match` text).
            index.contains = aho_corasick::AhoCorasick::builder()
                .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                .build(needles)
                .ok();
        }
        if !patterns.is_empty() {
            // Its only error is the size limit (each pattern compiled alone in `compile`).
            index.regexes = regex::RegexSet::new(patterns).ok();
        }
        index
    }

    /// The first rule (lowest index) whose pattern matches; `text` decodes the message when a regex needs it.
    fn first_match<'t>(&self, rules: &[Rule], message: &[u8], text: &mut impl FnMut() -> &'t str) -> Option<usize> {
        let mut best = usize::MAX;
        // Most messages match no text at all: `is_match` says so with the automaton's fast scan; only a match
        // needs the slower walk over every overlapping one for the first rule's.
        match &self.contains {
            Some(automaton) if automaton.is_match(message) => {
                for found in automaton.find_overlapping_iter(message) {
                    best = best.min(self.contains_rule[found.pattern().as_usize()]);
                }
            }
            Some(_) => {}
            None => {
                let found = self.contains_rule.iter().copied().find(
                    |&at| matches!(&rules[at].matcher, Matcher::Contains(needle) if find_bytes(message, needle).is_some()),
                );
                best = found.unwrap_or(best);
            }
        }
        let candidates = match message.first() {
            Some(&first) => &self.prefix_by_first[usize::from(first)],
            None => &self.prefix_all,
        };
        for &at in candidates.iter().take_while(|&&at| at < best) {
            if let Matcher::HexPrefix(pattern) = &rules[at].matcher
                && message.len() >= pattern.len()
                && pattern
                    .iter()
                    .zip(message)
                    .all(|(want, got)| want.is_none_or(|b| b == *got))
            {
                best = at;
                break;
            }
        }
        if self.regex_rule.first().is_some_and(|&first| first < best) {
            let text = text();
            let found = match &self.regexes {
                Some(set) => set.matches(text).iter().next().map(|found| self.regex_rule[found]),
                None => self
                    .regex_rule
                    .iter()
                    .copied()
                    .take_while(|&at| at < best)
                    .find(|&at| matches!(&rules[at].matcher, Matcher::Regex(regex) if regex.is_match(text))),
            };
            if let Some(found) = found {
                best = best.min(found);
            }
        }
        (best != usize::MAX).then_some(best)
    }
}

/// The same rules: the same specs in the same order for the same encoding (hit counts aside).
impl PartialEq for Rules {
    fn eq(&self, other: &Rules) -> bool {
        self.encoding == other.encoding
            && self.rules.len() == other.rules.len()
            && self
                .rules
                .iter()
                .zip(&other.rules)
                .all(|(a, b)| a.spec == b.spec && a.builtin == b.builtin)
    }
}

impl Rules {
    /// Reads a rules file; refuses it whole at its first problem.
    pub fn parse(text: &str, encoding: TextEncoding) -> Result<Rules, RulesError> {
        let file: RulesFile = toml::from_str(text).map_err(|error| RulesError::Syntax {
            at: Location::of(text, error.span()),
            message: error.message().trim_end().to_owned(),
        })?;
        let rules = file
            .rule
            .into_iter()
            .enumerate()
            .map(|(index, rule)| {
                let span = rule.span();
                compile_spanned(rule.into_inner(), span, index + 1, text, encoding)
            })
            .collect::<Result<_, _>>()?;
        Ok(Rules::new(encoding, rules))
    }

    /// Rules edited in the window: the same checks, with the rule's number for a location.
    pub fn from_specs(specs: Vec<RuleSpec>, encoding: TextEncoding) -> Result<Rules, RulesError> {
        let rules = specs
            .into_iter()
            .enumerate()
            .map(|(index, spec)| {
                compile(spec, encoding).map_err(|(key, problem, name)| RulesError::Rule {
                    at: Location {
                        line: index + 1,
                        column: 1,
                    },
                    number: index + 1,
                    name,
                    key,
                    problem,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Rules::new(encoding, rules))
    }

    fn new(encoding: TextEncoding, rules: Vec<Rule>) -> Rules {
        Rules {
            encoding,
            index: Index::build(&rules),
            rules,
        }
    }

    /// No rules at all, for a session that only echoes.
    pub fn none(encoding: TextEncoding) -> Rules {
        Rules::new(encoding, Vec::new())
    }

    /// These rules and, last, `--echo`: every message no rule answered goes back to its sender as it came.
    pub fn with_echo(mut self) -> Rules {
        self.rules.push(Rule {
            spec: RuleSpec {
                name: Some("echo".into()),
                enabled: true,
                match_hex: Some(String::new()),
                ..RuleSpec::default()
            },
            matcher: Matcher::HexPrefix(Vec::new()),
            reply: Reply::Echo,
            hits: 0,
            builtin: true,
        });
        Rules::new(self.encoding, self.rules)
    }

    /// The rules a relay applies to what goes to the upstream (`true`) or to a client: those of that direction and
    /// of both, in their order.
    pub fn towards(&self, upstream: bool) -> Rules {
        let rules = self.rules.iter().filter(|rule| rule.spec.direction.takes(upstream));
        Rules::new(self.encoding, rules.cloned().collect())
    }

    /// For a session that does not pass messages on: the first rule with a relay's `direction` or an action other
    /// than reply, refused (it would silently do something else there).
    pub fn refuse_forwarding(&self) -> Result<(), RulesError> {
        let Some(index) = self.first_forwarding_rule() else {
            return Ok(());
        };
        let spec = &self.rules[index].spec;
        Err(RulesError::Rule {
            at: Location { line: 1, column: 1 },
            number: index + 1,
            name: spec.name.clone(),
            key: if spec.direction == Direction::Both {
                "action"
            } else {
                "direction"
            },
            problem: Problem::OnlyInRelay,
        })
    }

    /// The first rule (from 0) with a relay's `direction` or an action other than reply: only a relay follows them.
    pub fn first_forwarding_rule(&self) -> Option<usize> {
        self.rules
            .iter()
            .position(|rule| rule.spec.direction != Direction::Both || rule.spec.action != Action::Reply)
    }

    /// The file that reads back to these rules (the built-in echo is not part of it).
    pub fn to_toml(&self) -> String {
        let specs: Vec<&RuleSpec> = self
            .rules
            .iter()
            .filter(|rule| !rule.builtin)
            .map(|rule| &rule.spec)
            .collect();
        specs_to_toml(&specs)
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Each rule's spec and how many messages it answered, for the rules table.
    pub fn table(&self) -> impl Iterator<Item = (&RuleSpec, u64)> {
        self.rules.iter().map(|rule| (&rule.spec, rule.hits))
    }

    /// The answer of the first enabled rule that matches `message` (`text` is the message decoded in the session's
    /// encoding, needed by regex rules only; `None` decodes it here when one needs it).
    pub fn answer(
        &mut self,
        message: &[u8],
        text: Option<&str>,
        context: Context,
    ) -> Option<Result<Answer, ReplyError>> {
        self.answer_with(message, text, || context)
    }

    /// `answer`, asking for the context only once a rule matched (the clock is not read for every message).
    pub fn answer_with(
        &mut self,
        message: &[u8],
        text: Option<&str>,
        context: impl FnOnce() -> Context,
    ) -> Option<Result<Answer, ReplyError>> {
        let encoding = self.encoding;
        let decoded = std::cell::OnceCell::new();
        let mut text = || text.unwrap_or_else(|| decoded.get_or_init(|| encoding.decode_all(message)).as_str());
        let index = self.index.first_match(&self.rules, message, &mut text)?;
        let rule = &mut self.rules[index];
        rule.hits += 1;
        let needs_context = matches!(&rule.reply, Reply::Template(pieces)
            if pieces.iter().any(|piece| matches!(piece, Piece::Var(Var::Peer | Var::Time))));
        let context = needs_context.then(context);
        let bytes = match (&rule.reply, &rule.matcher) {
            (Reply::Echo, _) => Ok(std::sync::Arc::from(message)),
            (Reply::Bytes(bytes), _) => Ok(with_checksum(bytes.clone(), rule.spec.checksum).into()),
            (Reply::Template(pieces), Matcher::Regex(regex)) => {
                let haystack = text();
                let groups: Vec<Option<Range<usize>>> = regex
                    .captures(haystack)
                    .map(|captures| captures.iter().map(|group| group.map(|g| g.range())).collect())
                    .unwrap_or_default();
                fill(pieces, &groups, haystack, rule.hits, context, encoding)
                    .map(|bytes| with_checksum(bytes, rule.spec.checksum).into())
            }
            (Reply::Template(pieces), _) => fill(pieces, &[], "", rule.hits, context, encoding)
                .map(|bytes| with_checksum(bytes, rule.spec.checksum).into()),
        };
        let answer = bytes
            .map(|bytes| Answer {
                rule: index,
                bytes,
                delay: Duration::from_millis(rule.spec.delay_ms),
                quiet: rule.builtin,
                action: rule.spec.action,
            })
            .map_err(|problem| ReplyError {
                index,
                rule: rule.spec.name.clone().unwrap_or_else(|| (index + 1).to_string()),
                problem,
            });
        Some(answer)
    }
}

/// The rules file of these rules as written (what the window exports).
pub fn specs_to_toml<S: std::borrow::Borrow<RuleSpec>>(specs: &[S]) -> String {
    #[derive(serde::Serialize)]
    struct Out<'a> {
        rule: Vec<&'a RuleSpec>,
    }
    let out = Out {
        rule: specs.iter().map(|spec| spec.borrow()).collect(),
    };
    toml::to_string(&out).unwrap_or_default()
}

fn with_checksum(mut bytes: Vec<u8>, checksum: Option<Checksum>) -> Vec<u8> {
    if let Some(checksum) = checksum {
        checksum.append_to(&mut bytes);
    }
    bytes
}

fn fill(
    pieces: &[Piece],
    groups: &[Option<Range<usize>>],
    haystack: &str,
    count: u64,
    context: Option<Context>,
    encoding: TextEncoding,
) -> Result<Vec<u8>, ReplyProblem> {
    let mut out = Vec::new();
    let mut text = String::new();
    // `answer_with` asked for the context when a reply names one.
    let peer = context.map(|c| c.peer.to_string()).unwrap_or_default();
    let values = Values {
        seq: count.saturating_sub(1),
        conn: 0,
        count,
        peer: &peer,
    };
    let flush = |text: &mut String, out: &mut Vec<u8>| -> Result<(), ReplyProblem> {
        out.extend(encoding.encode(text).map_err(ReplyProblem::Encode)?);
        text.clear();
        Ok(())
    };
    for piece in pieces {
        match piece {
            Piece::Text(literal) => text.push_str(literal),
            Piece::Group(n) => {
                if let Some(Some(range)) = groups.get(*n) {
                    text.push_str(&haystack[range.clone()]);
                }
            }
            Piece::Var(Var::Time) => text.push_str(&context.map(|c| clock(c.time)).unwrap_or_default()),
            Piece::Var(var @ Var::Rand(_)) => {
                flush(&mut text, &mut out)?;
                var.write(&values, &mut out);
            }
            // Text, so it is encoded as the rest of the reply is.
            Piece::Var(var) => {
                let mut ascii = Vec::new();
                var.write(&values, &mut ascii);
                text.push_str(&String::from_utf8_lossy(&ascii));
            }
            Piece::Byte(byte) => {
                flush(&mut text, &mut out)?;
                out.push(*byte);
            }
        }
    }
    flush(&mut text, &mut out)?;
    Ok(out)
}

/// A rule refused: the key at fault, why, and the rule's name.
type Refusal = (&'static str, Problem, Option<String>);

/// Checks one rule as written in a file: a problem names where its value is.
fn compile_spanned(
    rule: SpannedRule,
    span: Range<usize>,
    number: usize,
    text: &str,
    encoding: TextEncoding,
) -> Result<Rule, RulesError> {
    let value_span = |key: &str| -> Range<usize> {
        let field = match key {
            "match" => rule.match_text.as_ref().map(Spanned::span),
            "match_hex" => rule.match_hex.as_ref().map(Spanned::span),
            "match_regex" => rule.match_regex.as_ref().map(Spanned::span),
            "reply" => rule.reply.as_ref().map(Spanned::span),
            "reply_hex" => rule.reply_hex.as_ref().map(Spanned::span),
            "delay_ms" => rule.delay_ms.as_ref().map(Spanned::span),
            "action" => rule.action.as_ref().map(Spanned::span),
            _ => None,
        };
        field.unwrap_or_else(|| span.clone())
    };
    let inner = |value: &Option<Spanned<String>>| value.as_ref().map(|v| v.get_ref().clone());
    let spec = RuleSpec {
        name: inner(&rule.name),
        enabled: rule.enabled,
        match_text: inner(&rule.match_text),
        match_hex: inner(&rule.match_hex),
        match_regex: inner(&rule.match_regex),
        reply: inner(&rule.reply),
        reply_hex: inner(&rule.reply_hex),
        checksum: rule.checksum.as_ref().map(|c| *c.get_ref()),
        delay_ms: rule.delay_ms.as_ref().map_or(0, |d| *d.get_ref()),
        direction: rule.direction.as_ref().map(|d| *d.get_ref()).unwrap_or_default(),
        action: rule.action.as_ref().map(|a| *a.get_ref()).unwrap_or_default(),
    };
    compile(spec, encoding).map_err(|(key, problem, name)| RulesError::Rule {
        at: Location::of(text, Some(value_span(key))),
        number,
        name,
        key,
        problem,
    })
}

fn compile(spec: RuleSpec, encoding: TextEncoding) -> Result<Rule, Refusal> {
    let name = spec.name.clone();
    let problem = |key: &'static str, why: Problem| (key, why, name.clone());
    let matcher = match (&spec.match_text, &spec.match_hex, &spec.match_regex) {
        (Some(text), None, None) => {
            let needle = encode_escaped(text, encoding).map_err(|e| problem("match", e))?;
            if needle.is_empty() {
                return Err(problem("match", Problem::MatchesEverything));
            }
            Matcher::Contains(needle)
        }
        (None, Some(hex), None) => Matcher::HexPrefix(parse_wildcard_hex(hex).map_err(|e| problem("match_hex", e))?),
        (None, None, Some(pattern)) => {
            Matcher::Regex(compile_regex(pattern, Problem::MatchesEverything).map_err(|e| problem("match_regex", e))?)
        }
        (None, None, None) => {
            return Err(problem("match", Problem::NoPattern));
        }
        _ => {
            return Err(problem("match", Problem::SeveralPatterns));
        }
    };
    let groups = match &matcher {
        Matcher::Regex(regex) => regex.captures_len() - 1,
        _ => 0,
    };
    let reply = match (&spec.reply, &spec.reply_hex) {
        (Some(template), None) => {
            Reply::Template(parse_template(template, groups, encoding).map_err(|e| problem("reply", e))?)
        }
        (None, Some(hex)) => Reply::Bytes(parse_hex(hex).map_err(|e| problem("reply_hex", e.into()))?),
        // Forwarding the message later needs no reply; dropping it sends nothing.
        (None, None) if spec.action == Action::Delay => Reply::Echo,
        (None, None) if spec.action == Action::Drop => Reply::Bytes(Vec::new()),
        (None, None) if spec.action == Action::Rewrite => return Err(problem("action", Problem::RewriteWithoutReply)),
        (None, None) => return Err(problem("reply", Problem::NoReply)),
        (Some(_), Some(_)) => return Err(problem("reply", Problem::BothReplies)),
    };
    if spec.delay_ms > MAX_DELAY_MS {
        let ms = spec.delay_ms;
        return Err(problem("delay_ms", Problem::DelayTooLong { ms, max: MAX_DELAY_MS }));
    }
    Ok(Rule {
        spec,
        matcher,
        reply,
        hits: 0,
        builtin: false,
    })
}

/// "01 03 ?? ??": bytes, `??` for any byte.
fn parse_wildcard_hex(text: &str) -> Result<Vec<Option<u8>>, Problem> {
    let mut pattern = Vec::new();
    let mut position = 1;
    for token in text.split(' ') {
        if token == "??" {
            pattern.push(None);
        } else {
            let bytes = parse_hex(token).map_err(|e| within_value(e, position))?;
            pattern.extend(bytes.into_iter().map(Some));
        }
        position += token.chars().count() + 1;
    }
    if pattern.is_empty() {
        return Err(Problem::MatchesEverything);
    }
    Ok(pattern)
}

/// A hex error's position is within its token; the user needs it within the whole value.
fn within_value(error: HexError, token_start: usize) -> HexError {
    let shift = |position: usize| position + token_start - 1;
    match error {
        HexError::BadDigit { position, ch } => HexError::BadDigit {
            position: shift(position),
            ch,
        },
        HexError::OddDigits { position, token } => HexError::OddDigits {
            position: shift(position),
            token,
        },
    }
}

/// Splits a reply into literal text, escaped bytes and placeholders; refuses what the encoding cannot carry now,
/// not when the rule fires.
fn parse_template(template: &str, groups: usize, encoding: TextEncoding) -> Result<Vec<Piece>, Problem> {
    let mut pieces = Vec::new();
    for segment in unescape(template)? {
        let text = match segment {
            Segment::Byte(byte) => {
                pieces.push(Piece::Byte(byte));
                continue;
            }
            Segment::Text(text) => text,
        };
        let mut literal = String::new();
        let mut rest = text.as_str();
        while let Some(ch) = rest.chars().next() {
            let placeholder = if let Some(after) = rest.strip_prefix("$$") {
                literal.push('$');
                rest = after;
                continue;
            } else if let Some(digit) = rest
                .strip_prefix('$')
                .and_then(|r| r.chars().next())
                .and_then(|c| c.to_digit(10))
                && digit >= 1
            {
                let n = digit as usize;
                if n > groups {
                    return Err(Problem::NoSuchGroup { group: n, groups });
                }
                rest = &rest[2..];
                Piece::Group(n)
            } else if let Some((_, len)) = rest.strip_prefix('{').and_then(leading_var)
                && rest[1 + len..].starts_with('}')
            {
                // `{{seq}}` is the text `{seq}`.
                literal.push_str(&rest[1..=len]);
                rest = &rest[len + 2..];
                continue;
            } else if let Some((var, len)) = leading_var(rest) {
                rest = &rest[len..];
                Piece::Var(var)
            } else {
                literal.push(ch);
                rest = &rest[ch.len_utf8()..];
                continue;
            };
            if !literal.is_empty() {
                encoding.encode(&literal)?;
                pieces.push(Piece::Text(std::mem::take(&mut literal)));
            }
            pieces.push(placeholder);
        }
        if !literal.is_empty() {
            encoding.encode(&literal)?;
            pieces.push(Piece::Text(literal));
        }
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gbk() -> TextEncoding {
        TextEncoding::from_name("GBK").expect("GBK")
    }

    fn utf8() -> TextEncoding {
        TextEncoding::from_name("UTF-8").expect("UTF-8")
    }

    fn context() -> Context {
        Context {
            peer: "127.0.0.1:5000".parse().expect("addr"),
            time: chrono::Local::now(),
        }
    }

    fn reply(rules: &mut Rules, message: &[u8]) -> Option<Vec<u8>> {
        rules
            .answer(message, None, context())
            .map(|answer| answer.expect("encodable").bytes.to_vec())
    }

    #[test]
    fn text_rules_match_in_the_session_encoding() {
        let mut rules = Rules::parse("[[rule]]\nmatch = \"你好\"\nreply = \"再见\\r\\n\"\n", gbk()).expect("rules");
        let hello = gbk().encode("说你好吗").expect("gbk");
        assert_eq!(reply(&mut rules, &hello), Some(gbk().encode("再见\r\n").expect("gbk")));
        // The UTF-8 bytes of 你好 are not GBK's.
        assert_eq!(reply(&mut rules, "你好".as_bytes()), None);
    }

    #[test]
    fn the_first_enabled_match_wins_and_counts_its_hits() {
        let file = r#"
[[rule]]
name = "off"
enabled = false
match = "PING"
reply = "no"
[[rule]]
name = "ping"
match = "PING"
reply = "PONG {count}"
[[rule]]
match = "P"
reply = "later"
"#;
        let mut rules = Rules::parse(file, utf8()).expect("rules");
        assert_eq!(reply(&mut rules, b"xPINGx"), Some(b"PONG 1".to_vec()));
        assert_eq!(reply(&mut rules, b"PING"), Some(b"PONG 2".to_vec()));
        assert_eq!(reply(&mut rules, b"P"), Some(b"later".to_vec()));
        assert_eq!(reply(&mut rules, b"nothing"), None);
        let hits: Vec<u64> = rules.table().map(|(_, hits)| hits).collect();
        assert_eq!(hits, [0, 2, 1]);
    }

    /// The index finds the first rule in file order whatever kind each is, and the built-in echo comes last.
    #[test]
    fn the_first_rule_wins_across_kinds_and_echo_comes_last() {
        let file = r#"
[[rule]]
match_regex = '^R'
reply = "regex"
[[rule]]
match_hex = "52 ?? 58"
reply = "hex"
[[rule]]
match = "X"
reply = "text"
[[rule]]
match_hex = "?? 59"
reply = "wild"
"#;
        let mut rules = Rules::parse(file, utf8()).expect("rules").with_echo();
        let cases: [(&[u8], &[u8]); 6] = [
            (b"RAX", b"regex"),
            (b" RAX", b"text"),
            (b"ZX", b"text"),
            (b"ZY", b"wild"),
            (b"Y", b"Y"),
            (b"", b""),
        ];
        for (message, reply) in cases {
            let answer = rules
                .answer(message, None, context())
                .expect("echo answers all")
                .expect("encodable");
            assert_eq!(*answer.bytes, *reply, "{message:?}");
            assert_eq!(answer.quiet, answer.rule == 4, "{message:?}");
        }
        let hits: Vec<u64> = rules.table().map(|(_, hits)| hits).collect();
        assert_eq!(hits, [1, 0, 2, 1, 2]);
        assert!(!rules.to_toml().contains("echo"), "the built-in echo is not exported");
    }

    #[test]
    fn hex_prefixes_take_wildcards_and_replies_take_checksums() {
        let file =
            "[[rule]]\nmatch_hex = \"01 03 ?? ??\"\nreply_hex = \"01 03 02 00 2A\"\nchecksum = \"crc16-modbus\"\n";
        let mut rules = Rules::parse(file, utf8()).expect("rules");
        let answer = reply(&mut rules, &[0x01, 0x03, 0x00, 0x10, 0x00, 0x01]).expect("a match");
        let mut expected = vec![0x01, 0x03, 0x02, 0x00, 0x2A];
        expected.extend(Checksum::Crc16Modbus.compute(&expected));
        assert_eq!(answer, expected);
        assert_eq!(reply(&mut rules, &[0x01, 0x04, 0x00, 0x10]), None);
        assert_eq!(reply(&mut rules, &[0x01, 0x03, 0x00]), None, "shorter than the prefix");
    }

    #[test]
    fn regex_groups_and_placeholders_fill_the_reply() {
        let file = r#"
[[rule]]
match_regex = '^GET (\S+) (\d+)'
reply = "got $1 #$2 from {peer}, $$5\x00"
delay_ms = 250
"#;
        let mut rules = Rules::parse(file, utf8()).expect("rules");
        let answer = rules
            .answer(b"GET /index 7\r\n", None, context())
            .expect("match")
            .expect("encodable");
        assert_eq!(*answer.bytes, *b"got /index #7 from 127.0.0.1:5000, $5\x00");
        assert_eq!(answer.delay, Duration::from_millis(250));
    }

    #[test]
    fn regex_rules_see_the_text_in_the_session_encoding() {
        let file = "[[rule]]\nmatch_regex = '名字:(\\w+)'\nreply = \"你好,$1!\"\n";
        let mut rules = Rules::parse(file, gbk()).expect("rules");
        let message = gbk().encode("名字:小明").expect("gbk");
        assert_eq!(
            reply(&mut rules, &message),
            Some(gbk().encode("你好,小明!").expect("gbk"))
        );
    }

    #[test]
    fn time_is_filled_in() {
        let mut rules = Rules::parse("[[rule]]\nmatch = \"t\"\nreply = \"{time}\"\n", utf8()).expect("rules");
        let context = context();
        let answer = rules.answer(b"t", None, context).expect("match").expect("encodable");
        assert_eq!(
            answer.bytes.to_vec(),
            context.time.format("%H:%M:%S%.3f").to_string().into_bytes()
        );
    }

    /// Rule replies take the variables of `crate::vars`; braces that name none stay as written (JSON replies of
    /// existing files), and `{{seq}}` is the text `{seq}`.
    #[test]
    fn replies_fill_in_the_shared_variables_and_keep_other_braces() {
        let file = "[[rule]]\nmatch = \"q\"\nreply = '#{seq}/{count} {{seq}} {\"a\":{\"b\":1}} {peer}|{rand:3}'\n";
        let mut rules = Rules::parse(file, utf8()).expect("rules");
        for n in 0..2 {
            let answer = reply(&mut rules, b"q").expect("a reply");
            let want = format!("#{n}/{} {{seq}} {{\"a\":{{\"b\":1}}}} 127.0.0.1:5000|", n + 1);
            assert_eq!(&answer[..want.len()], want.as_bytes());
            assert_eq!(answer.len(), want.len() + 3, "three random bytes");
        }
    }

    /// Issue 22.2: an empty regex matches every message, as an empty text would: both are refused.
    #[test]
    fn an_empty_match_of_any_kind_is_refused() {
        for (key, line) in [
            ("match", "match = \"\""),
            ("match_hex", "match_hex = \"\""),
            ("match_regex", "match_regex = ''"),
        ] {
            let file = format!("[[rule]]\n{line}\nreply = \"x\"\n");
            let error = Rules::parse(&file, utf8()).expect_err(key);
            assert!(
                matches!(&error, RulesError::Rule { key: k, problem: Problem::MatchesEverything, .. } if *k == key),
                "{error}"
            );
            assert!(
                error.to_string().ends_with("empty: it would match every message"),
                "{error}"
            );
        }
    }

    #[test]
    fn problems_name_the_line_column_rule_and_key() {
        let error = |file: &str| Rules::parse(file, gbk()).expect_err(file).to_string();
        assert_eq!(
            error(
                "[[rule]]\nmatch = \"a\"\nreply = \"b\"\n\n[[rule]]\nname = \"modbus\"\nmatch_hex = \"01 0G\"\nreply = \"x\"\n"
            ),
            "line 7, column 13: rule 2 (modbus): `match_hex`: bad hex digit 'G' at position 5"
        );
        assert_eq!(
            error("[[rule]]\nmatch_regex = \"a(\"\nreply = \"b\"\n"),
            "line 2, column 15: rule 1: `match_regex`: the regex does not compile: unclosed group"
        );
        assert_eq!(
            error("[[rule]]\nmatch = \"a\"\nreply = \"😀\"\n"),
            "line 3, column 9: rule 1: `reply`: '😀' at position 1 cannot be encoded in gbk"
        );
        assert!(error("[[rule]]\nmatc = \"a\"\n").starts_with("line 2, column 1: unknown field `matc`"));
        assert!(error("[[rule]\n").starts_with("line 1, column"));
        assert_eq!(
            error("[[rule]]\nmatch = \"a\"\nreply = \"$1\"\n"),
            "line 3, column 9: rule 1: `reply`: $1 names a regex group, but this rule has no regex groups (write $$ \
             for a dollar sign)"
        );
        assert_eq!(
            error("[[rule]]\nmatch = \"a\"\nmatch_hex = \"01\"\nreply = \"b\"\n"),
            "line 2, column 9: rule 1: `match`: more than one of match, match_hex and match_regex"
        );
        assert_eq!(
            error("[[rule]]\nmatch = \"a\"\n"),
            "line 1, column 1: rule 1: `reply`: no reply: give reply or reply_hex"
        );
        assert_eq!(
            error("[[rule]]\nmatch = \"a\"\nreply = \"b\"\ndelay_ms = 3600001\n"),
            "line 4, column 12: rule 1: `delay_ms`: 3600001 ms is more than an hour (3600000)"
        );
        assert!(Rules::parse("[[rule]]\nmatch = \"a\"\nreply = \"b\"\ndelay_ms = 3600000\n", gbk()).is_ok());
        assert_eq!(
            error("[[rule]]\nmatch = \"a\"\nreply_hex = \"0\"\n[[rule]]\nmatch = \"a\"\nreply_hex = \"123\"\n"),
            "line 6, column 13: rule 2: `reply_hex`: odd number of hex digits in \"123\" at position 1"
        );
        assert_eq!(
            error("[[rule]]\nreply = \"b\"\n"),
            "line 1, column 1: rule 1: `match`: no pattern: give one of match, match_hex or match_regex"
        );
        assert_eq!(
            error("[[rule]]\nmatch_regex = '(a)'\nreply = \"$1$2\"\n"),
            "line 3, column 9: rule 1: `reply`: $2 names a regex group, but the regex has only 1 (write $$ for a \
             dollar sign)"
        );
        assert!(error("[[rule]]\nmatch = \"a\"\nreply = \"b\"\ndelay_ms = -1\n").starts_with("line 4"));
        assert!(error("[[rule]]\nmatch = \"a\"\nreply = \"b\"\nchecksum = \"crc99\"\n").starts_with("line 4"));
    }

    #[test]
    fn a_file_exports_to_what_it_reads_back() {
        let file = r#"
[[rule]]
name = "ping"
match = "PING"
reply = "PONG\r\n"
[[rule]]
enabled = false
match_hex = "01 ?? 02"
reply_hex = "06"
checksum = "xor8"
delay_ms = 5
"#;
        let rules = Rules::parse(file, utf8()).expect("rules");
        let again = Rules::parse(&rules.to_toml(), utf8()).expect("exported rules parse");
        let specs = |rules: &Rules| rules.table().map(|(spec, _)| spec.clone()).collect::<Vec<_>>();
        assert_eq!(specs(&again), specs(&rules));
        assert_eq!(specs(&rules)[1].checksum, Some(Checksum::Xor8));
        // Defaults are left out, as a user would write the file.
        let exported = rules.to_toml();
        assert_eq!(exported.matches("enabled").count(), 1, "{exported}");
        assert!(!exported.contains("delay_ms = 0"), "{exported}");
        assert_eq!((rules.len(), rules.is_empty()), (2, false));
        let none = Rules::parse("", utf8()).expect("an empty file");
        assert_eq!((none.len(), none.is_empty()), (0, true));
    }

    #[test]
    fn a_reply_the_encoding_cannot_carry_is_an_error_naming_the_rule() {
        let file =
            "[[rule]]\nname = \"x\"\nmatch = \"x\"\nreply = \"y\"\n[[rule]]\nmatch_regex = '(.+)'\nreply = \"$1\"\n";
        let mut rules = Rules::parse(file, gbk()).expect("rules");
        // 0xFF is no GBK: it decodes to U+FFFD, which GBK cannot encode back.
        let error = rules
            .answer(b"\xFF", None, context())
            .expect("a match")
            .expect_err("unencodable");
        assert_eq!(error.rule, "2");
        assert!(
            error.to_string().starts_with("rule 2: cannot encode its reply: "),
            "{error}"
        );
    }

    /// Each regex compiles alone, but all of them together are over the regex crate's size limit for one set: the
    /// rules still answer, each tried in turn, in file order.
    #[test]
    fn regexes_too_big_for_one_set_still_answer() {
        let file = r#"
[[rule]]
match_regex = '^A\w{200}'
reply = "a"
[[rule]]
match_regex = '^B\w{200}'
reply = "b"
[[rule]]
match = "PONG"
reply = "text"
[[rule]]
match_regex = '^PING'
reply = "PONG"
"#;
        let patterns = [r"^A\w{200}", r"^B\w{200}", "^PING"];
        assert!(
            regex::RegexSet::new(patterns).is_err(),
            "this test needs a set over the size limit"
        );
        let mut rules = Rules::parse(file, utf8()).expect("each regex compiles");
        assert_eq!(reply(&mut rules, b"PING"), Some(b"PONG".to_vec()));
        assert_eq!(
            reply(&mut rules, format!("B{}", "x".repeat(200)).as_bytes()),
            Some(b"b".to_vec())
        );
        assert_eq!(
            reply(&mut rules, format!("A{}", "x".repeat(200)).as_bytes()),
            Some(b"a".to_vec())
        );
        assert_eq!(
            reply(&mut rules, b"PING PONG"),
            Some(b"text".to_vec()),
            "file order across kinds"
        );
        assert_eq!(reply(&mut rules, b"A short"), None);
        let hits: Vec<u64> = rules.table().map(|(_, hits)| hits).collect();
        assert_eq!(hits, [1, 1, 1, 1]);
    }

    /// The `match` automaton can fail to build (past its size limits, gigabytes of text, too big for a test): the
    /// texts are then looked for one by one, and the first rule in file order still wins.
    #[test]
    fn match_texts_without_their_automaton_still_answer() {
        let file = r#"
[[rule]]
match = "PING"
reply = "ping"
[[rule]]
match_hex = "41"
reply = "hex"
[[rule]]
match = "A"
reply = "a"
"#;
        let mut rules = Rules::parse(file, utf8()).expect("rules");
        rules.index.contains = None;
        assert_eq!(reply(&mut rules, b"A PING"), Some(b"ping".to_vec()));
        assert_eq!(reply(&mut rules, b"A xx"), Some(b"hex".to_vec()));
        assert_eq!(reply(&mut rules, b"xx PING"), Some(b"ping".to_vec()));
        assert_eq!(reply(&mut rules, b"xx A PING"), Some(b"ping".to_vec()));
        assert_eq!(reply(&mut rules, b"xx A"), Some(b"a".to_vec()));
        assert_eq!(reply(&mut rules, b"nothing"), None);
    }

    #[test]
    fn specs_from_the_window_get_the_same_checks() {
        let spec = RuleSpec {
            match_text: Some("a".into()),
            reply: Some("b".into()),
            enabled: true,
            ..RuleSpec::default()
        };
        assert!(Rules::from_specs(vec![spec.clone()], utf8()).is_ok());
        let bad = RuleSpec {
            match_regex: Some("(".into()),
            match_text: None,
            ..spec
        };
        let error = Rules::from_specs(vec![bad], utf8()).expect_err("bad regex").to_string();
        assert!(error.starts_with("line 1, column 1: rule 1: `match_regex`"), "{error}");
    }
}
