//! The words of every mail we write, from `templates/mail/` (Finnish and English side by
//! side): each text's template, and a function that renders its subject and body.

use askama::Template;
use serde::Deserialize;

use super::compose::{ComposeError, marker};
use crate::config::{Config, Field, Language, Problem, RecordProblem};
use crate::domain::desk::NotTaken;
use crate::domain::mailbox;
use crate::domain::names::{self, fold};
use crate::domain::screen::Personal;
use crate::domain::words::{Books, book, fill};
use crate::mail::reply::MARKERS;
use crate::mail::write::one_line;

/// The short phrases of our mail and of what we publish from it, from
/// `templates/mail/words.{fi,en}.toml`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Words {
    pub untitled: String,
    /// Blanks: `{title}`.
    pub forward_subject: String,
    pub address_removed: String,
    pub anonymous_writer: String,
    pub shortened: String,
    /// Blanks: `{url}`.
    pub continues: String,
    /// Blanks: `{author}`.
    pub unverified_author: String,
    pub erased_by_writer: String,
    pub files_only: String,
    /// Blanks: `{name}`.
    pub via: String,
    pub example_company: String,
    identity_code: String,
    iban: String,
    card_number: String,
    phone_number: String,
    pub attachments: AttachmentWords,
    pub desk: DeskWords,
}

/// The company desk's short phrases, `[desk]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeskWords {
    pub already_there: String,
    pub not_there: String,
    pub name_by_operator: String,
    unsigned: String,
    /// Blanks: `{domain}`.
    other_domain: String,
    /// Blanks: `{domain}`.
    broken: String,
    unchecked: String,
    /// Blanks: `{domain}`.
    public_mailbox: String,
    /// The heading of one problem, listed under it.
    problem: String,
    /// The heading of several.
    problems: String,
    /// Blanks: `{names}`.
    which_company: String,
    /// Blanks: `{item}`.
    taken: String,
    /// Blanks: `{item}`.
    not_own: String,
    too_many_claims: String,
    /// Blanks: `{item}`, `{most}`.
    too_long: String,
    /// Blanks: `{item}`.
    name_reserved: String,
    /// Blanks: `{item}`.
    waiting: String,
    /// Blanks: `{item}`.
    alias_not_own: String,
    /// What a company's record may not be (`config::Problem`). Blanks: `{field}`, `{item}`,
    /// `{other}`, `{most}`, as each one's comment in `words.*.toml` says.
    record: RecordWords,
    /// A confirmation's answer that says neither yes nor no.
    pub unclear: String,
    /// A confirmation's answer to a request a newer one replaced.
    pub replaced: String,
}

impl DeskWords {
    /// Why the desk took nothing from a mail, as its writer reads it.
    pub fn refusal(&self, why: &NotTaken) -> String {
        match why {
            NotTaken::Unsigned => self.unsigned.clone(),
            NotTaken::OtherDomain(d) => fill(&self.other_domain, &[("domain", d)]),
            NotTaken::Broken(d) => fill(&self.broken, &[("domain", d)]),
            NotTaken::Unchecked => self.unchecked.clone(),
            NotTaken::PublicMailbox(d) => fill(&self.public_mailbox, &[("domain", d)]),
            NotTaken::Problems(p) if p.len() == 1 => self.problem.clone(),
            NotTaken::Problems(_) => self.problems.clone(),
            NotTaken::WhichCompany(n) => fill(&self.which_company, &[("names", n)]),
            NotTaken::TooManyClaims => self.too_many_claims.clone(),
        }
    }
}

impl DeskWords {
    /// An address or domain another company has, as a problem.
    pub fn taken(&self, item: &str) -> String {
        fill(&self.taken, &[("item", &visible(item))])
    }

    /// A representative outside the company's own domains, as a problem.
    pub fn not_own(&self, item: &str) -> String {
        fill(&self.not_own, &[("item", &visible(item))])
    }

    /// An alias or a label longer than `most` characters, as a problem.
    pub fn too_long(&self, item: &str, most: usize) -> String {
        fill(&self.too_long, &[("item", &visible(item)), ("most", &most)])
    }

    /// An alias that is one of our own addresses' names, as a problem.
    pub fn name_reserved(&self, item: &str) -> String {
        fill(&self.name_reserved, &[("item", &visible(item))])
    }

    /// An alias that is not a form of the company's name or domain, as a problem.
    pub fn alias_not_own(&self, item: &str) -> String {
        fill(&self.alias_not_own, &[("item", &visible(item))])
    }

    /// An alias feedback waits under for another company, as a problem.
    pub fn waiting(&self, item: &str) -> String {
        fill(&self.waiting, &[("item", &visible(item))])
    }

    /// A problem of a company's record, as its writer reads it.
    pub fn record(&self, problem: &RecordProblem) -> String {
        let w = &self.record;
        let field = w.field(problem.field);
        let item =
            |text: &str, item: &str| fill(text, &[("field", &field), ("item", &visible(item))]);
        match &problem.what {
            Problem::SlugForm(s) => item(&w.slug_form, s),
            Problem::Reserved(s) if problem.field == Field::Slug => item(&w.slug_reserved, s),
            Problem::Reserved(s) => self.name_reserved(s),
            Problem::Twice(s) => item(&w.twice, s),
            Problem::Empty => item(&w.empty, ""),
            Problem::NotShown(s) => item(&w.not_shown, s),
            Problem::NameShared {
                name, other_name, ..
            } => fill(
                &w.name_shared,
                &[("item", &visible(name)), ("other", &visible(other_name))],
            ),
            Problem::NoRoute => w.no_route.clone(),
            Problem::NotAddress(r) => item(&w.not_address, r),
            Problem::RouteOurs(r) => item(&w.route_ours, r),
            Problem::NotOnTheInternet(r) => item(&w.not_on_the_internet, r),
            Problem::NeitherAddressNorDomain(r) => item(&w.neither, r),
            Problem::Anyones(r) => item(&w.anyones, r),
            Problem::RepresentativeOurs(r) => item(&w.representative_ours, r),
            Problem::ResponseDays(_) => fill(
                &w.response_days,
                &[("most", &crate::domain::calendar::MOST_WORKING_DAYS)],
            ),
            Problem::Pattern(why) => item(&w.pattern, why),
        }
    }
}

