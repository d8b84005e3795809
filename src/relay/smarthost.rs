//! SMTP delivery to the smarthost over a cache of open connections.
//!
//! lettre speaks the protocol; the connections are ours, because lettre's own leave Nagle's
//! algorithm on (it writes a message and its final `.` separately, so every delivery waited
//! ~40 ms for a delayed ACK) and its pool sends a NOOP before every reuse (one more round
//! trip per message). Like Postfix's connection cache, a connection that worked goes back
//! for the next delivery; one that sat idle is checked first, one that failed is dropped, and
//! a message that failed on a cached connection without a 5xx is tried once on a new one.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::extension::ClientId;
use tokio::net::TcpStream;

use super::retry::Delivery;

/// Longest wait for the smarthost at any step of a delivery.
const TIMEOUT: Duration = Duration::from_secs(60);
/// A cached connection idle for longer is asked NOOP before it is trusted with a message.
const CHECK_AFTER: Duration = Duration::from_secs(2);
/// A cached connection idle for longer is closed (servers drop idle clients after a while).
const IDLE_LIMIT: Duration = Duration::from_secs(30);

/// How one try on one connection went.
enum Attempt {
    Done(Delivery),
    /// The connection broke before the server answered the message.
    ConnectionLost(String),
}

/// The smarthost and the connections open to it.
pub struct Smarthost {
    host: String,
    port: u16,
    hello: ClientId,
    /// Connections not in use, with when each was last used. At most `keep` of them.
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
    keep: usize,
}

impl Smarthost {
    /// A smarthost at `host:port`, greeted as `hello`, keeping up to `keep` connections open.
    pub fn new(host: &str, port: u16, hello: &str, keep: usize) -> Smarthost {
        Smarthost {
            host: host.to_owned(),
            port,
            hello: ClientId::Domain(hello.to_owned()),
            idle: Mutex::new(Vec::new()),
            keep,
        }
    }

    /// One delivery attempt of `raw` to the envelope's recipients.
    pub async fn deliver(&self, envelope: &lettre::address::Envelope, raw: &[u8]) -> Delivery {
        if let Some(conn) = self.cached().await {
            match self.send(conn, envelope, raw).await {
                // The server closed the cached connection meanwhile: that says nothing about
                // the message, which goes out on a new connection.
                Attempt::ConnectionLost(_) => {}
                Attempt::Done(delivery) => return delivery,
            }
        }
        match self.connect().await {
            Ok(conn) => match self.send(conn, envelope, raw).await {
                Attempt::Done(delivery) => delivery,
                Attempt::ConnectionLost(e) => Delivery::Temporary(e),
            },
            Err(e) => Delivery::Temporary(e),
        }
    }

    async fn send(
        &self,
        mut conn: AsyncSmtpConnection,
        envelope: &lettre::address::Envelope,
        raw: &[u8],
    ) -> Attempt {
        Attempt::Done(
            match tokio::time::timeout(TIMEOUT, conn.send(envelope, raw)).await {
                Ok(Ok(_)) => {
                    self.put_back(conn);
                    Delivery::Sent
                }
                Ok(Err(e)) if e.is_permanent() => Delivery::Permanent(e.to_string()),
                // No reply at all, or 421: the server is closing the connection.
                Ok(Err(e)) if e.status().is_none_or(|code| u16::from(code) == 421) => {
                    return Attempt::ConnectionLost(e.to_string());
                }
                Ok(Err(e)) => Delivery::Temporary(e.to_string()),
                Err(_) => Delivery::Temporary(format!(
                    "the smarthost did not answer within {} s",
                    TIMEOUT.as_secs()
                )),
            },
        )
    }

    /// A cached connection that still answers, if there is one.
    async fn cached(&self) -> Option<AsyncSmtpConnection> {
        loop {
            let (mut conn, since) = {
                let mut idle = self.idle.lock().expect("smarthost connections");
                idle.retain(|(_, since)| since.elapsed() < IDLE_LIMIT);
                idle.pop()?
            };
            if since.elapsed() < CHECK_AFTER
                || tokio::time::timeout(TIMEOUT, conn.test_connected())
                    .await
                    .unwrap_or(false)
            {
                return Some(conn);
            }
        }
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, String> {
        let addr = format!("{}:{}", self.host, self.port);
        let connect = async {
            let stream = TcpStream::connect(&addr)
                .await
                .map_err(|e| format!("connecting to the smarthost {addr}: {e}"))?;
            // Commands and the message go out as they are written; see the module comment.
            stream
                .set_nodelay(true)
                .map_err(|e| format!("smarthost socket: {e}"))?;
            AsyncSmtpConnection::connect_with_transport(Box::new(stream), &self.hello)
                .await
                .map_err(|e| format!("greeting the smarthost {addr}: {e}"))
        };
        tokio::time::timeout(TIMEOUT, connect)
            .await
            .unwrap_or_else(|_| Err(format!("the smarthost {addr} did not answer in time")))
    }

    fn put_back(&self, conn: AsyncSmtpConnection) {
        if conn.has_broken() {
            return;
        }
        let mut idle = self.idle.lock().expect("smarthost connections");
        if idle.len() < self.keep {
            idle.push((conn, Instant::now()));
        }
    }
}
