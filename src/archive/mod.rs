//! The public archive: read-only pages over a read-only store connection.
//!
//! `router()` is apart from the server so tests can call it without sockets. Every page is
//! rendered by askama, which escapes all text; no page shows an email address.

mod pages;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::config::Config;
use crate::store::Store;

/// What the handlers share.
#[derive(Clone)]
pub struct Archive {
    store: Arc<Mutex<Store>>,
    config: Arc<Config>,
}

impl Archive {
    /// An archive over a read-only store connection.
    pub fn new(store: Store, config: Arc<Config>) -> Self {
        Archive {
            store: Arc::new(Mutex::new(store)),
            config,
        }
    }
}

/// The archive's routes.
pub fn router(archive: Archive) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/t/{id}", get(thread))
        .route("/healthz", get(healthz))
        .route("/style.css", get(style))
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
            PageError::NotFound => (StatusCode::NOT_FOUND, "not found").into_response(),
            PageError::Internal(e) => {
                tracing::error!("archive: {e}");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
            }
        }
    }
}

async fn read<T: Send + 'static>(
    archive: &Archive,
    f: impl FnOnce(&Store) -> crate::store::Result<T> + Send + 'static,
) -> Result<T, PageError> {
    let store = archive.store.clone();
    tokio::task::spawn_blocking(move || f(&store.lock().expect("store lock")))
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?
        .map_err(|e| PageError::Internal(e.to_string()))
}

fn render(t: impl askama::Template) -> Result<Html<String>, PageError> {
    t.render()
        .map(Html)
        .map_err(|e| PageError::Internal(e.to_string()))
}

async fn healthz(State(archive): State<Archive>) -> Result<&'static str, PageError> {
    read(&archive, |s| s.ping()).await?;
    Ok("ok\n")
}

async fn style() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../templates/web/style.css"),
    )
}

async fn index(State(archive): State<Archive>) -> Result<Html<String>, PageError> {
    let threads = read(&archive, |s| s.latest_threads(50)).await?;
    render(pages::Index {
        t: pages::texts(archive.config.language),
        threads,
    })
}

async fn thread(
    State(archive): State<Archive>,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    let id: i64 = id.parse().map_err(|_| PageError::NotFound)?;
    let (thread, posts, events) = read(&archive, move |s| {
        Ok((s.thread(id)?, s.posts(id)?, s.events(id)?))
    })
    .await?;
    let thread = thread.ok_or(PageError::NotFound)?;
    render(pages::thread_page(
        archive.config.language,
        thread,
        posts,
        events,
    ))
}
