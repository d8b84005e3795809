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
        let phrase = if days == 1 {
            &t.overdue_day
        } else {
            &t.overdue_days
        };
        (fill(phrase, &[("days", &days)]), "overdue")
    } else {
        let phrase = match days {
            0 => &t.waiting_today,
            1 => &t.waiting_day,
            _ => &t.waiting_days,
        };
        (fill(phrase, &[("days", &days)]), "waiting")
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

/// Below this many threads (or answers, or writers' verdicts) a share or a median is not
/// shown: one answer of two threads is no rate. The method page says so.
pub const MIN_SAMPLE: i64 = 5;

/// One figure as shown: its value and, beside it, what it was counted from.
pub struct Figure {
    /// `60 %`, `3 h`, or why it is not shown (`liian vähän palautteita`).
    pub value: String,
    /// `3/5`, `vastauksia: 5`, or the sample that was too small.
    pub count: String,
    /// Whether the sample was large enough for the value to be shown.
    pub shown: bool,
}

/// What a figure is counted from, for the words of a sample too small.
#[derive(Clone, Copy)]
enum Sample {
    Threads,
    Answers,
    Verdicts,
}

impl Figure {
    /// `part` of `whole` as a share, when `whole` is a sample large enough.
    fn share(part: i64, whole: i64, sample: Sample, lang: Language) -> Figure {
        if whole < MIN_SAMPLE {
            return Figure::too_few(whole, sample, lang);
        }
        Figure {
            value: percent(part, whole, lang),
            count: format!("{part}/{whole}"),
            shown: true,
        }
    }

    /// The median time to answer, from `answered` answers.
    fn median(secs: Option<i64>, answered: i64, lang: Language) -> Figure {
        match secs {
            Some(secs) if answered >= MIN_SAMPLE => Figure {
                value: duration(secs, lang),
                count: fill(&words(lang).answers_count, &[("n", &answered)]),
                shown: true,
            },
            _ => Figure::too_few(answered, Sample::Answers, lang),
        }
    }

    fn too_few(n: i64, sample: Sample, lang: Language) -> Figure {
        let t = words(lang);
        let value = match sample {
            Sample::Threads => &t.too_few_threads,
            Sample::Answers => &t.too_few_answers,
            Sample::Verdicts => &t.too_few_verdicts,
        };
        Figure {
            value: value.clone(),
            count: n.to_string(),
            shown: false,
        }
    }
}

/// A company's figures as shown.
pub struct CompanyRow {
    pub slug: String,
    pub name: String,
    pub threads: i64,
    pub answered: Figure,
    pub median: Figure,
    pub overdue: Figure,
    pub auto_only: Figure,
    /// Share of official answers written for their thread, not templates.
    pub personal: Figure,
    /// Share of writers who said their problem was solved, of those who said either.
    pub solved: Figure,
}

pub(super) fn company_row(p: &ProviderConfig, f: &Figures, lang: Language) -> CompanyRow {
    let share = |part, whole, sample| Figure::share(part, whole, sample, lang);
    CompanyRow {
        slug: p.slug.clone(),
        name: p.name.clone(),
        threads: f.threads,
        answered: share(f.answered, f.threads, Sample::Threads),
        median: Figure::median(f.median_answer_secs, f.answered, lang),
        overdue: share(f.overdue, f.threads, Sample::Threads),
        auto_only: share(f.auto_only, f.threads, Sample::Threads),
        personal: share(f.answers - f.template_answers, f.answers, Sample::Answers),
        solved: share(f.solved, f.solved + f.unsolved, Sample::Verdicts),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_is_shown_with_its_count_from_the_smallest_sample_up() {
        let f = Figure::share(3, 5, Sample::Threads, Language::Fi);
        assert_eq!(
            (f.value.as_str(), f.count.as_str(), f.shown),
            ("60 %", "3/5", true)
        );
        let f = Figure::share(1, 4, Sample::Threads, Language::Fi);
        assert_eq!(
            (f.value.as_str(), f.count.as_str(), f.shown),
            ("liian vähän palautteita", "4", false)
        );
        let f = Figure::share(0, 0, Sample::Verdicts, Language::En);
        assert_eq!(
            (f.value.as_str(), f.count.as_str()),
            ("too few verdicts", "0")
        );
        let f = Figure::median(Some(7200), 5, Language::Fi);
        assert_eq!(
            (f.value.as_str(), f.count.as_str()),
            ("2 h", "vastauksia: 5")
        );
        assert!(!Figure::median(Some(7200), 4, Language::Fi).shown);
    }

    #[test]
    fn waiting_reads_naturally_today_and_after_one_day() {
        let config = Config::default();
        // Monday 7 December 2026, 10:00 Finnish time.
        let monday = 1_796_630_400;
        let thread = |created_at, due_at| Thread {
            id: 1,
            provider: Some("elisa".into()),
            company: "Elisa".into(),
            title: "x".into(),
            route_label: None,
            created_at,
            due_at: Some(due_at),
            first_answer_at: None,
            first_auto_at: None,
            last_activity_at: created_at,
            posts: 1,
            held: None,
            removed: None,
            delivered_at: None,
            undeliverable_at: None,
            supporters: 0,
            subject: None,
        };
        let day = 86_400;
        let said = |created, due, now| status(&thread(created, due), &config, now).0;
        assert_eq!(
            said(monday, monday + 3 * day, monday + 60),
            "Odottaa vastausta, lähti yritykselle tänään"
        );
        assert_eq!(
            said(monday, monday + 3 * day, monday + day),
            "Odottaa vastausta, 1 arkipäivä"
        );
        assert_eq!(
            said(monday, monday + 3 * day, monday + 2 * day),
            "Odottaa vastausta, 2 arkipäivää"
        );
        assert_eq!(
            said(monday, monday + day / 2, monday + day),
            "Odottanut vastausta 1 arkipäivän, vastausaika ylittynyt"
        );
    }
}
