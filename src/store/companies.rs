//! The company registry: every company feedback can go to, as one record each, every change to
//! them, and how each company's routes are doing.

use rusqlite::{OptionalExtension, params};

use super::connection::{Store, Tx};
use super::error::Result;
use super::sqlite::Cached;

/// One company as the registry keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyRecord {
    pub slug: String,
    /// The TOML of its `[[providers]]` entry.
    pub record: String,
    /// Who wrote it last: `config` (a declaration applied at start) or `cli`.
    pub source: String,
    pub changed_at: i64,
}

/// What a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Add,
    Edit,
    Remove,
}

impl ChangeKind {
    fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Add => "add",
            ChangeKind::Edit => "edit",
            ChangeKind::Remove => "remove",
        }
    }
}

/// One entry of a company's change history.
#[derive(Debug, Clone)]
pub struct CompanyChange {
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// A thread whose company no longer has the route its feedback went to.
#[derive(Debug, Clone)]
pub struct Moved {
    pub thread_id: i64,
    /// The route it went to.
    pub route: String,
    pub title: String,
    /// The writer's published text.
    pub body: String,
    pub consumer: super::records::Participant,
    /// The company side's participant, whose address the route was.
    pub company_participant: i64,
    /// Its clock is paused: mail to the old route bounced.
    pub paused: bool,
}

/// A thread's opening feedback as published, and who wrote it.
#[derive(Debug, Clone)]
pub struct ThreadOpening {
    pub title: String,
    pub body: String,
    pub consumer: super::records::Participant,
}

/// How mail to one route address is doing: what the operator looks at before blaming the
/// company or the smarthost.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteHealth {
    /// When the newest message that got through was delivered.
    pub last_delivered: Option<i64>,
    /// When the newest message that failed for good failed, and why.
    pub last_failed: Option<(i64, String)>,
    /// What the company's own server said of the newest message reported delivered, and
    /// when the report came (the proof against "we never got it").
    pub last_reported: Option<(i64, String)>,
    /// Messages waiting to be delivered, and since when the oldest waits.
    pub waiting: i64,
    pub oldest_waiting: Option<i64>,
}

/// A company's threads as the operator needs them counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompanyThreads {
    pub threads: i64,
    /// Still without the company's first answer.
    pub unanswered: i64,
    /// Clock paused because mail to the company bounced.
    pub paused: i64,
}

fn company_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CompanyRecord> {
    Ok(CompanyRecord {
        slug: r.get(0)?,
        record: r.get(1)?,
        source: r.get(2)?,
        changed_at: r.get(3)?,
    })
}

fn company(conn: &rusqlite::Connection, slug: &str) -> rusqlite::Result<Option<CompanyRecord>> {
    conn.one(
        "SELECT slug, record, source, changed_at FROM companies WHERE slug = ?1",
        [slug],
        company_row,
    )
    .optional()
}

fn companies(conn: &rusqlite::Connection) -> rusqlite::Result<Vec<CompanyRecord>> {
    let mut stmt = conn
        .prepare_cached("SELECT slug, record, source, changed_at FROM companies ORDER BY slug")?;
    let rows = stmt.query_map([], company_row)?;
    rows.collect()
}

impl Store {
    /// Every registered company, by slug.
    pub fn companies(&self) -> Result<Vec<CompanyRecord>> {
        Ok(companies(&self.conn)?)
    }

    /// One company's record.
    pub fn company(&self, slug: &str) -> Result<Option<CompanyRecord>> {
        Ok(company(&self.conn, slug)?)
    }

    /// A number that grows with every change to the registry: what the running service
    /// compares to know its companies are out of date.
    pub fn registry_version(&self) -> Result<i64> {
        Ok(self.conn.one(
            "SELECT coalesce(max(id), 0) FROM company_changes",
            [],
            |r| r.get(0),
        )?)
    }

