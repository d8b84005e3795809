//! What `nonono reprocess` needs: the published posts with the raw mail they came from, and
//! rewriting a post's text (and its search entry) in place.

use rusqlite::{OptionalExtension, params};

use super::connection::{Store, Tx};
use super::error::Result;
use super::search::{PostsOf, index_posts, unindex_posts};
use super::sqlite::Cached;

/// A published post that came from a journal entry.
#[derive(Debug, Clone)]
pub struct PublishedPost {
    pub id: i64,
    pub journal_id: i64,
    pub participant_id: Option<i64>,
    /// The thread's opening feedback (as opposed to a reply).
    pub opening: bool,
}

impl Store {
    /// Posts that came from mail, in order, `limit` of them after post `after`.
    pub fn published_posts(&self, after: i64, limit: usize) -> Result<Vec<PublishedPost>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT p.id, p.journal_id, p.participant_id, p.journal_id = t.journal_id
             FROM posts p JOIN threads t ON t.id = p.thread_id
             WHERE p.journal_id IS NOT NULL AND p.id > ?1 ORDER BY p.id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after, limit as i64], |r| {
            Ok(PublishedPost {
                id: r.get(0)?,
                journal_id: r.get(1)?,
                participant_id: r.get(2)?,
                opening: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// How many posts came from mail.
    pub fn published_post_count(&self) -> Result<i64> {
        Ok(self.conn.one(
            "SELECT count(*) FROM posts WHERE journal_id IS NOT NULL",
            [],
            |r| r.get(0),
        )?)
    }

    /// The raw message of a journal entry.
    pub fn journal_raw(&self, id: i64) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .one("SELECT raw FROM journal_raw WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// The raw mail we sent to a participant before a journal entry (see [`Tx::sent_to`]).
    pub fn sent_before(
        &self,
        participant_id: i64,
        before: i64,
        limit: usize,
    ) -> Result<Vec<Vec<u8>>> {
        super::threads::sent_to(&self.conn, participant_id, before, limit)
    }

    /// Replaces a post's text and its search entry; returns whether anything changed.
    pub fn rewrite_post(
        &mut self,
        id: i64,
        body: &str,
        trimmed: &str,
        uncut: bool,
        attachments: usize,
    ) -> Result<bool> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let changed = tx.run(
            "UPDATE posts SET body = ?2, trimmed = ?3, uncut = ?4, attachments = ?5
             WHERE id = ?1 AND (body != ?2 OR trimmed != ?3 OR uncut != ?4 OR attachments != ?5)",
            params![id, body, trimmed, uncut, attachments as i64],
        )?;
        if changed > 0 {
            unindex_posts(&tx, PostsOf::Post, id)?;
            index_posts(&tx, PostsOf::Post, id)?;
        }
        tx.commit()?;
        Ok(changed > 0)
    }

    /// Puts every journal entry the pipeline failed on back in line; returns how many.
    pub fn retry_failed_journal(&self, now: i64) -> Result<usize> {
        self.conn.run(
            "UPDATE holds SET closed_at = ?1, closed_how = 'retried by reprocess'
             WHERE closed_at IS NULL AND journal_id IN (SELECT id FROM journal WHERE state = 'failed')",
            [now],
        )?;
        Ok(self.conn.run(
            "UPDATE journal SET state = 'pending', outcome = NULL, attempts = 0
             WHERE state = 'failed'",
            [],
        )?)
    }
}

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

/// What `/metrics` reads from the store.
#[derive(Debug, Clone, Default)]
pub struct StoreFigures {
    pub journal_total: i64,
    pub journal_pending: i64,
    pub journal_failed: i64,
    /// Messages waiting in the holding pen.
    pub held: i64,
    /// Seconds the oldest pending message has waited for the pipeline.
    pub pipeline_lag_secs: i64,
    pub outbox_pending: i64,
    pub outbox_sent: i64,
    pub outbox_failed: i64,
    pub threads: i64,
    pub posts: i64,
}

impl Store {
    /// Counts for `/metrics`.
    pub fn figures_for_metrics(&self, now: i64) -> Result<StoreFigures> {
        let one = |sql: &str| -> Result<i64> { Ok(self.conn.one(sql, [], |r| r.get(0))?) };
        // The lowest pending id arrived first (give or take the second): read through the
        // index of pending entries, not the entries themselves.
        let oldest: Option<i64> = self
            .conn
            .one(
                "SELECT received_at FROM journal WHERE state = 'pending' ORDER BY id LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        // Not moved from the intake yet: pending too, and newer than anything in the journal.
        let (mut total, mut oldest) = (one("SELECT coalesce(max(id), 0) FROM journal")?, oldest);
        if self.intake {
            total = total.max(one("SELECT coalesce(max(id), 0) FROM intake.intake")?);
            oldest = oldest.or(self.conn.one(
                "SELECT min(received_at) FROM intake.intake",
                [],
                |r| r.get(0),
            )?);
        }
        let outbox_pending = one("SELECT count(*) FROM outbox WHERE state = 'pending'")?;
        let outbox_failed = one("SELECT count(*) FROM outbox WHERE state = 'failed'")?;
        Ok(StoreFigures {
            journal_total: total,
            journal_pending: self.waiting_in_intake()?
                + one("SELECT count(*) FROM journal WHERE state = 'pending'")?,
            journal_failed: one("SELECT count(*) FROM journal WHERE state = 'failed'")?,
            held: self.holds_waiting()?.0,
            pipeline_lag_secs: oldest.map_or(0, |t| (now - t).max(0)),
            outbox_pending,
            // The whole table counted through its smallest index, less the two small states.
            outbox_sent: one("SELECT count(*) FROM outbox")? - outbox_pending - outbox_failed,
            outbox_failed,
            threads: one("SELECT coalesce(max(id), 0) FROM threads")?,
            posts: one("SELECT coalesce(max(id), 0) FROM posts")?,
        })
    }

    /// A consistent copy of the whole store in a new file, taken while the service runs.
    pub fn backup(&self, to: &std::path::Path) -> Result<()> {
        self.conn
            .run("VACUUM INTO ?1", [to.to_string_lossy().as_ref()])?;
        Ok(())
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

    /// Marks a processed reply as held for the personal data in it, until its writer says
    /// publish ([`Tx::publish_held`]).
    pub fn hold_for_publication(&self, id: i64) -> Result<()> {
        self.tx
            .run("UPDATE journal SET publication = 1 WHERE id = ?1", [id])?;
        Ok(())
    }

    /// The raw mail of a reply held for its personal data, while it waits for its writer.
    pub fn held_for_publication(&self, id: i64) -> Result<Option<Vec<u8>>> {
        Ok(self
            .tx
            .one(
                "SELECT r.raw FROM journal j JOIN journal_raw r ON r.id = j.id
                 WHERE j.id = ?1 AND j.publication = 1",
                [id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The writer of a held reply said publish: the entry is processed again, from the start,
    /// and this time published as written.
    pub fn publish_held(&self, id: i64) -> Result<()> {
        super::holding_pen::release(&self.tx, id, None)?;
        self.requeued.set(self.requeued.get() + 1);
        Ok(())
    }

    /// How many journal entries this transaction made pending again.
    pub fn requeued(&self) -> usize {
        self.requeued.get()
    }

    /// Whether a journal entry still waits for the pipeline (another process may have taken it).
    pub fn is_pending(&self, id: i64) -> Result<bool> {
        Ok(self
            .tx
            .one(
                "SELECT state = 'pending' FROM journal WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(false))
    }
}
