//! The company desk, `yritys@` (`company@`): a company claims its page, and its
//! representatives keep it current, by mail alone. Only mail signed with DKIM by the From
//! address's own domain counts: anyone can write a company's address into From, nobody else
//! can sign for its domain.
//!
//! - A company not registered (or a registered one, from a domain it does not list) claims: the
//!   claim waits for the operator (`nonono providers pending`, `approve`, `refuse`), the
//!   writer is told what the operator checks, the operator what to decide.
//! - A representative (an address or a domain of its record) of a registered company writes
//!   commands
//!   ([`crate::domain::desk`]); the desk answers with the change as it would be, from an
//!   address that names the request (`k+TOKEN@`); their "kyllä" applies it, writes it in
//!   the registry's history and tells every other address of the company, so that a mailbox
//!   taken over cannot change the company quietly.
//! - `ohje` / `help` answers with the company's settings and the commands.

use std::collections::HashSet;

use super::compose::{Letter, Origin};
use super::context::{Context, PipelineError};
use super::message::Message;
use super::outgoing::{self, Sending};
use super::registry::{self, Expect, RegistryError};
use super::texts::{self, DeskSettings};
use crate::config::{Companies, Config, Language, Plan, ProviderConfig};
use crate::domain::desk::{self, Answer, Command, NotTaken, Skipped};
use crate::domain::mailbox;
use crate::domain::names::fold;
use crate::domain::route::{self, Tag};
use crate::domain::token::{Purpose, TokenKey};
use crate::store::desk::{NewRequest, Request, RequestKind};
use crate::store::{Evidence, OutboxPurpose, Signature, Store, Tx};

/// A change not confirmed within a week is not applied: the record has moved on by then, and
/// an old "yes" must not apply what nobody remembers asking.
pub const CONFIRM_WITHIN: i64 = 7 * 86_400;

/// Lines not understood that an answer quotes back, at most (the rest is a signature), and
/// characters of each.
const NOT_UNDERSTOOD_SHOWN: usize = 10;
const NOT_UNDERSTOOD_CHARS: usize = 100;

/// Characters of an alias or a topic's label a company gives by mail, at most: each is shown
/// in our own words, to every writer whose feedback it routes.
const MOST_NAME_CHARS: usize = 60;

/// Desk refusals an hour (of any kind) past which mail not taken for how it was signed is
/// not answered: its From may be forged.
const UNSIGNED_REFUSALS_AN_HOUR: i64 = 20;

/// A signed mail older than this (by its `Date`) asks nothing: it is being sent again.
const MOST_DAYS_OLD: i64 = 3;

/// Claims under one signing domain waiting for the operator at most: more are a flood, not a company.
const PENDING_CLAIMS_A_DOMAIN: i64 = 3;

/// Other addresses of a company told of a change, at most.
const TOLD_AT_MOST: usize = 20;

/// Who changes the registry by mail, in its history.
fn actor(sender: &str) -> String {
    format!("mail:{sender}")
}

/// Mail to `yritys@`.
pub(super) fn desk(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    msg: &Message<'_>,
    evidence: Option<&Evidence>,
) -> Result<String, PipelineError> {
    if let Some(reason) = msg.hold_reason(tx, ctx)? {
        return Ok(format!("company desk: not taken: {reason}"));
    }
    let Some(sender) = msg.sender() else {
        return Ok("company desk: no sender".into());
    };
    let text = crate::mail::reply::extract_answer(&msg.mail.text, &[]).text;
    // Only the head is read: a pasted letter's heading is looked for no further than that.
    let mut parsed = desk::parse(before_our_commands(desk::head(&text)));
    if parsed.commands.is_empty() {
        let subject = route::subject_title(&msg.mail.subject);
        let from_subject = desk::parse(&subject);
        if !from_subject.commands.is_empty() {
            parsed = from_subject;
        }
    }
    parsed.not_understood.truncate(NOT_UNDERSTOOD_SHOWN);
    for line in &mut parsed.not_understood {
        if let Some((cut, _)) = line.char_indices().nth(NOT_UNDERSTOOD_CHARS) {
            line.truncate(cut);
            line.push('…');
        }
    }
    let lang = parsed
        .language
        .or_else(|| crate::domain::language::detect(&text))
        .unwrap_or(ctx.config.language);
    if let Err(why) = signed_by_sender(evidence) {
        return not_taken(tx, ctx, msg, &sender, lang, why);
    }
    let desk_addresses = [
        mailbox::at(mailbox::COMPANY_DESK, &ctx.config.domain),
        mailbox::at(mailbox::COMPANY_DESK_EN, &ctx.config.domain),
    ];
    if let Err(why) = meant_for(msg, evidence, &desk_addresses, ctx.now) {
        return Ok(format!("company desk: not taken: {why}"));
    }
    let speaks_for: Vec<&ProviderConfig> = ctx
        .config
        .providers
        .iter()
        .filter(|p| speaks_for(p, &sender))
        .collect();
    let subject = &msg.mail.subject;
    let named = match route::find_tag(subject, &ctx.config.providers) {
        Tag::Known { slug, .. } => Some(slug),
        _ => None,
    };
    let company = match speaks_for.as_slice() {
        [] => None,
        [one] => Some(*one),
        several => match several.iter().find(|p| Some(&p.slug) == named.as_ref()) {
            Some(p) => Some(*p),
            None => {
                let names: Vec<&str> = several.iter().map(|p| p.name.as_str()).collect();
                let why = NotTaken::WhichCompany(names.join(", "));
                return not_taken(tx, ctx, msg, &sender, lang, why);
            }
        },
    };
    let asked = Asked {
        msg,
        sender: &sender,
        lang,
        evidence: describe(evidence),
        signer: evidence.and_then(|e| e.domain.clone()),
        commands: &parsed.commands,
        not_understood: &parsed.not_understood,
    };
    match company {
        Some(company) => {
            let company = stored(tx, &company.slug)?.unwrap_or_else(|| company.clone());
            change(tx, ctx, &asked, &company)
        }
        None => claim(tx, ctx, &asked),
    }
}

