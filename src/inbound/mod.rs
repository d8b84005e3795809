//! The SMTP receiver: a tokio accept loop and one session task per connection, over smtp-proto.
//!
//! Recipients are checked at `RCPT` time (only our domain, only addresses that exist, tokens
//! with a valid HMAC: never an open relay). Lines are bounded by smtp-proto, message size by
//! `SIZE`, and sessions by idle and total timeouts. At the end of `DATA` the raw message and its
//! envelope are committed to the journal, and only then is `250` answered; if the commit fails
//! the answer is `451` and the client keeps the message and retries.

mod commands;
mod data;
pub mod intake_writer;
mod listener;
mod receiver;
mod refusals;
mod session;
mod tls;

pub use listener::run;
pub use receiver::Receiver;
pub use tls::{TlsError, tls_acceptor};
