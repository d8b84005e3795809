//! Readers' support of threads: one per confirmed address and thread.

use rusqlite::{OptionalExtension, params};

use super::connection::Tx;
use super::error::Result;
use super::records::Thread;
use super::sqlite::Cached;
use super::threads::{THREAD_COLUMNS, thread_from_row};

/// A support as given: whose, for which thread, and whether it counts yet.
#[derive(Debug, Clone)]
pub struct Support {
    pub thread_id: i64,
    pub person_id: i64,
    /// The supporter's address. Private: never published.
    pub address: String,
    pub confirmed: bool,
}

impl Tx<'_> {
    /// A thread, when it is public (not held, not removed).
    pub fn public_thread(&self, id: i64) -> Result<Option<Thread>> {
        Ok(self
            .tx
            .one(
                &format!(
                    "SELECT {THREAD_COLUMNS} FROM threads
                     WHERE id = ?1 AND held IS NULL AND removed IS NULL"
                ),
                [id],
                thread_from_row,
            )
            .optional()?)
    }

    /// Records a person's support of a thread, not counted until [`Tx::support_confirmed`].
    /// `None` when this person supports the thread already.
    pub fn add_support(&self, thread_id: i64, person_id: i64, now: i64) -> Result<Option<i64>> {
        let added = self.tx.run(
            "INSERT INTO supports (thread_id, person_id, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(thread_id, person_id) DO NOTHING",
            params![thread_id, person_id, now],
        )?;
        Ok((added == 1).then(|| self.tx.last_insert_rowid()))
    }

    /// A support by id.
    pub fn support(&self, id: i64) -> Result<Option<Support>> {
        Ok(self
            .tx
            .one(
                "SELECT s.thread_id, s.person_id, p.address, s.confirmed_at IS NOT NULL
                 FROM supports s JOIN people p ON p.id = s.person_id WHERE s.id = ?1",
                [id],
                |r| {
                    Ok(Support {
                        thread_id: r.get(0)?,
                        person_id: r.get(1)?,
                        address: r.get(2)?,
                        confirmed: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    /// Counts a support (once); returns the thread's count of supporters.
    pub fn support_confirmed(&self, id: i64, now: i64) -> Result<i64> {
        let counted = self.tx.run(
            "UPDATE supports SET confirmed_at = ?2 WHERE id = ?1 AND confirmed_at IS NULL",
            params![id, now],
        )?;
        if counted == 1 {
            self.tx.run(
                "UPDATE threads SET supporters = supporters + 1
                 WHERE id = (SELECT thread_id FROM supports WHERE id = ?1)",
                [id],
            )?;
        }
        Ok(self.tx.one(
            "SELECT supporters FROM threads WHERE id = (SELECT thread_id FROM supports WHERE id = ?1)",
            [id],
            |r| r.get(0),
        )?)
    }
}
