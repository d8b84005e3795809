//! Work on the clock, every quarter of an hour: unconfirmed feedback purged, waiting threads
//! forwarded to companies registered since, bounced company addresses tried again, reminders, "was it solved?" questions, digests.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};

use crate::config::Live;
use crate::domain::token::TokenKey;
use crate::store::{Shared, Store};

/// How long feedback waits for its writer's confirmation before it is purged.
pub const HELD_FOR: i64 = 7 * 86_400;

/// Work that runs on the clock, at start and every quarter of an hour: purging feedback its
/// writer never confirmed, forwarding feedback whose company is now registered, reminding
/// companies past their response time, asking writers whether their problem was solved,
/// followers' digests, and the operator's daily digest of unregistered companies.
pub async fn run(
    store: Store,
    live: Arc<Live>,
    key: TokenKey,
    relay_wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    let store = Shared::new(store);
    loop {
        let purged = store
            .run(|s| s.purge_held(crate::clock::now() - HELD_FOR))
            .await;
        match purged {
            Ok(0) => {}
            Ok(n) => tracing::info!("scheduler: purged {n} threads never confirmed"),
            Err(e) => tracing::error!("scheduler: purging: {e}"),
        }
        let (c, k) = (live.get(), key.clone());
        let done = store
            .run(move |s| {
                let now = crate::clock::now();
                let forwarded = super::unregistered::attach_registered(s, &c, &k, now)?;
                let probed = super::delivery::probe_paused(s, &c, now)?;
                let reminded = super::remind::send_due(s, &c, &k, now)?;
                let asked = super::solved::ask_due(s, &c, &k, now)?;
                let digests = super::follow::send_digests(s, &c, &k, now)?;
                let digest = super::unregistered::send_digest(s, &c, now)?;
                Ok::<_, super::context::PipelineError>([
                    forwarded,
                    probed,
                    reminded,
                    asked,
                    digests,
                    usize::from(digest),
                ])
            })
            .await;
        match done {
            Ok([0, 0, 0, 0, 0, 0]) => {}
            Ok([forwarded, probed, reminded, asked, digests, digest]) => {
                tracing::info!(
                    "scheduler: {forwarded} waiting threads forwarded, {probed} bounced \
                     company addresses tried again, {reminded} companies reminded, \
                     {asked} writers asked whether it was solved, {digests} follower digests, \
                     {digest} operator digest"
                );
                relay_wake.notify_one();
            }
            Err(e) => tracing::error!("scheduler: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(900)) => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
    }
}
