//! The Atom feeds of all threads and of one company.

use super::words::words;
use askama::Template;

use crate::config::{Config, ProviderConfig};
use crate::store::public::FeedPost;

/// An Atom entry.
pub struct Entry {
    pub id: String,
    pub link: String,
    pub title: String,
    pub author: String,
    pub updated: String,
    pub content: String,
}

/// `/feed.atom` and `/p/SLUG.atom`.
#[derive(Template)]
#[template(path = "web/feed.xml")]
pub struct Feed {
    pub lang: &'static str,
    pub id: String,
    pub title: String,
    pub self_url: String,
    pub alternate: String,
    pub updated: String,
    pub entries: Vec<Entry>,
}

/// Builds a feed of the newest posts, of one company or of all.
pub fn feed(config: &Config, provider: Option<&ProviderConfig>, posts: Vec<FeedPost>) -> Feed {
    let base = config.public_link("");
    let t = words(config.language);
    let (title, path) = match provider {
        Some(p) => (format!("{} – nonono", p.name), format!("/p/{}", p.slug)),
        None => (format!("nonono – {}", t.latest), String::new()),
    };
    let updated = posts.iter().map(|p| p.created_at).max().unwrap_or(0);
    Feed {
        lang: &t.lang,
        id: format!("{base}{path}/"),
        self_url: if path.is_empty() {
            format!("{base}/feed.atom")
        } else {
            format!("{base}{path}.atom")
        },
        alternate: format!("{base}{path}/"),
        title,
        updated: crate::domain::calendar::rfc3339(updated),
        entries: posts
            .into_iter()
            .map(|p| Entry {
                id: format!("{base}/t/{}#p{}", p.thread, p.post),
                link: format!("{base}/t/{}#p{}", p.thread, p.post),
                title: format!("{}: {}", p.company, p.title),
                author: match p.kind {
                    crate::store::PostKind::Official => format!("{} ({})", p.author, t.verified),
                    _ => p.author,
                },
                updated: crate::domain::calendar::rfc3339(p.created_at),
                content: p.body,
            })
            .collect(),
    }
}
