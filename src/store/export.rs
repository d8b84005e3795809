//! The public export: every public thread and post, written as JSON lines.

use super::connection::Store;
use super::records::PostKind;

/// One line of the open-data export: a public post with its thread.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExportRow {
    pub thread: i64,
    /// `writer` or `operator` when the post was removed (its body is then empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removed: Option<String>,
    pub post: i64,
    pub provider: Option<String>,
    pub company: String,
    pub kind: &'static str,
    pub author: String,
    pub title: String,
    pub body: String,
    pub created_at: String,
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("writing: {0}")]
    Io(#[from] std::io::Error),
}

impl Store {
    /// Calls `each` with every public post, oldest first, for the open-data export.
    pub fn export(
        &self,
        mut each: impl FnMut(ExportRow) -> std::io::Result<()>,
    ) -> std::result::Result<(), ExportError> {
        let mut stmt = self.conn.prepare(
            "SELECT t.id, p.id, t.provider, t.company, p.kind, p.author, t.title, p.body, p.created_at,
                    coalesce(t.removed, p.removed)
             FROM posts p JOIN threads t ON t.id = p.thread_id WHERE t.held IS NULL ORDER BY p.id",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            each(ExportRow {
                thread: r.get(0)?,
                post: r.get(1)?,
                provider: r.get(2)?,
                company: r.get(3)?,
                kind: r.get::<_, PostKind>(4)?.as_str(),
                author: r.get(5)?,
                title: r.get(6)?,
                body: r.get(7)?,
                created_at: crate::domain::calendar::rfc3339(r.get(8)?),
                removed: r.get(9)?,
            })?;
        }
        Ok(())
    }
}
