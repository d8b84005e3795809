//! Keeps the write-ahead logs of the store and the intake from growing without end, on a
//! thread of its own while the service runs.
//!
//! The store's writers copy their log back into the file themselves, SQLite's way, after a
//! commit that leaves it over 1,000 pages: small copies, each inside the writer's turn, so the
//! pipeline does not write on while a copy is synced. (Leaving all copies to this thread made
//! the pipeline faster and the copies large: syncing a second's worth of pages kept the disk
//! from the receiver's syncs for up to a quarter of a second.) The intake's writer, the
//! receiver, never copies: every `250` would wait for it. Under steady load neither log was
//! ever started over (a log starts over only when all of it is copied back and no reader is in
//! it as a writer begins): they grew to gigabytes in a soak. This thread copies the intake's
//! log, and starts a log over when it is long.

use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use super::connection::Store;
use super::error::Result;
use super::sqlite::Cached;

/// How often the logs are looked at.
const EVERY: Duration = Duration::from_secs(1);

/// A log longer than this many pages (64 MB) after a copy is started over.
const RESTART_PAGES: i64 = 16384;

/// Checkpoints the store and the intake beside it.
pub struct Checkpointer {
    /// A connection of its own, with the intake attached.
    conn: Store,
}

impl Checkpointer {
    /// Opens its own connection to the store at `store_path` and the intake beside it (created
    /// if missing).
    pub fn open(store_path: &Path) -> Result<Checkpointer> {
        let mut conn = Store::open(store_path)?;
        conn.attach_intake(&super::arrivals::path_beside(store_path))?;
        Ok(Checkpointer { conn })
    }

    /// Copies back into both files what no reader still needs, without holding anyone up; a
    /// log still long after that is started over: this waits until no reader is in it, holding
    /// up that file's writers for the pages written since the copy and the readers' last
    /// milliseconds.
    pub fn checkpoint(&mut self) -> Result<()> {
        for schema in ["main", "intake"] {
            let pages = |mode: &str| {
                self.conn.conn.one(
                    &format!("PRAGMA {schema}.wal_checkpoint({mode})"),
                    [],
                    |r| r.get::<_, i64>(1),
                )
            };
            if pages("PASSIVE")? > RESTART_PAGES {
                pages("RESTART")?;
            }
        }
        Ok(())
    }

    /// Checkpoints every second until `stop`'s sender is dropped, then once more.
    pub fn run(mut self, stop: Receiver<()>) {
        while let Err(RecvTimeoutError::Timeout) = stop.recv_timeout(EVERY) {
            if let Err(e) = self.checkpoint() {
                tracing::warn!("checkpoints: {e}");
            }
        }
        if let Err(e) = self.checkpoint() {
            tracing::warn!("checkpoints: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::envelope;
    use crate::store::{Arrival, intake};

    #[test]
    fn the_intake_log_is_copied_back_here() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite3");
        let store = Store::open(&path).unwrap();
        let intake_path = crate::store::intake_path(&path);
        let mut receiving = intake::Intake::open(&store, &intake_path).unwrap();
        let env = envelope("matti@example.fi");
        // 8 MB: far past the 1,000 pages after which a writer of the store would copy it back.
        let raw = vec![b'x'; 80_000];
        for _ in 0..100 {
            receiving.append(&[Arrival::new(&env, &raw, 1)]).unwrap();
        }
        let file_size = || std::fs::metadata(&intake_path).unwrap().len();
        assert!(file_size() < 1 << 20, "all of it still in the log");

        Checkpointer::open(&path).unwrap().checkpoint().unwrap();
        assert!(file_size() > 8_000_000, "copied back: {}", file_size());
        let reader = Store::open_readonly(&path).unwrap();
        assert_eq!(reader.journal_counts().unwrap(), [("pending".into(), 100)]);
    }
}
