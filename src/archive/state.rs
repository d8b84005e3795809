//! What the archive's handlers share: the read-only stores, the config, the limits on
//! searches and exports, and the page sizes.

use crate::config::{Config, Live};
use crate::domain::token::TokenKey;
use crate::metrics::Metrics;
use crate::store::{Shared, Store};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Threads on one page of a company's list.
pub(super) const PAGE_SIZE: usize = 25;

/// Results on one search page.
pub(super) const SEARCH_PAGE: usize = 20;

/// Entries in a feed.
pub(super) const FEED_SIZE: usize = 50;

/// Exports streaming at once; each has a connection of its own, so a slow reader of the
/// export never holds a connection that pages need.
pub(super) const EXPORTS: usize = 2;

/// Least average rate, in bytes a second, at which an export's reader must take it after its
/// first minute.
pub(super) const EXPORT_RATE: f64 = 16.0 * 1024.0;

/// Largest part of the export held at once (four wait in the channel at most).
pub(super) const EXPORT_PART: usize = 64 * 1024;

/// Searches running at once (a search is the costliest page; the pages share four
/// connections), and how long a search waits for its turn before it is told to come back.
pub(super) const SEARCHES: usize = 2;

pub(super) const SEARCH_WAIT: Duration = Duration::from_secs(2);

/// How long `/healthz` trusts its last write probe.
pub(super) const HEALTH_FRESH: Duration = Duration::from_secs(5);

/// What the handlers share: a few read-only connections and the live config.
#[derive(Clone)]
pub struct Archive {
    pub(super) readers: Arc<Vec<Shared>>,
    pub(super) next: Arc<AtomicUsize>,
    live: Arc<Live>,
    pub(super) metrics: Arc<Metrics>,
    /// The one write the web does: a follower's one-click unsubscribe (RFC 8058). Its
    /// connection also answers whether the store takes writes.
    pub(super) writer: Option<Arc<Writer>>,
    pub(super) exports: Arc<Semaphore>,
    pub(super) searches: Arc<Semaphore>,
    /// When the store last took a write probe, and whether it did.
    pub(super) health: Arc<Mutex<Option<(Instant, bool)>>>,
}

/// The archive's one writable connection, and the key that reads unsubscribe tokens.
pub(super) struct Writer {
    pub(super) store: Shared,
    pub(super) key: TokenKey,
}

impl Archive {
    /// Lets `/u/TOKEN` remove followers, with a writable connection and the token key; the
    /// same connection lets `/healthz` check that the store takes writes.
    pub fn with_unsubscribe(mut self, writer: Store, key: TokenKey) -> Self {
        self.writer = Some(Arc::new(Writer {
            store: Shared::new(writer),
            key,
        }));
        self
    }

    /// The config one request is answered by: the registry's companies as they are now.
    pub(super) fn config(&self) -> Arc<Config> {
        self.live.get()
    }

    /// The registry version the service goes by, and how many companies it has.
    pub(super) fn registry(&self) -> (i64, i64) {
        (self.live.version(), self.live.get().providers.len() as i64)
    }

    /// The next read connection, in turn.
    pub(super) fn reader(&self) -> &Shared {
        &self.readers[self.next.fetch_add(1, Ordering::Relaxed) % self.readers.len()]
    }

    /// An archive over read-only store connections (at least one); `metrics` are the
    /// receiver's counters that `/metrics` shows.
    pub fn new(readers: Vec<Store>, live: Arc<Live>, metrics: Arc<Metrics>) -> Self {
        assert!(!readers.is_empty(), "the archive needs a store connection");
        Archive {
            readers: Arc::new(readers.into_iter().map(Shared::new).collect()),
            next: Arc::new(AtomicUsize::new(0)),
            writer: None,
            live,
            metrics,
            exports: Arc::new(Semaphore::new(EXPORTS)),
            searches: Arc::new(Semaphore::new(SEARCHES)),
            health: Arc::default(),
        }
    }
}
