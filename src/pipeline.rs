//! The pipeline: from a committed raw message to threads, posts and outbox rows.
//!
//! It runs after `250`, from the journal: classify, parse, route, then apply everything in one
//! transaction that also marks the journal entry done. A crash anywhere leaves the entry pending,
//! and it is processed again from the start, so the pipeline is idempotent and resumes on restart.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::auth::{Authenticator, Evidence};
use crate::compose::{self, Letter, Origin};
use crate::config::{Config, Language, ProviderConfig};
use crate::mail::{self, Class, ParsedMail};
use crate::metrics::Metrics;
use crate::route::{self, Recipient, Tag};
use crate::store::intake::Mover;
use crate::store::{
    JournalEntry, MessageOrigin, NewPost, NewThread, Outbound, Participant, PostKind, Role, Store,
    StoreError, Tx,
};
use crate::token::{Purpose, TokenKey};
use crate::tone;
use tokio::sync::Notify;

/// Why a message could not be processed.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Compose(#[from] compose::ComposeError),
    /// A bug met this message; it stays in the journal for `reprocess` after the fix.
    #[error("internal error: {0}")]
    Panic(String),
}

impl PipelineError {
    /// Whether trying again later may succeed (the database was busy), as opposed to a problem
    /// with this message that needs a code fix and `reprocess`.
    pub fn is_transient(&self) -> bool {
        match self {
            PipelineError::Store(StoreError::Sqlite(e)) => matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            ),
            _ => false,
        }
    }
}

/// What the pipeline needs besides the store.
pub struct Context<'a> {
    pub config: &'a Config,
    pub key: &'a TokenKey,
    /// Present when `[trust] verify_sender_auth` is on.
    pub authenticator: Option<&'a Authenticator>,
    pub now: i64,
}

impl<'a> Context<'a> {
    /// The context of work on the clock rather than on a message: no sender to authenticate.
    pub fn scheduled(config: &'a Config, key: &'a TokenKey, now: i64) -> Self {
        Context {
            config,
            key,
            authenticator: None,
            now,
        }
    }
}

/// Processes one journal entry completely, in one transaction. Returns what was done, in words
/// without addresses (it is logged).
pub fn process(
    store: &mut Store,
    ctx: &Context<'_>,
    entry: &JournalEntry,
) -> Result<String, PipelineError> {
    let read = Read::new(ctx, entry);
    let tx = store.begin()?;
    let outcome = apply(&tx, ctx, entry, &read)?;
    tx.commit()?;
    Ok(outcome)
}

/// What is learnt from a message before the store's transaction: the parsed mail and, for mail
/// claiming to come from a company, how its sender authenticated (DNS, so the store's writer
/// lock is not held while we wait).
struct Read {
    mail: ParsedMail,
    class: Class,
    evidence: Option<Evidence>,
}

impl Read {
    fn new(ctx: &Context<'_>, entry: &JournalEntry) -> Read {
        let mail = mail::parse(&entry.raw);
        let class = mail::classify(&mail, &entry.envelope);
        // Every person's mail: a company's answer needs it for the badge, a consumer's reply
        // to speak for the consumer, and automatic mail to go to a From that is not the
        // envelope sender.
        let evidence = ctx
            .authenticator
            .filter(|_| class == Class::Human)
            .map(|a| {
                let from = mail.from.as_ref().map_or("", |f| f.address.as_str());
                a.check(&entry.raw, &entry.envelope, from)
            });
        Read {
            mail,
            class,
            evidence,
        }
    }
}

/// Does everything a journal entry asks for inside `tx` and marks it done.
fn apply(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    entry: &JournalEntry,
    read: &Read,
) -> Result<String, PipelineError> {
    // Released from the holding pen: a person read it, so it is a person's mail.
    let class = if entry.released {
        Class::Human
    } else {
        read.class
    };
    let mail = &read.mail;
    // Another pipeline (a `reprocess` beside `serve`) may have taken it meanwhile.
    if !tx.is_pending(entry.id)? {
        return Ok("already processed".into());
    }
    if let Some(participant) = entry.assigned_to {
        let msg = Message {
            entry,
            mail,
            class,
            evidence: read.evidence.as_ref(),
        };
        let outcome = format!(
            "assigned by the operator: {}",
            reply(tx, ctx, &msg, participant)?
        );
        tx.finish_journal(entry.id, class.as_str(), &outcome, ctx.now)?;
        return Ok(outcome);
    }
    let mut outcomes = Vec::new();
    let mut new_feedback_done = false;
    let mut seen = Vec::new();
    for rcpt in &entry.envelope.rcpt_to {
        let recipient = match route::recipient(rcpt, ctx.config, ctx.key) {
            Ok(r) => r,
            Err(refusal) => {
                outcomes.push(format!("recipient no longer valid: {refusal}"));
                continue;
            }
        };
        if seen.contains(&recipient) {
            continue;
        }
        seen.push(recipient.clone());
        let msg = Message {
            entry,
            mail,
            class,
            evidence: read.evidence.as_ref(),
        };
        let outcome = match recipient {
            Recipient::Feedback | Recipient::Provider(_) if new_feedback_done => {
                "second feedback address in the same message: ignored".to_owned()
            }
            Recipient::Feedback => {
                new_feedback_done = true;
                new_feedback(tx, ctx, &msg, None)?
            }
            Recipient::Provider(slug) => {
                new_feedback_done = true;
                new_feedback(tx, ctx, &msg, Some(&slug))?
            }
            Recipient::Reply(participant) => reply(tx, ctx, &msg, participant)?,
            Recipient::Confirm(thread) => confirm(tx, ctx, &msg, thread)?,
            Recipient::Erase(participant) => erase(tx, ctx, &msg, participant)?,
            Recipient::Solved(participant) => solved(tx, ctx, &msg, participant)?,
            Recipient::Support(thread) => crate::support::support(tx, ctx, &msg, thread)?,
            Recipient::ConfirmSupport(support) => crate::support::confirm(tx, ctx, &msg, support)?,
            Recipient::Follow(slug) => crate::follow::follow(tx, ctx, &msg, &slug)?,
            Recipient::ConfirmFollow(follower) => crate::follow::confirm(tx, ctx, &msg, follower)?,
            Recipient::Unsubscribe(follower) => crate::follow::leave(tx, follower)?,
            Recipient::Publish(held) => publish(tx, ctx, &msg, held)?,
            Recipient::Operator => to_operator(tx, ctx, &msg)?,
            Recipient::Bounce(Some(outbox)) => bounce(tx, ctx, &msg, outbox)?,
            Recipient::Bounce(None) => format!("{} to the bounce address: kept", class.as_str()),
        };
        outcomes.push(outcome);
    }
    if outcomes.is_empty() {
        outcomes.push("no recipients".into());
    }
    let outcome = outcomes.join("; ");
    tx.finish_journal(entry.id, class.as_str(), &outcome, ctx.now)?;
    Ok(outcome)
}

pub(crate) struct Message<'a> {
    pub(crate) entry: &'a JournalEntry,
    pub(crate) mail: &'a ParsedMail,
    pub(crate) class: Class,
    /// How the From domain authenticated, when sender authentication is on (human mail only).
    pub(crate) evidence: Option<&'a Evidence>,
}

