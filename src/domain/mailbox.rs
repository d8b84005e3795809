//! The fixed addresses at our domain: one table that writes them and reads them
//! ([`crate::domain::route`]), and the local parts no company may take as its slug.

/// New feedback routed by its subject tag; our general sender address.
pub const FEEDBACK: &str = "palaute";
/// [`FEEDBACK`] as an English writer guesses it.
pub const FEEDBACK_EN: &str = "feedback";
/// The operator's; what every mail server must have.
pub const POSTMASTER: &str = "postmaster";
/// The operator's too.
pub const ABUSE: &str = "abuse";
/// The envelope sender of mail that names no message of ours.
pub const BOUNCE: &str = "bounce";
/// Before a thread's id: a reader had the same problem.
pub const SUPPORT: &str = "tuki+";
/// Before a company's slug: someone follows it (read in [`crate::domain::route`]).
pub const FOLLOW: &str = "follow+";
/// The company desk: where companies write to claim their page and keep it current.
pub const COMPANY_DESK: &str = "yritys";
/// [`COMPANY_DESK`] as an English writer guesses it.
pub const COMPANY_DESK_EN: &str = "company";

/// `LOCAL@DOMAIN` for a fixed address.
pub fn at(local: &str, domain: &str) -> String {
    format!("{local}@{domain}")
}

/// A company's address: `SLUG@DOMAIN`.
pub fn company(slug: &str, domain: &str) -> String {
    format!("{slug}@{domain}")
}

/// The public address where readers support the thread `thread`.
pub fn support(thread: i64, domain: &str) -> String {
    format!("{SUPPORT}{thread}@{domain}")
}

/// Local parts the gateway uses itself, or that mail software writes to by convention: no
/// company may take one as its slug.
pub const RESERVED: &[&str] = &[
    FEEDBACK,
    FEEDBACK_EN,
    COMPANY_DESK,
    COMPANY_DESK_EN,
    POSTMASTER,
    ABUSE,
    BOUNCE,
    "t",
    "noreply",
    "no-reply",
    "mailer-daemon",
    "hostmaster",
    "webmaster",
    "www",
    // RFC 2142's roles, and the administrator's usual names.
    "root",
    "admin",
    "administrator",
    "info",
    "security",
    "noc",
    "ftp",
    "uucp",
    "usenet",
    "news",
];

/// Domains where anyone can get an address: as a bare representative domain, each of their
/// users would answer as the company.
pub const PUBLIC_MAILBOX_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "outlook.fi",
    "hotmail.com",
    "hotmail.fi",
    "live.com",
    "live.fi",
    "msn.com",
    "mail.com",
    "pm.me",
    "yahoo.com",
    "icloud.com",
    "me.com",
    "aol.com",
    "gmx.com",
    "gmx.net",
    "proton.me",
    "protonmail.com",
    "yandex.com",
    "mail.ru",
    "luukku.com",
    "suomi24.fi",
    "kolumbus.fi",
    "elisanet.fi",
    "saunalahti.fi",
    "mac.com",
    "rocketmail.com",
    "ya.ru",
    "t-online.de",
    "zoho.com",
    "hey.com",
    "duck.com",
    "email.com",
    "tutamail.com",
    "aim.com",
];

/// The first label of the free mail services' domains in every country (`hotmail.se`,
/// `yahoo.co.uk`, `gmx.de`).
const FREE_MAIL_BRANDS: &[&str] = &[
    "gmail",
    "googlemail",
    "hotmail",
    "outlook",
    "live",
    "msn",
    "yahoo",
    "ymail",
    "aol",
    "gmx",
    "web",
    "mail",
    "icloud",
    "proton",
    "protonmail",
    "yandex",
    "tutanota",
    "tuta",
    "zohomail",
    "fastmail",
    "posteo",
    "mailbox",
    "seznam",
    "libero",
    "laposte",
    "orange",
    "free",
    "wp",
    "onet",
    "interia",
    "rambler",
    "inbox",
    "qq",
    "163",
    "126",
    "naver",
    "rediffmail",
];

/// Second-level labels under which anyone registers (`co.uk`, `com.au`).
const OPEN_SECOND_LEVELS: &[&str] = &[
    "co", "com", "net", "org", "ac", "gov", "edu", "ltd", "plc", "or", "ne", "go", "nom", "sch",
];

/// Whether anyone can have an address at `domain`: a free mail service's domain in any
/// country, or a public suffix alone (`fi`, `co.uk`). As a representative domain, each of its
/// users would answer as the company; as a claim's, anyone could claim.
pub fn is_public_mailbox_domain(domain: &str) -> bool {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    if PUBLIC_MAILBOX_DOMAINS.contains(&domain.as_str()) {
        return true;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let is_suffix = |labels: &[&str]| match labels {
        [_] => true,
        [second, country] => OPEN_SECOND_LEVELS.contains(second) && country.len() == 2,
        _ => false,
    };
    is_suffix(&labels)
        || labels
            .split_first()
            .is_some_and(|(first, rest)| FREE_MAIL_BRANDS.contains(first) && is_suffix(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Helper-11: `hotmail.se`, `yahoo.co.uk` and `co.uk` passed as representative domains.
    #[test]
    fn free_mail_in_every_country_and_public_suffixes_are_anyones() {
        for d in [
            "gmail.com",
            "hotmail.se",
            "yahoo.co.uk",
            "gmx.de",
            "web.de",
            "co.uk",
            "com.au",
            "fi",
            "outlook.fi.",
        ] {
            assert!(is_public_mailbox_domain(d), "{d}");
        }
        for d in [
            "elisa.fi",
            "mail.elisa.fi",
            "acme.co.uk",
            "elisa.zendesk.com",
            "yahoo.example.fi",
        ] {
            assert!(!is_public_mailbox_domain(d), "{d}");
        }
    }
}
