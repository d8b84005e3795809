//! Every key of the configuration, with its default: an empty file is a working development
//! setup.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Which language the service writes its mail and pages in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Finnish, the first market.
    #[default]
    Fi,
    /// Swedish, Finland's second official language.
    Sv,
    /// English.
    En,
}

impl Language {
    /// Every language the service writes, Finland's official languages first.
    pub const ALL: [Language; 3] = [Language::Fi, Language::Sv, Language::En];

    /// The language of a code [`Language::code`] gave.
    pub fn from_code(code: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.code() == code)
    }

    /// The language's code, as in `lang="fi"`.
    pub fn code(self) -> &'static str {
        match self {
            Language::Fi => "fi",
            Language::Sv => "sv",
            Language::En => "en",
        }
    }
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
    pub providers: Companies,
}

/// The companies feedback can go to, in order, with an index by slug and by name (folded as
/// tags are matched) made on first use: a national registry has thousands, and every tagged
/// message looks one up. Read it as a slice; change it only through [`Companies::edit`],
/// which drops the index.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(from = "Vec<ProviderConfig>", into = "Vec<ProviderConfig>")]
pub struct Companies {
    list: Vec<ProviderConfig>,
    index: std::sync::Arc<std::sync::OnceLock<CompanyIndex>>,
}

/// Where each slug and each folded name is in the list; the first company to have a name
/// keeps it, as a search from the front would find.
#[derive(Debug, Default)]
struct CompanyIndex {
    slugs: std::collections::HashMap<String, usize>,
    names: std::collections::HashMap<String, usize>,
}

impl Companies {
    /// The company with this slug.
    pub fn by_slug(&self, slug: &str) -> Option<&ProviderConfig> {
        self.index().slugs.get(slug).map(|&i| &self.list[i])
    }

    /// The company whose slug, name or alias is `name`, ignoring case, spacing and diacritics.
    pub fn by_name(&self, name: &str) -> Option<&ProviderConfig> {
        let wanted = crate::domain::names::fold(name);
        if wanted.is_empty() {
            return None;
        }
        self.index().names.get(&wanted).map(|&i| &self.list[i])
    }

    /// The companies with their index made now, not by the first look-up: for the running
    /// service's config, where that look-up is a message waiting.
    pub fn indexed(list: Vec<ProviderConfig>) -> Companies {
        let companies = Companies::from(list);
        companies.index();
        companies
    }

    /// Changes the list (and forgets the index made of it before).
    pub fn edit(&mut self, change: impl FnOnce(&mut Vec<ProviderConfig>)) {
        change(&mut self.list);
        self.index = Default::default();
    }

    fn index(&self) -> &CompanyIndex {
        self.index.get_or_init(|| {
            let mut index = CompanyIndex::default();
            for (i, p) in self.list.iter().enumerate() {
                index.slugs.entry(p.slug.clone()).or_insert(i);
                for name in [&p.slug, &p.name].into_iter().chain(&p.aliases) {
                    let folded = crate::domain::names::fold(name);
                    if !folded.is_empty() {
                        index.names.entry(folded).or_insert(i);
                    }
                }
            }
            index
        })
    }
}

impl std::ops::Deref for Companies {
    type Target = [ProviderConfig];

    fn deref(&self) -> &[ProviderConfig] {
        &self.list
    }
}

impl From<Vec<ProviderConfig>> for Companies {
    fn from(list: Vec<ProviderConfig>) -> Companies {
        Companies {
            list,
            index: Default::default(),
        }
    }
}

impl FromIterator<ProviderConfig> for Companies {
    fn from_iter<I: IntoIterator<Item = ProviderConfig>>(companies: I) -> Companies {
        Companies::from(companies.into_iter().collect::<Vec<_>>())
    }
}

impl From<Companies> for Vec<ProviderConfig> {
    fn from(companies: Companies) -> Vec<ProviderConfig> {
        companies.list
    }
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
    /// Front MTAs whose `XFORWARD` and `XCLIENT` name the original client, as addresses or
    /// networks (`127.0.0.1`, `10.0.0.0/8`): limits, SPF and logs then use that client, and
    /// their sessions are not counted per client. From anyone else the commands are refused.
    pub trusted_relays: Vec<String>,
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

/// How the connection to the smarthost is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OutboundTls {
    /// Plain SMTP: a smarthost on this machine or a network you trust.
    #[default]
    None,
    /// `STARTTLS` before anything else is said (ports 587 and 25); a smarthost that does not
    /// offer it gets nothing.
    Starttls,
    /// TLS from the first byte (port 465).
    Implicit,
}

