//! `nonono queue`: outbound mail not delivered yet and failures, and sending it again after a
//! fix.

use std::io::Write;

use super::args::QueueAction;
use super::terminal::for_terminal;
use crate::app;
use crate::config::Config;
use crate::domain::calendar::rfc3339;

pub(super) fn queue(
    config: &Config,
    flush: bool,
    action: Option<QueueAction>,
) -> anyhow::Result<()> {
    if let Some(QueueAction::Resend { id, to }) = action {
        let store = app::open_store(config)?;
        let now = crate::clock::now();
        match (id, to) {
            (Some(id), _) => {
                if !store.resend(id, now)? {
                    anyhow::bail!(
                        "queue resend {id}: no failed message {id}; `nonono queue` lists them"
                    );
                }
                println!("message {id} is due again; a running service sends it within seconds");
            }
            (None, Some(to)) => {
                let to = crate::mail::normalize_address(&to);
                if !crate::mail::write::is_address(&to) {
                    anyhow::bail!(
                        "queue resend --to {}: not an address; `nonono queue` shows where each message goes",
                        for_terminal(&to)
                    );
                }
                let n = store.resend_to(&to, now)?;
                println!("{n} failed messages to {to} are due again");
            }
            (None, None) => anyhow::bail!("queue resend: give a message's id, or --to ADDRESS"),
        }
        return Ok(());
    }
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
        "{:>6} {:<15} {:<8} {:>8}  {:<20}  {:<30}  last error",
        "id", "purpose", "state", "attempts", "next attempt", "to"
    )?;
    for r in &rows {
        // A failed message is tried again only when resent.
        let next = if r.state == "failed" {
            "-".to_owned()
        } else {
            rfc3339(r.next_attempt_at)
        };
        writeln!(
            out,
            "{:>6} {:<15} {:<8} {:>8}  {:<20}  {:<30}  {}",
            r.id,
            r.purpose,
            r.state,
            r.attempts,
            next,
            for_terminal(&r.rcpt_to),
            for_terminal(r.last_error.as_deref().unwrap_or(""))
        )?;
    }
    if rows.is_empty() {
        writeln!(out, "(nothing waiting)")?;
    }
    Ok(())
}
