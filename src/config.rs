//! The operator's configuration: a TOML file read once at start.
//!
//! Every key has a default, so an empty file is a working development setup. [`Config::load`]
//! reports unknown keys by name (serde's `deny_unknown_fields`), and [`Config::validate`]
//! collects every bad value at once, each prefixed with the key it belongs to, so an operator can
//! fix a file in one pass.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::mail::write::{is_address, is_domain};

/// Which language the service writes its mail and pages in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Finnish, the first market.
    #[default]
    Fi,
    /// English.
    En,
}

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The mail domain the gateway receives for (`palaute@DOMAIN`, `t+TOKEN@DOMAIN`).
    pub domain: String,
    /// Where the store, the token secret and the file transport's folder live.
    pub data_dir: PathBuf,
    /// The language of every mail and page.
    pub language: Language,
    /// Where mail to `postmaster@` and `abuse@` is forwarded; unset keeps it in the store only.
    pub operator_address: Option<String>,
    pub smtp: SmtpConfig,
    pub http: HttpConfig,
    pub outbound: OutboundConfig,
    pub trust: TrustConfig,
    pub limits: LimitsConfig,
    /// Days off beyond the Finnish public holidays (`"2026-12-31"`): no working day for any
    /// company's response time.
    pub extra_holidays: Vec<String>,
    pub providers: Vec<ProviderConfig>,
}

/// `[smtp]`: the receiver.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    pub listen: String,
    /// Largest message accepted, advertised as `SIZE`.
    pub max_message_bytes: usize,
    /// Most recipients in one transaction.
    pub max_recipients: usize,
    /// Seconds a client may stay silent before the session is closed.
    pub idle_timeout_secs: u64,
    /// Seconds a whole session may last.
    pub session_timeout_secs: u64,
    /// Most simultaneous sessions from one client address, so one host cannot take every slot
    /// (a smarthost relaying for many may need more).
    pub max_sessions_per_client: usize,
    /// Most simultaneous sessions from one network (an IPv4 /24, an IPv6 /64), so that many
    /// addresses of one network cannot take every slot either.
    pub max_sessions_per_network: usize,
    /// PEM certificate chain for STARTTLS; with `tls_key`, the receiver offers STARTTLS.
    /// Relative paths are under `data_dir`.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for `tls_cert`.
    pub tls_key: Option<PathBuf>,
}

/// `[http]`: the public archive.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    pub listen: String,
    /// The URL the public reaches the archive at; thread links in mail start with it.
    pub public_url: String,
    /// Seconds a client may take to send a request's header, or stay idle between requests.
    pub header_timeout_secs: u64,
    /// Seconds a response may wait for its reader to take more before the connection is
    /// dropped.
    pub write_timeout_secs: u64,
}

/// How outbound mail leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// Deliver to a smarthost over SMTP.
    Smtp,
    /// Write `.eml` files into a folder (development default).
    #[default]
    File,
}

/// `[outbound]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboundConfig {
    pub transport: Transport,
    pub smtp_host: String,
    pub smtp_port: u16,
    /// Folder for the `file` transport; relative paths are under `data_dir`.
    pub dir: PathBuf,
    /// PEM private key that DKIM-signs everything we send (`nonono dkim-keygen` writes one);
    /// relative paths are under `data_dir`. Unset sends unsigned.
    pub dkim_key: Option<PathBuf>,
    /// The DKIM selector: the key is published at `SELECTOR._domainkey.DOMAIN`.
    pub dkim_selector: String,
}

/// `[trust]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrustConfig {
    pub verify_sender_auth: bool,
    pub require_confirmation: bool,
    /// TXT records pinned by name (`"_dmarc.elisa.example" = "v=DMARC1; p=reject"`). When any
    /// are given, sender authentication asks no other DNS: for tests and offline demos.
    pub dns_records: std::collections::BTreeMap<String, String>,
}

/// `[limits]`: `0` turns a limit off.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    pub new_threads_per_address_per_hour: u32,
    pub new_threads_per_ip_per_hour: u32,
    pub messages_per_pair_per_day: u32,
}

/// How much of the feedback a provider's route receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    /// A short notice with the public link.
    Notice,
    /// The whole feedback.
    #[default]
    Full,
}

