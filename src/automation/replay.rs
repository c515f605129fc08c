//! "Save this pair as a script": a relay's recorded conversation as a send/expect script that plays the client's
//! part against the server again. What the client sent becomes sends, what the server answered becomes expects,
//! in the order they happened (tcpreplay cannot do this: it replays packets, not a conversation).
use super::script::{EXPECT_WINDOW, ScriptSpec, StepSpec};
use crate::codec::escape::escape_controls;
use crate::codec::hex::to_hex;
use crate::codec::text::TextEncoding;

/// Who said a piece of the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaker {
    Client,
    Server,
}

/// An expect looks for this much of a long answer, its end: it waits only within `EXPECT_WINDOW` of the newest
/// bytes, and the end of an answer is what says it is complete.
const EXPECT_TAIL: usize = EXPECT_WINDOW / 2;

/// The script of a conversation: one step per turn (what one side said before the other spoke), as text in
/// `encoding` where it is text, else as hex, so it reads back to exactly the bytes that went.
pub fn replay_script<'a>(said: impl IntoIterator<Item = (Speaker, &'a [u8])>, encoding: TextEncoding) -> ScriptSpec {
    let mut turns: Vec<(Speaker, Vec<u8>)> = Vec::new();
    for (speaker, bytes) in said {
        match turns.last_mut() {
            _ if bytes.is_empty() => {}
            Some((last, turn)) if *last == speaker => turn.extend_from_slice(bytes),
            _ => turns.push((speaker, bytes.to_vec())),
        }
    }
    let steps = turns
        .iter()
        .map(|(speaker, bytes)| step(*speaker, bytes, encoding))
        .collect();
    ScriptSpec {
        repeat: 1,
        vars: false,
        steps,
    }
}

fn step(speaker: Speaker, bytes: &[u8], encoding: TextEncoding) -> StepSpec {
    let (text, hex) = match as_text(bytes, encoding) {
        Some(text) => (Some(text), None),
        None => (None, Some(to_hex(bytes))),
    };
    match speaker {
        Speaker::Client => StepSpec {
            send: text,
            send_hex: hex,
            ..StepSpec::default()
        },
        Speaker::Server if bytes.len() > EXPECT_TAIL => step(speaker, &bytes[bytes.len() - EXPECT_TAIL..], encoding),
        Speaker::Server => StepSpec {
            expect: text,
            expect_hex: hex,
            ..StepSpec::default()
        },
    }
}

/// `bytes` as a script's text (escapes read back: `\\`, `\r`, `\n`, `\t`, `\xHH`), when they are text in
/// `encoding`.
fn as_text(bytes: &[u8], encoding: TextEncoding) -> Option<String> {
    if !encoding.is_ascii_compatible() {
        return None;
    }
    let text = encoding.decode_exact(bytes)?;
    Some(escape_controls(&text.replace('\\', "\\\\")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::automation::script::{Pattern, Script, Step};

    /// What the script's steps send and expect, as bytes ("<" sent, ">" expected).
    fn played(spec: &ScriptSpec, encoding: TextEncoding) -> Vec<(char, Vec<u8>)> {
        let script = Script::from_spec(spec, encoding).expect("the script reads back");
        script
            .steps
            .iter()
            .map(|step| match step {
                Step::Send(payload) => {
                    let mut bytes = Vec::new();
                    payload.build(&crate::vars::Values::first(), &mut bytes);
                    ('<', bytes)
                }
                Step::Expect {
                    pattern: Pattern::Bytes(bytes),
                    ..
                } => ('>', bytes.clone()),
                other => panic!("unexpected step {other:?}"),
            })
            .collect()
    }

    #[test]
    fn what_the_client_sent_is_sent_and_what_the_server_answered_is_expected() {
        use Speaker::{Client, Server};
        let said: Vec<(Speaker, &[u8])> = vec![
            (Server, b"220 ready\r\n"),
            (Client, b"HELO a\\b\r\n"),
            (Client, b""),
            (Client, b"\x01\x02"),
            (Server, &[0xFF, 0x00, 0x80]),
            (Client, b"QUIT\n"),
            (Server, b"bye\t!"),
        ];
        let spec = replay_script(said, TextEncoding::UTF8);
        assert_eq!(
            played(&spec, TextEncoding::UTF8),
            [
                ('>', b"220 ready\r\n".to_vec()),
                // Turns of one side are one step: the client's two writes are one send.
                ('<', b"HELO a\\b\r\n\x01\x02".to_vec()),
                ('>', vec![0xFF, 0x00, 0x80]),
                ('<', b"QUIT\n".to_vec()),
                ('>', b"bye\t!".to_vec()),
            ]
        );
        assert_eq!(spec.steps[1].send.as_deref(), Some("HELO a\\\\b\\r\\n\\x01\\x02"));
        assert_eq!(spec.steps[2].expect_hex.as_deref(), Some("FF 00 80"));
        assert_eq!(spec.repeat, 1);
    }

    #[test]
    fn text_stays_text_in_its_encoding_and_a_long_answer_is_expected_by_its_end() {
        let gbk = TextEncoding::GBK;
        let hello = gbk.encode("你好\n").expect("GBK");
        let long: Vec<u8> = (0..EXPECT_TAIL + 10).map(|i| b'a' + (i % 26) as u8).collect();
        let spec = replay_script([(Speaker::Client, &hello[..]), (Speaker::Server, &long[..])], gbk);
        assert_eq!(spec.steps[0].send.as_deref(), Some("你好\\n"));
        assert_eq!(played(&spec, gbk), [('<', hello.clone()), ('>', long[10..].to_vec())]);
        assert!(replay_script([], gbk).steps.is_empty());
    }
}
