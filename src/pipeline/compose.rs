//! The mail nonono writes: texts in Finnish and English from `templates/mail/`, and the RFC 5322
//! message around them.
//!
//! Headers are written by [`crate::mail::write`], which encodes display names and subjects,
//! so a pseudonym or a subject can never inject a header. From is always one of our own
//! addresses (DMARC-safe "via"); every message carries our loop marker, and automatic ones say
//! so (RFC 3834).

use askama::Template;

use crate::config::{Config, Language};
use crate::mail::parse::LOOP_HEADER;
use crate::mail::reply::{MARKER_EN, MARKER_FI};
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
        raw: m.text_body(&letter.body),
    })
}

/// A fresh, unguessable Message-ID at our domain, without brackets.
pub fn new_message_id(domain: &str) -> String {
    let mut bytes = [0u8; 15];
    aws_lc_rs::rand::fill(&mut bytes).expect("system randomness");
    format!("{}@{domain}", crate::domain::token::base32(&bytes))
}

fn marker(lang: Language) -> &'static str {
    match lang {
        Language::Fi => MARKER_FI,
        Language::En => MARKER_EN,
    }
}

#[derive(Template)]
#[template(
    source = r#"{% if fi %}{% include "mail/ack.fi.txt" %}{% else %}{% include "mail/ack.en.txt" %}{% endif %}"#,
    ext = "txt"
)]
struct AckText<'a> {
    fi: bool,
    erase_address: &'a str,
    marker: &'a str,
    pseudonym: &'a str,
    url: &'a str,
    company: &'a str,
    route_label: Option<&'a str>,
    response_days: u32,
    reachable: bool,
}

#[derive(Template)]
#[template(
    source = r#"{% if fi %}{% include "mail/forward.fi.txt" %}{% else %}{% include "mail/forward.en.txt" %}{% endif %}"#,
    ext = "txt"
)]
struct ForwardText<'a> {
    fi: bool,
    marker: &'a str,
    company: &'a str,
    title: &'a str,
    pseudonym: &'a str,
    body: &'a str,
    url: &'a str,
    full: bool,
    official_hint: bool,
}

#[derive(Template)]
#[template(
    source = r#"{% if fi %}{% include "mail/relay.fi.txt" %}{% else %}{% include "mail/relay.en.txt" %}{% endif %}"#,
    ext = "txt"
)]
struct RelayText<'a> {
    fi: bool,
    marker: &'a str,
    author: &'a str,
    official: bool,
    unverified: bool,
    title: &'a str,
    body: &'a str,
    url: &'a str,
}

#[derive(Template)]
#[template(
    source = r#"{% if fi %}{% include "mail/help.fi.txt" %}{% else %}{% include "mail/help.en.txt" %}{% endif %}"#,
    ext = "txt"
)]
struct HelpText<'a> {
    fi: bool,
    unknown_tag: Option<&'a str>,
    example_address: &'a str,
    providers: Vec<&'a str>,
}

#[derive(Template)]
#[template(
    source = r#"{% if fi %}{% include "mail/confirm.fi.txt" %}{% else %}{% include "mail/confirm.en.txt" %}{% endif %}"#,
    ext = "txt"
)]
struct ConfirmText<'a> {
    fi: bool,
    pseudonym: &'a str,
    company: &'a str,
    title: &'a str,
    personal: Vec<&'a str>,
}

/// A letter's text from `templates/mail/NAME.fi.txt` or `NAME.en.txt`: the first line is its
/// subject, the rest its body.
pub fn letter(text: &impl Template) -> Result<(String, String), ComposeError> {
    let text = text.render()?;
    let (subject, body) = text.split_once('\n').unwrap_or((&text, ""));
    // askama drops a template file's last newline; a body's last line ends like the others.
    Ok((
        subject.to_owned(),
        format!("{}\n", body.trim_end_matches('\n')),
    ))
}

/// The operator's notice of mail that could not be delivered.
#[derive(Template)]
#[template(
    source = r#"{% if fi %}{% include "mail/delivery-failed.fi.txt" %}{% else %}{% include "mail/delivery-failed.en.txt" %}{% endif %}"#,
    ext = "txt"
)]
pub struct DeliveryFailed<'a> {
    pub fi: bool,
    pub outbox: i64,
    pub purpose: &'a str,
    pub thread: &'a str,
    pub detail: &'a str,
}

