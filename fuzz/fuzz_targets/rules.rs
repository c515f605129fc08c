//! The rules file: any text parses or is refused with a line and column, never a panic; parsed rules answer any
//! message without panicking, and export to a file that parses back.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wirepad::automation::rules::{Context, Rules};
use wirepad::codec::text::TextEncoding;

fuzz_target!(|input: (&str, &[u8], bool)| {
    let (file, message, gbk) = input;
    let encoding = TextEncoding::from_name(if gbk { "GBK" } else { "UTF-8" }).expect("known");
    let Ok(mut rules) = Rules::parse(file, encoding) else {
        return;
    };
    let again = Rules::parse(&rules.to_toml(), encoding).expect("an export parses back");
    assert_eq!(again.len(), rules.len());
    let context = Context {
        peer: "127.0.0.1:1".parse().expect("addr"),
        time: chrono::Local::now(),
    };
    let _ = rules.answer(message, None, context);
});
