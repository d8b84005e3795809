//! The store: SQLite in WAL mode, the only module that speaks SQL.
//!
//! Callers get typed functions. Writes that belong together (a thread, its posts and its outbox
//! rows) go through one [`Tx`], so the pipeline applies a message completely or not at all.
//! Keeping SQL here is what lets the store move to a server database as one module's work.

mod arrivals;
pub mod checkpoint;
pub mod companies;
pub mod company_clock;
mod connection;
pub mod consent;
pub mod desk;
pub mod error;
pub mod export;
mod figures;
pub mod follow;
pub mod holding_pen;
pub mod intake;
mod journal;
mod limits;
mod migrations;
pub mod outbox;
pub mod public;
pub mod records;
pub mod reminders;
pub mod removal;
pub mod replay;
mod search;
pub mod solved;
mod sqlite;
pub mod support;
mod threads;
pub mod tone;
pub mod traces;
pub mod turns;
pub mod unregistered;

pub use arrivals::{FLOW_BACKLOG, path_beside as intake_path};
pub use connection::{Shared, Store, Tx};
pub use error::{Result, StoreError};
pub use export::{ExportError, ExportRow};
pub use figures::StoreFigures;
pub use outbox::{MessageOrigin, Outbound, OutboundRow, OutboxPurpose, QueueRow};
pub use records::{
    Arrival, Event, EventKind, Evidence, JournalEntry, JournalOutcome, NewPost, NewThread,
    Participant, Post, PostKind, Removal, RemovedBy, Role, Signature, Thread,
};

/// Store fixtures for the unit tests of its modules.
#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests;