/// Asking someone to confirm they follow a company.
#[derive(Template)]
#[template(
    source = r#"{% if fi %}{% include "mail/follow-confirm.fi.txt" %}{% else %}{% include "mail/follow-confirm.en.txt" %}{% endif %}"#,
    ext = "txt"
)]
pub struct FollowConfirm<'a> {
    pub fi: bool,
    pub company: &'a str,
}

/// A company past its response time.
#[derive(Template)]
#[template(
    source = r#"{% if fi %}{% include "mail/reminder.fi.txt" %}{% else %}{% include "mail/reminder.en.txt" %}{% endif %}"#,
    ext = "txt"
)]
pub struct Reminder<'a> {
    pub fi: bool,
    pub title: &'a str,
    pub waited: i64,
    pub number: i64,
    pub max: i64,
    pub url: &'a str,
}

/// The private note to a company whose answer blames the writer.
#[derive(Template)]
#[template(
    source = r#"{% if fi %}{% include "mail/blame-note.fi.txt" %}{% else %}{% include "mail/blame-note.en.txt" %}{% endif %}"#,
    ext = "txt"
)]
pub struct BlameNote<'a> {
    pub fi: bool,
    pub title: &'a str,
    pub url: &'a str,
    pub phrase: &'a str,
}

/// The operator's notice of an answer that claims a company and did not prove it.
#[derive(Template)]
#[template(
    source = r#"{% if fi %}{% include "mail/unverified-answer.fi.txt" %}{% else %}{% include "mail/unverified-answer.en.txt" %}{% endif %}"#,
    ext = "txt"
)]
pub struct UnverifiedAnswer<'a> {
    pub fi: bool,
    pub company: &'a str,
    pub url: &'a str,
    pub why: &'a str,
}

/// Asking the writer whether the company solved their problem.
#[derive(Template)]
#[template(
    source = r#"{% if fi %}{% include "mail/solved-question.fi.txt" %}{% else %}{% include "mail/solved-question.en.txt" %}{% endif %}"#,
    ext = "txt"
)]
pub struct SolvedQuestion<'a> {
    pub fi: bool,
    pub name: &'a str,
    pub company: &'a str,
    pub title: &'a str,
    pub url: &'a str,
    pub address: &'a str,
}

#[derive(Template)]
#[template(
    source = r#"{% if fi %}{% include "mail/publish-ask.fi.txt" %}{% else %}{% include "mail/publish-ask.en.txt" %}{% endif %}"#,
    ext = "txt"
)]
struct PublishAsk<'a> {
    fi: bool,
    title: &'a str,
    found: &'a str,
}

#[derive(Template)]
#[template(
    source = r#"{% if fi %}{% include "mail/not-an-answer.fi.txt" %}{% else %}{% include "mail/not-an-answer.en.txt" %}{% endif %}"#,
    ext = "txt"
)]
struct NotAnAnswer<'a> {
    fi: bool,
    company: &'a str,
    subject: &'a str,
    domain: &'a str,
}

#[derive(Template)]
#[template(
    source = r#"{% if fi %}{% include "mail/set-aside.fi.txt" %}{% else %}{% include "mail/set-aside.en.txt" %}{% endif %}"#,
    ext = "txt"
)]
struct SetAside {
    fi: bool,
    journal: i64,
}

/// Telling a company how many readers have the same problem.
#[derive(Template)]
#[template(
    source = r#"{% if fi %}{% include "mail/support-count.fi.txt" %}{% else %}{% include "mail/support-count.en.txt" %}{% endif %}"#,
    ext = "txt"
)]
pub struct SupportCount<'a> {
    pub fi: bool,
    pub count: i64,
    pub title: &'a str,
    pub url: &'a str,
}

/// Telling a reader their "me too" is counted.
#[derive(Template)]
#[template(
    source = r#"{% if fi %}{% include "mail/support-counted.fi.txt" %}{% else %}{% include "mail/support-counted.en.txt" %}{% endif %}"#,
    ext = "txt"
)]
pub struct SupportCounted<'a> {
    pub fi: bool,
    pub title: &'a str,
    pub count: i64,
    pub url: &'a str,
}

/// Asking a reader to confirm their "me too".
#[derive(Template)]
#[template(
    source = r#"{% if fi %}{% include "mail/support-confirm.fi.txt" %}{% else %}{% include "mail/support-confirm.en.txt" %}{% endif %}"#,
    ext = "txt"
)]
pub struct SupportConfirm<'a> {
    pub fi: bool,
    pub title: &'a str,
    pub url: &'a str,
}