/// One `[[providers]]` entry: a company that gets feedback.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Lowercase letters, digits and `-`; also the local part `SLUG@DOMAIN`.
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Addresses feedback is sent to; the first is the default route.
    pub routes: Vec<String>,
    /// Addresses or bare domains whose mail counts as the provider's own.
    #[serde(default)]
    pub representatives: Vec<String>,
    #[serde(default = "default_response_days")]
    pub response_days: u32,
    #[serde(default)]
    pub plan: Plan,
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
}

/// `[[providers.rules]]`: topic routing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// Case-insensitive regex over subject and body.
    pub pattern: String,
    /// The address that gets matching feedback.
    pub route: String,
    /// The public name of who handles it.
    pub label: String,
    /// `pattern` compiled once, on first use (validation reports one that does not compile).
    #[serde(skip)]
    compiled: std::sync::OnceLock<Option<regex::Regex>>,
}

impl RuleConfig {
    /// Whether the topic pattern matches any of the texts, ignoring case; a pattern that does
    /// not compile matches nothing.
    pub fn matches(&self, texts: &[&str]) -> bool {
        let compiled = self.compiled.get_or_init(|| {
            regex::RegexBuilder::new(&self.pattern)
                .case_insensitive(true)
                .build()
                .ok()
        });
        compiled
            .as_ref()
            .is_some_and(|re| texts.iter().any(|text| re.is_match(text)))
    }
}

fn default_response_days() -> u32 {
    3
}

impl Default for Config {
    fn default() -> Self {
        Config {
            domain: "nonono.localhost".into(),
            data_dir: "data".into(),
            language: Language::Fi,
            operator_address: None,
            extra_holidays: Vec::new(),
            smtp: SmtpConfig::default(),
            http: HttpConfig::default(),
            outbound: OutboundConfig::default(),
            trust: TrustConfig::default(),
            limits: LimitsConfig::default(),
            providers: Vec::new(),
        }
    }
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            listen: "127.0.0.1:2525".into(),
            max_message_bytes: 25 * 1024 * 1024,
            max_recipients: 20,
            idle_timeout_secs: 300,
            session_timeout_secs: 1800,
            max_sessions_per_client: 20,
            max_sessions_per_network: 64,
            tls_cert: None,
            tls_key: None,
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: "127.0.0.1:8080".into(),
            public_url: "http://127.0.0.1:8080".into(),
            header_timeout_secs: 10,
            write_timeout_secs: 30,
        }
    }
}

impl Default for OutboundConfig {
    fn default() -> Self {
        OutboundConfig {
            transport: Transport::File,
            smtp_host: "127.0.0.1".into(),
            smtp_port: 25,
            dir: "outbox".into(),
            dkim_key: None,
            dkim_selector: "nonono".into(),
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            new_threads_per_address_per_hour: 10,
            new_threads_per_ip_per_hour: 60,
            messages_per_pair_per_day: 50,
        }
    }
}

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("{path}: {}", .problems.join("; "))]
    Invalid {
        path: PathBuf,
        problems: Vec<String>,
    },
}

