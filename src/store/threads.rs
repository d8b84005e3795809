//! Threads, their participants, posts and events.

use rusqlite::{Connection, OptionalExtension, params};

use super::connection::{Store, Tx};
use super::error::{Result, StoreError};
use super::records::{
    Event, EventKind, Evidence, NewPost, NewThread, Participant, Post, PostKind, Role, Signature,
    Thread, removal,
};
use super::sqlite::Cached;
use super::sqlite::next_id;

/// The columns [`thread_from_row`] reads, in order.
pub(super) const THREAD_COLUMNS: &str = "id, provider, company, title, route_label, created_at, due_at, \
     first_answer_at, first_auto_at, last_activity_at, posts, held, removed, removed_reason, \
     removed_at, delivered_at, undeliverable_at, supporters, subject";

/// How many columns [`THREAD_COLUMNS`] has: a query's own columns come after.
pub(super) const THREAD_COLUMN_COUNT: usize = 19;

pub(super) fn sent_to(
    conn: &Connection,
    participant_id: i64,
    before: i64,
    limit: usize,
) -> Result<Vec<Vec<u8>>> {
    let mut stmt = conn.prepare_cached(
        "SELECT r.raw FROM outbox o JOIN outbox_raw r ON r.id = o.id
         WHERE o.participant_id = ?1 AND o.journal_id < ?2
         ORDER BY o.id DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![participant_id, before, limit as i64], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn thread_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Thread> {
    Ok(Thread {
        id: r.get(0)?,
        provider: r.get(1)?,
        company: r.get(2)?,
        title: r.get(3)?,
        route_label: r.get(4)?,
        created_at: r.get(5)?,
        due_at: r.get(6)?,
        first_answer_at: r.get(7)?,
        first_auto_at: r.get(8)?,
        last_activity_at: r.get(9)?,
        posts: r.get(10)?,
        held: r.get(11)?,
        removed: removal(r.get(12)?, r.get(13)?, r.get(14)?),
        delivered_at: r.get(15)?,
        undeliverable_at: r.get(16)?,
        supporters: r.get(17)?,
        subject: r.get(18)?,
    })
}

pub(super) fn participant_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Participant> {
    Ok(Participant {
        id: r.get(0)?,
        thread_id: r.get(1)?,
        role: r.get::<_, Role>(2)?,
        address: r.get(3)?,
        public_name: r.get(4)?,
        language: r.get(5)?,
    })
}

impl Store {
    /// A public thread by id (`None` while it is held for its writer's confirmation).
    pub fn thread(&self, id: i64) -> Result<Option<Thread>> {
        Ok(self
            .conn
            .one(
                &format!("SELECT {THREAD_COLUMNS} FROM threads WHERE id = ?1 AND held IS NULL"),
                [id],
                thread_from_row,
            )
            .optional()?)
    }

    /// A thread's posts, oldest first.
    pub fn posts(&self, thread_id: i64) -> Result<Vec<Post>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, thread_id, kind, author, body, trimmed, attachments, created_at, uncut,
                    removed, removed_reason, removed_at, auth_domain, auth_method, auth_dmarc,
                    template, auth_verified, auth_dkim
             FROM posts WHERE thread_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([thread_id], |r| {
            let kind = r.get::<_, PostKind>(2)?;
            let (domain, method) = (r.get(12)?, r.get(13)?);
            let (verified, dkim) = (
                r.get::<_, Option<bool>>(16)?,
                r.get::<_, Option<String>>(17)?,
            );
            let evidence = r.get::<_, Option<String>>(14)?.map(|dmarc| Evidence {
                // Answers from before this was kept: only official ones had passed.
                verified: verified.unwrap_or(kind == PostKind::Official),
                domain,
                method,
                dmarc,
                signature: dkim
                    .as_deref()
                    .map_or(Signature::Unchecked, Signature::from_code),
                signs_date: false,
            });
            Ok(Post {
                id: r.get(0)?,
                thread_id: r.get(1)?,
                kind,
                author: r.get(3)?,
                body: r.get(4)?,
                trimmed: r.get(5)?,
                attachments: r.get::<_, i64>(6)? as usize,
                created_at: r.get(7)?,
                uncut: r.get(8)?,
                removed: removal(r.get(9)?, r.get(10)?, r.get(11)?),
                evidence,
                template: r.get(15)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A thread's events, oldest first.
    pub fn events(&self, thread_id: i64) -> Result<Vec<Event>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT kind, detail, created_at FROM events WHERE thread_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([thread_id], |r| {
            Ok(Event {
                kind: r.get(0)?,
                detail: r.get(1)?,
                created_at: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The newest threads.
    pub fn latest_threads(&self, limit: usize) -> Result<Vec<Thread>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {THREAD_COLUMNS} FROM threads WHERE held IS NULL AND removed IS NULL
             ORDER BY id DESC LIMIT ?1"
        ))?;
        let rows = stmt.query_map([limit as i64], thread_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

impl Tx<'_> {
    /// The person with this address, created on first sight.
    pub fn person(&self, address: &str, now: i64) -> Result<i64> {
        self.tx.run(
            "INSERT INTO people (address, created_at) VALUES (?1, ?2) ON CONFLICT(address) DO NOTHING",
            params![address, now],
        )?;
        Ok(self
            .tx
            .one("SELECT id FROM people WHERE address = ?1", [address], |r| {
                r.get(0)
            })?)
    }

    /// Creates a thread.
    pub fn create_thread(&self, t: &NewThread<'_>) -> Result<i64> {
        self.tx.run(
            concat!(
                "INSERT INTO threads (id, provider, company, title, route, route_label, journal_id,
                                      created_at, due_at, last_activity_at, held, subject)
                 VALUES (",
                next_id!("threads"),
                ", ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?7, ?9, ?10)"
            ),
            params![
                t.provider,
                t.company,
                t.title,
                t.route,
                t.route_label,
                t.journal_id,
                t.created_at,
                t.due_at,
                t.held,
                t.subject
            ],
        )?;
        Ok(self.tx.last_insert_rowid())
    }

    /// A thread by id.
    pub fn thread(&self, id: i64) -> Result<Thread> {
        self.tx
            .one(
                &format!("SELECT {THREAD_COLUMNS} FROM threads WHERE id = ?1"),
                [id],
                thread_from_row,
            )
            .optional()?
            .ok_or(StoreError::Missing { what: "thread", id })
    }

    /// The raw mail a thread was opened by, while it is kept (a writer's erasure forgets it).
    pub fn opening_raw(&self, thread_id: i64) -> Result<Option<Vec<u8>>> {
        Ok(self
            .tx
            .one(
                "SELECT r.raw FROM threads t JOIN journal_raw r ON r.id = t.journal_id
                 WHERE t.id = ?1",
                [thread_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Records the language a participant writes in.
    pub fn set_language(&self, participant_id: i64, code: &str) -> Result<()> {
        self.tx.run(
            "UPDATE participants SET language = ?2 WHERE id = ?1",
            params![participant_id, code],
        )?;
        Ok(())
    }

    /// Adds a participant to a thread.
    pub fn add_participant(
        &self,
        thread_id: i64,
        role: Role,
        address: &str,
        public_name: &str,
        person_id: Option<i64>,
        now: i64,
    ) -> Result<i64> {
        self.tx.run(
            concat!(
                "INSERT INTO participants (id, thread_id, role, address, public_name, person_id,
                                           created_at)
                 VALUES (",
                next_id!("participants"),
                ", ?1, ?2, ?3, ?4, ?5, ?6)"
            ),
            params![
                thread_id,
                role.as_str(),
                address,
                public_name,
                person_id,
                now
            ],
        )?;
        Ok(self.tx.last_insert_rowid())
    }

    /// A participant by id.
    pub fn participant(&self, id: i64) -> Result<Option<Participant>> {
        Ok(self
            .tx
            .one(
                "SELECT id, thread_id, role, address, public_name, language FROM participants
                 WHERE id = ?1",
                [id],
                participant_from_row,
            )
            .optional()?)
    }

    /// The participants of a thread on one side.
    pub fn participants(&self, thread_id: i64, role: Role) -> Result<Vec<Participant>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT id, thread_id, role, address, public_name, language FROM participants
             WHERE thread_id = ?1 AND role = ?2 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![thread_id, role.as_str()], participant_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Publishes a post.
    pub fn add_post(&self, p: &NewPost<'_>) -> Result<i64> {
        self.tx.run(
            "INSERT INTO posts (thread_id, participant_id, journal_id, kind, author, body, trimmed,
                                attachments, message_id, created_at, uncut,
                                auth_domain, auth_method, auth_dmarc, auth_verified, auth_dkim)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            params![
                p.thread_id,
                p.participant_id,
                p.journal_id,
                p.kind.as_str(),
                p.author,
                p.body,
                p.trimmed,
                p.attachments as i64,
                p.message_id,
                p.created_at,
                p.uncut,
                p.evidence.and_then(|e| e.domain.as_deref()),
                p.evidence.and_then(|e| e.method.as_deref()),
                p.evidence.map(|e| e.dmarc.as_str()),
                p.evidence.map(|e| e.verified),
                p.evidence.map(|e| e.signature.code()),
            ],
        )?;
        let id = self.tx.last_insert_rowid();
        self.unindexed.borrow_mut().push(id);
        self.tx.run(
            "UPDATE threads SET posts = posts + 1, last_activity_at = ?2 WHERE id = ?1",
            params![p.thread_id, p.created_at],
        )?;
        if p.kind == PostKind::Official {
            self.tx.run(
                "UPDATE threads SET first_answer_at = ?2,
                        answer_secs = max(?2 - coalesce(delivered_at, created_at), 0)
                 WHERE id = ?1 AND first_answer_at IS NULL",
                params![p.thread_id, p.created_at],
            )?;
        }
        Ok(id)
    }

    /// Records an event on a thread.
    pub fn add_event(
        &self,
        thread_id: i64,
        journal_id: Option<i64>,
        kind: EventKind,
        detail: &str,
        now: i64,
    ) -> Result<()> {
        self.tx.run(
            "INSERT INTO events (thread_id, journal_id, kind, detail, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![thread_id, journal_id, kind.as_str(), detail, now],
        )?;
        if kind == EventKind::AutoReply {
            self.tx.run(
                "UPDATE threads SET first_auto_at = ?2 WHERE id = ?1 AND first_auto_at IS NULL",
                params![thread_id, now],
            )?;
        }
        Ok(())
    }

    /// Message-IDs a participant has seen in a thread, oldest first: what we sent them and what
    /// they wrote. Used for `In-Reply-To`/`References` so their mail client threads our mail.
    /// Ordered by the incoming message that caused each, a post before our mail about it.
    pub fn references(&self, participant_id: i64) -> Result<Vec<String>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT message_id, journal_id, 1 AS o, id FROM outbox WHERE participant_id = ?1
             UNION ALL
             SELECT message_id, journal_id, 0 AS o, id FROM posts
               WHERE participant_id = ?1 AND message_id IS NOT NULL
             ORDER BY 2, 3, 4",
        )?;
        let rows = stmt.query_map([participant_id], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The raw mail we sent to a participant before journal entry `before` arrived, newest
    /// first, at most `limit` messages: a reply from them quotes some of it.
    pub fn sent_to(&self, participant_id: i64, before: i64, limit: usize) -> Result<Vec<Vec<u8>>> {
        sent_to(&self.tx, participant_id, before, limit)
    }

    /// When we last sent mail to a participant.
    pub fn last_sent_to(&self, participant_id: i64) -> Result<Option<i64>> {
        Ok(self.tx.one(
            "SELECT max(created_at) FROM outbox WHERE participant_id = ?1",
            [participant_id],
            |r| r.get(0),
        )?)
    }
}
