//! What of a message is published: the feedback text and the answer text, addresses
//! removed and length bounded.

use super::texts::words;
use crate::config::Language;
use crate::mail::{self, ParsedMail};

/// How many of our latest messages to a participant a reply is compared with.
pub const SENT_CONSIDERED: usize = 5;

/// The pseudonym and the text to publish of new feedback: at most [`POST_TEXT`] bytes of it,
/// addresses removed; a pseudonym that carries an address is no pseudonym.
pub fn feedback_text(mail: &ParsedMail, lang: Language) -> (String, String) {
    let (pseudonym, body) = mail::pseudonym(
        &mail.text,
        mail.from.as_ref().and_then(|m| m.name.as_deref()),
        &words(lang).anonymous_writer,
    );
    let removed = &words(lang).address_removed;
    let pseudonym = if mail::redact_addresses(&pseudonym, removed) == pseudonym {
        pseudonym
    } else {
        words(lang).anonymous_writer.clone()
    };
    (
        pseudonym,
        mail::redact_addresses(&post_text(body.trim(), lang), removed),
    )
}

/// Most bytes of a writer's text that are published; the rest stays in the raw mail. A page
/// of megabyte posts was built whole for every reader.
pub(super) const POST_TEXT: usize = 100_000;

/// `text` cut to [`POST_TEXT`] bytes, with a note when it was cut.
pub(super) fn post_text(text: &str, lang: Language) -> std::borrow::Cow<'_, str> {
    mail::shortened(text, POST_TEXT, &format!("\n\n{}", words(lang).shortened))
}

/// The text to publish of a reply, given the raw mail we had sent its writer before it.
pub fn answer_text(mail: &ParsedMail, sent: &[Vec<u8>], lang: Language) -> mail::reply::Answer {
    let sent: Vec<String> = sent.iter().map(|raw| mail::parse(raw).text).collect();
    let answer = mail::reply::extract_answer(&mail.text, &sent);
    let removed = &words(lang).address_removed;
    mail::reply::Answer {
        text: mail::redact_addresses(&post_text(&answer.text, lang), removed),
        trimmed: mail::redact_addresses(&answer.trimmed, removed),
        ..answer
    }
}
