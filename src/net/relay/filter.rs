//! A relay's rules at work: each leg's stream cut into messages (the session's framing), and each message
//! forwarded, rewritten, dropped, delayed or answered as the first rule of its direction that matches it says.
use std::net::SocketAddr;
use std::time::Instant;

use super::super::{AutoEvent, Bytes, EventKind};
use crate::automation::problem::ReplyProblem;
use crate::automation::rules::{Action, Context, Rules};
use crate::codec::framing::{End, Framer, Framing, LengthPrefix, Message};

pub(super) struct Filter {
    framing: Framing,
    to_upstream: Rules,
    to_client: Rules,
}

/// What becomes of one message.
pub(super) enum Verdict {
    /// These bytes go on to the other leg, once `Instant` has come.
    Forward(Bytes, Instant),
    /// These go back to the sender.
    Answer(Bytes, Instant),
    Nothing,
}

impl Filter {
    pub fn new(rules: &Rules, framing: Framing) -> Filter {
        Filter {
            framing,
            to_upstream: rules.towards(true),
            to_client: rules.towards(false),
        }
    }

    pub fn framer(&self) -> Framer {
        Framer::new(self.framing.clone())
    }

    /// What the first matching rule says of `message`, read from `peer` on its way to the upstream (`to_upstream`)
    /// or to a client. A rule that cannot make its bytes is reported (the event comes back) and the message goes on
    /// unchanged.
    pub fn verdict(
        &mut self,
        message: &Message,
        peer: SocketAddr,
        to_upstream: bool,
        now: Instant,
    ) -> (Verdict, Option<EventKind>) {
        let unchanged = || Verdict::Forward(Bytes::from(message.bytes.as_slice()), now);
        // A piece of a message too big to hold is passed on as it comes.
        if message.end == End::Part {
            return (unchanged(), None);
        }
        let rules = if to_upstream {
            &mut self.to_upstream
        } else {
            &mut self.to_client
        };
        let context = || Context {
            peer,
            time: chrono::Local::now(),
        };
        let answer = match rules.answer_with(&message.bytes, None, context) {
            None => return (unchanged(), None),
            Some(Ok(answer)) => answer,
            Some(Err(error)) => return (unchanged(), Some(failed(peer, error.index, error.problem))),
        };
        let due = now.checked_add(answer.delay).unwrap_or(now);
        let verdict = match answer.action {
            Action::Reply => Verdict::Answer(answer.bytes, due),
            Action::Drop => Verdict::Nothing,
            Action::Delay => Verdict::Forward(Bytes::from(message.bytes.as_slice()), due),
            Action::Rewrite => match framed(&self.framing, &answer.bytes) {
                Ok(bytes) => Verdict::Forward(bytes, now),
                Err(problem) => return (unchanged(), Some(failed(peer, answer.rule, problem))),
            },
        };
        (verdict, None)
    }
}

fn failed(peer: SocketAddr, rule: usize, problem: ReplyProblem) -> EventKind {
    EventKind::Automation(AutoEvent::RuleFailed { peer, rule, problem })
}

/// A rewrite as it goes on the wire: with a length-prefix framing the new body gets a length field of its own;
/// otherwise it is the whole message as written, delimiter included.
fn framed(framing: &Framing, body: &[u8]) -> Result<Bytes, ReplyProblem> {
    let Framing::Length(LengthPrefix {
        width,
        big_endian,
        counts_header,
    }) = *framing
    else {
        return Ok(Bytes::from(body));
    };
    let size = width.bytes();
    let length = body.len() + if counts_header { size } else { 0 };
    let fits = u32::try_from(length).ok().filter(|&n| size == 4 || n < 1 << (8 * size));
    let Some(length) = fits else {
        return Err(ReplyProblem::LengthField { length, size });
    };
    let mut out = Vec::with_capacity(size + body.len());
    if big_endian {
        out.extend_from_slice(&length.to_be_bytes()[4 - size..]);
    } else {
        out.extend_from_slice(&length.to_le_bytes()[..size]);
    }
    out.extend_from_slice(body);
    Ok(out.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::framing::Width;

    fn prefix(width: Width, big_endian: bool, counts_header: bool) -> Framing {
        Framing::Length(LengthPrefix {
            width,
            big_endian,
            counts_header,
        })
    }

    #[test]
    fn a_rewrite_gets_the_length_field_its_framing_says() {
        let body = [1, 2, 3];
        assert_eq!(
            &*framed(&prefix(Width::U16, true, false), &body).expect("fits"),
            [0, 3, 1, 2, 3]
        );
        assert_eq!(
            &*framed(&prefix(Width::U16, false, true), &body).expect("fits"),
            [5, 0, 1, 2, 3]
        );
        assert_eq!(
            &*framed(&prefix(Width::U32, true, false), &body).expect("fits"),
            [0, 0, 0, 3, 1, 2, 3]
        );
        assert_eq!(&*framed(&Framing::Line, b"new\n").expect("as is"), b"new\n");
        let error = framed(&prefix(Width::U8, true, true), &[0; 255]).expect_err("256 does not fit");
        assert_eq!(
            error.to_string(),
            "the rewrite's 256 bytes do not fit a 1-byte length field"
        );
    }
}