impl Message<'_> {
    /// The From address when it may speak for its owner: it agrees with the envelope sender
    /// and, with sender authentication on, it authenticated. A stranger who knows a token and
    /// writes someone's address into From is not that someone.
    pub(crate) fn speaker(&self) -> Result<String, &'static str> {
        let sender = self.sender().ok_or("no sender address")?;
        if self.entry.released {
            return Ok(sender);
        }
        if !self.agrees_with_envelope(&sender) {
            return Err("From differs from the envelope sender");
        }
        if self.evidence.is_some_and(|e| !e.verified) {
            return Err("From did not authenticate");
        }
        Ok(sender)
    }

    /// Where automatic mail about this message may go: the From address, when it agrees with
    /// the envelope sender or authenticated, and leads somewhere public. Otherwise anyone could
    /// have the gateway mail anyone by writing their address into From.
    pub(crate) fn reply_address(&self, ctx: &Context<'_>) -> Result<String, &'static str> {
        let sender = self.sender().ok_or("no sender address")?;
        if !self.agrees_with_envelope(&sender)
            && !self.evidence.is_some_and(|e| e.verified)
            && !self.entry.released
        {
            return Err("From differs from the envelope sender and did not authenticate");
        }
        if self.evidence.is_some_and(|e| e.dmarc == "fail") && !self.entry.released {
            return Err("From's domain says by DMARC that this mail is not theirs");
        }
        if !route::may_write_to(&sender, &ctx.config.domain) {
            return Err("From is not an address we write to");
        }
        Ok(sender)
    }

    /// Whether `sender` is the envelope sender too.
    fn agrees_with_envelope(&self, sender: &str) -> bool {
        sender == mail::normalize_address(&self.entry.envelope.mail_from)
    }

    /// The writer's address: From, else the envelope sender.
    pub(crate) fn sender(&self) -> Option<String> {
        self.mail
            .from
            .as_ref()
            .map(|m| m.address.clone())
            .filter(|a| !a.is_empty())
            .or_else(|| {
                Some(mail::normalize_address(&self.entry.envelope.mail_from))
                    .filter(|a| !a.is_empty())
            })
    }

    /// The writer behind `participant` when this message comes from them; otherwise, in words
    /// starting with `what`, why it is not taken.
    pub(crate) fn writer_sending(
        &self,
        tx: &Tx<'_>,
        ctx: &Context<'_>,
        participant: i64,
        what: &str,
    ) -> Result<Result<Participant, String>, PipelineError> {
        if let Some(reason) = self.hold_reason(tx, ctx)? {
            return Ok(Err(format!("{what} not taken: {reason}")));
        }
        let Some(writer) = tx.participant(participant)? else {
            return Ok(Err(format!(
                "{what} for a participant that no longer exists"
            )));
        };
        if writer.role != Role::Consumer || self.speaker().ok() != Some(writer.address.clone()) {
            return Ok(Err(format!(
                "{what} in thread {} not taken: sender is not the writer",
                writer.thread_id
            )));
        }
        Ok(Ok(writer))
    }

    /// Why this message must not be answered or passed on, if it must not.
    pub(crate) fn hold_reason(
        &self,
        tx: &Tx<'_>,
        ctx: &Context<'_>,
    ) -> Result<Option<&'static str>, PipelineError> {
        if self.class != Class::Human {
            return Ok(Some("automatic mail"));
        }
        if self.entry.released {
            return Ok(None);
        }
        if let Some(doubt) = self.mail.sender_doubt {
            return Ok(Some(doubt));
        }
        let envelope = &self.entry.envelope;
        if !envelope.mail_from.is_empty() {
            let since = self.entry.received_at - LOOP_BRAKE_WINDOW;
            let (pair, all) = tx.received_from(
                &envelope.mail_from,
                &envelope.rcpt_to.join("\n"),
                since,
                self.entry.id,
                LOOP_BRAKE_SENDER + 1,
            )?;
            if pair > LOOP_BRAKE_PAIR {
                return Ok(Some(
                    "too many messages from one sender to one address in a short time",
                ));
            }
            if all > LOOP_BRAKE_SENDER {
                return Ok(Some("too many messages from one sender in a short time"));
            }
        }
        if self.mail.loop_marker.as_deref() == Some(ctx.config.domain.as_str()) {
            return Ok(Some("our own mail came back (loop marker)"));
        }
        let own_domain = format!("@{}", ctx.config.domain);
        Ok(match self.sender() {
            None => Some("no sender address"),
            Some(s) if s.ends_with(&own_domain) => Some("sent from our own domain"),
            Some(_) => None,
        })
    }
}

pub(crate) fn public_url(config: &Config, thread_id: i64) -> String {
    format!(
        "{}/t/{thread_id}",
        config.http.public_url.trim_end_matches('/')
    )
}

pub(crate) fn token_address(ctx: &Context<'_>, participant_id: i64) -> String {
    format!("t+{}@{}", ctx.key.issue(participant_id), ctx.config.domain)
}

fn bounce_address(config: &Config) -> String {
    format!("bounce@{}", config.domain)
}

fn via(name: &str) -> String {
    format!("{name} via nonono")
}

fn neutral_name(lang: Language) -> &'static str {
    match lang {
        Language::Fi => "Nimetön kirjoittaja",
        Language::En => "Anonymous writer",
    }
}

fn address_removed(lang: Language) -> &'static str {
    match lang {
        Language::Fi => "[osoite poistettu]",
        Language::En => "[address removed]",
    }
}

/// More messages than this from one envelope sender to the same addresses of ours within
/// [`LOOP_BRAKE_WINDOW`] seconds are held: a mail loop goes round one pair of addresses (an
/// auto-forward sending our mail back), and is stopped after a few rounds. A customer-service
/// desk answering many threads writes to a token of each, and is not.
const LOOP_BRAKE_PAIR: i64 = 6;
/// More messages than this from one envelope sender, to whatever addresses, are held: a
/// script, not a person or a desk.
const LOOP_BRAKE_SENDER: i64 = 300;
const LOOP_BRAKE_WINDOW: i64 = 600;

/// Why a new thread waits for its writer: a first message from an address.
pub const HELD_NEW_ADDRESS: &str = "confirmation";
/// Why a new thread waits for its writer: the text carries personal data.
pub const HELD_PERSONAL_DATA: &str = "personal-data";

/// A new thread going public: what the company and the writer are sent.
pub(crate) struct Announcement<'a> {
    pub thread_id: i64,
    pub title: &'a str,
    pub pseudonym: &'a str,
    pub body: &'a str,
    pub route_label: Option<&'a str>,
    pub consumer: i64,
    pub consumer_address: &'a str,
    /// The registered company and its participant (the route); `None` while the company
    /// named is not registered, and the feedback waits.
    pub company: Option<CompanySide<'a>>,
    /// The company's name as the thread shows it.
    pub company_name: &'a str,
    pub journal_id: Option<i64>,
}

/// The company side of a new thread: who it is and where its mail goes.
pub(crate) struct CompanySide<'a> {
    pub provider: &'a ProviderConfig,
    pub participant: i64,
    pub address: &'a str,
}

/// Queues the feedback to the company's route, when it has one, and the acknowledgement to
/// its writer.
fn announce(tx: &Tx<'_>, ctx: &Context<'_>, a: &Announcement<'_>) -> Result<(), PipelineError> {
    if let Some(company) = &a.company {
        forward(tx, ctx, a, company)?;
    }
    acknowledge(tx, ctx, a)
}

/// Queues the feedback to the company's route.
pub(crate) fn forward(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    a: &Announcement<'_>,
    company: &CompanySide<'_>,
) -> Result<(), PipelineError> {
    let url = public_url(ctx.config, a.thread_id);
    let (subject, text) = compose::forward_text(
        &compose::Forward {
            company: &company.provider.name,
            title: a.title,
            pseudonym: a.pseudonym,
            body: a.body,
            url: &url,
            full: company.provider.plan == crate::config::Plan::Full,
            has_representatives: !company.provider.representatives.is_empty(),
        },
        ctx.config.language,
    )?;
    let forward = Letter {
        from_name: via(a.pseudonym),
        from_address: token_address(ctx, company.participant),
        to: company.address.to_owned(),
        subject,
        body: text,
        references: Vec::new(),
        origin: Origin::Person,
    };
    send(
        tx,
        ctx,
        &forward,
        "forward",
        Some(a.thread_id),
        Some(company.participant),
        a.journal_id,
    )
}

/// Queues the acknowledgement to the writer.
fn acknowledge(tx: &Tx<'_>, ctx: &Context<'_>, a: &Announcement<'_>) -> Result<(), PipelineError> {
    let config = ctx.config;
    let url = public_url(config, a.thread_id);
    let erase_address = format!(
        "e+{}@{}",
        ctx.key.issue_for(Purpose::Erase, a.consumer),
        config.domain
    );
    let (subject, text) = compose::ack_text(
        &compose::Ack {
            erase_address: &erase_address,
            pseudonym: a.pseudonym,
            url: &url,
            company: a.company_name,
            route_label: a.route_label,
            response_days: a.company.as_ref().map_or(0, |c| c.provider.response_days),
            title: a.title,
            reachable: a.company.is_some(),
        },
        config.language,
    )?;
    let ack = Letter {
        from_name: via(a.company_name),
        from_address: token_address(ctx, a.consumer),
        to: a.consumer_address.to_owned(),
        subject,
        body: text,
        references: tx.references(a.consumer)?,
        origin: Origin::AutoReplied,
    };
    send(
        tx,
        ctx,
        &ack,
        "ack",
        Some(a.thread_id),
        Some(a.consumer),
        a.journal_id,
    )
}

/// Whether a reply to a confirmation request says no: its first line has a word of refusal
/// and none of assent ("Tämä ei ollut minulta!", "No, not me"; but "Kyllä, ei muuta").
fn declines(text: &str) -> bool {
    const NO: &[&str] = &[
        "ei", "en", "enkä", "älä", "no", "not", "never", "wasn't", "didn't", "nej", "inte",
    ];
    const YES: &[&str] = &[
        "kyllä",
        "joo",
        "juu",
        "ok",
        "vahvistan",
        "julkaise",
        "yes",
        "confirm",
        "publish",
        "ja",
    ];
    let Some(first) = text.lines().map(str::trim).find(|l| !l.is_empty()) else {
        return false;
    };
    let first = first.to_lowercase();
    let words: Vec<&str> = first
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .collect();
    words.iter().any(|w| NO.contains(w)) && !words.iter().any(|w| YES.contains(w))
}

