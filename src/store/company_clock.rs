//! When a company's response time runs: from the moment its mail server accepted our mail, and
//! not while mail to it bounces.

use rusqlite::params;

use super::connection::Tx;
use super::error::Result;
use super::sqlite::Cached;

impl Tx<'_> {
    /// The company's server accepted mail in this thread. The first time, its response time
    /// starts now and runs out at `due_at`; after its mail bounced, the clock runs on from
    /// where it stopped, the pause added (an overdue thread stays overdue: a forged bounce
    /// buys no time).
    pub fn company_reached(&self, thread_id: i64, now: i64, due_at: i64) -> Result<()> {
        // Every expression reads the row as it was before this update.
        self.tx.run(
            "UPDATE threads SET
                 due_at = CASE
                     WHEN undeliverable_at IS NOT NULL AND due_before_pause IS NOT NULL
                         THEN due_before_pause + max(?2 - undeliverable_at, 0)
                     WHEN delivered_at IS NULL OR undeliverable_at IS NOT NULL THEN ?3
                     ELSE due_at END,
                 delivered_at = coalesce(delivered_at, ?2),
                 undeliverable_at = NULL,
                 due_before_pause = NULL
             WHERE id = ?1",
            params![thread_id, now, due_at],
        )?;
        Ok(())
    }

    /// Mail to the company in this thread bounced: its clock stops until mail gets through.
    pub fn company_unreachable(&self, thread_id: i64, now: i64) -> Result<()> {
        self.tx.run(
            "UPDATE threads SET undeliverable_at = coalesce(undeliverable_at, ?2),
                 due_before_pause = coalesce(due_before_pause, due_at), due_at = NULL
             WHERE id = ?1 AND first_answer_at IS NULL",
            params![thread_id, now],
        )?;
        Ok(())
    }

    /// Threads whose clock stopped because mail to the company's address `route` bounced,
    /// with when it stopped: mail to the route got through again.
    pub fn paused_on_route(&self, route: &str) -> Result<Vec<(i64, i64)>> {
        // CROSS JOIN keeps this order: the few paused threads (a partial index), then their
        // participants by thread. Left to itself, SQLite scanned every participant, on every
        // delivery to a company.
        let mut stmt = self.tx.prepare_cached(
            "SELECT DISTINCT t.id, t.undeliverable_at FROM threads t
             CROSS JOIN participants p ON p.thread_id = t.id AND p.role = 'provider'
             WHERE t.undeliverable_at IS NOT NULL AND p.address = ?1",
        )?;
        let rows = stmt.query_map([route], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Sends again, at `now`, the newest failed message to each company address whose threads
    /// have their clock paused, when that message failed before `failed_before`, was sent
    /// again fewer than `most` times, and nothing else to the address waits, of the
    /// `registered` companies: whether the address takes mail now is learned from the address,
    /// not from whoever sent the report. Returns how many.
    pub fn probe_paused_routes(
        &self,
        failed_before: i64,
        most: i64,
        registered: &[&str],
        now: i64,
    ) -> Result<usize> {
        Ok(self.tx.run(
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?3,
                 probes = probes + 1
             WHERE id IN (
                 SELECT f.id FROM (
                     SELECT p.address AS route, max(o.id) AS id FROM threads t
                     CROSS JOIN participants p ON p.thread_id = t.id AND p.role = 'provider'
                     JOIN outbox o ON o.participant_id = p.id AND o.state = 'failed'
                     WHERE t.undeliverable_at IS NOT NULL
                         AND t.provider IN (SELECT value FROM json_each(?4))
                     GROUP BY p.address
                 ) f JOIN outbox o ON o.id = f.id
                 WHERE coalesce(o.failed_at, o.created_at) < ?1 AND o.probes < ?2
                     AND NOT EXISTS (SELECT 1 FROM outbox w
                         WHERE w.rcpt_to = f.route AND w.state = 'pending'
                             AND w.purpose IN ('forward', 'reminder', 'relay')))",
            params![
                failed_before,
                most,
                now,
                serde_json::to_string(registered).unwrap_or_default()
            ],
        )?)
    }
}
