//! A thread's page: its posts and events in order, with what authenticated each answer.

use super::lists::{ThreadRow, thread_row};
use super::words::{Words, duration, when, words};
use askama::Template;

use crate::config::{Config, Language};
use crate::domain::limits::MAX_REMINDERS;
use crate::domain::mailbox;
use crate::domain::words::fill;
use crate::store::{Event, EventKind, Post, RemovedBy, Thread};
use crate::store::{Evidence, PostKind, Signature};

/// A post or an event, in the order they happened.
pub struct Item {
    /// The element id, so feeds and links can point at a post.
    pub anchor: String,
    /// `data-kind`.
    pub kind: &'static str,
    pub author: String,
    pub body: String,
    pub uncut: bool,
    pub attachments: usize,
    pub created: String,
    /// `created` as a reader reads it.
    pub when: String,
    /// Events are quiet one-liners, not answers.
    pub is_event: bool,
    /// The tombstone of a removed post: who removed it, when and why.
    pub tombstone: Option<String>,
    /// Why an answer that claims the company is, or is not, shown as the company's.
    pub trust: Option<Trust>,
    /// A company's template answer.
    pub template: bool,
}

/// Why an answer that claims the company is shown as the company's, or is not: a sentence
/// anyone reads, and the checks behind it for those who want them.
pub struct Trust {
    pub plain: String,
    pub details: Option<String>,
}

/// The trust line of a post of `kind` in a thread with `company`; none for the writer's posts.
pub(super) fn trust(
    lang: Language,
    kind: PostKind,
    company: &str,
    evidence: Option<&Evidence>,
) -> Option<Trust> {
    let t = words(lang);
    let named = |phrase: &str| fill(phrase, &[("company", &company)]);
    let plain = match kind {
        PostKind::Official => match evidence.and_then(|e| e.method.as_deref()) {
            Some("dkim") => named(&t.proof_dkim),
            Some(_) => named(&t.proof_spf),
            None => named(&t.proof_listed),
        },
        PostKind::Unverified => {
            let why = match evidence {
                None => t.doubt_not_listed.clone(),
                Some(e) if e.verified => t.doubt_not_listed.clone(),
                Some(e) => match &e.signature {
                    Signature::Broken(_) => t.doubt_broken.clone(),
                    Signature::Foreign(d) => fill(&t.doubt_foreign, &[("domain", d)]),
                    Signature::None | Signature::Aligned(_) => t.doubt_unsigned.clone(),
                    Signature::Unchecked if e.dmarc == "temperror" => t.doubt_unchecked.clone(),
                    Signature::Unchecked => t.doubt_unsigned.clone(),
                },
            };
            format!("{} {why}", named(&t.doubt))
        }
        _ => return None,
    };
    Some(Trust {
        plain,
        details: evidence.map(|e| details(t, e)),
    })
}

/// The checks an answer went through, as a mail administrator would name them.
fn details(t: &Words, e: &Evidence) -> String {
    let dkim = match &e.signature {
        Signature::Aligned(d) => fill(&t.dkim_aligned, &[("domain", d)]),
        Signature::Foreign(d) => fill(&t.dkim_foreign, &[("domain", d)]),
        Signature::Broken(d) => fill(&t.dkim_broken, &[("domain", d)]),
        Signature::None => t.dkim_none.clone(),
        Signature::Unchecked => t.dkim_unchecked.clone(),
    };
    let passed = match (&e.domain, &e.method) {
        (Some(domain), Some(method)) => fill(
            &t.passed,
            &[("domain", domain), ("method", &method.to_uppercase())],
        ),
        _ => t.passed_none.clone(),
    };
    fill(
        &t.details_line,
        &[("dkim", &dkim), ("passed", &passed), ("dmarc", &e.dmarc)],
    )
}

/// `/t/ID`.
#[derive(Template)]
#[template(path = "web/thread.html")]
pub struct ThreadPage {
    pub t: &'static Words,
    /// The tombstone of a thread the operator hid.
    pub removed: Option<String>,
    pub row: ThreadRow,
    pub route_label: Option<String>,
    pub created: String,
    pub when: String,
    pub items: Vec<Item>,
    /// Readers who confirmed they had the same problem, and where more can say so.
    pub supporters: i64,
    pub support_address: String,
    /// When our forward left for the company's server, where no delivery report says it
    /// arrived: the company's clock runs from then.
    pub sent: Option<Moment>,
}

/// A time on a page: as machines read it, and as people do.
pub struct Moment {
    pub at: String,
    pub when: String,
}

