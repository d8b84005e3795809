//! The relay's task: it takes due outbox rows in rounds, delivers them in parallel, and records
//! each outcome in the store.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};

use super::dkim::Signer;
use super::retry::{self, Delivery};
use super::transport::{PARALLEL_DELIVERIES, Transport};
use crate::store::StoreError;
use crate::store::{MessageOrigin, OutboundRow, Shared, Tx};

/// What became of a message, for [`OnOutcome`].
pub enum Outcome<'a> {
    /// The receiving server accepted it.
    Delivered,
    /// It failed for good, with this error.
    Failed(&'a str),
}

/// Called in the transaction that records a delivery or a permanent failure: starts a company's
/// clock, tells the operator (it may queue mail).
pub type OnOutcome =
    Arc<dyn Fn(&Tx<'_>, &MessageOrigin, Outcome<'_>) -> Result<(), StoreError> + Send + Sync>;

/// Most rows delivered in one round, whose outcomes are recorded in one transaction: under a
/// flood that turn at the store's write lock waits for the pipeline's, and with 32 rows a round
/// the relay fell behind the pipeline (twice its messages go out).
const ROUND: usize = 256;

/// Most bytes of mail held in one round (a message may be 25 MB).
const ROUND_BYTES: i64 = 16 << 20;

/// Longest the relay sleeps before it looks at the outbox again, in seconds.
const IDLE_LOOK: i64 = 5;

/// Delivers due rows until `shutdown` turns true; finishes the deliveries in hand first.
pub async fn run(
    store: Shared,
    transport: Transport,
    signer: Option<Signer>,
    wake: Arc<Notify>,
    on_outcome: OnOutcome,
    mut shutdown: watch::Receiver<bool>,
) {
    let (transport, signer) = (Arc::new(transport), Arc::new(signer));
    if let Transport::Smtp(_) = &*transport {
        let probing = transport.clone();
        tokio::spawn(async move {
            if let Transport::Smtp(smarthost) = &*probing {
                smarthost.probe().await;
            }
        });
    }
    // The previous round's outcomes, being recorded while the next round goes out: the turn
    // at the store's write lock waits for the pipeline's, and deliveries should not.
    let mut recording: Option<(tokio::task::JoinHandle<()>, Vec<i64>)> = None;
    loop {
        if *shutdown.borrow() {
            break;
        }
        let now = crate::clock::now();
        let in_hand = recording
            .as_ref()
            .map(|(_, ids)| ids.clone())
            .unwrap_or_default();
        let due = store
            .run(move |s| s.due_outbound(now, ROUND, ROUND_BYTES, &in_hand))
            .await;
        let due = match due {
            Ok(rows) => rows,
            Err(e) => {
                tracing::error!("relay: reading the outbox: {e}");
                Vec::new()
            }
        };
        if due.is_empty() {
            if let Some((previous, _)) = recording.take() {
                // What is due may change with what it records.
                let _ = previous.await;
                continue;
            }
            // At most a few seconds: what the operator's commands make due (`queue resend`,
            // `queue --flush`) rings no bell here.
            let next = store.run(|s| s.next_outbound_due()).await.ok().flatten();
            let wait = next
                .map(|at| (at - crate::clock::now()).clamp(1, IDLE_LOOK))
                .unwrap_or(IDLE_LOOK);
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(wait as u64)) => {}
                _ = shutdown.changed() => {}
            }
            continue;
        }
        let mut in_flight = tokio::task::JoinSet::new();
        let mut outcomes = Vec::with_capacity(due.len());
        for row in due {
            if *shutdown.borrow() {
                break;
            }
            while in_flight.len() >= PARALLEL_DELIVERIES {
                outcomes.extend(in_flight.join_next().await.and_then(Result::ok));
            }
            let (transport, signer) = (transport.clone(), signer.clone());
            in_flight.spawn(async move {
                let outcome = match signer.as_ref() {
                    Some(signer) => transport.deliver(&row, &signer.sign(&row.raw)).await,
                    None => transport.deliver(&row, &row.raw).await,
                };
                (row, outcome)
            });
        }
        while let Some(done) = in_flight.join_next().await {
            outcomes.extend(done.ok());
        }
        // Rounds are recorded one at a time, in order.
        if let Some((previous, _)) = recording.take() {
            let _ = previous.await;
        }
        let ids = outcomes.iter().map(|(row, _)| row.id).collect();
        let recorded = record(store.clone(), outcomes, on_outcome.clone());
        recording = Some((tokio::spawn(recorded), ids));
    }
    if let Some((previous, _)) = recording {
        let _ = previous.await;
    }
}

/// Records what became of a round of deliveries in one transaction: one turn at the store's
/// write lock for the whole round, which under load the pipeline's batches hold most of the
/// time. Each row is undone alone if recording it fails.
async fn record(store: Shared, outcomes: Vec<(OutboundRow, Delivery)>, on_outcome: OnOutcome) {
    if outcomes.is_empty() {
        return;
    }
    let recorded = store
        .run(move |s| {
            let tx = s.begin()?;
            let now = crate::clock::now();
            for (row, outcome) in outcomes {
                tx.begin_entry()?;
                match record_one(&tx, &row, outcome, &on_outcome, now) {
                    Ok(()) => tx.end_entry()?,
                    Err(e) => {
                        tx.undo_entry()?;
                        tracing::error!(outbox = row.id, "relay: recording the outcome: {e}");
                    }
                }
            }
            tx.commit()?;
            Ok::<_, StoreError>(())
        })
        .await;
    // Nothing was recorded: those rows are delivered again (at least once).
    if let Err(e) = recorded {
        tracing::error!("relay: recording a round of deliveries: {e}");
    }
}

fn record_one(
    tx: &Tx<'_>,
    row: &OutboundRow,
    outcome: Delivery,
    on_outcome: &OnOutcome,
    now: i64,
) -> Result<(), StoreError> {
    let (id, attempts, created_at) = (row.id, row.attempts + 1, row.created_at);
    // Smarthost answers often quote the recipient; addresses stay out of the log.
    let quiet = |e: &str| crate::mail::redact_addresses(e, "<address>");
    let failed = |e: &str| -> Result<(), StoreError> {
        if let Some(origin) = tx.outbound_failed(id, e, now)? {
            on_outcome(tx, &origin, Outcome::Failed(e))?;
        }
        Ok(())
    };
    match outcome {
        Delivery::Sent => {
            tracing::info!(outbox = id, "relay: delivered");
            if let Some(origin) = tx.outbound_sent(id, now)? {
                on_outcome(tx, &origin, Outcome::Delivered)?;
            }
            Ok(())
        }
        Delivery::Temporary(e) => match retry::next_attempt(attempts, created_at, now) {
            Some(at) => {
                tracing::warn!(
                    outbox = id,
                    attempts,
                    "relay: temporary failure, retry in {} s: {}",
                    at - now,
                    quiet(&e)
                );
                Ok(tx.outbound_retry(id, at, &e)?)
            }
            None => {
                tracing::error!(
                    outbox = id,
                    "relay: giving up after {attempts} attempts: {}",
                    quiet(&e)
                );
                failed(&e)
            }
        },
        Delivery::Permanent(e) => {
            tracing::error!(outbox = id, "relay: permanent failure: {}", quiet(&e));
            failed(&e)
        }
    }
}
