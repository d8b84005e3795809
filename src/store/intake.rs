//! The intake: where the receiver commits a message before answering `250`.
//!
//! A database file of its own beside the store. SQLite lets one connection write a database
//! file at a time, and the pipeline's transactions on the store are long beside a journal
//! commit: sharing one file, every commit of received mail waited behind them (and behind a
//! pipeline preempted mid-transaction on a busy machine). Here the receiver's commit only ever
//! waits for the disk. The pipeline moves what arrived into the store's journal (synced) before
//! it forgets it here, so a message is always durable in one of the two; moving twice is
//! harmless (same id).

use std::path::Path;

use rusqlite::Connection;

use super::arrivals::create;
use super::connection::Store;
use super::error::Result;
use super::records::Arrival;
use super::sqlite::Cached;

/// Most messages, and bytes of them, moved to the store's journal in one transaction: each move
/// is synced (fewer, larger ones cost fewer syncs), and a large one would keep the disk from the
/// receiver's own syncs.
const MOVE_BATCH: usize = 1024;
const MOVE_BYTES: i64 = 4 << 20;

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
        super::sqlite::configure(&mut conn)?;
        // FULL: a commit is on disk before `250` is answered, even across power loss.
        conn.pragma_update(None, "synchronous", "FULL")?;
        // Its commits never stop to checkpoint the write-ahead log (copy it back into the file
        // and sync), which would hold up the `250`s waiting on them: the checkpoints thread does.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
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

    /// Commits received messages in one transaction and returns their journal ids. Only after
    /// this returns may the receiver answer `250`. One writer only (the journal thread): the
    /// ids are counted here.
    pub fn append(&mut self, messages: &[Arrival<'_>]) -> Result<Vec<i64>> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let ids = super::arrivals::insert_arrivals(
            &tx,
            super::arrivals::Arrivals::Intake,
            Some(self.next_id),
            messages,
        )?;
        tx.commit()?;
        self.next_id += ids.len() as i64;
        Ok(ids)
    }
}

/// The pipeline's side of the intake: moves what arrived into the store's journal.
pub struct Mover {
    /// A store connection of its own (synced on every commit, unlike the pipeline's), with the
    /// intake attached.
    journal: Store,
}

impl Mover {
    /// Moves messages from the intake at `path` (created if missing) into `journal`, a store
    /// opened with [`Store::open`].
    pub fn open(path: &Path, mut journal: Store) -> Result<Mover> {
        journal.attach_intake(path)?;
        // Forgetting moved messages need not reach the disk at once: after a power loss they
        // are moved again, and skipped.
        journal
            .conn
            .pragma_update(Some("intake"), "synchronous", "NORMAL")?;
        Ok(Mover { journal })
    }

    /// Moves what arrived into the store's journal, oldest first, and returns how many
    /// messages moved. The store's commit is on disk before they are forgotten here.
    pub fn move_all(&mut self) -> Result<usize> {
        let conn = &self.journal.conn;
        // What arrives while this runs waits for the next call.
        let Some(until) = conn.one("SELECT max(id) FROM intake.intake", [], |r| {
            r.get::<_, Option<i64>>(0)
        })?
        else {
            return Ok(0);
        };
        let oldest = super::sqlite::ids_within(
            "SELECT id, length(raw) AS size FROM intake.intake
             WHERE id <= ?3 ORDER BY id LIMIT ?1",
            "id",
            "?2",
        );
        let chunk = format!("SELECT count(*), max(id) FROM ({oldest})");
        let mut moved = 0;
        loop {
            // The oldest messages up to MOVE_BATCH and MOVE_BYTES.
            let (count, last): (i64, Option<i64>) =
                conn.one(&chunk, (MOVE_BATCH as i64, MOVE_BYTES, until), |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
            let Some(last) = last else {
                return Ok(moved);
            };
            // One transaction writing the store's file only (deferred: it never locks the
            // intake), so the receiver goes on committing to the intake meanwhile. Ids moved
            // before a crash (and not forgotten yet) are skipped.
            let turn = self.journal.turn();
            let tx = conn.unchecked_transaction()?;
            tx.run(
                "INSERT OR IGNORE INTO main.journal (id, received_at, peer, helo, mail_from,
                        rcpt_to, sender_key, feedback, provider)
                 SELECT id, received_at, peer, helo, mail_from, rcpt_to, sender_key,
                        feedback, provider
                 FROM intake.intake WHERE id <= ?1",
                [last],
            )?;
            tx.run(
                "INSERT OR IGNORE INTO main.journal_raw (id, raw)
                 SELECT id, raw FROM intake.intake WHERE id <= ?1",
                [last],
            )?;
            tx.commit()?;
            drop(turn);
            conn.run("DELETE FROM intake.intake WHERE id <= ?1", [last])?;
            moved += count as usize;
        }
    }

    /// Messages committed to the intake and not moved yet.
    pub fn waiting(&self) -> Result<i64> {
        self.journal.waiting_in_intake()
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::intake_path as path_beside;
    use crate::store::testing::envelope;

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
        let pending = store.pending_journal(10, i64::MAX).unwrap();
        assert_eq!(pending.iter().map(|e| e.id).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(pending[1].raw, raw);
        assert_eq!(pending[1].envelope, env);
        assert_eq!(reader.journal_counts().unwrap(), [("pending".into(), 3)]);

        // A crash after the journal's commit and before the intake forgot them: moved again,
        // and skipped.
        let rows_back =
            "INSERT INTO intake.intake (id, received_at, peer, helo, mail_from, rcpt_to,
                                             sender_key, feedback, provider, raw)
                         VALUES (3, 6, 'p', 'h', 'm', 'r', 's', 0, NULL, x'00')";
        mover.journal.conn.execute(rows_back, []).unwrap();
        assert_eq!(mover.move_all().unwrap(), 1);
        assert_eq!(store.pending_journal(10, i64::MAX).unwrap()[2].raw, b"x");

        // Many large messages move in several transactions, all of them.
        let big = vec![b'y'; 3 << 20];
        let arrivals = vec![Arrival::new(&env, &big, 8); 3];
        intake.append(&arrivals).unwrap();
        assert_eq!(mover.move_all().unwrap(), 3);
        assert_eq!(mover.waiting().unwrap(), 0);
        assert_eq!(store.pending_journal(10, i64::MAX).unwrap().len(), 6);

        // After a restart, ids go on from the highest either file holds.
        drop(intake);
        let mut intake = Intake::open(&store, &path_beside(&path)).unwrap();
        assert_eq!(intake.append(&[Arrival::new(&env, b"y", 7)]).unwrap(), [7]);
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
