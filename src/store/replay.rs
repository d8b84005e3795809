//! What `nonono reprocess` needs: the published posts with the raw mail they came from, and
//! rewriting a post's text (and its search entry) in place.

use rusqlite::{OptionalExtension, params};

use super::connection::Store;
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

fn post_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PublishedPost> {
    Ok(PublishedPost {
        id: r.get(0)?,
        journal_id: r.get(1)?,
        participant_id: r.get(2)?,
        opening: r.get(3)?,
    })
}

/// The posts from mail that `condition` (over `posts p`, with `?1` = `id`) picks.
pub(super) fn published_posts_where(
    conn: &rusqlite::Connection,
    condition: &str,
    id: i64,
) -> rusqlite::Result<Vec<PublishedPost>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT p.id, p.journal_id, p.participant_id, p.journal_id = t.journal_id
         FROM posts p JOIN threads t ON t.id = p.thread_id
         WHERE p.journal_id IS NOT NULL AND {condition} ORDER BY p.id"
    ))?;
    let rows = stmt.query_map([id], post_from_row)?;
    rows.collect()
}

impl Store {
    /// Posts that came from mail and are shown, in order, `limit` of them after post `after`.
    /// A hidden post is not among them: its text was taken away on purpose, and deriving it
    /// again would put it back in the store.
    pub fn published_posts(&self, after: i64, limit: usize) -> Result<Vec<PublishedPost>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT p.id, p.journal_id, p.participant_id, p.journal_id = t.journal_id
             FROM posts p JOIN threads t ON t.id = p.thread_id
             WHERE p.journal_id IS NOT NULL AND p.removed IS NULL AND p.id > ?1
             ORDER BY p.id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after, limit as i64], post_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// How many shown posts came from mail.
    pub fn published_post_count(&self) -> Result<i64> {
        Ok(self.conn.one(
            "SELECT count(*) FROM posts WHERE journal_id IS NOT NULL AND removed IS NULL",
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
