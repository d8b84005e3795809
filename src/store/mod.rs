//! The store: SQLite in WAL mode, the only module that speaks SQL.
//!
//! Callers get typed functions. Writes that belong together (a thread, its posts and its outbox
//! rows) go through one [`Tx`], so the pipeline applies a message completely or not at all.
//! Keeping SQL here is what lets the store move to a server database as one module's work.

/// The id for a new row of a table whose ids tokens or links name, as SQL text: above every
/// id the table has, and every id it ever deleted (`retired_ids`, kept by triggers), so no id
/// is given twice.
macro_rules! next_id {
    ($table:literal) => {
        concat!(
            "(SELECT max((SELECT coalesce(max(id), 0) FROM ",
            $table,
            "), (SELECT coalesce(max(last), 0) FROM retired_ids WHERE name = '",
            $table,
            "')) + 1)"
        )
    };
}

pub mod checkpoint;
pub mod company_clock;
pub mod follow;
pub mod held;
pub mod holds;
pub mod intake;
mod migrations;
pub mod outbox;
pub mod public;
pub mod reminders;
pub mod removal;
pub mod replay;
pub mod solved;
pub mod support;
pub mod tone;
pub mod traces;
pub mod turns;
pub mod unregistered;

use std::path::Path;
use std::sync::Arc;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::auth::Evidence;
use crate::mail::Envelope;
pub use outbox::{EVENT_BOUNCE, MessageOrigin, Outbound, OutboundRow, QueueRow};
use turns::{Turn, WriteTurns};

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(
        "the database has schema version {found} but this program knows only up to {known}; run a newer nonono"
    )]
    TooNew { found: usize, known: usize },
    #[error("{what} {id} does not exist")]
    Missing { what: &'static str, id: i64 },
}

/// Result of store calls.
pub type Result<T> = std::result::Result<T, StoreError>;

/// One connection to the store.
pub struct Store {
    conn: Connection,
    /// Whether the intake is attached (read-only connections): what the receiver committed
    /// and the pipeline has not moved yet counts as pending journal entries.
    intake: bool,
    /// Turns at the write lock shared with the service's other writers, if it has any.
    turns: Option<Arc<WriteTurns>>,
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

/// A message committed by the receiver, waiting for (or done with) the pipeline.
#[derive(Debug, Clone)]
pub struct JournalEntry {
    pub id: i64,
    pub received_at: i64,
    pub envelope: Envelope,
    pub raw: Vec<u8>,
    /// How often the pipeline began work on it before (see [`Store::journal_attempts`]).
    pub attempts: i64,
    /// Released from the holding pen (by its writer, for the personal data in it, or by the
    /// operator): processed again without the holds.
    pub released: bool,
    /// Assigned by the operator as an answer of this participant, whatever its recipients.
    pub assigned_to: Option<i64>,
}

/// What became of a journal entry.
#[derive(Debug, Clone)]
pub struct JournalOutcome {
    /// `pending`, `done` or `failed`.
    pub state: String,
    /// `human`, `auto` or `bounce`, once processed.
    pub class: Option<String>,
    /// What the pipeline did, in words.
    pub outcome: Option<String>,
}

/// A received message to commit to the journal.
#[derive(Debug, Clone, Copy)]
pub struct Arrival<'a> {
    pub envelope: &'a Envelope,
    pub raw: &'a [u8],
    pub received_at: i64,
    /// Whether it is new feedback (to `palaute@` or a company's address).
    pub feedback: bool,
    /// The company it is about, when the receiver could tell.
    pub provider: Option<&'a str>,
}

impl<'a> Arrival<'a> {
    /// A message not known to be feedback about anyone (tests, tools).
    pub fn new(envelope: &'a Envelope, raw: &'a [u8], received_at: i64) -> Self {
        Arrival {
            envelope,
            raw,
            received_at,
            feedback: false,
            provider: None,
        }
    }
}

/// Whose side of a thread a participant is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Consumer,
    Provider,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Consumer => "consumer",
            Role::Provider => "provider",
        }
    }
    fn parse(s: &str) -> Role {
        if s == "provider" {
            Role::Provider
        } else {
            Role::Consumer
        }
    }
}

/// A party in a thread, reachable through its own token address.
#[derive(Debug, Clone)]
pub struct Participant {
    pub id: i64,
    pub thread_id: i64,
    pub role: Role,
    /// Where mail to this participant goes. Private: never published.
    pub address: String,
    /// How this participant appears in public.
    pub public_name: String,
}

/// A public thread.
#[derive(Debug, Clone)]
pub struct Thread {
    pub id: i64,
    /// Provider slug, when the company is registered.
    pub provider: Option<String>,
    /// The company's name as shown.
    pub company: String,
    pub title: String,
    /// The public label of the route that got it.
    pub route_label: Option<String>,
    pub created_at: i64,
    /// When the company's response time runs out.
    pub due_at: Option<i64>,
    /// The first official answer.
    pub first_answer_at: Option<i64>,
    /// The first automatic reply from the company's side.
    pub first_auto_at: Option<i64>,
    pub last_activity_at: i64,
    /// How many public posts it has.
    pub posts: i64,
    /// Why it is not public yet, if it is not.
    pub held: Option<String>,
    /// Hidden by the operator: the page shows only a tombstone.
    pub removed: Option<Removal>,
    /// When the company's mail server accepted our forward: its response time runs from then.
    pub delivered_at: Option<i64>,
    /// Since when mail to the company bounces: its response time is paused meanwhile.
    pub undeliverable_at: Option<i64>,
    /// Readers who confirmed they had the same problem.
    pub supporters: i64,
}