/// A value a problem is about as a letter can show it: what shows nothing or moves the text
/// around it (control, invisible and direction characters) named by its code point, and at
/// most 100 characters.
fn visible(value: &str) -> String {
    const MOST: usize = 100;
    let mut shown = String::with_capacity(value.len().min(4 * MOST));
    for (i, c) in value.chars().enumerate() {
        if i == MOST {
            shown.push('…');
            break;
        }
        if c.is_control() || names::is_invisible(c) {
            shown.push_str(&format!("<U+{:04X}>", u32::from(c)));
        } else {
            shown.push(c);
        }
    }
    shown
}

/// What a company's record may not be, in the desk's letters: `[desk.record]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordWords {
    slug_form: String,
    slug_reserved: String,
    twice: String,
    empty: String,
    not_shown: String,
    name_shared: String,
    no_route: String,
    not_address: String,
    route_ours: String,
    not_on_the_internet: String,
    neither: String,
    anyones: String,
    representative_ours: String,
    response_days: String,
    pattern: String,
    /// What each field of the record is called.
    fields: FieldWords,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldWords {
    slug: String,
    name: String,
    alias: String,
    route: String,
    representative: String,
    response_time: String,
    topic_words: String,
    topic_label: String,
    topic_route: String,
}

impl RecordWords {
    fn field(&self, field: Field) -> &str {
        let f = &self.fields;
        match field {
            Field::Slug => &f.slug,
            Field::Name | Field::Names => &f.name,
            Field::Aliases => &f.alias,
            Field::Routes => &f.route,
            Field::Representatives => &f.representative,
            Field::ResponseDays => &f.response_time,
            Field::RulePattern => &f.topic_words,
            Field::RuleLabel => &f.topic_label,
            Field::RuleRoute => &f.topic_route,
        }
    }
}

/// The company desk's phrases in a language.
pub fn desk_words(lang: Language) -> &'static DeskWords {
    &words(lang).desk
}

/// What a mail says of the files passed on with it, `[attachments]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentWords {
    /// Blanks: `{count}`, `{names}`.
    pub carried: String,
    /// Blanks: `{company}`, `{names}`.
    pub passed: String,
    /// Blanks: `{company}`, `{names}`.
    pub will_pass: String,
    /// Blanks: `{names}`.
    pub left_out: String,
    /// Blanks: `{name}`, `{size}`, `{limit}`.
    pub too_big: String,
    /// Blanks: `{name}`.
    pub too_many: String,
    /// Blanks: `{name}`.
    pub program: String,
    /// Blanks: `{name}`.
    pub unverified: String,
    /// Blanks: `{name}`, `{company}`.
    pub notice_only: String,
    /// Blanks: `{name}`.
    pub none_carried: String,
    /// Blanks: `{count}`.
    pub notice_count: String,
    /// Blanks: `{n}`.
    pub and_more: String,
    pub ask_sender: String,
    pub resend: String,
    pub never_published: String,
    /// Blanks: `{n}`.
    pub bytes: String,
    /// Blanks: `{n}`.
    pub kilobytes: String,
    /// Blanks: `{n}`.
    pub megabytes: String,
}

impl Words {
    /// What a writer is told was found in a text held for personal data.
    pub fn personal(&self, found: Personal) -> &str {
        match found {
            Personal::IdentityCode => &self.identity_code,
            Personal::Iban => &self.iban,
            Personal::CardNumber => &self.card_number,
            Personal::PhoneNumber => &self.phone_number,
        }
    }
}

static WORDS: Books<Words> = Books::new(
    || {
        book(
            "mail/words.fi.toml",
            include_str!("../../templates/mail/words.fi.toml"),
        )
    },
    || {
        book(
            "mail/words.sv.toml",
            include_str!("../../templates/mail/words.sv.toml"),
        )
    },
    || {
        book(
            "mail/words.en.toml",
            include_str!("../../templates/mail/words.en.toml"),
        )
    },
);

/// The short phrases in a language.
pub fn words(lang: Language) -> &'static Words {
    WORDS.get(lang)
}

#[derive(Template)]
#[template(
    source = r#"{% match lang %}{% when Language::Fi %}{% include "mail/ack.fi.txt" %}{% when Language::Sv %}{% include "mail/ack.sv.txt" %}{% when Language::En %}{% include "mail/ack.en.txt" %}{% endmatch %}"#,
    ext = "txt"
)]
struct AckText<'a> {
    lang: Language,
    title: &'a str,
    erase_address: &'a str,
    marker: &'a str,
    pseudonym: &'a str,
    url: &'a str,
    company: &'a str,
    route_label: Option<&'a str>,
    response_days: u32,
    reachable: bool,
    attachments: &'a str,
}

