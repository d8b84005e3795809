//! The public archive: read-only pages, feeds and the open-data export over read-only store
//! connections.
//!
//! `router()` is apart from the server so tests and the benchmark call it without sockets. Every
//! page is rendered by askama, which escapes all text; no page shows an email address other than
//! the gateway's own. Pages carry an `ETag` and answer `If-None-Match` with 304.

mod pages;
mod serve;

pub use serve::serve;

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use tokio::sync::Semaphore;

use crate::config::Config;
use crate::domain::token::{Purpose, TokenKey};
use crate::metrics::Metrics;
use crate::store::public::ThreadFilter;
use crate::store::{Shared, Store};

/// Threads on one page of a company's list.
const PAGE_SIZE: usize = 25;
/// Results on one search page.
const SEARCH_PAGE: usize = 20;
/// Entries in a feed.
const FEED_SIZE: usize = 50;

/// Exports streaming at once; each has a connection of its own, so a slow reader of the
/// export never holds a connection that pages need.
const EXPORTS: usize = 2;
/// Least average rate, in bytes a second, at which an export's reader must take it after its
/// first minute.
const EXPORT_RATE: f64 = 16.0 * 1024.0;
/// Largest part of the export held at once (four wait in the channel at most).
const EXPORT_PART: usize = 64 * 1024;
/// Searches running at once (a search is the costliest page; the pages share four
/// connections), and how long a search waits for its turn before it is told to come back.
const SEARCHES: usize = 2;
const SEARCH_WAIT: Duration = Duration::from_secs(2);
/// How long `/healthz` trusts its last write probe.
const HEALTH_FRESH: Duration = Duration::from_secs(5);

/// What the handlers share: a few read-only connections and the config.
#[derive(Clone)]
pub struct Archive {
    readers: Arc<Vec<Shared>>,
    next: Arc<AtomicUsize>,
    config: Arc<Config>,
    metrics: Arc<Metrics>,
    /// The one write the web does: a follower's one-click unsubscribe (RFC 8058). Its
    /// connection also answers whether the store takes writes.
    unsubscribe: Option<Arc<(Shared, TokenKey)>>,
    exports: Arc<Semaphore>,
    searches: Arc<Semaphore>,
    /// When the store last took a write probe, and whether it did.
    health: Arc<Mutex<Option<(Instant, bool)>>>,
}

impl Archive {
    /// Lets `/u/TOKEN` remove followers, with a writable connection and the token key; the
    /// same connection lets `/healthz` check that the store takes writes.
    pub fn with_unsubscribe(mut self, writer: Store, key: TokenKey) -> Self {
        self.unsubscribe = Some(Arc::new((Shared::new(writer), key)));
        self
    }

    /// The next read connection, in turn.
    fn reader(&self) -> &Shared {
        &self.readers[self.next.fetch_add(1, Ordering::Relaxed) % self.readers.len()]
    }

    /// An archive over read-only store connections (at least one); `metrics` are the
    /// receiver's counters that `/metrics` shows.
    pub fn new(readers: Vec<Store>, config: Arc<Config>, metrics: Arc<Metrics>) -> Self {
        assert!(!readers.is_empty(), "the archive needs a store connection");
        Archive {
            readers: Arc::new(readers.into_iter().map(Shared::new).collect()),
            next: Arc::new(AtomicUsize::new(0)),
            unsubscribe: None,
            config,
            metrics,
            exports: Arc::new(Semaphore::new(EXPORTS)),
            searches: Arc::new(Semaphore::new(SEARCHES)),
            health: Arc::default(),
        }
    }
}

/// The archive's routes.
pub fn router(archive: Archive) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/t/{id}", get(thread))
        .route("/p/{slug}", get(provider))
        .route("/search", get(search))
        .route("/feed.atom", get(feed))
        .route("/export.jsonl", get(export))
        .route("/u/{token}", get(unsubscribe_page).post(unsubscribe))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/style.css", get(style))
        .route("/favicon.ico", get(favicon))
        .fallback(not_found)
        .layer(axum::middleware::map_response(security_headers))
        .with_state(archive)
}

async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// Errors a page can end in.
enum PageError {
    NotFound,
    Internal(String),
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::NotFound => (
                StatusCode::NOT_FOUND,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "not found / ei löydy\n",
            )
                .into_response(),
            PageError::Internal(e) => {
                tracing::error!("archive: {e}");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
            }
        }
    }
}