/// Ok when the signed mail was written to one of `addresses` (its `To` or `Cc`), lately: a
/// company's signed mail to someone else (a newsletter), or an old one, sent on to the desk
/// by whoever received it, asks nothing of it.
fn meant_for(
    msg: &Message<'_>,
    evidence: Option<&Evidence>,
    addresses: &[String],
    now: i64,
) -> Result<(), &'static str> {
    let to_us = msg
        .mail
        .addressed_to
        .iter()
        .any(|a| addresses.iter().any(|d| d.eq_ignore_ascii_case(a)));
    if !to_us {
        return Err("its To and Cc do not name the desk (a signed mail sent on by someone else)");
    }
    if !evidence.is_some_and(|e| e.signs_date) {
        return Err("its signature does not cover its Date");
    }
    match msg.mail.date {
        Some(date) if (now - MOST_DAYS_OLD * 86_400..=now + 86_400).contains(&date) => Ok(()),
        Some(_) => Err("its Date is not recent (an old signed mail sent again)"),
        None => Err("it has no Date"),
    }
}

/// A company as the registry holds it in this transaction: a change made a moment ago counts
/// before the running service's config catches up with it.
fn stored(tx: &Tx<'_>, slug: &str) -> Result<Option<ProviderConfig>, PipelineError> {
    Ok(tx
        .company(slug)?
        .and_then(|c| ProviderConfig::from_record(&c.record).ok()))
}

/// What a mail to the desk asked, and of whom.
struct Asked<'a> {
    msg: &'a Message<'a>,
    sender: &'a str,
    lang: Language,
    /// How the mail authenticated, for the operator and the history.
    evidence: String,
    /// The domain whose signature it carries.
    signer: Option<String>,
    commands: &'a [Command],
    not_understood: &'a [String],
}

/// Whether `sender` writes for `company`: one of its representatives. A route is where its
/// feedback goes, no proof of who speaks for it: a company without representatives joins by
/// a claim the operator decides.
fn speaks_for(company: &ProviderConfig, sender: &str) -> bool {
    route::is_representative(company, sender)
}

/// Ok when the mail carries a valid DKIM signature of its From address's domain (or of one
/// sharing its organisational domain, as DMARC's relaxed alignment has it); otherwise why
/// not, in the writer's words.
fn signed_by_sender(evidence: Option<&Evidence>) -> Result<(), NotTaken> {
    match evidence.map(|e| &e.signature) {
        Some(Signature::Aligned(_)) => Ok(()),
        Some(Signature::None) => Err(NotTaken::Unsigned),
        Some(Signature::Foreign(d)) => Err(NotTaken::OtherDomain(d.clone())),
        Some(Signature::Broken(d)) => Err(NotTaken::Broken(d.clone())),
        Some(Signature::Unchecked) | None => Err(NotTaken::Unchecked),
    }
}

fn describe(evidence: Option<&Evidence>) -> String {
    let Some(e) = evidence else {
        return "not checked".into();
    };
    let signature = match &e.signature {
        Signature::Aligned(d) => format!("DKIM signature of {d}"),
        other => format!("{other:?}"),
    };
    format!("{signature}, DMARC {}", e.dmarc)
}

/// Tells the writer why nothing was done, at most once a day an address (anyone can write a
/// company's address into From, and must not have the desk mail it every minute).
fn not_taken(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    msg: &Message<'_>,
    sender: &str,
    lang: Language,
    why: NotTaken,
) -> Result<String, PipelineError> {
    // The log's words: no addresses (a problem may quote one).
    let outcome = match &why {
        NotTaken::Problems(p) => format!("company desk: nothing done: {} problems", p.len()),
        why => format!("company desk: nothing done: {why:?}"),
    };
    let Ok(to) = msg.reply_address(ctx) else {
        return Ok(outcome);
    };
    if to != sender {
        return Ok(outcome);
    }
    let problems = match &why {
        NotTaken::Problems(p) => p.as_slice(),
        _ => &[],
    };
    let about_signature = why.is_about_signature();
    let (subject, body) = texts::letter(&texts::DeskNotTaken {
        lang,
        why: &texts::desk_words(lang).refusal(&why),
        problems,
        about_signature,
        desk: &desk_address(ctx.config),
        operator: &mailbox::at(mailbox::POSTMASTER, &ctx.config.domain),
    })?;
    let letter = desk_letter(desk_address(ctx.config), &to, (subject, body), Some(msg));
    let sending = Sending::new(OutboxPurpose::DeskRefusal).for_message(msg.entry.id);
    if about_signature {
        // Once a day an address, and a few an hour in all: the From may be forged, and its
        // owner did not write (a flood of forged Froms would make us a sender of backscatter).
        let since = ctx.now - 3_600;
        let sent =
            tx.queued_count_since(OutboxPurpose::DeskRefusal, since, UNSIGNED_REFUSALS_AN_HOUR)?;
        if sent >= UNSIGNED_REFUSALS_AN_HOUR {
            return Ok(format!("{outcome}; not told: {sent} refusals this hour"));
        }
        outgoing::queue_automatic(tx, ctx, &letter, sending)?;
    } else {
        // Signed by the From's own domain: its writer fixing a claim hears of each try.
        outgoing::queue(tx, ctx, &letter, sending)?;
    }
    Ok(outcome)
}