#[derive(Template)]
#[template(
    source = r#"{% match lang %}{% when Language::Fi %}{% include "mail/forward.fi.txt" %}{% when Language::Sv %}{% include "mail/forward.sv.txt" %}{% when Language::En %}{% include "mail/forward.en.txt" %}{% endmatch %}"#,
    ext = "txt"
)]
struct ForwardText<'a> {
    lang: Language,
    subject: &'a str,
    marker: &'a str,
    company: &'a str,
    title: &'a str,
    pseudonym: &'a str,
    body: &'a str,
    url: &'a str,
    full: bool,
    official_hint: bool,
    attachments: &'a str,
}

#[derive(Template)]
#[template(
    source = r#"{% match lang %}{% when Language::Fi %}{% include "mail/relay.fi.txt" %}{% when Language::Sv %}{% include "mail/relay.sv.txt" %}{% when Language::En %}{% include "mail/relay.en.txt" %}{% endmatch %}"#,
    ext = "txt"
)]
struct RelayText<'a> {
    lang: Language,
    subject: &'a str,
    marker: &'a str,
    author: &'a str,
    official: bool,
    unverified: bool,
    title: &'a str,
    body: &'a str,
    url: &'a str,
    attachments: &'a str,
}

#[derive(Template)]
#[template(
    source = r#"{% match lang %}{% when Language::Fi %}{% include "mail/help.fi.txt" %}{% when Language::Sv %}{% include "mail/help.sv.txt" %}{% when Language::En %}{% include "mail/help.en.txt" %}{% endmatch %}"#,
    ext = "txt"
)]
struct HelpText<'a> {
    lang: Language,
    subject: &'a str,
    unknown_tag: Option<&'a str>,
    example_address: &'a str,
    example_company: &'a str,
    providers: Vec<&'a str>,
    /// Companies registered beyond those listed, and the page that lists them all.
    more: usize,
    all_url: String,
}

/// How many companies a help reply names at most: a national registry has thousands.
const HELP_NAMES_AT_MOST: usize = 15;

/// The companies a help reply names: all when they are few; else those whose name is like the
/// tag the writer used (one contains the other, spelled as tags are matched), in order.
fn companies_to_name<'a>(config: &'a Config, tag: Option<&str>) -> Vec<&'a str> {
    if config.providers.len() <= HELP_NAMES_AT_MOST {
        return config.providers.iter().map(|p| p.name.as_str()).collect();
    }
    let Some(wanted) = tag.map(fold).filter(|t| t.chars().count() >= 3) else {
        return Vec::new();
    };
    config
        .providers
        .iter()
        .filter(|p| {
            [&p.slug, &p.name].into_iter().chain(&p.aliases).any(|n| {
                let name = fold(n);
                !name.is_empty() && (name.contains(&wanted) || wanted.contains(&name))
            })
        })
        .map(|p| p.name.as_str())
        .take(HELP_NAMES_AT_MOST)
        .collect()
}

#[derive(Template)]
#[template(
    source = r#"{% match lang %}{% when Language::Fi %}{% include "mail/confirm.fi.txt" %}{% when Language::Sv %}{% include "mail/confirm.sv.txt" %}{% when Language::En %}{% include "mail/confirm.en.txt" %}{% endmatch %}"#,
    ext = "txt"
)]
struct ConfirmText<'a> {
    lang: Language,
    pseudonym: &'a str,
    company: &'a str,
    title: &'a str,
    personal: Vec<&'a str>,
}

/// A letter's text from `templates/mail/NAME.fi.txt` or `NAME.en.txt`: the first line is its
/// subject, the rest its body. What a template puts in its first line must be one line
/// (thread titles are; a writer's own subject is made so).
pub fn letter(text: &impl Template) -> Result<(String, String), ComposeError> {
    let text = text.render()?;
    let (subject, body) = text.split_once('\n').unwrap_or((&text, ""));
    // askama drops a template file's last newline; a body's last line ends like the others.
    Ok((
        subject.to_owned(),
        format!("{}\n", body.trim_end_matches('\n')),
    ))
}

/// The operator's notice of mail that could not be delivered.
#[derive(Template)]
#[template(
    source = r#"{% match lang %}{% when Language::Fi %}{% include "mail/delivery-failed.fi.txt" %}{% when Language::Sv %}{% include "mail/delivery-failed.sv.txt" %}{% when Language::En %}{% include "mail/delivery-failed.en.txt" %}{% endmatch %}"#,
    ext = "txt"
)]
pub struct DeliveryFailed<'a> {
    pub lang: Language,
    pub outbox: i64,
    pub purpose: &'a str,
    pub thread: &'a str,
    pub detail: &'a str,
}

/// Asking someone to confirm they follow a company.
#[derive(Template)]
#[template(
    source = r#"{% match lang %}{% when Language::Fi %}{% include "mail/follow-confirm.fi.txt" %}{% when Language::Sv %}{% include "mail/follow-confirm.sv.txt" %}{% when Language::En %}{% include "mail/follow-confirm.en.txt" %}{% endmatch %}"#,
    ext = "txt"
)]
pub struct FollowConfirm<'a> {
    pub lang: Language,
    pub company: &'a str,
}

/// A company past its response time.
#[derive(Template)]
#[template(
    source = r#"{% match lang %}{% when Language::Fi %}{% include "mail/reminder.fi.txt" %}{% when Language::Sv %}{% include "mail/reminder.sv.txt" %}{% when Language::En %}{% include "mail/reminder.en.txt" %}{% endmatch %}"#,
    ext = "txt"
)]
pub struct Reminder<'a> {
    pub lang: Language,
    pub title: &'a str,
    pub waited: i64,
    pub number: i64,
    pub max: i64,
    pub url: &'a str,
}

