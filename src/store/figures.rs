//! What `/metrics` reads from the store.

use rusqlite::OptionalExtension;

use super::connection::Store;
use super::error::Result;
use super::sqlite::Cached;

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
}
