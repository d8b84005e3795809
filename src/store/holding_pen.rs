//! The holding pen: messages the pipeline held for a person to look at, with the reason, until
//! the operator releases (processed again without the holds), assigns (made an answer in a
//! thread) or drops (raw mail emptied, an audit line kept) each.

use rusqlite::{OptionalExtension, params};

use super::connection::{Store, Tx};
use super::error::{Result, StoreError};
use super::sqlite::Cached;

/// One held message as the operator sees it.
#[derive(Debug, Clone)]
pub struct Hold {
    pub id: i64,
    pub journal_id: i64,
    pub thread_id: Option<i64>,
    pub reason: String,
    pub held_at: i64,
    /// The envelope sender.
    pub sender: String,
    /// `None` while it waits; else when and how it was closed.
    pub closed: Option<(i64, String)>,
    pub raw: Vec<u8>,
}

impl Tx<'_> {
    /// Puts journal entry `journal_id` in the holding pen for `reason`, unless it waits there
    /// already.
    pub fn hold(
        &self,
        journal_id: i64,
        thread_id: Option<i64>,
        reason: &str,
        now: i64,
    ) -> Result<()> {
        self.tx.run(
            "INSERT INTO holds (journal_id, thread_id, reason, created_at)
             SELECT ?1, ?2, ?3, ?4
             WHERE NOT EXISTS (SELECT 1 FROM holds WHERE journal_id = ?1 AND closed_at IS NULL)",
            params![journal_id, thread_id, reason, now],
        )?;
        Ok(())
    }
}

/// Puts journal entry `journal` back in line, released from the holds (and, with `assign_to`,
/// as an answer of that participant): its writer or the operator said so.
pub(super) fn release(
    conn: &rusqlite::Connection,
    journal: i64,
    assign_to: Option<i64>,
) -> Result<()> {
    conn.run(
        "UPDATE journal SET state = 'pending', publication = 2, attempts = 0,
                assigned_to = coalesce(?2, assigned_to)
         WHERE id = ?1",
        params![journal, assign_to],
    )?;
    Ok(())
}

/// Closes hold `id`, which must be open, saying `how`; returns its journal entry.
fn close_open(conn: &rusqlite::Connection, id: i64, how: &str, now: i64) -> Result<i64> {
    let journal = conn
        .one(
            "SELECT journal_id FROM holds WHERE id = ?1 AND closed_at IS NULL",
            [id],
            |r| r.get(0),
        )
        .optional()?
        .ok_or(StoreError::Missing {
            what: "open hold",
            id,
        })?;
    conn.run(
        "UPDATE holds SET closed_at = ?2, closed_how = ?3 WHERE id = ?1",
        params![id, now, how],
    )?;
    Ok(journal)
}

/// How many messages wait in the holding pen, and since when the oldest.
fn holds_waiting(conn: &rusqlite::Connection) -> Result<(i64, Option<i64>)> {
    Ok(conn.one(
        "SELECT count(*), min(created_at) FROM holds WHERE closed_at IS NULL",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

impl Tx<'_> {
    /// How many messages wait in the holding pen, and since when the oldest.
    pub fn holds_waiting(&self) -> Result<(i64, Option<i64>)> {
        holds_waiting(&self.tx)
    }

    /// Closes the open hold of a journal entry, if any: its writer took it out.
    pub fn close_hold(&self, journal_id: i64, how: &str, now: i64) -> Result<()> {
        self.tx.run(
            "UPDATE holds SET closed_at = ?2, closed_how = ?3
             WHERE journal_id = ?1 AND closed_at IS NULL",
            params![journal_id, now, how],
        )?;
        Ok(())
    }
}

impl Store {
    /// What waits in the holding pen, oldest first.
    pub fn open_holds(&self) -> Result<Vec<Hold>> {
        self.holds_where("h.closed_at IS NULL", rusqlite::params![])
    }

    /// One hold, open or closed.
    pub fn hold(&self, id: i64) -> Result<Option<Hold>> {
        Ok(self.holds_where("h.id = ?1", rusqlite::params![id])?.pop())
    }

    /// How many messages wait in the holding pen, and since when the oldest.
    pub fn holds_waiting(&self) -> Result<(i64, Option<i64>)> {
        holds_waiting(&self.conn)
    }

    fn holds_where(&self, filter: &str, params: &[&dyn rusqlite::ToSql]) -> Result<Vec<Hold>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT h.id, h.journal_id, h.thread_id, h.reason, h.created_at, j.mail_from,
                    h.closed_at, h.closed_how, r.raw
             FROM holds h JOIN journal j ON j.id = h.journal_id
             JOIN journal_raw r ON r.id = h.journal_id
             WHERE {filter} ORDER BY h.id"
        ))?;
        let rows = stmt.query_map(params, |r| {
            Ok(Hold {
                id: r.get(0)?,
                journal_id: r.get(1)?,
                thread_id: r.get(2)?,
                reason: r.get(3)?,
                held_at: r.get(4)?,
                sender: r.get(5)?,
                closed: match r.get::<_, Option<i64>>(6)? {
                    Some(at) => Some((at, r.get(7)?)),
                    None => None,
                },
                raw: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Closes an open hold and puts its message back through the pipeline, without the holds
    /// (`assign_to`: as an answer of that participant). Fails when the hold is not open.
    fn reopen(&mut self, id: i64, how: &str, assign_to: Option<i64>, now: i64) -> Result<i64> {
        let _turn = self.turn();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let journal = close_open(&tx, id, how, now)?;
        release(&tx, journal, assign_to)?;
        tx.commit()?;
        Ok(journal)
    }

    /// The operator releases a hold: its message is processed again as it would have been
    /// without the holds. Returns the journal entry.
    pub fn release_hold(&mut self, id: i64, now: i64) -> Result<i64> {
        self.reopen(id, "released", None, now)
    }

    /// The operator makes a held message an answer in `thread`, from the company's side.
    pub fn assign_hold(&mut self, id: i64, thread: i64, now: i64) -> Result<i64> {
        let company: Option<i64> = self
            .conn
            .one(
                "SELECT id FROM participants WHERE thread_id = ?1 AND role = 'provider'
                 ORDER BY id LIMIT 1",
                [thread],
                |r| r.get(0),
            )
            .optional()?;
        let company = company.ok_or(StoreError::Missing {
            what: "thread with a company side",
            id: thread,
        })?;
        self.reopen(
            id,
            &format!("assigned to thread {thread}"),
            Some(company),
            now,
        )
    }

    /// The operator drops a hold: its raw mail is emptied, and the audit trail says who, when
    /// and why.
    pub fn drop_hold(&mut self, id: i64, reason: &str, now: i64) -> Result<()> {
        let _turn = self.turn();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let journal = close_open(&tx, id, &format!("dropped: {reason}"), now)?;
        tx.run("UPDATE journal_raw SET raw = x'' WHERE id = ?1", [journal])?;
        super::removal::audit(
            &tx,
            "operator",
            "drop held",
            &format!("held {id}"),
            reason,
            now,
        )?;
        tx.commit()?;
        Ok(())
    }
}