/// The private note to a company whose answer blames the writer.
#[derive(Template)]
#[template(
    source = r#"{% match lang %}{% when Language::Fi %}{% include "mail/blame-note.fi.txt" %}{% when Language::Sv %}{% include "mail/blame-note.sv.txt" %}{% when Language::En %}{% include "mail/blame-note.en.txt" %}{% endmatch %}"#,
    ext = "txt"
)]
pub struct BlameNote<'a> {
    pub lang: Language,
    pub title: &'a str,
    pub url: &'a str,
    pub phrase: &'a str,
}

/// The operator's notice of a message the pipeline could not finish and set aside.
#[derive(Template)]
#[template(
    source = r#"{% match lang %}{% when Language::Fi %}{% include "mail/operator-set-aside.fi.txt" %}{% when Language::Sv %}{% include "mail/operator-set-aside.sv.txt" %}{% when Language::En %}{% include "mail/operator-set-aside.en.txt" %}{% endmatch %}"#,
    ext = "txt"
)]
pub struct OperatorSetAside<'a> {
    pub lang: Language,
    pub journal: i64,
    pub peer: &'a str,
    pub reason: &'a str,
}

/// The operator's notice of a reply held for personal data whose writer cannot be asked.
#[derive(Template)]
#[template(
    source = r#"{% match lang %}{% when Language::Fi %}{% include "mail/operator-held-reply.fi.txt" %}{% when Language::Sv %}{% include "mail/operator-held-reply.sv.txt" %}{% when Language::En %}{% include "mail/operator-held-reply.en.txt" %}{% endmatch %}"#,
    ext = "txt"
)]
pub struct OperatorHeldReply<'a> {
    pub lang: Language,
    pub thread: i64,
    pub journal: i64,
    pub found: &'a str,
    pub reason: &'a str,
}

/// The operator's notice of an answer that claims a company and did not prove it.
#[derive(Template)]
#[template(
    source = r#"{% match lang %}{% when Language::Fi %}{% include "mail/unverified-answer.fi.txt" %}{% when Language::Sv %}{% include "mail/unverified-answer.sv.txt" %}{% when Language::En %}{% include "mail/unverified-answer.en.txt" %}{% endmatch %}"#,
    ext = "txt"
)]
pub struct UnverifiedAnswer<'a> {
    pub lang: Language,
    pub company: &'a str,
    pub url: &'a str,
    pub why: &'a str,
}

/// Asking the writer whether the company solved their problem.
#[derive(Template)]
#[template(
    source = r#"{% match lang %}{% when Language::Fi %}{% include "mail/solved-question.fi.txt" %}{% when Language::Sv %}{% include "mail/solved-question.sv.txt" %}{% when Language::En %}{% include "mail/solved-question.en.txt" %}{% endmatch %}"#,
    ext = "txt"
)]
pub struct SolvedQuestion<'a> {
    pub lang: Language,
    pub name: &'a str,
    pub company: &'a str,
    pub title: &'a str,
    pub url: &'a str,
    pub address: &'a str,
}

#[derive(Template)]
#[template(
    source = r#"{% match lang %}{% when Language::Fi %}{% include "mail/publish-ask.fi.txt" %}{% when Language::Sv %}{% include "mail/publish-ask.sv.txt" %}{% when Language::En %}{% include "mail/publish-ask.en.txt" %}{% endmatch %}"#,
    ext = "txt"
)]
struct PublishAsk<'a> {
    lang: Language,
    title: &'a str,
    found: &'a str,
}

#[derive(Template)]
#[template(
    source = r#"{% match lang %}{% when Language::Fi %}{% include "mail/not-an-answer.fi.txt" %}{% when Language::Sv %}{% include "mail/not-an-answer.sv.txt" %}{% when Language::En %}{% include "mail/not-an-answer.en.txt" %}{% endmatch %}"#,
    ext = "txt"
)]
struct NotAnAnswer<'a> {
    lang: Language,
    company: &'a str,
    subject: &'a str,
    domain: &'a str,
}

#[derive(Template)]
#[template(
    source = r#"{% match lang %}{% when Language::Fi %}{% include "mail/set-aside.fi.txt" %}{% when Language::Sv %}{% include "mail/set-aside.sv.txt" %}{% when Language::En %}{% include "mail/set-aside.en.txt" %}{% endmatch %}"#,
    ext = "txt"
)]
struct SetAside {
    lang: Language,
    journal: i64,
}

/// Telling a company how many readers have the same problem.
#[derive(Template)]
#[template(
    source = r#"{% match lang %}{% when Language::Fi %}{% include "mail/support-count.fi.txt" %}{% when Language::Sv %}{% include "mail/support-count.sv.txt" %}{% when Language::En %}{% include "mail/support-count.en.txt" %}{% endmatch %}"#,
    ext = "txt"
)]
pub struct SupportCount<'a> {
    pub lang: Language,
    pub count: i64,
    pub title: &'a str,
    pub url: &'a str,
}

/// Telling a reader their "me too" is counted.
#[derive(Template)]
#[template(
    source = r#"{% match lang %}{% when Language::Fi %}{% include "mail/support-counted.fi.txt" %}{% when Language::Sv %}{% include "mail/support-counted.sv.txt" %}{% when Language::En %}{% include "mail/support-counted.en.txt" %}{% endmatch %}"#,
    ext = "txt"
)]
pub struct SupportCounted<'a> {
    pub lang: Language,
    pub title: &'a str,
    pub count: i64,
    pub url: &'a str,
}

/// Asking a reader to confirm their "me too".
#[derive(Template)]
#[template(
    source = r#"{% match lang %}{% when Language::Fi %}{% include "mail/support-confirm.fi.txt" %}{% when Language::Sv %}{% include "mail/support-confirm.sv.txt" %}{% when Language::En %}{% include "mail/support-confirm.en.txt" %}{% endmatch %}"#,
    ext = "txt"
)]
pub struct SupportConfirm<'a> {
    pub lang: Language,
    pub title: &'a str,
    pub url: &'a str,
}

