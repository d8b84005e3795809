//! One handler per page: read the store, render, and answer with an ETag.

use super::pages::{self, words};
use super::state::{Archive, FEED_SIZE, PAGE_SIZE, SEARCH_PAGE, SEARCH_WAIT};
use crate::config::Language;
use crate::domain::calendar;
use crate::domain::token::Purpose;
use crate::store::Store;
use crate::store::public::ThreadFilter;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::hash::{Hash, Hasher};

/// Errors a page can end in.
pub(super) enum PageError {
    NotFound,
    Internal(String),
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            // Said in both languages: a page that does not exist has none of its own.
            PageError::NotFound => (
                StatusCode::NOT_FOUND,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!(
                    "{} / {}\n",
                    words(Language::Fi).not_found,
                    words(Language::En).not_found
                ),
            )
                .into_response(),
            PageError::Internal(e) => {
                tracing::error!("archive: {e}");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
            }
        }
    }
}

pub(super) async fn not_found() -> PageError {
    PageError::NotFound
}

/// Runs a store read on the blocking pool with one of the read connections.
pub(super) async fn read<T: Send + 'static>(
    archive: &Archive,
    f: impl FnOnce(&Store) -> crate::store::Result<T> + Send + 'static,
) -> Result<T, PageError> {
    archive
        .reader()
        .run(move |s| f(s))
        .await
        .map_err(|e| PageError::Internal(e.to_string()))
}

/// How long a cache in front (a CDN, Varnish) may serve a public page without asking again:
/// a new answer shows within a minute, and most reads of a busy page never reach us.
const PUBLIC_MAX_AGE: &str = "public, max-age=60";

/// Whether a cache in front may keep a response for everyone.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Caching {
    /// A public page: kept [`PUBLIC_MAX_AGE`], dated as rendered now (what it shows moves
    /// with time and with counts no row dates, so no earlier time is true of it).
    Public,
    /// Checked with us every time (a file that changes only with a build).
    Revalidate,
    /// Kept by no cache in front: a one-person page, its token in the address.
    Private,
}

/// A rendered body with its type, an ETag, and 304 when the reader already has it.
pub(super) fn respond(
    request: &HeaderMap,
    content_type: &'static str,
    body: String,
    caching: Caching,
) -> Response {
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
    if caching == Caching::Public {
        let now = calendar::http_date(crate::clock::now());
        h.insert(
            header::LAST_MODIFIED,
            HeaderValue::from_str(&now).expect("ascii date"),
        );
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(PUBLIC_MAX_AGE),
        );
    } else {
        let value = match caching {
            Caching::Private => "private, no-store",
            _ => "no-cache",
        };
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    response
}

pub(super) fn html(
    request: &HeaderMap,
    page: impl askama::Template,
    caching: Caching,
) -> Result<Response, PageError> {
    let body = page
        .render()
        .map_err(|e| PageError::Internal(e.to_string()))?;
    Ok(respond(request, "text/html; charset=utf-8", body, caching))
}

pub(super) fn atom(
    request: &HeaderMap,
    feed: impl askama::Template,
    caching: Caching,
) -> Result<Response, PageError> {
    let body = feed
        .render()
        .map_err(|e| PageError::Internal(e.to_string()))?;
    Ok(respond(
        request,
        "application/atom+xml; charset=utf-8",
        body,
        caching,
    ))
}

pub(super) async fn unsubscribe_page(
    State(archive): State<Archive>,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    html(
        &HeaderMap::new(),
        pages::unsubscribe(&archive.config(), token, None),
        Caching::Private,
    )
}

pub(super) async fn unsubscribe(
    State(archive): State<Archive>,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let Some(writer) = archive.writer.clone() else {
        return Err(PageError::NotFound);
    };
    // A link whose token is not ours names no one: the page says so, as for one used before.
    let removed = match writer.key.verify_for(Purpose::Unsubscribe, &token) {
        Some(follower) => writer
            .store
            .run(move |s| s.unsubscribe(follower))
            .await
            .map_err(|e| PageError::Internal(e.to_string()))?,
        None => false,
    };
    html(
        &HeaderMap::new(),
        pages::unsubscribe(&archive.config(), token, Some(removed)),
        Caching::Private,
    )
}

/// 503 with a sentence and when to come back, for work that waits for its turn.
pub(super) fn busy(lang: Language) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (header::RETRY_AFTER, "5"),
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
        ],
        format!("{}\n", words(lang).busy),
    )
        .into_response()
}

pub(super) async fn style(request: HeaderMap) -> Response {
    respond(
        &request,
        "text/css; charset=utf-8",
        include_str!("../../templates/web/style.css").to_owned(),
        Caching::Revalidate,
    )
}

