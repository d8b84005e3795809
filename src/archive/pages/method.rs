//! `/menetelma` and `/method`: what every figure means, over which threads, on which calendar,
//! and from how many cases it is shown, so that a reader can check a company's figures.

use askama::Template;

use super::lists::MIN_SAMPLE;
use super::words::{Words, words};
use crate::config::{Config, Language};
use crate::domain::calendar::{civil_from_days, parse_date};

/// The method page.
#[derive(Template)]
#[template(path = "web/method.html")]
pub struct MethodPage {
    pub t: &'static Words,
    pub lang: Language,
    pub min_sample: i64,
    /// The operator's days off beyond the Finnish holidays, as dates a reader writes.
    pub extra_days_off: Vec<String>,
}

/// Builds the method page in the service's language.
pub fn method(config: &Config) -> MethodPage {
    let lang = config.language;
    MethodPage {
        t: words(lang),
        lang,
        min_sample: MIN_SAMPLE,
        extra_days_off: config
            .extra_holidays
            .iter()
            .filter_map(|d| parse_date(d))
            .map(|day| {
                let (y, m, d) = civil_from_days(day);
                if lang == Language::En {
                    format!("{y}-{m:02}-{d:02}")
                } else {
                    format!("{d}.{m}.{y}")
                }
            })
            .collect(),
    }
}