/// The public kind of a post (`data-kind` in pages, `kind` in the export).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostKind {
    Consumer,
    Official,
    Unverified,
    Community,
    Auto,
    System,
}

impl PostKind {
    /// The name used in pages and the export.
    pub fn as_str(self) -> &'static str {
        match self {
            PostKind::Consumer => "consumer",
            PostKind::Official => "official",
            PostKind::Unverified => "unverified",
            PostKind::Community => "community",
            PostKind::Auto => "auto",
            PostKind::System => "system",
        }
    }
    fn parse(s: &str) -> PostKind {
        match s {
            "official" => PostKind::Official,
            "unverified" => PostKind::Unverified,
            "community" => PostKind::Community,
            "auto" => PostKind::Auto,
            "system" => PostKind::System,
            _ => PostKind::Consumer,
        }
    }
}

/// A post to add to a thread.
#[derive(Debug, Clone)]
pub struct NewPost<'a> {
    pub thread_id: i64,
    pub participant_id: Option<i64>,
    pub journal_id: Option<i64>,
    pub kind: PostKind,
    pub author: &'a str,
    pub body: &'a str,
    pub trimmed: &'a str,
    /// Cutting quotes would have left nothing, so the whole text was kept.
    pub uncut: bool,
    pub attachments: usize,
    pub message_id: Option<&'a str>,
    pub created_at: i64,
    /// How a sender that claimed to be the company authenticated, when it was checked.
    pub evidence: Option<&'a Evidence>,
}

/// A published post.
#[derive(Debug, Clone)]
pub struct Post {
    pub id: i64,
    pub thread_id: i64,
    pub kind: PostKind,
    pub author: String,
    pub body: String,
    pub trimmed: String,
    /// Cutting quotes would have left nothing, so the whole text is shown.
    pub uncut: bool,
    pub attachments: usize,
    pub created_at: i64,
    /// A tombstone: who removed the text, why (public), and when.
    pub removed: Option<Removal>,
    /// How the sender authenticated, when it claimed to be the company and was checked.
    pub evidence: Option<Evidence>,
    /// A company's template answer rather than one written for this thread.
    pub template: bool,
}

/// Who removed something public, why and when: what its tombstone shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    /// `writer` or `operator`.
    pub by: String,
    pub reason: String,
    pub at: i64,
}

fn removal(by: Option<String>, reason: Option<String>, at: Option<i64>) -> Option<Removal> {
    by.map(|by| Removal {
        by,
        reason: reason.unwrap_or_default(),
        at: at.unwrap_or(0),
    })
}

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

/// The event kind of an automatic reply from the company's side.
pub const EVENT_AUTO_REPLY: &str = "auto-reply";

/// A thread event that is not a post: an automatic reply, a bounce, a refusal.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: String,
    pub detail: String,
    pub created_at: i64,
}

/// While another connection writes, wait in short steps for up to ~10 s. SQLite's own busy
/// timeout backs off to 100 ms sleeps: under a steady stream of journal commits the pipeline
/// would spend most of its time asleep with the lock long free.
fn wait_for_lock(attempt: i32) -> bool {
    std::thread::sleep(std::time::Duration::from_micros(250));
    attempt < 40_000
}

/// Statements the store runs again and again, compiled once per connection and kept: for the
/// pipeline's short statements SQLite spent more time compiling than running them.
pub(crate) trait Cached {
    /// Runs a statement that returns no rows; how many rows it changed.
    fn run(&self, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize>;
    /// Runs a query and maps its first row.
    fn one<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        row: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T>;
}

impl Cached for Connection {
    fn run(&self, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn one<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        row: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(params, row)
    }
}

fn configure(conn: &mut Connection) -> Result<()> {
    // Room for every statement of the store: the default 16 would evict the pipeline's own.
    conn.set_prepared_statement_cache_capacity(256);
    // The bundled SQLite weighs bound values when planning (STAT4), so a statement with a range
    // on a parameter was compiled again for every new value (the pipeline's sender counts);
    // one plan per statement is what a cache of them is for.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    conn.busy_handler(Some(wait_for_lock))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // The pipeline opens a savepoint per message: the pages it changes are copied to a
    // subjournal first, a temporary file (a write call per page, a fifth of the pipeline's time)
    // unless temporary storage is in memory. It is small: released with each message.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "journal_size_limit", checkpoint::LOG_FILE_LIMIT)?;
    Ok(())
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
        store.attach_intake(&intake::path_beside(path))?;
        Ok(store)
    }

