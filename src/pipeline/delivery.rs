//! What became of the mail we sent: delivered, bounced, failed.

use super::announce::{self, CompanySide, Opening};
use super::context::{Context, PipelineError};
use super::message::Message;
use super::outgoing::tell_operator;
use super::texts;
use std::sync::Arc;

use crate::config::{Config, Live};
use crate::domain::token::TokenKey;
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
            if let Some(report) = report.as_ref().filter(|r| r.delivered()) {
                return delivery_reported(tx, ctx, msg, outbox, report);
            }
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
            delivery_failed(tx, ctx, &origin, &reason)?;
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

/// A success report: the receiving server took our message. When it is feedback to a
/// company, its thread shows when the company's server took it (the proof against "we never
/// got it"); the server's answer is kept on the message for the operator.
fn delivery_reported(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    msg: &Message<'_>,
    outbox: i64,
    report: &crate::mail::dsn::Report,
) -> Result<String, PipelineError> {
    let said = report.reason();
    let Some(origin) = tx.delivery_reported(outbox, &said, ctx.now)? else {
        return Ok(format!(
            "delivery report for outbound {outbox}: reported before, or not ours to report"
        ));
    };
    if let (Some(thread), OutboxPurpose::Forward) = (origin.thread_id, origin.purpose) {
        tx.add_event(
            thread,
            Some(msg.entry.id),
            EventKind::Delivered,
            &said,
            ctx.now,
        )?;
    }
    Ok(format!(
        "delivery report for outbound {outbox} ({}): delivered, recorded",
        origin.purpose
    ))
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
        // Other mail getting through proves the address, not that this thread's feedback
        // arrived: feedback that was refused (for its content, say, where other mail passes)
        // goes again, and its clock waits for it to get through.
        if paused_since.is_some()
            && Some(thread_id) != origin.thread_id
            && tx.resend_failed_forward(thread_id, now)?
        {
            continue;
        }
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
pub fn probe_paused(store: &mut Store, config: &Config, now: i64) -> Result<usize, PipelineError> {
    // A company removed from the registry is sent nothing.
    let registered: Vec<&str> = config.providers.iter().map(|p| p.slug.as_str()).collect();
    let tx = store.begin()?;
    let n = tx.probe_paused_routes(now - PROBE_AFTER, MOST_PROBES, &registered, now)?;
    tx.commit()?;
    Ok(n)
}

/// A message could not be delivered. When it went to a company, the company's clock stops
/// until mail gets through; the operator is told by mail when `operator_address` is configured
/// (the log has it either way).
pub fn delivery_failed(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    origin: &MessageOrigin,
    detail: &str,
) -> Result<(), PipelineError> {
    let (config, now) = (ctx.config, ctx.now);
    if let (Some(thread_id), true) = (origin.thread_id, origin.to_company) {
        let company_now = match origin.participant_id {
            Some(p) => tx.participant(p)?.map(|p| p.address),
            None => None,
        };
        match company_now {
            // The thread moved to the company's new route since this left: the failure is
            // the old route's, and stops no clock. What failed there was the feedback itself:
            // it goes to the new route.
            Some(address) if !address.eq_ignore_ascii_case(&origin.rcpt_to) => {
                if origin.purpose == OutboxPurpose::Forward {
                    forward_again(tx, ctx, thread_id, origin.participant_id, &address)?;
                }
            }
            _ => tx.company_unreachable(thread_id, now)?,
        }
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
        lang: config.language,
        outbox: origin.outbox,
        purpose: origin.purpose.as_str(),
        thread: &thread,
        detail,
    })?;
    tell_operator(tx, config, OutboxPurpose::Operator, subject, body, now)
}

/// Forwards a thread's feedback again, to the company's route `address` now.
fn forward_again(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    thread_id: i64,
    participant: Option<i64>,
    address: &str,
) -> Result<(), PipelineError> {
    let thread = tx.thread(thread_id)?;
    let provider = thread
        .provider
        .as_deref()
        .and_then(|s| ctx.config.provider(s));
    let (Some(provider), Some(participant), Some(opening)) =
        (provider, participant, tx.thread_opening(thread_id)?)
    else {
        return Ok(());
    };
    let company = CompanySide {
        provider,
        participant,
        address,
    };
    let opening = Opening {
        thread_id,
        title: &opening.title,
        body: &opening.body,
        consumer: &opening.consumer,
    };
    announce::forward_opening(tx, ctx, &opening, &company, thread.route_label.as_deref())
}

/// What the relay calls in the transaction that records a delivery or a permanent failure:
/// mail delivered to a company starts its clock, a failure stops it and tells the operator.
pub fn on_outcome(live: Arc<Live>, key: TokenKey) -> OnOutcome {
    Arc::new(move |tx: &Tx<'_>, origin, outcome| {
        // A notice that fails is only logged (and undone): it must not beget another notice,
        // nor undo the record of the delivery. Delivered mail matters only when it went to a
        // company: its clock starts.
        let arrived = matches!(outcome, Outcome::Delivered);
        if origin.purpose.is_for_operator() || (arrived && !origin.to_company) {
            return Ok(());
        }
        let config = live.get();
        let ctx = Context::scheduled(&config, &key, crate::clock::now());
        tx.begin_entry()?;
        let recorded = match outcome {
            Outcome::Delivered => delivered(tx, &config, origin, ctx.now),
            Outcome::Failed(error) => delivery_failed(tx, &ctx, origin, error),
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
