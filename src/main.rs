//! The `nonono` command: parses the command line, loads the config, runs a subcommand and turns
//! errors into a message and an exit code.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use nonono::config::Config;
// Text from strangers reaches the operator's terminal as one line without control characters.
use nonono::mail::write::one_line;

/// nonono: public feedback by email.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// The configuration file.
    #[arg(long, global = true, default_value = "config/default.toml")]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the SMTP receiver, web archive, pipeline and outbound worker until SIGTERM or ctrl-c.
    Serve,
    /// Check the configuration and name every key that is wrong.
    CheckConfig,
    /// List the providers (companies) feedback can be routed to; `providers add` registers one.
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
    DkimKeygen,
    /// The holding pen: what the pipeline held for a person to look at (reason, sender,
    /// subject, time); `held show|release|assign|drop ID` works through it.
    Held {
        #[command(subcommand)]
        action: Option<HeldAction>,
    },
    /// Show outbound mail not yet delivered, and failed deliveries with their last error.
    Queue {
        /// Make every waiting message due now, as after fixing the smarthost.
        #[arg(long)]
        flush: bool,
    },
}

#[derive(Subcommand)]
enum ProviderAction {
    /// Register a company in the config file and forward the feedback that waits for it now.
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
        #[arg(long, default_value_t = 3)]
        response_days: u32,
    },
}

