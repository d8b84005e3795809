//! Mail the pipeline sends: queued in the outbox in the transaction that decides it, with
//! the addresses and links it carries.

use super::compose::{self, Letter, Origin};
use super::context::{Context, PipelineError};
use crate::config::Config;
use crate::domain::token::Purpose;
use crate::store::OutboxPurpose;
use crate::store::{Outbound, Role, Tx};

pub(crate) fn public_url(config: &Config, thread_id: i64) -> String {
    format!(
        "{}/t/{thread_id}",
        config.http.public_url.trim_end_matches('/')
    )
}

pub(crate) fn token_address(ctx: &Context<'_>, participant_id: i64) -> String {
    format!("t+{}@{}", ctx.key.issue(participant_id), ctx.config.domain)
}

pub(super) fn bounce_address(config: &Config) -> String {
    format!("bounce@{}", config.domain)
}

pub(super) fn via(name: &str) -> String {
    format!("{name} via nonono")
}

/// Builds a letter and queues it in the same transaction.
/// Queues an automatic letter to the company side of a thread, from each company participant's
/// reply address: answering it answers the feedback.
pub(crate) fn write_to_company(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    thread_id: i64,
    purpose: OutboxPurpose,
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
pub(super) const AUTOMATIC_ONCE_PER: i64 = 86_400;

/// Queues automatic mail to a writer (help, a confirmation request, a notice) unless mail of
/// this `purpose` went to the same address within [`AUTOMATIC_ONCE_PER`]. Returns whether it
/// was queued.
pub(crate) fn send_automatic(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    letter: &Letter,
    purpose: OutboxPurpose,
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
    purpose: OutboxPurpose,
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

/// Queues a plain notice to the operator, when one is configured.
pub(crate) fn tell_operator(
    tx: &Tx<'_>,
    config: &Config,
    purpose: OutboxPurpose,
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