/// A follower's daily digest of a company's new feedback and answers.
#[derive(Template)]
#[template(
    source = r#"{% if fi %}{% include "mail/follow-digest.fi.txt" %}{% else %}{% include "mail/follow-digest.en.txt" %}{% endif %}"#,
    ext = "txt"
)]
pub struct FollowDigest<'a> {
    pub fi: bool,
    pub company: &'a str,
    /// New threads and new answers: (thread id, title).
    pub threads: &'a [(i64, String)],
    pub answers: &'a [(i64, String)],
    /// The archive's address, without a trailing slash.
    pub base: &'a str,
    pub unsubscribe_url: &'a str,
}

/// The operator's daily digest: what waits in the holding pen, and the companies feedback waits
/// for.
#[derive(Template)]
#[template(
    source = r#"{% if fi %}{% include "mail/operator-digest.fi.txt" %}{% else %}{% include "mail/operator-digest.en.txt" %}{% endif %}"#,
    ext = "txt"
)]
pub struct OperatorDigest<'a> {
    pub fi: bool,
    pub held: i64,
    /// Days the oldest held message has waited.
    pub held_days: i64,
    pub companies: &'a [crate::store::unregistered::UnregisteredCompany],
    pub now: i64,
    /// The archive's address, without a trailing slash.
    pub base: &'a str,
}

/// Subject and body of the request to confirm held feedback; `personal` names the personal
/// data found, empty when the address is simply new.
pub fn confirm_text(
    pseudonym: &str,
    company: &str,
    title: &str,
    personal: &[&str],
    lang: Language,
) -> Result<(String, String), ComposeError> {
    let body = ConfirmText {
        fi: lang == Language::Fi,
        pseudonym,
        company,
        title,
        personal: personal.to_vec(),
    }
    .render()?;
    let subject = match (lang, personal.is_empty()) {
        (Language::Fi, true) => format!("Vahvista palautteesi: {title}"),
        (Language::Fi, false) => format!("Palautteessasi on henkilötietoja: {title}"),
        (Language::En, true) => format!("Please confirm your feedback: {title}"),
        (Language::En, false) => format!("Your feedback contains personal data: {title}"),
    };
    Ok((subject, body))
}

/// What the consumer is told after new feedback.
pub struct Ack<'a> {
    /// Where the writer can erase the feedback (checked against their address).
    pub erase_address: &'a str,
    pub pseudonym: &'a str,
    pub url: &'a str,
    pub company: &'a str,
    pub route_label: Option<&'a str>,
    pub response_days: u32,
    pub title: &'a str,
    /// The company is registered, so the feedback went to it; otherwise it waits.
    pub reachable: bool,
}

/// Subject and body of the acknowledgement.
pub fn ack_text(a: &Ack<'_>, lang: Language) -> Result<(String, String), ComposeError> {
    let body = AckText {
        fi: lang == Language::Fi,
        erase_address: a.erase_address,
        marker: marker(lang),
        pseudonym: a.pseudonym,
        url: a.url,
        company: a.company,
        route_label: a.route_label,
        response_days: a.response_days,
        reachable: a.reachable,
    }
    .render()?;
    let subject = match lang {
        Language::Fi => format!("Palautteesi on julkaistu: {}", a.title),
        Language::En => format!("Your feedback is public: {}", a.title),
    };
    Ok((subject, body))
}

/// What the provider's route gets for new feedback.
pub struct Forward<'a> {
    pub company: &'a str,
    pub title: &'a str,
    pub pseudonym: &'a str,
    pub body: &'a str,
    pub url: &'a str,
    pub full: bool,
    pub has_representatives: bool,
}

/// Subject and body of a forward.
pub fn forward_text(f: &Forward<'_>, lang: Language) -> Result<(String, String), ComposeError> {
    let body = ForwardText {
        fi: lang == Language::Fi,
        marker: marker(lang),
        company: f.company,
        title: f.title,
        pseudonym: f.pseudonym,
        body: &excerpt(f.body, f.url, lang),
        url: f.url,
        full: f.full,
        official_hint: f.has_representatives,
    }
    .render()?;
    let subject = match lang {
        Language::Fi => format!("Palaute: {}", f.title),
        Language::En => format!("Feedback: {}", f.title),
    };
    Ok((subject, body))
}