/// The text above our own list of commands, when a letter of ours is pasted in without a
/// quote's marks: its examples (`reitti lisää laskutus@yritys.fi`) are not the writer's.
fn before_our_commands(text: &str) -> &str {
    let headings = [
        include_str!("../../templates/mail/desk-commands.fi.txt"),
        include_str!("../../templates/mail/desk-commands.sv.txt"),
        include_str!("../../templates/mail/desk-commands.en.txt"),
    ]
    .map(|t| -> Vec<&str> { t.split_whitespace().take(4).collect() });
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        // By words: a client may have turned a space into a no-break one, or wrapped the rest.
        let words: Vec<&str> = line.split_whitespace().take(4).collect();
        if headings.contains(&words) {
            return &text[..at];
        }
        at += line.len();
    }
    text
}

fn desk_address(config: &Config) -> String {
    mailbox::at(mailbox::COMPANY_DESK, &config.domain)
}

/// A letter of the desk: an answer to `answering`, threaded under it, or a notice of its own.
fn desk_letter(
    from: String,
    to: &str,
    (subject, body): (String, String),
    answering: Option<&Message<'_>>,
) -> Letter {
    Letter {
        from_name: "nonono".into(),
        from_address: from,
        to: to.to_owned(),
        subject,
        body,
        references: answering
            .and_then(|m| m.mail.message_id.clone())
            .into_iter()
            .collect(),
        origin: if answering.is_some() {
            Origin::AutoReplied
        } else {
            Origin::Automatic
        },
        attachments: Vec::new(),
    }
}

/// A company's settings as the desk's letters list them.
pub(crate) fn settings<'a>(config: &Config, c: &'a ProviderConfig) -> DeskSettings<'a> {
    DeskSettings {
        name: &c.name,
        address: mailbox::company(&c.slug, &config.domain),
        page: config.company_link(&c.slug),
        routes: &c.routes,
        representatives: &c.representatives,
        aliases: &c.aliases,
        response_days: c.response_days,
        topics: c
            .rules
            .iter()
            .map(|r| {
                format!(
                    "{} -> {} ({})",
                    desk::topic_words(&r.pattern),
                    r.route,
                    r.label
                )
            })
            .collect(),
        full: c.plan == Plan::Full,
    }
}

/// A registered company's representative: help, or a change to confirm.
fn change(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    asked: &Asked<'_>,
    company: &ProviderConfig,
) -> Result<String, PipelineError> {
    let lang = asked.lang;
    let changes: Vec<Command> = asked
        .commands
        .iter()
        .filter(|c| **c != Command::Help)
        .cloned()
        .collect();
    let (after, skipped) = desk::apply(company, &changes);
    // In order: of two same commands, one is done and one skipped.
    let mut not_done = skipped.iter().peekable();
    let done: Vec<&Command> = changes
        .iter()
        .filter(|c| not_done.next_if(|s| s.command() == *c).is_none())
        .collect();
    let skipped = skipped_lines(&skipped, lang);
    let desk_from = desk_address(ctx.config);
    if done.is_empty() || after.to_record() == company.to_record() {
        let (subject, body) = texts::letter(&texts::DeskHelp {
            lang,
            settings: settings(ctx.config, company),
            desk: &desk_address(ctx.config),
            skipped: &skipped,
            not_understood: asked.not_understood,
        })?;
        reply(tx, ctx, asked, desk_from, subject, body)?;
        return Ok(format!(
            "company desk: {}: settings and commands sent",
            company.slug
        ));
    }
    let mut problems = mail_problems(
        tx,
        ctx.config,
        company,
        asked.sender,
        &done,
        RequestKind::Change,
        lang,
    )?;
    problems.extend(record_problems(tx, ctx.config, &after, lang)?);
    if !problems.is_empty() {
        return refuse_change(tx, ctx, asked, company, problems);
    }
    let (id, _) = tx.add_request(
        &NewRequest {
            kind: RequestKind::Change,
            slug: &company.slug,
            sender: asked.sender,
            language: lang.code(),
            record: &company.to_record(),
            commands: &serde_json::to_string(&done).unwrap_or_default(),
            evidence: &asked.evidence,
            journal_id: Some(asked.msg.entry.id),
        },
        ctx.now,
    )?;
    let shown: Vec<String> = done.iter().map(|c| c.line(lang)).collect();
    let (subject, body) = texts::letter(&texts::DeskConfirm {
        lang,
        company: &company.name,
        changes: &shown,
        skipped: &skipped,
        not_understood: asked.not_understood,
        settings: settings(ctx.config, &after),
        days: CONFIRM_WITHIN / 86_400,
    })?;
    let confirm = ctx.key.address(Purpose::DeskChange, id, &ctx.config.domain);
    reply(tx, ctx, asked, confirm, subject, body)?;
    Ok(format!(
        "company desk: {}: change {id} waits for its writer's yes",
        company.slug
    ))
}

