//! Checking the values of a configuration: every bad value at once, each named by its key.

use std::net::SocketAddr;

use super::keys::{Config, OutboundTls, ProviderConfig, Transport};
use super::record::companies_problems;
use crate::mail::write::{is_address, is_domain};

/// Longest mail domain the service runs at.
const MOST_DOMAIN: usize = 100;

impl Config {
    /// Every problem with the values, each naming its key; empty when the config is usable.
    pub fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !is_domain(&self.domain) {
            problems.push(format!("domain: {:?} is not a mail domain", self.domain));
        } else if self.domain.len() > MOST_DOMAIN {
            // Our refusals name the domain twice a line, and a reply line holds 512 bytes.
            problems.push(format!(
                "domain: {} characters; at most {MOST_DOMAIN} keep our SMTP replies within \
                 the 512 bytes a line may have",
                self.domain.len()
            ));
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
        // No message we relay can carry more than one we take in; bigger would only be named.
        if self.outbound.attachment_bytes > self.smtp.max_message_bytes {
            problems.push(format!(
                "outbound.attachment_bytes: {} is more than smtp.max_message_bytes ({}); \
                 keep it under what your smarthost takes (Postfix: 10,240,000 with base64's \
                 third added)",
                self.outbound.attachment_bytes, self.smtp.max_message_bytes
            ));
        }
        for day in &self.extra_holidays {
            if crate::domain::calendar::parse_date(day).is_none() {
                problems.push(format!(
                    "extra_holidays: {day:?} is not a date such as \"2026-12-31\""
                ));
            }
        }
        if self.smtp.tls_cert.is_some() != self.smtp.tls_key.is_some() {
            problems.push("smtp.tls_cert, smtp.tls_key: give both for STARTTLS, or neither".into());
        }
        for relay in &self.smtp.trusted_relays {
            match crate::domain::relays::Network::parse(relay) {
                Err(e) => problems.push(format!("smtp.trusted_relays: {e}")),
                Ok(net) if net.is_too_wide() => problems.push(format!(
                    "smtp.trusted_relays: {relay:?} trusts every peer, or nearly, so anyone could name any client and pass every limit; name the front MTAs"
                )),
                Ok(_) => {}
            }
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
        problems.extend(self.outbound_problems());
        if self.outbound.smtp_port == 0 {
            problems
                .push("outbound.smtp_port: must be a port, 1 to 65535 (587 or 25 mostly)".into());
        }
        if let Some(addr) = &self.operator_address
            && !is_address(addr)
        {
            problems.push(format!("operator_address: {addr:?} is not an address"));
        }
        let key = |i: usize, _: &ProviderConfig| format!("providers[{i}]");
        problems.extend(
            companies_problems(&self.providers, &self.domain, key)
                .into_iter()
                .map(|(_, problem)| problem.to_string()),
        );
        problems
    }
}

impl Config {
    /// What is wrong with how outbound mail reaches the smarthost, before any file is read.
    fn outbound_problems(&self) -> Vec<String> {
        let out = &self.outbound;
        let mut problems = Vec::new();
        let host = out.host();
        let remote = !is_loopback(host);
        if out.tls != OutboundTls::None
            && rustls_pki_types::ServerName::try_from(host.to_owned()).is_err()
        {
            problems.push(format!(
                "outbound.smtp_host: {:?} is no host name or address a certificate can be checked for",
                out.smtp_host
            ));
        }
        if out.auth_user.is_some() && remote && out.tls == OutboundTls::None {
            problems.push(
                "outbound.auth_user: a password goes to a smarthost on another machine only over TLS; set outbound.tls = \"starttls\" or \"implicit\"".into(),
            );
        } else if out.auth_user.is_some() && remote && !out.tls_verify {
            problems.push(
                "outbound.tls_verify: with a password, the smarthost's certificate must be checked, or anyone between takes it; give its CA in outbound.tls_ca instead".into(),
            );
        }
        if out.auth_password_file.is_some() && out.auth_user.is_none() {
            problems.push(
                "outbound.auth_password_file: a password without outbound.auth_user is never used; name the user".into(),
            );
        }
        problems
    }
}

/// A host name or address that is this machine.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn is_selector(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by breaking it (issue 21): a 245-character domain made refusal lines of 619
    /// bytes, past SMTP's 512.
    #[test]
    fn the_domain_fits_in_a_reply_line() {
        let config = Config {
            domain: format!("{}.fi", vec!["a".repeat(60); 4].join(".")),
            ..Config::default()
        };
        assert!(
            config
                .validate()
                .iter()
                .any(|p| p.starts_with("domain: 246 characters")),
            "{:?}",
            config.validate()
        );
    }

    /// Found by breaking it (issue 21): 30 MB of attachments a message passed the check.
    #[test]
    fn attachments_may_not_outgrow_the_mail_they_come_in() {
        let mut config = Config::default();
        assert!(config.validate().is_empty(), "{:?}", config.validate());
        config.outbound.attachment_bytes = 30_000_000;
        assert!(
            config
                .validate()
                .iter()
                .any(|p| p.starts_with("outbound.attachment_bytes: 30000000")),
            "{:?}",
            config.validate()
        );
    }

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
        assert!(err[0].contains("smtp.lissen"), "{err:?}");
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

    #[test]
    fn a_password_goes_to_another_machine_only_over_tls() {
        let with = |host: &str, tls: OutboundTls| Config {
            outbound: crate::config::OutboundConfig {
                smtp_host: host.into(),
                tls,
                auth_user: Some("nonono".into()),
                ..Default::default()
            },
            ..Config::default()
        };
        let named = |c: Config| c.validate().join("\n").contains("outbound.auth_user:");
        assert!(named(with("smtp.example.fi", OutboundTls::None)));
        assert!(!named(with("smtp.example.fi", OutboundTls::Starttls)));
        assert!(!named(with("127.0.0.1", OutboundTls::None)));
        assert!(!named(with("localhost", OutboundTls::None)));
        let unchecked = Config {
            outbound: crate::config::OutboundConfig {
                tls_verify: false,
                ..with("smtp.example.fi", OutboundTls::Starttls).outbound
            },
            ..Config::default()
        };
        assert!(
            unchecked
                .validate()
                .join("\n")
                .contains("outbound.tls_verify:")
        );
        let orphan = Config {
            outbound: crate::config::OutboundConfig {
                auth_password_file: Some("pw".into()),
                smtp_host: "bad host".into(),
                tls: OutboundTls::Starttls,
                ..Default::default()
            },
            ..Config::default()
        };
        let problems = orphan.validate().join("\n");
        assert!(
            problems.contains("outbound.auth_password_file:"),
            "{problems}"
        );
        assert!(problems.contains("outbound.smtp_host:"), "{problems}");
    }

    #[test]
    fn trusting_everyone_is_refused() {
        let with = |relays: &[&str]| {
            Config {
                smtp: crate::config::SmtpConfig {
                    trusted_relays: relays.iter().map(|r| (*r).to_owned()).collect(),
                    ..Default::default()
                },
                ..Config::default()
            }
            .validate()
            .join("\n")
        };
        assert!(with(&["0.0.0.0/0"]).contains("trusts every peer"));
        assert!(with(&["::/0"]).contains("trusts every peer"));
        assert!(with(&["mx.example.fi"]).contains("smtp.trusted_relays:"));
        assert!(with(&["10.0.0.0/8", "127.0.0.1"]).is_empty());
    }
}
