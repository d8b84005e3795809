//! Mail the pipeline sends: queued in the outbox in the transaction that decides it, with
//! the addresses and links it carries.

use super::compose::{self, Letter, Origin};
use super::context::{Context, PipelineError};
use crate::config::{Config, Language};
use crate::domain::mailbox;
use crate::domain::token::Purpose;
use crate::store::OutboxPurpose;
use crate::store::{Outbound, Role, Tx};

pub(crate) fn token_address(ctx: &Context<'_>, participant_id: i64) -> String {
    ctx.key
        .address(Purpose::Participant, participant_id, &ctx.config.domain)
}

pub(super) fn bounce_address(config: &Config) -> String {
    mailbox::at(mailbox::BOUNCE, &config.domain)
}

pub(super) fn via(name: &str, lang: crate::config::Language) -> String {
    crate::domain::words::fill(&super::texts::words(lang).via, &[("name", &name)])
}

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
    for company in company_side(tx, ctx, thread_id)? {
        let letter = Letter {
            from_name: "nonono".into(),
            from_address: token_address(ctx, company.id),
            to: company.address.clone(),
            subject: subject.to_owned(),
            body: body.to_owned(),
            references: tx.references(company.id)?,
            origin: Origin::Automatic,
            attachments: Vec::new(),
        };
        queue(
            tx,
            ctx,
            &letter,
            Sending::new(purpose).in_thread(thread_id).to(company.id),
        )?;
    }
    Ok(())
}

/// Where mail to a thread's company goes: its participants, while the company is registered.
/// A company removed from the registry has no route any more, and is sent nothing.
pub(crate) fn company_side(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    thread_id: i64,
) -> Result<Vec<crate::store::Participant>, PipelineError> {
    let registered = tx
        .thread(thread_id)?
        .provider
        .is_some_and(|slug| ctx.config.provider(&slug).is_some());
    Ok(if registered {
        tx.participants(thread_id, Role::Provider)?
    } else {
        Vec::new()
    })
}

/// The language mail to a participant is written in: the one they wrote in, else the
/// service's.
pub(crate) fn language_of(ctx: &Context<'_>, p: &crate::store::Participant) -> Language {
    p.language
        .as_deref()
        .and_then(Language::from_code)
        .unwrap_or(ctx.config.language)
}

/// [`language_of`] the participant with this id.
pub(crate) fn language_of_id(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    participant_id: i64,
) -> Result<Language, PipelineError> {
    Ok(tx
        .participant(participant_id)?
        .map_or(ctx.config.language, |p| language_of(ctx, &p)))
}

/// Automatic mail of one kind goes to one address at most once in this span, however often
/// someone asks for it in that address's name.
pub(super) const AUTOMATIC_ONCE_PER: i64 = 86_400;

/// What a letter is queued as: why, in which thread, to which participant, because of which
/// received message. Each is optional but the why.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sending {
    purpose: OutboxPurpose,
    thread_id: Option<i64>,
    participant_id: Option<i64>,
    journal_id: Option<i64>,
}

impl Sending {
    pub(crate) fn new(purpose: OutboxPurpose) -> Sending {
        Sending {
            purpose,
            thread_id: None,
            participant_id: None,
            journal_id: None,
        }
    }

    /// In this thread (a bounce marks it, a reply to it continues it).
    pub(crate) fn in_thread(self, thread_id: impl Into<Option<i64>>) -> Sending {
        Sending {
            thread_id: thread_id.into(),
            ..self
        }
    }

    /// To this participant (its references and its clock depend on it).
    pub(crate) fn to(self, participant_id: impl Into<Option<i64>>) -> Sending {
        Sending {
            participant_id: participant_id.into(),
            ..self
        }
    }

    /// Because of this received message.
    pub(crate) fn for_message(self, journal_id: impl Into<Option<i64>>) -> Sending {
        Sending {
            journal_id: journal_id.into(),
            ..self
        }
    }
}

/// Queues automatic mail to a writer (help, a confirmation request, a notice) unless mail of
/// the same purpose went to the same address within [`AUTOMATIC_ONCE_PER`]. Returns whether it
/// was queued.
pub(crate) fn queue_automatic(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    letter: &Letter,
    sending: Sending,
) -> Result<bool, PipelineError> {
    if tx.queued_since(&letter.to, sending.purpose, ctx.now - AUTOMATIC_ONCE_PER)? {
        return Ok(false);
    }
    queue(tx, ctx, letter, sending)?;
    Ok(true)
}

/// Queues a letter in the outbox, delivered once the transaction commits, with a bounce
/// address that names it (VERP).
pub(crate) fn queue(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    letter: &Letter,
    sending: Sending,
) -> Result<(), PipelineError> {
    let built = compose::build(letter, ctx.config, ctx.now)?;
    let id = tx.queue(
        &Outbound {
            thread_id: sending.thread_id,
            participant_id: sending.participant_id,
            journal_id: sending.journal_id,
            purpose: sending.purpose,
            mail_from: bounce_address(ctx.config),
            rcpt_to: letter.to.clone(),
            message_id: built.message_id,
            raw: built.raw,
        },
        ctx.now,
    )?;
    // Its bounce, if any, comes back to an address that names this very message.
    let verp = ctx.key.address(Purpose::Bounce, id, &ctx.config.domain);
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
        from_address: mailbox::at(mailbox::POSTMASTER, &config.domain),
        to: operator.clone(),
        subject,
        body,
        references: Vec::new(),
        origin: compose::Origin::Automatic,
        attachments: Vec::new(),
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