/// A request to confirm a held thread.
struct Confirmation<'a> {
    thread_id: i64,
    consumer: i64,
    to: &'a str,
    pseudonym: &'a str,
    company: &'a str,
    title: &'a str,
    /// The personal data found, when that is why it is held.
    personal: &'a [&'a str],
    journal_id: Option<i64>,
}

/// Most waiting texts of a writer asked about when they confirm one.
const REASKED: usize = 3;

/// Asks the writer to confirm a held thread from its `c+` address; `once_a_day` keeps it to
/// one such request a day per address. Returns whether it was asked.
fn ask_to_confirm(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    c: &Confirmation<'_>,
    once_a_day: bool,
) -> Result<bool, PipelineError> {
    const PURPOSE: &str = "confirm";
    if once_a_day && tx.queued_since(c.to, PURPOSE, ctx.now - AUTOMATIC_ONCE_PER)? {
        return Ok(false);
    }
    let (subject, body) = compose::confirm_text(
        c.pseudonym,
        c.company,
        c.title,
        c.personal,
        ctx.config.language,
    )?;
    let letter = Letter {
        from_name: "nonono".into(),
        from_address: format!(
            "c+{}@{}",
            ctx.key.issue_for(Purpose::Confirm, c.thread_id),
            ctx.config.domain
        ),
        to: c.to.to_owned(),
        subject,
        body,
        references: tx.references(c.consumer)?,
        origin: Origin::AutoReplied,
    };
    send(
        tx,
        ctx,
        &letter,
        PURPOSE,
        Some(c.thread_id),
        Some(c.consumer),
        c.journal_id,
    )?;
    Ok(true)
}

/// The writer answered the confirmation request of a held thread: it goes public.
fn confirm(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    msg: &Message<'_>,
    thread_id: i64,
) -> Result<String, PipelineError> {
    if let Some(reason) = msg.hold_reason(tx, ctx)? {
        return Ok(format!(
            "confirmation for thread {thread_id} not taken: {reason}"
        ));
    }
    let thread = tx.thread(thread_id)?;
    if thread.held.is_none() {
        return Ok(format!("thread {thread_id} is public already"));
    }
    let opening = tx.opening(thread_id)?;
    if msg.speaker().ok() != Some(opening.consumer.address.clone()) {
        return Ok(format!(
            "confirmation for thread {thread_id} not taken: sender is not the writer"
        ));
    }
    // Anyone can write an address: its owner, asked about a text they did not write, says so.
    if declines(&answer_text(msg.mail, &[], ctx.config.language).text) {
        tx.purge_declined(thread_id)?;
        return Ok(format!(
            "thread {thread_id}: the address's owner says they did not write it; purged"
        ));
    }
    let provider = thread
        .provider
        .as_deref()
        .and_then(|s| ctx.config.provider(s));
    let company = match (provider, &opening.company) {
        (Some(provider), Some(participant)) => Some(CompanySide {
            provider,
            participant: participant.id,
            address: &participant.address,
        }),
        (None, None) => None,
        _ => {
            return Ok(format!(
                "thread {thread_id}: its company is no longer registered; kept held"
            ));
        }
    };
    if let Some(person) = opening.person_id {
        tx.confirm_person(person, ctx.now)?;
    }
    tx.release(thread_id)?;
    announce(
        tx,
        ctx,
        &Announcement {
            thread_id,
            title: &thread.title,
            pseudonym: &opening.consumer.public_name,
            body: &opening.body,
            route_label: thread.route_label.as_deref(),
            consumer: opening.consumer.id,
            consumer_address: &opening.consumer.address,
            company,
            company_name: &thread.company,
            journal_id: Some(msg.entry.id),
        },
    )?;
    // Requests for the writer's other held threads may have waited for the day's limit: the
    // writer has just shown the address is theirs, so each is asked now.
    let mut asked = 0;
    if let Some(person) = opening.person_id {
        // A few: the writer's own (more wait for the next confirmation), never a flood.
        for other in tx.held_for_confirmation(person)?.into_iter().take(REASKED) {
            let held = tx.opening(other)?;
            let thread = tx.thread(other)?;
            asked += usize::from(ask_to_confirm(
                tx,
                ctx,
                &Confirmation {
                    thread_id: other,
                    consumer: held.consumer.id,
                    to: &held.consumer.address,
                    pseudonym: &held.consumer.public_name,
                    company: &thread.company,
                    title: &thread.title,
                    personal: &[],
                    journal_id: Some(msg.entry.id),
                },
                false,
            )?);
        }
    }
    Ok(format!(
        "thread {thread_id} confirmed by its writer: public, forwarded and acknowledged{}",
        if asked > 0 {
            format!("; asked about {asked} more")
        } else {
            String::new()
        }
    ))
}

/// A writer asks to erase their feedback: only from the address it was written from.
fn erase(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    msg: &Message<'_>,
    participant: i64,
) -> Result<String, PipelineError> {
    let writer = match msg.writer_sending(tx, ctx, participant, "erasure")? {
        Ok(writer) => writer,
        Err(not_taken) => return Ok(not_taken),
    };
    let neutral = match ctx.config.language {
        Language::Fi => "Kirjoittaja poisti palautteensa",
        Language::En => "Removed by the writer",
    };
    let erased = tx.erase_by_writer(writer.id, neutral, ctx.now)?;
    // The request itself is the writer's mail too.
    tx.forget_raw(msg.entry.id)?;
    Ok(format!(
        "{erased} posts in thread {} erased by their writer",
        writer.thread_id
    ))
}

/// The writer says whether the company solved their problem: only from the writer's address,
/// and only a word we understand counts.
fn solved(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    msg: &Message<'_>,
    participant: i64,
) -> Result<String, PipelineError> {
    let writer = match msg.writer_sending(tx, ctx, participant, "solved? answer")? {
        Ok(writer) => writer,
        Err(not_taken) => return Ok(not_taken),
    };
    let answer = answer_text(msg.mail, &[], ctx.config.language);
    let Some(solved) = crate::solved::verdict(&msg.mail.subject, &answer.text) else {
        return Ok(format!(
            "solved? answer in thread {} not understood: kept",
            writer.thread_id
        ));
    };
    tx.record_solved(writer.thread_id, solved, ctx.now)?;
    tx.add_event(
        writer.thread_id,
        Some(msg.entry.id),
        crate::solved::EVENT_SOLVED,
        if solved { "yes" } else { "no" },
        ctx.now,
    )?;
    Ok(format!(
        "thread {}: the writer says {}",
        writer.thread_id,
        if solved { "solved" } else { "not solved" }
    ))
}

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
const POST_TEXT: usize = 100_000;

/// `text` cut to [`POST_TEXT`] bytes, with a note when it was cut.
fn post_text(text: &str, lang: Language) -> std::borrow::Cow<'_, str> {
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

fn untitled(lang: Language) -> &'static str {
    match lang {
        Language::Fi => "(ei otsikkoa)",
        Language::En => "(no subject)",
    }
}

/// Builds a letter and queues it in the same transaction.
/// Queues an automatic letter to the company side of a thread, from each company participant's
/// reply address: answering it answers the feedback.
pub(crate) fn write_to_company(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    thread_id: i64,
    purpose: &'static str,
    subject: &str,
    body: &str,
) -> Result<(), PipelineError> {
    for company in tx.participants(thread_id, Role::Provider)? {
        let letter = Letter {
            from_name: "nonono".into(),
            from_address: token_address(ctx, company.id),
            to: company.address.clone(),
            subject: subject.to_owned(),
            body: body.to_owned(),
            references: tx.references(company.id)?,
            origin: Origin::Automatic,
        };
        send(
            tx,
            ctx,
            &letter,
            purpose,
            Some(thread_id),
            Some(company.id),
            None,
        )?;
    }
    Ok(())
}

/// Automatic mail of one kind goes to one address at most once in this span, however often
/// someone asks for it in that address's name.
const AUTOMATIC_ONCE_PER: i64 = 86_400;

/// Queues automatic mail to a writer (help, a confirmation request, a notice) unless mail of
/// this `purpose` went to the same address within [`AUTOMATIC_ONCE_PER`]. Returns whether it
/// was queued.
pub(crate) fn send_automatic(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    letter: &Letter,
    purpose: &'static str,
    thread_id: Option<i64>,
    journal_id: Option<i64>,
) -> Result<bool, PipelineError> {
    if tx.queued_since(&letter.to, purpose, ctx.now - AUTOMATIC_ONCE_PER)? {
        return Ok(false);
    }
    send(tx, ctx, letter, purpose, thread_id, None, journal_id)?;
    Ok(true)
}

