//! The public archive: pages, feeds and the open-data export over read-only store connections.
//! One connection writes: a follower's one-click unsubscribe, and the `/healthz` probe that the
//! store takes writes.
//!
//! `router()` is apart from the server so tests and the benchmark call it without sockets. Every
//! page is rendered by askama, which escapes all text; no page shows an email address other than
//! the gateway's own. Pages carry an `ETag` and answer `If-None-Match` with 304.

mod export;
mod handlers;
mod monitoring;
mod pages;
mod router;
mod serve;
mod state;

pub use router::router;
pub use serve::serve;
pub use state::Archive;
