//! The `nonono` command: its arguments, and one file per group of subcommands. `main` parses
//! the command line and calls [`run`].

pub mod args;
mod held;
mod moderate;
mod providers;
mod queue;
mod run;
mod service;
mod terminal;

pub use args::Cli;
pub use run::{describe, run};
