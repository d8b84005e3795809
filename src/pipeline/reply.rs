//! Replies to a thread's token address, from either side: published, relayed, judged.

use super::attachments;
use super::compose::{Letter, Origin};
use super::consent::HELD_PERSONAL_DATA;
use super::context::{Context, PipelineError};
use super::message::{Message, hold};
use super::outgoing::{
    Sending, company_side, language_of, queue, tell_operator, token_address, via,
};
use super::published::{SENT_CONSIDERED, answer_text};
use super::texts::{self, words};
use crate::config::ProviderConfig;
use crate::domain::mailbox;
use crate::domain::route;
use crate::domain::token::Purpose;
use crate::domain::tone;
use crate::domain::words::fill;
use crate::mail::attachments::LeftOut;
use crate::mail::classify::{Said, company_subject, company_text};
use crate::mail::{self, Class};
use crate::store::EventKind;
use crate::store::Evidence;
use crate::store::OutboxPurpose;
use crate::store::{NewPost, Participant, PostKind, Role, Tx};

/// Seconds after our mail within which a reply that only says the mail arrived is a system's
/// acknowledgement: helpdesks and out-of-office notices answer within seconds.
const ACKNOWLEDGED_WITHIN: i64 = 15 * 60;

pub(super) fn reply(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    msg: &Message<'_>,
    participant_id: i64,
) -> Result<String, PipelineError> {
    let Some(author) = tx.participant(participant_id)? else {
        return Ok("reply to a participant that no longer exists: kept".into());
    };
    let thread = tx.thread(author.thread_id)?;
    if tx.posted_from(msg.entry.id, thread.id)? {
        return Ok(format!(
            "thread {}: published from this message already",
            thread.id
        ));
    }
    let now = ctx.now;
    let journal_id = Some(msg.entry.id);
    // An automatic reply is an event of the thread (a company's counts as acknowledged), never
    // a post; the event holds how long after our mail it came.
    let after = tx
        .last_sent_to(author.id)?
        .map(|sent| (msg.entry.received_at - sent).max(0))
        .unwrap_or(0);
    let automatic = || -> Result<String, PipelineError> {
        tx.add_event(
            thread.id,
            journal_id,
            EventKind::AutoReply,
            &after.to_string(),
            now,
        )?;
        Ok(format!(
            "automatic reply in thread {}: recorded, not relayed",
            thread.id
        ))
    };
    match msg.class {
        Class::AutoReply => return automatic(),
        Class::Bounce => {
            tx.add_event(
                thread.id,
                journal_id,
                EventKind::Bounce,
                author_role(&author),
                now,
            )?;
            return Ok(format!(
                "bounce in thread {}: recorded, not relayed",
                thread.id
            ));
        }
        Class::Human => {}
    }
    if let Some(reason) = msg.hold_reason(tx, ctx)? {
        return hold(tx, ctx, msg, Some(thread.id), "reply", reason);
    }
    let sender = msg.sender().expect("hold_reason checked the sender");
    let speaker = msg.speaker();
    let sent = tx.sent_to(author.id, msg.entry.id, SENT_CONSIDERED)?;
    let answer = answer_text(msg.mail, &sent, ctx.config.language);
    // A helpdesk's "we received your request #123" or a person's away notice carries no header
    // that says so: its subject or its text does, and only a company's mail is read for them.
    // Saying only that the mail arrived counts as automatic when it comes at once and before
    // any answer; a person who writes so later is answering.
    if author.role == Role::Provider {
        let said = match company_subject(&msg.mail.subject) {
            Said::Answer => company_text(&answer.text),
            said => said,
        };
        let at_once = after <= ACKNOWLEDGED_WITHIN && thread.first_answer_at.is_none();
        if said == Said::Automatic || (said == Said::Receipt && at_once) {
            return automatic();
        }
    }
    let (mut text, mut trimmed) = (answer.text.clone(), answer.trimmed.clone());
    let provider = thread
        .provider
        .as_deref()
        .and_then(|s| ctx.config.provider(s));
    // Files sent back with nothing written (the photo the writer was asked to send smaller)
    // are the message: published as a post that says so, whose files go on privately. An
    // answer that could not be told apart from our quote still waits for the operator: a
    // signature's logo is no reason to publish it.
    let files_only =
        msg.mail.attachments > 0 && !mail::has_visible_text(&text) && !msg.entry.released;
    if files_only {
        trimmed = std::mem::replace(&mut text, words(ctx.config.language).files_only.clone());
    } else if answer.ours_left && !msg.entry.released {
        let reason = "the answer could not be told apart from the text we sent";
        return hold(tx, ctx, msg, Some(thread.id), "reply", reason);
    }
    if !files_only && !mail::has_visible_text(&text) {
        return hold(tx, ctx, msg, Some(thread.id), "reply", "no text to publish");
    }
    if !msg.entry.released {
        let personal = crate::domain::screen::personal_data(&text);
        if !personal.is_empty() {
            return hold_personal_reply(tx, ctx, msg, &thread, &personal);
        }
    }
    let (kind, post_author, others) = match author.role {
        Role::Provider => {
            let kind = if is_official(provider, &sender, msg.evidence) {
                PostKind::Official
            } else {
                PostKind::Unverified
            };
            (kind, thread.company.clone(), Role::Consumer)
        }
        Role::Consumer => {
            let not_the_writer = match &speaker {
                Ok(speaker) if *speaker == author.address => None,
                Ok(_) => Some("sender is not the writer"),
                Err(reason) => Some(*reason),
            };
            if let Some(reason) = not_the_writer {
                return hold(tx, ctx, msg, Some(thread.id), "reply", reason);
            }
            (
                PostKind::Consumer,
                author.public_name.clone(),
                Role::Provider,
            )
        }
    };
    let post_id = tx.add_post(&NewPost {
        thread_id: thread.id,
        participant_id: Some(author.id),
        journal_id,
        kind,
        author: &post_author,
        body: &text,
        trimmed: &trimmed,
        uncut: answer.uncut && !files_only,
        attachments: msg.mail.attachments,
        message_id: msg.mail.message_id.as_deref(),
        created_at: now,
        evidence: msg.evidence,
    })?;
    match kind {
        // Once a thread: forged answers to one token must not flood the operator.
        PostKind::Unverified if tx.count_posts(thread.id, PostKind::Unverified)? == 1 => {
            report_unverified(tx, ctx, &thread, msg.evidence)?
        }
        PostKind::Official => judge_answer(tx, ctx, &thread, &author, post_id, &text)?,
        _ => {}
    }
    let url = ctx.config.thread_link(thread.id);
    let recipients = match others {
        Role::Provider => company_side(tx, ctx, thread.id)?,
        Role::Consumer => tx.participants(thread.id, others)?,
    };
    let subject = if others == Role::Provider {
        texts::company_subject(&thread.title, ctx.config.language)
    } else {
        texts::writer_subject(&thread)
    };
    // Most replies carry no file: their raw mail is not read again.
    let mut files = if msg.mail.attachments > 0 {
        attachments::of_message(ctx, &msg.entry.raw)
    } else {
        Default::default()
    };
    if kind == PostKind::Unverified {
        files = files.withheld(LeftOut::Unverified);
    }
    for to in &recipients {
        // The writer reads in the language they wrote in; the company in the service's.
        let lang = match others {
            Role::Consumer => language_of(ctx, to),
            Role::Provider => ctx.config.language,
        };
        let note = attachments::to_receiver(ctx, lang, &files, &thread.company);
        let (subject, body) = texts::relay_text(
            &texts::Relay {
                subject: &subject,
                author: &post_author,
                official: kind == PostKind::Official,
                unverified: kind == PostKind::Unverified,
                title: &thread.title,
                body: &text,
                url: &url,
                attachments: &note,
            },
            lang,
        )?;
        let from_name = if kind == PostKind::Unverified {
            fill(&words(lang).unverified_author, &[("author", &post_author)])
        } else {
            post_author.clone()
        };
        let letter = Letter {
            from_name: via(&from_name, lang),
            from_address: token_address(ctx, to.id),
            to: to.address.clone(),
            subject,
            body,
            references: tx.references(to.id)?,
            origin: Origin::Person,
            attachments: files.carried.clone(),
        };
        queue(
            tx,
            ctx,
            &letter,
            Sending::new(OutboxPurpose::Relay)
                .in_thread(thread.id)
                .to(to.id)
                .for_message(msg.entry.id),
        )?;
    }
    Ok(format!(
        "{} post in thread {}, relayed to {}",
        kind.as_str(),
        thread.id,
        recipients.len()
    ))
}