/// What keeps a change or a claim asked by mail from being made, besides the registry's
/// checks: an address or domain another registered company has (only the operator gives one
/// company's mailbox to another), a representative outside the company's own domains
/// ([`desk::own_representative`]), an alias that is no form of its own name
/// ([`desk::own_name`]), and aliases and labels over [`MOST_NAME_CHARS`]. A change takes no
/// name feedback waits under for a company not registered, though it be a form of its own: the
/// operator gives those, as they approve a claim that takes them.
fn mail_problems(
    tx: &Tx<'_>,
    config: &Config,
    company: &ProviderConfig,
    asker: &str,
    done: &[&Command],
    asked: RequestKind,
    lang: Language,
) -> Result<Vec<String>, PipelineError> {
    let words = texts::desk_words(lang);
    let adds_alias = done
        .iter()
        .any(|c| matches!(c, Command::Alias(desk::Op::Add, _)));
    let waiting: HashSet<String> = if adds_alias {
        tx.unregistered_companies()?
            .iter()
            .map(|w| fold(&w.company))
            .collect()
    } else {
        HashSet::new()
    };
    let too_long = |item: &str| {
        (item.chars().count() > MOST_NAME_CHARS).then(|| words.too_long(item, MOST_NAME_CHARS))
    };
    Ok(done
        .iter()
        .filter_map(|c| match c {
            Command::Route(desk::Op::Add, a) => {
                another_companys(config, company, a).then(|| words.taken(a))
            }
            Command::TopicAdd { route, label, .. } => {
                if another_companys(config, company, route) {
                    Some(words.taken(route))
                } else {
                    too_long(label)
                }
            }
            Command::Representative(desk::Op::Add, r) => {
                if another_companys(config, company, r) {
                    Some(words.taken(r))
                } else if !r.contains('@') && mailbox::is_public_mailbox_domain(r) {
                    // The record's check says why: anyone has an address there.
                    None
                } else {
                    (!desk::own_representative(company, asker, r)).then(|| words.not_own(r))
                }
            }
            Command::Alias(desk::Op::Add, name) => too_long(name).or_else(|| {
                let waits = waiting.contains(&fold(name));
                match (desk::own_name(company, name), asked) {
                    (true, RequestKind::Change) if waits => Some(words.waiting(name)),
                    (true, _) => None,
                    (false, _) if waits => Some(words.waiting(name)),
                    (false, _) => Some(words.alias_not_own(name)),
                }
            }),
            _ => None,
        })
        .collect())
}

/// Whether `item` (an address or a domain) is a registered company's other than `company`.
fn another_companys(config: &Config, company: &ProviderConfig, item: &str) -> bool {
    config
        .providers
        .iter()
        .any(|p| p.slug != company.slug && desk::belongs_to(p, item))
}

/// What would keep a company's record as a change or claim would leave it from being saved,
/// in the writer's words.
fn record_problems(
    tx: &Tx<'_>,
    config: &Config,
    record: &ProviderConfig,
    lang: Language,
) -> Result<Vec<String>, PipelineError> {
    let words = texts::desk_words(lang);
    Ok(registry::problems_in(tx, record, &config.domain)?
        .iter()
        .map(|p| words.record(p))
        .collect())
}

/// The addresses of a company's record that another registered company has, each as a
/// problem: what a claim may not take.
fn others_in_record(config: &Config, company: &ProviderConfig, lang: Language) -> Vec<String> {
    let words = texts::desk_words(lang);
    company
        .routes
        .iter()
        .chain(company.rules.iter().map(|r| &r.route))
        .chain(&company.representatives)
        .filter(|item| another_companys(config, company, item))
        .map(|item| words.taken(item))
        .collect()
}

fn refuse_change(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    asked: &Asked<'_>,
    company: &ProviderConfig,
    problems: Vec<String>,
) -> Result<String, PipelineError> {
    let outcome = format!(
        "company desk: {}: change refused: {}",
        company.slug,
        problems.join("; ")
    );
    tell_done(tx, ctx, asked, company, &[], &problems)?;
    Ok(outcome)
}

