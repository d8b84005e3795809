//! Companies not reachable yet. Feedback that names a company nobody has registered is public
//! anyway and waits; the operator gets a daily digest of such companies; once a company is
//! registered (`nonono providers add`, or the config and a restart), its waiting threads are
//! attached to it and forwarded at once, with its response time starting then.

use super::announce::{self, CompanySide, Opening};
use super::context::{Context, PipelineError};
use super::outgoing;
use super::texts;
use crate::config::Config;
use crate::domain::calendar::add_working_days;
use crate::domain::route;
use crate::domain::token::TokenKey;
use crate::store::EventKind;
use crate::store::OutboxPurpose;
use crate::store::{Role, Store};

/// How often the digest goes out at most.
const DIGEST_EVERY: i64 = 86_400;

/// Attaches every waiting thread whose company name is now a registered provider's name, slug
/// or alias, and queues its forward. Returns how many threads were forwarded.
pub fn attach_registered(
    store: &mut Store,
    config: &Config,
    key: &TokenKey,
    now: i64,
) -> Result<usize, PipelineError> {
    let ctx = Context::scheduled(config, key, now);
    let tx = store.begin()?;
    let mut forwarded = 0;
    for waiting in tx.waiting_unregistered()? {
        let Some(provider) = config.providers.by_name(&waiting.company) else {
            continue;
        };
        let choice = route::choose_route(provider, &waiting.title, &waiting.body);
        let due = add_working_days(now, provider.response_days, &config.extra_days_off());
        tx.attach_provider(
            waiting.thread_id,
            &provider.slug,
            &provider.name,
            &choice.address,
            choice.label.as_deref(),
            due,
        )?;
        let participant = tx.add_participant(
            waiting.thread_id,
            Role::Provider,
            &choice.address,
            &provider.name,
            None,
            now,
        )?;
        let opening = Opening {
            thread_id: waiting.thread_id,
            title: &waiting.title,
            body: &waiting.body,
            consumer: &waiting.consumer,
        };
        let company = CompanySide {
            provider,
            participant,
            address: &choice.address,
        };
        announce::forward_opening(&tx, &ctx, &opening, &company, choice.label.as_deref())?;
        tx.add_event(waiting.thread_id, None, EventKind::Forwarded, "", now)?;
        forwarded += 1;
    }
    tx.commit()?;
    Ok(forwarded)
}

/// Mails the operator the companies that feedback waits for, and what waits in the holding
/// pen, at most once a day. Returns whether a digest was queued.
pub fn send_digest(store: &mut Store, config: &Config, now: i64) -> Result<bool, PipelineError> {
    let tx = store.begin()?;
    if config.operator_address.is_none()
        || tx.operator_mail_since(OutboxPurpose::OperatorDigest, now - DIGEST_EVERY)?
    {
        return Ok(false);
    }
    let companies = tx.unregistered_companies()?;
    let (held, oldest_held) = tx.holds_waiting()?;
    if companies.is_empty() && held == 0 {
        return Ok(false);
    }
    let (subject, body) = texts::letter(&texts::OperatorDigest {
        lang: config.language,
        held,
        held_days: (now - oldest_held.unwrap_or(now)) / 86_400,
        companies: &companies,
        now,
        base: &config.public_link(""),
    })?;
    outgoing::tell_operator(
        &tx,
        config,
        OutboxPurpose::OperatorDigest,
        subject,
        body,
        now,
    )?;
    tx.commit()?;
    Ok(true)
}