/// How many of a company's earlier answers a new one is compared with.
pub(super) const TEMPLATE_LOOKBACK: usize = 200;

/// Marks a company's answer (and the earlier ones it repeats) as a template, and tells the
/// company privately, once per thread, when the answer blames or deflects.
pub(super) fn judge_answer(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    thread: &crate::store::Thread,
    company: &Participant,
    post_id: i64,
    text: &str,
) -> Result<(), PipelineError> {
    if let Some(provider) = thread.provider.as_deref() {
        let this = tone::shingles(text);
        let mut template = false;
        for (earlier, body) in tx.company_answers(provider, thread.id, TEMPLATE_LOOKBACK)? {
            if tone::same_template(&this, &tone::shingles(&body)) {
                tx.mark_template(earlier)?;
                template = true;
            }
        }
        if template {
            tx.mark_template(post_id)?;
        }
    }
    let Some(phrase) = tone::blame(text) else {
        return Ok(());
    };
    if tx.sent_in_thread(thread.id, OutboxPurpose::BlameNote)? {
        return Ok(());
    }
    let url = ctx.config.thread_link(thread.id);
    let (subject, body) = texts::in_thread(
        texts::letter(&texts::BlameNote {
            lang: ctx.config.language,
            title: &thread.title,
            url: &url,
            phrase: &phrase,
        })?,
        texts::company_subject(&thread.title, ctx.config.language),
    );
    let letter = Letter {
        from_name: "nonono".into(),
        from_address: mailbox::at(mailbox::POSTMASTER, &ctx.config.domain),
        to: company.address.clone(),
        subject,
        body,
        references: Vec::new(),
        origin: Origin::Automatic,
        attachments: Vec::new(),
    };
    queue(
        tx,
        ctx,
        &letter,
        Sending::new(OutboxPurpose::BlameNote)
            .in_thread(thread.id)
            .to(company.id),
    )
}