/// Queues a letter with a bounce address that names it (VERP).
pub(crate) fn send(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    letter: &Letter,
    purpose: &'static str,
    thread_id: Option<i64>,
    participant_id: Option<i64>,
    journal_id: Option<i64>,
) -> Result<(), PipelineError> {
    let built = compose::build(letter, ctx.config, ctx.now)?;
    let id = tx.queue(
        &Outbound {
            thread_id,
            participant_id,
            journal_id,
            purpose,
            mail_from: bounce_address(ctx.config),
            rcpt_to: letter.to.clone(),
            message_id: built.message_id,
            raw: built.raw,
        },
        ctx.now,
    )?;
    // Its bounce, if any, comes back to an address that names this very message.
    let verp = format!(
        "b+{}@{}",
        ctx.key.issue_for(Purpose::Bounce, id),
        ctx.config.domain
    );
    tx.set_envelope_sender(id, &verp)?;
    Ok(())
}

/// A delivery report (or an automatic reply sent to our envelope sender) for one of our messages.
fn bounce(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    msg: &Message<'_>,
    outbox: i64,
) -> Result<String, PipelineError> {
    match msg.class {
        Class::Bounce => {
            let Some(origin) = tx.bounced(outbox, msg.entry.id, ctx.now)? else {
                return Ok("bounce for a message we no longer have: kept".into());
            };
            delivery_failed(tx, ctx.config, &origin, &msg.mail.subject, ctx.now)?;
            Ok(format!(
                "bounce for outbound {outbox} ({}): recorded, operator told",
                origin.purpose
            ))
        }
        Class::AutoReply => {
            if let Some(MessageOrigin {
                thread_id: Some(thread),
                ..
            }) = tx.origin(outbox)?
            {
                tx.add_event(
                    thread,
                    Some(msg.entry.id),
                    crate::store::EVENT_AUTO_REPLY,
                    "",
                    ctx.now,
                )?;
            }
            Ok(format!(
                "automatic reply to outbound {outbox}: recorded, not relayed"
            ))
        }
        Class::Human => Ok(format!(
            "mail to the bounce address of outbound {outbox}: kept"
        )),
    }
}

/// The outbox purpose of mail to the operator.
pub const PURPOSE_OPERATOR: &str = "operator";

/// A message was accepted by its receiving server. When it went to a company, that company's
/// response time starts now (or again, after its mail bounced).
pub fn delivered(
    tx: &Tx<'_>,
    config: &Config,
    origin: &MessageOrigin,
    now: i64,
) -> Result<(), PipelineError> {
    let (Some(thread_id), true) = (origin.thread_id, origin.to_company) else {
        return Ok(());
    };
    let thread = tx.thread(thread_id)?;
    let Some(provider) = thread.provider.as_deref().and_then(|s| config.provider(s)) else {
        return Ok(());
    };
    let due =
        crate::calendar::add_working_days(now, provider.response_days, &config.extra_days_off());
    tx.company_reached(thread_id, now, due)?;
    Ok(())
}

/// A message could not be delivered. When it went to a company, the company's clock stops
/// until mail gets through; the operator is told by mail when `operator_address` is configured
/// (the log has it either way).
pub fn delivery_failed(
    tx: &Tx<'_>,
    config: &Config,
    origin: &MessageOrigin,
    detail: &str,
    now: i64,
) -> Result<(), PipelineError> {
    if let (Some(thread_id), true) = (origin.thread_id, origin.to_company) {
        tx.company_unreachable(thread_id, now)?;
    }
    tracing::warn!(
        outbox = origin.outbox,
        thread = origin.thread_id,
        "delivery failed ({})",
        origin.purpose
    );
    let thread = origin
        .thread_id
        .map(|t| public_url(config, t))
        .unwrap_or_else(|| "-".into());
    let (subject, body) = match config.language {
        Language::Fi => (
            format!("Toimitus epäonnistui: viesti {}", origin.outbox),
            format!(
                "Viestiä {} ({}) ei voitu toimittaa.\n\nKetju: {thread}\nSyy: {detail}\n\nKomento `nonono queue` näyttää jonon.\n",
                origin.outbox, origin.purpose
            ),
        ),
        Language::En => (
            format!("Delivery failed: message {}", origin.outbox),
            format!(
                "Message {} ({}) could not be delivered.\n\nThread: {thread}\nReason: {detail}\n\n`nonono queue` shows the queue.\n",
                origin.outbox, origin.purpose
            ),
        ),
    };
    tell_operator(tx, config, PURPOSE_OPERATOR, subject, body, now)
}

/// Queues a plain notice to the operator, when one is configured.
pub(crate) fn tell_operator(
    tx: &Tx<'_>,
    config: &Config,
    purpose: &'static str,
    subject: String,
    body: String,
    now: i64,
) -> Result<(), PipelineError> {
    let Some(operator) = &config.operator_address else {
        return Ok(());
    };
    let letter = Letter {
        from_name: "nonono".into(),
        from_address: format!("postmaster@{}", config.domain),
        to: operator.clone(),
        subject,
        body,
        references: Vec::new(),
        origin: compose::Origin::Automatic,
    };
    let built = compose::build(&letter, config, now)?;
    tx.queue(
        &Outbound {
            // Not tied to the thread: a notice that fails in turn is no event of the thread.
            thread_id: None,
            participant_id: None,
            journal_id: None,
            purpose,
            // Never a bounce address: a failing notice must not bounce into another notice.
            mail_from: String::new(),
            rcpt_to: operator.clone(),
            message_id: built.message_id,
            raw: built.raw,
        },
        now,
    )?;
    Ok(())
}

/// The purpose of the private note to a company whose answer blames the writer.
const PURPOSE_BLAME_NOTE: &str = "blame-note";
/// How many of a company's earlier answers a new one is compared with.
const TEMPLATE_LOOKBACK: usize = 200;

/// Marks a company's answer (and the earlier ones it repeats) as a template, and tells the
/// company privately, once per thread, when the answer blames or deflects.
fn judge_answer(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    thread: &crate::store::Thread,
    company: &Participant,
    post_id: i64,
    text: &str,
) -> Result<(), PipelineError> {
    if let Some(provider) = thread.provider.as_deref() {
        let this = tone::shingles(text);
        let mut template = false;
        for (earlier, body) in tx.company_answers(provider, thread.id, TEMPLATE_LOOKBACK)? {
            if tone::same_template(&this, &tone::shingles(&body)) {
                tx.mark_template(earlier)?;
                template = true;
            }
        }
        if template {
            tx.mark_template(post_id)?;
        }
    }
    let Some(phrase) = tone::blame(text) else {
        return Ok(());
    };
    if tx.sent_in_thread(thread.id, PURPOSE_BLAME_NOTE)? {
        return Ok(());
    }
    let url = public_url(ctx.config, thread.id);
    let (subject, body) = match ctx.config.language {
        Language::Fi => (
            format!("Vastauksestanne: {}", thread.title),
            format!(
                "Hei,\n\nvastauksenne on julkaistu sellaisenaan: {url}\n\nSe sisältää ilmauksen \"{phrase}\". Lukijalle se kuulostaa siltä, että vastuu siirretään kirjoittajalle tai muualle, ja se heikentää luottamusta enemmän kuin itse ongelma. Hyvä vastaus ottaa asian vakavasti, kertoo mitä teette sen ratkaisemiseksi, pyytää anteeksi vilpittömästi ja antaa suoran yhteystiedon. Voitte vastata ketjuun uudelleen milloin tahansa.\n\nTämä viesti on vain teille; sitä ei julkaista.\n"
            ),
        ),
        Language::En => (
            format!("About your answer: {}", thread.title),
            format!(
                "Hello,\n\nyour answer is published as written: {url}\n\nIt says \"{phrase}\". To a reader that sounds like passing the responsibility to the writer or elsewhere, and it costs more trust than the problem itself. A good answer takes the matter seriously, says what you do to solve it, apologises sincerely and offers a direct contact. You can answer in the thread again at any time.\n\nThis note is for you only; it is not published.\n"
            ),
        ),
    };
    let letter = Letter {
        from_name: "nonono".into(),
        from_address: format!("postmaster@{}", ctx.config.domain),
        to: company.address.clone(),
        subject,
        body,
        references: Vec::new(),
        origin: Origin::Automatic,
    };
    send(
        tx,
        ctx,
        &letter,
        PURPOSE_BLAME_NOTE,
        Some(thread.id),
        Some(company.id),
        None,
    )
}

/// Tells the operator that an answer claiming to be the company did not prove it.
fn report_unverified(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    thread: &crate::store::Thread,
    evidence: Option<&Evidence>,
) -> Result<(), PipelineError> {
    let url = public_url(ctx.config, thread.id);
    let why = evidence.map_or_else(
        || "not a listed representative".to_owned(),
        Evidence::summary,
    );
    let (subject, body) = match ctx.config.language {
        Language::Fi => (
            format!("Vahvistamaton vastaus: {}", thread.company),
            format!(
                "Ketjuun tuli vastaus, joka esiintyy yrityksenä {} mutta ei todentunut sen edustajaksi. Se julkaistiin merkinnällä \"vahvistamaton\" eikä se lasketa yrityksen lukuihin.\n\nKetju: {url}\nTarkistus: {why}\n",
                thread.company
            ),
        ),
        Language::En => (
            format!("Unverified answer: {}", thread.company),
            format!(
                "A thread received an answer that claims to be {} but did not authenticate as its representative. It was published as \"unverified\" and is not counted in the company's figures.\n\nThread: {url}\nCheck: {why}\n",
                thread.company
            ),
        ),
    };
    tell_operator(tx, ctx.config, PURPOSE_OPERATOR, subject, body, ctx.now)
}

