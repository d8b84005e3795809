//! Subcommands on the service as a whole: run it, check its config, make its DKIM key, and
//! work on its store (export, backup, reprocess).

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use crate::app;
use crate::config::Config;

/// `nonono serve`: runs until SIGTERM or ctrl-c.
pub(super) fn serve(config: Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async {
        let signal = app::shutdown_signal().context("installing signal handlers")?;
        app::serve(config, signal).await?;
        anyhow::Ok(())
    })?;
    // Whatever still runs on the blocking pool must not keep the process alive.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    Ok(())
}

/// `nonono check-config`: what `serve` would refuse, without starting.
pub(super) fn check_config(config: &Config, file: &Path) -> anyhow::Result<()> {
    crate::relay::Signer::from_config(config)?;
    crate::inbound::tls_acceptor(config)?;
    if config.outbound.transport == crate::config::Transport::Smtp {
        crate::relay::tls::Security::from_config(config)?;
    }
    println!(
        "{}: ok ({} providers, domain {})",
        file.display(),
        config.providers.len(),
        config.domain
    );
    Ok(())
}

/// `nonono dkim-keygen`: a new key, and the DNS record to publish for it; with
/// `print_record`, the record of the key there is.
pub(super) fn dkim_keygen(config: &Config, print_record: bool) -> anyhow::Result<()> {
    let configured = config.dkim_key_path();
    let path = configured
        .clone()
        .unwrap_or_else(|| config.data_dir.join("dkim.key"));
    let record = if print_record {
        let record = crate::relay::dkim::existing_record(&path)?;
        println!(
            "The key in {} is published as this TXT record:\n",
            path.display()
        );
        record
    } else {
        if path.exists() {
            anyhow::bail!(
                "{}: a key exists already; `--print-record` prints its record, or move it away first",
                path.display()
            );
        }
        let record = crate::relay::dkim::write_new_key(&path)?;
        println!("Wrote {}.", path.display());
        println!("Publish this TXT record, then restart the service:\n");
        record
    };
    let name = format!(
        "{}._domainkey.{}",
        config.outbound.dkim_selector, config.domain
    );
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
    Ok(())
}

/// `nonono export`: the public archive as JSON Lines on standard output.
pub(super) fn export(config: &Config) -> anyhow::Result<()> {
    let store = app::open_store_readonly(config)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    store.export(|row| {
        serde_json::to_writer(&mut out, &row)?;
        out.write_all(b"\n")
    })?;
    out.flush()?;
    Ok(())
}

/// `nonono backup FILE`: a consistent copy while the service runs.
pub(super) fn backup(config: &Config, file: &Path) -> anyhow::Result<()> {
    if file.exists() {
        anyhow::bail!("{}: exists already; give a new file name", file.display());
    }
    // Messages accepted a moment ago are copied too.
    app::move_intake(config)?;
    let store = app::open_store_readonly(config)?;
    store
        .backup(file)
        .with_context(|| format!("{}: backup", file.display()))?;
    println!("{}: consistent copy of the store written", file.display());
    Ok(())
}

/// `nonono reprocess`: every published text derived again, failed messages retried.
pub(super) fn reprocess(config: &Config) -> anyhow::Result<()> {
    app::move_intake(config)?;
    let mut store = app::open_store(config)?;
    let key = app::token_key(config)?;
    let authenticator = app::authenticator(config)?;
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let report = crate::pipeline::reprocess::run(
        &mut store,
        config,
        &key,
        authenticator.as_ref(),
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
    Ok(())
}
