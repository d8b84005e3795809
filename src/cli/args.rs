//! The command line: every subcommand and its arguments, as `--help` shows them.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Plan;

/// nonono: public feedback by email.
#[derive(Parser)]
#[command(version, about)]
pub struct Cli {
    /// The configuration file.
    #[arg(long, global = true, default_value = "config/default.toml")]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the SMTP receiver, web archive, pipeline and outbound worker until SIGTERM or ctrl-c.
    Serve,
    /// Check the configuration and name every key that is wrong.
    CheckConfig,
    /// The companies feedback can be routed to: `providers list|show|add|edit|remove|export|
    /// import`, while the service runs. Without a subcommand, the list.
    Providers {
        #[command(subcommand)]
        action: Option<ProviderAction>,
    },
    /// Write the public archive as JSON Lines, one post a line, to standard output.
    Export,
    /// Derive every published text again from its raw mail (after a parser fix) and retry
    /// messages the pipeline failed on. Sends no mail; safe to run twice.
    Reprocess,
    /// Hide a post or a thread with a public reason; it leaves a tombstone and an audit entry.
    Moderate {
        #[command(subcommand)]
        action: Moderation,
    },
    /// Write a consistent copy of the store to FILE, while the service runs.
    Backup { file: PathBuf },
    /// Generate a DKIM signing key into `[outbound] dkim_key` (default data_dir/dkim.key) and
    /// print the DNS record to publish for it.
    DkimKeygen {
        /// Make no key: print the record of the key that is there already.
        #[arg(long)]
        print_record: bool,
    },
    /// The holding pen: what the pipeline held for a person to look at (reason, sender,
    /// subject, time); `held show|release|assign|drop ID` works through it.
    Held {
        #[command(subcommand)]
        action: Option<HeldAction>,
    },
    /// Show outbound mail not yet delivered, and failed deliveries (bounces after delivery too)
    /// with their reason; `queue resend` sends failed ones again.
    Queue {
        /// Make every waiting message due now, as after fixing the smarthost.
        #[arg(long)]
        flush: bool,
        #[command(subcommand)]
        action: Option<QueueAction>,
    },
}

#[derive(Subcommand)]
pub enum ProviderAction {
    /// Every registered company: slug, name, response time, plan, routes.
    List,
    /// One company: its record, how mail to each of its routes is doing, its threads and its
    /// latest changes.
    Show { slug: String },
    /// Register a company; a running service routes to it within seconds, and the feedback
    /// that waited for it is forwarded now.
    Add {
        /// Lowercase letters, digits and `-`: also its address SLUG@DOMAIN.
        slug: String,
        /// The company's public name.
        #[arg(long)]
        name: String,
        /// Where its feedback goes (repeat for more; the first is the default).
        #[arg(long = "route", required = true)]
        routes: Vec<String>,
        /// Another name writers use for it (repeatable).
        #[arg(long = "alias")]
        aliases: Vec<String>,
        /// An address or bare domain whose mail counts as the company's own (repeatable).
        #[arg(long = "representative")]
        representatives: Vec<String>,
        /// Working days it has to answer before it is reminded.
        #[arg(long, default_value_t = 3)]
        response_days: u32,
        /// `full` (the whole feedback) or `notice` (a short notice with the public link).
        #[arg(long, default_value = "full", value_parser = parse_plan)]
        plan: Plan,
    },
    /// Change a registered company; what is not named stays. Topic rules change by
    /// `providers export` and `providers import`.
    Edit {
        slug: String,
        #[command(flatten)]
        changes: Box<CompanyEdit>,
    },
    /// Remove a company: its threads stay public, and feedback naming it waits again as for a
    /// company not registered. Its record is printed, to add it back.
    Remove { slug: String },
    /// Print every company as `[[providers]]` TOML, topic rules too, for `providers import`.
    Export,
    /// Register or replace every `[[providers]]` company of a TOML file (what `providers
    /// export` prints), all or none.
    Import { file: PathBuf },
    /// Claims companies sent to yritys@DOMAIN by DKIM-signed mail, waiting for a decision:
    /// who wrote, how their mail authenticated, the record proposed, the feedback waiting.
    Pending,
    /// Approve a claim: the company is registered (or takes the writer's domain as a
    /// representative), the feedback that waited is forwarded, and the writer is told.
    Approve {
        id: i64,
        /// `full` or `notice`; the company's plan, if not the one proposed.
        #[arg(long, value_parser = parse_plan)]
        plan: Option<Plan>,
    },
    /// Refuse a claim; the writer is told the reason.
    Refuse {
        id: i64,
        /// Why, in words the writer reads.
        #[arg(long)]
        reason: String,
    },
}

