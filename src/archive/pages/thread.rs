//! A thread's page: its posts and events in order, with what authenticated each answer.

use super::lists::{ThreadRow, thread_row};
use super::texts::{Texts, duration, texts};
use askama::Template;

use crate::config::{Config, Language};
use crate::domain::limits::MAX_REMINDERS;
use crate::store::Evidence;
use crate::store::{Event, EventKind, Post, Thread};

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
    /// How an answer that claimed the company authenticated, in words.
    pub evidence: Option<String>,
    /// A company's template answer.
    pub template: bool,
}

/// The evidence line beside a badge: which domain proved the answer, and how DMARC saw it.
pub(super) fn evidence(lang: Language, e: &Evidence) -> String {
    let fi = lang == Language::Fi;
    let how = match (e.method.as_deref(), e.domain.as_deref()) {
        (Some("dkim"), Some(d)) if fi => format!("allekirjoittaja {d} (DKIM)"),
        (Some("dkim"), Some(d)) => format!("signed by {d} (DKIM)"),
        (Some(_), Some(d)) if fi => format!("lähettäjä {d} (SPF)"),
        (Some(_), Some(d)) => format!("sent by {d} (SPF)"),
        _ if fi => "ei yrityksen allekirjoitusta".to_owned(),
        _ => "no signature of the company".to_owned(),
    };
    let checked = if fi { "Tarkistettu" } else { "Checked" };
    format!("{checked}: {how}, DMARC {}", e.dmarc)
}

/// `/t/ID`.
#[derive(Template)]
#[template(path = "web/thread.html")]
pub struct ThreadPage {
    pub t: &'static Texts,
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
                    when: crate::domain::calendar::display(p.created_at, lang == Language::Fi),
                    is_event: false,
                    tombstone: p.removed.as_ref().map(|r| tombstone(lang, r)),
                    evidence: p.evidence.as_ref().map(|e| evidence(lang, e)),
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
                when: crate::domain::calendar::display(e.created_at, lang == Language::Fi),
                is_event: true,
                tombstone: None,
                evidence: None,
                template: false,
            },
        )
    }));
    timeline.sort_by_key(|(at, order, _)| (*at, *order));
    let removed = thread.removed.as_ref().map(|r| tombstone(lang, r));
    let mut thread = thread;
    if removed.is_some() {
        timeline.clear();
        thread.title = match lang {
            Language::Fi => "Poistettu ketju".into(),
            Language::En => "Removed thread".into(),
        };
    }
    ThreadPage {
        removed,
        t: texts(lang),
        route_label: thread.route_label.clone(),
        created: crate::domain::calendar::rfc3339(thread.created_at),
        when: crate::domain::calendar::display(thread.created_at, lang == Language::Fi),
        supporters: thread.supporters,
        support_address: format!("tuki+{}@{}", thread.id, config.domain),
        row: thread_row(thread, config, now),
        items: timeline.into_iter().map(|(_, _, item)| item).collect(),
    }
}

/// What stands where removed text was: who removed it, when, and the public reason.
pub(super) fn tombstone(lang: Language, r: &crate::store::Removal) -> String {
    let when = crate::domain::calendar::display(r.at, lang == Language::Fi);
    match (lang, r.by.as_str()) {
        (Language::Fi, "writer") => format!("Kirjoittaja poisti viestinsä {when}."),
        (Language::En, "writer") => format!("Removed by its writer on {when}."),
        (Language::Fi, _) => format!("Ylläpito poisti tämän {when}. Syy: {}", r.reason),
        (Language::En, _) => format!("Removed by the moderators on {when}. Reason: {}", r.reason),
    }
}

/// An event in words for the public.
pub(super) fn describe(lang: Language, e: &Event) -> String {
    let after = e
        .detail
        .parse::<i64>()
        .map(|s| duration(s, lang))
        .unwrap_or_default();
    match (lang, e.kind) {
        (Language::Fi, EventKind::AutoReply) => format!("Automaattinen kuittaus {after} kuluttua"),
        (Language::En, EventKind::AutoReply) => format!("Automatic acknowledgement after {after}"),
        (Language::Fi, EventKind::Reminder) => format!(
            "Yritykselle lähetettiin muistutus {}/{}",
            e.detail, MAX_REMINDERS
        ),
        (Language::En, EventKind::Reminder) => format!(
            "The company was sent reminder {}/{}",
            e.detail, MAX_REMINDERS
        ),
        (Language::Fi, EventKind::Forwarded) => {
            "Yritys rekisteröitiin, ja palaute välitettiin sille".into()
        }
        (Language::En, EventKind::Forwarded) => {
            "The company was registered and the feedback passed on to it".into()
        }
        (Language::Fi, EventKind::Solved) if e.detail == "yes" => {
            "Kirjoittajan mukaan asia ratkesi".into()
        }
        (Language::Fi, EventKind::Solved) => "Kirjoittajan mukaan asia ei ratkennut".into(),
        (Language::En, EventKind::Solved) if e.detail == "yes" => {
            "The writer says it was solved".into()
        }
        (Language::En, EventKind::Solved) => "The writer says it was not solved".into(),
        (Language::Fi, EventKind::Bounce) => "Viestiä ei voitu toimittaa".into(),
        (Language::En, EventKind::Bounce) => "A message could not be delivered".into(),
        (Language::Fi, _) => "Viesti odottaa tarkistusta".into(),
        (Language::En, _) => "A message is held for review".into(),
    }
}
