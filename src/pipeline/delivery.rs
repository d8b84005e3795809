//! What became of the mail we sent: delivered, bounced, failed.

use super::context::{Context, PipelineError};
use super::message::Message;
use super::outgoing::tell_operator;
use super::texts;
use std::sync::Arc;

use crate::config::{Config, Language, Live};
use crate::mail::Class;
use crate::relay::{OnOutcome, Outcome};
use crate::store::EventKind;
use crate::store::OutboxPurpose;
use crate::store::{MessageOrigin, Store, Tx};

/// A delivery report (or an automatic reply sent to our envelope sender) for one of our messages.
pub(super) fn bounce(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    msg: &Message<'_>,
    outbox: i64,
) -> Result<String, PipelineError> {
    match msg.class {
        Class::Bounce => {
            // What the report says went wrong; its subject when it says nothing readable. A
            // report of a delay or of a delivery is no failure.
            let report = crate::mail::dsn::read(&msg.entry.raw);
            if let Some(report) = report.as_ref().filter(|r| !r.failed()) {
                return Ok(format!(
                    "delivery report for outbound {outbox} ({}): no failure, kept",
                    report.action
                ));
            }
            let reason = report.map_or_else(
                || crate::mail::write::one_line(&msg.mail.subject),
                |r| r.reason(),
            );
            let Some(origin) = tx.bounced(outbox, msg.entry.id, &reason, ctx.now)? else {
                return Ok(
                    "bounce for a message we no longer have, or are sending again: kept".into(),
                );
            };
            delivery_failed(tx, ctx.config, &origin, &reason, ctx.now)?;
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
                    EventKind::AutoReply,
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

/// A message was accepted by its receiving server. When it went to a company, that company's
/// response time starts now (or again, after its mail bounced); and every thread whose clock
/// stopped because mail to the same address bounced starts again too: the address works.
pub fn delivered(
    tx: &Tx<'_>,
    config: &Config,
    origin: &MessageOrigin,
    now: i64,
) -> Result<(), PipelineError> {
    let (Some(thread_id), true) = (origin.thread_id, origin.to_company) else {
        return Ok(());
    };
    let mut reached = vec![(thread_id, None)];
    for (thread, since) in tx.paused_on_route(&origin.rcpt_to)? {
        match reached.iter_mut().find(|(t, _)| *t == thread) {
            Some(this) => this.1 = Some(since),
            None => reached.push((thread, Some(since))),
        }
    }
    for (thread_id, paused_since) in reached {
        let thread = tx.thread(thread_id)?;
        let Some(provider) = thread.provider.as_deref().and_then(|s| config.provider(s)) else {
            continue;
        };
        let due = crate::domain::calendar::add_working_days(
            now,
            provider.response_days,
            &config.extra_days_off(),
        );
        tx.company_reached(thread_id, now, due)?;
        if let Some(since) = paused_since {
            tracing::info!(
                thread = thread_id,
                "delivery: the company is reachable again"
            );
            let paused = (now - since).max(0).to_string();
            tx.add_event(thread_id, None, EventKind::Resumed, &paused, now)?;
        }
    }
    Ok(())
}

/// How long after a bounce stopped a company's clock the bounced message goes again, and how
/// many times: a report of failure may come from anyone who has the message (the company
/// itself), so each holds the clock about a day, in public; an address that keeps failing is
/// tried a week, then left to the operator (told of each failure; `nonono queue resend`).
const PROBE_AFTER: i64 = 86_400;
const MOST_PROBES: i64 = 7;

/// Sends again the bounced message of every company address whose threads' clocks stopped,
/// a day after it failed, [`MOST_PROBES`] times at most; when the address takes it, the
/// clocks run on ([`delivered`]). Returns how many messages were made due.
pub fn probe_paused(store: &mut Store, now: i64) -> Result<usize, PipelineError> {
    let tx = store.begin()?;
    let n = tx.probe_paused_routes(now - PROBE_AFTER, MOST_PROBES, now)?;
    tx.commit()?;
    Ok(n)
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
        .map(|t| config.thread_link(t))
        .unwrap_or_else(|| "-".into());
    let (subject, body) = texts::letter(&texts::DeliveryFailed {
        fi: config.language == Language::Fi,
        outbox: origin.outbox,
        purpose: origin.purpose.as_str(),
        thread: &thread,
        detail,
    })?;
    tell_operator(tx, config, OutboxPurpose::Operator, subject, body, now)
}

/// What the relay calls in the transaction that records a delivery or a permanent failure:
/// mail delivered to a company starts its clock, a failure stops it and tells the operator.
pub fn on_outcome(live: Arc<Live>) -> OnOutcome {
    Arc::new(move |tx: &Tx<'_>, origin, outcome| {
        // A notice that fails is only logged (and undone): it must not beget another notice,
        // nor undo the record of the delivery. Delivered mail matters only when it went to a
        // company: its clock starts.
        let arrived = matches!(outcome, Outcome::Delivered);
        if origin.purpose.is_for_operator() || (arrived && !origin.to_company) {
            return Ok(());
        }
        let now = crate::clock::now();
        let config = live.get();
        tx.begin_entry()?;
        let recorded = match outcome {
            Outcome::Delivered => delivered(tx, &config, origin, now),
            Outcome::Failed(error) => delivery_failed(tx, &config, origin, error, now),
        };
        match recorded {
            Ok(()) => tx.end_entry()?,
            Err(e) => {
                tx.undo_entry()?;
                tracing::error!(
                    "relay: recording what became of outbound {}: {e}",
                    origin.outbox
                );
            }
        }
        Ok(())
    })
}
