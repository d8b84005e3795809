//! Copies the write-ahead logs back into the store's and the intake's files, on a thread of its
//! own while the service runs.
//!
//! Left to themselves, SQLite's writers do it after any commit that leaves a log over 1,000
//! pages: under a flood the pipeline spent a fifth of its time copying pages and waiting for
//! the sync that ends every checkpoint. The service's busy writers leave it to this thread
//! ([`Store::leave_checkpoints`](super::Store::leave_checkpoints)); tools that open the store
//! for a moment keep SQLite's own.

use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use super::{Cached, Result, Store, intake};

/// How often the logs are copied back.
const EVERY: Duration = Duration::from_secs(1);

/// A log longer than this many pages (32 MB) after a copy is started over.
const RESTART_PAGES: i64 = 8192;

/// Largest size a write-ahead log file is left at when it is started over (set on every
/// store connection, so whichever writer starts it over cuts it).
pub(crate) const LOG_FILE_LIMIT: i64 = 64 << 20;

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
        let intake_path = intake::path_beside(store_path);
        intake::create(&intake_path)?;
        conn.attach_intake(&intake_path)?;
        Ok(Checkpointer { conn })
    }

    /// Copies back into both files what no reader still needs, without holding anyone up. A
    /// log is only started over from its beginning when no reader is in it at the moment a
    /// writer begins; under steady load that moment never came and the logs grew to gigabytes
    /// in a soak. So when a log is long after the copy, this waits for that moment (holding up
    /// writers meanwhile, for the few pages written since the copy and the readers' last
    /// milliseconds).
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
    use crate::mail::Envelope;
    use crate::store::Arrival;

    #[test]
    fn writers_that_leave_checkpoints_have_their_log_copied_back_here() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite3");
        let mut store = Store::open(&path).unwrap();
        store.leave_checkpoints().unwrap();
        let envelope = Envelope {
            mail_from: "matti@example.fi".into(),
            rcpt_to: vec!["palaute@nonono.localhost".into()],
            peer: "192.0.2.1".into(),
            helo: "h".into(),
        };
        // 8 MB: far past the 1,000 pages after which a writer would checkpoint itself.
        let raw = vec![b'x'; 80_000];
        for _ in 0..100 {
            store
                .journal_append(&[Arrival::new(&envelope, &raw, 1)])
                .unwrap();
        }
        let file_size = || std::fs::metadata(&path).unwrap().len();
        assert!(file_size() < 1 << 20, "all of it still in the log");

        let mut checkpointer = Checkpointer::open(&path).unwrap();
        checkpointer.checkpoint().unwrap();
        assert!(file_size() > 8_000_000, "copied back: {}", file_size());
        assert_eq!(store.pending_journal(200).unwrap().len(), 100);
    }
}
