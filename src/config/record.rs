//! What a company's record may not be: every problem at once, each with where it is and what
//! it is about, so the command line names the key and the company desk says it in the writer's
//! language.

use std::fmt;

use super::keys::ProviderConfig;
use crate::domain::mailbox::is_public_mailbox_domain;
use crate::domain::names::{fold, is_shown_as_written, is_slug};
use crate::mail::write::{is_address, is_domain};

/// Something wrong in a company's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordProblem {
    /// Where: the company's key and the field (`providers[1].routes`, `elisa.rules[0].label`).
    pub place: String,
    pub field: Field,
    pub what: Problem,
}

/// The field of a company's record a problem is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Slug,
    /// The name or an alias: a tag names the company by either.
    Names,
    Name,
    Aliases,
    Routes,
    Representatives,
    ResponseDays,
    /// A topic rule's words, label or route.
    RulePattern,
    RuleLabel,
    RuleRoute,
}

/// What is wrong, with the value it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Not lowercase letters, digits and '-'.
    SlugForm(String),
    /// A slug, name or alias our own addresses use (`palaute`, `postmaster`, `www`): a tag of
    /// it would be anyone's subject.
    Reserved(String),
    Twice(String),
    Empty,
    /// No letters or digits, or control or invisible characters.
    NotShown(String),
    /// A name or alias that folds to another company's: its slug and its name.
    NameShared {
        name: String,
        other: String,
        other_name: String,
    },
    NoRoute,
    NotAddress(String),
    /// A route at our own domain: the feedback would come back to us.
    RouteOurs(String),
    NotOnTheInternet(String),
    NeitherAddressNorDomain(String),
    /// A representative domain anyone can have an address at.
    Anyones(String),
    /// A representative at our own domain.
    RepresentativeOurs(String),
    ResponseDays(u32),
    /// A topic pattern that is no regular expression, with the parser's last line.
    Pattern(String),
}

impl fmt::Display for RecordProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let place = &self.place;
        match &self.what {
            Problem::SlugForm(s) => write!(
                f,
                "{place}: {s:?} must be lowercase letters, digits and '-'"
            ),
            Problem::Reserved(s) => write!(f, "{place}: {s:?} is reserved"),
            Problem::Twice(s) => write!(f, "{place}: {s:?} appears twice"),
            Problem::Empty => write!(f, "{place}: must not be empty"),
            Problem::NotShown(s) => write!(
                f,
                "{place}: {s:?} needs letters or digits, and no control or invisible characters"
            ),
            Problem::NameShared { name, other, .. } => write!(
                f,
                "{place}: the name {name:?} is also {other:?}'s; a tag must name one company"
            ),
            Problem::NoRoute => write!(f, "{place}: needs at least one address"),
            Problem::NotAddress(r) => write!(f, "{place}: {r:?} is not an address"),
            Problem::RouteOurs(r) => write!(
                f,
                "{place}: {r:?} is at our own domain: the feedback would come back to us"
            ),
            Problem::NotOnTheInternet(r) => {
                write!(f, "{place}: {r:?} names no domain on the internet")
            }
            Problem::NeitherAddressNorDomain(r) => {
                write!(f, "{place}: {r:?} is neither an address nor a domain")
            }
            Problem::Anyones(r) => write!(
                f,
                "{place}: anyone can have an address at {r:?}; name the company's own domain, \
                 or its addresses there"
            ),
            Problem::RepresentativeOurs(r) => {
                write!(f, "{place}: {r:?} is ours, not the company's")
            }
            Problem::ResponseDays(days) => write!(
                f,
                "{place}: {days} working days; must be 1 to {}",
                crate::domain::calendar::MOST_WORKING_DAYS
            ),
            Problem::Pattern(why) => write!(f, "{place}: {why}"),
        }
    }
}

