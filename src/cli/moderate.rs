//! `nonono moderate`: hiding a post or a thread with a public reason, and the audit trail.

use super::args::{Moderation, RestoreWhat};
use crate::app;
use crate::config::Config;
use crate::domain::calendar::rfc3339;
use crate::store::removal::Restore;

pub(super) fn moderate(config: &Config, action: &Moderation) -> anyhow::Result<()> {
    let mut store = app::open_store(config)?;
    let now = crate::clock::now();
    let (what, id, done) = match action {
        Moderation::Post { id, reason } | Moderation::Thread { id, reason }
            if reason.trim().is_empty() =>
        {
            anyhow::bail!("moderate: --reason must say why ({id}); it is shown in public")
        }
        Moderation::Post { id, reason } => ("post", *id, store.remove_post(*id, reason, now)?),
        Moderation::Thread { id, reason } => {
            ("thread", *id, store.remove_thread(*id, reason, now)?)
        }
        Moderation::Restore { what, id, reason } => {
            if reason.trim().is_empty() {
                anyhow::bail!("moderate restore: --reason must say why; the audit trail keeps it");
            }
            let target = match what {
                RestoreWhat::Post => Restore::Post(*id),
                RestoreWhat::Thread => Restore::Thread(*id),
            };
            let Some(posts) = store.restore(target, reason, now)? else {
                anyhow::bail!(
                    "moderate restore: nothing the moderators hid is {target:?}; \
                     `nonono moderate audit` lists what was"
                );
            };
            for post in &posts {
                crate::pipeline::reprocess::derive(&mut store, config, post)?;
            }
            println!(
                "{target:?} shown again, {} posts with their text from the raw mail",
                posts.len()
            );
            return Ok(());
        }
        Moderation::Audit => {
            for e in store.audit_trail()? {
                println!(
                    "{}  {:<8} {:<12} {:<16} {}",
                    rfc3339(e.at),
                    e.actor,
                    e.action,
                    e.target,
                    e.reason
                );
            }
            return Ok(());
        }
    };
    if !done {
        anyhow::bail!("moderate: no visible {what} {id}");
    }
    println!("{what} {id} hidden; its tombstone gives the reason");
    Ok(())
}