/// Telling a follower they now follow a company.
#[derive(Template)]
#[template(
    source = r#"{% match lang %}{% when Language::Fi %}{% include "mail/follow-welcome.fi.txt" %}{% when Language::Sv %}{% include "mail/follow-welcome.sv.txt" %}{% when Language::En %}{% include "mail/follow-welcome.en.txt" %}{% endmatch %}"#,
    ext = "txt"
)]
pub struct FollowWelcome<'a> {
    pub lang: Language,
    pub company: &'a str,
    pub page: &'a str,
    pub unsubscribe_url: &'a str,
}

/// A follower's daily digest of a company's new feedback and answers.
#[derive(Template)]
#[template(
    source = r#"{% match lang %}{% when Language::Fi %}{% include "mail/follow-digest.fi.txt" %}{% when Language::Sv %}{% include "mail/follow-digest.sv.txt" %}{% when Language::En %}{% include "mail/follow-digest.en.txt" %}{% endmatch %}"#,
    ext = "txt"
)]
pub struct FollowDigest<'a> {
    pub lang: Language,
    pub company: &'a str,
    /// New threads and new answers: (thread id, title).
    pub threads: &'a [(i64, String)],
    pub answers: &'a [(i64, String)],
    /// The archive's address, without a trailing slash.
    pub base: &'a str,
    pub unsubscribe_url: &'a str,
}

/// The operator's daily digest: what waits in the holding pen, and the companies feedback waits
/// for.
#[derive(Template)]
#[template(
    source = r#"{% match lang %}{% when Language::Fi %}{% include "mail/operator-digest.fi.txt" %}{% when Language::Sv %}{% include "mail/operator-digest.sv.txt" %}{% when Language::En %}{% include "mail/operator-digest.en.txt" %}{% endmatch %}"#,
    ext = "txt"
)]
pub struct OperatorDigest<'a> {
    pub lang: Language,
    pub held: i64,
    /// Days the oldest held message has waited.
    pub held_days: i64,
    pub companies: &'a [crate::store::unregistered::UnregisteredCompany],
    pub now: i64,
    /// The archive's address, without a trailing slash.
    pub base: &'a str,
}

/// Subject and body of the request to confirm held feedback; `personal` names the personal
/// data found, empty when the address is simply new.
/// A company's settings as the company desk's letters list them.
pub struct DeskSettings<'a> {
    pub name: &'a str,
    /// `SLUG@DOMAIN`.
    pub address: String,
    pub page: String,
    pub routes: &'a [String],
    pub representatives: &'a [String],
    pub aliases: &'a [String],
    pub response_days: u32,
    /// Each topic rule in words.
    pub topics: Vec<String>,
    pub full: bool,
}

/// Why the company desk did nothing with a mail.
#[derive(Template)]
#[template(
    source = r#"{% match lang %}{% when Language::Fi %}{% include "mail/desk-not-taken.fi.txt" %}{% when Language::Sv %}{% include "mail/desk-not-taken.sv.txt" %}{% when Language::En %}{% include "mail/desk-not-taken.en.txt" %}{% endmatch %}"#,
    ext = "txt"
)]
pub struct DeskNotTaken<'a> {
    pub lang: Language,
    pub why: &'a str,
    /// What the record would not take, listed under `why`.
    pub problems: &'a [String],
    /// Whether to say how a company's mail counts: it was not taken for its signature.
    pub about_signature: bool,
    pub desk: &'a str,
    pub operator: &'a str,
}

/// A company's settings and the commands.
#[derive(Template)]
#[template(
    source = r#"{% match lang %}{% when Language::Fi %}{% include "mail/desk-help.fi.txt" %}{% when Language::Sv %}{% include "mail/desk-help.sv.txt" %}{% when Language::En %}{% include "mail/desk-help.en.txt" %}{% endmatch %}"#,
    ext = "txt"
)]
pub struct DeskHelp<'a> {
    pub lang: Language,
    pub settings: DeskSettings<'a>,
    pub desk: &'a str,
    pub skipped: &'a [String],
    pub not_understood: &'a [String],
}

/// A change as it would be, to be confirmed by replying "yes".
#[derive(Template)]
#[template(
    source = r#"{% match lang %}{% when Language::Fi %}{% include "mail/desk-confirm.fi.txt" %}{% when Language::Sv %}{% include "mail/desk-confirm.sv.txt" %}{% when Language::En %}{% include "mail/desk-confirm.en.txt" %}{% endmatch %}"#,
    ext = "txt"
)]
pub struct DeskConfirm<'a> {
    pub lang: Language,
    pub company: &'a str,
    pub changes: &'a [String],
    pub skipped: &'a [String],
    pub not_understood: &'a [String],
    pub settings: DeskSettings<'a>,
    pub days: i64,
}

/// A change made, refused or cancelled.
#[derive(Template)]
#[template(
    source = r#"{% match lang %}{% when Language::Fi %}{% include "mail/desk-done.fi.txt" %}{% when Language::Sv %}{% include "mail/desk-done.sv.txt" %}{% when Language::En %}{% include "mail/desk-done.en.txt" %}{% endmatch %}"#,
    ext = "txt"
)]
pub struct DeskDone<'a> {
    pub lang: Language,
    pub company: &'a str,
    pub applied: bool,
    pub changes: &'a [String],
    pub problems: &'a [String],
    pub page: &'a str,
}

