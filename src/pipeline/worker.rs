//! The pipeline's worker thread: batches from the intake, a doorbell, a watchdog, and the
//! messages set aside after repeated crashes.

use super::auth::Authenticator;
use super::compose::{Letter, Origin};
use super::context::{Context, PipelineError};
use super::dispatch::{Read, apply};
use super::outgoing::{Sending, queue_automatic, tell_operator};
use super::texts;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::config::Live;
use crate::domain::mailbox;
use crate::domain::token::TokenKey;
use crate::mail;
use crate::metrics::Metrics;
use crate::store::OutboxPurpose;
use crate::store::intake::Mover;
use crate::store::{JournalEntry, Store};
use tokio::sync::Notify;

/// Wakes a worker thread when there is new work; a missed ring is caught by the timeout.
#[derive(Default)]
pub struct Doorbell {
    ring: Mutex<Ring>,
    cond: Condvar,
    /// Set once no more work will come: the worker finishes what is pending and ends.
    closed: AtomicBool,
}

#[derive(Default)]
pub(super) struct Ring {
    /// Rung since the worker last waited.
    pending: bool,
    /// When it was last rung.
    at: Option<Instant>,
}

impl Doorbell {
    /// Tells the worker to finish what is pending and end.
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.ring();
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Tells the waiting worker there is work.
    pub fn ring(&self) {
        let mut ring = self.ring.lock().expect("doorbell lock");
        *ring = Ring {
            pending: true,
            at: Some(Instant::now()),
        };
        self.cond.notify_all();
    }

    /// Whether it was rung less than `span` ago.
    fn rung_within(&self, span: Duration) -> bool {
        let ring = self.ring.lock().expect("doorbell lock");
        ring.at.is_some_and(|at| at.elapsed() < span)
    }

    /// Waits for a ring or the timeout.
    pub fn wait(&self, timeout: Duration) {
        let guard = self.ring.lock().expect("doorbell lock");
        let (mut guard, _) = self
            .cond
            .wait_timeout_while(guard, timeout, |ring| !ring.pending)
            .expect("doorbell lock");
        guard.pending = false;
    }
}

/// Most journal entries applied in one transaction, and most bytes of raw mail read for them
/// (a message may be 25 MB).
pub(crate) const BATCH: usize = 64;

pub(crate) const BATCH_BYTES: i64 = 8 << 20;

/// While the receiver is committing mail (its last commit less than [`LULL`] ago), the worker
/// waits for a lull before it works: taking mail comes first (as with Exim's
/// `queue_only_load`), since on a small machine the pipeline's disk writes and CPU slow every
/// commit that a `250` waits on. It waits at most [`MAX_DEFER`], and not once this many
/// messages wait for it (half of the flow control's threshold, so that it is at work before
/// senders are slowed); then it works until it has caught up.
pub(super) const DEFER_BACKLOG: i64 = crate::store::FLOW_BACKLOG / 2;

/// A pause in receiving this long is a lull.
pub(super) const LULL: Duration = Duration::from_millis(50);

/// Longest wait for a lull: under steady traffic there may be none, and mail is published
/// within seconds all the same.
pub(super) const MAX_DEFER: Duration = Duration::from_secs(2);

/// Whether the worker waits for a lull now (see [`DEFER_BACKLOG`]).
pub(super) struct Deferral {
    /// When the current wait began.
    since: Option<Instant>,
    /// Cleared when a wait ends, set again once the worker has caught up.
    armed: bool,
}

impl Deferral {
    fn new() -> Self {
        Deferral {
            since: None,
            armed: true,
        }
    }

    /// Whether to wait, with mail coming in or not and `backlog` messages waiting.
    fn wait(&mut self, receiving: bool, backlog: i64, now: Instant) -> bool {
        if self.armed && receiving && backlog < DEFER_BACKLOG {
            let since = *self.since.get_or_insert(now);
            if now.duration_since(since) < MAX_DEFER {
                return true;
            }
        }
        self.armed = false;
        self.since = None;
        false
    }

    /// Nothing waits for the worker: the next burst may wait for its lull.
    fn caught_up(&mut self) {
        self.armed = true;
    }
}

