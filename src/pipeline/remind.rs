//! Reminders: a company that has not answered by its response time is reminded on its route,
//! then again after the same span of working days, at most [`MAX_REMINDERS`] times. Each
//! reminder comes from the thread's reply address, so answering it answers the feedback; the
//! thread page records each one.

use super::context::{Context, PipelineError};
use super::outgoing;
use super::texts;
use crate::config::Config;
use crate::domain::calendar::{add_working_days, working_days_between};
use crate::domain::limits::MAX_REMINDERS;
use crate::domain::token::TokenKey;
use crate::store::EventKind;
use crate::store::OutboxPurpose;
use crate::store::Store;

/// Sends every reminder due at `now`, in one transaction. Returns how many threads were
/// reminded.
pub fn send_due(
    store: &mut Store,
    config: &Config,
    key: &TokenKey,
    now: i64,
) -> Result<usize, PipelineError> {
    let ctx = Context::scheduled(config, key, now);
    let days_off = config.extra_days_off();
    let tx = store.begin()?;
    let mut reminded = 0;
    for (thread, sent) in tx.reminders_due(now, MAX_REMINDERS)? {
        let number = sent + 1;
        // A company removed from the registry is reminded of nothing: its routes are no
        // longer where its feedback goes.
        let Some(provider) = thread.provider.as_deref().and_then(|s| config.provider(s)) else {
            continue;
        };
        let response_days = provider.response_days;
        let waited = working_days_between(thread.created_at, now, &days_off);
        let url = config.thread_link(thread.id);
        let (subject, body) = texts::in_thread(
            texts::letter(&texts::Reminder {
                lang: config.language,
                title: &thread.title,
                waited,
                number,
                max: MAX_REMINDERS,
                url: &url,
            })?,
            texts::company_subject(&thread.title, config.language),
        );
        outgoing::write_to_company(
            &tx,
            &ctx,
            thread.id,
            OutboxPurpose::Reminder,
            &subject,
            &body,
        )?;
        let next = add_working_days(now, response_days, &days_off);
        tx.reminded(thread.id, number, next)?;
        tx.add_event(
            thread.id,
            None,
            EventKind::Reminder,
            &number.to_string(),
            now,
        )?;
        reminded += 1;
    }
    tx.commit()?;
    Ok(reminded)
}
