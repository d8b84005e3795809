//! New feedback: a thread opened, forwarded to the company and acknowledged to the writer;
//! a company's own mail without a thread found its thread or held.

use super::announce::{Announcement, CompanySide, announce};
use super::compose::{Letter, Origin};
use super::consent::{Confirmation, HELD_NEW_ADDRESS, HELD_PERSONAL_DATA, ask_to_confirm};
use super::context::{Context, PipelineError};
use super::message::{Message, hold};
use super::outgoing::{Sending, queue_automatic};
use super::published::feedback_text;
use super::reply::reply;
use super::texts::{self, words};
use crate::config::ProviderConfig;
use crate::domain::mailbox;
use crate::domain::route::{self, Tag};
use crate::mail;
use crate::store::OutboxPurpose;
use crate::store::{NewPost, NewThread, PostKind, Role, Tx};

pub(super) fn new_feedback(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    msg: &Message<'_>,
    addressed_to: Option<&str>,
) -> Result<String, PipelineError> {
    if let Some(reason) = msg.hold_reason(tx, ctx)? {
        return hold(tx, ctx, msg, None, "new feedback", reason);
    }
    let config = ctx.config;
    let tag = route::find_tag(&msg.mail.subject, &config.providers);
    // The company this feedback is about, or with no company named, the one whose
    // representative writes: its own people answer, they do not give feedback about it.
    let from = msg.sender().unwrap_or_default();
    let represents = |p: &&ProviderConfig| route::is_representative(p, &from);
    let about = match (addressed_to, &tag) {
        (Some(slug), _) => config.provider(slug).filter(represents),
        (None, Tag::Known { slug, .. }) => config.provider(slug).filter(represents),
        (None, Tag::Missing) => config.providers.iter().find(represents),
        (None, Tag::Unknown { .. }) => None,
    };
    if let Some(company) = about {
        return company_mail_without_thread(tx, ctx, msg, company);
    }
    let sender = match msg.reply_address(ctx) {
        Ok(sender) => sender,
        Err(reason) => return hold(tx, ctx, msg, None, "new feedback", reason),
    };
    let (provider, company_name, title) = match (addressed_to, tag) {
        (
            Some(slug),
            Tag::Known {
                slug: tagged,
                title,
            },
        ) if tagged == slug => (config.provider(slug), slug.to_owned(), title),
        // A company removed after the mail was taken for it: it waits under that name.
        (Some(slug), _) => (
            config.provider(slug),
            slug.to_owned(),
            msg.mail.subject.clone(),
        ),
        (None, Tag::Known { slug, title }) => (config.provider(&slug), String::new(), title),
        // "Any service": feedback about a company not registered yet is published anyway and
        // waits for the company to be registered.
        (None, Tag::Unknown { tag, title }) => (None, mail::write::one_line(&tag), title),
        (None, Tag::Missing) => {
            return Ok(if help(tx, ctx, msg, &sender)? {
                "no company tag: kept, help sent".into()
            } else {
                "no company tag: kept, help sent to this address already today".into()
            });
        }
    };
    let company_name = provider.map_or(company_name, |p| p.name.clone());
    let title = mail::write::one_line(&title);
    let title = if title.is_empty() {
        words(config.language).untitled.clone()
    } else {
        title
    };
    let (pseudonym, body) = feedback_text(msg.mail, config.language);
    if !mail::has_visible_text(&body) {
        return hold(tx, ctx, msg, None, "new feedback", "no text to publish");
    }
    let title = mail::redact_addresses(&title, &words(config.language).address_removed);
    let choice = provider.map(|p| route::choose_route(p, &title, &body));
    let personal = crate::domain::screen::personal_data(&format!("{pseudonym}\n{title}\n{body}"));
    let now = ctx.now;
    let journal_id = msg.entry.id;

    let person = tx.person(&sender, now)?;
    // Held back from the public, and from the company, until the writer confirms: a first
    // message from an address, and, with sender authentication on, any message whose From did
    // not authenticate (once an address has confirmed, anyone could write its From).
    let held = if config.trust.require_confirmation
        && (!tx.person_confirmed(person)? || msg.evidence.is_some_and(|e| !e.verified))
    {
        Some(HELD_NEW_ADDRESS)
    } else if !personal.is_empty() {
        Some(HELD_PERSONAL_DATA)
    } else {
        None
    };
    let writer_subject = mail::write::one_line(&msg.mail.subject);
    let thread_id = tx.create_thread(&NewThread {
        provider: provider.map(|p| p.slug.as_str()),
        company: &company_name,
        title: &title,
        route: choice.as_ref().map(|c| c.address.as_str()),
        route_label: choice.as_ref().and_then(|c| c.label.as_deref()),
        journal_id,
        created_at: now,
        due_at: provider.map(|p| {
            crate::domain::calendar::add_working_days(
                now,
                p.response_days,
                &config.extra_days_off(),
            )
        }),
        held,
        subject: Some(writer_subject.as_str()).filter(|s| !s.is_empty()),
    })?;
    let consumer = tx.add_participant(
        thread_id,
        Role::Consumer,
        &sender,
        &pseudonym,
        Some(person),
        now,
    )?;
    // What goes back to the writer is in the language they wrote in, when it is clear.
    let writer_language = crate::domain::language::detect(&format!("{title}\n{body}"));
    if let Some(lang) = writer_language {
        tx.set_language(consumer, lang.code())?;
    }
    let company = match (provider, &choice) {
        (Some(provider), Some(choice)) => Some((
            provider,
            tx.add_participant(
                thread_id,
                Role::Provider,
                &choice.address,
                &provider.name,
                None,
                now,
            )?,
        )),
        _ => None,
    };
    tx.add_post(&NewPost {
        thread_id,
        participant_id: Some(consumer),
        journal_id: Some(journal_id),
        kind: PostKind::Consumer,
        author: &pseudonym,
        body: &body,
        trimmed: "",
        uncut: false,
        attachments: msg.mail.attachments,
        message_id: msg.mail.message_id.as_deref(),
        created_at: now,
        evidence: None,
    })?;
    if let Some(why) = held {
        let found: Vec<&str> = personal
            .iter()
            .map(|p| words(writer_language.unwrap_or(config.language)).personal(*p))
            .collect();
        let asked = ask_to_confirm(
            tx,
            ctx,
            &Confirmation {
                thread_id,
                consumer,
                to: &sender,
                pseudonym: &pseudonym,
                company: &company_name,
                title: &title,
                // Named whatever else holds it: the writer's yes publishes it as written.
                personal: &found,
                journal_id: Some(journal_id),
            },
            // Proof of an address is asked once a day: anyone can write an address that does
            // not authenticate. A confirmed writer is asked about each text's personal data.
            why == HELD_NEW_ADDRESS,
        )?;
        return Ok(format!(
            "new thread {thread_id} held until the writer confirms ({why}){}",
            if asked { "" } else { "; asked already today" }
        ));
    }
    announce(
        tx,
        ctx,
        &Announcement {
            thread_id,
            title: &title,
            pseudonym: &pseudonym,
            body: &body,
            route_label: choice.as_ref().and_then(|c| c.label.as_deref()),
            consumer,
            consumer_address: &sender,
            company: company.map(|(provider, participant)| CompanySide {
                provider,
                participant,
                address: &choice
                    .as_ref()
                    .expect("a registered company has a route")
                    .address,
            }),
            company_name: &company_name,
            journal_id: Some(journal_id),
        },
    )?;
    Ok(match provider {
        Some(p) => format!(
            "new thread {thread_id} for {}, forwarded and acknowledged",
            p.slug
        ),
        None => {
            format!("new thread {thread_id} for a company not registered yet: published, waits")
        }
    })
}

