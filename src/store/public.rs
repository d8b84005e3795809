//! Read queries for the public archive: company figures, listings, search and feeds.

use rusqlite::{OptionalExtension, params};

use super::connection::Store;
use super::error::Result;
use super::records::{PostKind, Thread};
use super::sqlite::Cached;
use super::threads::{THREAD_COLUMNS, thread_from_row};

/// A company's response figures: counts kept as its threads change, and what depends on the hour.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    pub threads: i64,
    /// Threads with an official answer.
    pub answered: i64,
    /// Median seconds from feedback to the first official answer.
    pub median_answer_secs: Option<i64>,
    /// Threads without an official answer whose response time has run out.
    pub overdue: i64,
    /// Threads whose only reply from the company was automatic.
    pub auto_only: i64,
    /// Official answers, and how many of them are templates.
    pub answers: i64,
    pub template_answers: i64,
    /// Threads whose writer said the problem was solved, and was not.
    pub solved: i64,
    pub unsolved: i64,
}

/// Which threads a company page lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadFilter {
    All,
    /// No official answer yet.
    Waiting,
    Answered,
}

/// A search result: one post and its thread.
#[derive(Debug, Clone)]
pub struct SearchHit {
    pub post: i64,
    pub thread: i64,
    pub title: String,
    pub company: String,
    pub kind: PostKind,
    pub body: String,
}

/// Posts searched first: when a query matches more than a page among the newest this many,
/// those are ranked and older ones are not, so a common word costs the same in a year as today.
pub const RECENT_WINDOW: i64 = 50_000;

/// A post with its thread, for feeds.
#[derive(Debug, Clone)]
pub struct FeedPost {
    pub post: i64,
    pub thread: i64,
    pub title: String,
    pub company: String,
    pub kind: PostKind,
    pub author: String,
    pub body: String,
    pub created_at: i64,
}

/// Turns what a reader typed into an FTS5 query: every word must occur, as a word or a prefix.
/// Operators and quotes in the input have no effect.
pub fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(|w| {
            if is_prefix(w) {
                format!("\"{w}\"*")
            } else {
                format!("\"{w}\"")
            }
        })
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// Shortest word searched as a prefix too: a prefix of one or two letters matches most of
/// the index (`a*` read every term of 100,000 threads, half a second a query).
const MIN_PREFIX: usize = 3;

/// Whether a search word also finds the words it begins.
fn is_prefix(word: &str) -> bool {
    word.chars().count() >= MIN_PREFIX
}

impl Store {
    /// The slugs of the `limit` companies with most public threads, most first.
    pub fn busiest_companies(&self, limit: usize) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT provider FROM company_figures WHERE threads > 0
             ORDER BY threads DESC, provider DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// How many public threads each company has (those with none are left out).
    pub fn thread_counts(&self) -> Result<std::collections::HashMap<String, i64>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT provider, threads FROM company_figures WHERE threads > 0")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A company's figures at `now`.
    pub fn figures(&self, provider: &str, now: i64) -> Result<Figures> {
        let counted = self
            .conn
            .one(
                "SELECT threads, answered, auto_only, answers, template_answers, solved, unsolved
                 FROM company_figures WHERE provider = ?1",
                [provider],
                |r| {
                    Ok(Figures {
                        threads: r.get(0)?,
                        answered: r.get(1)?,
                        auto_only: r.get(2)?,
                        answers: r.get(3)?,
                        template_answers: r.get(4)?,
                        solved: r.get(5)?,
                        unsolved: r.get(6)?,
                        ..Figures::default()
                    })
                },
            )
            .optional()?;
        let Some(mut figures) = counted else {
            return Ok(Figures::default());
        };
        figures.overdue = self.conn.one(
            "SELECT count(*) FROM threads
             WHERE provider = ?1 AND held IS NULL AND first_answer_at IS NULL AND due_at < ?2",
            params![provider, now],
            |r| r.get(0),
        )?;
        figures.median_answer_secs = self.median_answer_secs(provider, figures.answered)?;
        Ok(figures)
    }