fn new_feedback(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    msg: &Message<'_>,
    addressed_to: Option<&str>,
) -> Result<String, PipelineError> {
    if let Some(reason) = msg.hold_reason(tx, ctx)? {
        return hold(tx, ctx, msg, None, "new feedback", reason);
    }
    let config = ctx.config;
    let tag = route::find_tag(&msg.mail.subject, &config.providers);
    // The company this feedback is about, or with no company named, the one whose
    // representative writes: its own people answer, they do not give feedback about it.
    let from = msg.sender().unwrap_or_default();
    let represents = |p: &&ProviderConfig| route::is_representative(p, &from);
    let about = match (addressed_to, &tag) {
        (Some(slug), _) => config.provider(slug).filter(represents),
        (None, Tag::Known { slug, .. }) => config.provider(slug).filter(represents),
        (None, Tag::Missing) => config.providers.iter().find(represents),
        (None, Tag::Unknown { .. }) => None,
    };
    if let Some(company) = about {
        return company_mail_without_thread(tx, ctx, msg, company);
    }
    let sender = match msg.reply_address(ctx) {
        Ok(sender) => sender,
        Err(reason) => return hold(tx, ctx, msg, None, "new feedback", reason),
    };
    let (provider, company_name, title) = match (addressed_to, tag) {
        (
            Some(slug),
            Tag::Known {
                slug: tagged,
                title,
            },
        ) if tagged == slug => (config.provider(slug), String::new(), title),
        (Some(slug), _) => (
            config.provider(slug),
            String::new(),
            msg.mail.subject.clone(),
        ),
        (None, Tag::Known { slug, title }) => (config.provider(&slug), String::new(), title),
        // "Any service": feedback about a company not registered yet is published anyway and
        // waits for the company to be registered.
        (None, Tag::Unknown { tag, title }) => (None, mail::write::one_line(&tag), title),
        (None, Tag::Missing) => {
            return Ok(if help(tx, ctx, msg, &sender)? {
                "no company tag: kept, help sent".into()
            } else {
                "no company tag: kept, help sent to this address already today".into()
            });
        }
    };
    let company_name = provider.map_or(company_name, |p| p.name.clone());
    let title = mail::write::one_line(&title);
    let title = if title.is_empty() {
        untitled(config.language).to_owned()
    } else {
        title
    };
    let (pseudonym, body) = feedback_text(msg.mail, config.language);
    if !mail::has_visible_text(&body) {
        return hold(tx, ctx, msg, None, "new feedback", "no text to publish");
    }
    let title = mail::redact_addresses(&title, address_removed(config.language));
    let choice = provider.map(|p| route::choose_route(p, &title, &body));
    let personal = crate::screen::personal_data(&format!("{pseudonym}\n{title}\n{body}"));
    let now = ctx.now;
    let journal_id = msg.entry.id;

    let person = tx.person(&sender, now)?;
    // Held back from the public, and from the company, until the writer confirms: a first
    // message from an address, and, with sender authentication on, any message whose From did
    // not authenticate (once an address has confirmed, anyone could write its From).
    let held = if config.trust.require_confirmation
        && (!tx.person_confirmed(person)? || msg.evidence.is_some_and(|e| !e.verified))
    {
        Some(HELD_NEW_ADDRESS)
    } else if !personal.is_empty() {
        Some(HELD_PERSONAL_DATA)
    } else {
        None
    };
    let thread_id = tx.create_thread(&NewThread {
        provider: provider.map(|p| p.slug.as_str()),
        company: &company_name,
        title: &title,
        route: choice.as_ref().map(|c| c.address.as_str()),
        route_label: choice.as_ref().and_then(|c| c.label.as_deref()),
        journal_id,
        created_at: now,
        due_at: provider.map(|p| {
            crate::calendar::add_working_days(now, p.response_days, &config.extra_days_off())
        }),
        held,
    })?;
    let consumer = tx.add_participant(
        thread_id,
        Role::Consumer,
        &sender,
        &pseudonym,
        Some(person),
        now,
    )?;
    let company = match (provider, &choice) {
        (Some(provider), Some(choice)) => Some((
            provider,
            tx.add_participant(
                thread_id,
                Role::Provider,
                &choice.address,
                &provider.name,
                None,
                now,
            )?,
        )),
        _ => None,
    };
    tx.add_post(&NewPost {
        thread_id,
        participant_id: Some(consumer),
        journal_id: Some(journal_id),
        kind: PostKind::Consumer,
        author: &pseudonym,
        body: &body,
        trimmed: "",
        uncut: false,
        attachments: msg.mail.attachments,
        message_id: msg.mail.message_id.as_deref(),
        created_at: now,
        evidence: None,
    })?;
    if let Some(why) = held {
        let found: Vec<&str> = personal
            .iter()
            .map(|p| p.name(config.language == Language::Fi))
            .collect();
        let asked = ask_to_confirm(
            tx,
            ctx,
            &Confirmation {
                thread_id,
                consumer,
                to: &sender,
                pseudonym: &pseudonym,
                company: &company_name,
                title: &title,
                // Named whatever else holds it: the writer's yes publishes it as written.
                personal: &found,
                journal_id: Some(journal_id),
            },
            // Proof of an address is asked once a day: anyone can write an address that does
            // not authenticate. A confirmed writer is asked about each text's personal data.
            why == HELD_NEW_ADDRESS,
        )?;
        return Ok(format!(
            "new thread {thread_id} held until the writer confirms ({why}){}",
            if asked { "" } else { "; asked already today" }
        ));
    }
    announce(
        tx,
        ctx,
        &Announcement {
            thread_id,
            title: &title,
            pseudonym: &pseudonym,
            body: &body,
            route_label: choice.as_ref().and_then(|c| c.label.as_deref()),
            consumer,
            consumer_address: &sender,
            company: company.map(|(provider, participant)| CompanySide {
                provider,
                participant,
                address: &choice
                    .as_ref()
                    .expect("a registered company has a route")
                    .address,
            }),
            company_name: &company_name,
            journal_id: Some(journal_id),
        },
    )?;
    Ok(match provider {
        Some(p) => format!(
            "new thread {thread_id} for {}, forwarded and acknowledged",
            p.slug
        ),
        None => {
            format!("new thread {thread_id} for a company not registered yet: published, waits")
        }
    })
}

fn help(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    msg: &Message<'_>,
    sender: &str,
) -> Result<bool, PipelineError> {
    let (subject, body) = compose::help_text(None, ctx.config, &msg.mail.subject)?;
    let letter = Letter {
        from_name: "nonono".into(),
        from_address: format!("palaute@{}", ctx.config.domain),
        to: sender.to_owned(),
        subject,
        body,
        references: msg.mail.message_id.iter().cloned().collect(),
        origin: Origin::AutoReplied,
    };
    send_automatic(tx, ctx, &letter, "help", None, Some(msg.entry.id))
}

