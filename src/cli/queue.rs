//! `nonono queue`: outbound mail not delivered yet, and making it due after a fix.

use std::io::Write;

use super::terminal::for_terminal;
use crate::app;
use crate::config::Config;
use crate::domain::calendar::rfc3339;

pub(super) fn queue(config: &Config, flush: bool) -> anyhow::Result<()> {
    if flush {
        let store = app::open_store(config)?;
        let n = store.outbound_retry_now(crate::clock::now())?;
        println!("{n} waiting messages are due now");
        return Ok(());
    }
    let store = app::open_store_readonly(config)?;
    let rows = store.queue_listing()?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:>6} {:<9} {:<8} {:>8}  {:<20}  last error",
        "id", "purpose", "state", "attempts", "next attempt"
    )?;
    for r in &rows {
        writeln!(
            out,
            "{:>6} {:<9} {:<8} {:>8}  {:<20}  {}",
            r.id,
            r.purpose,
            r.state,
            r.attempts,
            rfc3339(r.next_attempt_at),
            for_terminal(r.last_error.as_deref().unwrap_or(""))
        )?;
    }
    if rows.is_empty() {
        writeln!(out, "(nothing waiting)")?;
    }
    Ok(())
}