/// Tells the writer of a change what became of it: made (`changes`), or not (for `problems`,
/// or, with none, cancelled or lapsed).
fn tell_done(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    asked: &Asked<'_>,
    company: &ProviderConfig,
    changes: &[String],
    problems: &[String],
) -> Result<(), PipelineError> {
    let (subject, body) = texts::letter(&texts::DeskDone {
        lang: asked.lang,
        company: &company.name,
        applied: !changes.is_empty(),
        changes,
        problems,
        page: &ctx.config.company_link(&company.slug),
    })?;
    reply(tx, ctx, asked, desk_address(ctx.config), subject, body)
}

/// The commands that could not be applied, each with why, in the writer's language.
fn skipped_lines(skipped: &[Skipped], lang: Language) -> Vec<String> {
    let words = texts::desk_words(lang);
    skipped
        .iter()
        .map(|s| {
            let why = match s {
                Skipped::AlreadyThere(_) => &words.already_there,
                Skipped::NotThere(_) => &words.not_there,
                Skipped::NameByOperator(_) => &words.name_by_operator,
            };
            format!("{} ({why})", s.command().line(lang))
        })
        .collect()
}

fn reply(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    asked: &Asked<'_>,
    from: String,
    subject: String,
    body: String,
) -> Result<(), PipelineError> {
    outgoing::queue(
        tx,
        ctx,
        &desk_letter(from, asked.sender, (subject, body), Some(asked.msg)),
        Sending::new(OutboxPurpose::Desk).for_message(asked.msg.entry.id),
    )
}

/// A company not registered, or registered without this address: a claim for the operator.
fn claim(tx: &Tx<'_>, ctx: &Context<'_>, asked: &Asked<'_>) -> Result<String, PipelineError> {
    let domain = asked
        .sender
        .rsplit_once('@')
        .map(|(_, d)| d.to_lowercase())
        .unwrap_or_default();
    if mailbox::is_public_mailbox_domain(&domain) {
        return not_taken(
            tx,
            ctx,
            asked.msg,
            asked.sender,
            asked.lang,
            NotTaken::PublicMailbox(domain),
        );
    }
    let subject = &asked.msg.mail.subject;
    let tag = route::find_tag(subject, &ctx.config.providers);
    let tagged = match &tag {
        Tag::Known { slug, .. } => ctx.config.provider(slug),
        Tag::Unknown { tag, .. } => ctx.config.providers.by_name(tag),
        _ => None,
    };
    let named = match &tag {
        Tag::Unknown { tag, .. } => Some(tag.as_str()),
        _ => None,
    };
    let Some(proposed) = desk::claim(asked.sender, named, asked.commands) else {
        return Ok("company desk: claim without a sender domain".into());
    };
    // A company registered already, named by the claim or holding the writer's domain: the
    // claim is to be recognised as it.
    let registered = tagged
        .or_else(|| ctx.config.provider(&proposed.slug))
        .or_else(|| ctx.config.providers.by_name(&proposed.name))
        .or_else(|| {
            ctx.config
                .providers
                .iter()
                .find(|p| desk::belongs_to(p, &domain))
        });
    let kind = match registered {
        Some(_) => RequestKind::Join,
        None => RequestKind::Claim,
    };
    let mut proposed = match registered {
        Some(company) => {
            let mut joined = company.clone();
            if !joined.representatives.contains(&domain) {
                joined.representatives.push(domain.clone());
            }
            joined
        }
        None => proposed,
    };
    if kind == RequestKind::Claim {
        take_waiting_names(tx, ctx.config, &mut proposed)?;
    }
    let mut problems = record_problems(tx, ctx.config, &proposed, asked.lang)?;
    problems.extend(others_in_record(ctx.config, &proposed, asked.lang));
    // A join applies none of its lines (it asks for the writer's domain); a claim applies them.
    if kind == RequestKind::Claim {
        let commands: Vec<&Command> = asked.commands.iter().collect();
        problems.extend(mail_problems(
            tx,
            ctx.config,
            &proposed,
            asked.sender,
            &commands,
            kind,
            asked.lang,
        )?);
    }
    // Said once, though two checks find it.
    let mut seen = HashSet::new();
    problems.retain(|p| seen.insert(p.clone()));
    if !problems.is_empty() {
        return not_taken(
            tx,
            ctx,
            asked.msg,
            asked.sender,
            asked.lang,
            NotTaken::Problems(problems),
        );
    }
    // Counted by the signing domain: its subdomains' addresses are one writer.
    let signer = asked.signer.as_deref().unwrap_or(&domain);
    let earlier = tx.pending_claims_under(signer)?;
    if earlier >= PENDING_CLAIMS_A_DOMAIN {
        return not_taken(
            tx,
            ctx,
            asked.msg,
            asked.sender,
            asked.lang,
            NotTaken::TooManyClaims,
        );
    }
    let waiting = waiting_for(tx, &proposed)?;
    let (id, replaced) = tx.add_request(
        &NewRequest {
            kind,
            slug: &proposed.slug,
            sender: asked.sender,
            language: asked.lang.code(),
            record: &proposed.to_record(),
            commands: "",
            evidence: &asked.evidence,
            journal_id: Some(asked.msg.entry.id),
        },
        ctx.now,
    )?;
    let (subject, body) = texts::letter(&texts::DeskClaim {
        lang: asked.lang,
        registered: registered.is_some(),
        waiting,
        settings: settings(ctx.config, &proposed),
        desk: &desk_address(ctx.config),
    })?;
    reply(tx, ctx, asked, desk_address(ctx.config), subject, body)?;
    if replaced || earlier > 0 {
        // The operator heard of this domain's claim already; `providers pending` lists them
        // all as they are now.
        return Ok(format!(
            "company desk: claim {id} for {} waits beside its domain's earlier ones",
            proposed.slug
        ));
    }
    let operator_lang = ctx.config.language;
    let (subject, body) = texts::letter(&texts::OperatorClaim {
        lang: operator_lang,
        id,
        name: &proposed.name,
        slug: &proposed.slug,
        registered: registered.is_some(),
        sender: asked.sender,
        evidence: &asked.evidence,
        waiting,
        record: &proposed.to_record(),
    })?;
    outgoing::tell_operator(
        tx,
        ctx.config,
        OutboxPurpose::Operator,
        subject,
        body,
        ctx.now,
    )?;
    Ok(format!(
        "company desk: claim {id} for {} waits for the operator",
        proposed.slug
    ))
}