/// Most bytes of a writer's text that a mail carries; past them the rest is on the public
/// page. An 18 MB feedback made a 49 MB forward, which no mail server takes.
const MAIL_TEXT: usize = 100_000;

/// `text` as a mail carries it: whole, or its first [`MAIL_TEXT`] bytes and where the rest is.
fn excerpt<'t>(text: &'t str, url: &str, lang: Language) -> std::borrow::Cow<'t, str> {
    let rest = match lang {
        Language::Fi => "Teksti jatkuu julkisella sivulla",
        Language::En => "The text goes on on the public page",
    };
    crate::mail::shortened(text, MAIL_TEXT, &format!(" […]\n\n({rest}: {url})"))
}

/// A post passed on to the other side of a thread.
pub struct Relay<'a> {
    pub author: &'a str,
    pub official: bool,
    /// Claims the company's name without authenticating: said so plainly, since a forger's
    /// text (a payment link) would otherwise read as the company's.
    pub unverified: bool,
    pub title: &'a str,
    pub body: &'a str,
    pub url: &'a str,
}

/// Subject and body of a relayed post.
pub fn relay_text(r: &Relay<'_>, lang: Language) -> Result<(String, String), ComposeError> {
    let body = RelayText {
        fi: lang == Language::Fi,
        marker: marker(lang),
        author: r.author,
        official: r.official,
        unverified: r.unverified,
        title: r.title,
        body: &excerpt(r.body, r.url, lang),
        url: r.url,
    }
    .render()?;
    Ok((format!("Re: {}", r.title), body))
}

/// Subject and body of the help reply to feedback with no known company.
pub fn help_text(
    unknown_tag: Option<&str>,
    config: &Config,
    subject: &str,
) -> Result<(String, String), ComposeError> {
    let example_address = match config.providers.first() {
        Some(p) => format!("{}@{}", p.slug, config.domain),
        None => format!("yritys@{}", config.domain),
    };
    let body = HelpText {
        fi: config.language == Language::Fi,
        unknown_tag,
        example_address: &example_address,
        providers: config.providers.iter().map(|p| p.name.as_str()).collect(),
    }
    .render()?;
    let prefix = match config.language {
        Language::Fi => "Palautetta ei voitu välittää",
        Language::En => "Feedback could not be passed on",
    };
    Ok((format!("{prefix}: {subject}"), body))
}

/// Subject and body of the question to a writer whose reply is held for the personal data in
/// it (`found` names what was found).
pub fn publish_text(
    title: &str,
    found: &[&str],
    lang: Language,
) -> Result<(String, String), ComposeError> {
    letter(&PublishAsk {
        fi: lang == Language::Fi,
        title,
        found: &found.join(", "),
    })
}

/// Subject and body of the note to a company's representative whose mail came to an address
/// of ours that names no thread, and matched none.
pub fn not_an_answer_text(
    company: &str,
    subject: &str,
    config: &Config,
) -> Result<(String, String), ComposeError> {
    letter(&NotAnAnswer {
        fi: config.language == Language::Fi,
        company,
        subject,
        domain: &config.domain,
    })
}

/// Subject and body of the note to a writer whose message the pipeline set aside.
pub fn set_aside_text(journal: i64, lang: Language) -> Result<(String, String), ComposeError> {
    letter(&SetAside {
        fi: lang == Language::Fi,
        journal,
    })
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
    fn a_long_text_is_carried_in_part_with_the_way_to_the_rest() {
        let relay = |body: &str| {
            relay_text(
                &Relay {
                    author: "Elisa",
                    official: true,
                    unverified: false,
                    title: "Lasku",
                    body,
                    url: "https://x.example/t/1",
                },
                Language::Fi,
            )
            .unwrap()
            .1
        };
        let long = "ä".repeat(3 * MAIL_TEXT);
        let text = relay(&long);
        assert!(text.len() < MAIL_TEXT + 2_000, "{} bytes", text.len());
        assert!(text.contains("Teksti jatkuu julkisella sivulla: https://x.example/t/1"));
        assert!(relay("Lyhyt vastaus.").contains("Lyhyt vastaus."));
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
        };
        let built = build(&letter, &Config::default(), 0).unwrap();
        let text = String::from_utf8(built.raw).unwrap();
        assert!(text.lines().all(|l| l.len() <= 998));
        assert!(text.contains("In-Reply-To: <ok@x>"), "{text}");
        assert!(!text.contains("yyyy") && !text.contains("bad id"));
    }
}
