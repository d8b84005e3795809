//! Domain core for mail as it arrives (parsing, classification, answer extraction) and as we
//! write it (header encoding, transfer encoding).
//!
//! Nothing here does I/O or reads a clock: every function takes bytes or text and returns plain
//! values, so the rules are tested with unit tests over `fixtures/*.eml`.

pub mod address;
pub mod attachments;
pub mod classify;
pub mod dsn;
pub mod envelope;
pub mod html;
pub mod parse;
pub mod reply;
pub mod text;
pub mod write;

pub use address::{normalize_address, redact_addresses};
pub use attachments::Attachments;
pub use classify::{Class, classify};
pub use envelope::Envelope;
pub use parse::{Mailbox, ParsedMail, parse};
pub use text::{has_visible_text, is_hidden_or_broken, is_invisible, pseudonym, shortened, wrap};