    /// Messages in the attached intake, not moved into the journal yet (none when it is not
    /// attached).
    fn waiting_in_intake(&self) -> Result<i64> {
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
    fn attach_intake(&mut self, path: &Path) -> Result<()> {
        intake::create(path)?;
        self.conn.run(
            "ATTACH DATABASE ?1 AS intake",
            [path.to_string_lossy().as_ref()],
        )?;
        self.conn.pragma_update(
            Some("intake"),
            "journal_size_limit",
            checkpoint::LOG_FILE_LIMIT,
        )?;
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

    /// Adds messages straight to the journal, past the intake, and returns their ids: for
    /// tools and tests that fill a store (the receiver commits to the [`intake`]).
    pub fn journal_append(&mut self, messages: &[Arrival<'_>]) -> Result<Vec<i64>> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let ids = insert_arrivals(&tx, Arrivals::Journal, None, messages)?;
        tx.commit()?;
        Ok(ids)
    }

    /// The oldest journal entries the pipeline has not finished: at most `limit`, and while
    /// the raw mail of those before each stays under `bytes` (so at least one).
    pub fn pending_journal(&self, limit: usize, bytes: i64) -> Result<Vec<JournalEntry>> {
        let oldest = ids_within(
            "SELECT j.id, length(r.raw) AS size FROM journal j JOIN journal_raw r ON r.id = j.id
             WHERE j.state = 'pending' ORDER BY j.id LIMIT ?1",
            "id",
            "?2",
        );
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT j.id, received_at, peer, helo, mail_from, rcpt_to, raw, attempts,
                    publication = 2, assigned_to
             FROM journal j JOIN journal_raw r ON r.id = j.id
             WHERE j.id IN ({oldest}) ORDER BY j.id"
        ))?;
        let rows = stmt.query_map(params![limit as i64, bytes], |r| {
            let rcpt: String = r.get(5)?;
            Ok(JournalEntry {
                id: r.get(0)?,
                received_at: r.get(1)?,
                envelope: Envelope {
                    peer: r.get(2)?,
                    helo: r.get(3)?,
                    mail_from: r.get(4)?,
                    rcpt_to: rcpt.lines().map(str::to_owned).collect(),
                },
                raw: r.get(6)?,
                attempts: r.get(7)?,
                released: r.get(8)?,
                assigned_to: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Adds `delta` to the attempts of these journal entries: +1 in a commit of its own before
    /// the pipeline reads them, so the count survives the process dying on one of them; -1
    /// when the work was stopped by something else (the store was busy).
    pub fn journal_attempts(&mut self, ids: &[i64], delta: i64) -> Result<()> {
        let _turn = self.turn();
        self.conn.run(
            "UPDATE journal SET attempts = attempts + ?2
             WHERE id IN (SELECT value FROM json_each(?1))",
            params![id_list(ids), delta],
        )?;
        Ok(())
    }

    /// Records that the pipeline could not process a journal entry; the raw message stays.
    pub fn journal_failed(&mut self, id: i64, error: &str, now: i64) -> Result<()> {
        journal_failed(&self.conn, id, error, now)
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
    fn turn(&self) -> Option<Turn> {
        self.turns.as_ref().map(|turns| turns.take())
    }

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
                    template
             FROM posts WHERE thread_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([thread_id], |r| {
            let kind = PostKind::parse(&r.get::<_, String>(2)?);
            let (domain, method) = (r.get(12)?, r.get(13)?);
            let evidence = r.get::<_, Option<String>>(14)?.map(|dmarc| Evidence {
                verified: kind == PostKind::Official,
                domain,
                method,
                dmarc,
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
                kind: PostKind::parse(&r.get::<_, String>(4)?).as_str(),
                author: r.get(5)?,
                title: r.get(6)?,
                body: r.get(7)?,
                created_at: crate::domain::calendar::rfc3339(r.get(8)?),
                removed: r.get(9)?,
            })?;
        }
        Ok(())
    }

    /// Counts of journal entries by state (states with none left out), for tests and the
    /// operator. Counted through indexes: the entries themselves hold every message.
    pub fn journal_counts(&self) -> Result<Vec<(String, i64)>> {
        let one = |sql: &str| -> Result<i64> { Ok(self.conn.one(sql, [], |r| r.get(0))?) };
        let waiting = self.waiting_in_intake()?;
        let pending = one("SELECT count(*) FROM journal WHERE state = 'pending'")?;
        let failed = one("SELECT count(*) FROM journal WHERE state = 'failed'")?;
        let done = one("SELECT count(*) FROM journal")? - pending - failed;
        Ok([
            ("done", done),
            ("failed", failed),
            ("pending", pending + waiting),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(state, n)| (state.to_owned(), n))
        .collect())
    }

    /// What the pipeline did with a journal entry.
    pub fn journal_outcome(&self, id: i64) -> Result<Option<JournalOutcome>> {
        Ok(self
            .conn
            .one(
                "SELECT state, class, outcome FROM journal WHERE id = ?1",
                [id],
                |r| {
                    Ok(JournalOutcome {
                        state: r.get(0)?,
                        class: r.get(1)?,
                        outcome: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("writing: {0}")]
    Io(#[from] std::io::Error),
}

/// The columns [`thread_from_row`] reads, in order.
const THREAD_COLUMNS: &str = "id, provider, company, title, route_label, created_at, due_at, \
     first_answer_at, first_auto_at, last_activity_at, posts, held, removed, removed_reason, \
     removed_at, delivered_at, undeliverable_at, supporters";
/// How many columns [`THREAD_COLUMNS`] has: a query's own columns come after.
const THREAD_COLUMN_COUNT: usize = 18;

/// Which posts [`index_posts`] and [`unindex_posts`] take.
#[derive(Debug, Clone, Copy)]
pub(crate) enum PostsOf {
    /// The post with this id.
    Post,
    /// Every post of the thread with this id.
    Thread,
    /// Every post of the participant with this id.
    Participant,
}

impl PostsOf {
    pub(crate) fn column(self) -> &'static str {
        match self {
            PostsOf::Post => "id",
            PostsOf::Thread => "thread_id",
            PostsOf::Participant => "participant_id",
        }
    }
}

/// Puts posts into the search index under their thread's title, those that are public (their
/// thread not held, the post not removed) and not in it yet.
pub(crate) fn index_posts(conn: &Connection, which: PostsOf, id: i64) -> rusqlite::Result<usize> {
    index_posts_where(conn, &format!("p.{} = ?1", which.column()), id)
}

/// [`index_posts`] for the posts with these ids, in one statement: the search index writes
/// what it holds to disk before every further statement of a transaction that writes it, so
/// a statement per post wrote a segment per post, and merged them.
fn index_post_list(conn: &Connection, ids: &[i64]) -> rusqlite::Result<usize> {
    index_posts_where(
        conn,
        "p.id IN (SELECT value FROM json_each(?1))",
        id_list(ids),
    )
}

/// Ids as a JSON array, one parameter that SQL reads with `json_each`.
fn id_list(ids: &[i64]) -> String {
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    format!("[{}]", list.join(","))
}

fn index_posts_where(
    conn: &Connection,
    posts: &str,
    param: impl rusqlite::ToSql,
) -> rusqlite::Result<usize> {
    conn.run(
        &format!(
            "INSERT INTO posts_fts (rowid, title, body)
             SELECT p.id, t.title, p.body FROM posts p JOIN threads t ON t.id = p.thread_id
             WHERE {posts} AND t.held IS NULL AND p.removed IS NULL
               AND NOT EXISTS (SELECT 1 FROM posts_fts WHERE rowid = p.id)"
        ),
        [param],
    )
}

/// Takes posts out of the search index (before their text or their thread's title changes).
pub(crate) fn unindex_posts(conn: &Connection, which: PostsOf, id: i64) -> rusqlite::Result<usize> {
    conn.run(
        &format!(
            "DELETE FROM posts_fts WHERE rowid IN (SELECT id FROM posts WHERE {} = ?1)",
            which.column()
        ),
        [id],
    )
}

fn sent_to(
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

fn thread_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Thread> {
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
    })
}

fn participant_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Participant> {
    Ok(Participant {
        id: r.get(0)?,
        thread_id: r.get(1)?,
        role: Role::parse(&r.get::<_, String>(2)?),
        address: r.get(3)?,
        public_name: r.get(4)?,
    })
}

/// Brings the schema up to date in one exclusive transaction; refuses a newer schema.
fn migrate(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)?;
    let version = tx.one("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
    let known = migrations::MIGRATIONS.len();
    if version > known {
        return Err(StoreError::TooNew {
            found: version,
            known,
        });
    }
    for (i, sql) in migrations::MIGRATIONS.iter().enumerate().skip(version) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
    }
    tx.commit()?;
    Ok(())
}

/// A write transaction: everything the pipeline does for one message.
pub struct Tx<'a> {
    tx: rusqlite::Transaction<'a>,
    /// Posts added here, indexed for search at the commit, all in one statement: indexed one
    /// by one, every entry's savepoint made the index write a segment of its own and merge them
    /// (a fifth of the pipeline's time, and a quarter of the bytes it wrote).
    unindexed: std::cell::RefCell<Vec<i64>>,
    /// Journal entries made pending again here (see [`Tx::publish_held`]).
    requeued: std::cell::Cell<usize>,
    /// Dropped after the transaction ends.
    _turn: Option<Turn>,
}

/// A thread to create.
#[derive(Debug, Clone)]
pub struct NewThread<'a> {
    pub provider: Option<&'a str>,
    pub company: &'a str,
    pub title: &'a str,
    pub route: Option<&'a str>,
    pub route_label: Option<&'a str>,
    pub journal_id: i64,
    pub created_at: i64,
    pub due_at: Option<i64>,
    /// Why it is held back from the public, if it is.
    pub held: Option<&'a str>,
}

/// Where [`insert_arrivals`] puts received messages: alike in their envelope columns.
enum Arrivals {
    /// The intake, the raw mail in each row: its rows never change.
    Intake,
    /// The journal, the raw mail in `journal_raw` (migration 13): its rows change state.
    Journal,
}

/// Inserts received messages and returns their ids: counted on from `first_id`, or the
/// table's next when `None`.
fn insert_arrivals(
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

/// SQL for the ids of `rows` (a query of `id`, `size` and the columns of `order`, ordered and
/// limited) while the sizes of the rows before each add up to less than `bound` (a parameter):
/// the first always, however large. What a batch of mail may hold in memory.
fn ids_within(rows: &str, order: &str, bound: &str) -> String {
    format!(
        "SELECT id FROM (SELECT id, sum(size) OVER (ORDER BY {order}) - size AS before
                         FROM ({rows}))
         WHERE before < {bound}"
    )
}

fn journal_failed(conn: &Connection, id: i64, error: &str, now: i64) -> Result<()> {
    conn.run(
        "UPDATE journal SET state = 'failed', outcome = ?2, processed_at = ?3 WHERE id = ?1",
        params![id, error, now],
    )?;
    Ok(())
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

    /// Records that the pipeline could not process a journal entry; the raw message stays.
    pub fn journal_failed(&self, id: i64, error: &str, now: i64) -> Result<()> {
        journal_failed(&self.tx, id, error, now)
    }

    /// Marks a journal entry processed, with its class and a sentence on what was done.
    pub fn finish_journal(&self, id: i64, class: &str, outcome: &str, now: i64) -> Result<()> {
        self.tx.run(
            "UPDATE journal SET state = 'done', class = ?2, outcome = ?3, processed_at = ?4 WHERE id = ?1",
            params![id, class, outcome, now],
        )?;
        Ok(())
    }

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
                                      created_at, due_at, last_activity_at, held)
                 VALUES (",
                next_id!("threads"),
                ", ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?7, ?9)"
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
                t.held
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
                "SELECT id, thread_id, role, address, public_name FROM participants WHERE id = ?1",
                [id],
                participant_from_row,
            )
            .optional()?)
    }

    /// The participants of a thread on one side.
    pub fn participants(&self, thread_id: i64, role: Role) -> Result<Vec<Participant>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT id, thread_id, role, address, public_name FROM participants
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
                                auth_domain, auth_method, auth_dmarc)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
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
        kind: &str,
        detail: &str,
        now: i64,
    ) -> Result<()> {
        self.tx.run(
            "INSERT INTO events (thread_id, journal_id, kind, detail, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![thread_id, journal_id, kind, detail, now],
        )?;
        if kind == EVENT_AUTO_REPLY {
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

/// Store fixtures for the unit tests of its modules.
#[cfg(test)]
pub(crate) mod testing {
    use crate::mail::Envelope;

    /// Feedback received from `from`.
    pub(crate) fn envelope(from: &str) -> Envelope {
        Envelope {
            mail_from: from.into(),
            rcpt_to: vec!["palaute@nonono.localhost".into()],
            peer: "192.0.2.1".into(),
            helo: "h".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::public::Figures;

    #[test]
    fn migrations_apply_once_and_a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite3");
        drop(Store::open(&path).unwrap());
        let store = Store::open(&path).unwrap();
        let version: i64 = store
            .conn
            .one("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version as usize, migrations::MIGRATIONS.len());
        let mode: String = store
            .conn
            .one("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        store.conn.pragma_update(None, "user_version", 99).unwrap();
        drop(store);
        match Store::open(&path) {
            Err(StoreError::TooNew { found: 99, .. }) => {}
            other => panic!("expected TooNew, got {:?}", other.err()),
        }
    }

    /// Tokens and links name rows by id: a purged held thread (its participants and its mail)
    /// or a follower who left must never lend its id to a newer row, or an old token would
    /// act on someone else's.
    #[test]
    fn ids_behind_tokens_are_never_given_twice() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, journal_id) = store_with_an_entry(&dir.path().join("s.sqlite3"));
        let outbound = |thread_id, participant_id| Outbound {
            thread_id: Some(thread_id),
            participant_id: Some(participant_id),
            journal_id: Some(journal_id),
            purpose: "confirm",
            mail_from: String::new(),
            rcpt_to: "matti@example.fi".into(),
            message_id: "m@x".into(),
            raw: b"x".to_vec(),
        };
        let rows = |store: &mut Store| {
            let tx = store.begin().unwrap();
            let thread_id = thread(&tx, journal_id, Some("confirmation"));
            let participant = tx
                .add_participant(thread_id, Role::Consumer, "matti@example.fi", "M", None, 1)
                .unwrap();
            let outbox = tx.queue(&outbound(thread_id, participant), 1).unwrap();
            let person = tx.person("matti@example.fi", 1).unwrap();
            let follower = tx.add_follower("elisa", person, 1).unwrap().id;
            tx.commit().unwrap();
            [thread_id, participant, outbox, follower]
        };
        let first = rows(&mut store);
        assert_eq!(store.purge_held(i64::MAX).unwrap(), 1);
        let tx = store.begin().unwrap();
        assert!(tx.remove_follower(first[3]).unwrap());
        tx.commit().unwrap();
        let second = rows(&mut store);
        for (old, new) in first.iter().zip(second) {
            assert!(new > *old, "{first:?} then {second:?}");
        }
    }

    /// A new store at `path` with one journal entry, for threads and posts to come from.
    fn store_with_an_entry(path: &Path) -> (Store, i64) {
        let mut store = Store::open(path).unwrap();
        let env = testing::envelope("matti@example.fi");
        let journal_id = store
            .journal_append(&[Arrival::new(&env, b"x", 1)])
            .unwrap()[0];
        (store, journal_id)
    }

    /// Feedback about Elisa, public, with no response time.
    fn new_thread(journal_id: i64) -> NewThread<'static> {
        NewThread {
            provider: Some("elisa"),
            company: "Elisa",
            title: "Lasku",
            route: None,
            route_label: None,
            journal_id,
            created_at: 1,
            due_at: None,
            held: None,
        }
    }

    fn thread(tx: &Tx<'_>, journal_id: i64, held: Option<&str>) -> i64 {
        tx.create_thread(&NewThread {
            held,
            ..new_thread(journal_id)
        })
        .unwrap()
    }

    /// A writer's post.
    fn post(tx: &Tx<'_>, thread_id: i64, body: &str) -> i64 {
        add_post(tx, thread_id, PostKind::Consumer, "Kirjoittaja", body)
    }

    /// The company's answer.
    fn answer(tx: &Tx<'_>, thread_id: i64) -> i64 {
        add_post(
            tx,
            thread_id,
            PostKind::Official,
            "Elisa",
            "Hei, korjasimme laskun.",
        )
    }

    fn add_post(tx: &Tx<'_>, thread_id: i64, kind: PostKind, author: &str, body: &str) -> i64 {
        tx.add_post(&NewPost {
            thread_id,
            participant_id: None,
            journal_id: None,
            kind,
            author,
            body,
            trimmed: body,
            uncut: false,
            attachments: 0,
            message_id: None,
            created_at: 1,
            evidence: None,
        })
        .unwrap()
    }

    #[test]
    fn posts_are_searchable_once_committed_and_public() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, journal_id) = store_with_an_entry(&dir.path().join("s.sqlite3"));
        let thread = |tx: &Tx<'_>, held| thread(tx, journal_id, held);
        let tx = store.begin().unwrap();
        let public = thread(&tx, None);
        post(&tx, public, "laskutusvirhe");
        // An entry undone: its post is gone, and so is its place in the index.
        tx.begin_entry().unwrap();
        post(&tx, public, "peruttu");
        tx.undo_entry().unwrap();
        // Held, then released in the same transaction: indexed once.
        let held = thread(&tx, Some("confirmation"));
        post(&tx, held, "vahvistettu");
        tx.release(held).unwrap();
        // Held still: not searchable.
        let waiting = thread(&tx, Some("confirmation"));
        post(&tx, waiting, "odottava");
        tx.commit().unwrap();

        let hits = |word| store.search(word, 10, 0).unwrap().len();
        assert_eq!(hits("laskutusvirhe"), 1);
        assert_eq!(hits("peruttu"), 0);
        assert_eq!(hits("vahvistettu"), 1);
        assert_eq!(hits("odottava"), 0);
    }

    /// Takes a store back to version 14: before its holding pen (18), its journal counted
    /// attempts (17), its
    /// companies' figures were kept (16) and its threads counted their answers (15).
    const TO_VERSION_14: &str = "
        DROP TABLE holds;
        ALTER TABLE journal DROP COLUMN assigned_to;
        ALTER TABLE journal DROP COLUMN attempts;
        ALTER TABLE journal DROP COLUMN publication;
        DROP TABLE health;
        DROP TRIGGER threads_retired;
        DROP TRIGGER participants_retired;
        DROP TRIGGER outbox_retired;
        DROP TRIGGER followers_retired;
        DROP TABLE retired_ids;
        DROP INDEX outbox_message;
        DROP INDEX outbox_recipient;
        DROP TRIGGER threads_counted;
        DROP TRIGGER threads_recounted;
        DROP TRIGGER threads_uncounted;
        DROP TABLE company_figures;
        DROP INDEX threads_overdue;
        DROP TRIGGER posts_answer_added;
        DROP TRIGGER posts_answer_changed;
        DROP TRIGGER posts_answer_deleted;
        CREATE INDEX threads_figures ON threads(provider, held, first_answer_at, due_at,
            first_auto_at, solved);
        ALTER TABLE threads DROP COLUMN answers;
        ALTER TABLE threads DROP COLUMN template_answers;
        PRAGMA user_version = 14;";

    #[test]
    fn a_companys_figures_follow_its_threads_and_posts() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, journal_id) = store_with_an_entry(&dir.path().join("s.sqlite3"));
        const NOW: i64 = 3;
        // What the figures counted before they were kept as things change: straight from the
        // threads (the official answers by joining their posts), as the oracle.
        let figures = |store: &Store| {
            let mut counted = store
                .conn
                .one(
                    "SELECT count(*), count(first_answer_at),
                            coalesce(sum(first_answer_at IS NULL AND due_at < ?1), 0),
                            coalesce(sum(first_answer_at IS NULL AND first_auto_at IS NOT NULL), 0),
                            coalesce(sum(solved IS 1), 0), coalesce(sum(solved IS 0), 0)
                     FROM threads WHERE provider = 'elisa' AND held IS NULL",
                    [NOW],
                    |r| {
                        Ok(Figures {
                            threads: r.get(0)?,
                            answered: r.get(1)?,
                            overdue: r.get(2)?,
                            auto_only: r.get(3)?,
                            solved: r.get(4)?,
                            unsolved: r.get(5)?,
                            ..Figures::default()
                        })
                    },
                )
                .unwrap();
            (counted.answers, counted.template_answers) = store
                .conn
                .one(
                    "SELECT count(*), coalesce(sum(p.template), 0)
                     FROM threads t JOIN posts p ON p.thread_id = t.id
                     WHERE t.provider = 'elisa' AND t.held IS NULL AND p.kind = 'official'
                       AND p.removed IS NULL",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            let kept = store.figures("elisa", NOW).unwrap();
            counted.median_answer_secs = kept.median_answer_secs;
            assert_eq!(kept, counted);
            kept
        };
        let counts = |f: Figures| {
            [
                f.threads,
                f.answered,
                f.overdue,
                f.auto_only,
                f.answers,
                f.template_answers,
                f.solved,
                f.unsolved,
            ]
        };
        let due_thread = |tx: &Tx<'_>, provider| {
            tx.create_thread(&NewThread {
                provider,
                due_at: Some(2),
                ..new_thread(journal_id)
            })
            .unwrap()
        };

        let tx = store.begin().unwrap();
        let open = thread(&tx, journal_id, None);
        let first = answer(&tx, open);
        let second = answer(&tx, open);
        post(&tx, open, "Kiitos!");
        let held = thread(&tx, journal_id, Some("confirmation"));
        answer(&tx, held);
        let late = due_thread(&tx, Some("elisa"));
        // An entry undone takes its answer and its thread with it.
        tx.begin_entry().unwrap();
        answer(&tx, late);
        due_thread(&tx, Some("elisa"));
        tx.undo_entry().unwrap();
        tx.commit().unwrap();
        assert_eq!(counts(figures(&store)), [2, 1, 1, 0, 2, 0, 0, 0]);

        let tx = store.begin().unwrap();
        tx.mark_template(second).unwrap();
        tx.release(held).unwrap();
        tx.add_event(late, None, EVENT_AUTO_REPLY, "", NOW).unwrap();
        tx.record_solved(open, true, NOW).unwrap();
        tx.record_solved(held, false, NOW).unwrap();
        // Feedback about a company not registered yet counts once the company is.
        let unregistered = due_thread(&tx, None);
        tx.commit().unwrap();
        assert_eq!(counts(figures(&store)), [3, 2, 1, 1, 3, 1, 1, 1]);

        let tx = store.begin().unwrap();
        tx.attach_provider(unregistered, "elisa", "Elisa", "a@elisa.example", None, 2)
            .unwrap();
        tx.record_solved(held, true, NOW).unwrap();
        answer(&tx, late);
        tx.commit().unwrap();
        assert_eq!(counts(figures(&store)), [4, 3, 1, 0, 4, 1, 2, 0]);

        // A store of version 14 counts its threads' answers, and its companies' figures, once,
        // as it is upgraded.
        store.conn.execute_batch(TO_VERSION_14).unwrap();
        drop(store);
        let mut store = Store::open(&dir.path().join("s.sqlite3")).unwrap();
        assert_eq!(counts(figures(&store)), [4, 3, 1, 0, 4, 1, 2, 0]);

        store.remove_post(second, "syy", 4).unwrap();
        assert_eq!(counts(figures(&store)), [4, 3, 1, 0, 3, 0, 2, 0]);
        store.remove_thread(open, "syy", 5).unwrap();
        assert_eq!(counts(figures(&store)), [4, 3, 1, 0, 2, 0, 2, 0]);
        assert!(store.remove_post(first, "syy", 6).is_ok());
        assert_eq!(counts(figures(&store)), [4, 3, 1, 0, 2, 0, 2, 0]);

        let tx = store.begin().unwrap();
        let waiting = thread(&tx, journal_id, Some("confirmation"));
        answer(&tx, waiting);
        tx.commit().unwrap();
        assert_eq!(store.purge_held(i64::MAX).unwrap(), 1);
        assert_eq!(counts(figures(&store)), [4, 3, 1, 0, 2, 0, 2, 0]);

        // A statement's conflict clause is its triggers' too: one that replaces must not
        // replace a company's counts.
        store
            .conn
            .run(
                "UPDATE OR REPLACE threads SET solved = 1 WHERE id = ?1",
                [late],
            )
            .unwrap();
        assert_eq!(counts(figures(&store)), [4, 3, 1, 0, 2, 0, 3, 0]);
    }

    #[test]
    fn pending_entries_come_in_batches_bounded_by_count_and_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.sqlite3")).unwrap();
        let env = testing::envelope("matti@example.fi");
        let big = vec![b'x'; 3 << 20];
        let ids = store
            .journal_append(&[
                Arrival::new(&env, &big, 1),
                Arrival::new(&env, &big, 1),
                Arrival::new(&env, b"small", 1),
            ])
            .unwrap();
        let pending = |limit, bytes| -> Vec<i64> {
            let entries = store.pending_journal(limit, bytes).unwrap();
            entries.into_iter().map(|e| e.id).collect()
        };
        assert_eq!(pending(10, i64::MAX), ids);
        assert_eq!(pending(1, i64::MAX), ids[..1]);
        assert_eq!(pending(10, 4 << 20), ids[..2]);
        assert_eq!(pending(10, 1), ids[..1]);
    }

    #[test]
    fn journal_keeps_raw_bytes_and_envelope_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.sqlite3")).unwrap();
        let env = Envelope {
            mail_from: String::new(),
            rcpt_to: vec!["a@x".into(), "b@x".into()],
            peer: "127.0.0.1".into(),
            helo: "h".into(),
        };
        let raw = b"\xff\x00binary\r\n".to_vec();
        let ids = store
            .journal_append(&[Arrival::new(&env, &raw, 5), Arrival::new(&env, b"x", 6)])
            .unwrap();
        assert_eq!(ids.len(), 2);
        let pending = store.pending_journal(10, i64::MAX).unwrap();
        assert_eq!(pending[0].raw, raw);
        assert_eq!(pending[0].envelope, env);
    }

