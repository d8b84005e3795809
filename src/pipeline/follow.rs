//! Following a company: anyone mails `follow+SLUG@DOMAIN` (their own company or a competitor),
//! confirms by replying, and then gets a daily digest of the company's new threads and answers,
//! with one-click unsubscribe (RFC 8058: `List-Unsubscribe` with an HTTPS POST and a mailto).
//! Nothing but the confirmation request goes to an address that has not confirmed.

use super::compose::{Letter, Origin};
use super::context::{Context, PipelineError};
use super::message::Message;
use super::outgoing;
use super::outgoing::Sending;
use super::texts;
use crate::config::Config;
use crate::domain::mailbox;
use crate::domain::token::{Purpose, TokenKey};
use crate::store::OutboxPurpose;
use crate::store::Store;
use crate::store::follow::CompanyNews;

/// How often a follower gets a digest at most.
const DIGEST_EVERY: i64 = 86_400;

/// Mail to `follow+SLUG@`: asks the sender to confirm.
pub(crate) fn follow(
    tx: &crate::store::Tx<'_>,
    ctx: &Context<'_>,
    msg: &Message<'_>,
    slug: &str,
) -> Result<String, PipelineError> {
    if let Some(reason) = msg.hold_reason(tx, ctx)? {
        return Ok(format!("follow request not taken: {reason}"));
    }
    let Some(provider) = ctx.config.provider(slug) else {
        return Ok(format!("follow request for {slug}: no longer registered"));
    };
    let sender = match msg.reply_address(ctx) {
        Ok(sender) => sender,
        Err(reason) => return Ok(format!("follow request not taken: {reason}")),
    };
    let person = tx.person(&sender, ctx.now)?;
    let follower = tx.add_follower(slug, person, ctx.now)?;
    if follower.confirmed {
        return Ok(format!("follow request for {slug}: follows already"));
    }
    let from = ctx
        .key
        .address(Purpose::Follow, follower.id, &ctx.config.domain);
    let (subject, body) = texts::letter(&texts::FollowConfirm {
        lang: ctx.config.language,
        company: &provider.name,
    })?;
    let letter = Letter {
        from_name: "nonono".into(),
        from_address: from,
        to: sender,
        subject,
        body,
        references: msg.mail.message_id.iter().cloned().collect(),
        origin: Origin::AutoReplied,
        attachments: Vec::new(),
    };
    let asked = outgoing::queue_automatic(
        tx,
        ctx,
        &letter,
        Sending::new(OutboxPurpose::FollowConfirm).for_message(msg.entry.id),
    )?;
    Ok(format!(
        "follow request for {slug}: {}",
        if asked {
            "confirmation asked"
        } else {
            "a confirmation went to this address already today"
        }
    ))
}

/// Mail to `f+TOKEN@`: the follower confirms, from the address that asked.
pub(crate) fn confirm(
    tx: &crate::store::Tx<'_>,
    ctx: &Context<'_>,
    msg: &Message<'_>,
    follower: i64,
) -> Result<String, PipelineError> {
    if let Some(reason) = msg.hold_reason(tx, ctx)? {
        return Ok(format!("follow confirmation not taken: {reason}"));
    }
    let Some(f) = tx.follower(follower)? else {
        return Ok("follow confirmation for a follower who left".into());
    };
    if msg.speaker().ok() != Some(f.address.clone()) {
        return Ok(format!(
            "follow confirmation for {} not taken: sender is not the follower",
            f.provider
        ));
    }
    tx.confirm_person(f.person_id, ctx.now)?;
    tx.confirm_follower(follower, ctx.now)?;
    if let Some(provider) = ctx.config.provider(&f.provider) {
        welcome(tx, ctx, follower, &f.address, provider)?;
    }
    Ok(format!("{} has a new follower", f.provider))
}

/// Tells a follower who confirmed that they follow now, what they will get, and how to stop.
fn welcome(
    tx: &crate::store::Tx<'_>,
    ctx: &Context<'_>,
    follower: i64,
    address: &str,
    provider: &crate::config::ProviderConfig,
) -> Result<(), PipelineError> {
    let (config, key) = (ctx.config, ctx.key);
    let token = key.issue_for(Purpose::Unsubscribe, follower);
    let unsubscribe_url = config.public_link(&format!("/u/{token}"));
    let (subject, body) = texts::letter(&texts::FollowWelcome {
        lang: config.language,
        company: &provider.name,
        page: &config.company_link(&provider.slug),
        unsubscribe_url: &unsubscribe_url,
    })?;
    let letter = Letter {
        from_name: "nonono".into(),
        from_address: mailbox::at(mailbox::FEEDBACK, &config.domain),
        to: address.to_owned(),
        subject,
        body,
        references: Vec::new(),
        origin: Origin::List {
            unsubscribe_url,
            unsubscribe_address: key.address(Purpose::Unsubscribe, follower, &config.domain),
        },
        attachments: Vec::new(),
    };
    outgoing::queue(tx, ctx, &letter, Sending::new(OutboxPurpose::FollowWelcome))?;
    Ok(())
}

/// Mail to `u+TOKEN@`: the follower leaves. The token is the proof; no mail goes back.
pub(crate) fn leave(tx: &crate::store::Tx<'_>, follower: i64) -> Result<String, PipelineError> {
    Ok(if tx.remove_follower(follower)? {
        "a follower left".into()
    } else {
        "unsubscribe for a follower who left already".into()
    })
}

/// Sends each confirmed follower whose last digest is a day old the company's news since then,
/// when there is any. Returns how many digests were queued.
pub fn send_digests(
    store: &mut Store,
    config: &Config,
    key: &TokenKey,
    now: i64,
) -> Result<usize, PipelineError> {
    let ctx = Context::scheduled(config, key, now);
    let tx = store.begin()?;
    let mut sent = 0;
    for f in tx.followers_due(now - DIGEST_EVERY)? {
        let Some(provider) = config.provider(&f.provider) else {
            continue;
        };
        let news = tx.company_news(&f.provider, f.last_digest_at)?;
        if news.threads.is_empty() && news.answers.is_empty() {
            continue;
        }
        let token = key.issue_for(Purpose::Unsubscribe, f.id);
        let unsubscribe_url = config.public_link(&format!("/u/{token}"));
        let (subject, body) = digest_text(config, &provider.name, &news, &unsubscribe_url)?;
        let letter = Letter {
            from_name: "nonono".into(),
            from_address: mailbox::at(mailbox::FEEDBACK, &config.domain),
            to: f.address.clone(),
            subject,
            body,
            references: Vec::new(),
            origin: Origin::List {
                unsubscribe_url,
                unsubscribe_address: key.address(Purpose::Unsubscribe, f.id, &config.domain),
            },
            attachments: Vec::new(),
        };
        outgoing::queue(
            &tx,
            &ctx,
            &letter,
            Sending::new(OutboxPurpose::FollowDigest),
        )?;
        tx.digested(f.id, now)?;
        sent += 1;
    }
    tx.commit()?;
    Ok(sent)
}

fn digest_text(
    config: &Config,
    company: &str,
    news: &CompanyNews,
    unsubscribe_url: &str,
) -> Result<(String, String), PipelineError> {
    Ok(texts::letter(&texts::FollowDigest {
        lang: config.language,
        company,
        threads: &news.threads,
        answers: &news.answers,
        base: &config.public_link(""),
        unsubscribe_url,
    })?)
}
