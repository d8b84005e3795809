//! nonono: an email-first public feedback gateway.
//!
//! A consumer mails feedback about a company; it becomes a public thread and is relayed to the
//! company, whose answer by mail is published and relayed back. Email addresses are never
//! published, and nothing accepted is ever lost.
//!
//! # Layout
//!
//! The tree is the flow: receive → intake → pipeline → store → relay / archive. ARCHITECTURE.md
//! says where each concept lives and which module may use which (checked by
//! `tests/architecture.rs`).
//!
//! ```text
//! domain     pure rules: calendar, route, mailbox, names, token, screen, limits, tone, slots,
//!            txt_record, words
//! mail       pure mail: parse, html, classify, reply (answer extraction), write, address,
//!            text, envelope
//! inbound    SMTP receiver: listener, receiver, session, commands, data, refusals, tls,
//!            intake_writer
//! pipeline   journal entry -> threads, posts, outbox: worker, dispatch, one file per feature,
//!            texts and compose (the mail we write), auth (DKIM/SPF/DMARC), scheduler, reprocess
//! store      SQLite, the only SQL: connection, records, journal, intake, threads, search, ...
//! relay      outbox worker: worker, transport, smarthost (SMTP client), retry, dkim
//! archive    read-only web archive: router, state, handlers, export, serve, pages
//! cli        the `nonono` command: its arguments and subcommands
//! app        wiring and shutdown
//! config     the TOML configuration: keys, read, check, live (the running service's)
//! clock      the one place that reads the time
//! metrics    the receiver's counters, for /metrics
//! ```

pub mod app;
pub mod archive;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod inbound;
pub mod mail;
pub mod metrics;
pub mod pipeline;
pub mod relay;
pub mod store;