#[derive(Subcommand)]
enum HeldAction {
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
enum Moderation {
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
    /// Print every removal so far: when, by whom, what and why.
    Audit,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
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

/// The error and its causes, each cause only when the message before did not already say it.
fn describe(e: &anyhow::Error) -> String {
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

fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(&cli.config)?;
    match cli.command {
        Command::Serve => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the runtime")?;
            runtime.block_on(async {
                let signal =
                    nonono::app::shutdown_signal().context("installing signal handlers")?;
                nonono::app::serve(config, signal).await?;
                anyhow::Ok(())
            })?;
            // Whatever still runs on the blocking pool must not keep the process alive.
            runtime.shutdown_timeout(std::time::Duration::from_secs(5));
        }
        Command::CheckConfig => {
            nonono::relay::Signer::from_config(&config)?;
            nonono::inbound::tls_acceptor(&config)?;
            println!(
                "{}: ok ({} providers, domain {})",
                cli.config.display(),
                config.providers.len(),
                config.domain
            );
        }
        Command::DkimKeygen => {
            let configured = config.dkim_key_path();
            let path = configured
                .clone()
                .unwrap_or_else(|| config.data_dir.join("dkim.key"));
            if path.exists() {
                anyhow::bail!(
                    "{}: a key exists already; move it away first, or keep using it",
                    path.display()
                );
            }
            let record = nonono::relay::dkim::write_new_key(&path)?;
            let name = format!(
                "{}._domainkey.{}",
                config.outbound.dkim_selector, config.domain
            );
            println!("Wrote {}.", path.display());
            println!("Publish this TXT record, then restart the service:\n");
            // A zone file string holds at most 255 characters; longer records come in pieces.
            let pieces: Vec<String> = record
                .as_bytes()
                .chunks(255)
                .map(|c| format!("\"{}\"", String::from_utf8_lossy(c)))
                .collect();
            println!("{name}. IN TXT {}", pieces.join(" "));
            if configured.is_none() {
                println!("\nand add to the config:\n\n[outbound]\ndkim_key = \"dkim.key\"");
            }
        }
        Command::Providers {
            action:
                Some(ProviderAction::Add {
                    slug,
                    name,
                    routes,
                    aliases,
                    representatives,
                    response_days,
                }),
        } => {
            let quote = |v: &str| toml::Value::String(v.to_owned()).to_string();
            let list = |vs: &[String]| vs.iter().map(|v| quote(v)).collect::<Vec<_>>().join(", ");
            let block = format!(
                "\n[[providers]]\nslug = {}\nname = {}\naliases = [{}]\nroutes = [{}]\nrepresentatives = [{}]\nresponse_days = {response_days}\n",
                quote(&slug),
                quote(&name),
                list(&aliases),
                list(&routes),
                list(&representatives),
            );
            let mut text = std::fs::read_to_string(&cli.config)
                .with_context(|| format!("reading {}", cli.config.display()))?;
            text.push_str(&block);
            // The new file must be a valid config before it replaces the old one.
            let updated = Config::parse(&text).map_err(|e| anyhow::anyhow!("{e}"))?;
            let problems = updated.validate();
            if !problems.is_empty() {
                anyhow::bail!("not registered: {}", problems.join("; "));
            }
            let tmp = cli.config.with_extension("toml.new");
            std::fs::write(&tmp, &text)?;
            std::fs::rename(&tmp, &cli.config)?;
            let mut store = nonono::app::open_store(&updated)?;
            let key = nonono::app::token_key(&updated)?;
            let forwarded = nonono::pipeline::unregistered::attach_registered(
                &mut store,
                &updated,
                &key,
                nonono::clock::now(),
            )?;
            println!(
                "Registered {name} ({slug}) in {}. {forwarded} waiting threads forwarded to it; \
                 a running service delivers them now. Restart it so new mail is routed too.",
                cli.config.display()
            );
        }
        Command::Providers { action: None } => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{:<20} {:<30} {:>5}  routes", "slug", "name", "days")?;
            for p in &config.providers {
                writeln!(
                    out,
                    "{:<20} {:<30} {:>5}  {}",
                    p.slug,
                    p.name,
                    p.response_days,
                    p.routes.join(", ")
                )?;
            }
        }
        Command::Export => {
            let store = open_readonly(&config)?;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            store.export(|row| {
                serde_json::to_writer(&mut out, &row)?;
                out.write_all(b"\n")
            })?;
            out.flush()?;
        }
        Command::Moderate { action } => {
            let mut store = nonono::app::open_store(&config)?;
            let now = nonono::clock::now();
            let (what, id, done) = match &action {
                Moderation::Post { id, reason } | Moderation::Thread { id, reason }
                    if reason.trim().is_empty() =>
                {
                    anyhow::bail!("moderate: --reason must say why ({id}); it is shown in public")
                }
                Moderation::Post { id, reason } => {
                    ("post", *id, store.remove_post(*id, reason, now)?)
                }
                Moderation::Thread { id, reason } => {
                    ("thread", *id, store.remove_thread(*id, reason, now)?)
                }
                Moderation::Audit => {
                    for e in store.audit_trail()? {
                        println!(
                            "{}  {:<8} {:<12} {:<16} {}",
                            nonono::domain::calendar::rfc3339(e.at),
                            e.actor,
                            e.action,
                            e.target,
                            e.reason
                        );
                    }
                    return Ok(());
                }
            };
            if !done {
                anyhow::bail!("moderate: no visible {what} {id}");
            }
            println!("{what} {id} hidden; its tombstone gives the reason");
        }
        Command::Backup { file } => {
            if file.exists() {
                anyhow::bail!("{}: exists already; give a new file name", file.display());
            }
            // Messages accepted a moment ago are copied too.
            nonono::app::move_intake(&config)?;
            let store = open_readonly(&config)?;
            store
                .backup(&file)
                .with_context(|| format!("{}: backup", file.display()))?;
            println!("{}: consistent copy of the store written", file.display());
        }
        Command::Reprocess => {
            nonono::app::move_intake(&config)?;
            let mut store = nonono::app::open_store(&config)?;
            let key = nonono::app::token_key(&config)?;
            let authenticator = nonono::app::authenticator(&config)?;
            let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
            let auth = authenticator.as_ref();
            let report = nonono::pipeline::reprocess::run(
                &mut store,
                &config,
                &key,
                auth,
                |done, total| {
                    if terminal && (done % 50 == 0 || done == total) {
                        let width = 30;
                        let filled = done * width / total.max(1);
                        eprint!(
                            "\rreprocessing [{}{}] {done}/{total}",
                            "#".repeat(filled),
                            ".".repeat(width - filled)
                        );
                    }
                },
            )?;
            if terminal {
                eprintln!();
            }
            println!(
                "{} posts read again, {} changed; {} failed messages retried",
                report.posts, report.changed, report.retried
            );
        }
        Command::Held { action } => held(&config, action)?,
        Command::Queue { flush } => {
            if flush {
                let store = nonono::app::open_store(&config)?;
                let n = store.outbound_retry_now(nonono::clock::now())?;
                println!("{n} waiting messages are due now");
                return Ok(());
            }
            let store = open_readonly(&config)?;
            let rows = store.queue_listing()?;
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "{:>6} {:<9} {:<8} {:>8}  {:<20}  last error",
                "id", "purpose", "state", "attempts", "next attempt"
            )?;
            for r in &rows {
                writeln!(
                    out,
                    "{:>6} {:<9} {:<8} {:>8}  {:<20}  {}",
                    r.id,
                    r.purpose,
                    r.state,
                    r.attempts,
                    nonono::domain::calendar::rfc3339(r.next_attempt_at),
                    r.last_error.as_deref().unwrap_or("")
                )?;
            }
            if rows.is_empty() {
                writeln!(out, "(nothing waiting)")?;
            }
        }
    }
    Ok(())
}

