//! The records the store keeps and hands out: journal entries, threads, participants, posts,
//! events, and how an answer authenticated.

use crate::mail::Envelope;

/// What authenticated a message, shown beside the official badge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// The From domain authenticated: DMARC passed, or, where the domain publishes no DMARC
    /// policy, DKIM or SPF passed for a domain aligned with From.
    pub verified: bool,
    /// The aligned domain that passed: the DKIM signing domain (`d=`), else the SPF domain.
    pub domain: Option<String>,
    /// `dkim` or `spf`: how `domain` passed.
    pub method: Option<String>,
    /// The DMARC result for the From domain: `pass`, `fail`, `none`, `temperror` or `permerror`.
    pub dmarc: String,
    /// What the message's DKIM signatures said.
    pub signature: Signature,
    /// Whether the company's valid signature covers `Date` (not kept with a post): the
    /// company desk takes only mail it can tell is recent.
    pub signs_date: bool,
}

/// What a message's DKIM signatures said of its From domain: the difference between mail
/// nobody signed, mail another domain signed, and mail changed after the company signed it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Signature {
    /// Not checked (an answer from before this was kept), or DNS did not answer.
    #[default]
    Unchecked,
    /// No signature at all.
    None,
    /// A valid signature of the From domain (or one aligned with it): this domain.
    Aligned(String),
    /// A valid signature, but of a domain unrelated to From (a mailing service's, a forger's).
    Foreign(String),
    /// A signature of the From domain that does not verify: the message changed after it was
    /// signed, or the key is wrong.
    Broken(String),
}

impl Signature {
    /// How it is stored: `none`, `aligned:DOMAIN`, `foreign:DOMAIN`, `broken:DOMAIN`.
    pub fn code(&self) -> String {
        match self {
            Signature::Unchecked => "unchecked".into(),
            Signature::None => "none".into(),
            Signature::Aligned(d) => format!("aligned:{d}"),
            Signature::Foreign(d) => format!("foreign:{d}"),
            Signature::Broken(d) => format!("broken:{d}"),
        }
    }

    /// Read back from [`Signature::code`]; anything else is unchecked.
    pub fn from_code(code: &str) -> Signature {
        match code.split_once(':') {
            Some(("aligned", d)) => Signature::Aligned(d.into()),
            Some(("foreign", d)) => Signature::Foreign(d.into()),
            Some(("broken", d)) => Signature::Broken(d.into()),
            _ if code == "none" => Signature::None,
            _ => Signature::Unchecked,
        }
    }
}

impl Evidence {
    /// One line for logs and the operator, naming each check and what it found:
    /// `dkim d=elisa.example, dmarc=pass`, or `no aligned dkim or spf pass (dkim: signed by
    /// other.example, not the sender's domain), dmarc=fail`.
    pub fn summary(&self) -> String {
        match (&self.method, &self.domain) {
            (Some(method), Some(domain)) => format!("{method} d={domain}, dmarc={}", self.dmarc),
            _ => {
                let dkim = match &self.signature {
                    Signature::Unchecked => "not checked".to_owned(),
                    Signature::None => "no signature".to_owned(),
                    Signature::Aligned(d) => format!("valid signature of {d}"),
                    Signature::Foreign(d) => {
                        format!("signed by {d}, not the sender's domain")
                    }
                    Signature::Broken(d) => format!(
                        "the signature of {d} does not verify: the message was changed after \
                         signing, or the key is wrong"
                    ),
                };
                format!(
                    "no aligned dkim or spf pass (dkim: {dkim}), dmarc={}",
                    self.dmarc
                )
            }
        }
    }
}

/// A message committed by the receiver, waiting for (or done with) the pipeline.
#[derive(Debug, Clone)]
pub struct JournalEntry {
    pub id: i64,
    pub received_at: i64,
    pub envelope: Envelope,
    pub raw: Vec<u8>,
    /// How often the pipeline began work on it before (see [`Store::journal_attempts`]).
    pub attempts: i64,
    /// Released from the holding pen (by its writer, for the personal data in it, or by the
    /// operator): processed again without the holds.
    pub released: bool,
    /// Assigned by the operator as an answer of this participant, whatever its recipients.
    pub assigned_to: Option<i64>,
}

/// What became of a journal entry.
#[derive(Debug, Clone)]
pub struct JournalOutcome {
    /// `pending`, `done` or `failed`.
    pub state: String,
    /// `human`, `auto` or `bounce`, once processed.
    pub class: Option<String>,
    /// What the pipeline did, in words.
    pub outcome: Option<String>,
}

