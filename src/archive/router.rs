//! The archive's routes, and the security headers every response carries.

use axum::Router;

use super::state::Archive;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::get;

use super::export::export;
use super::handlers::{
    companies, favicon, feed, index, method, not_found, provider, search, style, thread,
    unsubscribe, unsubscribe_page,
};
use super::monitoring::{healthz, metrics};

/// The archive's routes.
pub fn router(archive: Archive) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/t/{id}", get(thread))
        .route("/p", get(companies))
        .route("/p/{slug}", get(provider))
        .route("/search", get(search))
        .route("/menetelma", get(method))
        .route("/metod", get(method))
        .route("/method", get(method))
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
    // What says nothing of caching (health, metrics, the export, errors) is not kept by a
    // cache in front: a stale health answer or 404 would mislead.
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}