/// How the pipeline worker hears of work and tells of what it did.
pub struct Signals {
    /// Rung at every commit of received mail; closed when the service stops.
    pub doorbell: Arc<Doorbell>,
    /// The backlog, counted down as entries are finished; the worker waits for no lull once it
    /// is long.
    pub metrics: Arc<Metrics>,
    /// Woken when finished entries may have queued outbound mail.
    pub relay: Arc<Notify>,
}

/// The pipeline worker: moves received mail from the intake and processes pending journal
/// entries until the doorbell is closed and nothing is pending. Runs on its own thread with its
/// own store connections.
pub fn run(
    mut store: Store,
    mut intake: Mover,
    live: Arc<Live>,
    key: TokenKey,
    authenticator: Option<Authenticator>,
    signals: Signals,
) {
    let Signals {
        doorbell,
        metrics,
        relay,
    } = signals;
    let mut journal_short = true;
    let mut deferral = Deferral::new();
    let watch = Watch::start_watchdog(MESSAGE_BUDGET);
    loop {
        let receiving = !doorbell.is_closed() && doorbell.rung_within(LULL);
        if deferral.wait(receiving, metrics.backlog(), Instant::now()) {
            std::thread::sleep(LULL / 5);
            continue;
        }
        // What the receiver committed since, into the journal (synced), once the journal holds
        // less than a batch: under a flood, one move (and one sync) then takes thousands.
        // If that fails it stays in the intake and is tried again next round.
        if journal_short && let Err(e) = intake.move_all() {
            tracing::error!("pipeline: moving received mail into the journal: {e}");
            std::thread::sleep(Duration::from_millis(200));
        }
        let mut batch = match store.pending_journal(BATCH, BATCH_BYTES) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!("pipeline: reading the journal: {e}");
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
        };
        journal_short = batch.len() < BATCH;
        let config = live.get();
        let ctx = Context {
            config: &config,
            key: &key,
            authenticator: authenticator.as_ref(),
            now: crate::clock::now(),
        };
        // Work was begun on an entry before and never finished: the process ended under it (a
        // crash, an abort, the time budget, or a kill from outside). Such an entry is worked
        // on alone, and after its last attempt set aside, so one message cannot stop the
        // service for good and the rest go on.
        if let Some(tried) = batch.iter().position(|e| e.attempts > 0) {
            batch.truncate(tried.max(1));
            if tried == 0 && batch[0].attempts >= MOST_ATTEMPTS {
                match set_aside(&mut store, &ctx, &batch[0]) {
                    Ok(()) => metrics.processed(1),
                    Err(e) => {
                        tracing::error!(journal = batch[0].id, "pipeline: setting aside: {e}");
                        std::thread::sleep(Duration::from_secs(1));
                    }
                }
                continue;
            }
        }
        if batch.is_empty() {
            deferral.caught_up();
            if doorbell.is_closed() {
                return;
            }
            // Also how soon work put back in line from outside (`nonono held release`,
            // `reprocess`) is taken up.
            doorbell.wait(Duration::from_secs(1));
            continue;
        }
        let ids: Vec<i64> = batch.iter().map(|e| e.id).collect();
        if let Err(e) = store.journal_attempts(&ids, 1) {
            tracing::error!("pipeline: counting an attempt: {e}");
            std::thread::sleep(Duration::from_secs(1));
            continue;
        }
        // Reading, and DNS for sender authentication, before the transaction.
        let reads = batch
            .iter()
            .map(|entry| {
                let _timed = watch.start(entry.id);
                guarded(|| Ok(Read::new(&ctx, entry)))
            })
            .collect();
        let (finished, requeued, stopped) = apply_batch(&mut store, &ctx, &batch, reads, &watch);
        metrics.processed(finished.saturating_sub(requeued));
        relay.notify_one();
        if let Some(e) = stopped {
            tracing::warn!("pipeline: {e}; will retry");
            // Not the messages' fault: their attempts do not count.
            if let Err(e) = store.journal_attempts(&ids[finished..], -1) {
                tracing::error!("pipeline: uncounting an attempt: {e}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// Applies journal entries in one transaction, one commit (and one write of the pages they
/// share) for many messages; an entry that fails is undone alone and marked failed, so one
/// message that trips a bug does not stop the pipeline for every other. Returns how many
/// entries are finished, how many of those made an entry pending again, and the error that
/// stopped the batch early (the store was busy or failed): the rest waits for the next round.
pub(super) fn apply_batch(
    store: &mut Store,
    ctx: &Context<'_>,
    batch: &[JournalEntry],
    reads: Vec<Result<Read, PipelineError>>,
    watch: &Watch,
) -> (usize, usize, Option<PipelineError>) {
    let tx = match store.begin() {
        Ok(tx) => tx,
        Err(e) => return (0, 0, Some(e.into())),
    };
    let mut finished = 0;
    let mut stopped = None;
    let entries = (|| -> Result<(), PipelineError> {
        for (entry, read) in batch.iter().zip(reads) {
            tx.begin_entry()?;
            let _timed = watch.start(entry.id);
            match read.and_then(|read| guarded(|| apply(&tx, ctx, entry, &read))) {
                Ok(outcome) => {
                    tx.end_entry()?;
                    tracing::info!(journal = entry.id, "{outcome}");
                }
                Err(e) if e.is_transient() => {
                    tx.undo_entry()?;
                    stopped = Some(e);
                    return Ok(());
                }
                Err(e) => {
                    tx.undo_entry()?;
                    tracing::error!(journal = entry.id, "pipeline: {e}; raw message kept");
                    tx.journal_failed(entry.id, &e.to_string(), ctx.now)?;
                    tx.hold(entry.id, None, &format!("failed: {e}"), ctx.now)?;
                }
            }
            finished += 1;
        }
        Ok(())
    })();
    // Entries made pending again wait for the worker once more.
    let requeued = tx.requeued();
    match entries.and_then(|()| Ok(tx.commit()?)) {
        Ok(()) => (finished, requeued, stopped),
        // Nothing of this batch was kept.
        Err(e) => (0, 0, Some(e)),
    }
}

/// Times work on one message may begin: the first in a batch, then alone; after that the
/// message is set aside.
pub(super) const MOST_ATTEMPTS: i64 = 3;

/// Longest work on one message (reading it, authenticating its sender with DNS, applying it).
/// Work on untrusted input is linear, so real mail takes milliseconds and DNS at most
/// [`crate::pipeline::auth`]'s 20 s; past this, something is wrong with this message.
pub(super) const MESSAGE_BUDGET: Duration = Duration::from_secs(90);

/// Sets aside a message that the pipeline began work on [`MOST_ATTEMPTS`] times without
/// finishing: it is marked failed (the raw mail stays for `reprocess` after a fix), the
/// operator is told, and so is the envelope sender where one may be written to. Nothing of the
/// message is parsed here: parsing may be what failed.
pub(super) fn set_aside(
    store: &mut Store,
    ctx: &Context<'_>,
    entry: &JournalEntry,
) -> Result<(), PipelineError> {
    let reason = format!(
        "set aside: work on it began {} times and never finished (the process ended or it ran past {} s)",
        entry.attempts,
        MESSAGE_BUDGET.as_secs()
    );
    tracing::error!(journal = entry.id, "pipeline: {reason}");
    let tx = store.begin()?;
    tx.journal_failed(entry.id, &reason, ctx.now)?;
    tx.hold(entry.id, None, &reason, ctx.now)?;
    let (subject, body) = texts::letter(&texts::OperatorSetAside {
        lang: ctx.config.language,
        journal: entry.id,
        peer: &entry.envelope.peer,
        reason: &reason,
    })?;
    tell_operator(
        &tx,
        ctx.config,
        OutboxPurpose::Operator,
        subject,
        body,
        ctx.now,
    )?;
    let writer = mail::normalize_address(&entry.envelope.mail_from);
    if crate::domain::route::may_write_to(&writer, &ctx.config.domain) {
        let (subject, body) = texts::set_aside_text(entry.id, ctx.config.language)?;
        let letter = Letter {
            from_name: "nonono".into(),
            from_address: mailbox::at(mailbox::POSTMASTER, &ctx.config.domain),
            to: writer,
            subject,
            body,
            references: Vec::new(),
            origin: Origin::AutoReplied,
            attachments: Vec::new(),
        };
        queue_automatic(
            &tx,
            ctx,
            &letter,
            Sending::new(OutboxPurpose::SetAside).for_message(entry.id),
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// What the pipeline thread is working on, for the watchdog: the journal entry and since when.
pub(super) struct Watch {
    /// Entry id and start in milliseconds since `epoch`; 0 when idle.
    working: Arc<(std::sync::atomic::AtomicI64, std::sync::atomic::AtomicU64)>,
    epoch: Instant,
}

/// Work on one message under the watchdog's eye; done when dropped.
pub(super) struct Timed<'a>(&'a Watch);

impl Drop for Timed<'_> {
    fn drop(&mut self) {
        self.0.working.1.store(0, Ordering::SeqCst);
    }
}

impl Watch {
    /// A watch, and a thread that ends the process when work on one message runs past
    /// `budget`. A thread cannot be stopped from outside in Rust, and the pipeline thread holds
    /// the store's write lock while it works; ending the process is what frees both. The entry's
    /// attempts were counted before the work, so after the restart (systemd's `Restart=`) it is
    /// tried alone and then set aside; mail that got `250` is in the store either way.
    fn start_watchdog(budget: Duration) -> Watch {
        let watch = Watch {
            working: Arc::default(),
            epoch: Instant::now(),
        };
        let (working, epoch) = (Arc::downgrade(&watch.working), watch.epoch);
        std::thread::Builder::new()
            .name("pipeline-watchdog".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_secs(1));
                    // The pipeline has stopped.
                    let Some(working) = working.upgrade() else {
                        return;
                    };
                    let since = working.1.load(Ordering::SeqCst);
                    if since == 0 {
                        continue;
                    }
                    let running = epoch.elapsed().saturating_sub(Duration::from_millis(since));
                    if running > budget {
                        tracing::error!(
                            journal = working.0.load(Ordering::SeqCst),
                            "pipeline: work on one message has run {} s, past its budget of {} s: ending the process; after the restart it is tried alone, then set aside",
                            running.as_secs(),
                            budget.as_secs()
                        );
                        std::process::abort();
                    }
                }
            })
            .expect("spawning the pipeline watchdog");
        watch
    }

    fn start(&self, entry: i64) -> Timed<'_> {
        self.working.0.store(entry, Ordering::SeqCst);
        // At least 1: 0 means idle.
        let since = self.epoch.elapsed().as_millis().max(1) as u64;
        self.working.1.store(since, Ordering::SeqCst);
        Timed(self)
    }
}

/// Runs `f`, turning a panic into an error for this message alone.
pub(super) fn guarded<T>(f: impl FnOnce() -> Result<T, PipelineError>) -> Result<T, PipelineError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(PipelineError::Panic(what))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worker_waits_for_a_lull_in_a_burst_but_not_for_long_nor_past_a_backlog() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let mut d = Deferral::new();
        assert!(!d.wait(false, 10, at(0)), "nothing coming in: work");
        d.caught_up();
        assert!(d.wait(true, 10, at(0)), "mail coming in: wait");
        assert!(d.wait(true, 4_000, at(1_999)));
        assert!(!d.wait(true, 4_000, at(2_000)), "waited long enough");
        assert!(!d.wait(true, 10, at(2_100)), "works until caught up");
        d.caught_up();
        assert!(d.wait(true, 10, at(2_200)), "the next burst waits again");
        assert!(
            !d.wait(true, DEFER_BACKLOG, at(2_300)),
            "too much waits already"
        );
        assert!(!d.wait(true, 10, at(2_400)), "and it works until caught up");
    }

    #[test]
    fn the_doorbell_tells_how_recently_mail_was_committed() {
        let bell = Doorbell::default();
        assert!(!bell.rung_within(LULL), "never rung: no mail coming in");
        bell.ring();
        assert!(bell.rung_within(LULL));
        std::thread::sleep(LULL);
        assert!(!bell.rung_within(LULL), "a lull");
    }
}
