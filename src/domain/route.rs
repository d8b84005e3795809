//! Domain core for routing: which recipient addresses exist, which company a message is about,
//! and which of the company's routes gets it.
//!
//! Pure functions over the config and the message; no I/O.

use crate::config::{Companies, Config, ProviderConfig};
use crate::domain::mailbox;
use crate::domain::token::{Purpose, TokenKey};

/// What a recipient address at our domain stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    /// `palaute@` / `feedback@`: new feedback routed by its subject tag.
    Feedback,
    /// `SLUG@`: new feedback to this provider.
    Provider(String),
    /// `t+TOKEN@`: a reply into a thread, from the participant with this id.
    Reply(i64),
    /// `c+TOKEN@`: the writer confirms the held thread with this id.
    Confirm(i64),
    /// `e+TOKEN@`: the participant with this id asks to erase what they wrote.
    Erase(i64),
    /// `s+TOKEN@`: the writer with this participant id says whether their problem was solved.
    Solved(i64),
    /// `tuki+ID@`: a reader had the same problem and supports the thread with this id. Public:
    /// the thread page shows it; support counts once confirmed.
    Support(i64),
    /// `v+TOKEN@`: a reader confirms the support with this id.
    ConfirmSupport(i64),
    /// `follow+SLUG@`: someone wants a daily digest of this provider's threads and answers.
    Follow(String),
    /// `f+TOKEN@`: the follower with this id confirms.
    ConfirmFollow(i64),
    /// `u+TOKEN@`: the follower with this id leaves (the digest's List-Unsubscribe mailto).
    Unsubscribe(i64),
    /// `p+TOKEN@`: the writer of the reply held in this journal entry says publish it.
    Publish(i64),
    /// `yritys@` / `company@`: a company claims its page, or changes it, by signed mail.
    CompanyDesk,
    /// `k+TOKEN@`: a representative says yes (or no) to the change with this request id.
    ConfirmChange(i64),
    /// `postmaster@` / `abuse@`: for the operator.
    Operator,
    /// `b+TOKEN@`: the envelope sender of one message of ours, where its delivery report
    /// arrives (the outbox row id); `bounce@` without a token has none.
    Bounce(Option<i64>),
}

/// Why a recipient is refused at `RCPT TO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("we only accept mail for our own domain; this is not an open relay")]
    OtherDomain,
    #[error("no such address here; write to palaute@ with the company in brackets in the subject")]
    UnknownLocalPart,
    #[error("this reply address is not valid; reply to the latest mail you received from us")]
    BadToken,
}

/// Decides what a recipient address is, or why it is refused.
pub fn recipient(address: &str, config: &Config, key: &TokenKey) -> Result<Recipient, Refusal> {
    let address = crate::mail::normalize_address(address);
    let Some((local, domain)) = address.rsplit_once('@') else {
        return Err(Refusal::UnknownLocalPart);
    };
    if !domain.eq_ignore_ascii_case(&config.domain) {
        return Err(Refusal::OtherDomain);
    }
    if let Some(read) = key.read(local) {
        let (purpose, id) = read.map_err(|_| Refusal::BadToken)?;
        return Ok(match purpose {
            Purpose::Participant => Recipient::Reply(id),
            Purpose::Erase => Recipient::Erase(id),
            Purpose::Solved => Recipient::Solved(id),
            Purpose::Follow => Recipient::ConfirmFollow(id),
            Purpose::Unsubscribe => Recipient::Unsubscribe(id),
            Purpose::Support => Recipient::ConfirmSupport(id),
            Purpose::Confirm => Recipient::Confirm(id),
            Purpose::Publish => Recipient::Publish(id),
            Purpose::DeskChange => Recipient::ConfirmChange(id),
            Purpose::Bounce => Recipient::Bounce(Some(id)),
        });
    }
    if let Some(thread) = local.strip_prefix(mailbox::SUPPORT) {
        return thread
            .parse()
            .map(Recipient::Support)
            .map_err(|_| Refusal::UnknownLocalPart);
    }
    if let Some(slug) = local.strip_prefix(mailbox::FOLLOW) {
        return config
            .provider(slug)
            .map(|p| Recipient::Follow(p.slug.clone()))
            .ok_or(Refusal::UnknownLocalPart);
    }
    match local {
        mailbox::FEEDBACK | mailbox::FEEDBACK_EN => Ok(Recipient::Feedback),
        mailbox::COMPANY_DESK | mailbox::COMPANY_DESK_EN => Ok(Recipient::CompanyDesk),
        mailbox::POSTMASTER | mailbox::ABUSE => Ok(Recipient::Operator),
        mailbox::BOUNCE => Ok(Recipient::Bounce(None)),
        slug => config
            .provider(slug)
            .map(|p| Recipient::Provider(p.slug.clone()))
            .ok_or(Refusal::UnknownLocalPart),
    }
}