impl Config {
    /// Reads, parses and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let config = Config::parse(&text).map_err(|message| ConfigError::Syntax {
            path: path.to_owned(),
            message,
        })?;
        let problems = config.validate();
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError::Invalid {
                path: path.to_owned(),
                problems,
            })
        }
    }

    /// Parses TOML text without validating values.
    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim_end().replace('\n', " "))
    }

    /// Every problem with the values, each naming its key; empty when the config is usable.
    pub fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !is_domain(&self.domain) {
            problems.push(format!("domain: {:?} is not a mail domain", self.domain));
        }
        if self.smtp.listen.parse::<SocketAddr>().is_err() {
            problems.push(format!(
                "smtp.listen: {:?} is not an address such as 127.0.0.1:2525",
                self.smtp.listen
            ));
        }
        for (name, value) in &self.trust.dns_records {
            if let Err(e) = crate::domain::txt_record::parse_record(name, value) {
                problems.push(e.to_string());
            }
        }
        if !is_selector(&self.outbound.dkim_selector) {
            problems.push(format!(
                "outbound.dkim_selector: {:?} must be letters, digits, - and .",
                self.outbound.dkim_selector
            ));
        }
        for day in &self.extra_holidays {
            if parse_date(day).is_none() {
                problems.push(format!(
                    "extra_holidays: {day:?} is not a date such as \"2026-12-31\""
                ));
            }
        }
        if self.smtp.tls_cert.is_some() != self.smtp.tls_key.is_some() {
            problems.push("smtp.tls_cert, smtp.tls_key: give both for STARTTLS, or neither".into());
        }
        if self.smtp.max_message_bytes < 1024 {
            problems.push("smtp.max_message_bytes: must be at least 1024".into());
        }
        if self.smtp.max_sessions_per_client == 0 {
            problems.push("smtp.max_sessions_per_client: must be at least 1".into());
        }
        if self.smtp.max_sessions_per_network < self.smtp.max_sessions_per_client {
            problems.push(
                "smtp.max_sessions_per_network: must be at least max_sessions_per_client".into(),
            );
        }
        if self.http.header_timeout_secs == 0 {
            problems.push("http.header_timeout_secs: must be at least 1".into());
        }
        if self.http.write_timeout_secs == 0 {
            problems.push("http.write_timeout_secs: must be at least 1".into());
        }
        if self.smtp.max_recipients == 0 {
            problems.push("smtp.max_recipients: must be at least 1".into());
        }
        if self.http.listen.parse::<SocketAddr>().is_err() {
            problems.push(format!(
                "http.listen: {:?} is not an address such as 127.0.0.1:8080",
                self.http.listen
            ));
        }
        if !(self.http.public_url.starts_with("http://")
            || self.http.public_url.starts_with("https://"))
        {
            problems.push(format!(
                "http.public_url: {:?} must start with http:// or https://",
                self.http.public_url
            ));
        }
        if self.outbound.transport == Transport::Smtp && self.outbound.smtp_host.is_empty() {
            problems.push("outbound.smtp_host: required when transport = \"smtp\"".into());
        }
        if let Some(addr) = &self.operator_address
            && !is_address(addr)
        {
            problems.push(format!("operator_address: {addr:?} is not an address"));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, p) in self.providers.iter().enumerate() {
            let key = format!("providers[{i}]");
            if !is_slug(&p.slug) {
                problems.push(format!(
                    "{key}.slug: {:?} must be lowercase letters, digits and '-'",
                    p.slug
                ));
            } else if RESERVED_LOCAL_PARTS.contains(&p.slug.as_str()) {
                problems.push(format!("{key}.slug: {:?} is reserved", p.slug));
            }
            if !seen.insert(p.slug.clone()) {
                problems.push(format!("{key}.slug: {:?} appears twice", p.slug));
            }
            if p.name.trim().is_empty() {
                problems.push(format!("{key}.name: must not be empty"));
            }
            if p.routes.is_empty() {
                problems.push(format!("{key}.routes: needs at least one address"));
            }
            for r in &p.routes {
                if !is_address(r) {
                    problems.push(format!("{key}.routes: {r:?} is not an address"));
                }
            }
            for r in &p.representatives {
                if !(is_address(r) || is_domain(r)) {
                    problems.push(format!(
                        "{key}.representatives: {r:?} is neither an address nor a domain"
                    ));
                }
            }
            if p.response_days == 0 {
                problems.push(format!("{key}.response_days: must be at least 1"));
            }
            for (j, rule) in p.rules.iter().enumerate() {
                let rkey = format!("{key}.rules[{j}]");
                if let Err(e) = regex::Regex::new(&rule.pattern) {
                    let first = e.to_string().lines().last().unwrap_or_default().to_owned();
                    problems.push(format!("{rkey}.pattern: {first}"));
                }
                if !is_address(&rule.route) {
                    problems.push(format!("{rkey}.route: {:?} is not an address", rule.route));
                }
                if rule.label.trim().is_empty() {
                    problems.push(format!("{rkey}.label: must not be empty"));
                }
            }
        }
        problems
    }

    /// The store's database file.
    pub fn store_path(&self) -> PathBuf {
        self.data_dir.join("nonono.sqlite3")
    }

    /// The folder the `file` transport writes to.
    pub fn outbound_dir(&self) -> PathBuf {
        self.data_dir.join(&self.outbound.dir)
    }

    /// `extra_holidays` as days; dates that do not read are left out (`validate` names them).
    pub fn extra_days_off(&self) -> Vec<crate::domain::calendar::Day> {
        self.extra_holidays
            .iter()
            .filter_map(|d| parse_date(d))
            .collect()
    }

    /// The DKIM key file, when signing is configured.
    pub fn dkim_key_path(&self) -> Option<PathBuf> {
        self.outbound
            .dkim_key
            .as_ref()
            .map(|k| self.data_dir.join(k))
    }

    /// The public URL of the archive's `path` (`/t/12`, `/u/TOKEN`; `""` for the front page):
    /// every link we write goes by it.
    pub fn public_link(&self, path: &str) -> String {
        format!("{}{path}", self.http.public_url.trim_end_matches('/'))
    }

    /// The public page of thread `thread_id`.
    pub fn thread_link(&self, thread_id: i64) -> String {
        self.public_link(&format!("/t/{thread_id}"))
    }

    /// The provider with this slug.
    pub fn provider(&self, slug: &str) -> Option<&ProviderConfig> {
        self.providers.iter().find(|p| p.slug == slug)
    }
}