    #[test]
    fn a_senders_pace_counts_what_arrived_up_to_the_message_only() {
        // Processed late (after a restart, or behind a burst), a message must be judged by
        // what came before it, not by what came after.
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.sqlite3")).unwrap();
        let env = testing::envelope("kone@example.fi");
        let other = testing::envelope("matti@example.fi");
        let elsewhere = Envelope {
            rcpt_to: vec!["t+abc@nonono.localhost".into()],
            ..env.clone()
        };
        let ids = store
            .journal_append(&[
                Arrival::new(&env, b"1", 100),
                Arrival::new(&other, b"2", 100),
                Arrival::new(&env, b"3", 101),
                Arrival::new(&elsewhere, b"4", 102),
            ])
            .unwrap();
        let tx = store.begin().unwrap();
        let count = |upto, since, at_most| {
            tx.received_from(
                "kone@example.fi",
                "palaute@nonono.localhost",
                since,
                upto,
                at_most,
            )
            .unwrap()
        };
        assert_eq!(count(ids[0], 0, 10), (1, 1));
        assert_eq!(count(ids[2], 0, 10), (2, 2));
        assert_eq!(count(ids[3], 0, 10), (2, 3), "to one address, and to any");
        assert_eq!(
            count(ids[3], 101, 10),
            (1, 2),
            "only since the window's start"
        );
        assert_eq!(count(ids[3], 0, 2), (2, 2), "counted up to at_most");
    }

