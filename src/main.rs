//! The `nonono` command: parses the command line, sets up logging, runs a subcommand
//! ([`nonono::cli`]) and turns errors into a message and an exit code.

use std::process::ExitCode;

use clap::Parser;
use nonono::cli::{Cli, describe, run};

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        // Colour only on a terminal: a log file or journald shows escape codes as text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nonono: {}", describe(&e));
            ExitCode::FAILURE
        }
    }
}