/// A received message to commit to the journal.
#[derive(Debug, Clone, Copy)]
pub struct Arrival<'a> {
    pub envelope: &'a Envelope,
    pub raw: &'a [u8],
    pub received_at: i64,
    /// Whether it is new feedback (to `palaute@` or a company's address).
    pub feedback: bool,
    /// The company it is about, when the receiver could tell.
    pub provider: Option<&'a str>,
}

impl<'a> Arrival<'a> {
    /// A message not known to be feedback about anyone (tests, tools).
    pub fn new(envelope: &'a Envelope, raw: &'a [u8], received_at: i64) -> Self {
        Arrival {
            envelope,
            raw,
            received_at,
            feedback: false,
            provider: None,
        }
    }
}

/// Whose side of a thread a participant is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Consumer,
    Provider,
}

impl Role {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Role::Consumer => "consumer",
            Role::Provider => "provider",
        }
    }
}

impl rusqlite::types::FromSql for Role {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        stored(
            value,
            &[Role::Consumer, Role::Provider],
            |r| r.as_str(),
            "role",
        )
    }
}

/// A party in a thread, reachable through its own token address.
#[derive(Debug, Clone)]
pub struct Participant {
    pub id: i64,
    pub thread_id: i64,
    pub role: Role,
    /// Where mail to this participant goes. Private: never published.
    pub address: String,
    /// How this participant appears in public.
    pub public_name: String,
    /// The language they wrote in (a code such as `sv`), when it was told.
    pub language: Option<String>,
}

/// A public thread.
#[derive(Debug, Clone)]
pub struct Thread {
    pub id: i64,
    /// Provider slug, when the company is registered.
    pub provider: Option<String>,
    /// The company's name as shown.
    pub company: String,
    pub title: String,
    /// The public label of the route that got it.
    pub route_label: Option<String>,
    pub created_at: i64,
    /// When the company's response time runs out.
    pub due_at: Option<i64>,
    /// The first official answer.
    pub first_answer_at: Option<i64>,
    /// The first automatic reply from the company's side.
    pub first_auto_at: Option<i64>,
    pub last_activity_at: i64,
    /// How many public posts it has.
    pub posts: i64,
    /// Why it is not public yet, if it is not.
    pub held: Option<String>,
    /// Hidden by the operator: the page shows only a tombstone.
    pub removed: Option<Removal>,
    /// When the company's mail server accepted our forward: its response time runs from then.
    pub delivered_at: Option<i64>,
    /// Since when mail to the company bounces: its response time is paused meanwhile.
    pub undeliverable_at: Option<i64>,
    /// Readers who confirmed they had the same problem.
    pub supporters: i64,
    /// The subject the writer gave their feedback (a thread from before it was kept has none).
    pub subject: Option<String>,
}

/// The public kind of a post (`data-kind` in pages, `kind` in the export).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostKind {
    Consumer,
    Official,
    Unverified,
    Community,
    Auto,
    System,
}

impl PostKind {
    /// The name used in pages and the export.
    pub fn as_str(self) -> &'static str {
        match self {
            PostKind::Consumer => "consumer",
            PostKind::Official => "official",
            PostKind::Unverified => "unverified",
            PostKind::Community => "community",
            PostKind::Auto => "auto",
            PostKind::System => "system",
        }
    }
}

impl rusqlite::types::FromSql for PostKind {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let all = [
            PostKind::Consumer,
            PostKind::Official,
            PostKind::Unverified,
            PostKind::Community,
            PostKind::Auto,
            PostKind::System,
        ];
        stored(value, &all, |k| k.as_str(), "post kind")
    }
}

/// The one of `all` whose stored name `value` is. A name this version does not know is an
/// error, never taken for another kind (a reader would misjudge the post or the party).
pub(super) fn stored<T: Copy>(
    value: rusqlite::types::ValueRef<'_>,
    all: &[T],
    name: impl Fn(T) -> &'static str,
    what: &str,
) -> rusqlite::types::FromSqlResult<T> {
    let text = value.as_str()?;
    all.iter()
        .copied()
        .find(|&t| name(t) == text)
        .ok_or_else(|| {
            rusqlite::types::FromSqlError::Other(format!("unknown {what} {text:?}").into())
        })
}

/// A post to add to a thread.
#[derive(Debug, Clone)]
pub struct NewPost<'a> {
    pub thread_id: i64,
    pub participant_id: Option<i64>,
    pub journal_id: Option<i64>,
    pub kind: PostKind,
    pub author: &'a str,
    pub body: &'a str,
    pub trimmed: &'a str,
    /// Cutting quotes would have left nothing, so the whole text was kept.
    pub uncut: bool,
    pub attachments: usize,
    pub message_id: Option<&'a str>,
    pub created_at: i64,
    /// How a sender that claimed to be the company authenticated, when it was checked.
    pub evidence: Option<&'a Evidence>,
}

