//! nonono: an email-first public feedback gateway.
//!
//! A consumer mails feedback about a company; it becomes a public thread and is relayed to the
//! company, whose answer by mail is published and relayed back. Email addresses are never
//! published, and nothing accepted is ever lost.
//!
//! # Layout
//!
//! ```text
//! app        wiring: starts everything below, owns shutdown
//! inbound    SMTP receiver (tokio + smtp-proto): RCPT checks, bounded DATA, 250 after commit
//! journal    group-commit writer: raw messages and envelopes into the intake (store::intake)
//! pipeline   intake -> journal -> classify, parse, route -> threads, posts, outbox, in batches
//! reprocess  re-derives published text from the raw mail after a parser change
//! remind     reminders to companies past their response time (at most three)
//! unregistered  companies not registered yet: waiting feedback, digest, attach on registration
//! relay      outbox worker: file or SMTP transport (relay::smarthost), retries with backoff
//! archive    read-only web archive (axum + askama)
//! compose    the mail we write, Finnish and English
//! metrics    in-memory counters of the receiver, for /metrics
//! store      SQLite: the only module with SQL; the service's writers take turns at its write
//!            lock (store::turns); a thread keeps the write-ahead logs short (store::checkpoint)
//! mail       domain core: parse (HTML to text), classify, answer extraction
//! calendar   domain core: Finnish working days and holidays
//! screen     domain core: personal data (identity codes, IBANs, cards, phones) held back
//! route      domain core: recipients, company tags, topic rules, representatives
//! limits     domain core: who is the same writer, which abuse limit is reached
//! auth       sender authentication (DKIM, SPF, DMARC) of answers that claim a company
//! tone       domain core: template answers and answers that blame the writer
//! solved     asking writers once whether the company solved their problem
//! support    readers who had the same problem add their voice to a thread
//! follow     follow+SLUG@: daily digests of a company, with one-click unsubscribe
//! slots      connections per client address and per network (SMTP and HTTP)
//! token      t+/b+/c+/e+ address tokens (reply, bounce, confirm, erase) with an HMAC
//! config     the TOML configuration
//! clock      the one place that reads the time
//! ```

pub mod app;
pub mod archive;
pub mod clock;
pub mod config;
pub mod domain;
pub mod inbound;
pub mod mail;
pub mod metrics;
pub mod pipeline;
pub mod relay;
pub mod store;
