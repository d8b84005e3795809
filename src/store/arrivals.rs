//! Where received mail is written first: the intake database beside the store (its path,
//! schema and creation), and arrival rows as written into the intake or the journal.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, params};

use super::error::Result;
use super::records::Arrival;

/// Above this many accepted messages waiting in the intake, each new message waits (up to the
/// receiver's flow delay) before it is taken: senders slow to the pace the pipeline keeps, as
/// Postfix's `in_flow_delay` does, and the backlog cannot grow without bound. Below it, bursts
/// are taken at full speed: they wait on disk, some tens of seconds of pipeline work. The
/// pipeline works without waiting for a lull once half of it waits.
pub const FLOW_BACKLOG: i64 = 10_000;

/// The intake file beside the store at `store`.
pub fn path_beside(store: &Path) -> PathBuf {
    store.with_file_name("intake.sqlite3")
}

pub(super) const SCHEMA: &str = "
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
pub(super) fn create(path: &Path) -> Result<()> {
    if path.exists() {
        return Ok(());
    }
    let mut conn = Connection::open(path)?;
    conn.busy_handler(Some(super::sqlite::wait_for_lock))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.execute_batch(SCHEMA)?;
    Ok(())
}

/// Where [`insert_arrivals`] puts received messages: alike in their envelope columns.
pub(super) enum Arrivals {
    /// The intake, the raw mail in each row: its rows never change.
    Intake,
    /// The journal, the raw mail in `journal_raw` (migration 13): its rows change state.
    Journal,
}

/// Inserts received messages and returns their ids: counted on from `first_id`, or the
/// table's next when `None`.
pub(super) fn insert_arrivals(
    conn: &Connection,
    into: Arrivals,
    first_id: Option<i64>,
    messages: &[Arrival<'_>],
) -> Result<Vec<i64>> {
    let (table, raw_column, raw_value) = match into {
        Arrivals::Intake => ("intake", ", raw", ", ?7"),
        Arrivals::Journal => ("journal", "", ""),
    };
    let mut stmt = conn.prepare_cached(&format!(
        "INSERT INTO {table} (id, received_at, peer, helo, mail_from, rcpt_to, sender_key,
                              feedback, provider{raw_column})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?8, ?9, ?10{raw_value})"
    ))?;
    let mut ids = Vec::with_capacity(messages.len());
    for (i, m) in messages.iter().enumerate() {
        let env = m.envelope;
        // ?7 (the raw mail) stays unused in the journal's statement.
        stmt.execute(params![
            first_id.map(|first| first + i as i64),
            m.received_at,
            env.peer,
            env.helo,
            env.mail_from,
            env.rcpt_to.join("\n"),
            m.raw,
            crate::domain::limits::sender_key(&env.mail_from),
            m.feedback,
            m.provider
        ])?;
        let id = conn.last_insert_rowid();
        if let Arrivals::Journal = into {
            conn.prepare_cached("INSERT INTO journal_raw (id, raw) VALUES (?1, ?2)")?
                .execute(params![id, m.raw])?;
        }
        ids.push(id);
    }
    Ok(ids)
}