/// A company's address at our domain whose company is no longer registered (removed after the
/// mail was accepted for it): the local part, as the company's name the mail waits for.
pub fn former_company(address: &str, config: &Config) -> Option<String> {
    let address = crate::mail::normalize_address(address);
    let (local, domain) = address.rsplit_once('@')?;
    (domain.eq_ignore_ascii_case(&config.domain)
        && crate::domain::names::is_slug(local)
        && !mailbox::RESERVED.contains(&local)
        && config.provider(local).is_none())
    .then(|| local.to_owned())
}

/// The company a subject names, and the subject with the tag removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tag {
    /// A registered provider; `title` is the subject without the tag.
    Known { slug: String, title: String },
    /// A tag that names no registered provider.
    Unknown { tag: String, title: String },
    /// No tag at all.
    Missing,
}

/// Finds the company tag in a subject: `[Elisa] ...` or `#elisa`.
pub fn find_tag(subject: &str, providers: &Companies) -> Tag {
    let candidates = tag_candidates(subject);
    for (tag, span) in &candidates {
        if let Some(p) = providers.by_name(tag) {
            return Tag::Known {
                slug: p.slug.clone(),
                title: title_without(subject, span.clone()),
            };
        }
    }
    match candidates.into_iter().next() {
        Some((tag, span)) => Tag::Unknown {
            title: title_without(subject, span),
            tag,
        },
        None => Tag::Missing,
    }
}