async fn not_found() -> PageError {
    PageError::NotFound
}

/// Runs a store read on the blocking pool with one of the read connections.
async fn read<T: Send + 'static>(
    archive: &Archive,
    f: impl FnOnce(&Store) -> crate::store::Result<T> + Send + 'static,
) -> Result<T, PageError> {
    archive
        .reader()
        .run(move |s| f(s))
        .await
        .map_err(|e| PageError::Internal(e.to_string()))
}

/// A rendered body with its type, an ETag, and 304 when the reader already has it.
fn respond(request: &HeaderMap, content_type: &'static str, body: String) -> Response {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut hasher);
    let etag = format!("\"{:016x}\"", hasher.finish());
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == etag)
        });
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, content_type)], body).into_response()
    };
    let h = response.headers_mut();
    h.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).expect("ascii etag"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn html(request: &HeaderMap, page: impl askama::Template) -> Result<Response, PageError> {
    let body = page
        .render()
        .map_err(|e| PageError::Internal(e.to_string()))?;
    Ok(respond(request, "text/html; charset=utf-8", body))
}

fn atom(request: &HeaderMap, feed: impl askama::Template) -> Result<Response, PageError> {
    let body = feed
        .render()
        .map_err(|e| PageError::Internal(e.to_string()))?;
    Ok(respond(
        request,
        "application/atom+xml; charset=utf-8",
        body,
    ))
}

async fn unsubscribe_page(
    State(archive): State<Archive>,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    html(
        &HeaderMap::new(),
        pages::unsubscribe(&archive.config, token, None),
    )
}

async fn unsubscribe(
    State(archive): State<Archive>,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let Some(writer) = archive.unsubscribe.clone() else {
        return Err(PageError::NotFound);
    };
    // A link whose token is not ours names no one: the page says so, as for one used before.
    let removed = match writer.1.verify_for(Purpose::Unsubscribe, &token) {
        Some(follower) => writer
            .0
            .run(move |s| s.unsubscribe(follower))
            .await
            .map_err(|e| PageError::Internal(e.to_string()))?,
        None => false,
    };
    html(
        &HeaderMap::new(),
        pages::unsubscribe(&archive.config, token, Some(removed)),
    )
}

/// 200 when the store answers and takes writes; 503 with the reason otherwise.
async fn healthz(State(archive): State<Archive>) -> Response {
    if let Err(e) = read(&archive, |s| s.ping()).await {
        return e.into_response();
    }
    let Some(writer) = archive.unsubscribe.clone() else {
        return "ok\n".into_response();
    };
    let known = *archive.health.lock().expect("health lock");
    let writable = match known {
        Some((at, writable)) if at.elapsed() < HEALTH_FRESH => writable,
        _ => {
            let probe = writer.0.run(|s| s.probe_write(crate::clock::now())).await;
            if let Err(e) = &probe {
                tracing::error!("healthz: the store takes no writes: {e}");
            }
            *archive.health.lock().expect("health lock") = Some((Instant::now(), probe.is_ok()));
            probe.is_ok()
        }
    };
    if writable {
        "ok\n".into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "the store takes no writes: mail cannot be accepted\n",
        )
            .into_response()
    }
}

/// 503 with a sentence and when to come back, for work that waits for its turn.
fn busy(what: &str) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "5")],
        format!("busy: too many {what} at once, try again in a few seconds\n"),
    )
        .into_response()
}

