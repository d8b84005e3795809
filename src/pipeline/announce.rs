//! A thread going public: the forward to the company and the acknowledgement to the writer.

use super::attachments;
use super::compose::{Letter, Origin};
use super::context::{Context, PipelineError};
use super::outgoing::{Sending, language_of_id, queue, token_address, via};
use super::texts;
use crate::config::ProviderConfig;
use crate::domain::token::Purpose;
use crate::mail::attachments::{Attachments, LeftOut};
use crate::store::OutboxPurpose;
use crate::store::{Participant, Tx};

/// A new thread going public: what the company and the writer are sent.
pub(crate) struct Announcement<'a> {
    pub thread_id: i64,
    pub title: &'a str,
    pub pseudonym: &'a str,
    pub body: &'a str,
    pub route_label: Option<&'a str>,
    pub consumer: i64,
    pub consumer_address: &'a str,
    /// The registered company and its participant (the route); `None` while the company
    /// named is not registered, and the feedback waits.
    pub company: Option<CompanySide<'a>>,
    /// The company's name as the thread shows it.
    pub company_name: &'a str,
    pub journal_id: Option<i64>,
}

/// The company side of a new thread: who it is and where its mail goes.
pub(crate) struct CompanySide<'a> {
    pub provider: &'a ProviderConfig,
    pub participant: i64,
    pub address: &'a str,
}

/// Queues the feedback to the company's route, when it has one, and the acknowledgement to
/// its writer.
pub(super) fn announce(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    a: &Announcement<'_>,
) -> Result<(), PipelineError> {
    // Read once for both letters: the raw mail may be megabytes.
    let files = attachments::of_opening(tx, ctx, a.thread_id)?;
    if let Some(company) = &a.company {
        forward(tx, ctx, a, company, &files)?;
    }
    acknowledge(tx, ctx, a, files)
}

/// Queues the feedback to the company's route.
pub(crate) fn forward(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    a: &Announcement<'_>,
    company: &CompanySide<'_>,
    files: &Attachments,
) -> Result<(), PipelineError> {
    let url = ctx.config.thread_link(a.thread_id);
    let full = company.provider.plan == crate::config::Plan::Full;
    let (note, files) = if full {
        (
            attachments::to_receiver(ctx, ctx.config.language, files, &company.provider.name),
            files.carried.clone(),
        )
    } else {
        (
            attachments::notice_only(ctx.config.language, files),
            Vec::new(),
        )
    };
    let (subject, text) = texts::forward_text(
        &texts::Forward {
            company: &company.provider.name,
            title: a.title,
            pseudonym: a.pseudonym,
            body: a.body,
            url: &url,
            full,
            has_representatives: !company.provider.representatives.is_empty(),
            attachments: &note,
        },
        ctx.config.language,
    )?;
    let forward = Letter {
        from_name: via(a.pseudonym, ctx.config.language),
        from_address: token_address(ctx, company.participant),
        to: company.address.to_owned(),
        subject,
        body: text,
        references: Vec::new(),
        origin: Origin::Person,
        attachments: files,
    };
    queue(
        tx,
        ctx,
        &forward,
        Sending::new(OutboxPurpose::Forward)
            .in_thread(a.thread_id)
            .to(company.participant)
            .for_message(a.journal_id),
    )
}

/// A public thread's opening feedback, as published.
pub(crate) struct Opening<'a> {
    pub thread_id: i64,
    pub title: &'a str,
    pub body: &'a str,
    pub consumer: &'a Participant,
}

/// Forwards a public thread's opening feedback to the company after the fact: one registered
/// since it was written, or at a route that changed since.
pub(crate) fn forward_opening(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    opening: &Opening<'_>,
    company: &CompanySide<'_>,
    route_label: Option<&str>,
) -> Result<(), PipelineError> {
    let announcement = Announcement {
        thread_id: opening.thread_id,
        title: opening.title,
        pseudonym: &opening.consumer.public_name,
        body: opening.body,
        route_label,
        consumer: opening.consumer.id,
        consumer_address: &opening.consumer.address,
        company: None,
        company_name: &company.provider.name,
        journal_id: None,
    };
    let files = attachments::of_opening(tx, ctx, opening.thread_id)?;
    forward(tx, ctx, &announcement, company, &files)
}

/// Queues the acknowledgement to the writer.
pub(super) fn acknowledge(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    a: &Announcement<'_>,
    mut files: Attachments,
) -> Result<(), PipelineError> {
    let config = ctx.config;
    let url = config.thread_link(a.thread_id);
    let erase_address = ctx.key.address(Purpose::Erase, a.consumer, &config.domain);
    if a.company
        .as_ref()
        .is_some_and(|c| c.provider.plan == crate::config::Plan::Notice)
    {
        files = files.withheld(LeftOut::NoticeOnly);
    }
    // The writer reads it in the language they wrote in.
    let lang = language_of_id(tx, ctx, a.consumer)?;
    let files = attachments::to_writer(ctx, lang, &files, a.company_name, a.company.is_some());
    let (subject, text) = texts::in_thread(
        texts::ack_text(
            &texts::Ack {
                erase_address: &erase_address,
                pseudonym: a.pseudonym,
                url: &url,
                company: a.company_name,
                route_label: a.route_label,
                response_days: a.company.as_ref().map_or(0, |c| c.provider.response_days),
                title: a.title,
                reachable: a.company.is_some(),
                attachments: &files,
            },
            lang,
        )?,
        texts::writer_subject(&tx.thread(a.thread_id)?),
    );
    let ack = Letter {
        from_name: via(a.company_name, lang),
        from_address: token_address(ctx, a.consumer),
        to: a.consumer_address.to_owned(),
        subject,
        body: text,
        references: tx.references(a.consumer)?,
        origin: Origin::AutoReplied,
        attachments: Vec::new(),
    };
    queue(
        tx,
        ctx,
        &ack,
        Sending::new(OutboxPurpose::Ack)
            .in_thread(a.thread_id)
            .to(a.consumer)
            .for_message(a.journal_id),
    )
}