    fn median_answer_secs(&self, provider: &str, answered: i64) -> Result<Option<i64>> {
        if answered == 0 {
            return Ok(None);
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT answer_secs FROM threads
             WHERE provider = ?1 AND answer_secs IS NOT NULL AND held IS NULL
             ORDER BY answer_secs LIMIT ?2 OFFSET ?3",
        )?;
        let take = if answered % 2 == 0 { 2 } else { 1 };
        let middle: Vec<i64> = stmt
            .query_map(params![provider, take, (answered - 1) / 2], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok((!middle.is_empty()).then(|| middle.iter().sum::<i64>() / middle.len() as i64))
    }

    /// A company's threads, newest first, `limit` of them with ids below `before`.
    pub fn provider_threads(
        &self,
        provider: &str,
        filter: ThreadFilter,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Thread>> {
        let condition = match filter {
            ThreadFilter::All => "",
            ThreadFilter::Waiting => "AND first_answer_at IS NULL",
            ThreadFilter::Answered => "AND first_answer_at IS NOT NULL",
        };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {THREAD_COLUMNS} FROM threads
             WHERE provider = ?1 AND id < ?2 AND held IS NULL AND removed IS NULL {condition}
             ORDER BY id DESC LIMIT ?3"
        ))?;
        let rows = stmt.query_map(
            params![provider, before.unwrap_or(i64::MAX), limit as i64],
            thread_from_row,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Public posts matching what a reader typed, best first.
    ///
    /// Ranks the newest [`RECENT_WINDOW`] posts first; only when they hold too few matches for
    /// the page is the whole archive ranked, so rare words still find old threads.
    pub fn search(&self, text: &str, limit: usize, offset: usize) -> Result<Vec<SearchHit>> {
        self.search_window(text, limit, offset, RECENT_WINDOW)
    }

    fn search_window(
        &self,
        text: &str,
        limit: usize,
        offset: usize,
        window: i64,
    ) -> Result<Vec<SearchHit>> {
        let newest: i64 =
            self.conn
                .one("SELECT coalesce(max(rowid), 0) FROM posts_fts", [], |r| {
                    r.get(0)
                })?;
        let (text, common) = self.plan(text, newest)?;
        let Some(query) = fts_query(&text) else {
            return Ok(Vec::new());
        };
        let ids: Vec<i64> = if common {
            self.conn
                .prepare_cached(
                    "SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?1
                     ORDER BY rowid DESC LIMIT ?2 OFFSET ?3",
                )?
                .query_map(params![query, limit as i64, offset as i64], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        } else {
            let mut rank = self.conn.prepare_cached(
                "SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?1 AND rowid > ?2
                 ORDER BY rank LIMIT ?3 OFFSET ?4",
            )?;
            let mut ranked = |since: i64| -> rusqlite::Result<Vec<i64>> {
                rank.query_map(params![query, since, limit as i64, offset as i64], |r| {
                    r.get(0)
                })?
                .collect()
            };
            let mut ids = ranked(newest - window)?;
            if ids.len() < limit && newest > window {
                ids = ranked(0)?;
            }
            ids
        };
        let mut post = self.conn.prepare_cached(
            "SELECT p.thread_id, t.title, t.company, p.kind, p.body
             FROM posts p JOIN threads t ON t.id = p.thread_id WHERE p.id = ?1",
        )?;
        let hits = ids
            .into_iter()
            .map(|id| {
                post.query_row([id], |r| {
                    Ok(SearchHit {
                        post: id,
                        thread: r.get(0)?,
                        title: r.get(1)?,
                        company: r.get(2)?,
                        kind: r.get::<_, PostKind>(3)?,
                        body: r.get(4)?,
                    })
                })
            })
            .collect::<rusqlite::Result<_>>()?;
        Ok(hits)
    }

    /// What to search for: the words, less those found in more than a fifth of all posts when
    /// a rarer word is there (a word in most posts narrows nothing, and walking its list of
    /// posts is what makes a search slow); and whether every word left is that common, in which
    /// case relevance says little and the newest matches come first.
    fn plan(&self, text: &str, posts: i64) -> Result<(String, bool)> {
        let words: Vec<&str> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        if words.is_empty() || posts < 1000 {
            return Ok((words.join(" "), false));
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT coalesce(sum(doc), 0) FROM posts_vocab WHERE term >= ?1 AND term < ?2",
        )?;
        let mut rare = Vec::with_capacity(words.len());
        for word in &words {
            let folded = crate::domain::names::fold(word);
            // A short word is searched as itself only: its own term.
            let end = if is_prefix(word) {
                format!("{folded}\u{10FFFF}")
            } else {
                format!("{folded}\u{0}")
            };
            let docs: i64 = stmt.query_row(params![folded, end], |r| r.get(0))?;
            if docs * 5 <= posts {
                rare.push(*word);
            }
        }
        Ok(if rare.is_empty() {
            (words.join(" "), true)
        } else {
            (rare.join(" "), false)
        })
    }

    /// The newest public posts, of one company or of all.
    pub fn feed_posts(&self, provider: Option<&str>, limit: usize) -> Result<Vec<FeedPost>> {
        // A feed entry carries the start of a long post (its link leads to the whole): 50
        // posts of megabytes made feeds of tens of megabytes, held for every slow reader.
        let sql = "SELECT p.id, p.thread_id, t.title, t.company, p.kind, p.author,
                    CASE WHEN length(p.body) > 4000 THEN substr(p.body, 1, 4000) || ' …'
                         ELSE p.body END,
                    p.created_at
             FROM posts p JOIN threads t ON t.id = p.thread_id";
        let map = |r: &rusqlite::Row<'_>| {
            Ok(FeedPost {
                post: r.get(0)?,
                thread: r.get(1)?,
                title: r.get(2)?,
                company: r.get(3)?,
                kind: r.get::<_, PostKind>(4)?,
                author: r.get(5)?,
                body: r.get(6)?,
                created_at: r.get(7)?,
            })
        };
        let rows = match provider {
            // Newest threads of the company first, then their posts: uses threads_provider.
            Some(slug) => {
                let mut stmt = self.conn.prepare_cached(&format!(
                    "{sql} WHERE t.id IN (SELECT id FROM threads WHERE provider = ?1 AND held IS NULL
                                          ORDER BY last_activity_at DESC LIMIT ?2)
                       AND p.removed IS NULL AND t.removed IS NULL
                     ORDER BY p.id DESC LIMIT ?2"
                ))?;
                stmt.query_map(params![slug, limit as i64], map)?
                    .collect::<rusqlite::Result<_>>()?
            }
            None => {
                let mut stmt = self.conn.prepare_cached(&format!(
                    "{sql} WHERE t.held IS NULL AND t.removed IS NULL AND p.removed IS NULL
                     ORDER BY p.id DESC LIMIT ?1"
                ))?;
                stmt.query_map(params![limit as i64], map)?
                    .collect::<rusqlite::Result<_>>()?
            }
        };
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NewPost, NewThread};

    /// A store with one thread holding a post for each body, ids 1, 2, … in order.
    fn store_with_posts<'a>(
        bodies: impl IntoIterator<Item = &'a str>,
    ) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.sqlite3")).unwrap();
        let journal = store
            .journal_append(&[crate::store::Arrival::new(&Default::default(), b"x", 0)])
            .unwrap()[0];
        let tx = store.begin().unwrap();
        let thread = tx
            .create_thread(&NewThread {
                provider: Some("vr"),
                company: "VR",
                title: "Juna",
                route: None,
                route_label: None,
                journal_id: journal,
                created_at: 0,
                due_at: None,
                held: None,
                subject: None,
            })
            .unwrap();
        for body in bodies {
            tx.add_post(&NewPost {
                thread_id: thread,
                participant_id: None,
                journal_id: None,
                kind: PostKind::Consumer,
                author: "A",
                body,
                trimmed: "",
                uncut: false,
                attachments: 0,
                message_id: None,
                created_at: 0,
                evidence: None,
            })
            .unwrap();
        }
        tx.commit().unwrap();
        (dir, store)
    }

    #[test]
    fn search_prefers_recent_posts_but_still_finds_old_ones() {
        let (_dir, store) = store_with_posts([
            "vanha harvinainen",
            "yleinen",
            "yleinen",
            "yleinen",
            "yleinen",
        ]);
        let ids = |hits: Vec<SearchHit>| hits.iter().map(|h| h.post).collect::<Vec<_>>();
        // The two newest posts are the window: a common word is ranked among them only.
        let mut common = ids(store.search_window("yleinen", 2, 0, 2).unwrap());
        common.sort();
        assert_eq!(common, vec![4, 5]);
        // A rare word is not in the window, so the whole archive is searched.
        assert_eq!(
            ids(store.search_window("harvinainen", 2, 0, 2).unwrap()),
            vec![1]
        );
    }

    #[test]
    fn words_in_most_posts_are_left_out_when_a_rarer_one_is_there() {
        let (_dir, store) = store_with_posts((0..1200).map(|i| {
            if i % 400 == 0 {
                "Äänestyslippu hukassa"
            } else {
                "yleinen teksti"
            }
        }));
        assert_eq!(
            store.plan("yleinen aanestys", 1200).unwrap(),
            ("aanestys".into(), false)
        );
        assert_eq!(
            store.plan("yleinen teksti", 1200).unwrap(),
            ("yleinen teksti".into(), true)
        );
        assert_eq!(store.search("yleinen äänestys", 10, 0).unwrap().len(), 3);
        // Only common words: the newest matches first.
        let newest: Vec<i64> = store
            .search("yleinen", 3, 0)
            .unwrap()
            .iter()
            .map(|h| h.post)
            .collect();
        assert_eq!(newest, vec![1200, 1199, 1198]);
    }

    #[test]
    fn words_shorter_than_three_letters_are_no_prefixes() {
        assert_eq!(
            fts_query("a ab äiti"),
            Some("\"a\" \"ab\" \"äiti\"*".into())
        );
    }

    #[test]
    fn reader_input_cannot_inject_fts_syntax() {
        assert_eq!(fts_query("lasku"), Some("\"lasku\"*".into()));
        assert_eq!(
            fts_query("Lasku OR \"x\" NEAR(a) -b"),
            Some("\"Lasku\"* \"OR\" \"x\" \"NEAR\"* \"a\" \"b\"".into())
        );
        assert_eq!(fts_query("  \"*^ "), None);
    }
}