    #[test]
    fn raw_mail_stored_before_it_had_tables_of_its_own_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite3");
        let conn = Connection::open(&path).unwrap();
        for sql in &migrations::MIGRATIONS[..12] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 12).unwrap();
        conn.execute_batch(
            "INSERT INTO journal (id, received_at, peer, helo, mail_from, rcpt_to, raw)
             VALUES (7, 1, 'p', 'h', 'a@example.fi', 'palaute@x', x'0001ff');
             INSERT INTO outbox (id, journal_id, purpose, mail_from, rcpt_to, message_id, raw,
                                 next_attempt_at, created_at)
             VALUES (3, 7, 'forward', '', 'b@example.fi', 'm@x', x'02', 1, 1);",
        )
        .unwrap();
        drop(conn);
        let store = Store::open(&path).unwrap();
        let pending = store.pending_journal(10, i64::MAX).unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(
            (pending[0].id, pending[0].raw.as_slice()),
            (7, &[0, 1, 0xff][..])
        );
        let due = store.due_outbound(1, 10, i64::MAX, &[]).unwrap();
        assert_eq!((due[0].id, due[0].raw.as_slice()), (3, &[2][..]));
    }

    #[test]
    fn the_search_index_is_rebuilt_without_its_own_copy_of_the_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite3");
        let (mut store, journal_id) = store_with_an_entry(&path);
        let tx = store.begin().unwrap();
        let public = thread(&tx, journal_id, None);
        post(&tx, public, "laskutusvirhe");
        let removed = post(&tx, public, "poistettava");
        let held = thread(&tx, journal_id, Some("confirmation"));
        post(&tx, held, "odottava");
        tx.commit().unwrap();
        store.remove_post(removed, "syy", 2).unwrap();
        // The index as version 13 left it, with a copy of every public post's text.
        store.conn.execute_batch(TO_VERSION_14).unwrap();
        store
            .conn
            .execute_batch(
                "DROP TABLE posts_vocab;
                 DROP TABLE posts_fts;
                 CREATE VIRTUAL TABLE posts_fts USING fts5(title, body,
                     tokenize = 'unicode61 remove_diacritics 2');
                 CREATE VIRTUAL TABLE posts_vocab USING fts5vocab(posts_fts, 'row');
                 INSERT INTO posts_fts (rowid, title, body)
                     SELECT p.id, t.title, p.body FROM posts p JOIN threads t ON t.id = p.thread_id
                     WHERE t.held IS NULL AND p.removed IS NULL;
                 PRAGMA user_version = 13;",
            )
            .unwrap();
        drop(store);
        let store = Store::open(&path).unwrap();
        let hits = |word| store.search(word, 10, 0).unwrap().len();
        assert_eq!(
            (
                hits("laskutusvirhe"),
                hits("lasku"),
                hits("poistettava"),
                hits("odottava")
            ),
            (1, 1, 0, 0)
        );
        let copies: i64 = store
            .conn
            .one(
                "SELECT count(*) FROM sqlite_master WHERE name = 'posts_fts_content'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(copies, 0);
    }
}