/// Builds the thread page: posts and events merged by time.
pub fn thread(
    config: &Config,
    thread: Thread,
    posts: Vec<Post>,
    events: Vec<Event>,
    now: i64,
) -> ThreadPage {
    let lang = config.language;
    let mut timeline: Vec<(i64, usize, Item)> = posts
        .into_iter()
        .map(|p| {
            (
                p.created_at,
                0,
                Item {
                    anchor: format!("p{}", p.id),
                    kind: p.kind.as_str(),
                    author: p.author,
                    body: p.body,
                    uncut: p.uncut,
                    attachments: p.attachments,
                    created: crate::domain::calendar::rfc3339(p.created_at),
                    when: when(p.created_at, lang),
                    is_event: false,
                    tombstone: p.removed.as_ref().map(|r| tombstone(lang, r)),
                    trust: trust(lang, p.kind, &thread.company, p.evidence.as_ref()),
                    template: p.template,
                },
            )
        })
        .collect();
    timeline.extend(events.iter().enumerate().map(|(i, e)| {
        (
            e.created_at,
            1,
            Item {
                anchor: format!("e{}", i + 1),
                kind: if e.kind == EventKind::AutoReply {
                    "auto"
                } else {
                    "system"
                },
                author: String::new(),
                body: describe(lang, e),
                uncut: false,
                attachments: 0,
                created: crate::domain::calendar::rfc3339(e.created_at),
                when: when(e.created_at, lang),
                is_event: true,
                tombstone: None,
                trust: None,
                template: false,
            },
        )
    }));
    let reported = events.iter().any(|e| e.kind == EventKind::Delivered);
    let sent = thread
        .delivered_at
        .filter(|_| !reported && thread.provider.is_some())
        .map(|at| Moment {
            at: crate::domain::calendar::rfc3339(at),
            when: when(at, lang),
        });
    timeline.sort_by_key(|(at, order, _)| (*at, *order));
    let removed = thread.removed.as_ref().map(|r| tombstone(lang, r));
    let mut thread = thread;
    if removed.is_some() {
        timeline.clear();
        thread.title = words(lang).removed_thread.clone();
    }
    ThreadPage {
        removed,
        t: words(lang),
        route_label: thread.route_label.clone(),
        created: crate::domain::calendar::rfc3339(thread.created_at),
        when: when(thread.created_at, lang),
        supporters: thread.supporters,
        support_address: mailbox::support(thread.id, &config.domain),
        sent,
        row: thread_row(thread, config, now),
        items: timeline.into_iter().map(|(_, _, item)| item).collect(),
    }
}

/// What stands where removed text was: who removed it, when, and the public reason.
pub(super) fn tombstone(lang: Language, r: &crate::store::Removal) -> String {
    let t = words(lang);
    let when = when(r.at, lang);
    if r.by == RemovedBy::Writer {
        fill(&t.removed_by_writer, &[("when", &when)])
    } else {
        fill(
            &t.removed_by_moderators,
            &[("when", &when), ("reason", &r.reason)],
        )
    }
}

/// An event in words for the public.
pub(super) fn describe(lang: Language, e: &Event) -> String {
    let t = words(lang);
    // The detail of a timed event: seconds.
    let after = |e: &Event| {
        e.detail
            .parse::<i64>()
            .map(|s| duration(s, lang))
            .unwrap_or_default()
    };
    match e.kind {
        EventKind::AutoReply => fill(&t.event_auto_reply, &[("after", &after(e))]),
        EventKind::Resumed => fill(&t.event_resumed, &[("after", &after(e))]),
        EventKind::Reminder => fill(
            &t.event_reminder,
            &[("n", &e.detail), ("of", &MAX_REMINDERS)],
        ),
        EventKind::Forwarded => t.event_forwarded.clone(),
        EventKind::Solved if e.detail == "yes" => t.event_solved.clone(),
        EventKind::Solved => t.event_not_solved.clone(),
        EventKind::Bounce => {
            // "provider forward": whose mail it was and why it was sent (older events: the
            // side alone).
            let mut detail = e.detail.split_whitespace();
            match (detail.next(), detail.next()) {
                (Some("provider"), Some("forward")) => t.event_bounce_forward.clone(),
                (Some("provider"), Some("reminder")) => t.event_bounce_reminder.clone(),
                (Some("provider"), _) => t.event_bounce_company.clone(),
                (Some("consumer"), _) => t.event_bounce_writer.clone(),
                _ => t.event_bounce.clone(),
            }
        }
        EventKind::Held => t.event_held.clone(),
        EventKind::Delivered => t.event_delivered.clone(),
    }
}
