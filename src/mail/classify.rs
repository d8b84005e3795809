//! Who wrote a message: a person, an auto-responder, or a mail system reporting a failure.
//!
//! Automatic mail is never published as an answer, relayed or answered (RFC 3834); telling it
//! apart is what keeps the gateway out of mail loops.

use super::{Envelope, ParsedMail};

/// The kind of writer behind a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Written by a person.
    Human,
    /// An out-of-office notice, a "we received your message" acknowledgement or similar.
    AutoReply,
    /// A delivery status notification: the mail we sent did not arrive.
    Bounce,
}

impl Class {
    /// The name stored with the message.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Human => "human",
            Class::AutoReply => "auto",
            Class::Bounce => "bounce",
        }
    }
}

/// Subject openings that auto-responders use, in the languages of our users.
const AUTO_SUBJECTS: &[&str] = &[
    "automaattinen vastaus",
    "poissa toimistosta",
    "lomavastaaja",
    "out of office",
    "automatic reply",
    "auto reply",
    "autoreply",
    "auto-reply",
    "automaatne vastus",
    "frånvarande",
    "automatiskt svar",
    "abwesenheitsnotiz",
];

const BOUNCE_SENDERS: &[&str] = &["mailer-daemon@", "postmaster@"];

/// Decides who wrote a message from its headers and envelope.
pub fn classify(mail: &ParsedMail, envelope: &Envelope) -> Class {
    let from = mail.from.as_ref().map(|m| m.address.as_str()).unwrap_or("");
    let subject = mail.subject.to_lowercase();
    if mail.content_type == "multipart/report"
        || BOUNCE_SENDERS.iter().any(|p| from.starts_with(p))
        || (envelope.mail_from.is_empty()
            && (subject.contains("undeliver")
                || subject.contains("delivery status")
                || subject.contains("failure notice")
                || subject.contains("returned mail")
                || subject.contains("ei voitu toimittaa")))
    {
        return Class::Bounce;
    }
    for (name, value) in &mail.auto_headers {
        let value = value.to_ascii_lowercase();
        let automatic = match name.as_str() {
            "auto-submitted" => value != "no",
            "x-autoreply" | "x-autorespond" => true,
            "precedence" | "x-precedence" => {
                matches!(value.as_str(), "bulk" | "junk" | "list" | "auto_reply")
            }
            "list-id" | "list-unsubscribe" | "x-failed-recipients" | "feedback-id" => true,
            // Outlook puts this on human mail too: on its own it proves nothing.
            _ => false,
        };
        if automatic {
            return Class::AutoReply;
        }
    }
    if envelope.mail_from.is_empty() {
        return Class::AutoReply;
    }
    let subject = subject.trim_start_matches("re:").trim_start();
    if AUTO_SUBJECTS.iter().any(|s| subject.starts_with(s)) {
        return Class::AutoReply;
    }
    Class::Human
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::parse;

    fn envelope(from: &str) -> Envelope {
        Envelope {
            mail_from: from.into(),
            ..Envelope::default()
        }
    }

    #[test]
    fn plain_mail_is_human_even_with_outlook_suppress_header() {
        let m =
            parse(b"From: a@b.fi\r\nX-Auto-Response-Suppress: All\r\nSubject: Hei\r\n\r\nx\r\n");
        assert_eq!(classify(&m, &envelope("a@b.fi")), Class::Human);
    }

    #[test]
    fn auto_submitted_and_localised_subjects_are_auto() {
        let m = parse(b"From: a@b.fi\r\nAuto-Submitted: auto-replied\r\nSubject: x\r\n\r\nx\r\n");
        assert_eq!(classify(&m, &envelope("a@b.fi")), Class::AutoReply);
        let m =
            parse("From: a@b.fi\r\nSubject: Automaattinen vastaus: Lasku\r\n\r\nx\r\n".as_bytes());
        assert_eq!(classify(&m, &envelope("a@b.fi")), Class::AutoReply);
    }

    #[test]
    fn dsn_with_null_sender_is_a_bounce() {
        let m = parse(b"From: MAILER-DAEMON@mx.example\r\nSubject: Undelivered Mail Returned to Sender\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x--\r\n");
        assert_eq!(classify(&m, &envelope("")), Class::Bounce);
    }
}
