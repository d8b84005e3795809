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

/// Subjects of helpdesk acknowledgements ("we received your request #123"): the company's
/// system saying it got the mail, which counts as acknowledged, not answered.
const ACKNOWLEDGEMENT_SUBJECTS: &[&str] = &[
    "olemme vastaanottaneet",
    "viestisi on vastaanotettu",
    "palautteesi on vastaanotettu",
    "yhteydenottosi on vastaanotettu",
    "pyyntösi on vastaanotettu",
    "tikettisi on luotu",
    "we have received your",
    "we've received your",
    "we received your",
    "request received",
    "ticket received",
    "ticket has been created",
    "request has been received",
    "your request has been",
    "thank you for contacting",
    "vi har mottagit",
    "ditt ärende har registrerats",
    "tack för ditt meddelande",
    "oleme kätte saanud",
    "teie pöördumine on registreeritud",
    "täname pöördumise eest",
];

/// Local parts and names that mail systems report failures from.
const BOUNCE_SENDERS: &[&str] = &[
    "mailer-daemon",
    "postmaster",
    "post_master",
    "mail delivery subsystem",
];

/// Subject words of delivery reports, in the languages of the corpora and our users.
const BOUNCE_SUBJECTS: &[&str] = &[
    "undeliver",
    "delivery status",
    "delivery failure",
    "delivery failed",
    "delivery has failed",
    "delivery notification",
    "failure notice",
    "returned mail",
    "mail delivery",
    "could not be delivered",
    "not delivered",
    "non-delivery",
    "nondeliverable",
    "rejected",
    "delivery problem",
    "ei voitu toimittaa",
    "toimitus epäonnistui",
    "palautettu viesti",
    "kunde inte levereras",
    "olevererbart",
    "ei saanud kohale toimetada",
    "unzustellbar",
    "nicht zugestellt",
    "non remis",
    "メールエラー",
    "エラー",
];

/// Parts that only delivery and abuse reports carry.
const REPORT_PARTS: &[&str] = &[
    "message/delivery-status",
    "message/global-delivery-status",
    "message/feedback-report",
    "text/rfc822-headers",
];

/// Decides who wrote a message from its headers and envelope.
pub fn classify(mail: &ParsedMail, envelope: &Envelope) -> Class {
    let (from, from_name) = match &mail.from {
        Some(m) => (
            m.address.as_str(),
            m.name.as_deref().unwrap_or("").to_lowercase(),
        ),
        None => ("", String::new()),
    };
    let subject = mail.subject.to_lowercase();
    let null_sender = envelope.mail_from.is_empty();
    let from_mail_system = BOUNCE_SENDERS
        .iter()
        .any(|s| from.starts_with(&format!("{s}@")) || from_name.starts_with(s));
    if mail.content_type == "multipart/report"
        || mail
            .part_types
            .iter()
            .any(|t| REPORT_PARTS.contains(&t.as_str()))
        || from_mail_system
        || (null_sender
            && (BOUNCE_SUBJECTS.iter().any(|s| subject.contains(s))
                || mail.part_types.iter().any(|t| t == "message/rfc822")))
        || (mail.text.contains("notificationType")
            && (mail.text.contains("Bounce") || mail.text.contains("Complaint")))
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
    if null_sender {
        return Class::AutoReply;
    }
    let subject = subject.trim_start_matches("re:").trim_start();
    if AUTO_SUBJECTS.iter().any(|s| subject.starts_with(s))
        || ACKNOWLEDGEMENT_SUBJECTS.iter().any(|s| subject.contains(s))
    {
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
    fn helpdesk_acknowledgements_are_automatic() {
        for subject in [
            "Olemme vastaanottaneet viestisi [#123456]",
            "[Request received] Re: Palaute",
            "Vi har mottagit ditt meddelande (ärende 42)",
            "Oleme kätte saanud teie kirja",
        ] {
            let m = parse(format!("From: help@x.fi\r\nSubject: {subject}\r\n\r\nx\r\n").as_bytes());
            assert_eq!(
                classify(&m, &envelope("help@x.fi")),
                Class::AutoReply,
                "{subject}"
            );
        }
    }

    #[test]
    fn dsn_with_null_sender_is_a_bounce() {
        let m = parse(b"From: MAILER-DAEMON@mx.example\r\nSubject: Undelivered Mail Returned to Sender\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x--\r\n");
        assert_eq!(classify(&m, &envelope("")), Class::Bounce);
    }
}
