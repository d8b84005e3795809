//! What [`crate::domain::tone`] needs from the store: a company's earlier answers, template marks, and
//! whether a thread's private note went out already.

use rusqlite::params;

use super::connection::Tx;
use super::error::Result;
use super::sqlite::Cached;

impl Tx<'_> {
    /// The newest official answers of a company in threads other than `thread_id`: (post id,
    /// text), at most `limit`.
    pub fn company_answers(
        &self,
        provider: &str,
        thread_id: i64,
        limit: usize,
    ) -> Result<Vec<(i64, String)>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT p.id, p.body FROM posts p JOIN threads t ON t.id = p.thread_id
             WHERE t.provider = ?1 AND p.thread_id != ?2 AND p.kind = 'official'
               AND p.removed IS NULL
             ORDER BY p.id DESC LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![provider, thread_id, limit as i64], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Marks an answer as a template.
    pub fn mark_template(&self, post_id: i64) -> Result<()> {
        self.tx
            .run("UPDATE posts SET template = 1 WHERE id = ?1", [post_id])?;
        Ok(())
    }

    /// Whether mail for `purpose` was queued in a thread already.
    pub fn sent_in_thread(
        &self,
        thread_id: i64,
        purpose: super::outbox::OutboxPurpose,
    ) -> Result<bool> {
        Ok(self.tx.one(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE thread_id = ?1 AND purpose = ?2)",
            params![thread_id, purpose.as_str()],
            |r| r.get(0),
        )?)
    }
}
