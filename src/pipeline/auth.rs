//! Sender authentication: whether a message that claims a company's address really comes from
//! that company's mail system. DKIM, SPF and DMARC are evaluated as a DMARC receiver would
//! (mail-auth does the cryptography and the record parsing), with DNS answers cached.
//!
//! `[trust] dns_records` pins TXT records by name; when any are given they are the only DNS
//! this module asks, so tests and air-gapped demos run offline and a miss is "no record".

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::hickory_resolver::proto::op::ResponseCode;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{
    AuthenticatedMessage, DkimResult, DmarcResult, DnsError, DnssecStatus, MX,
    MessageAuthenticator, Parameters, RecordSet, ResolverCache, SpfResult, Txt,
};

use crate::config::TrustConfig;
use crate::domain::txt_record::parse_record;
use crate::mail::Envelope;
use crate::store::{Evidence, Signature};

/// How long one message's checks may take before they count as a temporary failure.
const CHECK_TIMEOUT: Duration = Duration::from_secs(20);
/// Cached answers kept at most; the cache starts over when full.
const CACHE_ENTRIES: usize = 10_000;

/// Checks messages against DNS. Blocking: it runs its own small runtime, so the pipeline
/// thread can call it outside any transaction.
pub struct Authenticator {
    resolver: MessageAuthenticator,
    caches: Caches,
    runtime: tokio::runtime::Runtime,
    /// Our own host name, for SPF's `%{r}` macro.
    host: String,
}

impl Authenticator {
    /// An authenticator on the system's resolver, or on `trust.dns_records` alone when any
    /// are configured.
    pub fn new(trust: &TrustConfig, host: &str) -> anyhow::Result<Authenticator> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let resolver = {
            // `enter`, not `block_on`: this may be called from inside the service's runtime.
            let _context = runtime.enter();
            MessageAuthenticator::new_system_conf()
                .or_else(|_| MessageAuthenticator::new_cloudflare())?
        };
        let offline = !trust.dns_records.is_empty();
        let caches = Caches::new(offline);
        let forever = Instant::now() + Duration::from_secs(100 * 365 * 86_400);
        for (name, value) in &trust.dns_records {
            caches
                .txt
                .insert(fqdn(name).into(), parse_record(name, value)?, forever);
        }
        Ok(Authenticator {
            resolver,
            caches,
            runtime,
            host: host.to_owned(),
        })
    }

    /// Authenticates `raw`, received as `envelope` describes, for its From domain. `from` is
    /// the From address the rest of the service read: where this check's own reading of the
    /// header differs, nothing is verified, so the badge always belongs to the writer shown.
    pub fn check(&self, raw: &[u8], envelope: &Envelope, from: &str) -> Evidence {
        let checked = self.runtime.block_on(async {
            tokio::time::timeout(CHECK_TIMEOUT, self.evaluate(raw, envelope, from)).await
        });
        checked.unwrap_or_else(|_| unverified("temperror"))
    }

    async fn evaluate(&self, raw: &[u8], envelope: &Envelope, from: &str) -> Evidence {
        let Some(message) = AuthenticatedMessage::parse(raw) else {
            return unverified("permerror");
        };
        let from_domain = match message.from.as_slice() {
            [one] if one.eq_ignore_ascii_case(from) => {
                one.rsplit_once('@').map(|(_, d)| d.to_lowercase())
            }
            _ => None,
        };
        let Some(from_domain) = from_domain else {
            return unverified("permerror");
        };
        let Ok(ip) = envelope.peer.parse::<IpAddr>() else {
            return unverified("permerror");
        };
        let c = &self.caches;
        let dkim = self.resolver.verify_dkim(c.parameters(&message)).await;
        // For the badge, the desk and DMARC alike.
        let dkim: Vec<_> = dkim.into_iter().filter(|o| signs(o, "from")).collect();
        let helo = envelope.helo.as_str();
        let spf_params = if envelope.mail_from.is_empty() {
            SpfParameters::verify_ehlo(ip, helo, &self.host)
        } else {
            SpfParameters::verify_mail_from(ip, helo, &self.host, &envelope.mail_from)
        };
        let spf = self.resolver.verify_spf(c.parameters(spf_params)).await;
        let mail_from_domain = envelope
            .mail_from
            .rsplit_once('@')
            .map_or(helo, |(_, d)| d)
            .to_lowercase();
        let dmarc = self
            .resolver
            .verify_dmarc(c.parameters(DmarcParameters::new(
                &message,
                &dkim,
                &mail_from_domain,
                &spf,
            )))
            .await;

        let aligned_pass = dkim.iter().find(|o| {
            o.signature().is_some_and(|s| {
                *o.result() == DkimResult::Pass && aligned(&s.d.to_lowercase(), &from_domain)
            })
        });
        let signs_date = aligned_pass.is_some_and(|o| signs(o, "date"));
        let dkim_pass = aligned_pass.and_then(|o| Some(o.signature()?.d.to_lowercase()));
        let signature = signature(&dkim, &from_domain);
        let spf_pass = (spf.result() == SpfResult::Pass
            && aligned(&mail_from_domain, &from_domain))
        .then_some(mail_from_domain);
        let (method, domain) = match (dkim_pass, spf_pass) {
            (Some(d), _) => (Some("dkim".to_owned()), Some(d)),
            (None, Some(d)) => (Some("spf".to_owned()), Some(d)),
            (None, None) => (None, None),
        };
        let dmarc = match dmarc.result() {
            DmarcResult::Pass => "pass",
            DmarcResult::Fail(_) => "fail",
            DmarcResult::TempError(_) => "temperror",
            DmarcResult::PermError(_) => "permerror",
            DmarcResult::None => "none",
        };
        // With a published policy DMARC decides (its own strict or relaxed alignment); without
        // one, an aligned pass is what DMARC would have accepted.
        let verified = match dmarc {
            "pass" => true,
            "none" => domain.is_some(),
            _ => false,
        };
        Evidence {
            verified,
            domain,
            method,
            dmarc: dmarc.to_owned(),
            signature,
            signs_date,
        }
    }
}

