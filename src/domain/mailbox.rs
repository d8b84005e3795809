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
];