/// Every `[tag]` and `#tag` in the subject with its byte span, in order.
fn tag_candidates(subject: &str) -> Vec<(String, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    let mut rest = 0;
    while let Some(open) = subject[rest..].find('[') {
        let open = rest + open;
        let Some(close) = subject[open..].find(']') else {
            break;
        };
        let close = open + close;
        let inner = subject[open + 1..close].trim();
        if !inner.is_empty() {
            out.push((inner.to_owned(), open..close + 1));
        }
        rest = close + 1;
    }
    for (i, _) in subject.match_indices('#') {
        let word_end = subject[i + 1..]
            .find(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_'))
            .map_or(subject.len(), |n| i + 1 + n);
        let at_word_start = i == 0 || subject[..i].ends_with(char::is_whitespace);
        if at_word_start && word_end > i + 1 {
            out.push((subject[i + 1..word_end].to_owned(), i..word_end));
        }
    }
    out.sort_by_key(|(_, span)| span.start);
    out
}

fn title_without(subject: &str, span: std::ops::Range<usize>) -> String {
    let joined = format!("{} {}", &subject[..span.start], &subject[span.end..]);
    joined.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Where a provider's feedback goes, and the public label of who handles it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteChoice {
    pub address: String,
    pub label: Option<String>,
}

/// Picks the route: the first topic rule whose pattern matches subject or body, else the
/// provider's first route.
pub fn choose_route(provider: &ProviderConfig, subject: &str, body: &str) -> RouteChoice {
    for rule in &provider.rules {
        if rule.matches(&[subject, body]) {
            return RouteChoice {
                address: rule.route.to_lowercase(),
                label: Some(rule.label.clone()),
            };
        }
    }
    RouteChoice {
        address: provider
            .routes
            .first()
            .cloned()
            .unwrap_or_default()
            .to_lowercase(),
        label: None,
    }
}

/// Whether a sender address belongs to one of the provider's representatives
/// (an address listed exactly, or any address at a listed domain).
pub fn is_representative(provider: &ProviderConfig, sender: &str) -> bool {
    let sender = sender.to_lowercase();
    let domain = sender.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
    provider.representatives.iter().any(|r| {
        let r = r.to_lowercase();
        if r.contains('@') {
            r == sender
        } else {
            r == domain
        }
    })
}

/// The thread title a reply's subject carries: without the prefixes mail clients add when
/// answering or forwarding, in the languages they write them (`Re:`, `VS:`, `SV:`, `AW:`,
/// `Fwd:`, `VL:` …, repeated or bracketed) and without the `Palaute:`/`Feedback:` our forward
/// put before the title.
pub fn subject_title(subject: &str) -> String {
    const PREFIXES: &[&str] = &[
        "re", "vs", "sv", "aw", "antw", "odp", "ynt", "rif", "r", "res", "ref", "fw", "fwd", "vl",
        "vb", "tr", "wg", "rv", "doorst", "enc", "palaute", "feedback",
    ];
    let mut rest = subject.trim();
    loop {
        let unbracketed = rest.trim_start_matches('[');
        let Some((head, tail)) = unbracketed.split_once([':', '：']) else {
            break;
        };
        // "Re[2]:", "AW(3):"
        let word = head
            .trim()
            .trim_end_matches(|c: char| "[]()0123456789".contains(c));
        if !PREFIXES.contains(&word.trim().to_lowercase().as_str()) {
            break;
        }
        rest = tail.trim_start().trim_start_matches(']').trim_start();
    }
    rest.to_owned()
}

/// Whether automatic mail may be sent to `address`: a plain address at a public domain name.
/// Never an address literal (`x@[10.0.0.5]`), `localhost` or the special-use names that lead
/// nowhere public (`.localhost`, `.local`, `.invalid`, RFC 6761/6762), a name with no dot, or
/// our own domain: such a From only turns the gateway against a host it should not reach.
pub fn may_write_to(address: &str, own_domain: &str) -> bool {
    if !crate::mail::write::is_address(address) {
        return false;
    }
    let domain = address
        .rsplit_once('@')
        .map_or("", |(_, d)| d)
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let own = own_domain.to_ascii_lowercase();
    let within = |parent: &str| domain == parent || domain.ends_with(&format!(".{parent}"));
    domain.contains('.')
        && !domain.starts_with('[')
        && !["localhost", "local", "invalid"].iter().any(|p| within(p))
        && !within(&own)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::parse(
            r#"
            domain = "nonono.localhost"
            [[providers]]
            slug = "elisa"
            name = "Elisa"
            aliases = ["Elisa Oyj"]
            routes = ["asiakaspalvelu@elisa.example"]
            representatives = ["elisa.example", "pr@agency.example"]
            [[providers.rules]]
            pattern = "lasku|laskutus"
            route = "laskutus@elisa.example"
            label = "Laskutus"
            [[providers]]
            slug = "kierratyskeskus"
            name = "Kierrätyskeskus"
            routes = ["info@kierratys.example"]
            "#,
        )
        .unwrap()
    }

    #[test]
    fn recipients_are_recognised_or_refused() {
        let c = config();
        let key = TokenKey::new(b"k");
        assert_eq!(
            recipient("Palaute@Nonono.Localhost", &c, &key),
            Ok(Recipient::Feedback)
        );
        assert_eq!(
            recipient("feedback@nonono.localhost", &c, &key),
            Ok(Recipient::Feedback)
        );
        assert_eq!(
            recipient("<elisa@nonono.localhost>", &c, &key),
            Ok(Recipient::Provider("elisa".into()))
        );
        let t = key.issue(7);
        assert_eq!(
            recipient(&format!("t+{t}@nonono.localhost"), &c, &key),
            Ok(Recipient::Reply(7))
        );
        assert_eq!(
            recipient("t+abc@nonono.localhost", &c, &key),
            Err(Refusal::BadToken)
        );
        assert_eq!(
            recipient("nobody@nonono.localhost", &c, &key),
            Err(Refusal::UnknownLocalPart)
        );
        assert_eq!(
            recipient("palaute@gmail.com", &c, &key),
            Err(Refusal::OtherDomain)
        );
    }

    #[test]
    fn tags_match_ignoring_case_spacing_and_diacritics() {
        let c = config();
        assert_eq!(
            find_tag("[Elisa] Lasku tuli kahdesti", &c.providers),
            Tag::Known {
                slug: "elisa".into(),
                title: "Lasku tuli kahdesti".into()
            }
        );
        assert_eq!(
            find_tag("Re: [kierratyskeskus] Hyvä palvelu", &c.providers),
            Tag::Known {
                slug: "kierratyskeskus".into(),
                title: "Re: Hyvä palvelu".into()
            }
        );
        assert_eq!(
            find_tag("Lasku tuli kahdesti #elisa", &c.providers),
            Tag::Known {
                slug: "elisa".into(),
                title: "Lasku tuli kahdesti".into()
            }
        );
        assert_eq!(
            find_tag("[ELISA OYJ] x", &c.providers),
            Tag::Known {
                slug: "elisa".into(),
                title: "x".into()
            }
        );
        assert_eq!(
            find_tag("[Tilausnro 123] [Kierrätys Keskus] kiitos", &c.providers),
            Tag::Known {
                slug: "kierratyskeskus".into(),
                title: "[Tilausnro 123] kiitos".into()
            }
        );
        assert_eq!(
            find_tag("[Acme] huono", &c.providers),
            Tag::Unknown {
                tag: "Acme".into(),
                title: "huono".into()
            }
        );
        assert_eq!(find_tag("Hei vaan", &c.providers), Tag::Missing);
        assert_eq!(find_tag("C# ja [ ] ", &c.providers), Tag::Missing);
    }

    #[test]
    fn topic_rules_pick_the_route() {
        let c = config();
        let p = c.provider("elisa").unwrap();
        let r = choose_route(p, "Laskutusvirhe", "");
        assert_eq!(r.address, "laskutus@elisa.example");
        assert_eq!(r.label.as_deref(), Some("Laskutus"));
        assert_eq!(
            choose_route(p, "Verkko ei toimi", "").address,
            "asiakaspalvelu@elisa.example"
        );
    }

    #[test]
    fn representatives_by_address_or_domain() {
        let c = config();
        let p = c.provider("elisa").unwrap();
        assert!(is_representative(p, "Anna@Elisa.Example"));
        assert!(is_representative(p, "pr@agency.example"));
        assert!(!is_representative(p, "other@agency.example"));
        assert!(!is_representative(p, "x@notelisa.example"));
    }

    #[test]
    fn automatic_mail_goes_only_to_public_addresses() {
        for ok in [
            "matti@example.fi",
            "a.b+c@mail.elisa.example",
            "x@sub.example.net",
        ] {
            assert!(may_write_to(ok, "nonono.localhost"), "{ok}");
        }
        for refused in [
            "x@[10.0.0.5]",
            "x@[IPv6:::1]",
            "user@localhost",
            "user@host.localhost",
            "user@printer.local",
            "user@x.invalid",
            "user@intranet",
            "palaute@nonono.localhost",
            "x@Nonono.Test",
            "x@a.nonono.test",
            "",
            "no-at-sign",
            "\"john smith\"@example.net",
        ] {
            assert!(!may_write_to(refused, "nonono.test"), "{refused}");
        }
    }

    #[test]
    fn reply_prefixes_in_many_languages_leave_the_title() {
        for subject in [
            "Re: Palaute: Lasku tuli kahdesti",
            "VS: Palaute: Lasku tuli kahdesti",
            "SV: VS: Palaute: Lasku tuli kahdesti",
            "AW: Feedback: Lasku tuli kahdesti",
            "RE[2]: Palaute: Lasku tuli kahdesti",
            "[Fwd: Palaute: Lasku tuli kahdesti",
            "Lasku tuli kahdesti",
        ] {
            assert_eq!(subject_title(subject), "Lasku tuli kahdesti", "{subject}");
        }
        assert_eq!(subject_title("Huom: kello 12"), "Huom: kello 12");
    }
}
