//! The web archive's accept loop: HTTP/1.1 over hyper, with the bounds a public server needs
//! and axum's `serve` does not set. A request's header must arrive within `[http]
//! header_timeout_secs` (also the longest an idle keep-alive connection stays), and
//! connections are bounded in all, per client address and per network, so slow or idle
//! clients cannot hold every connection (and every open file); a response whose reader stops
//! reading is dropped after `[http] write_timeout_secs`.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::HttpConfig;
use crate::domain::slots::{Slots, network};

/// Connections open at most, in all.
const MAX_CONNECTIONS: usize = 1024;
/// Connections open at most from one client address, and from one network.
const PER_CLIENT: usize = 32;
const PER_NETWORK: usize = 128;

/// Serves `app` until `stop` turns true; then connections finish what they are answering.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    http: &HttpConfig,
    mut stop: watch::Receiver<bool>,
) {
    let header_timeout = Duration::from_secs(http.header_timeout_secs);
    let write_timeout = Duration::from_secs(http.write_timeout_secs);
    let (per_client, per_network) = (Arc::new(Slots::default()), Arc::new(Slots::default()));
    let mut connections = JoinSet::new();
    let service = TowerToHyperService::new(app);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|s| *s) => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let (stream, peer): (_, SocketAddr) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of open files, most likely: wait rather than spin.
                tracing::warn!("http: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let (Some(client), Some(net)) = (
            Slots::take(&per_client, peer.ip(), PER_CLIENT),
            Slots::take(&per_network, network(peer.ip()), PER_NETWORK),
        ) else {
            // Closed at once: no answer is cheaper than any.
            continue;
        };
        if connections.len() >= MAX_CONNECTIONS {
            continue;
        }
        let (service, mut stop) = (service.clone(), stop.clone());
        connections.spawn(async move {
            let _slots = (client, net);
            let _ = stream.set_nodelay(true);
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(
                    TokioIo::new(WriteDeadline::new(stream, write_timeout)),
                    service,
                );
            tokio::pin!(connection);
            let stopping = tokio::select! {
                _ = connection.as_mut() => false,
                _ = stop.wait_for(|s| *s) => true,
            };
            if stopping {
                connection.as_mut().graceful_shutdown();
                let _ = connection.await;
            }
        });
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

/// A connection whose writes fail once one has waited `limit` for the reader: hyper sets no
/// write timeout, and a reader that never reads held its response in memory for good.
struct WriteDeadline<S> {
    inner: S,
    limit: Duration,
    /// Armed while a write waits for the reader.
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<S> WriteDeadline<S> {
    fn new(inner: S, limit: Duration) -> Self {
        WriteDeadline {
            inner,
            limit,
            stalled: None,
        }
    }

    /// `polled` as it came, unless it is still waiting past the deadline.
    fn within<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<std::io::Result<T>>,
    ) -> Poll<std::io::Result<T>> {
        if polled.is_ready() {
            self.stalled = None;
            return polled;
        }
        let limit = self.limit;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match stalled.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the reader stopped reading",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WriteDeadline<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WriteDeadline<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.within(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.within(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        self.within(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
