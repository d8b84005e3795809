//! The accept loop: a session per connection, up to the limits per client and in all.

use super::receiver::Receiver;
use super::session::Session;
use crate::domain::slots::{Slots, network};
use crate::metrics::Refused;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

/// Most simultaneous sessions; more connections are told to come back later.
pub(super) const MAX_SESSIONS: usize = 512;

/// Accepts connections until `shutdown` turns true, then tells sessions in flight to finish
/// (each answers `421` unless it is committing a message) and waits for them.
pub async fn run(
    listener: TcpListener,
    receiver: Arc<Receiver>,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(MAX_SESSIONS));
    let per_ip = Arc::new(Slots::default());
    let per_network = Arc::new(Slots::default());
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!("smtp: accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let config = receiver.live.get();
                let smtp = &config.smtp;
                // A trusted relay carries many clients' sessions: only the total bounds it.
                let (most_per_network, most_per_client) = if receiver.trusts(peer.ip()) {
                    (MAX_SESSIONS, MAX_SESSIONS)
                } else {
                    (smtp.max_sessions_per_network, smtp.max_sessions_per_client)
                };
                let (Some(network_slot), Some(ip_slot), Ok(slot)) = (
                    Slots::take(&per_network, network(peer.ip()), most_per_network),
                    Slots::take(&per_ip, peer.ip(), most_per_client),
                    slots.clone().try_acquire_owned(),
                ) else {
                    receiver.metrics.refused(Refused::Connections);
                    sessions.spawn(async move {
                        let mut stream = stream;
                        let _ = stream.write_all(b"421 4.3.2 Too many connections, try again later\r\n").await;
                    });
                    continue;
                };
                let receiver = receiver.clone();
                let shutdown = shutdown.clone();
                sessions.spawn(async move {
                    let _slots = (slot, ip_slot, network_slot);
                    receiver.metrics.session();
                    if let Err(e) = Session::new(receiver, peer).run(stream, shutdown).await {
                        tracing::debug!("smtp: session from {peer} ended: {e}");
                    }
                });
            }
            _ = shutdown.changed() => break,
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
    drop(listener);
    while sessions.join_next().await.is_some() {}
}
