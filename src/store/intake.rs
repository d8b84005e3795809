//! The intake: where the receiver commits a message before answering `250`.
//!
//! A database file of its own beside the store. SQLite lets one connection write a database
//! file at a time, and the pipeline's transactions on the store are long beside a journal
//! commit: sharing one file, every commit of received mail waited behind them (and behind a
//! pipeline preempted mid-transaction on a busy machine). Here the receiver's commit only ever
//! waits for the disk. The pipeline moves what arrived into the store's journal (synced) before
//! it forgets it here, so a message is always durable in one of the two; moving twice is
//! harmless (same id).

use std::path::{Path, PathBuf};

use rusqlite::{Connection, params};

use super::{Arrival, Cached, Result, Store};

/// The intake file beside the store at `store`.
pub fn path_beside(store: &Path) -> PathBuf {
    store.with_file_name("intake.sqlite3")
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS intake (
    id INTEGER PRIMARY KEY,
    received_at INTEGER NOT NULL,
    peer TEXT NOT NULL,
    helo TEXT NOT NULL,
    mail_from TEXT NOT NULL,
    rcpt_to TEXT NOT NULL,
    sender_key TEXT NOT NULL,
    feedback INTEGER NOT NULL,
    provider TEXT,
    raw BLOB NOT NULL
);";

/// Creates the intake at `path` unless it exists.
pub(crate) fn create(path: &Path) -> Result<()> {
    let mut conn = Connection::open(path)?;
    conn.busy_handler(Some(super::wait_for_lock))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.execute_batch(SCHEMA)?;
    Ok(())
}

/// Most messages moved to the store's journal in one transaction.
const MOVE_BATCH: usize = 512;

/// A connection to the intake.
pub struct Intake {
    conn: Connection,
    /// The id the next message gets: journal ids continue across both files.
    next_id: i64,
}

impl Intake {
    /// Opens (creating if needed) the intake beside `store`, whose journal ids it continues.
    pub fn open(store: &Store, path: &Path) -> Result<Intake> {
        create(path)?;
        let mut conn = Connection::open(path)?;
        conn.busy_handler(Some(super::wait_for_lock))?;
        // FULL: a commit is on disk before `250` is answered, even across power loss.
        conn.pragma_update(None, "synchronous", "FULL")?;
        let last_here: i64 =
            conn.one("SELECT coalesce(max(id), 0) FROM intake", [], |r| r.get(0))?;
        let last_moved: i64 =
            store
                .conn
                .one("SELECT coalesce(max(id), 0) FROM journal", [], |r| r.get(0))?;
        Ok(Intake {
            conn,
            next_id: last_here.max(last_moved) + 1,
        })
    }

    /// For the receiver's connection: its commits never stop to checkpoint the write-ahead log
    /// (copy it back into the file and sync), which would hold up the `250`s waiting on them;
    /// the pipeline's connection, which empties the intake, does that.
    pub fn leave_checkpoints_to_the_pipeline(&self) -> Result<()> {
        self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        Ok(())
    }

    /// Commits received messages in one transaction and returns their journal ids. Only after
    /// this returns may the receiver answer `250`. One writer only (the journal thread): the
    /// ids are counted here.
    pub fn append(&mut self, messages: &[Arrival<'_>]) -> Result<Vec<i64>> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut ids = Vec::with_capacity(messages.len());
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO intake (id, received_at, peer, helo, mail_from, rcpt_to, raw,
                                     sender_key, feedback, provider)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            for (m, id) in messages.iter().zip(self.next_id..) {
                let env = m.envelope;
                stmt.execute(params![
                    id,
                    m.received_at,
                    env.peer,
                    env.helo,
                    env.mail_from,
                    env.rcpt_to.join("\n"),
                    m.raw,
                    crate::limits::sender_key(&env.mail_from),
                    m.feedback,
                    m.provider
                ])?;
                ids.push(id);
            }
        }
        tx.commit()?;
        self.next_id += ids.len() as i64;
        Ok(ids)
    }
}

/// The pipeline's side of the intake: moves what arrived into the store's journal.
pub struct Mover {
    intake: Connection,
    /// A connection of its own, synced on every commit, unlike the pipeline's.
    journal: Store,
}

impl Mover {
    /// Opens the intake at `path` (which must exist: see [`Intake::open`]) to move messages
    /// from it into `journal`, a store opened with [`Store::open`].
    pub fn open(path: &Path, journal: Store) -> Result<Mover> {
        let mut intake = Connection::open(path)?;
        intake.busy_handler(Some(super::wait_for_lock))?;
        // Forgetting moved messages need not reach the disk at once: after a power loss they
        // are moved again, and skipped.
        intake.pragma_update(None, "synchronous", "NORMAL")?;
        Ok(Mover { intake, journal })
    }

    /// Moves what arrived into the store's journal, oldest first, and returns how many
    /// messages moved. The store's commit is on disk before they are forgotten here.
    pub fn move_all(&mut self) -> Result<usize> {
        let mut moved = 0;
        loop {
            let rows: Vec<Row> = {
                let mut stmt = self.intake.prepare_cached(
                    "SELECT id, received_at, peer, helo, mail_from, rcpt_to, raw, sender_key,
                            feedback, provider
                     FROM intake ORDER BY id LIMIT ?1",
                )?;
                stmt.query_map([MOVE_BATCH as i64], |r| {
                    Ok(Row {
                        id: r.get(0)?,
                        received_at: r.get(1)?,
                        peer: r.get(2)?,
                        helo: r.get(3)?,
                        mail_from: r.get(4)?,
                        rcpt_to: r.get(5)?,
                        raw: r.get(6)?,
                        sender_key: r.get(7)?,
                        feedback: r.get(8)?,
                        provider: r.get(9)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?
            };
            let Some(last) = rows.last().map(|r| r.id) else {
                return Ok(moved);
            };
            self.journal.take_arrivals(&rows)?;
            self.intake
                .run("DELETE FROM intake WHERE id <= ?1", [last])?;
            moved += rows.len();
            if rows.len() < MOVE_BATCH {
                return Ok(moved);
            }
        }
    }

    /// Messages committed to the intake and not moved yet.
    pub fn waiting(&self) -> Result<i64> {
        Ok(self
            .intake
            .one("SELECT count(*) FROM intake", [], |r| r.get(0))?)
    }
}

/// A message as committed to the intake.
struct Row {
    id: i64,
    received_at: i64,
    peer: String,
    helo: String,
    mail_from: String,
    rcpt_to: String,
    raw: Vec<u8>,
    sender_key: String,
    feedback: bool,
    provider: Option<String>,
}

impl Store {
    /// Adds messages from the intake to the journal, as pending (synced to disk: this store
    /// was opened with [`Store::open`]). Ids already here (moved before a crash) are skipped.
    fn take_arrivals(&mut self, rows: &[Row]) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR IGNORE INTO journal (id, received_at, peer, helo, mail_from,
                                                rcpt_to, raw, sender_key, feedback, provider)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            for r in rows {
                stmt.execute(params![
                    r.id,
                    r.received_at,
                    r.peer,
                    r.helo,
                    r.mail_from,
                    r.rcpt_to,
                    r.raw,
                    r.sender_key,
                    r.feedback,
                    r.provider
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::Envelope;

    fn envelope(from: &str) -> Envelope {
        Envelope {
            mail_from: from.into(),
            rcpt_to: vec!["palaute@nonono.localhost".into()],
            peer: "192.0.2.1".into(),
            helo: "h".into(),
        }
    }

    #[test]
    fn received_mail_moves_into_the_journal_with_its_ids_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite3");
        let mut store = Store::open(&path).unwrap();
        let env = envelope("matti@example.fi");
        // Journal ids continue after what the store already holds.
        store
            .journal_append(&[Arrival::new(&env, b"earlier", 1)])
            .unwrap();
        let mut intake = Intake::open(&store, &path_beside(&path)).unwrap();
        let raw = b"\xff\x00binary\r\n".to_vec();
        let ids = intake
            .append(&[Arrival::new(&env, &raw, 5), Arrival::new(&env, b"x", 6)])
            .unwrap();
        assert_eq!(ids, [2, 3]);

        let reader = Store::open_readonly(&path).unwrap();
        assert_eq!(reader.journal_counts().unwrap(), [("pending".into(), 3)]);
        let limits = reader
            .limit_counts("matti@example.fi", "192.0.2.1", None, 6)
            .unwrap();
        assert_eq!(limits.ip_hour, 0, "not feedback: not counted");

        let mut mover = Mover::open(&path_beside(&path), Store::open(&path).unwrap()).unwrap();
        assert_eq!(mover.move_all().unwrap(), 2);
        assert_eq!(mover.waiting().unwrap(), 0);
        let pending = store.pending_journal(10).unwrap();
        assert_eq!(pending.iter().map(|e| e.id).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(pending[1].raw, raw);
        assert_eq!(pending[1].envelope, env);
        assert_eq!(reader.journal_counts().unwrap(), [("pending".into(), 3)]);

        // A crash after the journal's commit and before the intake forgot them: moved again,
        // and skipped.
        let rows_back = "INSERT INTO intake (id, received_at, peer, helo, mail_from, rcpt_to,
                                             sender_key, feedback, provider, raw)
                         VALUES (3, 6, 'p', 'h', 'm', 'r', 's', 0, NULL, x'00')";
        mover.intake.execute(rows_back, []).unwrap();
        assert_eq!(mover.move_all().unwrap(), 1);
        assert_eq!(store.pending_journal(10).unwrap()[2].raw, b"x");

        // After a restart, ids go on from the highest either file holds.
        drop(intake);
        let mut intake = Intake::open(&store, &path_beside(&path)).unwrap();
        assert_eq!(intake.append(&[Arrival::new(&env, b"y", 7)]).unwrap(), [4]);
    }

    #[test]
    fn the_abuse_limits_count_what_waits_in_the_intake() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite3");
        let store = Store::open(&path).unwrap();
        let mut intake = Intake::open(&store, &path_beside(&path)).unwrap();
        let env = envelope("Matti+x@Example.fi");
        let feedback = Arrival {
            feedback: true,
            provider: Some("elisa"),
            ..Arrival::new(&env, b"x", 100)
        };
        intake.append(&[feedback, feedback]).unwrap();
        let counts = Store::open_readonly(&path)
            .unwrap()
            .limit_counts("matti@example.fi", "192.0.2.1", Some("elisa"), 200)
            .unwrap();
        assert_eq!(
            (counts.address_hour, counts.ip_hour, counts.pair_day),
            (2, 2, 2)
        );
    }
}