/// A published post.
#[derive(Debug, Clone)]
pub struct Post {
    pub id: i64,
    pub thread_id: i64,
    pub kind: PostKind,
    pub author: String,
    pub body: String,
    pub trimmed: String,
    /// Cutting quotes would have left nothing, so the whole text is shown.
    pub uncut: bool,
    pub attachments: usize,
    pub created_at: i64,
    /// A tombstone: who removed the text, why (public), and when.
    pub removed: Option<Removal>,
    /// How the sender authenticated, when it claimed to be the company and was checked.
    pub evidence: Option<Evidence>,
    /// A company's template answer rather than one written for this thread.
    pub template: bool,
}

/// Who removed something public, why and when: what its tombstone shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    pub by: RemovedBy,
    pub reason: String,
    pub at: i64,
}

/// Who removed a post or a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemovedBy {
    /// Its writer, by mail to their erase address.
    Writer,
    /// The operator, with a public reason (`nonono moderate`).
    Operator,
}

impl RemovedBy {
    const ALL: [RemovedBy; 2] = [RemovedBy::Writer, RemovedBy::Operator];

    /// The name stored in `posts.removed` and `threads.removed`.
    pub fn as_str(self) -> &'static str {
        match self {
            RemovedBy::Writer => "writer",
            RemovedBy::Operator => "operator",
        }
    }
}

impl rusqlite::types::FromSql for RemovedBy {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        stored(value, &RemovedBy::ALL, RemovedBy::as_str, "remover")
    }
}

pub(super) fn removal(
    by: Option<RemovedBy>,
    reason: Option<String>,
    at: Option<i64>,
) -> Option<Removal> {
    by.map(|by| Removal {
        by,
        reason: reason.unwrap_or_default(),
        at: at.unwrap_or(0),
    })
}

/// What happened on a thread besides its posts. Stored by name; a name this version does not
/// know is an error, never taken for another kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// An automatic reply (out of office, a helpdesk's acknowledgement) from the company's side;
    /// the detail holds the seconds since our mail.
    AutoReply,
    /// Mail in the thread could not be delivered; the detail names whose.
    Bounce,
    /// A reply was held for the operator or its writer; the detail says why.
    Held,
    /// The company was reminded; the detail is the reminder's number.
    Reminder,
    /// The company was registered and the waiting feedback forwarded to it.
    Forwarded,
    /// The writer said whether it was solved; the detail is `yes` or `no`.
    Solved,
    /// Mail reached the company again after it had bounced: its clock runs again; the detail
    /// is how many seconds it was stopped.
    Resumed,
    /// The company's mail server took the feedback, as the smarthost's success report says;
    /// the detail is that server's answer (for the operator, not shown).
    Delivered,
}

impl EventKind {
    const ALL: [EventKind; 8] = [
        EventKind::AutoReply,
        EventKind::Bounce,
        EventKind::Held,
        EventKind::Reminder,
        EventKind::Forwarded,
        EventKind::Solved,
        EventKind::Resumed,
        EventKind::Delivered,
    ];

    /// The name stored in `events.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::AutoReply => "auto-reply",
            EventKind::Bounce => "bounce",
            EventKind::Held => "held",
            EventKind::Reminder => "reminder",
            EventKind::Forwarded => "forwarded",
            EventKind::Solved => "solved",
            EventKind::Resumed => "resumed",
            EventKind::Delivered => "delivered",
        }
    }
}

impl rusqlite::types::FromSql for EventKind {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        stored(value, &EventKind::ALL, |k| k.as_str(), "event kind")
    }
}

/// A thread event that is not a post: an automatic reply, a bounce, a refusal.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: EventKind,
    pub detail: String,
    pub created_at: i64,
}

/// A thread to create.
#[derive(Debug, Clone)]
pub struct NewThread<'a> {
    pub provider: Option<&'a str>,
    pub company: &'a str,
    pub title: &'a str,
    pub route: Option<&'a str>,
    pub route_label: Option<&'a str>,
    pub journal_id: i64,
    pub created_at: i64,
    pub due_at: Option<i64>,
    /// Why it is held back from the public, if it is.
    pub held: Option<&'a str>,
    /// The subject the writer gave it, one line.
    pub subject: Option<&'a str>,
}
