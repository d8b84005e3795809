//! The web archive's accept loop: HTTP/1.1 over hyper, with the bounds a public server needs
//! and axum's `serve` does not set. A request's header must arrive within `[http]
//! header_timeout_secs` (also the longest an idle keep-alive connection stays), and
//! connections are bounded in all, per client address and per network, so slow or idle
//! clients cannot hold every connection (and every open file).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::slots::{Slots, network};

/// Connections open at most, in all.
const MAX_CONNECTIONS: usize = 1024;
/// Connections open at most from one client address, and from one network.
const PER_CLIENT: usize = 32;
const PER_NETWORK: usize = 128;

/// Serves `app` until `stop` turns true; then connections finish what they are answering.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    header_timeout: Duration,
    mut stop: watch::Receiver<bool>,
) {
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
                .serve_connection(TokioIo::new(stream), service);
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