/// What is wrong with a list of companies served at `our_domain`: each company alone, and
/// slugs or names that two companies share. Each problem comes with the place in the list of
/// the company it is about, and names it by `key` (`providers[1]` in a config file, the slug
/// in the registry): `providers[1].routes: …`.
pub fn companies_problems(
    providers: &[ProviderConfig],
    our_domain: &str,
    key: impl Fn(usize, &ProviderConfig) -> String,
) -> Vec<(usize, RecordProblem)> {
    let mut problems = Vec::new();
    let mut slugs = std::collections::HashSet::new();
    let mut names = std::collections::HashMap::<String, &ProviderConfig>::new();
    for (i, p) in providers.iter().enumerate() {
        let key = key(i, p);
        let mut push = |problem| problems.push((i, problem));
        company_problems(p, &key, our_domain)
            .into_iter()
            .for_each(&mut push);
        if !slugs.insert(p.slug.as_str()) {
            push(problem(&key, Field::Slug, Problem::Twice(p.slug.clone())));
        }
        // A tag names one company: a name or alias two companies share would route by luck.
        for name in [&p.slug, &p.name].into_iter().chain(&p.aliases) {
            let folded = fold(name);
            if folded.is_empty() {
                continue;
            }
            match names.get(&folded) {
                Some(other) if other.slug != p.slug => push(RecordProblem {
                    place: key.clone(),
                    field: Field::Names,
                    what: Problem::NameShared {
                        name: name.clone(),
                        other: other.slug.clone(),
                        other_name: other.name.clone(),
                    },
                }),
                _ => {
                    names.insert(folded, p);
                }
            }
        }
    }
    problems
}

/// What is wrong with one company served at `our_domain`, each problem named under `key`.
pub fn company_problems(p: &ProviderConfig, key: &str, our_domain: &str) -> Vec<RecordProblem> {
    let mut problems = Vec::new();
    let mut push = |field, what| problems.push(problem(key, field, what));
    if !is_slug(&p.slug) {
        push(Field::Slug, Problem::SlugForm(p.slug.clone()));
    } else if crate::domain::mailbox::RESERVED.contains(&p.slug.as_str()) {
        push(Field::Slug, Problem::Reserved(p.slug.clone()));
    }
    if p.name.trim().is_empty() {
        push(Field::Name, Problem::Empty);
    } else if !is_shown_as_written(&p.name) {
        push(Field::Name, Problem::NotShown(p.name.clone()));
    } else if is_reserved_name(&p.name) {
        push(Field::Name, Problem::Reserved(p.name.clone()));
    }
    for alias in &p.aliases {
        if !is_shown_as_written(alias) {
            push(Field::Aliases, Problem::NotShown(alias.clone()));
        } else if is_reserved_name(alias) {
            push(Field::Aliases, Problem::Reserved(alias.clone()));
        }
    }
    if p.routes.is_empty() {
        push(Field::Routes, Problem::NoRoute);
    }
    let mut seen = std::collections::HashSet::new();
    for r in &p.routes {
        if let Some(what) = route_problem(r, our_domain) {
            push(Field::Routes, what);
        }
        if !seen.insert(r.to_ascii_lowercase()) {
            push(Field::Routes, Problem::Twice(r.clone()));
        }
    }
    let mut seen = std::collections::HashSet::new();
    for r in &p.representatives {
        let domain = r
            .rsplit('@')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !(is_address(r) || is_domain(r)) {
            push(
                Field::Representatives,
                Problem::NeitherAddressNorDomain(r.clone()),
            );
        } else if !r.contains('@') && is_public_mailbox_domain(&domain) {
            push(Field::Representatives, Problem::Anyones(r.clone()));
        } else if is_ours(&domain, our_domain) {
            push(
                Field::Representatives,
                Problem::RepresentativeOurs(r.clone()),
            );
        }
        if !seen.insert(r.to_lowercase()) {
            push(Field::Representatives, Problem::Twice(r.clone()));
        }
    }
    if !(1..=crate::domain::calendar::MOST_WORKING_DAYS).contains(&p.response_days) {
        push(Field::ResponseDays, Problem::ResponseDays(p.response_days));
    }
    for (j, rule) in p.rules.iter().enumerate() {
        let rule_key = format!("{key}.rules[{j}]");
        let mut push = |field, what| problems.push(problem(&rule_key, field, what));
        if rule.pattern.trim().is_empty() {
            push(Field::RulePattern, Problem::Empty);
        } else if let Err(e) = regex::Regex::new(&rule.pattern) {
            let last = e.to_string().lines().last().unwrap_or_default().to_owned();
            push(Field::RulePattern, Problem::Pattern(last));
        }
        if let Some(what) = route_problem(&rule.route, our_domain) {
            push(Field::RuleRoute, what);
        }
        if rule.label.trim().is_empty() {
            push(Field::RuleLabel, Problem::Empty);
        } else if !is_shown_as_written(&rule.label) {
            push(Field::RuleLabel, Problem::NotShown(rule.label.clone()));
        }
    }
    problems
}

