//! What of a message is published: the feedback text and the answer text, addresses
//! removed and length bounded.

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
        neutral_name(lang),
    );
    let removed = address_removed(lang);
    let pseudonym = if mail::redact_addresses(&pseudonym, removed) == pseudonym {
        pseudonym
    } else {
        neutral_name(lang).to_owned()
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
    let note = match lang {
        Language::Fi => "\n\n[…] (teksti on lyhennetty)",
        Language::En => "\n\n[…] (the text is shortened)",
    };
    mail::shortened(text, POST_TEXT, note)
}

/// The text to publish of a reply, given the raw mail we had sent its writer before it.
pub fn answer_text(mail: &ParsedMail, sent: &[Vec<u8>], lang: Language) -> mail::reply::Answer {
    let sent: Vec<String> = sent.iter().map(|raw| mail::parse(raw).text).collect();
    let answer = mail::reply::extract_answer(&mail.text, &sent);
    let removed = address_removed(lang);
    mail::reply::Answer {
        text: mail::redact_addresses(&post_text(&answer.text, lang), removed),
        trimmed: mail::redact_addresses(&answer.trimmed, removed),
        ..answer
    }
}

pub(super) fn untitled(lang: Language) -> &'static str {
    match lang {
        Language::Fi => "(ei otsikkoa)",
        Language::En => "(no subject)",
    }
}

pub(super) fn address_removed(lang: Language) -> &'static str {
    match lang {
        Language::Fi => "[osoite poistettu]",
        Language::En => "[address removed]",
    }
}

pub(super) fn neutral_name(lang: Language) -> &'static str {
    match lang {
        Language::Fi => "Nimetön kirjoittaja",
        Language::En => "Anonymous writer",
    }
}
