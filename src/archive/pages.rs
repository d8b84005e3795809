//! One askama template per page, the view data they show, and the page texts in Finnish and
//! English.

use askama::Template;

use crate::config::{Config, Language, ProviderConfig};
use crate::domain::calendar::working_days_between;
use crate::domain::limits::MAX_REMINDERS;
use crate::store::Evidence;
use crate::store::public::{FeedPost, Figures, SearchHit, ThreadFilter};
use crate::store::{Event, EventKind, Post, Thread};

/// The fixed texts of the pages in one language.
pub struct Texts {
    pub lang: &'static str,
    pub tagline: &'static str,
    pub footer: &'static str,
    pub how_to: &'static str,
    pub how_to_tag: &'static str,
    pub latest: &'static str,
    pub no_threads: &'static str,
    pub companies: &'static str,
    pub company: &'static str,
    pub threads: &'static str,
    pub answered_share: &'static str,
    pub median_answer: &'static str,
    pub overdue_share: &'static str,
    pub auto_only_share: &'static str,
    pub personal_share: &'static str,
    pub solved_share: &'static str,
    pub supporters: &'static str,
    pub support_how: &'static str,
    pub template: &'static str,
    pub template_note: &'static str,
    pub verified: &'static str,
    pub verified_note: &'static str,
    pub unverified: &'static str,
    pub unverified_note: &'static str,
    pub attachments: &'static str,
    pub uncut_note: &'static str,
    pub search: &'static str,
    pub search_button: &'static str,
    pub no_results: &'static str,
    pub all: &'static str,
    pub waiting: &'static str,
    pub answered: &'static str,
    pub older: &'static str,
    pub next_page: &'static str,
    pub follow_feed: &'static str,
    pub export: &'static str,
    pub write_to: &'static str,
    pub response_time: &'static str,
    pub working_days: &'static str,
    pub route: &'static str,
    pub skip: &'static str,
}

const FI: Texts = Texts {
    lang: "fi",
    tagline: "julkinen palautekanava",
    footer: "Sähköpostiosoitteita ei koskaan julkaista. Palaute kuuluu kirjoittajilleen: koko arkisto on vapaasti ladattavissa.",
    how_to: "Lähetä palautteesi sähköpostilla osoitteeseen",
    how_to_tag: "ja kirjoita yrityksen nimi hakasulkeisiin otsikkoon, esimerkiksi",
    latest: "Uusimmat palautteet",
    no_threads: "Ei vielä palautteita.",
    companies: "Yritykset",
    company: "Yritys",
    threads: "Palautteita",
    answered_share: "Vastattu",
    median_answer: "Vastausaika (mediaani)",
    overdue_share: "Vastausaika ylittynyt",
    auto_only_share: "Vain automaattinen kuittaus",
    personal_share: "Henkilökohtaisia vastauksia",
    solved_share: "Ratkaistu kirjoittajan mukaan",
    supporters: "Sama ongelma muillakin",
    support_how: "Oliko sinulla sama ongelma? Kerro se lähettämällä mikä tahansa viesti osoitteeseen",
    template: "Vakiovastaus",
    template_note: "Lähes sama teksti kuin yrityksen vastauksissa muihin palautteisiin.",
    verified: "Vahvistettu edustaja",
    verified_note: "Vastaus tuli yrityksen rekisteröidystä osoitteesta.",
    unverified: "Vahvistamaton",
    unverified_note: "Lähettäjää ei voitu vahvistaa yrityksen edustajaksi.",
    attachments: "Julkaisemattomia liitteitä",
    uncut_note: "Viesti näytetään kokonaan: vastausta ei voitu erottaa lainauksesta.",
    search: "Haku",
    search_button: "Hae",
    no_results: "Ei tuloksia.",
    all: "Kaikki",
    waiting: "Odottaa vastausta",
    answered: "Vastattu",
    older: "Vanhemmat",
    next_page: "Seuraava sivu",
    follow_feed: "Seuraa syötteenä (Atom)",
    export: "Avoin data (JSON Lines)",
    write_to: "Palaute yritykselle",
    response_time: "Luvattu vastausaika",
    working_days: "arkipäivää",
    route: "Käsittelijä",
    skip: "Siirry sisältöön",
};

