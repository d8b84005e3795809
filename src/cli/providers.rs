//! `nonono providers`: the companies feedback can be routed to, and registering one.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use super::args::ProviderAction;
use crate::app;
use crate::config::Config;

/// Lists the registered companies.
pub(super) fn list(config: &Config) -> anyhow::Result<()> {
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
    Ok(())
}

/// Registers a company in the config file, and forwards the feedback that waits for it.
pub(super) fn add(file: &Path, action: ProviderAction) -> anyhow::Result<()> {
    let ProviderAction::Add {
        slug,
        name,
        routes,
        aliases,
        representatives,
        response_days,
    } = action;
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
    let mut text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    text.push_str(&block);
    // The new file must be a valid config before it replaces the old one.
    let updated = Config::parse(&text).map_err(|e| anyhow::anyhow!("{}", e.join("\n")))?;
    let problems = updated.validate();
    if !problems.is_empty() {
        anyhow::bail!("not registered: {}", problems.join("; "));
    }
    let tmp = file.with_extension("toml.new");
    std::fs::write(&tmp, &text)?;
    std::fs::rename(&tmp, file)?;
    let mut store = app::open_store(&updated)?;
    let key = app::token_key(&updated)?;
    let forwarded = crate::pipeline::unregistered::attach_registered(
        &mut store,
        &updated,
        &key,
        crate::clock::now(),
    )?;
    let threads = match forwarded {
        1 => "1 waiting thread".to_owned(),
        n => format!("{n} waiting threads"),
    };
    println!(
        "Registered {name} ({slug}) in {}. {threads} forwarded to it; \
         a running service delivers them now. Restart it so new mail is routed too.",
        file.display()
    );
    Ok(())
}