/// Tells the operator that an answer claiming to be the company did not prove it.
pub(super) fn report_unverified(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    thread: &crate::store::Thread,
    evidence: Option<&Evidence>,
) -> Result<(), PipelineError> {
    let url = ctx.config.thread_link(thread.id);
    let why = evidence.map_or_else(
        || "not a listed representative".to_owned(),
        Evidence::summary,
    );
    let (subject, body) = texts::letter(&texts::UnverifiedAnswer {
        lang: ctx.config.language,
        company: &thread.company,
        url: &url,
        why: &why,
    })?;
    tell_operator(
        tx,
        ctx.config,
        OutboxPurpose::Operator,
        subject,
        body,
        ctx.now,
    )
}

/// Holds a reply with personal data in it, from either side, until its writer says publish:
/// nothing of it is published or passed on meanwhile.
pub(super) fn hold_personal_reply(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    msg: &Message<'_>,
    thread: &crate::store::Thread,
    personal: &[crate::domain::screen::Personal],
) -> Result<String, PipelineError> {
    tx.add_event(
        thread.id,
        Some(msg.entry.id),
        EventKind::Held,
        HELD_PERSONAL_DATA,
        ctx.now,
    )?;
    tx.hold_for_publication(msg.entry.id)?;
    tx.hold(
        msg.entry.id,
        Some(thread.id),
        "personal data; its writer is asked whether to publish",
        ctx.now,
    )?;
    let found: Vec<&str> = personal
        .iter()
        .map(|p| words(ctx.config.language).personal(*p))
        .collect();
    let writer = match msg.reply_address(ctx) {
        Ok(writer) => writer,
        Err(reason) => {
            let (subject, body) = texts::letter(&texts::OperatorHeldReply {
                lang: ctx.config.language,
                thread: thread.id,
                journal: msg.entry.id,
                found: &found.join(", "),
                reason,
            })?;
            tell_operator(
                tx,
                ctx.config,
                OutboxPurpose::Operator,
                subject,
                body,
                ctx.now,
            )?;
            return Ok(format!(
                "reply in thread {} held: personal data; the writer cannot be asked ({reason})",
                thread.id
            ));
        }
    };
    let (subject, body) = texts::in_thread(
        texts::publish_text(&thread.title, &found, ctx.config.language)?,
        texts::writer_subject(thread),
    );
    let letter = Letter {
        from_name: "nonono".into(),
        from_address: ctx
            .key
            .address(Purpose::Publish, msg.entry.id, &ctx.config.domain),
        to: writer,
        subject,
        body,
        references: msg.mail.message_id.iter().cloned().collect(),
        origin: Origin::AutoReplied,
        attachments: Vec::new(),
    };
    queue(
        tx,
        ctx,
        &letter,
        Sending::new(OutboxPurpose::PublishAsk)
            .in_thread(thread.id)
            .for_message(msg.entry.id),
    )?;
    Ok(format!(
        "reply in thread {} held: personal data; its writer is asked",
        thread.id
    ))
}