/// Prometheus text format: the receiver's counters and what the store holds.
async fn metrics(State(archive): State<Archive>) -> Result<Response, PageError> {
    let now = crate::clock::now();
    let f = read(&archive, move |s| s.figures_for_metrics(now)).await?;
    let mut out = String::new();
    archive.metrics.render(&mut out);
    for (name, help, kind, value) in [
        (
            "nonono_journal_messages",
            "Messages ever committed to the journal.",
            "counter",
            f.journal_total,
        ),
        (
            "nonono_pipeline_pending",
            "Committed messages the pipeline has not processed.",
            "gauge",
            f.journal_pending,
        ),
        (
            "nonono_pipeline_failed",
            "Messages the pipeline failed on (see nonono reprocess).",
            "gauge",
            f.journal_failed,
        ),
        (
            "nonono_held_messages",
            "Messages waiting in the holding pen for a person (see nonono held).",
            "gauge",
            f.held,
        ),
        (
            "nonono_pipeline_lag_seconds",
            "Age of the oldest message waiting for the pipeline.",
            "gauge",
            f.pipeline_lag_secs,
        ),
        (
            "nonono_outbox_pending",
            "Outbound messages waiting for delivery.",
            "gauge",
            f.outbox_pending,
        ),
        (
            "nonono_outbox_delivered_total",
            "Outbound messages delivered.",
            "counter",
            f.outbox_sent,
        ),
        (
            "nonono_outbox_failed_total",
            "Outbound messages given up on.",
            "counter",
            f.outbox_failed,
        ),
        ("nonono_threads", "Threads.", "gauge", f.threads),
        ("nonono_posts", "Posts.", "gauge", f.posts),
    ] {
        use std::fmt::Write;
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response())
}

async fn style(request: HeaderMap) -> Response {
    respond(
        &request,
        "text/css; charset=utf-8",
        include_str!("../../templates/web/style.css").to_owned(),
    )
}

async fn favicon(request: HeaderMap) -> Response {
    respond(
        &request,
        "image/svg+xml",
        include_str!("../../templates/web/favicon.svg").to_owned(),
    )
}

async fn index(State(archive): State<Archive>, request: HeaderMap) -> Result<Response, PageError> {
    let now = crate::clock::now();
    let slugs: Vec<String> = archive
        .config
        .providers
        .iter()
        .map(|p| p.slug.clone())
        .collect();
    let (threads, figures) = read(&archive, move |s| {
        let figures = slugs
            .iter()
            .map(|slug| s.figures(slug, now))
            .collect::<crate::store::Result<Vec<_>>>()?;
        Ok((s.latest_threads(20)?, figures))
    })
    .await?;
    html(
        &request,
        pages::index(&archive.config, threads, figures, now),
    )
}

async fn thread(
    State(archive): State<Archive>,
    Path(id): Path<String>,
    request: HeaderMap,
) -> Result<Response, PageError> {
    let id: i64 = id.parse().map_err(|_| PageError::NotFound)?;
    let (thread, posts, events) = read(&archive, move |s| {
        Ok((s.thread(id)?, s.posts(id)?, s.events(id)?))
    })
    .await?;
    let thread = thread.ok_or(PageError::NotFound)?;
    html(
        &request,
        pages::thread(&archive.config, thread, posts, events, crate::clock::now()),
    )
}

/// Query of a company page.
#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    filter: Option<String>,
    #[serde(default)]
    before: Option<i64>,
}

async fn provider(
    State(archive): State<Archive>,
    Path(slug): Path<String>,
    Query(q): Query<ListQuery>,
    request: HeaderMap,
) -> Result<Response, PageError> {
    if let Some(slug) = slug.strip_suffix(".atom") {
        return provider_feed(archive, slug.to_owned(), request).await;
    }
    let config = archive.config.clone();
    let provider = config.provider(&slug).ok_or(PageError::NotFound)?;
    let filter = match q.filter.as_deref() {
        Some("waiting") => ThreadFilter::Waiting,
        Some("answered") => ThreadFilter::Answered,
        _ => ThreadFilter::All,
    };
    let now = crate::clock::now();
    let (figures, threads) = read(&archive, move |s| {
        Ok((
            s.figures(&slug, now)?,
            s.provider_threads(&slug, filter, q.before, PAGE_SIZE + 1)?,
        ))
    })
    .await?;
    html(
        &request,
        pages::provider(&config, provider, figures, threads, filter, PAGE_SIZE, now),
    )
}

async fn provider_feed(
    archive: Archive,
    slug: String,
    request: HeaderMap,
) -> Result<Response, PageError> {
    let config = archive.config.clone();
    let provider = config.provider(&slug).ok_or(PageError::NotFound)?.clone();
    let posts = read(&archive, move |s| s.feed_posts(Some(&slug), FEED_SIZE)).await?;
    atom(&request, pages::feed(&config, Some(&provider), posts))
}

async fn feed(State(archive): State<Archive>, request: HeaderMap) -> Result<Response, PageError> {
    let posts = read(&archive, |s| s.feed_posts(None, FEED_SIZE)).await?;
    atom(&request, pages::feed(&archive.config, None, posts))
}