pub(super) fn help(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    msg: &Message<'_>,
    sender: &str,
) -> Result<bool, PipelineError> {
    // In the writer's language, when their text tells it.
    let lang = crate::domain::language::detect(&format!("{}\n{}", msg.mail.subject, msg.mail.text))
        .unwrap_or(ctx.config.language);
    let (subject, body) = texts::help_text(None, ctx.config, &msg.mail.subject, lang)?;
    let letter = Letter {
        from_name: "nonono".into(),
        from_address: mailbox::at(mailbox::FEEDBACK, &ctx.config.domain),
        to: sender.to_owned(),
        subject,
        body,
        references: msg.mail.message_id.iter().cloned().collect(),
        origin: Origin::AutoReplied,
        attachments: Vec::new(),
    };
    queue_automatic(
        tx,
        ctx,
        &letter,
        Sending::new(OutboxPurpose::Help).for_message(msg.entry.id),
    )
}

/// Mail from a representative of `company` to an address of ours that names no thread
/// (`palaute@`, `SLUG@`: reply-all, or a client that ignores Reply-To). A company's own people
/// never open feedback about it: the mail answers the thread whose mail of ours it names in
/// `In-Reply-To`/`References`, else, when it authenticated, the one open thread its subject
/// names; failing both it is held, and its sender is told how to answer.
pub(super) fn company_mail_without_thread(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    msg: &Message<'_>,
    company: &ProviderConfig,
) -> Result<String, PipelineError> {
    let mail = msg.mail;
    let answered: Vec<String> = mail
        .in_reply_to
        .iter()
        .chain(&mail.references)
        .cloned()
        .collect();
    let title = mail::write::one_line(&route::subject_title(&mail.subject));
    // The ids of our mail are known only to those who got it, as a token is; a title is
    // public, so a subject finds a thread only for mail that authenticated as the company's.
    let authenticated = msg.evidence.is_some_and(|e| e.verified);
    let traced = match tx.company_side_of_sent(&company.slug, &answered)? {
        Some(participant) => Some((participant, "the mail it answers")),
        None if authenticated => match tx.company_sides_titled(&company.slug, &title)?[..] {
            [participant] => Some((participant, "its subject")),
            _ => None,
        },
        None => None,
    };
    if let Some((participant, by)) = traced {
        let outcome = reply(tx, ctx, msg, participant)?;
        return Ok(format!(
            "{outcome} (to an address without a thread; found by {by})"
        ));
    }
    let told = match msg.reply_address(ctx) {
        Ok(sender) => {
            let (subject, body) =
                texts::not_an_answer_text(&company.name, &mail.subject, ctx.config)?;
            let letter = Letter {
                from_name: "nonono".into(),
                from_address: mailbox::at(mailbox::FEEDBACK, &ctx.config.domain),
                to: sender,
                subject,
                body,
                references: mail.message_id.iter().cloned().collect(),
                origin: Origin::AutoReplied,
                attachments: Vec::new(),
            };
            queue_automatic(
                tx,
                ctx,
                &letter,
                Sending::new(OutboxPurpose::NotAnAnswer).for_message(msg.entry.id),
            )?
        }
        Err(_) => false,
    };
    let reason = format!(
        "from a representative of {} to an address without a thread, and matching none{}",
        company.slug,
        if told {
            "; its sender is told how to answer"
        } else {
            ""
        }
    );
    hold(tx, ctx, msg, None, "mail", &reason)
}