fn reply(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    msg: &Message<'_>,
    participant_id: i64,
) -> Result<String, PipelineError> {
    let Some(author) = tx.participant(participant_id)? else {
        return Ok("reply to a participant that no longer exists: kept".into());
    };
    let thread = tx.thread(author.thread_id)?;
    if tx.posted_from(msg.entry.id, thread.id)? {
        return Ok(format!(
            "thread {}: published from this message already",
            thread.id
        ));
    }
    let now = ctx.now;
    let journal_id = Some(msg.entry.id);
    // An automatic reply is an event of the thread (a company's counts as acknowledged), never
    // a post; the event holds how long after our mail it came.
    let automatic = || -> Result<String, PipelineError> {
        let after = tx
            .last_sent_to(author.id)?
            .map(|sent| (now - sent).max(0))
            .unwrap_or(0);
        tx.add_event(
            thread.id,
            journal_id,
            crate::store::EVENT_AUTO_REPLY,
            &after.to_string(),
            now,
        )?;
        Ok(format!(
            "automatic reply in thread {}: recorded, not relayed",
            thread.id
        ))
    };
    match msg.class {
        Class::AutoReply => return automatic(),
        Class::Bounce => {
            tx.add_event(thread.id, journal_id, "bounce", author_role(&author), now)?;
            return Ok(format!(
                "bounce in thread {}: recorded, not relayed",
                thread.id
            ));
        }
        Class::Human => {}
    }
    if let Some(reason) = msg.hold_reason(tx, ctx)? {
        return hold(tx, ctx, msg, Some(thread.id), "reply", reason);
    }
    let sender = msg.sender().expect("hold_reason checked the sender");
    let speaker = msg.speaker();
    let sent = tx.sent_to(author.id, msg.entry.id, SENT_CONSIDERED)?;
    let answer = answer_text(msg.mail, &sent, ctx.config.language);
    // A helpdesk's "we received your request #123" carries no header that says so: its text
    // does, and only a company's mail is read for it.
    if author.role == Role::Provider && mail::classify::is_acknowledgement(&answer.text) {
        return automatic();
    }
    let (text, trimmed) = (answer.text.clone(), answer.trimmed.clone());
    let provider = thread
        .provider
        .as_deref()
        .and_then(|s| ctx.config.provider(s));
    if answer.ours_left && !msg.entry.released {
        let reason = "the answer could not be told apart from the text we sent";
        return hold(tx, ctx, msg, Some(thread.id), "reply", reason);
    }
    if !mail::has_visible_text(&text) {
        return hold(tx, ctx, msg, Some(thread.id), "reply", "no text to publish");
    }
    if !msg.entry.released {
        let personal = crate::screen::personal_data(&text);
        if !personal.is_empty() {
            return hold_personal_reply(tx, ctx, msg, &thread, &personal);
        }
    }
    let (kind, post_author, others) = match author.role {
        Role::Provider => {
            let kind = if is_official(provider, &sender, msg.evidence) {
                PostKind::Official
            } else {
                PostKind::Unverified
            };
            (kind, thread.company.clone(), Role::Consumer)
        }
        Role::Consumer => {
            let not_the_writer = match &speaker {
                Ok(speaker) if *speaker == author.address => None,
                Ok(_) => Some("sender is not the writer"),
                Err(reason) => Some(*reason),
            };
            if let Some(reason) = not_the_writer {
                return hold(tx, ctx, msg, Some(thread.id), "reply", reason);
            }
            (
                PostKind::Consumer,
                author.public_name.clone(),
                Role::Provider,
            )
        }
    };
    let post_id = tx.add_post(&NewPost {
        thread_id: thread.id,
        participant_id: Some(author.id),
        journal_id,
        kind,
        author: &post_author,
        body: &text,
        trimmed: &trimmed,
        uncut: answer.uncut,
        attachments: msg.mail.attachments,
        message_id: msg.mail.message_id.as_deref(),
        created_at: now,
        evidence: msg.evidence,
    })?;
    match kind {
        // Once a thread: forged answers to one token must not flood the operator.
        PostKind::Unverified if tx.count_posts(thread.id, PostKind::Unverified)? == 1 => {
            report_unverified(tx, ctx, &thread, msg.evidence)?
        }
        PostKind::Official => judge_answer(tx, ctx, &thread, &author, post_id, &text)?,
        _ => {}
    }
    let url = public_url(ctx.config, thread.id);
    let recipients = tx.participants(thread.id, others)?;
    for to in &recipients {
        let (subject, body) = compose::relay_text(
            &compose::Relay {
                author: &post_author,
                official: kind == PostKind::Official,
                unverified: kind == PostKind::Unverified,
                title: &thread.title,
                body: &text,
                url: &url,
            },
            ctx.config.language,
        )?;
        let from_name = if kind == PostKind::Unverified {
            match ctx.config.language {
                Language::Fi => format!("{post_author} (vahvistamaton)"),
                Language::En => format!("{post_author} (unverified)"),
            }
        } else {
            post_author.clone()
        };
        let letter = Letter {
            from_name: via(&from_name),
            from_address: token_address(ctx, to.id),
            to: to.address.clone(),
            subject,
            body,
            references: tx.references(to.id)?,
            origin: Origin::Person,
        };
        send(
            tx,
            ctx,
            &letter,
            "relay",
            Some(thread.id),
            Some(to.id),
            Some(msg.entry.id),
        )?;
    }
    Ok(format!(
        "{} post in thread {}, relayed to {}",
        kind.as_str(),
        thread.id,
        recipients.len()
    ))
}

/// Puts the message in the holding pen for `reason` (a person looks at it there), records it
/// on the thread it was headed for, and says so in the outcome: `what` was held.
fn hold(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    msg: &Message<'_>,
    thread: Option<i64>,
    what: &str,
    reason: &str,
) -> Result<String, PipelineError> {
    tx.hold(msg.entry.id, thread, reason, ctx.now)?;
    if let Some(thread) = thread {
        tx.add_event(thread, Some(msg.entry.id), "held", reason, ctx.now)?;
    }
    Ok(match thread {
        Some(thread) => format!("{what} in thread {thread} held: {reason}"),
        None => format!("{what} held: {reason}"),
    })
}

/// Mail from a representative of `company` to an address of ours that names no thread
/// (`palaute@`, `SLUG@`: reply-all, or a client that ignores Reply-To). A company's own people
/// never open feedback about it: the mail answers the thread whose mail of ours it names in
/// `In-Reply-To`/`References`, else, when it authenticated, the one open thread its subject
/// names; failing both it is held, and its sender is told how to answer.
fn company_mail_without_thread(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    msg: &Message<'_>,
    company: &ProviderConfig,
) -> Result<String, PipelineError> {
    let mail = msg.mail;
    let answered: Vec<String> = mail
        .in_reply_to
        .iter()
        .chain(&mail.references)
        .cloned()
        .collect();
    let title = mail::write::one_line(&route::subject_title(&mail.subject));
    // The ids of our mail are known only to those who got it, as a token is; a title is
    // public, so a subject finds a thread only for mail that authenticated as the company's.
    let authenticated = msg.evidence.is_some_and(|e| e.verified);
    let traced = match tx.company_side_of_sent(&company.slug, &answered)? {
        Some(participant) => Some((participant, "the mail it answers")),
        None if authenticated => match tx.company_sides_titled(&company.slug, &title)?[..] {
            [participant] => Some((participant, "its subject")),
            _ => None,
        },
        None => None,
    };
    if let Some((participant, by)) = traced {
        let outcome = reply(tx, ctx, msg, participant)?;
        return Ok(format!(
            "{outcome} (to an address without a thread; found by {by})"
        ));
    }
    let told = match msg.reply_address(ctx) {
        Ok(sender) => {
            let (subject, body) =
                compose::not_an_answer_text(&company.name, &mail.subject, ctx.config)?;
            let letter = Letter {
                from_name: "nonono".into(),
                from_address: format!("palaute@{}", ctx.config.domain),
                to: sender,
                subject,
                body,
                references: mail.message_id.iter().cloned().collect(),
                origin: Origin::AutoReplied,
            };
            send_automatic(tx, ctx, &letter, "not-an-answer", None, Some(msg.entry.id))?
        }
        Err(_) => false,
    };
    let reason = format!(
        "from a representative of {} to an address without a thread, and matching none{}",
        company.slug,
        if told {
            "; its sender is told how to answer"
        } else {
            ""
        }
    );
    hold(tx, ctx, msg, None, "mail", &reason)
}

/// Holds a reply with personal data in it, from either side, until its writer says publish:
/// nothing of it is published or passed on meanwhile.
fn hold_personal_reply(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    msg: &Message<'_>,
    thread: &crate::store::Thread,
    personal: &[crate::screen::Personal],
) -> Result<String, PipelineError> {
    tx.add_event(
        thread.id,
        Some(msg.entry.id),
        "held",
        HELD_PERSONAL_DATA,
        ctx.now,
    )?;
    tx.hold_for_publication(msg.entry.id)?;
    tx.hold(
        msg.entry.id,
        Some(thread.id),
        "personal data; its writer is asked whether to publish",
        ctx.now,
    )?;
    let found: Vec<&str> = personal
        .iter()
        .map(|p| p.name(ctx.config.language == Language::Fi))
        .collect();
    let writer = match msg.reply_address(ctx) {
        Ok(writer) => writer,
        Err(reason) => {
            tell_operator(
                tx,
                ctx.config,
                PURPOSE_OPERATOR,
                format!("Reply held: thread {}", thread.id),
                format!(
                    "A reply in thread {} (journal entry {}) carries personal data ({}) and is held. Its writer cannot be asked: {reason}.\n",
                    thread.id,
                    msg.entry.id,
                    found.join(", ")
                ),
                ctx.now,
            )?;
            return Ok(format!(
                "reply in thread {} held: personal data; the writer cannot be asked ({reason})",
                thread.id
            ));
        }
    };
    let (subject, body) = compose::publish_text(&thread.title, &found, ctx.config.language)?;
    let letter = Letter {
        from_name: "nonono".into(),
        from_address: format!(
            "p+{}@{}",
            ctx.key.issue_for(Purpose::Publish, msg.entry.id),
            ctx.config.domain
        ),
        to: writer,
        subject,
        body,
        references: msg.mail.message_id.iter().cloned().collect(),
        origin: Origin::AutoReplied,
    };
    send(
        tx,
        ctx,
        &letter,
        "publish-ask",
        Some(thread.id),
        None,
        Some(msg.entry.id),
    )?;
    Ok(format!(
        "reply in thread {} held: personal data; its writer is asked",
        thread.id
    ))
}