/// `[outbound]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboundConfig {
    pub transport: Transport,
    pub smtp_host: String,
    pub smtp_port: u16,
    /// How the connection to the smarthost is secured.
    pub tls: OutboundTls,
    /// Check the smarthost's certificate and that it is for `smtp_host`, against the system's
    /// CAs and `tls_ca`. Turn off only for a smarthost on a network you trust.
    pub tls_verify: bool,
    /// More CA certificates (PEM) to trust, for a smarthost with a private CA; relative paths
    /// are under `data_dir`.
    pub tls_ca: Option<PathBuf>,
    /// The user to authenticate as (AUTH PLAIN, or LOGIN); unset, no authentication.
    pub auth_user: Option<String>,
    /// The file whose first line is the password; unset, the password is in the environment
    /// variable `NONONO_SMTP_PASSWORD`. Relative paths are under `data_dir`.
    pub auth_password_file: Option<PathBuf>,
    /// Folder for the `file` transport; relative paths are under `data_dir`.
    pub dir: PathBuf,
    /// PEM private key that DKIM-signs everything we send (`nonono dkim-keygen` writes one);
    /// relative paths are under `data_dir`. Unset sends unsigned.
    pub dkim_key: Option<PathBuf>,
    /// The DKIM selector: the key is published at `SELECTOR._domainkey.DOMAIN`.
    pub dkim_selector: String,
    /// Most bytes of attachments (decoded) one relayed message carries to the other side;
    /// what does not fit is named in the mail instead. `0` passes none on.
    pub attachment_bytes: usize,
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    /// A short notice with the public link.
    Notice,
    /// The whole feedback.
    #[default]
    Full,
}

/// One `[[providers]]` entry: a company that gets feedback. The registry in the store keeps
/// each company as the TOML of one such entry.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    // Every key has a default, even those without which a provider is no provider: a missing
    // one is named by `validate` with the rest, not alone by the reader.
    /// Lowercase letters, digits and `-`; also the local part `SLUG@DOMAIN`.
    #[serde(default)]
    pub slug: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Addresses feedback is sent to; the first is the default route.
    #[serde(default)]
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
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// Case-insensitive regex over subject and body.
    #[serde(default)]
    pub pattern: String,
    /// The address that gets matching feedback.
    #[serde(default)]
    pub route: String,
    /// The public name of who handles it.
    #[serde(default)]
    pub label: String,
    /// `pattern` compiled once, on first use (validation reports one that does not compile).
    #[serde(skip)]
    compiled: std::sync::OnceLock<Option<regex::Regex>>,
}

impl ProviderConfig {
    /// The company as the TOML of one `[[providers]]` entry, as the registry stores it.
    pub fn to_record(&self) -> String {
        toml::to_string(self).unwrap_or_else(|e| unreachable!("a provider is TOML: {e}"))
    }

    /// A company from its stored record.
    pub fn from_record(record: &str) -> Result<ProviderConfig, toml::de::Error> {
        toml::from_str(record)
    }
}

impl RuleConfig {
    /// A rule: feedback matching `pattern` goes to `route`, shown as handled by `label`.
    pub fn new(pattern: String, route: String, label: String) -> RuleConfig {
        RuleConfig {
            pattern,
            route,
            label,
            compiled: std::sync::OnceLock::new(),
        }
    }

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
            providers: Companies::default(),
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
            trusted_relays: Vec::new(),
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
            tls: OutboundTls::None,
            tls_verify: true,
            tls_ca: None,
            auth_user: None,
            auth_password_file: None,
            dir: "outbox".into(),
            dkim_key: None,
            dkim_selector: "nonono".into(),
            // Base64 makes this about 9.5 MB on the wire: under Postfix's default
            // message_size_limit (10,240,000 bytes), which most smarthosts keep or exceed.
            attachment_bytes: 7_000_000,
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

impl OutboundConfig {
    /// `smtp_host` without the brackets of an address literal (`[192.0.2.1]`, as Postfix writes
    /// a host not to be looked up in MX): the name its certificate is checked for.
    pub fn host(&self) -> &str {
        self.smtp_host.trim_start_matches('[').trim_end_matches(']')
    }
}

impl Config {
    /// `[smtp] trusted_relays` as networks; those that do not read are left out (`validate`
    /// names them).
    pub fn trusted_relays(&self) -> Vec<crate::domain::relays::Network> {
        self.smtp
            .trusted_relays
            .iter()
            .filter_map(|r| crate::domain::relays::Network::parse(r).ok())
            .collect()
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
            .filter_map(|d| crate::domain::calendar::parse_date(d))
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

    /// The public page of the company `slug`.
    pub fn company_link(&self, slug: &str) -> String {
        self.public_link(&format!("/p/{slug}"))
    }

    /// The provider with this slug.
    pub fn provider(&self, slug: &str) -> Option<&ProviderConfig> {
        self.providers.by_slug(slug)
    }
}
