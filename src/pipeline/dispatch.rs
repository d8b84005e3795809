//! One journal entry, processed whole: read before the transaction, then each recipient
//! handled in it, and the entry marked done.

use super::consent::{confirm, erase};
use super::context::{Context, PipelineError};
use super::delivery::bounce;
use super::feedback::new_feedback;
use super::message::Message;
use super::outgoing::bounce_address;
use super::reply::{publish, reply};
use crate::domain::route::{self, Recipient};
use crate::mail::{self, Class, ParsedMail};
use crate::store::Evidence;
use crate::store::OutboxPurpose;
use crate::store::{JournalEntry, Outbound, Store, Tx};

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
pub(super) struct Read {
    mail: ParsedMail,
    class: Class,
    evidence: Option<Evidence>,
    /// `[trust] verify_sender_auth`: whether `evidence` counts beyond the company desk.
    badge: bool,
    /// What each envelope recipient stands for, in the envelope's order (read once: a token
    /// address is verified by its MAC).
    recipients: Vec<Result<Recipient, route::Refusal>>,
}

impl Read {
    pub(super) fn new(ctx: &Context<'_>, entry: &JournalEntry) -> Read {
        let mail = mail::parse(&entry.raw);
        let class = mail::classify(&mail, &entry.envelope);
        // Every person's mail when sender authentication is on: a company's answer needs it
        // for the badge, a consumer's reply to speak for the consumer, and automatic mail to
        // go to a From that is not the envelope sender. The company desk needs it always.
        let badge = ctx.config.trust.verify_sender_auth;
        let recipients: Vec<_> = entry
            .envelope
            .rcpt_to
            .iter()
            .map(|r| route::recipient(r, ctx.config, ctx.key))
            .collect();
        let to_desk = recipients
            .iter()
            .any(|r| matches!(r, Ok(Recipient::CompanyDesk | Recipient::ConfirmChange(_))));
        let evidence = ctx
            .authenticator
            .filter(|_| class == Class::Human && (badge || to_desk))
            .map(|a| {
                let from = mail.from.as_ref().map_or("", |f| f.address.as_str());
                a.check(&entry.raw, &entry.envelope, from)
            });
        Read {
            mail,
            class,
            evidence,
            badge,
            recipients,
        }
    }

    /// The evidence the rest of the service goes by: only with sender authentication on.
    fn badge_evidence(&self) -> Option<&Evidence> {
        self.evidence.as_ref().filter(|_| self.badge)
    }
}

/// Does everything a journal entry asks for inside `tx` and marks it done.
pub(super) fn apply(
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
            evidence: read.badge_evidence(),
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
    for (rcpt, recipient) in entry.envelope.rcpt_to.iter().zip(&read.recipients) {
        let recipient = match recipient.clone() {
            Ok(r) => r,
            // Taken for a company removed since: it waits as feedback about a company not
            // registered, as the operator was told it would.
            Err(route::Refusal::UnknownLocalPart)
                if let Some(former) = route::former_company(rcpt, ctx.config) =>
            {
                Recipient::Provider(former)
            }
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
            evidence: read.badge_evidence(),
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
            Recipient::Solved(participant) => super::solved::answered(tx, ctx, &msg, participant)?,
            Recipient::Support(thread) => super::support::support(tx, ctx, &msg, thread)?,
            Recipient::ConfirmSupport(support) => super::support::confirm(tx, ctx, &msg, support)?,
            Recipient::Follow(slug) => super::follow::follow(tx, ctx, &msg, &slug)?,
            Recipient::ConfirmFollow(follower) => super::follow::confirm(tx, ctx, &msg, follower)?,
            Recipient::Unsubscribe(follower) => super::follow::leave(tx, follower)?,
            Recipient::Publish(held) => publish(tx, ctx, &msg, held)?,
            Recipient::CompanyDesk => super::desk::desk(tx, ctx, &msg, read.evidence.as_ref())?,
            Recipient::ConfirmChange(request) => {
                super::desk::confirm_change(tx, ctx, &msg, read.evidence.as_ref(), request)?
            }
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

pub(super) fn to_operator(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    msg: &Message<'_>,
) -> Result<String, PipelineError> {
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
            purpose: OutboxPurpose::Operator,
            mail_from: bounce_address(ctx.config),
            rcpt_to: operator.clone(),
            message_id: msg.mail.message_id.clone().unwrap_or_default(),
            raw: msg.entry.raw.clone(),
        },
        ctx.now,
    )?;
    Ok("mail for the operator: forwarded".into())
}