const EN: Texts = Texts {
    lang: "en",
    tagline: "public feedback",
    footer: "Email addresses are never published. Feedback belongs to the people who wrote it: the whole archive is free to download.",
    how_to: "Send your feedback by email to",
    how_to_tag: "with the company's name in brackets in the subject, for example",
    latest: "Latest feedback",
    no_threads: "No feedback yet.",
    companies: "Companies",
    company: "Company",
    threads: "Threads",
    answered_share: "Answered",
    median_answer: "Median time to answer",
    overdue_share: "Past response time",
    auto_only_share: "Only an automatic reply",
    personal_share: "Personal answers",
    solved_share: "Solved, say the writers",
    supporters: "Others with the same problem",
    support_how: "Had the same problem? Say so by sending any message to",
    template: "Template answer",
    template_note: "Nearly the same text as the company's answers to other feedback.",
    verified: "Verified representative",
    verified_note: "The answer came from the company's registered address.",
    unverified: "Unverified",
    unverified_note: "The sender could not be verified as the company's representative.",
    attachments: "Attachments not published",
    uncut_note: "Shown in full: the answer could not be told apart from the quote.",
    search: "Search",
    search_button: "Search",
    no_results: "No results.",
    all: "All",
    waiting: "Waiting for an answer",
    answered: "Answered",
    older: "Older",
    next_page: "Next page",
    follow_feed: "Follow as a feed (Atom)",
    export: "Open data (JSON Lines)",
    write_to: "Feedback to this company",
    response_time: "Promised response time",
    working_days: "working days",
    route: "Handled by",
    skip: "Skip to content",
};

/// The texts for a language.
pub fn texts(lang: Language) -> &'static Texts {
    match lang {
        Language::Fi => &FI,
        Language::En => &EN,
    }
}

/// "3 hours", "2 days": a duration as a reader wants it.
pub fn duration(secs: i64, lang: Language) -> String {
    let (n, unit_fi, unit_en) = if secs < 3600 {
        ((secs / 60).max(1), "min", "min")
    } else if secs < 2 * 86_400 {
        (secs / 3600, "h", "h")
    } else {
        (secs / 86_400, "pv", "days")
    };
    match lang {
        Language::Fi => format!("{n} {unit_fi}"),
        Language::En => format!("{n} {unit_en}"),
    }
}

fn percent(part: i64, whole: i64) -> String {
    if whole == 0 {
        "–".into()
    } else {
        format!("{} %", (part * 100 + whole / 2) / whole)
    }
}

/// A thread in a list, with its status in words.
pub struct ThreadRow {
    pub id: i64,
    pub title: String,
    pub company: String,
    pub slug: Option<String>,
    pub status: String,
    /// `answered`, `waiting` or `overdue`, for styling.
    pub state: &'static str,
}

