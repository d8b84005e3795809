//! How the store uses SQLite: statements compiled once and kept, short waits for the write
//! lock, the pragmas of every connection, and SQL helpers for batches bounded in bytes.

use rusqlite::Connection;

use super::error::Result;

/// While another connection writes, wait in short steps for up to ~10 s. SQLite's own busy
/// timeout backs off to 100 ms sleeps: under a steady stream of journal commits the pipeline
/// would spend most of its time asleep with the lock long free.
pub(super) fn wait_for_lock(attempt: i32) -> bool {
    std::thread::sleep(std::time::Duration::from_micros(250));
    attempt < 40_000
}

/// Statements the store runs again and again, compiled once per connection and kept: for the
/// pipeline's short statements SQLite spent more time compiling than running them.
pub(super) trait Cached {
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

pub(super) fn configure(conn: &mut Connection) -> Result<()> {
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
    conn.pragma_update(None, "journal_size_limit", LOG_FILE_LIMIT)?;
    Ok(())
}

/// SQL for the ids of `rows` (a query of `id`, `size` and the columns of `order`, ordered and
/// limited) while the sizes of the rows before each add up to less than `bound` (a parameter):
/// the first always, however large. What a batch of mail may hold in memory.
pub(super) fn ids_within(rows: &str, order: &str, bound: &str) -> String {
    format!(
        "SELECT id FROM (SELECT id, sum(size) OVER (ORDER BY {order}) - size AS before
                         FROM ({rows}))
         WHERE before < {bound}"
    )
}

/// Ids as a JSON array, one parameter that SQL reads with `json_each`.
pub(super) fn id_list(ids: &[i64]) -> String {
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    format!("[{}]", list.join(","))
}

/// Largest size a write-ahead log file is left at when it is started over (set on every
/// store connection, so whichever writer starts it over cuts it).
pub(super) const LOG_FILE_LIMIT: i64 = 64 << 20;

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
pub(super) use next_id;