/// Mail to `p+TOKEN@`: the writer of a held reply says publish it as written.
fn publish(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    msg: &Message<'_>,
    held: i64,
) -> Result<String, PipelineError> {
    if let Some(reason) = msg.hold_reason(tx, ctx)? {
        return Ok(format!("publication of entry {held} not taken: {reason}"));
    }
    let Some(raw) = tx.held_for_publication(held)? else {
        return Ok(format!("publication of entry {held}: nothing waits for it"));
    };
    let writer = mail::parse(&raw).from.map(|f| f.address);
    if writer.is_none() || msg.reply_address(ctx).ok() != writer {
        return Ok(format!(
            "publication of entry {held} not taken: sender is not its writer"
        ));
    }
    tx.publish_held(held)?;
    tx.close_hold(held, "released by its writer", ctx.now)?;
    Ok(format!(
        "entry {held}: its writer says publish; processed again"
    ))
}

/// Whether an answer counts as the provider's own: From is one of its representatives and,
/// when sender authentication is on (`evidence` is then present), the From domain authenticated.
fn is_official(
    provider: Option<&ProviderConfig>,
    sender: &str,
    evidence: Option<&Evidence>,
) -> bool {
    provider.is_some_and(|p| route::is_representative(p, sender))
        && evidence.is_none_or(|e| e.verified)
}

fn author_role(p: &Participant) -> &'static str {
    match p.role {
        Role::Consumer => "consumer",
        Role::Provider => "provider",
    }
}

fn to_operator(tx: &Tx<'_>, ctx: &Context<'_>, msg: &Message<'_>) -> Result<String, PipelineError> {
    let Some(operator) = &ctx.config.operator_address else {
        return Ok("mail for the operator: kept in the journal".into());
    };
    if msg.hold_reason(tx, ctx)?.is_some() && msg.class != Class::Bounce {
        return Ok("automatic mail for the operator: kept in the journal".into());
    }
    tx.queue(
        &Outbound {
            thread_id: None,
            participant_id: None,
            journal_id: Some(msg.entry.id),
            purpose: PURPOSE_OPERATOR,
            mail_from: bounce_address(ctx.config),
            rcpt_to: operator.clone(),
            message_id: msg.mail.message_id.clone().unwrap_or_default(),
            raw: msg.entry.raw.clone(),
        },
        ctx.now,
    )?;
    Ok("mail for the operator: forwarded".into())
}

/// Wakes a worker thread when there is new work; a missed ring is caught by the timeout.
#[derive(Default)]
pub struct Doorbell {
    ring: Mutex<Ring>,
    cond: Condvar,
    /// Set once no more work will come: the worker finishes what is pending and ends.
    closed: AtomicBool,
}

#[derive(Default)]
struct Ring {
    /// Rung since the worker last waited.
    pending: bool,
    /// When it was last rung.
    at: Option<Instant>,
}

impl Doorbell {
    /// Tells the worker to finish what is pending and end.
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.ring();
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Tells the waiting worker there is work.
    pub fn ring(&self) {
        let mut ring = self.ring.lock().expect("doorbell lock");
        *ring = Ring {
            pending: true,
            at: Some(Instant::now()),
        };
        self.cond.notify_all();
    }

    /// Whether it was rung less than `span` ago.
    fn rung_within(&self, span: Duration) -> bool {
        let ring = self.ring.lock().expect("doorbell lock");
        ring.at.is_some_and(|at| at.elapsed() < span)
    }

    /// Waits for a ring or the timeout.
    pub fn wait(&self, timeout: Duration) {
        let guard = self.ring.lock().expect("doorbell lock");
        let (mut guard, _) = self
            .cond
            .wait_timeout_while(guard, timeout, |ring| !ring.pending)
            .expect("doorbell lock");
        guard.pending = false;
    }
}

/// Most journal entries applied in one transaction, and most bytes of raw mail read for them
/// (a message may be 25 MB).
pub(crate) const BATCH: usize = 64;
pub(crate) const BATCH_BYTES: i64 = 8 << 20;

/// While the receiver is committing mail (its last commit less than [`LULL`] ago), the worker
/// waits for a lull before it works: taking mail comes first (as with Exim's
/// `queue_only_load`), since on a small machine the pipeline's disk writes and CPU slow every
/// commit that a `250` waits on. It waits at most [`MAX_DEFER`], and not once this many
/// messages wait for it (half of the flow control's threshold, so that it is at work before
/// senders are slowed); then it works until it has caught up.
const DEFER_BACKLOG: i64 = crate::inbound::FLOW_BACKLOG / 2;
/// A pause in receiving this long is a lull.
const LULL: Duration = Duration::from_millis(50);
/// Longest wait for a lull: under steady traffic there may be none, and mail is published
/// within seconds all the same.
const MAX_DEFER: Duration = Duration::from_secs(2);

/// Whether the worker waits for a lull now (see [`DEFER_BACKLOG`]).
struct Deferral {
    /// When the current wait began.
    since: Option<Instant>,
    /// Cleared when a wait ends, set again once the worker has caught up.
    armed: bool,
}

impl Deferral {
    fn new() -> Self {
        Deferral {
            since: None,
            armed: true,
        }
    }

    /// Whether to wait, with mail coming in or not and `backlog` messages waiting.
    fn wait(&mut self, receiving: bool, backlog: i64, now: Instant) -> bool {
        if self.armed && receiving && backlog < DEFER_BACKLOG {
            let since = *self.since.get_or_insert(now);
            if now.duration_since(since) < MAX_DEFER {
                return true;
            }
        }
        self.armed = false;
        self.since = None;
        false
    }

    /// Nothing waits for the worker: the next burst may wait for its lull.
    fn caught_up(&mut self) {
        self.armed = true;
    }
}

/// How the pipeline worker hears of work and tells of what it did.
pub struct Signals {
    /// Rung at every commit of received mail; closed when the service stops.
    pub doorbell: Arc<Doorbell>,
    /// The backlog, counted down as entries are finished; the worker waits for no lull once it
    /// is long.
    pub metrics: Arc<Metrics>,
    /// Woken when finished entries may have queued outbound mail.
    pub relay: Arc<Notify>,
}

