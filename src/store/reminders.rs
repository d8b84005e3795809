//! Threads whose company has not answered in time, and the reminders sent about them.

use rusqlite::params;

use super::connection::Tx;
use super::error::Result;
use super::records::Thread;
use super::sqlite::Cached;
use super::threads::{THREAD_COLUMN_COUNT, THREAD_COLUMNS, thread_from_row};

impl Tx<'_> {
    /// Public, unanswered threads of registered companies whose next reminder is due at `now`,
    /// with how many reminders each has had, fewer than `max`.
    pub fn reminders_due(&self, now: i64, max: i64) -> Result<Vec<(Thread, i64)>> {
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT {THREAD_COLUMNS}, reminders FROM threads
             WHERE first_answer_at IS NULL AND due_at IS NOT NULL
               AND coalesce(next_reminder_at, due_at) <= ?1 AND reminders < ?2
               AND provider IS NOT NULL AND held IS NULL AND removed IS NULL
             ORDER BY due_at"
        ))?;
        let rows = stmt.query_map(params![now, max], |r| {
            Ok((thread_from_row(r)?, r.get(THREAD_COLUMN_COUNT)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records that reminder number `count` went out; the next is due at `next_at`.
    pub fn reminded(&self, thread_id: i64, count: i64, next_at: i64) -> Result<()> {
        self.tx.run(
            "UPDATE threads SET reminders = ?2, next_reminder_at = ?3 WHERE id = ?1",
            params![thread_id, count, next_at],
        )?;
        Ok(())
    }
}