/// Query of the search page.
#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: usize,
}

async fn search(
    State(archive): State<Archive>,
    Query(q): Query<SearchQuery>,
    request: HeaderMap,
) -> Result<Response, PageError> {
    let text: String = q.q.chars().take(200).collect();
    let page = q.page.min(50);
    let query = text.clone();
    let Ok(Ok(_turn)) =
        tokio::time::timeout(SEARCH_WAIT, archive.searches.clone().acquire_owned()).await
    else {
        return Ok(busy("searches"));
    };
    let hits = read(&archive, move |s| {
        s.search(&query, SEARCH_PAGE + 1, page * SEARCH_PAGE)
    })
    .await?;
    html(
        &request,
        pages::search(&archive.config, text, hits, page, SEARCH_PAGE),
    )
}

/// The open-data export, streamed a batch of lines at a time so memory stays flat, from a
/// connection of its own; at most [`EXPORTS`] at once, and a reader that stops reading for
/// `[http] write_timeout_secs` loses it.
async fn export(State(archive): State<Archive>) -> Response {
    let Ok(turn) = archive.exports.clone().try_acquire_owned() else {
        return busy("exports");
    };
    let (lines, body) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let path = archive.config.store_path();
    let runtime = tokio::runtime::Handle::current();
    // A reader that stops reading loses the export, and its connection (and the snapshot it
    // pins) goes.
    let stall = Duration::from_secs(archive.config.http.write_timeout_secs);
    tokio::task::spawn_blocking(move || {
        let (began, sent) = (Instant::now(), std::cell::Cell::new(0usize));
        let send = |part: Result<Vec<u8>, std::io::Error>| {
            // A reader that reads, but too slowly, holds a turn for hours: past a minute it
            // must keep EXPORT_RATE on average.
            let taken = began.elapsed();
            if taken > Duration::from_secs(60)
                && (sent.get() as f64) < EXPORT_RATE * taken.as_secs_f64()
            {
                return Err(std::io::Error::other("the reader reads too slowly"));
            }
            sent.set(sent.get() + part.as_ref().map_or(0, Vec::len));
            runtime
                .block_on(tokio::time::timeout(stall, lines.send(part)))
                .map_err(|_| std::io::Error::other("the reader stopped reading"))?
                .map_err(|_| std::io::Error::other("the reader went away"))
        };
        let store = match Store::open_readonly(&path) {
            Ok(store) => store,
            Err(e) => {
                tracing::error!("export: {e}");
                let _ = send(Err(std::io::Error::other(e.to_string())));
                return;
            }
        };
        // Parts of at most EXPORT_PART bytes, however long a post: the channel then holds a
        // few of them at most, whatever the archive holds.
        let mut batch = Vec::with_capacity(2 * EXPORT_PART);
        let result = store.export(|row| {
            serde_json::to_writer(&mut batch, &row)?;
            batch.push(b'\n');
            while batch.len() >= EXPORT_PART {
                let rest = batch.split_off(EXPORT_PART);
                send(Ok(std::mem::replace(&mut batch, rest)))?;
            }
            Ok(())
        });
        let last = match result {
            Ok(()) => Ok(batch),
            Err(e) => {
                tracing::info!("export ended: {e}");
                Err(std::io::Error::other(e.to_string()))
            }
        };
        let _ = send(last);
    });
    // The turn is given back when the body is dropped: sent, or its reader gone.
    let stream = futures_stream(body, turn);
    (
        [(header::CONTENT_TYPE, "application/x-ndjson; charset=utf-8")],
        Body::from_stream(stream),
    )
        .into_response()
}

/// Adapts a channel receiver into the stream axum's `Body` wants.
fn futures_stream(
    rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
    turn: tokio::sync::OwnedSemaphorePermit,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    /// The parts, and the export's turn, held until the body is dropped.
    struct Lines {
        parts: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
        _turn: tokio::sync::OwnedSemaphorePermit,
    }
    impl futures_core::Stream for Lines {
        type Item = Result<Vec<u8>, std::io::Error>;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            self.parts.poll_recv(cx)
        }
    }
    Lines {
        parts: rx,
        _turn: turn,
    }
}
