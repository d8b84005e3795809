//! One askama template struct per page, and the page texts in Finnish and English.

use askama::Template;

use crate::config::Language;
use crate::store::{Event, Post, Thread};

/// The fixed texts of the pages in one language.
pub struct Texts {
    pub lang: &'static str,
    pub tagline: &'static str,
    pub footer: &'static str,
    pub latest: &'static str,
    pub no_threads: &'static str,
    pub company: &'static str,
    pub verified: &'static str,
    pub unverified: &'static str,
    pub attachments: &'static str,
    pub show_trimmed: &'static str,
}

const FI: Texts = Texts {
    lang: "fi",
    tagline: "julkinen palautekanava",
    footer: "Sähköpostiosoitteita ei koskaan julkaista.",
    latest: "Uusimmat palautteet",
    no_threads: "Ei vielä palautteita.",
    company: "Yritys",
    verified: "vahvistettu edustaja",
    unverified: "vahvistamaton",
    attachments: "Julkaisemattomia liitteitä",
    show_trimmed: "Näytä poistettu lainaus",
};

const EN: Texts = Texts {
    lang: "en",
    tagline: "public feedback",
    footer: "Email addresses are never published.",
    latest: "Latest feedback",
    no_threads: "No feedback yet.",
    company: "Company",
    verified: "verified representative",
    unverified: "unverified",
    attachments: "Attachments not published",
    show_trimmed: "Show trimmed text",
};

/// The texts for a language.
pub fn texts(lang: Language) -> &'static Texts {
    match lang {
        Language::Fi => &FI,
        Language::En => &EN,
    }
}

/// `/`.
#[derive(Template)]
#[template(path = "web/index.html")]
pub struct Index {
    pub t: &'static Texts,
    pub threads: Vec<Thread>,
}

/// A post as the page shows it.
pub struct PostView {
    pub kind: &'static str,
    pub author: String,
    pub body: String,
    pub trimmed: String,
    pub attachments: usize,
    pub created: String,
}

/// `/t/ID`.
#[derive(Template)]
#[template(path = "web/thread.html")]
pub struct ThreadPage {
    pub t: &'static Texts,
    pub thread: Thread,
    pub created: String,
    pub posts: Vec<PostView>,
    pub events: Vec<String>,
}

/// Builds the thread page from store rows.
pub fn thread_page(
    lang: Language,
    thread: Thread,
    posts: Vec<Post>,
    events: Vec<Event>,
) -> ThreadPage {
    ThreadPage {
        t: texts(lang),
        created: crate::clock::rfc3339(thread.created_at),
        thread,
        posts: posts
            .into_iter()
            .map(|p| PostView {
                kind: p.kind.as_str(),
                author: p.author,
                body: p.body,
                trimmed: p.trimmed,
                attachments: p.attachments,
                created: crate::clock::rfc3339(p.created_at),
            })
            .collect(),
        events: events.iter().map(|e| describe(lang, e)).collect(),
    }
}

/// An event in words for the public.
fn describe(lang: Language, e: &Event) -> String {
    let when = crate::clock::rfc3339(e.created_at);
    match (lang, e.kind.as_str()) {
        (Language::Fi, "auto-reply") => {
            format!("{when}: automaattinen kuittaus {} s kuluttua", e.detail)
        }
        (Language::En, "auto-reply") => {
            format!("{when}: automatic acknowledgement after {} s", e.detail)
        }
        (Language::Fi, "bounce") => format!("{when}: viestin toimitus epäonnistui"),
        (Language::En, "bounce") => format!("{when}: a message could not be delivered"),
        (Language::Fi, _) => format!("{when}: viesti odottaa tarkistusta"),
        (Language::En, _) => format!("{when}: a message is held for review"),
    }
}
