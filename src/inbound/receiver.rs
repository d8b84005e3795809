//! What every SMTP session shares: the live config, the token key, the intake writer, the abuse
//! limits and the counters.

use super::intake_writer::IntakeWriter;
use crate::config::Live;
use crate::domain::limits;
use crate::domain::token::TokenKey;
use crate::metrics::Metrics;
use crate::store::Shared;
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// What every session needs.
pub struct Receiver {
    /// The config with the registry's current companies; a session takes it anew for each
    /// transaction.
    pub live: Arc<Live>,
    pub key: TokenKey,
    pub intake: IntakeWriter,
    /// A read-only store connection, for counting what the abuse limits count.
    pub reader: Shared,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Offers STARTTLS when a certificate is configured.
    pub tls: Option<TlsAcceptor>,
    /// Whether the outbound hop takes addresses beyond ASCII: a writer we could never write
    /// back to is refused before anything is accepted.
    pub utf8_reach: Arc<crate::relay::Utf8Reach>,
    /// `[smtp] trusted_relays`, read once.
    pub trusted_relays: Vec<crate::domain::relays::Network>,
}

impl Receiver {
    /// Whether `peer` is a front MTA whose word on its clients is taken.
    pub(super) fn trusts(&self, peer: std::net::IpAddr) -> bool {
        self.trusted_relays.iter().any(|n| n.contains(peer))
    }

    pub(super) fn limits_on(&self) -> bool {
        let config = self.live.get();
        let l = &config.limits;
        l.new_threads_per_address_per_hour != 0
            || l.new_threads_per_ip_per_hour != 0
            || l.messages_per_pair_per_day != 0
    }

    /// The limit one more message would pass, if any: all of them for new feedback at `RCPT`,
    /// only the company pair once the message shows what it is about. A store that cannot
    /// count lets mail in: refusing everyone would lose more than a missed limit.
    pub(super) async fn limit_reached(
        &self,
        mail_from: &str,
        peer: &str,
        provider: Option<String>,
        pair_only: bool,
    ) -> Option<limits::Reached> {
        if !self.limits_on() {
            return None;
        }
        let (key, peer) = (limits::sender_key(mail_from), peer.to_owned());
        let config = self.live.get();
        let now = crate::clock::now();
        match self
            .reader
            .run(move |s| s.limit_counts(&key, &peer, provider.as_deref(), now))
            .await
        {
            Ok(counts) if pair_only => limits::reached(
                &config.limits,
                &limits::Counts {
                    pair_day: counts.pair_day,
                    ..limits::Counts::default()
                },
            ),
            Ok(counts) => limits::reached(&config.limits, &counts),
            Err(e) => {
                tracing::error!("smtp: counting for limits: {e}");
                None
            }
        }
    }
}
