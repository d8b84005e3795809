//! The search index of public posts, kept in step with what is public.

use rusqlite::Connection;

use super::sqlite::Cached;
use super::sqlite::id_list;

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
pub(super) fn index_post_list(conn: &Connection, ids: &[i64]) -> rusqlite::Result<usize> {
    index_posts_where(
        conn,
        "p.id IN (SELECT value FROM json_each(?1))",
        id_list(ids),
    )
}

pub(super) fn index_posts_where(
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