/// Whether a DKIM signature covers the header field `name`. One that leaves out `From`
/// says nothing of who wrote the message (RFC 6376 5.4 requires it).
fn signs(o: &mail_auth::DkimOutput<'_>, name: &str) -> bool {
    o.signature()
        .is_some_and(|s| s.h.iter().any(|h| h.eq_ignore_ascii_case(name)))
}

/// What the DKIM signatures say of the From domain, the most telling first: the company's
/// valid signature, then one of its signatures broken, then another domain's valid one.
fn signature(dkim: &[mail_auth::DkimOutput<'_>], from_domain: &str) -> Signature {
    // A `d=` that is no domain name (markup, direction marks, 2,000 characters) names no one
    // on a page.
    let signed: Vec<(String, &DkimResult)> = dkim
        .iter()
        .filter_map(|o| Some((o.signature()?.d.to_lowercase(), o.result())))
        .filter(|(d, _)| crate::mail::write::is_domain(d))
        .collect();
    let find = |own: bool, pass: bool| {
        signed
            .iter()
            .find(|(d, r)| aligned(d, from_domain) == own && (**r == DkimResult::Pass) == pass)
            .map(|(d, _)| d.clone())
    };
    if let Some(d) = find(true, true) {
        Signature::Aligned(d)
    } else if let Some((d, _)) = signed.iter().find(|(d, r)| {
        aligned(d, from_domain) && matches!(r, DkimResult::Fail(_) | DkimResult::Neutral(_))
    }) {
        Signature::Broken(d.clone())
    } else if let Some(d) = find(false, true) {
        Signature::Foreign(d)
    } else if dkim
        .iter()
        .any(|o| matches!(o.result(), DkimResult::TempError(_)))
    {
        Signature::Unchecked
    } else {
        // Another domain's signature that does not verify proves nothing of anyone: the
        // company did not sign.
        Signature::None
    }
}

fn unverified(dmarc: &str) -> Evidence {
    Evidence {
        verified: false,
        domain: None,
        method: None,
        dmarc: dmarc.to_owned(),
        signature: Signature::Unchecked,
        signs_date: false,
    }
}

/// Relaxed alignment: the same domain, or one inside the other. Without the public suffix
/// list, a bare top-level domain never aligns.
fn aligned(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    short.contains('.')
        && (short == long
            || long
                .strip_suffix(short)
                .is_some_and(|rest| rest.ends_with('.')))
}

fn fqdn(name: &str) -> String {
    let name = name.trim().to_lowercase();
    if name.ends_with('.') {
        name
    } else {
        format!("{name}.")
    }
}

/// The resolver caches mail-auth consults before DNS. Offline, a miss answers "no such
/// record" instead of going to the network.
struct Caches {
    txt: Cache<Box<str>, Txt>,
    mx: Cache<Box<str>, RecordSet<MX>>,
    ipv4: Cache<Box<str>, RecordSet<Ipv4Addr>>,
    ipv6: Cache<Box<str>, RecordSet<Ipv6Addr>>,
    ptr: Cache<IpAddr, RecordSet<Box<str>>>,
}

impl Caches {
    fn new(offline: bool) -> Caches {
        fn none<T>(offline: bool) -> Option<RecordSet<T>> {
            offline.then(|| RecordSet {
                rrset: Arc::from(Vec::new().into_boxed_slice()),
                dnssec_status: DnssecStatus::Indeterminate,
            })
        }
        let nxdomain = Txt::Error(mail_auth::Error::Dns(DnsError::RecordNotFound(
            ResponseCode::NXDomain,
        )));
        Caches {
            txt: Cache::new(offline.then_some(nxdomain)),
            mx: Cache::new(none(offline)),
            ipv4: Cache::new(none(offline)),
            ipv6: Cache::new(none(offline)),
            ptr: Cache::new(none(offline)),
        }
    }

    #[allow(clippy::type_complexity)]
    fn parameters<P>(
        &self,
        params: P,
    ) -> Parameters<
        '_,
        P,
        Cache<Box<str>, Txt>,
        Cache<Box<str>, RecordSet<MX>>,
        Cache<Box<str>, RecordSet<Ipv4Addr>>,
        Cache<Box<str>, RecordSet<Ipv6Addr>>,
        Cache<IpAddr, RecordSet<Box<str>>>,
    > {
        Parameters::new(params)
            .with_txt_cache(&self.txt)
            .with_mx_cache(&self.mx)
            .with_ipv4_cache(&self.ipv4)
            .with_ipv6_cache(&self.ipv6)
            .with_ptr_cache(&self.ptr)
    }
}

/// One answer cache, honouring each answer's time to live.
struct Cache<K, V> {
    entries: Mutex<HashMap<K, (V, Instant)>>,
    /// What a miss answers offline.
    miss: Option<V>,
}

impl<K, V> Cache<K, V> {
    fn new(miss: Option<V>) -> Self {
        Cache {
            entries: Mutex::new(HashMap::new()),
            miss,
        }
    }
}

impl<K: Hash + Eq, V: Clone> ResolverCache<K, V> for Cache<K, V> {
    fn get<Q>(&self, name: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let entries = self.entries.lock().expect("dns cache lock");
        match entries.get(name) {
            Some((value, until)) if *until > Instant::now() => Some(value.clone()),
            _ => self.miss.clone(),
        }
    }

    fn remove<Q>(&self, name: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut entries = self.entries.lock().expect("dns cache lock");
        entries.remove(name).map(|(value, _)| value)
    }

    fn insert(&self, key: K, value: V, valid_until: Instant) {
        let mut entries = self.entries.lock().expect("dns cache lock");
        if entries.len() >= CACHE_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (value, valid_until));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alignment_is_relaxed_but_never_on_a_bare_top_level_domain() {
        assert!(aligned("elisa.example", "elisa.example"));
        assert!(aligned("mail.elisa.example", "elisa.example"));
        assert!(aligned("elisa.example", "asiakaspalvelu.elisa.example"));
        assert!(!aligned("notelisa.example", "elisa.example"));
        assert!(!aligned("example", "elisa.example"));
        assert!(!aligned("other.example", "elisa.example"));
    }
}