fn status(thread: &Thread, config: &Config, now: i64) -> (String, &'static str) {
    let lang = config.language;
    if let Some(answered) = thread.first_answer_at {
        let after = duration(
            answered - thread.delivered_at.unwrap_or(thread.created_at),
            lang,
        );
        return match lang {
            Language::Fi => (format!("Vastattu {after} kuluttua"), "answered"),
            Language::En => (format!("Answered after {after}"), "answered"),
        };
    }
    if thread.provider.is_none() {
        return match lang {
            Language::Fi => (
                "Ei vielä toimitettu: yritys ei ole vielä palvelussa".into(),
                "undelivered",
            ),
            Language::En => (
                "Not delivered yet: the company is not in the service yet".into(),
                "undelivered",
            ),
        };
    }
    if thread.undeliverable_at.is_some() {
        return match lang {
            Language::Fi => (
                "Ei toimitettavissa yritykselle: vastausaika on pysäytetty".into(),
                "undeliverable",
            ),
            Language::En => (
                "Not deliverable to the company: its response time is paused".into(),
                "undeliverable",
            ),
        };
    }
    // The company's clock runs from when its server accepted our mail.
    let since = thread.delivered_at.unwrap_or(thread.created_at);
    let days = working_days_between(since, now, &config.extra_days_off());
    let overdue = thread.due_at.is_some_and(|due| due < now);
    match (lang, overdue) {
        (Language::Fi, false) => (format!("Odottaa vastausta, {days} arkipäivää"), "waiting"),
        (Language::Fi, true) => (
            format!("Odottanut vastausta {days} arkipäivää, vastausaika ylittynyt"),
            "overdue",
        ),
        (Language::En, false) => (
            format!("Waiting for an answer, {days} working days"),
            "waiting",
        ),
        (Language::En, true) => (
            format!("Waiting for {days} working days, past the response time"),
            "overdue",
        ),
    }
}

fn thread_row(thread: Thread, config: &Config, now: i64) -> ThreadRow {
    let (status, state) = status(&thread, config, now);
    ThreadRow {
        id: thread.id,
        title: thread.title,
        company: thread.company,
        slug: thread.provider,
        status,
        state,
    }
}

/// A company's figures as shown.
pub struct CompanyRow {
    pub slug: String,
    pub name: String,
    pub threads: i64,
    pub answered: String,
    pub median: String,
    pub overdue: String,
    pub auto_only: String,
    /// Share of official answers written for their thread, not templates.
    pub personal: String,
    /// Share of writers who said their problem was solved, of those who said either.
    pub solved: String,
}

fn company_row(p: &ProviderConfig, f: &Figures, lang: Language) -> CompanyRow {
    CompanyRow {
        slug: p.slug.clone(),
        name: p.name.clone(),
        threads: f.threads,
        answered: percent(f.answered, f.threads),
        median: f
            .median_answer_secs
            .map_or_else(|| "–".into(), |s| duration(s, lang)),
        overdue: percent(f.overdue, f.threads),
        auto_only: percent(f.auto_only, f.threads),
        personal: percent(f.answers - f.template_answers, f.answers),
        solved: percent(f.solved, f.solved + f.unsolved),
    }
}

/// `/`.
#[derive(Template)]
#[template(path = "web/index.html")]
pub struct IndexPage {
    pub t: &'static Texts,
    pub feedback_address: String,
    pub threads: Vec<ThreadRow>,
    pub companies: Vec<CompanyRow>,
}

/// Builds the home page.
pub fn index(config: &Config, threads: Vec<Thread>, figures: Vec<Figures>, now: i64) -> IndexPage {
    let lang = config.language;
    IndexPage {
        t: texts(lang),
        feedback_address: format!("palaute@{}", config.domain),
        threads: threads
            .into_iter()
            .map(|t| thread_row(t, config, now))
            .collect(),
        companies: config
            .providers
            .iter()
            .zip(&figures)
            .map(|(p, f)| company_row(p, f, lang))
            .collect(),
    }
}

/// `/p/SLUG`.
#[derive(Template)]
#[template(path = "web/provider.html")]
pub struct ProviderPage {
    pub t: &'static Texts,
    pub company: CompanyRow,
    pub address: String,
    pub response_days: u32,
    pub threads: Vec<ThreadRow>,
    pub filter: &'static str,
    pub older: Option<i64>,
}