/// Whether a name folds to one of our own addresses' (`[Palaute]`, `[Postmaster]`): writers
/// put such words in brackets without meaning any company.
fn is_reserved_name(name: &str) -> bool {
    let folded = fold(name);
    crate::domain::mailbox::RESERVED
        .iter()
        .any(|r| fold(r) == folded)
}

/// A problem in `field` of the company (or topic rule) named `key`.
fn problem(key: &str, field: Field, what: Problem) -> RecordProblem {
    let name = match field {
        Field::Names => "",
        Field::Slug => ".slug",
        Field::Name => ".name",
        Field::Aliases => ".aliases",
        Field::Routes => ".routes",
        Field::Representatives => ".representatives",
        Field::ResponseDays => ".response_days",
        Field::RulePattern => ".pattern",
        Field::RuleLabel => ".label",
        Field::RuleRoute => ".route",
    };
    RecordProblem {
        place: format!("{key}{name}"),
        field,
        what,
    }
}

/// Why `route` cannot be where a company's feedback goes, if it cannot.
fn route_problem(route: &str, our_domain: &str) -> Option<Problem> {
    let domain = route.rsplit('@').next().unwrap_or_default();
    if !is_address(route) {
        Some(Problem::NotAddress(route.to_owned()))
    } else if is_ours(domain, our_domain) {
        Some(Problem::RouteOurs(route.to_owned()))
    } else if !is_on_the_internet(domain) {
        Some(Problem::NotOnTheInternet(route.to_owned()))
    } else {
        None
    }
}

/// Whether `domain` is ours, or under ours.
fn is_ours(domain: &str, our_domain: &str) -> bool {
    let domain = domain.to_ascii_lowercase();
    let ours = our_domain.to_ascii_lowercase();
    domain == ours || domain.ends_with(&format!(".{ours}"))
}

