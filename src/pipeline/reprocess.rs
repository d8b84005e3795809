//! `nonono reprocess`: after a parser fix, derive every published text again from the raw mail
//! it came from, and retry the messages the pipeline failed on.
//!
//! Idempotent: text is derived from the same raw mail and the same earlier outbound mail, so a
//! second run changes nothing. It never sends mail again and never creates threads twice.

use super::auth::Authenticator;
use super::context::{Context, PipelineError};
use super::published::SENT_CONSIDERED;
use super::{dispatch, published, worker};
use crate::config::Config;
use crate::domain::token::TokenKey;
use crate::mail;
use crate::store::Store;
use crate::store::replay::PublishedPost;

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Posts looked at.
    pub posts: usize,
    /// Posts whose text changed.
    pub changed: usize,
    /// Failed messages put back through the pipeline.
    pub retried: usize,
}

/// Derives a post's text again from the raw mail it came from; returns whether it changed.
pub fn derive(
    store: &mut Store,
    config: &Config,
    post: &PublishedPost,
) -> Result<bool, PipelineError> {
    let Some(raw) = store.journal_raw(post.journal_id)? else {
        return Ok(false);
    };
    let parsed = mail::parse(&raw);
    let (body, trimmed, uncut) = if post.opening {
        (
            published::feedback_text(&parsed, config.language).1,
            String::new(),
            false,
        )
    } else {
        let sent = match post.participant_id {
            Some(p) => store.sent_before(p, post.journal_id, SENT_CONSIDERED)?,
            None => Vec::new(),
        };
        let answer = published::answer_text(&parsed, &sent, config.language);
        (answer.text, answer.trimmed, answer.uncut)
    };
    Ok(store.rewrite_post(post.id, &body, &trimmed, uncut, parsed.attachments)?)
}

/// Re-derives every post's text, then runs the pipeline over failed messages. `progress` is
/// called with (done, total) as posts are handled.
pub fn run(
    store: &mut Store,
    config: &Config,
    key: &TokenKey,
    authenticator: Option<&Authenticator>,
    mut progress: impl FnMut(usize, usize),
) -> Result<Report, PipelineError> {
    let total = store.published_post_count()? as usize;
    let mut report = Report::default();
    let mut after = 0;
    loop {
        let batch = store.published_posts(after, 500)?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        for post in &batch {
            if derive(store, config, post)? {
                report.changed += 1;
            }
            report.posts += 1;
            progress(report.posts, total);
        }
    }
    report.retried = store.retry_failed_journal(crate::clock::now())?;
    // A batch at a time, as the pipeline reads them; each ends processed or failed.
    loop {
        let pending = store.pending_journal(worker::BATCH, worker::BATCH_BYTES)?;
        if pending.is_empty() {
            break;
        }
        for entry in pending {
            let ctx = Context {
                config,
                key,
                authenticator,
                now: crate::clock::now(),
            };
            if let Err(e) = dispatch::process(store, &ctx, &entry) {
                store.journal_failed(entry.id, &e.to_string(), ctx.now)?;
            }
        }
    }
    Ok(report)
}
