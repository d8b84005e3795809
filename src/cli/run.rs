//! Runs a subcommand, and says what went wrong in one line.

use super::args::{Cli, Command};
use super::{held, moderate, providers, queue, service};
use crate::config::Config;

/// Loads the config and runs the subcommand.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(&cli.config)?;
    match cli.command {
        Command::Serve => service::serve(config),
        Command::CheckConfig => service::check_config(&config, &cli.config),
        Command::DkimKeygen { print_record } => service::dkim_keygen(&config, print_record),
        Command::Providers { action } => providers::providers(&config, &cli.config, action),
        Command::Export => service::export(&config),
        Command::Moderate { action } => moderate::moderate(&config, &action),
        Command::Backup { file } => service::backup(&config, &file),
        Command::Reprocess => service::reprocess(&config),
        Command::Held { action } => held::held(&config, action),
        Command::Queue { flush, action } => queue::queue(&config, flush, action),
    }
}

/// The error and its causes, each cause only when the message before did not already say it.
pub fn describe(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}