/// Whether mail could reach `domain` across the internet: a name with a dot, not an address
/// literal or a bare IP address, and not one of the names kept for local networks.
fn is_on_the_internet(domain: &str) -> bool {
    let domain = domain.to_ascii_lowercase();
    let top = domain.rsplit('.').next().unwrap_or_default();
    domain.contains('.')
        && !domain.starts_with('[')
        && domain.parse::<std::net::IpAddr>().is_err()
        && !["local", "localhost", "invalid", "internal", "lan", "home"].contains(&top)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Helper-8 registered each of these from outside, and each did harm: a response time of
    /// four billion days froze the service, a terminal escape ran in the operator's terminal
    /// and broke every Atom feed, a right-to-left override reversed the From of our mail, a
    /// name of punctuation could never be tagged, a route at our own domain sent the feedback
    /// back to us, and a mail provider's domain made each of its users a representative.
    #[test]
    fn what_a_company_may_not_be_is_named() {
        let elisa = || ProviderConfig {
            slug: "elisa".into(),
            name: "Elisa".into(),
            routes: vec!["asiakaspalvelu@elisa.fi".into()],
            ..ProviderConfig::from_record("").unwrap()
        };
        assert!(company_problems(&elisa(), "elisa", "palaute.fi").is_empty());
        let wrong = |change: &dyn Fn(&mut ProviderConfig), named: &str| {
            let mut company = elisa();
            change(&mut company);
            let problems = company_problems(&company, "elisa", "palaute.fi");
            assert!(
                problems.iter().any(|p| p.to_string().starts_with(named)),
                "{named}: {problems:?}"
            );
        };
        wrong(&|c| c.response_days = u32::MAX, "elisa.response_days");
        wrong(&|c| c.response_days = 251, "elisa.response_days");
        wrong(&|c| c.name = "Evil\x1b[31mRED".into(), "elisa.name");
        wrong(&|c| c.name = "Elisa\u{202E}yO".into(), "elisa.name");
        wrong(&|c| c.name = "!!!".into(), "elisa.name");
        wrong(&|c| c.aliases = vec!["".into()], "elisa.aliases");
        wrong(&|c| c.aliases = vec!["Elisa\nOyj".into()], "elisa.aliases");
        wrong(
            &|c| c.routes = vec!["loop@palaute.fi".into()],
            "elisa.routes",
        );
        wrong(&|c| c.routes = vec!["a@[127.0.0.1]".into()], "elisa.routes");
        wrong(&|c| c.routes = vec!["a@localhost".into()], "elisa.routes");
        wrong(
            &|c| c.routes = vec!["a@elisa.fi".into(), "A@elisa.fi".into()],
            "elisa.routes",
        );
        wrong(
            &|c| c.representatives = vec!["gmail.com".into()],
            "elisa.representatives",
        );
        wrong(
            &|c| c.representatives = vec!["palaute.fi".into()],
            "elisa.representatives",
        );
        wrong(&|c| c.slug = "www".into(), "elisa.slug");
        wrong(&|c| c.slug = "info".into(), "elisa.slug");
        wrong(&|c| c.slug = "yritys".into(), "elisa.slug");
        wrong(&|c| c.slug = "company".into(), "elisa.slug");
        wrong(&|c| c.aliases = vec!["Palaute".into()], "elisa.aliases");
        wrong(&|c| c.aliases = vec!["Post-Master".into()], "elisa.aliases");
        wrong(&|c| c.name = "Yritys".into(), "elisa.name");
        wrong(&|c| c.routes = vec!["a@127.0.0.1".into()], "elisa.routes");
        wrong(
            &|c| c.routes = vec!["a@printer.local".into()],
            "elisa.routes",
        );
        wrong(
            &|c| c.routes = vec!["a@sub.palaute.fi".into()],
            "elisa.routes",
        );
        wrong(
            &|c| c.representatives = vec!["fi".into()],
            "elisa.representatives",
        );
        wrong(
            &|c| c.representatives = vec!["hotmail.fi".into()],
            "elisa.representatives",
        );
        wrong(
            &|c| c.representatives = vec!["elisa.fi".into(), "Elisa.fi".into()],
            "elisa.representatives",
        );
        let mut ok = elisa();
        ok.representatives = vec!["asiakaspalvelu.elisa@gmail.com".into(), "elisa.fi".into()];
        ok.response_days = 250;
        assert!(company_problems(&ok, "elisa", "palaute.fi").is_empty());
    }

    /// The command line and the config check read these; the desk says them in its own words.
    #[test]
    fn each_problem_names_its_key_as_before() {
        let mut company = ProviderConfig {
            slug: "elisa".into(),
            name: "Elisa".into(),
            routes: vec!["a@elisa.local".into()],
            representatives: vec!["gmail.com".into()],
            response_days: 0,
            ..ProviderConfig::from_record("").unwrap()
        };
        company.rules = vec![crate::config::RuleConfig::new(
            "(".into(),
            "laskutus@palaute.fi".into(),
            " ".into(),
        )];
        let said: Vec<String> = company_problems(&company, "providers[0]", "palaute.fi")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            said,
            [
                "providers[0].routes: \"a@elisa.local\" names no domain on the internet",
                "providers[0].representatives: anyone can have an address at \"gmail.com\"; \
                 name the company's own domain, or its addresses there",
                "providers[0].response_days: 0 working days; must be 1 to 250",
                "providers[0].rules[0].pattern: error: unclosed group",
                "providers[0].rules[0].route: \"laskutus@palaute.fi\" is at our own domain: the \
                 feedback would come back to us",
                "providers[0].rules[0].label: must not be empty",
            ]
        );
    }
}
