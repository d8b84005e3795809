//! The search page: hits with their matches marked.

use super::words::{Words, words};
use askama::Template;

use crate::config::Config;
use crate::store::public::SearchHit;

/// A search hit as shown: the snippet is already escaped, with `<mark>` around matches.
pub struct HitView {
    pub thread: i64,
    pub title: String,
    pub company: String,
    pub kind: &'static str,
    pub snippet_html: String,
}

/// `/search`.
#[derive(Template)]
#[template(path = "web/search.html")]
pub struct SearchPage {
    pub t: &'static Words,
    pub q: String,
    pub hits: Vec<HitView>,
    pub page: usize,
    pub has_next: bool,
}

/// Builds the search page; `hits` holds one more than a page when there is a next page.
pub fn search(
    config: &Config,
    q: String,
    mut hits: Vec<SearchHit>,
    page: usize,
    page_size: usize,
) -> SearchPage {
    let has_next = hits.len() > page_size;
    hits.truncate(page_size);
    let terms: Vec<String> = q
        .split(|c: char| !c.is_alphanumeric())
        .map(crate::domain::names::fold)
        .filter(|w| !w.is_empty())
        .collect();
    SearchPage {
        t: words(config.language),
        hits: hits
            .into_iter()
            .map(|h| HitView {
                thread: h.thread,
                snippet_html: snippet(&h.body, &terms, 32),
                title: h.title,
                company: h.company,
                kind: h.kind.as_str(),
            })
            .collect(),
        q,
        page,
        has_next,
    }
}

/// Up to `length` words of `body` around the first word that starts with one of `words`
/// (folded: case and diacritics ignored, as the search index does), escaped, with every such
/// word in `<mark>`.
pub fn snippet(body: &str, words: &[String], length: usize) -> String {
    let tokens: Vec<&str> = body.split_whitespace().collect();
    let matches = |token: &str| {
        let folded = crate::domain::names::fold(token);
        !folded.is_empty() && words.iter().any(|w| folded.starts_with(w.as_str()))
    };
    let first = tokens.iter().position(|t| matches(t)).unwrap_or(0);
    let start = first.saturating_sub(length / 4);
    let end = (start + length).min(tokens.len());
    let mut html = String::new();
    if start > 0 {
        html.push('…');
    }
    for (i, token) in tokens[start..end].iter().enumerate() {
        if i > 0 || start > 0 {
            html.push(' ');
        }
        if matches(token) {
            html.push_str("<mark>");
            html.push_str(&escape_html(token));
            html.push_str("</mark>");
        } else {
            html.push_str(&escape_html(token));
        }
    }
    if end < tokens.len() {
        html.push_str(" …");
    }
    html
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_mark_folded_prefix_matches_and_escape_the_rest() {
        let words = vec!["aanestys".to_owned()];
        let body = "Alku <b>x</b> ja Äänestyslippu jäi kassalle.";
        assert_eq!(
            snippet(body, &words, 32),
            "Alku &lt;b&gt;x&lt;/b&gt; ja <mark>Äänestyslippu</mark> jäi kassalle."
        );
        let long: String =
            (0..100).map(|i| format!("w{i} ")).collect::<String>() + "äänestys loppu";
        let s = snippet(&long, &words, 8);
        assert!(
            s.starts_with('…') && s.contains("<mark>äänestys</mark>"),
            "{s}"
        );
    }
}
