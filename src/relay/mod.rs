//! The relay: a tokio task that delivers due outbox rows and records each outcome.
//!
//! It talks to the pipeline only through the store (outbox rows) and a wake-up signal. Rows that
//! fail temporarily are retried with backoff across restarts; permanent failures are recorded.

pub mod dkim;
pub mod retry;
pub mod smarthost;
pub mod tls;
mod transport;
mod worker;

pub use dkim::Signer;
pub use retry::Delivery;
pub use smarthost::{Envelope, Smarthost, Utf8Reach};
pub use transport::{Transport, TransportError};
pub use worker::{OnOutcome, Outcome, run};
