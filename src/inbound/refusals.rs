//! Refusals a writer reads: the text their own mail server puts in the bounce it sends them
//! when we refuse at `RCPT`, at `DATA` or for size. In the service's language and in the
//! others, a line each, each saying where to write instead. The words are in
//! `templates/smtp/refusals.{fi,sv,en}.toml`; SMTP replies are ASCII.

use serde::Deserialize;

use crate::config::Language;
use crate::domain::words::{Books, book, fill};

/// The refusals in one language.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Refusals {
    /// Blanks: `{feedback}`.
    pub unknown_address: String,
    /// Blanks: `{domain}`, `{feedback}`.
    pub other_domain: String,
    /// Blanks: `{feedback}`.
    pub bad_token: String,
    pub address_per_hour: String,
    pub ip_per_hour: String,
    pub pair_per_day: String,
    /// Blanks: `{limit}`.
    pub too_big: String,
}

static BOOKS: Books<Refusals> = Books::new(
    || {
        book(
            "smtp/refusals.fi",
            include_str!("../../templates/smtp/refusals.fi.toml"),
        )
    },
    || {
        book(
            "smtp/refusals.sv",
            include_str!("../../templates/smtp/refusals.sv.toml"),
        )
    },
    || {
        book(
            "smtp/refusals.en",
            include_str!("../../templates/smtp/refusals.en.toml"),
        )
    },
);

/// A refusal as an SMTP reply (`code`, enhanced `status`): the sentence `which` picks, with
/// its blanks filled, in `first` language and then in the others (Finland's two official
/// languages and English), one line each.
pub(super) fn reply(
    code: u16,
    status: &str,
    which: fn(&Refusals) -> &String,
    blanks: &[(&str, &dyn std::fmt::Display)],
    first: Language,
) -> String {
    let mut out = String::new();
    let order = std::iter::once(first).chain(Language::ALL.into_iter().filter(|&l| l != first));
    for (i, lang) in order.enumerate() {
        let last = i + 1 == Language::ALL.len();
        let separator = if last { ' ' } else { '-' };
        let line = fill(which(BOOKS.get(lang)), blanks);
        out.push_str(&format!("{code}{separator}{status} {line}\r\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_is_in_both_languages_and_ascii() {
        let all = |r: &Refusals| {
            [
                r.unknown_address.clone(),
                r.other_domain.clone(),
                r.bad_token.clone(),
                r.address_per_hour.clone(),
                r.ip_per_hour.clone(),
                r.pair_per_day.clone(),
                r.too_big.clone(),
            ]
        };
        for lang in Language::ALL {
            for phrase in all(BOOKS.get(lang)) {
                assert!(
                    phrase.is_ascii() && !phrase.contains(['\r', '\n']),
                    "{phrase}"
                );
            }
        }
        let reply = reply(
            550,
            "5.1.1",
            |r| &r.unknown_address,
            &[("feedback", &"palaute@x.fi")],
            Language::Fi,
        );
        assert_eq!(reply.lines().count(), 3);
        assert!(
            reply.starts_with("550-5.1.1 Osoitetta ei ole. Kirjoita osoitteeseen palaute@x.fi")
        );
        assert!(reply.contains("\r\n550 5.1.1 No such address here. Write to palaute@x.fi"));
        // The longest domain the config allows keeps every line within SMTP's 512 bytes.
        let domain = format!("{}.fi", "a".repeat(97));
        let feedback = format!("palaute@{domain}");
        let longest = super::reply(
            550,
            "5.7.1",
            |r| &r.other_domain,
            &[("domain", &domain), ("feedback", &feedback)],
            Language::Fi,
        );
        assert!(
            longest.split("\r\n").all(|l| l.len() + 2 <= 512),
            "{longest}"
        );
    }
}
