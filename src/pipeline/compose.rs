//! The RFC 5322 message around a letter nonono writes (its words are [`super::texts`]').
//!
//! Headers are written by [`crate::mail::write`], which encodes display names and subjects,
//! so a pseudonym or a subject can never inject a header. From is always one of our own
//! addresses (DMARC-safe "via"); every message carries our loop marker, and automatic ones say
//! so (RFC 3834).

use crate::config::{Config, Language};
use crate::mail::attachments::Attachment;
use crate::mail::parse::LOOP_HEADER;
use crate::mail::reply::{MARKER_EN, MARKER_FI, MARKER_SV};
use crate::mail::write::{BadAddress, MessageWriter};

/// Why a message could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error(transparent)]
    Address(#[from] BadAddress),
    #[error("template: {0}")]
    Template(#[from] askama::Error),
}

/// Whether a message is written by a person (relayed) or by the gateway itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Carries a person's words (a forward or a relay).
    Person,
    /// Our automatic answer to a message (acknowledgement, help): `Auto-Submitted: auto-replied`.
    AutoReplied,
    /// Mail the gateway writes on its own (operator notices, reminders):
    /// `Auto-Submitted: auto-generated`.
    Automatic,
    /// A digest someone subscribed to: automatic, with one-click unsubscribe (RFC 8058) at
    /// this HTTPS URL and by mail to this address.
    List {
        unsubscribe_url: String,
        unsubscribe_address: String,
    },
}

/// One message to write.
#[derive(Debug, Clone)]
pub struct Letter {
    /// Display name of the sender, such as "Matti M. via nonono".
    pub from_name: String,
    /// Our own address it comes from (a token address, or `palaute@`).
    pub from_address: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// Message-IDs (without brackets) this message follows, oldest first.
    pub references: Vec<String>,
    pub origin: Origin,
    /// Files passed on with it (a person's, relayed privately).
    pub attachments: Vec<Attachment>,
}

/// A built message.
#[derive(Debug, Clone)]
pub struct Built {
    /// Without angle brackets.
    pub message_id: String,
    pub raw: Vec<u8>,
}

/// Longest message id we copy into `In-Reply-To` and `References`: ids are far shorter, and
/// each must fit on a folded header line.
const MAX_MESSAGE_ID: usize = 250;

/// A message id (without angle brackets) we can write back: printable ASCII with no space or
/// angle bracket, and not too long.
fn is_message_id(id: &str) -> bool {
    (1..=MAX_MESSAGE_ID).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>')
}

/// How wide the lines of our mail are: what mail clients write, and read without scrolling.
const WIDTH: usize = 72;

/// Builds the RFC 5322 message for a letter.
pub fn build(letter: &Letter, config: &Config, now: i64) -> Result<Built, ComposeError> {
    let message_id = new_message_id(&config.domain);
    let mut m = MessageWriter::new();
    m.mailbox("From", Some(&letter.from_name), &letter.from_address)?;
    m.mailbox("Reply-To", Some(&letter.from_name), &letter.from_address)?;
    m.mailbox("To", None, &letter.to)?;
    m.text("Subject", &letter.subject);
    m.raw("Message-ID", &format!("<{message_id}>"));
    m.raw("Date", &crate::domain::calendar::rfc5322(now));
    m.raw(LOOP_HEADER, &config.domain);
    // Ids come from mail others wrote: one that is no message id, or too long for a header
    // line (a 5,000-character id made the smarthost refuse the line), is left out.
    let references: Vec<&String> = letter
        .references
        .iter()
        .filter(|r| is_message_id(r))
        .collect();
    if let Some(last) = references.last() {
        m.raw("In-Reply-To", &format!("<{last}>"));
        let recent = &references[references.len().saturating_sub(20)..];
        let references: Vec<String> = recent.iter().map(|r| format!("<{r}>")).collect();
        m.raw("References", &references.join(" "));
    }
    let automatic = match &letter.origin {
        Origin::Person => None,
        Origin::AutoReplied => Some("auto-replied"),
        Origin::Automatic => Some("auto-generated"),
        Origin::List {
            unsubscribe_url,
            unsubscribe_address,
        } => {
            m.raw(
                "List-Unsubscribe",
                &format!("<{unsubscribe_url}>, <mailto:{unsubscribe_address}>"),
            );
            m.raw("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
            Some("auto-generated")
        }
    };
    if let Some(kind) = automatic {
        m.raw("Auto-Submitted", kind);
        m.raw("X-Auto-Response-Suppress", "All");
    }
    Ok(Built {
        message_id,
        raw: m.mixed_body(&crate::mail::wrap(&letter.body, WIDTH), &letter.attachments),
    })
}

/// A fresh, unguessable Message-ID at our domain, without brackets.
pub fn new_message_id(domain: &str) -> String {
    let mut bytes = [0u8; 15];
    aws_lc_rs::rand::fill(&mut bytes).expect("system randomness");
    format!("{}@{domain}", crate::domain::token::base32(&bytes))
}

pub(super) fn marker(lang: Language) -> &'static str {
    match lang {
        Language::Fi => MARKER_FI,
        Language::Sv => MARKER_SV,
        Language::En => MARKER_EN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_injection_through_names_and_subjects_is_impossible() {
        let config = Config::default();
        let letter = Letter {
            from_name: "Evil\r\nBcc: victim@example.com via nonono".into(),
            from_address: "t+abc@nonono.localhost".into(),
            to: "someone@example.com".into(),
            subject: "Hi\r\nBcc: victim@example.com".into(),
            body: "text".into(),
            references: vec!["a@b".into()],
            origin: Origin::AutoReplied,
            attachments: Vec::new(),
        };
        let built = build(&letter, &config, 0).unwrap();
        let text = String::from_utf8(built.raw).unwrap();
        let headers = text.split("\r\n\r\n").next().unwrap();
        assert!(!headers.lines().any(|l| l.starts_with("Bcc:")), "{headers}");
        assert!(headers.contains("Auto-Submitted: auto-replied"));
        assert!(headers.contains("In-Reply-To: <a@b>"));
        assert!(headers.contains(&format!("{LOOP_HEADER}: nonono.localhost")));
    }

    #[test]
    fn ids_that_cannot_stand_in_a_header_line_are_not_referenced() {
        let letter = Letter {
            from_name: "nonono".into(),
            from_address: "t+abc@nonono.localhost".into(),
            to: "someone@example.com".into(),
            subject: "Re".into(),
            body: "text".into(),
            references: vec!["ok@x".into(), "y".repeat(5000), "bad id@x".into()],
            origin: Origin::Person,
            attachments: Vec::new(),
        };
        let built = build(&letter, &Config::default(), 0).unwrap();
        let text = String::from_utf8(built.raw).unwrap();
        assert!(text.lines().all(|l| l.len() <= 998));
        assert!(text.contains("In-Reply-To: <ok@x>"), "{text}");
        assert!(!text.contains("yyyy") && !text.contains("bad id"));
    }
}
