//! Feedback held back until its writer confirms: new addresses (with `require_confirmation`)
//! and texts that carry personal data. Held threads are in no page, feed, search or export.

use rusqlite::{OptionalExtension, params};

use super::connection::{Store, Tx};
use super::error::{Result, StoreError};
use super::records::{Participant, Role};
use super::search::{PostsOf, index_posts};
use super::sqlite::Cached;

/// What a held thread needs to go public: its two sides and the writer's text.
#[derive(Debug, Clone)]
pub struct Opening {
    pub consumer: Participant,
    /// `None` for feedback about a company not registered yet.
    pub company: Option<Participant>,
    pub person_id: Option<i64>,
    pub body: String,
}

impl Tx<'_> {
    /// Whether a person has confirmed an earlier message.
    pub fn person_confirmed(&self, person: i64) -> Result<bool> {
        Ok(self.tx.one(
            "SELECT confirmed_at IS NOT NULL FROM people WHERE id = ?1",
            [person],
            |r| r.get(0),
        )?)
    }

    /// Records that a person confirmed they wrote to us.
    pub fn confirm_person(&self, person: i64, now: i64) -> Result<()> {
        self.tx.run(
            "UPDATE people SET confirmed_at = ?2 WHERE id = ?1 AND confirmed_at IS NULL",
            params![person, now],
        )?;
        Ok(())
    }

    /// The writer's side, the company's side and the opening text of a thread.
    pub fn opening(&self, thread: i64) -> Result<Opening> {
        let participant = |role: Role| {
            self.participants(thread, role)?
                .into_iter()
                .next()
                .ok_or(StoreError::Missing {
                    what: "participant of thread",
                    id: thread,
                })
        };
        let (body, person_id) = self.tx.one(
            "SELECT p.body, pa.person_id FROM posts p JOIN participants pa ON pa.id = p.participant_id
             WHERE p.thread_id = ?1 ORDER BY p.id LIMIT 1",
            [thread],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(Opening {
            consumer: participant(Role::Consumer)?,
            company: self
                .participants(thread, Role::Provider)?
                .into_iter()
                .next(),
            person_id,
            body,
        })
    }

    /// The threads of `person` still held for their confirmation, oldest first.
    pub fn held_for_confirmation(&self, person: i64) -> Result<Vec<i64>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT DISTINCT t.id FROM threads t
             JOIN participants p ON p.thread_id = t.id AND p.role = 'consumer'
             WHERE p.person_id = ?1 AND t.held = 'confirmation'
             ORDER BY t.id",
        )?;
        let rows = stmt.query_map([person], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Makes a held thread public: in pages, feeds, search and the export.
    pub fn release(&self, thread: i64) -> Result<()> {
        self.tx
            .run("UPDATE threads SET held = NULL WHERE id = ?1", [thread])?;
        index_posts(&self.tx, PostsOf::Thread, thread)?;
        Ok(())
    }
}

impl Store {
    /// Deletes threads still held since before `before`, and empties the raw mail they came
    /// from: an unconfirmed writer's words are not kept. Returns how many threads went.
    pub fn purge_held(&mut self, before: i64) -> Result<usize> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let threads: Vec<i64> = tx
            .prepare("SELECT id FROM threads WHERE held IS NOT NULL AND created_at < ?1")?
            .query_map([before], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for &thread in &threads {
            purge(&tx, thread, "purged: the writer never confirmed")?;
        }
        tx.commit()?;
        Ok(threads.len())
    }
}

/// Deletes a held thread and empties the raw mail it came from, its journal entries saying
/// `why`.
fn purge(conn: &rusqlite::Connection, thread: i64, why: &str) -> Result<()> {
    conn.run(
        "UPDATE journal SET outcome = ?2
         WHERE id IN (SELECT journal_id FROM threads WHERE id = ?1
                      UNION SELECT journal_id FROM posts WHERE thread_id = ?1)",
        params![thread, why],
    )?;
    for sql in [
        "UPDATE journal_raw SET raw = x''
         WHERE id IN (SELECT journal_id FROM threads WHERE id = ?1
                      UNION SELECT journal_id FROM posts WHERE thread_id = ?1)",
        "DELETE FROM outbox WHERE thread_id = ?1",
        "DELETE FROM events WHERE thread_id = ?1",
        "DELETE FROM posts WHERE thread_id = ?1",
        "DELETE FROM participants WHERE thread_id = ?1",
        "DELETE FROM threads WHERE id = ?1 AND held IS NOT NULL",
    ] {
        conn.run(sql, [thread])?;
    }
    Ok(())
}

impl Tx<'_> {
    /// The owner of the address says they did not write a held thread: it goes, as an
    /// unconfirmed one does after its days.
    pub fn purge_declined(&self, thread: i64) -> Result<()> {
        purge(
            &self.tx,
            thread,
            "purged: the address's owner says they did not write it",
        )
    }
}

impl Tx<'_> {
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
}
