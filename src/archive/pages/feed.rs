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
        Some(p) => (
            xml_text(&format!("{} – nonono", p.name)),
            format!("/p/{}", p.slug),
        ),
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
                title: xml_text(&format!("{}: {}", p.company, p.title)),
                author: xml_text(&match p.kind {
                    crate::store::PostKind::Official => format!("{} ({})", p.author, t.verified),
                    _ => p.author,
                }),
                updated: crate::domain::calendar::rfc3339(p.created_at),
                content: xml_text(&p.body),
            })
            .collect(),
    }
}

/// Text as XML 1.0 may carry it: a character it forbids (a control, U+FFFE, U+FFFF) anywhere in
/// a feed makes the whole feed unreadable to every reader, so it is left out.
fn xml_text(text: &str) -> String {
    text.chars()
        .filter(|&c| {
            matches!(c, '\t' | '\n' | '\r')
                || ('\u{20}'..='\u{D7FF}').contains(&c)
                || ('\u{E000}'..='\u{FFFD}').contains(&c)
                || c >= '\u{10000}'
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Helper-9: one U+FFFF in a name made every feed that showed it unreadable.
    #[test]
    fn a_feed_carries_no_character_xml_forbids() {
        let post = FeedPost {
            post: 1,
            thread: 1,
            title: "Lasku\u{FFFF}".into(),
            company: "Acme\u{1}".into(),
            kind: crate::store::PostKind::Consumer,
            author: "M\u{FFFE}".into(),
            body: "rivi\u{0}\nrivi 😀".into(),
            created_at: 0,
        };
        let xml = feed(&Config::default(), None, vec![post]).render().unwrap();
        assert!(
            !xml.chars()
                .any(|c| matches!(c, '\u{0}' | '\u{1}' | '\u{FFFE}' | '\u{FFFF}')),
            "{xml}"
        );
        assert!(xml.contains("rivi\nrivi 😀") && xml.contains("Acme: Lasku"));
    }
}