/// Mail to `p+TOKEN@`: the writer of a held reply says publish it as written.
pub(super) fn publish(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    msg: &Message<'_>,
    held: i64,
) -> Result<String, PipelineError> {
    if let Some(reason) = msg.hold_reason(tx, ctx)? {
        return Ok(format!("publication of entry {held} not taken: {reason}"));
    }
    let Some(raw) = tx.held_for_publication(held)? else {
        return Ok(format!("publication of entry {held}: nothing waits for it"));
    };
    let writer = mail::parse(&raw).from.map(|f| f.address);
    if writer.is_none() || msg.reply_address(ctx).ok() != writer {
        return Ok(format!(
            "publication of entry {held} not taken: sender is not its writer"
        ));
    }
    tx.publish_held(held)?;
    tx.close_hold(held, "released by its writer", ctx.now)?;
    Ok(format!(
        "entry {held}: its writer says publish; processed again"
    ))
}

/// Whether an answer counts as the provider's own: From is one of its representatives and,
/// when sender authentication is on (`evidence` is then present), the From domain authenticated.
pub(super) fn is_official(
    provider: Option<&ProviderConfig>,
    sender: &str,
    evidence: Option<&Evidence>,
) -> bool {
    provider.is_some_and(|p| route::is_representative(p, sender))
        && evidence.is_none_or(|e| e.verified)
}

pub(super) fn author_role(p: &Participant) -> &'static str {
    match p.role {
        Role::Consumer => "consumer",
        Role::Provider => "provider",
    }
}

/// Why a held message may not become a company's answer by the operator's hand.
#[derive(Debug, thiserror::Error)]
pub enum NotTheCompany {
    #[error("no such hold; `nonono held` lists them")]
    NoHold,
    #[error("thread {0}: no such thread")]
    NoThread(i64),
    #[error("thread {0}: its company is not registered")]
    Unregistered(i64),
    #[error(
        "{from} (envelope {envelope}) is not one of {company}'s addresses; check it, and add --unverified to publish it in thread {thread} as an unverified answer anyway"
    )]
    Stranger {
        from: String,
        envelope: String,
        company: String,
        thread: i64,
    },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Whether held message `hold` comes from a representative of the company of `thread`, by its
/// From and its envelope sender both: `held assign` must not make a stranger's or a
/// consumer's words the company's answer by a slip of the operator's hand.
pub fn company_speaks(
    store: &crate::store::Store,
    config: &crate::config::Config,
    hold: i64,
    thread: i64,
) -> Result<(), NotTheCompany> {
    let held = store.hold(hold)?.ok_or(NotTheCompany::NoHold)?;
    let company = store
        .thread(thread)?
        .ok_or(NotTheCompany::NoThread(thread))?
        .provider
        .and_then(|slug| config.provider(&slug).cloned())
        .ok_or(NotTheCompany::Unregistered(thread))?;
    let from = mail::parse(&held.raw)
        .from
        .map(|m| m.address)
        .unwrap_or_default();
    let envelope = mail::normalize_address(&held.sender);
    let speaks = |a: &str| route::is_representative(&company, a);
    if speaks(&from) && speaks(&envelope) {
        return Ok(());
    }
    Err(NotTheCompany::Stranger {
        from,
        envelope,
        company: company.name,
        thread,
    })
}
