//! The journal: raw mail and envelopes as received, and what became of each.

use rusqlite::{Connection, OptionalExtension, params};

use super::arrivals::{Arrivals, insert_arrivals};
use super::connection::{Store, Tx};
use super::error::Result;
use super::records::{Arrival, JournalEntry, JournalOutcome};
use super::sqlite::Cached;
use super::sqlite::id_list;
use super::sqlite::ids_within;
use crate::mail::Envelope;

pub(super) fn journal_failed(conn: &Connection, id: i64, error: &str, now: i64) -> Result<()> {
    conn.run(
        "UPDATE journal SET state = 'failed', outcome = ?2, processed_at = ?3 WHERE id = ?1",
        params![id, error, now],
    )?;
    Ok(())
}

impl Store {
    /// Adds messages straight to the journal, past the intake, and returns their ids: for
    /// tools and tests that fill a store (the receiver commits to the [`intake`]).
    pub fn journal_append(&mut self, messages: &[Arrival<'_>]) -> Result<Vec<i64>> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let ids = insert_arrivals(&tx, Arrivals::Journal, None, messages)?;
        tx.commit()?;
        Ok(ids)
    }

    /// The oldest journal entries the pipeline has not finished: at most `limit`, and while
    /// the raw mail of those before each stays under `bytes` (so at least one).
    pub fn pending_journal(&self, limit: usize, bytes: i64) -> Result<Vec<JournalEntry>> {
        let oldest = ids_within(
            "SELECT j.id, length(r.raw) AS size FROM journal j JOIN journal_raw r ON r.id = j.id
             WHERE j.state = 'pending' ORDER BY j.id LIMIT ?1",
            "id",
            "?2",
        );
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT j.id, received_at, peer, helo, mail_from, rcpt_to, raw, attempts,
                    publication = 2, assigned_to
             FROM journal j JOIN journal_raw r ON r.id = j.id
             WHERE j.id IN ({oldest}) ORDER BY j.id"
        ))?;
        let rows = stmt.query_map(params![limit as i64, bytes], |r| {
            let rcpt: String = r.get(5)?;
            Ok(JournalEntry {
                id: r.get(0)?,
                received_at: r.get(1)?,
                envelope: Envelope {
                    peer: r.get(2)?,
                    helo: r.get(3)?,
                    mail_from: r.get(4)?,
                    rcpt_to: rcpt.lines().map(str::to_owned).collect(),
                },
                raw: r.get(6)?,
                attempts: r.get(7)?,
                released: r.get(8)?,
                assigned_to: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Adds `delta` to the attempts of these journal entries: +1 in a commit of its own before
    /// the pipeline reads them, so the count survives the process dying on one of them; -1
    /// when the work was stopped by something else (the store was busy).
    pub fn journal_attempts(&mut self, ids: &[i64], delta: i64) -> Result<()> {
        let _turn = self.turn();
        self.conn.run(
            "UPDATE journal SET attempts = attempts + ?2
             WHERE id IN (SELECT value FROM json_each(?1))",
            params![id_list(ids), delta],
        )?;
        Ok(())
    }

    /// Records that the pipeline could not process a journal entry; the raw message stays.
    pub fn journal_failed(&mut self, id: i64, error: &str, now: i64) -> Result<()> {
        journal_failed(&self.conn, id, error, now)
    }

    /// Counts of journal entries by state (states with none left out), for tests and the
    /// operator. Counted through indexes: the entries themselves hold every message.
    pub fn journal_counts(&self) -> Result<Vec<(String, i64)>> {
        let one = |sql: &str| -> Result<i64> { Ok(self.conn.one(sql, [], |r| r.get(0))?) };
        let waiting = self.waiting_in_intake()?;
        let pending = one("SELECT count(*) FROM journal WHERE state = 'pending'")?;
        let failed = one("SELECT count(*) FROM journal WHERE state = 'failed'")?;
        let done = one("SELECT count(*) FROM journal")? - pending - failed;
        Ok([
            ("done", done),
            ("failed", failed),
            ("pending", pending + waiting),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(state, n)| (state.to_owned(), n))
        .collect())
    }

    /// What the pipeline did with a journal entry.
    pub fn journal_outcome(&self, id: i64) -> Result<Option<JournalOutcome>> {
        Ok(self
            .conn
            .one(
                "SELECT state, class, outcome FROM journal WHERE id = ?1",
                [id],
                |r| {
                    Ok(JournalOutcome {
                        state: r.get(0)?,
                        class: r.get(1)?,
                        outcome: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }
}

impl Tx<'_> {
    /// Records that the pipeline could not process a journal entry; the raw message stays.
    pub fn journal_failed(&self, id: i64, error: &str, now: i64) -> Result<()> {
        journal_failed(&self.tx, id, error, now)
    }

    /// Marks a journal entry processed, with its class and a sentence on what was done.
    pub fn finish_journal(&self, id: i64, class: &str, outcome: &str, now: i64) -> Result<()> {
        self.tx.run(
            "UPDATE journal SET state = 'done', class = ?2, outcome = ?3, processed_at = ?4 WHERE id = ?1",
            params![id, class, outcome, now],
        )?;
        Ok(())
    }
}

impl Tx<'_> {
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