/// A change, to the company's other addresses.
#[derive(Template)]
#[template(
    source = r#"{% match lang %}{% when Language::Fi %}{% include "mail/desk-announce.fi.txt" %}{% when Language::Sv %}{% include "mail/desk-announce.sv.txt" %}{% when Language::En %}{% include "mail/desk-announce.en.txt" %}{% endmatch %}"#,
    ext = "txt"
)]
pub struct DeskAnnounce<'a> {
    pub lang: Language,
    pub company: &'a str,
    pub sender: &'a str,
    pub changes: &'a [String],
    pub operator: &'a str,
    pub page: &'a str,
}

/// A claim received: what the operator checks, what the company could do.
#[derive(Template)]
#[template(
    source = r#"{% match lang %}{% when Language::Fi %}{% include "mail/desk-claim.fi.txt" %}{% when Language::Sv %}{% include "mail/desk-claim.sv.txt" %}{% when Language::En %}{% include "mail/desk-claim.en.txt" %}{% endmatch %}"#,
    ext = "txt"
)]
pub struct DeskClaim<'a> {
    pub lang: Language,
    pub registered: bool,
    pub waiting: usize,
    pub settings: DeskSettings<'a>,
    pub desk: &'a str,
}

/// The operator's decision on a claim.
#[derive(Template)]
#[template(
    source = r#"{% match lang %}{% when Language::Fi %}{% include "mail/desk-decision.fi.txt" %}{% when Language::Sv %}{% include "mail/desk-decision.sv.txt" %}{% when Language::En %}{% include "mail/desk-decision.en.txt" %}{% endmatch %}"#,
    ext = "txt"
)]
pub struct DeskDecision<'a> {
    pub lang: Language,
    pub approved: bool,
    pub reason: &'a str,
    pub waiting: usize,
    pub settings: DeskSettings<'a>,
    pub desk: &'a str,
}

/// An answer to a confirmation that settled nothing.
#[derive(Template)]
#[template(
    source = r#"{% match lang %}{% when Language::Fi %}{% include "mail/desk-unclear.fi.txt" %}{% when Language::Sv %}{% include "mail/desk-unclear.sv.txt" %}{% when Language::En %}{% include "mail/desk-unclear.en.txt" %}{% endmatch %}"#,
    ext = "txt"
)]
pub struct DeskUnclear<'a> {
    pub lang: Language,
    pub company: &'a str,
    pub why: &'a str,
}

/// A claim, to the operator.
#[derive(Template)]
#[template(
    source = r#"{% match lang %}{% when Language::Fi %}{% include "mail/operator-claim.fi.txt" %}{% when Language::Sv %}{% include "mail/operator-claim.sv.txt" %}{% when Language::En %}{% include "mail/operator-claim.en.txt" %}{% endmatch %}"#,
    ext = "txt"
)]
pub struct OperatorClaim<'a> {
    pub lang: Language,
    pub id: i64,
    pub name: &'a str,
    pub slug: &'a str,
    pub registered: bool,
    pub sender: &'a str,
    pub evidence: &'a str,
    pub waiting: usize,
    pub record: &'a str,
}

pub fn confirm_text(
    pseudonym: &str,
    company: &str,
    title: &str,
    personal: &[&str],
    lang: Language,
) -> Result<(String, String), ComposeError> {
    letter(&ConfirmText {
        lang,
        pseudonym,
        company,
        title,
        personal: personal.to_vec(),
    })
}

/// What the consumer is told after new feedback.
pub struct Ack<'a> {
    /// Where the writer can erase the feedback (checked against their address).
    pub erase_address: &'a str,
    pub pseudonym: &'a str,
    pub url: &'a str,
    pub company: &'a str,
    pub route_label: Option<&'a str>,
    pub response_days: u32,
    pub title: &'a str,
    /// The company is registered, so the feedback went to it; otherwise it waits.
    pub reachable: bool,
    /// What became of the writer's files (empty when there were none).
    pub attachments: &'a str,
}

/// Subject and body of the acknowledgement.
pub fn ack_text(a: &Ack<'_>, lang: Language) -> Result<(String, String), ComposeError> {
    letter(&AckText {
        lang,
        title: a.title,
        erase_address: a.erase_address,
        marker: marker(lang),
        pseudonym: a.pseudonym,
        url: a.url,
        company: a.company,
        route_label: a.route_label,
        response_days: a.response_days,
        reachable: a.reachable,
        attachments: a.attachments,
    })
}

/// What the provider's route gets for new feedback.
pub struct Forward<'a> {
    pub company: &'a str,
    pub title: &'a str,
    pub pseudonym: &'a str,
    pub body: &'a str,
    pub url: &'a str,
    pub full: bool,
    pub has_representatives: bool,
    /// What came with it (empty when nothing did).
    pub attachments: &'a str,
}

/// Subject and body of a forward.
pub fn forward_text(f: &Forward<'_>, lang: Language) -> Result<(String, String), ComposeError> {
    letter(&ForwardText {
        lang,
        subject: &forward_subject(f.title, lang),
        marker: marker(lang),
        company: f.company,
        title: f.title,
        pseudonym: f.pseudonym,
        body: &excerpt(f.body, f.url, lang),
        url: f.url,
        full: f.full,
        official_hint: f.has_representatives,
        attachments: f.attachments,
    })
}

/// What the forward to the company is titled.
fn forward_subject(title: &str, lang: Language) -> String {
    fill(&words(lang).forward_subject, &[("title", &title)])
}

/// The subject every later mail of a thread to the company carries: the forward's, answered,
/// so that clients grouping by subject (Gmail, Thunderbird) keep the conversation together.
pub fn company_subject(title: &str, lang: Language) -> String {
    format!("Re: {}", forward_subject(title, lang))
}