    /// A company's latest changes, newest first.
    pub fn company_changes(&self, slug: &str, limit: usize) -> Result<Vec<CompanyChange>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT at, actor, action, before, after FROM company_changes
             WHERE slug = ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![slug, limit as i64], |r| {
            Ok(CompanyChange {
                at: r.get(0)?,
                actor: r.get(1)?,
                action: r.get(2)?,
                before: r.get(3)?,
                after: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// How mail to the company at `route` is doing (forwards, reminders and relayed posts).
    pub fn route_health(&self, route: &str) -> Result<RouteHealth> {
        let last_delivered = self
            .conn
            .one(
                "SELECT sent_at FROM outbox
                 WHERE rcpt_to = ?1 AND purpose IN ('forward', 'reminder', 'relay')
                     AND state = 'sent'
                 ORDER BY id DESC LIMIT 1",
                [route],
                |r| r.get(0),
            )
            .optional()?;
        let last_failed = self
            .conn
            .one(
                "SELECT coalesce(failed_at, created_at), coalesce(last_error, '') FROM outbox
                 WHERE rcpt_to = ?1 AND purpose IN ('forward', 'reminder', 'relay')
                     AND state = 'failed'
                 ORDER BY id DESC LIMIT 1",
                [route],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let last_reported = self
            .conn
            .one(
                "SELECT delivery_reported_at, delivery_report FROM outbox
                 WHERE rcpt_to = ?1 AND purpose IN ('forward', 'reminder', 'relay')
                     AND delivery_report IS NOT NULL
                 ORDER BY id DESC LIMIT 1",
                [route],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (waiting, oldest_waiting) = self.conn.one(
            "SELECT count(*), min(created_at) FROM outbox
             WHERE rcpt_to = ?1 AND purpose IN ('forward', 'reminder', 'relay')
                 AND state = 'pending'",
            [route],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(RouteHealth {
            last_delivered,
            last_failed,
            last_reported,
            waiting,
            oldest_waiting,
        })
    }

    /// How many threads name the company, how many it has not answered, and how many wait
    /// with their clock paused.
    pub fn company_threads(&self, slug: &str) -> Result<CompanyThreads> {
        Ok(self.conn.one(
            "SELECT count(*), count(*) FILTER (WHERE first_answer_at IS NULL),
                    count(*) FILTER (WHERE undeliverable_at IS NOT NULL)
             FROM threads WHERE provider = ?1 AND removed IS NULL",
            [slug],
            |r| {
                Ok(CompanyThreads {
                    threads: r.get(0)?,
                    unanswered: r.get(1)?,
                    paused: r.get(2)?,
                })
            },
        )?)
    }
}

impl Tx<'_> {
    /// The registry's version, and the one whose route changes the threads have followed.
    pub fn registry_versions(&self) -> Result<(i64, i64)> {
        Ok(self.tx.one(
            "SELECT (SELECT coalesce(max(id), 0) FROM company_changes),
                    (SELECT version FROM registry_followed)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    /// The companies changed after registry version `version`.
    pub fn companies_changed_since(&self, version: i64) -> Result<Vec<String>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT DISTINCT slug FROM company_changes WHERE id > ?1")?;
        let rows = stmt.query_map([version], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The threads have followed the route changes up to registry version `version`.
    pub fn registry_followed(&self, version: i64) -> Result<()> {
        self.tx.run(
            "UPDATE registry_followed SET version = max(version, ?1)",
            [version],
        )?;
        Ok(())
    }

    /// Every registered company, by slug, read inside this transaction: what a change is
    /// checked against, with no other writer between the check and the write.
    pub fn companies(&self) -> Result<Vec<CompanyRecord>> {
        Ok(companies(&self.tx)?)
    }

    /// One company's record, read inside this transaction.
    pub fn company(&self, slug: &str) -> Result<Option<CompanyRecord>> {
        Ok(company(&self.tx, slug)?)
    }

    /// Writes a company's record from `source` (`config`, `cli`), and the change into its
    /// history as `actor`'s; `None` when the record is the one there already (nothing changes,
    /// nothing is written).
    pub fn put_company(
        &self,
        slug: &str,
        record: &str,
        source: &str,
        actor: &str,
        now: i64,
    ) -> Result<Option<ChangeKind>> {
        let before = company(&self.tx, slug)?.map(|c| c.record);
        if before.as_deref() == Some(record) {
            return Ok(None);
        }
        self.tx.run(
            "INSERT INTO companies (slug, record, source, changed_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(slug) DO UPDATE SET record = excluded.record, source = excluded.source,
                 changed_at = excluded.changed_at",
            params![slug, record, source, now],
        )?;
        let kind = if before.is_some() {
            ChangeKind::Edit
        } else {
            ChangeKind::Add
        };
        self.company_changed(slug, actor, kind, before.as_deref(), Some(record), now)?;
        Ok(Some(kind))
    }

    /// Removes a company from the registry; returns the record it had, `None` when there was
    /// none. Its threads stay as they are.
    pub fn remove_company(&self, slug: &str, actor: &str, now: i64) -> Result<Option<String>> {
        let Some(before) = company(&self.tx, slug)? else {
            return Ok(None);
        };
        self.tx
            .run("DELETE FROM companies WHERE slug = ?1", [slug])?;
        self.company_changed(
            slug,
            actor,
            ChangeKind::Remove,
            Some(&before.record),
            None,
            now,
        )?;
        Ok(Some(before.record))
    }

    fn company_changed(
        &self,
        slug: &str,
        actor: &str,
        kind: ChangeKind,
        before: Option<&str>,
        after: Option<&str>,
        now: i64,
    ) -> Result<()> {
        self.tx.run(
            "INSERT INTO company_changes (at, slug, actor, action, before, after)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![now, slug, actor, kind.as_str(), before, after],
        )?;
        Ok(())
    }

    /// The threads of company `slug` whose route is none of `routes` (any more; lower-cased,
    /// as addresses compare).
    pub fn moved_threads(&self, slug: &str, routes: &[String]) -> Result<Vec<Moved>> {
        let routes = serde_json::to_string(routes).unwrap_or_default();
        let mut stmt = self.tx.prepare_cached(
            "SELECT t.id, t.route, t.title, p.body, pa.id, pa.address, pa.public_name,
                    (SELECT min(id) FROM participants WHERE thread_id = t.id
                         AND role = 'provider' AND lower(address) = lower(t.route)),
                    t.undeliverable_at IS NOT NULL
             FROM threads t
             JOIN posts p ON p.id = (SELECT min(id) FROM posts WHERE thread_id = t.id)
             JOIN participants pa ON pa.id = p.participant_id
             WHERE t.provider = ?1 AND t.route IS NOT NULL AND t.removed IS NULL
                 AND lower(t.route) NOT IN (SELECT value FROM json_each(?2))",
        )?;
        let rows = stmt.query_map(params![slug, routes], |r| {
            Ok(Moved {
                thread_id: r.get(0)?,
                route: r.get(1)?,
                title: r.get(2)?,
                body: r.get(3)?,
                consumer: super::records::Participant {
                    id: r.get(4)?,
                    thread_id: r.get(0)?,
                    role: super::records::Role::Consumer,
                    address: r.get(5)?,
                    public_name: r.get(6)?,
                    // Mail from here goes to the company, in the service's language.
                    language: None,
                },
                company_participant: r.get::<_, Option<i64>>(7)?.unwrap_or_default(),
                paused: r.get(8)?,
            })
        })?;
        Ok(rows
            .collect::<rusqlite::Result<Vec<_>>>()?
            .into_iter()
            .filter(|m| m.company_participant != 0)
            .collect())
    }

    /// A public thread's opening feedback, with its writer; `None` for a thread not public
    /// or whose feedback is gone (hidden or erased: there is nothing to send).
    pub fn thread_opening(&self, thread_id: i64) -> Result<Option<ThreadOpening>> {
        Ok(self
            .tx
            .one(
                "SELECT t.title, p.body, pa.id, pa.address, pa.public_name FROM threads t
                 JOIN posts p ON p.id = (SELECT min(id) FROM posts WHERE thread_id = t.id)
                 JOIN participants pa ON pa.id = p.participant_id
                 WHERE t.id = ?1 AND t.held IS NULL AND t.removed IS NULL
                     AND p.removed IS NULL",
                [thread_id],
                |r| {
                    Ok(ThreadOpening {
                        title: r.get(0)?,
                        body: r.get(1)?,
                        consumer: super::records::Participant {
                            id: r.get(2)?,
                            thread_id,
                            role: super::records::Role::Consumer,
                            address: r.get(3)?,
                            public_name: r.get(4)?,
                            // Mail from here goes to the company, in the service's language.
                            language: None,
                        },
                    })
                },
            )
            .optional()?)
    }

    /// Moves a thread from its company's old route to `route`: the thread and the company's
    /// participant, so what follows (relayed posts, reminders) goes there.
    pub fn change_route(
        &self,
        moved: &Moved,
        route: &str,
        route_label: Option<&str>,
    ) -> Result<()> {
        let route = route.to_lowercase();
        self.tx.run(
            "UPDATE threads SET route = ?2, route_label = ?3 WHERE id = ?1",
            params![moved.thread_id, route, route_label],
        )?;
        self.tx.run(
            "UPDATE participants SET address = ?2, failing_since = NULL WHERE id = ?1",
            params![moved.company_participant, route],
        )?;
        Ok(())
    }

    /// The config's declaration of a company as it was when last applied.
    pub fn declaration(&self, slug: &str) -> Result<Option<String>> {
        Ok(self
            .tx
            .one(
                "SELECT record FROM declarations WHERE slug = ?1",
                [slug],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The slugs of every declaration ever applied.
    pub fn declared(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT slug FROM declarations ORDER BY slug")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Remembers a declaration as applied.
    pub fn set_declaration(&self, slug: &str, record: &str) -> Result<()> {
        self.tx.run(
            "INSERT INTO declarations (slug, record) VALUES (?1, ?2)
             ON CONFLICT(slug) DO UPDATE SET record = excluded.record",
            params![slug, record],
        )?;
        Ok(())
    }
}
