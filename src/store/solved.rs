//! Whether writers say their problem was solved, and who has been asked.

use rusqlite::params;

use super::connection::Tx;
use super::error::Result;
use super::records::{Participant, Role, Thread};
use super::sqlite::Cached;
use super::threads::{THREAD_COLUMN_COUNT, THREAD_COLUMNS, thread_from_row};

impl Tx<'_> {
    /// Public threads with a company answer whose writer has not been asked yet, each with its
    /// writer.
    pub fn solved_questions_pending(&self) -> Result<Vec<(Thread, Participant)>> {
        let columns = THREAD_COLUMNS
            .split(", ")
            .map(|c| format!("t.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT {columns}, pa.id, pa.address, pa.public_name, pa.language
             FROM threads t
             JOIN participants pa ON pa.id = (SELECT min(id) FROM participants
                                              WHERE thread_id = t.id AND role = 'consumer')
             WHERE t.first_answer_at IS NOT NULL AND t.solved_asked_at IS NULL
               AND t.solved IS NULL AND t.provider IS NOT NULL
               AND t.held IS NULL AND t.removed IS NULL
             ORDER BY t.first_answer_at"
        ))?;
        let n = THREAD_COLUMN_COUNT;
        let rows = stmt.query_map([], |r| {
            let thread = thread_from_row(r)?;
            let writer = Participant {
                id: r.get(n)?,
                thread_id: thread.id,
                role: Role::Consumer,
                address: r.get(n + 1)?,
                public_name: r.get(n + 2)?,
                language: r.get(n + 3)?,
            };
            Ok((thread, writer))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records that the writer was asked.
    pub fn solved_asked(&self, thread_id: i64, now: i64) -> Result<()> {
        self.tx.run(
            "UPDATE threads SET solved_asked_at = ?2 WHERE id = ?1",
            params![thread_id, now],
        )?;
        Ok(())
    }

    /// Records the writer's word; a later word replaces an earlier one.
    pub fn record_solved(&self, thread_id: i64, solved: bool, now: i64) -> Result<()> {
        self.tx.run(
            "UPDATE threads SET solved = ?2, solved_at = ?3 WHERE id = ?1",
            params![thread_id, solved, now],
        )?;
        Ok(())
    }
}