/// The subject every mail of a thread to its writer carries: the one they gave their
/// feedback, answered (the title, for a thread from before it was kept).
pub fn writer_subject(thread: &crate::store::Thread) -> String {
    let theirs = thread.subject.as_deref().unwrap_or(&thread.title);
    format!("Re: {}", without_reply_prefixes(theirs))
}

/// A subject without the `Re:`, `Fwd:`, `VS:`, `SV:`, `AW:` a client put before it.
fn without_reply_prefixes(subject: &str) -> &str {
    let mut rest = subject.trim();
    loop {
        let lower = rest.to_ascii_lowercase();
        let Some(prefix) = ["re:", "fwd:", "fw:", "vs:", "sv:", "aw:", "vl:"]
            .iter()
            .find(|p| lower.starts_with(*p))
        else {
            return rest;
        };
        rest = rest[prefix.len()..].trim_start();
    }
}

/// A letter of a thread under the thread's subject on its side: what the letter's own
/// subject said opens its text instead (below our reply marker, when the text begins with it).
pub fn in_thread((subject, body): (String, String), thread_subject: String) -> (String, String) {
    let body = match body.split_once('\n') {
        Some((first, rest)) if MARKERS.contains(&first) => {
            format!("{first}\n\n{subject}\n{rest}")
        }
        _ => format!("{subject}\n\n{body}"),
    };
    (thread_subject, body)
}

/// Most bytes of a writer's text that a mail carries; past them the rest is on the public
/// page. An 18 MB feedback made a 49 MB forward, which no mail server takes.
const MAIL_TEXT: usize = 100_000;

/// `text` as a mail carries it: whole, or its first [`MAIL_TEXT`] bytes and where the rest is.
fn excerpt<'t>(text: &'t str, url: &str, lang: Language) -> std::borrow::Cow<'t, str> {
    let rest = fill(&words(lang).continues, &[("url", &url)]);
    crate::mail::shortened(text, MAIL_TEXT, &format!(" […]\n\n({rest})"))
}

/// A post passed on to the other side of a thread.
pub struct Relay<'a> {
    /// The thread's subject on the side it goes to.
    pub subject: &'a str,
    pub author: &'a str,
    pub official: bool,
    /// Claims the company's name without authenticating: said so plainly, since a forger's
    /// text (a payment link) would otherwise read as the company's.
    pub unverified: bool,
    pub title: &'a str,
    pub body: &'a str,
    pub url: &'a str,
    /// What came with it (empty when nothing did).
    pub attachments: &'a str,
}

/// Subject and body of a relayed post.
pub fn relay_text(r: &Relay<'_>, lang: Language) -> Result<(String, String), ComposeError> {
    letter(&RelayText {
        lang,
        subject: r.subject,
        marker: marker(lang),
        author: r.author,
        official: r.official,
        unverified: r.unverified,
        title: r.title,
        body: &excerpt(r.body, r.url, lang),
        url: r.url,
        attachments: r.attachments,
    })
}

/// Subject and body of the help reply to feedback with no known company.
pub fn help_text(
    unknown_tag: Option<&str>,
    config: &Config,
    subject: &str,
    lang: Language,
) -> Result<(String, String), ComposeError> {
    let (example_company, example_address) = match config.providers.first() {
        Some(p) => (p.name.clone(), mailbox::company(&p.slug, &config.domain)),
        None => {
            let company = &words(lang).example_company;
            let address = mailbox::company(&company.to_lowercase(), &config.domain);
            (company.clone(), address)
        }
    };
    let providers = companies_to_name(config, unknown_tag);
    letter(&HelpText {
        lang,
        // A subject line is one line: the writer's subject might hold a line break.
        subject: &one_line(subject),
        unknown_tag,
        example_address: &example_address,
        example_company: &example_company,
        more: config.providers.len() - providers.len(),
        providers,
        all_url: config.public_link("/"),
    })
}

/// Subject and body of the question to a writer whose reply is held for the personal data in
/// it (`found` names what was found).
pub fn publish_text(
    title: &str,
    found: &[&str],
    lang: Language,
) -> Result<(String, String), ComposeError> {
    letter(&PublishAsk {
        lang,
        title,
        found: &found.join(", "),
    })
}

/// Subject and body of the note to a company's representative whose mail came to an address
/// of ours that names no thread, and matched none.
pub fn not_an_answer_text(
    company: &str,
    subject: &str,
    config: &Config,
) -> Result<(String, String), ComposeError> {
    letter(&NotAnAnswer {
        lang: config.language,
        company,
        subject: &one_line(subject),
        domain: &config.domain,
    })
}