/// What `providers edit` changes.
#[derive(clap::Args, Debug, Default)]
pub struct CompanyEdit {
    #[arg(long)]
    pub name: Option<String>,
    /// The routes, replacing all (repeat for more; the first is the default).
    #[arg(long = "route")]
    pub routes: Vec<String>,
    #[arg(long = "add-route")]
    pub add_routes: Vec<String>,
    #[arg(long = "remove-route")]
    pub remove_routes: Vec<String>,
    /// The other names, replacing all.
    #[arg(long = "alias")]
    pub aliases: Vec<String>,
    #[arg(long = "add-alias")]
    pub add_aliases: Vec<String>,
    #[arg(long = "remove-alias")]
    pub remove_aliases: Vec<String>,
    /// The representatives (addresses or bare domains), replacing all.
    #[arg(long = "representative")]
    pub representatives: Vec<String>,
    #[arg(long = "add-representative")]
    pub add_representatives: Vec<String>,
    #[arg(long = "remove-representative")]
    pub remove_representatives: Vec<String>,
    #[arg(long)]
    pub response_days: Option<u32>,
    #[arg(long, value_parser = parse_plan)]
    pub plan: Option<Plan>,
}

fn parse_plan(text: &str) -> Result<Plan, String> {
    match text {
        "full" => Ok(Plan::Full),
        "notice" => Ok(Plan::Notice),
        _ => Err("a plan is `full` or `notice`".into()),
    }
}

#[derive(Subcommand)]
pub enum HeldAction {
    /// Print a held message: where it came from, why it is held, and its text.
    Show { id: i64 },
    /// Process it as it would have been without the hold (a running service takes it within
    /// seconds).
    Release { id: i64 },
    /// Make it the company's answer in a thread. Only mail from the company's representatives
    /// is taken, unless `--unverified` says it is to stand as an unverified answer.
    Assign {
        id: i64,
        #[arg(long)]
        thread: i64,
        #[arg(long)]
        unverified: bool,
    },
    /// Discard it: its raw mail is emptied and the audit trail keeps why.
    Drop {
        id: i64,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
pub enum QueueAction {
    /// Send a failed message again, once its cause is fixed (a full mailbox emptied, a route
    /// corrected): one by its id, or with `--to` every failed one to that address.
    Resend {
        id: Option<i64>,
        /// Every failed message to this address.
        #[arg(long, conflicts_with = "id")]
        to: Option<String>,
    },
}

/// What `moderate restore` brings back.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum RestoreWhat {
    Post,
    Thread,
}

#[derive(Subcommand)]
pub enum Moderation {
    /// Hide one post.
    Post {
        id: i64,
        /// The public reason, shown in the tombstone.
        #[arg(long)]
        reason: String,
    },
    /// Hide a whole thread.
    Thread {
        id: i64,
        /// The public reason, shown in the tombstone.
        #[arg(long)]
        reason: String,
    },
    /// Undo hiding a post or a thread: its text is derived again from the raw mail, and the
    /// audit trail keeps why.
    Restore {
        /// `post` or `thread`.
        what: RestoreWhat,
        id: i64,
        #[arg(long)]
        reason: String,
    },
    /// Print every removal so far: when, by whom, what and why.
    Audit,
}
