//! Removal: a writer erasing their own feedback, and the operator hiding a post or a thread.
//! Text goes (and with a writer's erasure, the raw mail too); a public tombstone and an audit
//! entry stay.

use rusqlite::{OptionalExtension, params};

use super::connection::{Store, Tx};
use super::error::Result;
use super::records::RemovedBy;
use super::search::{PostsOf, index_posts, unindex_posts};
use super::sqlite::Cached;

/// What the operator's hiding is undone for.
#[derive(Debug, Clone, Copy)]
pub enum Restore {
    Post(i64),
    Thread(i64),
}

/// One entry of the audit trail.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub reason: String,
}

fn clear_posts(
    conn: &rusqlite::Connection,
    which: PostsOf,
    id: i64,
    by: RemovedBy,
    reason: &str,
    now: i64,
) -> rusqlite::Result<usize> {
    unindex_posts(conn, which, id)?;
    conn.run(
        &format!(
            "UPDATE posts SET body = '', trimmed = '', removed = ?2, removed_reason = ?3, removed_at = ?4
             WHERE {} = ?1 AND removed IS NULL",
            which.column()
        ),
        params![id, by.as_str(), reason, now],
    )
}

pub(super) fn audit(
    conn: &rusqlite::Connection,
    actor: &str,
    action: &str,
    target: &str,
    reason: &str,
    now: i64,
) -> rusqlite::Result<()> {
    conn.run(
        "INSERT INTO audit (at, actor, action, target, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![now, actor, action, target, reason],
    )?;
    Ok(())
}

impl Tx<'_> {
    /// Empties the raw mail of a journal entry (an erasure request is the writer's mail too).
    pub fn forget_raw(&self, journal: i64) -> Result<()> {
        self.tx
            .run("UPDATE journal_raw SET raw = x'' WHERE id = ?1", [journal])?;
        Ok(())
    }

    /// Erases everything a participant wrote in a thread, at their own request: the posts
    /// become tombstones, the raw mail is emptied, and a thread they opened loses its title.
    /// Returns how many posts went.
    pub fn erase_by_writer(
        &self,
        participant: i64,
        neutral_title: &str,
        now: i64,
    ) -> Result<usize> {
        for sql in [
            "UPDATE journal SET outcome = 'erased by the writer'
             WHERE id IN (SELECT journal_id FROM posts WHERE participant_id = ?1)",
            "UPDATE journal_raw SET raw = x''
             WHERE id IN (SELECT journal_id FROM posts WHERE participant_id = ?1)",
        ] {
            self.tx.run(sql, [participant])?;
        }
        let erased = clear_posts(
            &self.tx,
            PostsOf::Participant,
            participant,
            RemovedBy::Writer,
            "",
            now,
        )?;
        // The thread's other posts (the company's answers) were found by its title too.
        let opened: Option<i64> = self
            .tx
            .one(
                "SELECT thread_id FROM participants WHERE id = ?1 AND role = 'consumer'",
                [participant],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(thread) = opened {
            unindex_posts(&self.tx, PostsOf::Thread, thread)?;
            self.tx.run(
                "UPDATE threads SET title = ?2 WHERE id = ?1",
                params![thread, neutral_title],
            )?;
            index_posts(&self.tx, PostsOf::Thread, thread)?;
        }
        audit(
            &self.tx,
            RemovedBy::Writer.as_str(),
            "erase",
            &format!("participant {participant}"),
            "",
            now,
        )?;
        Ok(erased)
    }
}

impl Store {
    /// Hides one post with a public reason (operator moderation).
    pub fn remove_post(&mut self, post: i64, reason: &str, now: i64) -> Result<bool> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let removed = clear_posts(&tx, PostsOf::Post, post, RemovedBy::Operator, reason, now)? > 0;
        if removed {
            audit(
                &tx,
                RemovedBy::Operator.as_str(),
                "hide post",
                &format!("post {post}"),
                reason,
                now,
            )?;
        }
        tx.commit()?;
        Ok(removed)
    }

    /// Hides a whole thread with a public reason (operator moderation).
    pub fn remove_thread(&mut self, thread: i64, reason: &str, now: i64) -> Result<bool> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let removed = tx.run(
            "UPDATE threads SET removed = 'operator', removed_reason = ?2, removed_at = ?3
             WHERE id = ?1 AND removed IS NULL",
            params![thread, reason, now],
        )? > 0;
        if removed {
            clear_posts(
                &tx,
                PostsOf::Thread,
                thread,
                RemovedBy::Operator,
                reason,
                now,
            )?;
            audit(
                &tx,
                RemovedBy::Operator.as_str(),
                "hide thread",
                &format!("thread {thread}"),
                reason,
                now,
            )?;
        }
        tx.commit()?;
        Ok(removed)
    }

    /// Undoes the operator's hiding of a post, or of a whole thread (`thread`): the flags are
    /// cleared and the audit trail says who undid what and why. Returns the posts whose text
    /// is to be derived again from their raw mail (hiding emptied it); `None` when nothing the
    /// operator hid is there. A writer's own erasure is never undone.
    pub fn restore(
        &mut self,
        target: Restore,
        reason: &str,
        now: i64,
    ) -> Result<Option<Vec<super::replay::PublishedPost>>> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let (posts, what, id) = match target {
            Restore::Post(post) => ("p.id = ?1", "post", post),
            Restore::Thread(thread) => {
                let shown = tx.run(
                    "UPDATE threads SET removed = NULL, removed_reason = NULL, removed_at = NULL
                     WHERE id = ?1 AND removed = 'operator'",
                    [thread],
                )?;
                if shown == 0 {
                    return Ok(None);
                }
                ("p.thread_id = ?1", "thread", thread)
            }
        };
        let restored = super::replay::published_posts_where(
            &tx,
            &format!("{posts} AND p.removed = 'operator'"),
            id,
        )?;
        if restored.is_empty() && what == "post" {
            return Ok(None);
        }
        tx.run(
            &format!(
                "UPDATE posts SET removed = NULL, removed_reason = NULL, removed_at = NULL
                 WHERE id IN (SELECT p.id FROM posts p WHERE {posts} AND p.removed = 'operator')"
            ),
            [id],
        )?;
        audit(
            &tx,
            RemovedBy::Operator.as_str(),
            &format!("restore {what}"),
            &format!("{what} {id}"),
            reason,
            now,
        )?;
        tx.commit()?;
        Ok(Some(restored))
    }

    /// The audit trail, oldest first.
    pub fn audit_trail(&self) -> Result<Vec<AuditEntry>> {
        let mut stmt = self
            .conn
            .prepare("SELECT at, actor, action, target, reason FROM audit ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok(AuditEntry {
                at: r.get(0)?,
                actor: r.get(1)?,
                action: r.get(2)?,
                target: r.get(3)?,
                reason: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
