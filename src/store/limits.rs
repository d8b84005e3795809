//! What the abuse limits count: a writer's, a network's and a company's mail in a window.

use rusqlite::{OptionalExtension, params};

use super::connection::{Store, Tx};
use super::error::Result;
use super::sqlite::Cached;

impl Store {
    /// What the abuse limits count for a writer, a client IP and (when known) a company.
    pub fn limit_counts(
        &self,
        sender_key: &str,
        peer: &str,
        provider: Option<&str>,
        now: i64,
    ) -> Result<crate::domain::limits::Counts> {
        // Counted in the journal, and in the intake where it is attached: what arrived a
        // moment ago and the pipeline has not moved yet counts too.
        let count = |condition: &str, p: &[&dyn rusqlite::ToSql]| -> Result<u32> {
            let sql = if self.intake {
                format!(
                    "SELECT (SELECT count(*) FROM journal WHERE {condition})
                          + (SELECT count(*) FROM intake.intake WHERE {condition})"
                )
            } else {
                format!("SELECT count(*) FROM journal WHERE {condition}")
            };
            Ok(self.conn.one(&sql, p, |r| r.get(0))?)
        };
        let hour = now - 3600;
        Ok(crate::domain::limits::Counts {
            address_hour: if sender_key.is_empty() {
                0
            } else {
                count(
                    "sender_key = ?1 AND received_at >= ?2 AND feedback = 1",
                    &[&sender_key, &hour],
                )?
            },
            ip_hour: count(
                "peer = ?1 AND received_at >= ?2 AND feedback = 1",
                &[&peer, &hour],
            )?,
            pair_day: match provider {
                Some(slug) if !sender_key.is_empty() => count(
                    "sender_key = ?1 AND received_at >= ?2 AND provider = ?3",
                    &[&sender_key, &(now - 86_400), &slug],
                )?,
                _ => 0,
            },
        })
    }

    /// The company of the thread a consumer's reply token leads to (`None` for the company's
    /// own tokens and unregistered companies).
    pub fn consumer_thread_provider(&self, participant: i64) -> Result<Option<String>> {
        Ok(self
            .conn
            .one(
                "SELECT t.provider FROM participants p JOIN threads t ON t.id = p.thread_id
                 WHERE p.id = ?1 AND p.role = 'consumer'",
                [participant],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }
}

impl Tx<'_> {
    /// How many messages arrived from an envelope sender, through the network of `peer`, since
    /// `since` and no later than journal entry `upto` (those after it do not count, however
    /// soon it is processed): to exactly these recipients (`rcpt_to` as the journal keeps it,
    /// one a line), and to any. Mail under the same sender from elsewhere is someone else's: a
    /// forger's flood must not count against the sender's own mail.
    /// Counted among at most `at_most` of the sender's messages: a flood from one sender must
    /// not make each of its messages slower to check.
    pub fn received_from(
        &self,
        mail_from: &str,
        rcpt_to: &str,
        peer: &str,
        since: i64,
        upto: i64,
        at_most: i64,
    ) -> Result<(i64, i64)> {
        // The sender's network: an IPv4 client's /24 (its address without the last number, as
        // the text stands), an IPv6 client itself.
        let v4 = peer.parse::<std::net::Ipv4Addr>().is_ok();
        let network = if v4 {
            peer.trim_end_matches(|c: char| c.is_ascii_digit())
        } else {
            peer
        };
        Ok(self.tx.one(
            "SELECT coalesce(sum(rcpt_to = ?2), 0), count(*) FROM (
                 SELECT rcpt_to FROM journal WHERE mail_from = ?1 AND received_at >= ?3
                     AND id <= ?4
                     AND (CASE WHEN ?7 THEN rtrim(peer, '0123456789') ELSE peer END) = ?6
                 LIMIT ?5)",
            params![mail_from, rcpt_to, since, upto, at_most, network, v4],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }
}
