//! Finding the thread a company's answer belongs to when it came to an address of ours that
//! names none (`palaute@`, `SLUG@`): by the ids of the mail we sent that it answers, or by its
//! subject among the company's open threads.

use rusqlite::params;

use super::connection::Tx;
use super::error::Result;
use super::sqlite::Cached;

impl Tx<'_> {
    /// The company-side participant of `provider` that mail of ours with one of these
    /// Message-IDs (without angle brackets) went to, the newest if several: a forward, a
    /// reminder or a relayed post (the mail outbox_message indexes).
    pub fn company_side_of_sent(&self, provider: &str, ids: &[String]) -> Result<Option<i64>> {
        if ids.is_empty() {
            return Ok(None);
        }
        let ids = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
        Ok(self.tx.one(
            "SELECT coalesce(max(o.participant_id), 0) FROM outbox o
             JOIN participants p ON p.id = o.participant_id
             JOIN threads t ON t.id = p.thread_id
             WHERE o.message_id IN (SELECT value FROM json_each(?1))
               AND o.purpose IN ('forward', 'reminder', 'relay')
               AND p.role = 'provider' AND t.provider = ?2",
            params![ids, provider],
            |r| r.get::<_, i64>(0).map(|id| (id > 0).then_some(id)),
        )?)
    }

    /// The company-side participants of `provider`'s public threads titled `title`, among
    /// its 1,000 newest, at most two (one is an answer's thread; two are a
    /// guess). No index of titles: every thread would pay for this rare look-up.
    pub fn company_sides_titled(&self, provider: &str, title: &str) -> Result<Vec<i64>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT p.id FROM (SELECT id, title FROM threads
                               WHERE provider = ?1 AND held IS NULL
                               ORDER BY id DESC LIMIT 1000) t
             JOIN participants p ON p.thread_id = t.id AND p.role = 'provider'
             WHERE t.title = ?2
             ORDER BY t.id DESC LIMIT 2",
        )?;
        let rows = stmt.query_map(params![provider, title], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Whether journal entry `journal_id` already gave thread `thread_id` a post: one message
    /// to two of our addresses (a token and `SLUG@`) answers once.
    pub fn posted_from(&self, journal_id: i64, thread_id: i64) -> Result<bool> {
        Ok(self.tx.one(
            "SELECT EXISTS (SELECT 1 FROM posts WHERE thread_id = ?1 AND journal_id = ?2)",
            params![thread_id, journal_id],
            |r| r.get(0),
        )?)
    }

    /// How many posts of `kind` thread `thread_id` has.
    pub fn count_posts(&self, thread_id: i64, kind: super::records::PostKind) -> Result<i64> {
        Ok(self.tx.one(
            "SELECT count(*) FROM posts WHERE thread_id = ?1 AND kind = ?2",
            params![thread_id, kind.as_str()],
            |r| r.get(0),
        )?)
    }
}
