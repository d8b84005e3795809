//! The connection: opening, configuring and migrating the database, taking turns at the
//! write lock, and the transaction every write goes through.

use std::path::Path;
use std::sync::Arc;

use rusqlite::{Connection, OpenFlags};

use super::error::{Result, StoreError};
use super::search::index_post_list;
use super::sqlite::{Cached, LOG_FILE_LIMIT, configure};
use super::turns::{Turn, WriteTurns};

/// One connection to the store.
pub struct Store {
    pub(super) conn: Connection,
    /// Whether the intake is attached (read-only connections): what the receiver committed
    /// and the pipeline has not moved yet counts as pending journal entries.
    pub(super) intake: bool,
    /// Turns at the write lock shared with the service's other writers, if it has any.
    pub(super) turns: Option<Arc<WriteTurns>>,
}

/// A store connection shared by async tasks. SQLite calls block, so each call runs on the
/// blocking pool, one at a time per connection.
#[derive(Clone)]
pub struct Shared(std::sync::Arc<std::sync::Mutex<Store>>);

impl Shared {
    pub fn new(store: Store) -> Self {
        Shared(std::sync::Arc::new(std::sync::Mutex::new(store)))
    }

    /// Runs `f` with the connection, off the async threads.
    pub async fn run<T: Send + 'static, E: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> std::result::Result<T, E> + Send + 'static,
    ) -> std::result::Result<T, E> {
        let store = self.0.clone();
        tokio::task::spawn_blocking(move || f(&mut store.lock().expect("store lock")))
            .await
            .expect("a store call panicked")
    }
}

/// Brings the schema up to date in one exclusive transaction; refuses a newer schema.
pub(super) fn migrate(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)?;
    let version = tx.one("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
    let known = super::migrations::MIGRATIONS.len();
    if version > known {
        return Err(StoreError::TooNew {
            found: version,
            known,
        });
    }
    for (i, sql) in super::migrations::MIGRATIONS
        .iter()
        .enumerate()
        .skip(version)
    {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
    }
    tx.commit()?;
    Ok(())
}

/// A write transaction: everything the pipeline does for one message.
pub struct Tx<'a> {
    pub(super) tx: rusqlite::Transaction<'a>,
    /// Posts added here, indexed for search at the commit, all in one statement: indexed one
    /// by one, every entry's savepoint made the index write a segment of its own and merge them
    /// (a fifth of the pipeline's time, and a quarter of the bytes it wrote).
    pub(super) unindexed: std::cell::RefCell<Vec<i64>>,
    /// Journal entries made pending again here (see [`Tx::publish_held`]).
    pub(super) requeued: std::cell::Cell<usize>,
    /// Dropped after the transaction ends.
    pub(super) _turn: Option<Turn>,
}