/// Names feedback waits under that are forms of the claimed company's name
/// ([`desk::own_name`]: `[ACME]`, `[Acme Finland]` for Acme Oy) become its aliases, so that
/// approving the claim forwards that feedback too; a name another company has is left alone.
fn take_waiting_names(
    tx: &Tx<'_>,
    config: &Config,
    proposed: &mut ProviderConfig,
) -> Result<(), PipelineError> {
    for waiting in tx.unregistered_companies()?.into_iter().take(1_000) {
        let folded = fold(&waiting.company);
        let ours = desk::own_name(proposed, &waiting.company);
        let named = [&proposed.slug, &proposed.name]
            .into_iter()
            .chain(&proposed.aliases)
            .any(|n| fold(n) == folded);
        if !ours || named {
            continue;
        }
        let mut with = proposed.clone();
        with.aliases.push(waiting.company);
        if registry::problems_in(tx, &with, &config.domain)?.is_empty() {
            *proposed = with;
        }
        if proposed.aliases.len() >= 5 {
            break;
        }
    }
    Ok(())
}

/// How many public threads wait for the company `proposed` would be.
fn waiting_for(tx: &Tx<'_>, proposed: &ProviderConfig) -> Result<usize, PipelineError> {
    let alone = Companies::indexed(vec![proposed.clone()]);
    Ok(tx
        .waiting_unregistered()?
        .iter()
        .filter(|w| alone.by_name(&w.company).is_some())
        .count())
}