/// Subject and body of the note to a writer whose message the pipeline set aside.
pub fn set_aside_text(journal: i64, lang: Language) -> Result<(String, String), ComposeError> {
    letter(&SetAside { lang, journal })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every problem of a record reads whole in each language, and a value that would hide or
    /// turn the text around it is shown by its code points.
    #[test]
    fn every_record_problem_is_said_in_each_language() {
        let value = "Acme\u{202E}yO\u{1b}[31m";
        let problems = [
            Problem::SlugForm(value.into()),
            Problem::Reserved("www".into()),
            Problem::Twice(value.into()),
            Problem::Empty,
            Problem::NotShown(value.into()),
            Problem::NameShared {
                name: value.into(),
                other: "elisa".into(),
                other_name: "Elisa Oyj".into(),
            },
            Problem::NoRoute,
            Problem::NotAddress(value.into()),
            Problem::RouteOurs(value.into()),
            Problem::NotOnTheInternet(value.into()),
            Problem::NeitherAddressNorDomain(value.into()),
            Problem::Anyones(value.into()),
            Problem::RepresentativeOurs(value.into()),
            Problem::ResponseDays(0),
            Problem::Pattern(value.into()),
        ];
        for lang in Language::ALL {
            for what in &problems {
                let problem = RecordProblem {
                    place: "acme.routes".into(),
                    field: Field::Routes,
                    what: what.clone(),
                };
                let said = desk_words(lang).record(&problem);
                assert!(
                    !said.contains('{') && !said.contains("acme.routes") && said.len() > 10,
                    "{lang:?} {what:?}: {said}"
                );
                assert!(
                    !said
                        .chars()
                        .any(|c| c.is_control() || names::is_invisible(c)),
                    "{lang:?} {what:?}: {said:?}"
                );
            }
        }
        let said = desk_words(Language::Fi).record(&RecordProblem {
            place: "acme.aliases".into(),
            field: Field::Aliases,
            what: Problem::NotShown(value.into()),
        });
        assert!(
            said.starts_with("alias Acme<U+202E>yO<U+001B>[31m tarvitsee"),
            "{said}"
        );
    }

    /// Every mail is wrapped at 72 columns when it is sent (`mail::wrap`), so a template writes
    /// each paragraph on one line: a paragraph broken by hand at another width would come out
    /// with every other line short.
    #[test]
    fn templates_leave_the_wrapping_to_the_sender() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/mail");
        let prose = |l: &str| {
            let l = l.trim();
            // A link or an address alone on its line is set apart on purpose.
            let alone = l.starts_with("{{") && l.ends_with("}}") && l.matches("{{").count() == 1;
            !l.is_empty()
                && !alone
                && !["{%", "--", ">", "- ", "* ", "http"]
                    .iter()
                    .any(|p| l.starts_with(p))
        };
        let mut ragged = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "txt") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            for pair in lines.windows(2) {
                let soft = pair[0].chars().count() > 60
                    && !pair[0].trim_end().ends_with(':')
                    && !pair[0].trim_end().ends_with("%}")
                    && !pair[0].trim_end().ends_with("%}.");
                if soft && prose(pair[0]) && prose(pair[1]) {
                    ragged.push(format!("{}: {}", path.display(), pair[0]));
                }
            }
        }
        assert!(
            ragged.is_empty(),
            "paragraphs broken by hand:\n{}",
            ragged.join("\n")
        );
    }

    #[test]
    fn a_long_text_is_carried_in_part_with_the_way_to_the_rest() {
        let relay = |body: &str| {
            relay_text(
                &Relay {
                    subject: "Re: Lasku",
                    author: "Elisa",
                    official: true,
                    unverified: false,
                    title: "Lasku",
                    body,
                    url: "https://x.example/t/1",
                    attachments: "",
                },
                Language::Fi,
            )
            .unwrap()
            .1
        };
        let long = "ä".repeat(3 * MAIL_TEXT);
        let text = relay(&long);
        assert!(text.len() < MAIL_TEXT + 2_000, "{} bytes", text.len());
        assert!(text.contains("Teksti jatkuu julkisella sivulla: https://x.example/t/1"));
        assert!(relay("Lyhyt vastaus.").contains("Lyhyt vastaus."));
    }

    #[test]
    fn both_phrase_books_have_every_phrase() {
        for lang in Language::ALL {
            let w = words(lang);
            assert!(w.continues.contains("{url}") && w.unverified_author.contains("{author}"));
            assert!(!w.personal(Personal::Iban).is_empty());
        }
        assert_eq!(
            fill(
                &words(Language::Fi).unverified_author,
                &[("author", &"Elisa")]
            ),
            "Elisa (vahvistamaton)"
        );
    }

    #[test]
    fn operator_notes_are_in_the_language_of_the_service() {
        let note = |lang| {
            letter(&OperatorSetAside {
                lang,
                journal: 7,
                peer: "192.0.2.1",
                reason: "set aside",
            })
            .unwrap()
        };
        assert_eq!(note(Language::Fi).0, "Viesti 7 siirretty sivuun");
        assert_eq!(note(Language::Sv).0, "Meddelande 7 åsidosatt");
        assert_eq!(note(Language::En).0, "Message 7 set aside");
        assert!(
            note(Language::En).1.contains("192.0.2.1") && note(Language::Fi).1.ends_with(".\n")
        );
    }

    #[test]
    fn a_help_reply_names_the_companies_like_the_tag_not_thousands() {
        let companies = |n: usize| -> crate::config::Companies {
            (0..n)
                .map(|i| crate::config::ProviderConfig {
                    slug: format!("yritys-{i}"),
                    name: format!("Yritys {i} Oy"),
                    ..crate::config::ProviderConfig::from_record("").unwrap()
                })
                .collect()
        };
        let mut config = Config {
            providers: companies(3),
            ..Config::default()
        };
        let few = help_text(Some("Acme"), &config, "x", Language::Fi)
            .unwrap()
            .1;
        assert!(
            few.contains("[Yritys 2 Oy]") && !few.contains("muuta"),
            "{few}"
        );

        config.providers = companies(5_000);
        let many = help_text(Some("Yritys 499"), &config, "x", Language::Fi)
            .unwrap()
            .1;
        assert!(many.contains("[Yritys 499 Oy]"), "{many}");
        assert!(!many.contains("[Yritys 12 Oy]"), "{many}");
        assert!(many.contains(" muuta: http"), "{many}");
        let none = help_text(None, &config, "x", Language::Fi).unwrap().1;
        assert!(none.lines().count() < 30, "{none}");
        assert!(none.contains("Kaikki 5000 yritystä, joille palaute voidaan välittää: http"));
    }
}
