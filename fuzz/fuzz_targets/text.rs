//! Any text as an HTML body and as a reply body: the HTML converter and the answer cut must be
//! linear in their input and bounded in their output, whatever the nesting. run.sh gives each
//! input a time limit and the process a memory limit; the output bounds are checked here.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nonono::mail::{html, reply};

fuzz_target!(|input: &[u8]| {
    let text = String::from_utf8_lossy(input);
    // Everything after the first NUL is "mail we sent", what the cut compares the reply with.
    let (body, sent) = text.split_once('\0').unwrap_or((&text, ""));
    let converted = html::to_text(body);
    // Bullets, numbers and indentation add at most a few bytes per tag of at least 4 bytes.
    assert!(
        converted.len() <= 8 * body.len() + 64,
        "{} bytes of HTML became {} bytes of text",
        body.len(),
        converted.len()
    );
    for reply_text in [body, converted.as_str()] {
        let answer = reply::extract_answer(reply_text, &[sent.to_owned()]);
        assert!(answer.text.len() <= reply_text.len());
    }
});
