//! Community support: readers who had the same problem add their voice to a thread by mailing
//! `tuki+ID@DOMAIN`, the address its page shows. Each confirmed address counts once; a new
//! address confirms by replying first. The page shows the count, and the company is told as
//! the count grows, so it sees that one voice speaks for many.

use super::compose::{Letter, Origin};
use super::context::{Context, PipelineError};
use super::message::Message;
use super::outgoing;
use super::outgoing::Sending;
use super::texts;
use crate::domain::mailbox;
use crate::domain::token::Purpose;
use crate::store::OutboxPurpose;
use crate::store::{Role, Tx};

/// The counts at which the company hears how many stand behind a thread.
const MILESTONES: &[i64] = &[1, 5, 10, 25, 50, 100, 250, 500, 1000];

/// Mail to `tuki+ID@`: a reader supports thread `thread_id`.
pub(crate) fn support(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    msg: &Message<'_>,
    thread_id: i64,
) -> Result<String, PipelineError> {
    if let Some(reason) = msg.hold_reason(tx, ctx)? {
        return Ok(format!("support not taken: {reason}"));
    }
    let sender = match msg.reply_address(ctx) {
        Ok(sender) => sender,
        Err(reason) => return Ok(format!("support not taken: {reason}")),
    };
    let Some(thread) = tx.public_thread(thread_id)? else {
        return Ok(format!(
            "support for thread {thread_id}: no such public thread"
        ));
    };
    if tx
        .participants(thread.id, Role::Consumer)?
        .iter()
        .any(|p| p.address == sender)
    {
        return Ok(format!(
            "support for thread {thread_id} from its own writer: not counted"
        ));
    }
    let person = tx.person(&sender, ctx.now)?;
    let confirmed = tx.person_confirmed(person)?;
    let Some(support) = tx.add_support(thread.id, person, ctx.now)? else {
        return Ok(format!(
            "support for thread {thread_id}: this address counts already"
        ));
    };
    let url = ctx.config.thread_link(thread.id);
    let lang = ctx.config.language;
    let (subject, body, from) = if confirmed {
        let count = tx.support_confirmed(support, ctx.now)?;
        tell_company(tx, ctx, thread.id, &thread.title, count)?;
        let (subject, body) = texts::letter(&texts::SupportCounted {
            lang,
            title: &thread.title,
            count,
            url: &url,
        })?;
        (
            subject,
            body,
            mailbox::at(mailbox::FEEDBACK, &ctx.config.domain),
        )
    } else {
        let confirm = ctx
            .key
            .address(Purpose::Support, support, &ctx.config.domain);
        let (subject, body) = texts::letter(&texts::SupportConfirm {
            lang,
            title: &thread.title,
            url: &url,
        })?;
        (subject, body, confirm)
    };
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
    outgoing::queue_automatic(
        tx,
        ctx,
        &letter,
        Sending::new(OutboxPurpose::Support)
            .in_thread(thread.id)
            .for_message(msg.entry.id),
    )?;
    Ok(format!(
        "support for thread {thread_id}: {}",
        if confirmed {
            "counted"
        } else {
            "waits for confirmation"
        }
    ))
}

/// Mail to `v+TOKEN@`: a reader confirms their support, from the address that gave it.
pub(crate) fn confirm(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    msg: &Message<'_>,
    support: i64,
) -> Result<String, PipelineError> {
    if let Some(reason) = msg.hold_reason(tx, ctx)? {
        return Ok(format!("support confirmation not taken: {reason}"));
    }
    let Some(pending) = tx.support(support)? else {
        return Ok("support confirmation for a support we no longer have".into());
    };
    if msg.speaker().ok() != Some(pending.address.clone()) {
        return Ok(format!(
            "support confirmation for thread {} not taken: sender is not the supporter",
            pending.thread_id
        ));
    }
    if pending.confirmed {
        return Ok(format!(
            "support for thread {} counts already",
            pending.thread_id
        ));
    }
    tx.confirm_person(pending.person_id, ctx.now)?;
    let count = tx.support_confirmed(support, ctx.now)?;
    if let Some(thread) = tx.public_thread(pending.thread_id)? {
        tell_company(tx, ctx, thread.id, &thread.title, count)?;
    }
    Ok(format!(
        "support for thread {} confirmed: {count} supporters",
        pending.thread_id
    ))
}

/// At each milestone, tells the company how many readers stand behind the thread, from the
/// thread's reply address so that answering it answers the feedback.
fn tell_company(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    thread_id: i64,
    title: &str,
    count: i64,
) -> Result<(), PipelineError> {
    if !MILESTONES.contains(&count) {
        return Ok(());
    }
    let url = ctx.config.thread_link(thread_id);
    let (subject, body) = texts::in_thread(
        texts::letter(&texts::SupportCount {
            lang: ctx.config.language,
            count,
            title,
            url: &url,
        })?,
        texts::company_subject(title, ctx.config.language),
    );
    outgoing::write_to_company(
        tx,
        ctx,
        thread_id,
        OutboxPurpose::SupportCount,
        &subject,
        &body,
    )
}
