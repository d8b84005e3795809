//! Domain core: TXT records pinned by name in `[trust] dns_records`, read as the kind their
//! name says (mail-auth parses them), so a bad one is named when the config is read.

use mail_auth::Txt;
use mail_auth::common::parse::TxtRecordParser;
use mail_auth::common::verify::DomainKey;
use mail_auth::dmarc::Dmarc;
use mail_auth::spf::Spf;

/// A bad `[trust] dns_records` entry.
#[derive(Debug, thiserror::Error)]
#[error("trust.dns_records.{name:?}: {reason}")]
pub struct RecordError {
    name: String,
    reason: &'static str,
}

/// Reads a pinned TXT record as the kind its name says: `_dmarc.` DMARC, `._domainkey.` a DKIM
/// key, anything else SPF.
pub fn parse_record(name: &str, value: &str) -> Result<Txt, RecordError> {
    let bad = |reason| RecordError {
        name: name.to_owned(),
        reason,
    };
    let name = name.to_lowercase();
    let bytes = value.as_bytes();
    if name.starts_with("_dmarc.") {
        Dmarc::parse(bytes)
            .map(Txt::from)
            .map_err(|_| bad("not a DMARC record (v=DMARC1; p=...)"))
    } else if name.contains("._domainkey.") {
        DomainKey::parse(bytes)
            .map(Txt::from)
            .map_err(|_| bad("not a DKIM key record (v=DKIM1; k=rsa; p=...)"))
    } else {
        Spf::parse(bytes)
            .map(Txt::from)
            .map_err(|_| bad("not an SPF record (v=spf1 ...)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_records_are_read_by_kind_and_bad_ones_are_named() {
        assert!(matches!(
            parse_record("_dmarc.elisa.example", "v=DMARC1; p=reject"),
            Ok(Txt::Dmarc(_))
        ));
        assert!(matches!(
            parse_record("elisa.example", "v=spf1 ip4:192.0.2.1 -all"),
            Ok(Txt::Spf(_))
        ));
        let Err(err) = parse_record("s1._domainkey.elisa.example", "hello") else {
            panic!("a bad DKIM record was read");
        };
        assert!(err.to_string().contains("s1._domainkey.elisa.example"));
    }
}