pub(super) async fn favicon(request: HeaderMap) -> Response {
    respond(
        &request,
        "image/svg+xml",
        include_str!("../../templates/web/favicon.svg").to_owned(),
        Caching::Revalidate,
    )
}

/// How many companies the front page shows at most: with more, those with most feedback, and
/// a link to the list of all (`/p`).
const HOME_COMPANIES: usize = 30;

pub(super) async fn index(
    State(archive): State<Archive>,
    request: HeaderMap,
) -> Result<Response, PageError> {
    let now = crate::clock::now();
    let config = archive.config();
    let all = config.providers.len();
    let registry = config.clone();
    let (threads, shown) = read(&archive, move |s| {
        let slugs: Vec<String> = if all <= HOME_COMPANIES {
            registry.providers.iter().map(|p| p.slug.clone()).collect()
        } else {
            // Removed companies keep their figures: ask for some more than are shown.
            s.busiest_companies(2 * HOME_COMPANIES)?
                .into_iter()
                .filter(|slug| registry.provider(slug).is_some())
                .take(HOME_COMPANIES)
                .collect()
        };
        let figures = slugs
            .into_iter()
            .map(|slug| Ok((s.figures(&slug, now)?, slug)))
            .collect::<crate::store::Result<Vec<_>>>()?;
        Ok((s.latest_threads(20)?, figures))
    })
    .await?;
    let shown: Vec<_> = shown
        .into_iter()
        .filter_map(|(f, slug)| Some((config.provider(&slug)?, f)))
        .collect();
    html(
        &request,
        pages::index(&config, threads, shown, now),
        Caching::Public,
    )
}

/// `/p`: every company, by name, a page at a time.
pub(super) async fn companies(
    State(archive): State<Archive>,
    Query(q): Query<PageQuery>,
    request: HeaderMap,
) -> Result<Response, PageError> {
    let config = archive.config();
    let counts = read(&archive, |s| s.thread_counts()).await?;
    html(
        &request,
        // Anything but a page number (a reader's typo, a crawler's guess) is the first page.
        pages::companies(
            &config,
            &counts,
            q.page.and_then(|p| p.trim().parse().ok()).unwrap_or(1),
        ),
        Caching::Public,
    )
}

/// `/menetelma` and `/method`: how the figures are counted.
pub(super) async fn method(
    State(archive): State<Archive>,
    request: HeaderMap,
) -> Result<Response, PageError> {
    html(&request, pages::method(&archive.config()), Caching::Public)
}

#[derive(Deserialize)]
pub(super) struct PageQuery {
    #[serde(default)]
    page: Option<String>,
}

pub(super) async fn thread(
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
        pages::thread(
            &archive.config(),
            thread,
            posts,
            events,
            crate::clock::now(),
        ),
        Caching::Public,
    )
}

/// Query of a company page.
#[derive(Deserialize)]
pub(super) struct ListQuery {
    #[serde(default)]
    filter: Option<String>,
    #[serde(default)]
    before: Option<i64>,
}

pub(super) async fn provider(
    State(archive): State<Archive>,
    Path(slug): Path<String>,
    Query(q): Query<ListQuery>,
    request: HeaderMap,
) -> Result<Response, PageError> {
    if let Some(slug) = slug.strip_suffix(".atom") {
        return provider_feed(archive, slug.to_owned(), request).await;
    }
    let config = archive.config();
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
        Caching::Public,
    )
}

pub(super) async fn provider_feed(
    archive: Archive,
    slug: String,
    request: HeaderMap,
) -> Result<Response, PageError> {
    let config = archive.config();
    let provider = config.provider(&slug).ok_or(PageError::NotFound)?.clone();
    let posts = read(&archive, move |s| s.feed_posts(Some(&slug), FEED_SIZE)).await?;
    atom(
        &request,
        pages::feed(&config, Some(&provider), posts),
        Caching::Public,
    )
}

pub(super) async fn feed(
    State(archive): State<Archive>,
    request: HeaderMap,
) -> Result<Response, PageError> {
    let posts = read(&archive, |s| s.feed_posts(None, FEED_SIZE)).await?;
    atom(
        &request,
        pages::feed(&archive.config(), None, posts),
        Caching::Public,
    )
}

/// Query of the search page.
#[derive(Deserialize)]
pub(super) struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: usize,
}

pub(super) async fn search(
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
        return Ok(busy(archive.config().language));
    };
    let hits = read(&archive, move |s| {
        s.search(&query, SEARCH_PAGE + 1, page * SEARCH_PAGE)
    })
    .await?;
    html(
        &request,
        pages::search(&archive.config(), text, hits, page, SEARCH_PAGE),
        Caching::Public,
    )
}
