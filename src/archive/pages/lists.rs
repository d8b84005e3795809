//! The front page and a company's page: lists of threads and the response figures.

use super::words::{Words, duration, percent, words};
use askama::Template;

use crate::config::{Config, Language, ProviderConfig};
use crate::domain::calendar::working_days_between;
use crate::domain::mailbox;
use crate::domain::words::fill;
use crate::store::Thread;
use crate::store::public::{Figures, ThreadFilter};

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

pub(super) fn status(thread: &Thread, config: &Config, now: i64) -> (String, &'static str) {
    let t = words(config.language);
    if let Some(answered) = thread.first_answer_at {
        let after = duration(
            answered - thread.delivered_at.unwrap_or(thread.created_at),
            config.language,
        );
        return (fill(&t.answered_after, &[("after", &after)]), "answered");
    }
    if thread.provider.is_none() {
        return (t.not_delivered_yet.clone(), "undelivered");
    }
    if thread.undeliverable_at.is_some() {
        return (t.undeliverable.clone(), "undeliverable");
    }
    // The company's clock runs from when its server accepted our mail.
    let since = thread.delivered_at.unwrap_or(thread.created_at);
    let days = working_days_between(since, now, &config.extra_days_off());
    if thread.due_at.is_some_and(|due| due < now) {
        (fill(&t.overdue_days, &[("days", &days)]), "overdue")
    } else {
        (fill(&t.waiting_days, &[("days", &days)]), "waiting")
    }
}

pub(super) fn thread_row(thread: Thread, config: &Config, now: i64) -> ThreadRow {
    let (status, state) = status(&thread, config, now);
    ThreadRow {
        id: thread.id,
        title: thread.title,
        company: thread.company,
        // A company removed from the registry has no page to link to.
        slug: thread
            .provider
            .filter(|slug| config.provider(slug).is_some()),
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

pub(super) fn company_row(p: &ProviderConfig, f: &Figures, lang: Language) -> CompanyRow {
    CompanyRow {
        slug: p.slug.clone(),
        name: p.name.clone(),
        threads: f.threads,
        answered: percent(f.answered, f.threads, lang),
        median: f
            .median_answer_secs
            .map_or_else(|| "–".into(), |s| duration(s, lang)),
        overdue: percent(f.overdue, f.threads, lang),
        auto_only: percent(f.auto_only, f.threads, lang),
        personal: percent(f.answers - f.template_answers, f.answers, lang),
        solved: percent(f.solved, f.solved + f.unsolved, lang),
    }
}

/// `/`.
#[derive(Template)]
#[template(path = "web/index.html")]
pub struct IndexPage {
    pub t: &'static Words,
    pub feedback_address: String,
    /// A subject with a company's tag, as an example.
    pub example_subject: String,
    pub threads: Vec<ThreadRow>,
    pub companies: Vec<CompanyRow>,
    /// The link to every company, when not all are shown.
    pub all_companies: Option<String>,
}

/// Builds the home page: the newest threads, and the companies `shown` with their figures
/// (all, or those with most feedback when there are many).
pub fn index(
    config: &Config,
    threads: Vec<Thread>,
    shown: Vec<(&ProviderConfig, Figures)>,
    now: i64,
) -> IndexPage {
    let lang = config.language;
    let t = words(lang);
    let company = config
        .providers
        .first()
        .map_or(t.example_company.as_str(), |p| p.name.as_str());
    let all = config.providers.len();
    IndexPage {
        t,
        feedback_address: mailbox::at(mailbox::FEEDBACK, &config.domain),
        example_subject: fill(&t.example_subject, &[("company", &company)]),
        threads: threads
            .into_iter()
            .map(|t| thread_row(t, config, now))
            .collect(),
        all_companies: (shown.len() < all).then(|| fill(&t.all_companies, &[("count", &all)])),
        companies: shown.iter().map(|(p, f)| company_row(p, f, lang)).collect(),
    }
}

/// `/p`.
#[derive(Template)]
#[template(path = "web/companies.html")]
pub struct CompaniesPage {
    pub t: &'static Words,
    pub count: usize,
    /// Name, slug and public threads of the companies on this page.
    pub companies: Vec<(String, String, i64)>,
    pub page: usize,
    pub has_next: bool,
}

/// Companies a page of `/p` lists.
const COMPANIES_PAGE: usize = 200;

/// Every company by name (as tags are matched: case and diacritics aside), page `page`.
pub fn companies(
    config: &Config,
    counts: &std::collections::HashMap<String, i64>,
    page: usize,
) -> CompaniesPage {
    let mut all: Vec<(String, &ProviderConfig)> = config
        .providers
        .iter()
        .map(|p| (crate::domain::names::fold(&p.name), p))
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.slug.cmp(&b.1.slug)));
    // A page beyond the last is the last.
    let pages = all.len().div_ceil(COMPANIES_PAGE).max(1);
    let page = page.clamp(1, pages);
    let start = (page - 1) * COMPANIES_PAGE;
    CompaniesPage {
        t: words(config.language),
        count: all.len(),
        companies: all
            .iter()
            .skip(start)
            .take(COMPANIES_PAGE)
            .map(|(_, p)| {
                let threads = counts.get(&p.slug).copied().unwrap_or(0);
                (p.name.clone(), p.slug.clone(), threads)
            })
            .collect(),
        page,
        has_next: page < pages,
    }
}

/// `/p/SLUG`.
#[derive(Template)]
#[template(path = "web/provider.html")]
pub struct ProviderPage {
    pub t: &'static Words,
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
        t: words(lang),
        company: company_row(p, &figures, lang),
        address: mailbox::company(&p.slug, &config.domain),
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
