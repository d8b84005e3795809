//! The words of the pages, in Finnish and English, and how durations and shares read.

use crate::config::Language;

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

pub(super) const FI: Texts = Texts {
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

pub(super) const EN: Texts = Texts {
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

pub(super) fn percent(part: i64, whole: i64) -> String {
    if whole == 0 {
        "–".into()
    } else {
        format!("{} %", (part * 100 + whole / 2) / whole)
    }
}
