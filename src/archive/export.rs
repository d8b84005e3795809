//! The open-data export: every public post as a JSON line, streamed in parts at a bounded
//! rate.

use super::handlers::busy;
use super::state::{Archive, EXPORT_PART, EXPORT_RATE};
use crate::store::Store;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::time::{Duration, Instant};

/// The open-data export, streamed a batch of lines at a time so memory stays flat, from a
/// connection of its own; at most [`EXPORTS`] at once, and a reader that stops reading for
/// `[http] write_timeout_secs` loses it.
pub(super) async fn export(State(archive): State<Archive>) -> Response {
    let Ok(turn) = archive.exports.clone().try_acquire_owned() else {
        return busy(archive.config().language);
    };
    let (lines, body) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let path = archive.config().store_path();
    let runtime = tokio::runtime::Handle::current();
    // A reader that stops reading loses the export, and its connection (and the snapshot it
    // pins) goes.
    let stall = Duration::from_secs(archive.config().http.write_timeout_secs);
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
pub(super) fn futures_stream(
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
