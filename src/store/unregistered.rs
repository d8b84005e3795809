//! Threads about companies not registered yet: what waits, and attaching it once registered.

use rusqlite::params;

use super::connection::Tx;
use super::error::Result;
use super::records::{Participant, Role};
use super::sqlite::Cached;

/// A public thread waiting for its company to be registered.
#[derive(Debug, Clone)]
pub struct Waiting {
    pub thread_id: i64,
    /// The company as the writer named it.
    pub company: String,
    pub title: String,
    /// The writer's published text.
    pub body: String,
    pub consumer: Participant,
}

/// A company feedback waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnregisteredCompany {
    pub company: String,
    pub threads: i64,
    /// When the oldest waiting feedback came.
    pub oldest: i64,
    pub newest_thread: i64,
}

impl Tx<'_> {
    /// Every public thread whose company is not registered, and whose feedback is still there
    /// (not hidden by the moderators or erased by its writer: a forward would carry nothing).
    pub fn waiting_unregistered(&self) -> Result<Vec<Waiting>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT t.id, t.company, t.title, p.body, pa.id, pa.address, pa.public_name
             FROM threads t
             JOIN posts p ON p.id = (SELECT min(id) FROM posts WHERE thread_id = t.id)
             JOIN participants pa ON pa.id = p.participant_id
             WHERE t.provider IS NULL AND t.held IS NULL AND t.removed IS NULL
                 AND p.removed IS NULL
             ORDER BY t.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Waiting {
                thread_id: r.get(0)?,
                company: r.get(1)?,
                title: r.get(2)?,
                body: r.get(3)?,
                consumer: Participant {
                    id: r.get(4)?,
                    thread_id: r.get(0)?,
                    role: Role::Consumer,
                    address: r.get(5)?,
                    public_name: r.get(6)?,
                    // Mail from here goes to the company, in the service's language.
                    language: None,
                },
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Gives a waiting thread its registered company, route and response time.
    pub fn attach_provider(
        &self,
        thread_id: i64,
        slug: &str,
        company: &str,
        route: &str,
        route_label: Option<&str>,
        due_at: i64,
    ) -> Result<()> {
        self.tx.run(
            "UPDATE threads SET provider = ?2, company = ?3, route = ?4, route_label = ?5,
                                due_at = ?6
             WHERE id = ?1 AND provider IS NULL",
            params![thread_id, slug, company, route, route_label, due_at],
        )?;
        Ok(())
    }

    /// The companies public feedback waits for, the most waited-for first.
    pub fn unregistered_companies(&self) -> Result<Vec<UnregisteredCompany>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT company, count(*), min(created_at), max(id) FROM threads
             WHERE provider IS NULL AND held IS NULL AND removed IS NULL
             GROUP BY lower(company) ORDER BY count(*) DESC, min(created_at)",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(UnregisteredCompany {
                company: r.get(0)?,
                threads: r.get(1)?,
                oldest: r.get(2)?,
                newest_thread: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Whether mail for `purpose` was queued since `since`.
    pub fn operator_mail_since(
        &self,
        purpose: super::outbox::OutboxPurpose,
        since: i64,
    ) -> Result<bool> {
        Ok(self.tx.one(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE purpose = ?1 AND created_at >= ?2)",
            params![purpose.as_str(), since],
            |r| r.get(0),
        )?)
    }
}