/// Mail to `k+TOKEN@`: the representative says yes, or no, to the change they asked for.
pub(super) fn confirm_change(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    msg: &Message<'_>,
    evidence: Option<&Evidence>,
    id: i64,
) -> Result<String, PipelineError> {
    if let Some(reason) = msg.hold_reason(tx, ctx)? {
        return Ok(format!(
            "company desk: answer to change {id} not taken: {reason}"
        ));
    }
    let Some(request) = tx.request(id)?.filter(|r| r.kind == RequestKind::Change) else {
        return Ok(format!("company desk: change {id}: no such request"));
    };
    // The same address, signed again: the token alone could be read over someone's shoulder.
    if msg.sender().as_deref() != Some(&request.sender) {
        return Ok(format!(
            "company desk: answer to change {id} not taken: not from its writer"
        ));
    }
    let lang = Language::from_code(&request.language).unwrap_or(ctx.config.language);
    if let Err(why) = signed_by_sender(evidence) {
        return not_taken(tx, ctx, msg, &request.sender, lang, why);
    }
    let confirmation = ctx.key.address(Purpose::DeskChange, id, &ctx.config.domain);
    if let Err(why) = meant_for(msg, evidence, &[confirmation], ctx.now) {
        return Ok(format!(
            "company desk: answer to change {id} not taken: {why}"
        ));
    }
    let asked = Asked {
        msg,
        sender: &request.sender,
        lang,
        evidence: describe(evidence),
        signer: evidence.and_then(|e| e.domain.clone()),
        commands: &[],
        not_understood: &[],
    };
    let company = stored(tx, &request.slug)?;
    let name = company
        .as_ref()
        .map_or(request.slug.as_str(), |c| c.name.as_str());
    let words = texts::desk_words(lang);
    match request.state.as_str() {
        "pending" => {}
        "replaced" => {
            unclear(tx, ctx, &asked, name, &words.replaced)?;
            return Ok(format!(
                "company desk: change {id} was replaced by a newer one"
            ));
        }
        // Applied or cancelled: its writer was told so.
        state => return Ok(format!("company desk: change {id} is {state} already")),
    }
    let writer = actor(&request.sender);
    let cancel = |why: &str| tx.decide_request(id, "cancelled", &writer, Some(why), ctx.now);
    let Some(company) = company else {
        cancel("company removed")?;
        return Ok(format!(
            "company desk: change {id}: the company is no longer registered"
        ));
    };
    // Removed from the company since they asked: their change is not theirs to make.
    if !speaks_for(&company, &request.sender) {
        cancel("its writer no longer speaks for the company")?;
        return Ok(format!(
            "company desk: change {id} cancelled: its writer no longer speaks for {}",
            company.slug
        ));
    }
    let text = crate::mail::reply::extract_answer(&msg.mail.text, &[]).text;
    let answer = match desk::answer(&text, lang) {
        Answer::Unclear => desk::answer(&route::subject_title(&msg.mail.subject), lang),
        answer => answer,
    };
    let late = ctx.now - request.created_at > CONFIRM_WITHIN;
    if answer == Answer::Unclear && !late {
        unclear(tx, ctx, &asked, &company.name, &words.unclear)?;
        return Ok(format!(
            "company desk: change {id}: the answer says neither yes nor no; still pending"
        ));
    }
    let commands: Option<Vec<Command>> = serde_json::from_str(&request.commands).ok();
    let (Answer::Yes, false, Some(commands)) = (answer, late, commands) else {
        let why = if late { "too late" } else { "declined" };
        cancel(why)?;
        tell_done(tx, ctx, &asked, &company, &[], &[])?;
        return Ok(format!("company desk: change {id} cancelled: {why}"));
    };
    // The registry may have changed in the days the change waited.
    let done: Vec<&Command> = commands.iter().collect();
    let problems = mail_problems(
        tx,
        ctx.config,
        &company,
        &request.sender,
        &done,
        RequestKind::Change,
        lang,
    )?;
    if !problems.is_empty() {
        cancel(&problems.join("; "))?;
        return refuse_change(tx, ctx, &asked, &company, problems);
    }
    let (after, _) = desk::apply(&company, &commands);
    match registry::save_in(
        tx,
        ctx.config,
        std::slice::from_ref(&after),
        Expect::Registered,
        &writer,
        ctx.now,
    ) {
        Ok(_) => {}
        Err(RegistryError::Invalid(problems)) => {
            // The operator's record in the registry's words, the writer's letter in theirs.
            let said: Vec<String> = problems.iter().map(ToString::to_string).collect();
            cancel(&said.join("; "))?;
            let words = texts::desk_words(lang);
            let problems = problems.iter().map(|p| words.record(p)).collect();
            return refuse_change(tx, ctx, &asked, &company, problems);
        }
        Err(RegistryError::Store(e)) => return Err(e.into()),
        Err(e) => return Ok(format!("company desk: change {id} not applied: {e}")),
    }
    tx.decide_request(id, "applied", &writer, None, ctx.now)?;
    // Whoever this change removed from the company can no longer confirm what they asked.
    for other in tx.pending_changes(&company.slug)? {
        if !speaks_for(&after, &other.sender) {
            tx.decide_request(
                other.id,
                "cancelled",
                &writer,
                Some("its writer no longer speaks for the company"),
                ctx.now,
            )?;
        }
    }
    let changes: Vec<String> = commands.iter().map(|c| c.line(lang)).collect();
    tell_done(tx, ctx, &asked, &company, &changes, &[])?;
    let told = tell_the_others(tx, ctx, &request, &company, &after, &commands)?;
    Ok(format!(
        "company desk: change {id} to {} applied; {told} other addresses told",
        company.slug
    ))
}

/// Tells the writer of a change that their answer settled nothing, and why.
fn unclear(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    asked: &Asked<'_>,
    company: &str,
    why: &str,
) -> Result<(), PipelineError> {
    let (subject, body) = texts::letter(&texts::DeskUnclear {
        lang: asked.lang,
        company,
        why,
    })?;
    reply(tx, ctx, asked, desk_address(ctx.config), subject, body)
}

/// Tells every other address of the company, before and after the change, what changed and
/// who asked: a mailbox taken over cannot change the company without the others knowing.
fn tell_the_others(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    request: &Request,
    before: &ProviderConfig,
    after: &ProviderConfig,
    commands: &[Command],
) -> Result<usize, PipelineError> {
    let mut others: Vec<String> = Vec::new();
    for c in [before, after] {
        let addresses = c
            .routes
            .iter()
            .chain(c.rules.iter().map(|r| &r.route))
            .chain(c.representatives.iter().filter(|r| r.contains('@')));
        for a in addresses {
            let a = a.to_lowercase();
            if a != request.sender && !others.contains(&a) {
                others.push(a);
            }
        }
    }
    others.truncate(TOLD_AT_MOST);
    let lang = ctx.config.language;
    let changes: Vec<String> = commands.iter().map(|c| c.line(lang)).collect();
    let (subject, body) = texts::letter(&texts::DeskAnnounce {
        lang,
        company: &after.name,
        sender: &request.sender,
        changes: &changes,
        operator: &mailbox::at(mailbox::ABUSE, &ctx.config.domain),
        page: &ctx.config.company_link(&after.slug),
    })?;
    for to in &others {
        outgoing::queue(
            tx,
            ctx,
            &desk_letter(
                desk_address(ctx.config),
                to,
                (subject.clone(), body.clone()),
                None,
            ),
            Sending::new(OutboxPurpose::Desk),
        )?;
    }
    Ok(others.len())
}

