//! Where outbound mail goes: files in a folder, or a smarthost over SMTP.

use std::path::PathBuf;
use std::sync::Arc;

use super::retry::Delivery;
use super::smarthost::{Envelope, Smarthost, Utf8Reach};
use super::tls::{Security, SecurityError};
use crate::config::{Config, Transport as TransportKind};
use crate::store::OutboundRow;

/// Deliveries in flight at once, as an MTA runs several: each SMTP delivery waits on the
/// network (and on delayed ACKs) far more than it works.
pub(super) const PARALLEL_DELIVERIES: usize = 16;

/// Why the configured transport cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("{}: {source}", .path.display())]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Security(#[from] SecurityError),
}

/// Where outbound mail goes.
pub enum Transport {
    /// Writes each message as `<dir>/<id>.eml`.
    File(PathBuf),
    /// Delivers to a smarthost.
    Smtp(Smarthost),
}

impl Transport {
    /// The transport the config asks for.
    pub fn from_config(config: &Config) -> Result<Transport, TransportError> {
        Ok(match config.outbound.transport {
            TransportKind::File => {
                let dir = config.outbound_dir();
                std::fs::create_dir_all(&dir).map_err(|source| TransportError::Folder {
                    path: dir.clone(),
                    source,
                })?;
                Transport::File(dir)
            }
            TransportKind::Smtp => Transport::Smtp(
                Smarthost::new(
                    &config.outbound.smtp_host,
                    config.outbound.smtp_port,
                    &config.domain,
                    PARALLEL_DELIVERIES,
                )
                .secured(Security::from_config(config)?),
            ),
        })
    }

    /// Whether this transport takes addresses beyond ASCII, as far as is known: files take
    /// anything, a smarthost says so in its EHLO reply.
    pub fn utf8_reach(&self) -> Arc<Utf8Reach> {
        match self {
            Transport::File(_) => Arc::new(Utf8Reach::everywhere()),
            Transport::Smtp(smarthost) => smarthost.utf8_reach(),
        }
    }

    /// One delivery attempt of `row`, whose message is `raw` (as signed).
    pub async fn deliver(&self, row: &OutboundRow, raw: &[u8]) -> Delivery {
        match self {
            Transport::File(dir) => {
                let path = dir.join(format!("{:08}.eml", row.id));
                let tmp = dir.join(format!(".{:08}.eml.tmp", row.id));
                // As a final delivery agent would, record the envelope sender.
                let mut bytes = format!("Return-Path: <{}>\r\n", row.mail_from).into_bytes();
                bytes.extend_from_slice(raw);
                let written = async {
                    tokio::fs::write(&tmp, &bytes).await?;
                    tokio::fs::rename(&tmp, &path).await
                };
                match written.await {
                    Ok(()) => Delivery::Sent,
                    Err(e) => Delivery::Temporary(format!("{}: {e}", path.display())),
                }
            }
            // An empty sender is the null sender `<>`: nothing may bounce back.
            Transport::Smtp(smarthost) => match Envelope::new(&row.mail_from, &row.rcpt_to) {
                Ok(envelope) if row.report_delivery => {
                    let envelope = envelope.with_delivery_report(&envelope_id(row.id));
                    smarthost.deliver(&envelope, raw).await
                }
                Ok(envelope) => smarthost.deliver(&envelope, raw).await,
                Err(e) => Delivery::Permanent(e),
            },
        }
    }
}

/// The envelope id (RFC 3461 ENVID) an outbox row is sent under: its delivery reports name it.
pub fn envelope_id(outbox: i64) -> String {
    format!("nonono-{outbox}")
}