impl Store {
    /// Opens (creating if needed) the store for writing, and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        let mut conn = Connection::open(path)?;
        configure(&mut conn)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a commit is on disk before `250` is answered, even across power loss.
        conn.pragma_update(None, "synchronous", "FULL")?;
        migrate(&mut conn)?;
        Ok(Store {
            conn,
            intake: false,
            turns: None,
        })
    }

    /// A store in memory with the same schema, for the rules' tests: nothing on disk, gone
    /// when dropped.
    pub fn open_in_memory() -> Result<Store> {
        let mut conn = Connection::open_in_memory()?;
        configure(&mut conn)?;
        migrate(&mut conn)?;
        Ok(Store {
            conn,
            intake: false,
            turns: None,
        })
    }

    /// For work that can be derived again from the journal (the pipeline) or done again (the
    /// relay's delivery marks: a message then goes out twice, never not at all): commits are not
    /// synced one by one, so they cost no disk flush each. A crash of the process loses
    /// nothing; a power loss can undo the last ones, whose journal entries are then still
    /// pending and processed again (what they queued goes out at least once). The next synced
    /// commit of any connection (moving messages in from the intake) makes them durable too:
    /// the write-ahead log is one file.
    pub fn sync_lazily(&self) -> Result<()> {
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        Ok(())
    }

    /// Opens an existing store for reading only (the web archive and the export), with the
    /// intake beside it.
    pub fn open_readonly(path: &Path) -> Result<Store> {
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&mut conn)?;
        let mut store = Store {
            conn,
            intake: false,
            turns: None,
        };
        store.attach_intake(&super::arrivals::path_beside(path))?;
        Ok(store)
    }

    /// Messages in the attached intake, not moved into the journal yet (none when it is not
    /// attached).
    pub(super) fn waiting_in_intake(&self) -> Result<i64> {
        if !self.intake {
            return Ok(0);
        }
        Ok(self
            .conn
            .one("SELECT count(*) FROM intake.intake", [], |r| r.get(0))?)
    }

    /// Attaches the intake at `path` (created if missing) as schema `intake`. Never on a
    /// connection whose transactions begin `IMMEDIATE`: those would take the intake's write lock
    /// too.
    pub(super) fn attach_intake(&mut self, path: &Path) -> Result<()> {
        super::arrivals::create(path)?;
        self.conn.run(
            "ATTACH DATABASE ?1 AS intake",
            [path.to_string_lossy().as_ref()],
        )?;
        self.conn
            .pragma_update(Some("intake"), "journal_size_limit", LOG_FILE_LIMIT)?;
        self.intake = true;
        Ok(())
    }

    /// Checks that the store answers a query.
    pub fn ping(&self) -> Result<()> {
        self.conn.one("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }

    /// Writes and commits one row: whether the store takes writes (a read-only file or file
    /// system, a full disk fail here, where a read would still answer).
    pub fn probe_write(&mut self, now: i64) -> Result<()> {
        let _turn = self.turn();
        self.conn
            .run("UPDATE health SET checked_at = ?1 WHERE id = 1", [now])?;
        Ok(())
    }

    /// Starts a transaction for the pipeline.
    pub fn begin(&mut self) -> Result<Tx<'_>> {
        let turn = self.turn();
        // IMMEDIATE: the write lock is taken first, waiting as long as it must. A deferred
        // transaction that reads and then writes fails at once (SQLITE_BUSY, no waiting) when
        // another connection committed in between: under steady intake, nearly always.
        Ok(Tx {
            tx: self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?,
            unindexed: Default::default(),
            requeued: Default::default(),
            _turn: turn,
        })
    }

    /// Writes with this connection wait for their turn among the writers sharing `turns`.
    pub fn take_turns(&mut self, turns: Arc<WriteTurns>) {
        self.turns = Some(turns);
    }

    /// Waits for this connection's turn to write, if it takes turns.
    pub(super) fn turn(&self) -> Option<Turn> {
        self.turns.as_ref().map(|turns| turns.take())
    }
}

impl Tx<'_> {
    /// Makes everything done in this transaction durable.
    pub fn commit(self) -> Result<()> {
        // Posts of undone entries are gone; a post of a held thread waits for its release; one
        // a release indexed already is skipped.
        let unindexed = self.unindexed.take();
        if !unindexed.is_empty() {
            index_post_list(&self.tx, &unindexed)?;
        }
        self.tx.commit()?;
        Ok(())
    }

    /// Marks where one piece of work begins (a journal entry, a delivery's record), so that it
    /// alone can be undone ([`Tx::undo_entry`]) while the transaction goes on with the next.
    /// Marks nest: ending or undoing applies to the innermost.
    pub fn begin_entry(&self) -> Result<()> {
        self.tx.run("SAVEPOINT entry", [])?;
        Ok(())
    }

    /// Keeps the entry's work (begun with [`Tx::begin_entry`]) in the transaction.
    pub fn end_entry(&self) -> Result<()> {
        self.tx.run("RELEASE entry", [])?;
        Ok(())
    }

    /// Undoes the entry's work since [`Tx::begin_entry`].
    pub fn undo_entry(&self) -> Result<()> {
        self.tx.run("ROLLBACK TO entry", [])?;
        self.end_entry()
    }
}

impl Store {
    /// A consistent copy of the whole store in a new file, taken while the service runs.
    pub fn backup(&self, to: &std::path::Path) -> Result<()> {
        self.conn
            .run("VACUUM INTO ?1", [to.to_string_lossy().as_ref()])?;
        Ok(())
    }
}
