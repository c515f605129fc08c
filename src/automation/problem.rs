//! What is wrong with a rule or a step, and why a rule that matched sent nothing, as values: the command line
//! prints their English words (below), the window names every variant in its own language (gui/i18n/errors.rs).
use crate::codec::text::TextError;
use crate::payload::PayloadError;

/// Why one value of a rule or a step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// An empty match (text, hex or regex).
    #[error("empty: it would match every message")]
    MatchesEverything,
    /// An empty expect.
    #[error("empty: it would match at once")]
    MatchesAtOnce,
    #[error("no pattern: give one of match, match_hex or match_regex")]
    NoPattern,
    #[error("more than one of match, match_hex and match_regex")]
    SeveralPatterns,
    #[error("no reply: give reply or reply_hex")]
    NoReply,
    #[error("both reply and reply_hex")]
    BothReplies,
    #[error("a rewrite needs reply or reply_hex: what to forward in place of the message")]
    RewriteWithoutReply,
    #[error("a direction or an action other than reply applies only in a relay")]
    OnlyInRelay,
    #[error("{ms} ms is more than an hour ({max})")]
    DelayTooLong { ms: u64, max: u64 },
    #[error("{ms} ms is more than a day ({max})")]
    WaitTooLong { ms: u64, max: u64 },
    /// The regex crate's own words (one line).
    #[error("the regex does not compile: {0}")]
    Regex(String),
    #[error("${group} names a regex group, but {} (write $$ for a dollar sign)", groups_named(*.groups))]
    NoSuchGroup { group: usize, groups: usize },
    #[error("nothing to do: give send, send_hex, expect, expect_hex, expect_regex or sleep_ms")]
    NoAction,
    #[error("more than one action in one step")]
    SeveralActions,
    #[error("only a send takes a checksum")]
    ChecksumWithoutSend,
    #[error("only an expect takes a timeout")]
    TimeoutWithoutExpect,
    /// Bad hex, a bad escape, or text the encoding cannot carry (boxed: the errors that carry a problem stay small).
    #[error(transparent)]
    Payload(Box<PayloadError>),
    /// A send's variables (the script's `vars = true`) do not parse.
    #[error(transparent)]
    Vars(Box<crate::vars::VarError>),
}

fn groups_named(groups: usize) -> String {
    match groups {
        0 => "this rule has no regex groups".to_owned(),
        g => format!("the regex has only {g}"),
    }
}

impl From<PayloadError> for Problem {
    fn from(error: PayloadError) -> Problem {
        Problem::Payload(Box::new(error))
    }
}

impl From<crate::codec::hex::HexError> for Problem {
    fn from(error: crate::codec::hex::HexError) -> Problem {
        PayloadError::from(error).into()
    }
}

impl From<crate::codec::escape::EscapeError> for Problem {
    fn from(error: crate::codec::escape::EscapeError) -> Problem {
        PayloadError::from(error).into()
    }
}

impl From<TextError> for Problem {
    fn from(error: TextError) -> Problem {
        PayloadError::from(error).into()
    }
}

/// Why a rule that matched sent nothing (the session goes on).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyProblem {
    /// Text a group or placeholder filled in that the encoding cannot carry.
    #[error("cannot encode its reply: {0}")]
    Encode(TextError),
    /// A relay's rewrite too long for the framing's length field.
    #[error("the rewrite's {length} bytes do not fit a {size}-byte length field")]
    LengthField { length: usize, size: usize },
}