/// Why the operator's decision on a claim was not taken.
#[derive(Debug, thiserror::Error)]
pub enum DecisionError {
    #[error("no claim {0}; `nonono providers pending` lists them")]
    NoClaim(i64),
    #[error("claim {0} is {1} already")]
    Decided(i64, String),
    #[error(
        "claim {0} asks to register {1}, which was registered since; refuse it, or add the \
         writer's domain with `nonono providers edit {1} --add-representative DOMAIN`"
    )]
    RegisteredSince(i64, String),
    #[error("claim {0} asks for what another company has: {1}; refuse it")]
    Taken(i64, String),
    #[error("claim {0} asks to join {1}, which was removed since; refuse it")]
    RemovedSince(i64, String),
    #[error("claim {0}: its record does not read: {1}")]
    Unreadable(i64, String),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// What approving a claim did.
#[derive(Debug)]
pub struct Approved {
    pub company: ProviderConfig,
    /// Registered already: the claim added the writer's domain as a representative.
    pub joined: bool,
}

/// The operator approves claim `id`: the company is registered (or its record takes the
/// writer's domain), on `plan` when given, and the writer is told. The caller then makes the
/// threads follow the registry ([`registry::follow`]), which forwards the feedback that waited.
pub fn approve(
    store: &mut Store,
    config: &Config,
    key: &TokenKey,
    id: i64,
    plan: Option<Plan>,
    operator: &str,
    now: i64,
) -> Result<Approved, DecisionError> {
    let tx = store.begin()?;
    let (request, claimed) = pending_claim(&tx, id)?;
    // A join adds its writer's domain to the company as it is now, and replaces nothing. A
    // claim for a new company that was registered since (by another claim, or by the
    // operator) is no join: the operator decides that knowing it.
    let current = stored(&tx, &claimed.slug)?;
    let joined = request.kind == RequestKind::Join;
    let mut company = match (current, joined) {
        (Some(mut company), true) => {
            let domain = request.sender.rsplit_once('@').map_or("", |(_, d)| d);
            if !company.representatives.iter().any(|r| r == domain) {
                company.representatives.push(domain.to_owned());
            }
            company
        }
        (None, false) => {
            let taken = others_in_record(config, &claimed, config.language);
            if !taken.is_empty() {
                return Err(DecisionError::Taken(id, taken.join("; ")));
            }
            claimed
        }
        (Some(_), false) => return Err(DecisionError::RegisteredSince(id, claimed.slug)),
        (None, true) => return Err(DecisionError::RemovedSince(id, claimed.slug)),
    };
    if let Some(plan) = plan {
        company.plan = plan;
    }
    registry::save_in(
        &tx,
        config,
        std::slice::from_ref(&company),
        Expect::Any,
        &format!("{}, claimed by {}", operator, actor(&request.sender)),
        now,
    )?;
    tx.decide_request(id, "approved", operator, None, now)?;
    let waiting = waiting_for(&tx, &company)?;
    let lang = Language::from_code(&request.language).unwrap_or(config.language);
    let (subject, body) = texts::letter(&texts::DeskDecision {
        lang,
        approved: true,
        reason: "",
        waiting,
        settings: settings(config, &company),
        desk: &desk_address(config),
    })
    .map_err(PipelineError::from)?;
    tell_claimer(&tx, config, key, &request, subject, body, now)?;
    tx.commit()?;
    Ok(Approved { company, joined })
}

/// The operator refuses claim `id` for `reason`, which the writer is told.
pub fn refuse(
    store: &mut Store,
    config: &Config,
    key: &TokenKey,
    id: i64,
    reason: &str,
    operator: &str,
    now: i64,
) -> Result<Request, DecisionError> {
    let tx = store.begin()?;
    let (request, company) = pending_claim(&tx, id)?;
    tx.decide_request(id, "refused", operator, Some(reason), now)?;
    let lang = Language::from_code(&request.language).unwrap_or(config.language);
    let (subject, body) = texts::letter(&texts::DeskDecision {
        lang,
        approved: false,
        reason,
        waiting: 0,
        settings: settings(config, &company),
        desk: &desk_address(config),
    })
    .map_err(PipelineError::from)?;
    tell_claimer(&tx, config, key, &request, subject, body, now)?;
    tx.commit()?;
    Ok(request)
}

/// Claim `id`, waiting for the operator, and the company it proposes.
fn pending_claim(tx: &Tx<'_>, id: i64) -> Result<(Request, ProviderConfig), DecisionError> {
    let request = match tx.request(id)? {
        Some(r) if r.kind != RequestKind::Change && r.state == "pending" => r,
        Some(r) if r.kind != RequestKind::Change => {
            return Err(DecisionError::Decided(id, r.state));
        }
        _ => return Err(DecisionError::NoClaim(id)),
    };
    let company = ProviderConfig::from_record(&request.record)
        .map_err(|e| DecisionError::Unreadable(id, e.message().to_owned()))?;
    Ok((request, company))
}

fn tell_claimer(
    tx: &Tx<'_>,
    config: &Config,
    key: &TokenKey,
    request: &Request,
    subject: String,
    body: String,
    now: i64,
) -> Result<(), PipelineError> {
    let ctx = Context::scheduled(config, key, now);
    outgoing::queue(
        tx,
        &ctx,
        &desk_letter(desk_address(config), &request.sender, (subject, body), None),
        Sending::new(OutboxPurpose::Desk),
    )
}