/// Local parts the gateway uses itself; no provider may take them as a slug.
pub const RESERVED_LOCAL_PARTS: &[&str] = &[
    "palaute",
    "feedback",
    "postmaster",
    "abuse",
    "t",
    "noreply",
    "bounce",
    "mailer-daemon",
];

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
}

/// `YYYY-MM-DD` as a day count.
fn parse_date(s: &str) -> Option<crate::domain::calendar::Day> {
    let mut parts = s.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    let day = crate::domain::calendar::days_from_civil(y, m, d);
    // Reject dates that do not exist (2026-02-30) by reading them back.
    (crate::domain::calendar::civil_from_days(day) == (y, m, d)).then_some(day)
}

fn is_selector(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_holidays_are_dates_and_bad_ones_are_named() {
        let c = Config {
            extra_holidays: vec!["2026-12-31".into(), "2026-02-30".into(), "tomorrow".into()],
            ..Config::default()
        };
        assert_eq!(
            c.extra_days_off(),
            [crate::domain::calendar::days_from_civil(2026, 12, 31)]
        );
        let problems = c.validate();
        assert!(
            problems.iter().any(|p| p.contains("\"2026-02-30\"")),
            "{problems:?}"
        );
        assert!(problems.iter().any(|p| p.contains("\"tomorrow\"")));
    }

    #[test]
    fn empty_file_is_the_development_default() {
        let c = Config::parse("").unwrap();
        assert_eq!(c.domain, "nonono.localhost");
        assert_eq!(c.outbound.transport, Transport::File);
        assert!(!c.trust.verify_sender_auth);
        assert!(c.validate().is_empty());
    }

    #[test]
    fn unknown_key_is_named() {
        let err = Config::parse("[smtp]\nlisten = \"127.0.0.1:25\"\nlissen = 1\n").unwrap_err();
        assert!(err.contains("lissen"), "{err}");
    }

    #[test]
    fn every_bad_value_is_reported_with_its_key() {
        let c = Config::parse(
            r#"
            domain = "not a domain"
            [smtp]
            listen = "nowhere"
            [[providers]]
            slug = "Bad Slug"
            name = ""
            routes = ["nope"]
            [[providers.rules]]
            pattern = "("
            route = "x@y.fi"
            label = "x"
            "#,
        )
        .unwrap();
        let problems = c.validate().join("\n");
        for key in [
            "domain:",
            "smtp.listen:",
            "providers[0].slug:",
            "providers[0].name:",
            "providers[0].routes:",
            "providers[0].rules[0].pattern:",
        ] {
            assert!(problems.contains(key), "{key} missing from {problems}");
        }
    }

    #[test]
    fn a_route_our_mail_could_not_be_addressed_to_is_refused_here() {
        let c = Config::parse(
            r#"
            [[providers]]
            slug = "elisa"
            name = "Elisa"
            routes = ["asiakas,palvelu@elisa.example"]
            "#,
        )
        .unwrap();
        assert!(
            c.validate().join("\n").contains("providers[0].routes:"),
            "accepted here, it would fail every forward when the mail is written"
        );
    }
}
