//! The company desk's requests: claims waiting for the operator, changes waiting for the
//! representative's "yes", and what became of each.

use rusqlite::{OptionalExtension, params};

use super::connection::{Store, Tx};
use super::error::Result;
use super::sqlite::Cached;

/// What a request asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// A company asks to be registered: the operator decides.
    Claim,
    /// A company registered already is asked to take the writer's domain as a
    /// representative: the operator decides.
    Join,
    /// A representative asks to change its company: applied when they confirm.
    Change,
}

impl RequestKind {
    fn as_str(self) -> &'static str {
        match self {
            RequestKind::Claim => "claim",
            RequestKind::Join => "join",
            RequestKind::Change => "change",
        }
    }
}

/// A request as written to the desk.
#[derive(Debug, Clone)]
pub struct NewRequest<'a> {
    pub kind: RequestKind,
    pub slug: &'a str,
    /// Private: the operator's eyes only.
    pub sender: &'a str,
    pub language: &'a str,
    /// A claim's proposed company record.
    pub record: &'a str,
    /// A change's commands, as JSON.
    pub commands: &'a str,
    /// How the sender's mail authenticated, in words.
    pub evidence: &'a str,
    pub journal_id: Option<i64>,
}

/// A request as kept.
#[derive(Debug, Clone)]
pub struct Request {
    pub id: i64,
    pub kind: RequestKind,
    pub slug: String,
    pub sender: String,
    pub language: String,
    pub record: String,
    pub commands: String,
    pub evidence: String,
    pub created_at: i64,
    /// `pending`, `approved`, `refused`, `applied`, `cancelled` or `replaced`.
    pub state: String,
}

const COLUMNS: &str =
    "id, kind, slug, sender, language, record, commands, evidence, created_at, state";

fn request_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Request> {
    let kind: String = r.get(1)?;
    Ok(Request {
        id: r.get(0)?,
        kind: match kind.as_str() {
            "claim" => RequestKind::Claim,
            "join" => RequestKind::Join,
            _ => RequestKind::Change,
        },
        slug: r.get(2)?,
        sender: r.get(3)?,
        language: r.get(4)?,
        record: r.get(5)?,
        commands: r.get(6)?,
        evidence: r.get(7)?,
        created_at: r.get(8)?,
        state: r.get(9)?,
    })
}

fn pending_changes(conn: &rusqlite::Connection, slug: &str) -> rusqlite::Result<Vec<Request>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM desk_requests
         WHERE state = 'pending' AND kind = 'change' AND slug = ?1 ORDER BY id"
    ))?;
    let rows = stmt.query_map([slug], request_row)?;
    rows.collect()
}

impl Store {
    /// The changes to `slug` waiting for their writers' yes.
    pub fn pending_changes(&self, slug: &str) -> Result<Vec<Request>> {
        Ok(pending_changes(&self.conn, slug)?)
    }

    /// The claims waiting for the operator, oldest first.
    pub fn pending_claims(&self) -> Result<Vec<Request>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM desk_requests
             WHERE state = 'pending' AND kind IN ('claim', 'join') ORDER BY id"
        ))?;
        let rows = stmt.query_map([], request_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

impl Tx<'_> {
    /// Keeps a new request, pending; an earlier pending one of the same kind for the same
    /// company from the same sender is replaced by it. Returns its id, and whether it replaced
    /// one.
    pub fn add_request(&self, r: &NewRequest<'_>, now: i64) -> Result<(i64, bool)> {
        let replaced = self.tx.run(
            "UPDATE desk_requests SET state = 'replaced', decided_at = ?4
             WHERE state = 'pending' AND kind = ?1 AND slug = ?2 AND sender = ?3",
            params![r.kind.as_str(), r.slug, r.sender, now],
        )?;
        self.tx.run(
            "INSERT INTO desk_requests
                 (kind, slug, sender, language, record, commands, evidence, journal_id, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                r.kind.as_str(),
                r.slug,
                r.sender,
                r.language,
                r.record,
                r.commands,
                r.evidence,
                r.journal_id,
                now
            ],
        )?;
        Ok((self.tx.last_insert_rowid(), replaced > 0))
    }

    /// Claims from writers at `domain` or under it waiting for the operator.
    pub fn pending_claims_under(&self, domain: &str) -> Result<i64> {
        Ok(self.tx.one(
            "SELECT count(*) FROM desk_requests
             WHERE state = 'pending' AND kind IN ('claim', 'join')
               AND (substr(sender, -length(?1) - 1) = '@' || ?1
                    OR substr(sender, -length(?1) - 1) = '.' || ?1)",
            [domain],
            |r| r.get(0),
        )?)
    }

    /// The changes to `slug` waiting for their writers' yes.
    pub fn pending_changes(&self, slug: &str) -> Result<Vec<Request>> {
        Ok(pending_changes(&self.tx, slug)?)
    }

    /// A request by id.
    pub fn request(&self, id: i64) -> Result<Option<Request>> {
        Ok(self
            .tx
            .one(
                &format!("SELECT {COLUMNS} FROM desk_requests WHERE id = ?1"),
                [id],
                request_row,
            )
            .optional()?)
    }

    /// Ends a pending request as `state`, by `by`, for `reason`; whether it was pending.
    pub fn decide_request(
        &self,
        id: i64,
        state: &str,
        by: &str,
        reason: Option<&str>,
        now: i64,
    ) -> Result<bool> {
        Ok(self.tx.run(
            "UPDATE desk_requests SET state = ?2, decided_by = ?3, reason = ?4, decided_at = ?5
             WHERE id = ?1 AND state = 'pending'",
            params![id, state, by, reason, now],
        )? == 1)
    }
}
