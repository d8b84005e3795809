//! Followers of companies and what their daily digest carries.

use rusqlite::{OptionalExtension, params};

use super::connection::{Store, Tx};
use super::error::Result;
use super::sqlite::Cached;
use super::sqlite::next_id;

/// Someone who asked to follow a company.
#[derive(Debug, Clone)]
pub struct Follower {
    pub id: i64,
    pub provider: String,
    pub person_id: i64,
    /// Private: never published.
    pub address: String,
    pub confirmed: bool,
    /// Since when the next digest reports (confirmation, then each digest).
    pub last_digest_at: i64,
}

/// A company's public news since some moment: new threads, and threads with new official
/// answers, each as (thread id, title).
#[derive(Debug, Clone, Default)]
pub struct CompanyNews {
    pub threads: Vec<(i64, String)>,
    pub answers: Vec<(i64, String)>,
}

const FOLLOWER_COLUMNS: &str = "f.id, f.provider, f.person_id, p.address, \
     f.confirmed_at IS NOT NULL, coalesce(f.last_digest_at, f.created_at)";

fn follower_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Follower> {
    Ok(Follower {
        id: r.get(0)?,
        provider: r.get(1)?,
        person_id: r.get(2)?,
        address: r.get(3)?,
        confirmed: r.get(4)?,
        last_digest_at: r.get(5)?,
    })
}

impl Store {
    /// One-click unsubscribe: removes a follower in a transaction of its own; whether there
    /// was one.
    pub fn unsubscribe(&mut self, follower: i64) -> Result<bool> {
        let tx = self.begin()?;
        let removed = tx.remove_follower(follower)?;
        tx.commit()?;
        Ok(removed)
    }
}

impl Tx<'_> {
    /// The follower of `provider` that `person` is, added if new.
    pub fn add_follower(&self, provider: &str, person: i64, now: i64) -> Result<Follower> {
        self.tx.run(
            concat!(
                "INSERT INTO followers (id, provider, person_id, created_at) VALUES (",
                next_id!("followers"),
                ", ?1, ?2, ?3) ON CONFLICT(provider, person_id) DO NOTHING"
            ),
            params![provider, person, now],
        )?;
        Ok(self.tx.one(
            &format!(
                "SELECT {FOLLOWER_COLUMNS} FROM followers f JOIN people p ON p.id = f.person_id
                 WHERE f.provider = ?1 AND f.person_id = ?2"
            ),
            params![provider, person],
            follower_from_row,
        )?)
    }

    /// A follower by id.
    pub fn follower(&self, id: i64) -> Result<Option<Follower>> {
        Ok(self
            .tx
            .one(
                &format!(
                    "SELECT {FOLLOWER_COLUMNS} FROM followers f JOIN people p ON p.id = f.person_id
                     WHERE f.id = ?1"
                ),
                [id],
                follower_from_row,
            )
            .optional()?)
    }

    /// The follower confirmed: digests start from now.
    pub fn confirm_follower(&self, id: i64, now: i64) -> Result<()> {
        self.tx.run(
            "UPDATE followers SET confirmed_at = ?2, last_digest_at = ?2
             WHERE id = ?1 AND confirmed_at IS NULL",
            params![id, now],
        )?;
        Ok(())
    }

    /// Removes a follower; whether there was one.
    pub fn remove_follower(&self, id: i64) -> Result<bool> {
        Ok(self.tx.run("DELETE FROM followers WHERE id = ?1", [id])? == 1)
    }

    /// Confirmed followers whose last digest is older than `before`.
    pub fn followers_due(&self, before: i64) -> Result<Vec<Follower>> {
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT {FOLLOWER_COLUMNS} FROM followers f JOIN people p ON p.id = f.person_id
             WHERE f.confirmed_at IS NOT NULL AND f.last_digest_at <= ?1 ORDER BY f.id"
        ))?;
        let rows = stmt.query_map([before], follower_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A digest went out now.
    pub fn digested(&self, id: i64, now: i64) -> Result<()> {
        self.tx.run(
            "UPDATE followers SET last_digest_at = ?2 WHERE id = ?1",
            params![id, now],
        )?;
        Ok(())
    }

    /// What is new and public about a company since `since`, at most 50 of each.
    pub fn company_news(&self, provider: &str, since: i64) -> Result<CompanyNews> {
        let list = |sql: &str| -> Result<Vec<(i64, String)>> {
            let mut stmt = self.tx.prepare_cached(sql)?;
            let rows = stmt.query_map(params![provider, since], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        };
        Ok(CompanyNews {
            threads: list(
                "SELECT id, title FROM threads
                 WHERE provider = ?1 AND created_at >= ?2 AND held IS NULL AND removed IS NULL
                 ORDER BY id LIMIT 50",
            )?,
            answers: list(
                "SELECT DISTINCT t.id, t.title FROM posts p JOIN threads t ON t.id = p.thread_id
                 WHERE t.provider = ?1 AND p.created_at >= ?2 AND p.kind = 'official'
                   AND p.removed IS NULL AND t.held IS NULL AND t.removed IS NULL
                 ORDER BY t.id LIMIT 50",
            )?,
        })
    }
}