/// `nonono held …`: the holding pen.
fn held(config: &Config, action: Option<HeldAction>) -> anyhow::Result<()> {
    let now = nonono::clock::now();
    let mut out = std::io::stdout().lock();
    match action {
        None => {
            let store = open_readonly(config)?;
            let holds = store.open_holds()?;
            writeln!(
                out,
                "{:>6}  {:<20}  {:<30}  {:<40}  reason",
                "id", "held at", "sender", "subject"
            )?;
            for h in &holds {
                let subject = for_terminal(&nonono::mail::parse(&h.raw).subject);
                writeln!(
                    out,
                    "{:>6}  {:<20}  {:<30}  {:<40}  {}",
                    h.id,
                    nonono::domain::calendar::rfc3339(h.held_at),
                    clip(&for_terminal(&h.sender), 30),
                    clip(&subject, 40),
                    h.reason
                )?;
            }
            if holds.is_empty() {
                writeln!(out, "(nothing held)")?;
            }
        }
        Some(HeldAction::Show { id }) => {
            let store = open_readonly(config)?;
            let h = store
                .hold(id)?
                .with_context(|| format!("held {id}: no such hold; `nonono held` lists them"))?;
            let mail = nonono::mail::parse(&h.raw);
            writeln!(out, "held {}  (journal entry {})", h.id, h.journal_id)?;
            writeln!(
                out,
                "held at: {}",
                nonono::domain::calendar::rfc3339(h.held_at)
            )?;
            writeln!(out, "reason:  {}", h.reason)?;
            if let Some(thread) = h.thread_id {
                writeln!(out, "thread:  {thread}")?;
            }
            if let Some((at, how)) = &h.closed {
                writeln!(
                    out,
                    "closed:  {} ({how})",
                    nonono::domain::calendar::rfc3339(*at)
                )?;
            }
            writeln!(out, "envelope sender: {}", for_terminal(&h.sender))?;
            let from = mail.from.map(|f| f.address).unwrap_or_default();
            writeln!(out, "From:    {}", for_terminal(&from))?;
            writeln!(out, "Subject: {}\n", for_terminal(&mail.subject))?;
            // Text from strangers reaches the operator's terminal: no control characters.
            let text: String = mail
                .text
                .trim_end()
                .chars()
                .map(|c| {
                    if (c.is_control() && c != '\n' && c != '\t') || nonono::mail::is_invisible(c) {
                        '\u{FFFD}'
                    } else {
                        c
                    }
                })
                .collect();
            writeln!(out, "{text}")?;
        }
        Some(HeldAction::Release { id }) => {
            let journal = nonono::app::open_store(config)?
                .release_hold(id, now)
                .with_context(|| format!("held {id}: not released"))?;
            writeln!(
                out,
                "held {id} released: journal entry {journal} is processed again without the hold"
            )?;
        }
        Some(HeldAction::Assign {
            id,
            thread,
            unverified,
        }) => {
            if !unverified {
                company_speaks(config, id, thread)?;
            }
            let journal = nonono::app::open_store(config)?
                .assign_hold(id, thread, now)
                .with_context(|| format!("held {id}: not assigned"))?;
            writeln!(
                out,
                "held {id} assigned: journal entry {journal} becomes the company's answer in thread {thread}"
            )?;
        }
        Some(HeldAction::Drop { id, reason }) => {
            if reason.trim().is_empty() {
                anyhow::bail!("held drop: --reason must say why; the audit trail keeps it");
            }
            nonono::app::open_store(config)?
                .drop_hold(id, &reason, now)
                .with_context(|| format!("held {id}: not dropped"))?;
            writeln!(
                out,
                "held {id} dropped; its raw mail is emptied and the audit trail says why"
            )?;
        }
    }
    Ok(())
}

/// `s` cut to at most `width` characters, for a column.
fn clip(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_owned();
    }
    let mut cut: String = s.chars().take(width - 1).collect();
    cut.push('…');
    cut
}

fn open_readonly(config: &Config) -> anyhow::Result<nonono::store::Store> {
    let path = nonono::app::store_path(config);
    if !path.exists() {
        anyhow::bail!(
            "{}: no store yet; run `nonono serve` once first",
            path.display()
        );
    }
    nonono::store::Store::open_readonly(&path).with_context(|| path.display().to_string())
}

/// One line of a stranger's text for the operator's terminal: no controls, and no invisible
/// characters (direction overrides would reorder what the listing shows: found from outside).
fn for_terminal(text: &str) -> String {
    one_line(text).replace(nonono::mail::is_invisible, "\u{FFFD}")
}

/// Fails, saying what to do, unless held message `id` comes from a representative of the
/// company of `thread` (by its From and its envelope sender both): `held assign` must not make
/// a stranger's or a consumer's words the company's answer by a slip of the operator's hand.
fn company_speaks(config: &Config, id: i64, thread: i64) -> anyhow::Result<()> {
    let store = open_readonly(config)?;
    let hold = store
        .hold(id)?
        .with_context(|| format!("held {id}: no such hold; `nonono held` lists them"))?;
    let company = store
        .thread(thread)?
        .with_context(|| format!("thread {thread}: no such thread"))?
        .provider
        .and_then(|slug| config.provider(&slug).cloned())
        .with_context(|| format!("thread {thread}: its company is not registered"))?;
    let mail = nonono::mail::parse(&hold.raw);
    let from = mail.from.map(|m| m.address).unwrap_or_default();
    let envelope = nonono::mail::normalize_address(&hold.sender);
    let speaks = |a: &str| nonono::domain::route::is_representative(&company, a);
    if speaks(&from) && speaks(&envelope) {
        return Ok(());
    }
    anyhow::bail!(
        "held {id}: {from} (envelope {envelope}) is not one of {}'s addresses; check it, and add --unverified to publish it in thread {thread} as an unverified answer anyway",
        company.name
    )
}
