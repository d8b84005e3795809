//! The words of the pages, from `templates/web/words.{fi,en}.toml`, and how durations and
//! shares read.

use serde::Deserialize;

use crate::config::Language;
use crate::domain::words::{Books, book, fill};

/// The words of the pages in one language.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Words {
    pub lang: String,
    pub tagline: String,
    pub footer: String,
    pub how_to: String,
    pub how_to_tag: String,
    pub latest: String,
    pub no_threads: String,
    pub companies: String,
    pub company: String,
    pub threads: String,
    pub answered_share: String,
    pub median_answer: String,
    pub overdue_share: String,
    pub auto_only_share: String,
    pub personal_share: String,
    pub solved_share: String,
    pub supporters: String,
    pub support_how: String,
    pub template: String,
    pub template_note: String,
    pub verified: String,
    pub unverified: String,
    pub attachments: String,
    pub uncut_note: String,
    pub search: String,
    pub search_button: String,
    pub no_results: String,
    pub all: String,
    pub waiting: String,
    pub answered: String,
    pub older: String,
    pub next_page: String,
    pub previous_page: String,
    /// Blanks: `{count}`.
    pub all_companies: String,
    pub follow_feed: String,
    pub export: String,
    pub write_to: String,
    pub response_time: String,
    pub working_days: String,
    pub working_day: String,
    pub route: String,
    pub skip: String,
    /// Blanks: `{after}`.
    pub answered_after: String,
    pub not_delivered_yet: String,
    pub undeliverable: String,
    pub waiting_today: String,
    pub waiting_day: String,
    /// Blanks: `{days}`.
    pub waiting_days: String,
    pub overdue_day: String,
    /// Blanks: `{days}`.
    pub overdue_days: String,
    /// Blanks: `{company}`.
    pub proof_dkim: String,
    /// Blanks: `{company}`.
    pub proof_spf: String,
    /// Blanks: `{company}`.
    pub proof_listed: String,
    /// Blanks: `{company}`.
    pub doubt: String,
    pub doubt_not_listed: String,
    pub doubt_unsigned: String,
    /// Blanks: `{domain}`.
    pub doubt_foreign: String,
    pub doubt_broken: String,
    pub doubt_unchecked: String,
    pub details: String,
    /// Blanks: `{dkim}`, `{passed}`, `{dmarc}`.
    pub details_line: String,
    /// Blanks: `{domain}`.
    pub dkim_aligned: String,
    /// Blanks: `{domain}`.
    pub dkim_foreign: String,
    /// Blanks: `{domain}`.
    pub dkim_broken: String,
    pub dkim_none: String,
    pub dkim_unchecked: String,
    /// Blanks: `{domain}`, `{method}`.
    pub passed: String,
    pub passed_none: String,
    pub removed_thread: String,
    /// Blanks: `{when}`.
    pub removed_by_writer: String,
    /// Blanks: `{when}`, `{reason}`.
    pub removed_by_moderators: String,
    /// Blanks: `{after}`.
    pub event_auto_reply: String,
    /// Blanks: `{n}`, `{of}`.
    pub event_reminder: String,
    pub event_forwarded: String,
    pub event_solved: String,
    pub event_not_solved: String,
    pub event_bounce: String,
    pub event_bounce_forward: String,
    pub event_bounce_reminder: String,
    pub event_bounce_company: String,
    pub event_bounce_writer: String,
    /// Blanks: `{after}`.
    pub event_resumed: String,
    pub event_held: String,
    pub event_delivered: String,
    /// A time follows.
    pub sent_to_company: String,
    /// Blanks: `{n}`.
    pub minutes: String,
    /// Blanks: `{n}`.
    pub hours: String,
    /// Blanks: `{n}`.
    pub days: String,
    pub unfollow: String,
    pub unfollow_ask: String,
    pub unfollowed: String,
    pub unfollowed_note: String,
    pub no_subscription: String,
    pub no_subscription_note: String,
    /// Blanks: `{company}`.
    pub example_subject: String,
    pub example_company: String,
    pub not_found: String,
    pub busy: String,
    /// Blanks: `{n}`. Finnish writes a space before %, English none.
    pub percent: String,
    pub too_few_threads: String,
    pub too_few_answers: String,
    pub too_few_verdicts: String,
    /// Blanks: `{n}`.
    pub answers_count: String,
    pub method: String,
    /// Where the method page is in this language.
    pub method_path: String,
}

static WORDS: Books<Words> = Books::new(
    || {
        book(
            "web/words.fi.toml",
            include_str!("../../../templates/web/words.fi.toml"),
        )
    },
    || {
        book(
            "web/words.sv.toml",
            include_str!("../../../templates/web/words.sv.toml"),
        )
    },
    || {
        book(
            "web/words.en.toml",
            include_str!("../../../templates/web/words.en.toml"),
        )
    },
);

/// The words for a language.
pub fn words(lang: Language) -> &'static Words {
    WORDS.get(lang)
}

/// "3 h", "2 days": a duration as a reader wants it.
pub fn duration(secs: i64, lang: Language) -> String {
    let t = words(lang);
    let (n, unit) = if secs < 3600 {
        ((secs / 60).max(1), &t.minutes)
    } else if secs < 2 * 86_400 {
        (secs / 3600, &t.hours)
    } else {
        (secs / 86_400, &t.days)
    };
    fill(unit, &[("n", &n)])
}

/// A time as a reader in Finland expects it, in Finnish time: `23.11.2026 klo 22.20` (fi),
/// `23.11.2026 kl. 22.20` (sv, as Finland's Swedish writes it) or `23 Nov 2026 22:20` (en).
pub fn when(secs: i64, lang: Language) -> String {
    use crate::domain::calendar::{MONTHS, civil_from_days, finnish_offset};
    let local = secs + finnish_offset(secs);
    let (y, m, d) = civil_from_days(local.div_euclid(86_400));
    let s = local.rem_euclid(86_400);
    let (h, min) = (s / 3600, s / 60 % 60);
    match lang {
        Language::Fi => format!("{d}.{m}.{y} klo {h}.{min:02}"),
        Language::Sv => format!("{d}.{m}.{y} kl. {h}.{min:02}"),
        Language::En => format!("{d} {} {y} {h:02}:{min:02}", MONTHS[m as usize - 1]),
    }
}

/// `part` of `whole` as a reader of `lang` writes a share: "50 %" in Finnish, "50%" in English.
pub(super) fn percent(part: i64, whole: i64, lang: Language) -> String {
    if whole == 0 {
        "–".into()
    } else {
        fill(
            &words(lang).percent,
            &[("n", &((part * 100 + whole / 2) / whole))],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_every_word() {
        for lang in Language::ALL {
            assert!(!words(lang).tagline.is_empty());
        }
        assert_eq!(duration(7200, Language::Fi), "2 h");
        assert_eq!(when(1_795_464_000, Language::Fi), "23.11.2026 klo 22.00");
        assert_eq!(when(1_795_464_000, Language::Sv), "23.11.2026 kl. 22.00");
        assert_eq!(when(1_795_464_000, Language::En), "23 Nov 2026 22:00");
        assert_eq!(duration(3 * 86_400, Language::En), "3 days");
        assert_eq!(percent(1, 2, Language::Fi), "50 %");
        assert_eq!(percent(1, 3, Language::En), "33%");
        assert_eq!(percent(1, 0, Language::En), "–");
    }
}