/// The pipeline worker: moves received mail from the intake and processes pending journal
/// entries until the doorbell is closed and nothing is pending. Runs on its own thread with its
/// own store connections.
pub fn run(
    mut store: Store,
    mut intake: Mover,
    config: Arc<Config>,
    key: TokenKey,
    authenticator: Option<Authenticator>,
    signals: Signals,
) {
    let Signals {
        doorbell,
        metrics,
        relay,
    } = signals;
    let mut journal_short = true;
    let mut deferral = Deferral::new();
    let watch = Watch::start_watchdog(MESSAGE_BUDGET);
    loop {
        let receiving = !doorbell.is_closed() && doorbell.rung_within(LULL);
        if deferral.wait(receiving, metrics.backlog(), Instant::now()) {
            std::thread::sleep(LULL / 5);
            continue;
        }
        // What the receiver committed since, into the journal (synced), once the journal holds
        // less than a batch: under a flood, one move (and one sync) then takes thousands.
        // If that fails it stays in the intake and is tried again next round.
        if journal_short && let Err(e) = intake.move_all() {
            tracing::error!("pipeline: moving received mail into the journal: {e}");
            std::thread::sleep(Duration::from_millis(200));
        }
        let mut batch = match store.pending_journal(BATCH, BATCH_BYTES) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!("pipeline: reading the journal: {e}");
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
        };
        journal_short = batch.len() < BATCH;
        let ctx = Context {
            config: &config,
            key: &key,
            authenticator: authenticator.as_ref(),
            now: crate::clock::now(),
        };
        // Work was begun on an entry before and never finished: the process ended under it (a
        // crash, an abort, the time budget, or a kill from outside). Such an entry is worked
        // on alone, and after its last attempt set aside, so one message cannot stop the
        // service for good and the rest go on.
        if let Some(tried) = batch.iter().position(|e| e.attempts > 0) {
            batch.truncate(tried.max(1));
            if tried == 0 && batch[0].attempts >= MOST_ATTEMPTS {
                match set_aside(&mut store, &ctx, &batch[0]) {
                    Ok(()) => metrics.processed(1),
                    Err(e) => {
                        tracing::error!(journal = batch[0].id, "pipeline: setting aside: {e}");
                        std::thread::sleep(Duration::from_secs(1));
                    }
                }
                continue;
            }
        }
        if batch.is_empty() {
            deferral.caught_up();
            if doorbell.is_closed() {
                return;
            }
            // Also how soon work put back in line from outside (`nonono held release`,
            // `reprocess`) is taken up.
            doorbell.wait(Duration::from_secs(1));
            continue;
        }
        let ids: Vec<i64> = batch.iter().map(|e| e.id).collect();
        if let Err(e) = store.journal_attempts(&ids, 1) {
            tracing::error!("pipeline: counting an attempt: {e}");
            std::thread::sleep(Duration::from_secs(1));
            continue;
        }
        // Reading, and DNS for sender authentication, before the transaction.
        let reads = batch
            .iter()
            .map(|entry| {
                let _timed = watch.start(entry.id);
                guarded(|| Ok(Read::new(&ctx, entry)))
            })
            .collect();
        let (finished, requeued, stopped) = apply_batch(&mut store, &ctx, &batch, reads, &watch);
        metrics.processed(finished.saturating_sub(requeued));
        relay.notify_one();
        if let Some(e) = stopped {
            tracing::warn!("pipeline: {e}; will retry");
            // Not the messages' fault: their attempts do not count.
            if let Err(e) = store.journal_attempts(&ids[finished..], -1) {
                tracing::error!("pipeline: uncounting an attempt: {e}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// Applies journal entries in one transaction, one commit (and one write of the pages they
/// share) for many messages; an entry that fails is undone alone and marked failed, so one
/// message that trips a bug does not stop the pipeline for every other. Returns how many
/// entries are finished, how many of those made an entry pending again, and the error that
/// stopped the batch early (the store was busy or failed): the rest waits for the next round.
fn apply_batch(
    store: &mut Store,
    ctx: &Context<'_>,
    batch: &[JournalEntry],
    reads: Vec<Result<Read, PipelineError>>,
    watch: &Watch,
) -> (usize, usize, Option<PipelineError>) {
    let tx = match store.begin() {
        Ok(tx) => tx,
        Err(e) => return (0, 0, Some(e.into())),
    };
    let mut finished = 0;
    let mut stopped = None;
    let entries = (|| -> Result<(), PipelineError> {
        for (entry, read) in batch.iter().zip(reads) {
            tx.begin_entry()?;
            let _timed = watch.start(entry.id);
            match read.and_then(|read| guarded(|| apply(&tx, ctx, entry, &read))) {
                Ok(outcome) => {
                    tx.end_entry()?;
                    tracing::info!(journal = entry.id, "{outcome}");
                }
                Err(e) if e.is_transient() => {
                    tx.undo_entry()?;
                    stopped = Some(e);
                    return Ok(());
                }
                Err(e) => {
                    tx.undo_entry()?;
                    tracing::error!(journal = entry.id, "pipeline: {e}; raw message kept");
                    tx.journal_failed(entry.id, &e.to_string(), ctx.now)?;
                    tx.hold(entry.id, None, &format!("failed: {e}"), ctx.now)?;
                }
            }
            finished += 1;
        }
        Ok(())
    })();
    // Entries made pending again wait for the worker once more.
    let requeued = tx.requeued();
    match entries.and_then(|()| Ok(tx.commit()?)) {
        Ok(()) => (finished, requeued, stopped),
        // Nothing of this batch was kept.
        Err(e) => (0, 0, Some(e)),
    }
}

/// Times work on one message may begin: the first in a batch, then alone; after that the
/// message is set aside.
const MOST_ATTEMPTS: i64 = 3;

/// Longest work on one message (reading it, authenticating its sender with DNS, applying it).
/// Work on untrusted input is linear, so real mail takes milliseconds and DNS at most
/// [`crate::auth`]'s 20 s; past this, something is wrong with this message.
const MESSAGE_BUDGET: Duration = Duration::from_secs(90);

/// Sets aside a message that the pipeline began work on [`MOST_ATTEMPTS`] times without
/// finishing: it is marked failed (the raw mail stays for `reprocess` after a fix), the
/// operator is told, and so is the envelope sender where one may be written to. Nothing of the
/// message is parsed here: parsing may be what failed.
fn set_aside(
    store: &mut Store,
    ctx: &Context<'_>,
    entry: &JournalEntry,
) -> Result<(), PipelineError> {
    let reason = format!(
        "set aside: work on it began {} times and never finished (the process ended or it ran past {} s)",
        entry.attempts,
        MESSAGE_BUDGET.as_secs()
    );
    tracing::error!(journal = entry.id, "pipeline: {reason}");
    let tx = store.begin()?;
    tx.journal_failed(entry.id, &reason, ctx.now)?;
    tx.hold(entry.id, None, &reason, ctx.now)?;
    tell_operator(
        &tx,
        ctx.config,
        PURPOSE_OPERATOR,
        format!("Message {} set aside", entry.id),
        format!(
            "Message {} from {} could not be processed and is set aside.\n\n{reason}.\n\nThe raw mail is kept; `nonono reprocess` takes it up again after a fix.\n",
            entry.id, entry.envelope.peer
        ),
        ctx.now,
    )?;
    let writer = mail::normalize_address(&entry.envelope.mail_from);
    if crate::route::may_write_to(&writer, &ctx.config.domain) {
        let (subject, body) = compose::set_aside_text(entry.id, ctx.config.language)?;
        let letter = Letter {
            from_name: "nonono".into(),
            from_address: format!("postmaster@{}", ctx.config.domain),
            to: writer,
            subject,
            body,
            references: Vec::new(),
            origin: Origin::AutoReplied,
        };
        send_automatic(&tx, ctx, &letter, "set-aside", None, Some(entry.id))?;
    }
    tx.commit()?;
    Ok(())
}

/// What the pipeline thread is working on, for the watchdog: the journal entry and since when.
struct Watch {
    /// Entry id and start in milliseconds since `epoch`; 0 when idle.
    working: Arc<(std::sync::atomic::AtomicI64, std::sync::atomic::AtomicU64)>,
    epoch: Instant,
}

/// Work on one message under the watchdog's eye; done when dropped.
struct Timed<'a>(&'a Watch);

impl Drop for Timed<'_> {
    fn drop(&mut self) {
        self.0.working.1.store(0, Ordering::SeqCst);
    }
}

impl Watch {
    /// A watch, and a thread that ends the process when work on one message runs past
    /// `budget`. A thread cannot be stopped from outside in Rust, and the pipeline thread holds
    /// the store's write lock while it works; ending the process is what frees both. The entry's
    /// attempts were counted before the work, so after the restart (systemd's `Restart=`) it is
    /// tried alone and then set aside; mail that got `250` is in the store either way.
    fn start_watchdog(budget: Duration) -> Watch {
        let watch = Watch {
            working: Arc::default(),
            epoch: Instant::now(),
        };
        let (working, epoch) = (Arc::downgrade(&watch.working), watch.epoch);
        std::thread::Builder::new()
            .name("pipeline-watchdog".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_secs(1));
                    // The pipeline has stopped.
                    let Some(working) = working.upgrade() else {
                        return;
                    };
                    let since = working.1.load(Ordering::SeqCst);
                    if since == 0 {
                        continue;
                    }
                    let running = epoch.elapsed().saturating_sub(Duration::from_millis(since));
                    if running > budget {
                        tracing::error!(
                            journal = working.0.load(Ordering::SeqCst),
                            "pipeline: work on one message has run {} s, past its budget of {} s: ending the process; after the restart it is tried alone, then set aside",
                            running.as_secs(),
                            budget.as_secs()
                        );
                        std::process::abort();
                    }
                }
            })
            .expect("spawning the pipeline watchdog");
        watch
    }

    fn start(&self, entry: i64) -> Timed<'_> {
        self.working.0.store(entry, Ordering::SeqCst);
        // At least 1: 0 means idle.
        let since = self.epoch.elapsed().as_millis().max(1) as u64;
        self.working.1.store(since, Ordering::SeqCst);
        Timed(self)
    }
}

/// Runs `f`, turning a panic into an error for this message alone.
fn guarded<T>(f: impl FnOnce() -> Result<T, PipelineError>) -> Result<T, PipelineError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(PipelineError::Panic(what))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worker_waits_for_a_lull_in_a_burst_but_not_for_long_nor_past_a_backlog() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let mut d = Deferral::new();
        assert!(!d.wait(false, 10, at(0)), "nothing coming in: work");
        d.caught_up();
        assert!(d.wait(true, 10, at(0)), "mail coming in: wait");
        assert!(d.wait(true, 4_000, at(1_999)));
        assert!(!d.wait(true, 4_000, at(2_000)), "waited long enough");
        assert!(!d.wait(true, 10, at(2_100)), "works until caught up");
        d.caught_up();
        assert!(d.wait(true, 10, at(2_200)), "the next burst waits again");
        assert!(
            !d.wait(true, DEFER_BACKLOG, at(2_300)),
            "too much waits already"
        );
        assert!(!d.wait(true, 10, at(2_400)), "and it works until caught up");
    }

    #[test]
    fn the_doorbell_tells_how_recently_mail_was_committed() {
        let bell = Doorbell::default();
        assert!(!bell.rung_within(LULL), "never rung: no mail coming in");
        bell.ring();
        assert!(bell.rung_within(LULL));
        std::thread::sleep(LULL);
        assert!(!bell.rung_within(LULL), "a lull");
    }
}