/// Builds a company page; `threads` holds one more than a page when there are older ones.
pub fn provider(
    config: &Config,
    p: &ProviderConfig,
    figures: Figures,
    mut threads: Vec<Thread>,
    filter: ThreadFilter,
    page_size: usize,
    now: i64,
) -> ProviderPage {
    let lang = config.language;
    let older = (threads.len() > page_size).then(|| threads[page_size - 1].id);
    threads.truncate(page_size);
    ProviderPage {
        t: texts(lang),
        company: company_row(p, &figures, lang),
        address: format!("{}@{}", p.slug, config.domain),
        response_days: p.response_days,
        threads: threads
            .into_iter()
            .map(|t| thread_row(t, config, now))
            .collect(),
        filter: match filter {
            ThreadFilter::All => "",
            ThreadFilter::Waiting => "waiting",
            ThreadFilter::Answered => "answered",
        },
        older,
    }
}

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
fn evidence(lang: Language, e: &Evidence) -> String {
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
fn tombstone(lang: Language, r: &crate::store::Removal) -> String {
    let when = crate::domain::calendar::display(r.at, lang == Language::Fi);
    match (lang, r.by.as_str()) {
        (Language::Fi, "writer") => format!("Kirjoittaja poisti viestinsä {when}."),
        (Language::En, "writer") => format!("Removed by its writer on {when}."),
        (Language::Fi, _) => format!("Ylläpito poisti tämän {when}. Syy: {}", r.reason),
        (Language::En, _) => format!("Removed by the moderators on {when}. Reason: {}", r.reason),
    }
}

/// An event in words for the public.
fn describe(lang: Language, e: &Event) -> String {
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
    pub t: &'static Texts,
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
    let words: Vec<String> = q
        .split(|c: char| !c.is_alphanumeric())
        .map(crate::domain::route::fold)
        .filter(|w| !w.is_empty())
        .collect();
    SearchPage {
        t: texts(config.language),
        hits: hits
            .into_iter()
            .map(|h| HitView {
                thread: h.thread,
                snippet_html: snippet(&h.body, &words, 32),
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
        let folded = crate::domain::route::fold(token);
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
    let base = config.http.public_url.trim_end_matches('/');
    let t = texts(config.language);
    let (title, path) = match provider {
        Some(p) => (format!("{} – nonono", p.name), format!("/p/{}", p.slug)),
        None => (format!("nonono – {}", t.latest), String::new()),
    };
    let updated = posts.iter().map(|p| p.created_at).max().unwrap_or(0);
    Feed {
        lang: t.lang,
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

/// `/u/TOKEN`: stop following a company. A GET only shows a button (mail scanners open links);
/// the POST, from the button or a mail client's one-click unsubscribe, does it.
#[derive(Template)]
#[template(path = "web/unsubscribe.html")]
pub struct UnsubscribePage {
    pub t: &'static Texts,
    pub heading: &'static str,
    pub message: &'static str,
    pub button: &'static str,
    pub token: String,
    pub show_button: bool,
}

/// The unsubscribe page: asking (`done` = `None`), or after the POST.
pub fn unsubscribe(config: &Config, token: String, done: Option<bool>) -> UnsubscribePage {
    let fi = config.language == Language::Fi;
    let (heading, message) = match (fi, done) {
        (true, None) => (
            "Lopeta seuraaminen",
            "Et saa enää koosteita tästä yrityksestä, kun vahvistat.",
        ),
        (false, None) => (
            "Stop following",
            "You get no more digests about this company once you confirm.",
        ),
        (true, Some(true)) => (
            "Seuraaminen lopetettu",
            "Et saa enää koosteita tästä yrityksestä.",
        ),
        (false, Some(true)) => (
            "You stopped following",
            "You get no more digests about this company.",
        ),
        (true, Some(false)) => ("Ei tilausta", "Tällä linkillä ei ole (enää) tilausta."),
        (false, Some(false)) => (
            "No subscription",
            "This link has no subscription (any more).",
        ),
    };
    UnsubscribePage {
        t: texts(config.language),
        heading,
        message,
        button: if fi {
            "Lopeta seuraaminen"
        } else {
            "Stop following"
        },
        token,
        show_button: done.is_none(),
    }
}
