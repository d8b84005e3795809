//! The writer's say: confirming a held thread, declining it, erasing what they wrote.

use super::announce::{Announcement, CompanySide, announce};
use super::compose::{Letter, Origin};
use super::context::{Context, PipelineError};
use super::message::Message;
use super::outgoing::{AUTOMATIC_ONCE_PER, Sending, queue};
use super::published::answer_text;
use super::texts::{self, words};
use crate::domain::token::Purpose;
use crate::store::OutboxPurpose;
use crate::store::Tx;

/// Why a new thread waits for its writer: a first message from an address.
pub const HELD_NEW_ADDRESS: &str = "confirmation";

/// Why a new thread waits for its writer: the text carries personal data.
pub const HELD_PERSONAL_DATA: &str = "personal-data";

/// Whether a reply to a confirmation request says no: its first line has a word of refusal
/// and none of assent ("Tämä ei ollut minulta!", "No, not me"; but "Kyllä, ei muuta").
pub(super) fn declines(text: &str) -> bool {
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
pub(super) struct Confirmation<'a> {
    pub(super) thread_id: i64,
    pub(super) consumer: i64,
    pub(super) to: &'a str,
    pub(super) pseudonym: &'a str,
    pub(super) company: &'a str,
    pub(super) title: &'a str,
    /// The personal data found, when that is why it is held.
    pub(super) personal: &'a [&'a str],
    pub(super) journal_id: Option<i64>,
}

/// Most waiting texts of a writer asked about when they confirm one.
pub(super) const REASKED: usize = 3;

/// Asks the writer to confirm a held thread from its `c+` address; `once_a_day` keeps it to
/// one such request a day per address. Returns whether it was asked.
pub(super) fn ask_to_confirm(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    c: &Confirmation<'_>,
    once_a_day: bool,
) -> Result<bool, PipelineError> {
    if once_a_day && tx.queued_since(c.to, OutboxPurpose::Confirm, ctx.now - AUTOMATIC_ONCE_PER)? {
        return Ok(false);
    }
    let (subject, body) = texts::in_thread(
        texts::confirm_text(
            c.pseudonym,
            c.company,
            c.title,
            c.personal,
            super::outgoing::language_of_id(tx, ctx, c.consumer)?,
        )?,
        texts::writer_subject(&tx.thread(c.thread_id)?),
    );
    let letter = Letter {
        from_name: "nonono".into(),
        from_address: ctx
            .key
            .address(Purpose::Confirm, c.thread_id, &ctx.config.domain),
        to: c.to.to_owned(),
        subject,
        body,
        references: tx.references(c.consumer)?,
        origin: Origin::AutoReplied,
        attachments: Vec::new(),
    };
    queue(
        tx,
        ctx,
        &letter,
        Sending::new(OutboxPurpose::Confirm)
            .in_thread(c.thread_id)
            .to(c.consumer)
            .for_message(c.journal_id),
    )?;
    Ok(true)
}

/// The writer answered the confirmation request of a held thread: it goes public.
pub(super) fn confirm(
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
pub(super) fn erase(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    msg: &Message<'_>,
    participant: i64,
) -> Result<String, PipelineError> {
    let writer = match msg.writer_sending(tx, ctx, participant, "erasure")? {
        Ok(writer) => writer,
        Err(not_taken) => return Ok(not_taken),
    };
    let neutral = &words(ctx.config.language).erased_by_writer;
    let erased = tx.erase_by_writer(writer.id, neutral, ctx.now)?;
    // The request itself is the writer's mail too.
    tx.forget_raw(msg.entry.id)?;
    Ok(format!(
        "{erased} posts in thread {} erased by their writer",
        writer.thread_id
    ))
}
