//! `nonono providers`: the company registry, changed while the service runs. Every command
//! first applies the config file's declarations, as the service does at start.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::args::{CompanyEdit, ProviderAction};
use super::terminal::{clip, for_terminal, text_for_terminal};
use crate::app;
use crate::config::{Config, Plan, ProviderConfig};
use crate::domain::calendar::rfc3339;
use crate::pipeline::desk;
use crate::pipeline::registry::{self, Expect};
use crate::store::Store;
use crate::store::companies::{ChangeKind, RouteHealth};

/// A file of companies, as `providers export` writes and `providers import` reads: nothing but
/// `[[providers]]` (a stray `[[rules]]` would be topic rules lost without a word).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Companies {
    #[serde(default)]
    providers: Vec<ProviderConfig>,
}

pub(super) fn providers(
    config: &Config,
    file: &Path,
    action: Option<ProviderAction>,
) -> anyhow::Result<()> {
    let action = action.unwrap_or(ProviderAction::List);
    // Looking changes nothing: the declarations are applied by the commands that write.
    match &action {
        ProviderAction::List => return list(&app::open_store_readonly(config)?, config),
        ProviderAction::Pending => return pending(&app::open_store_readonly(config)?),
        ProviderAction::Show { slug } => {
            return show(&app::open_store_readonly(config)?, config, slug);
        }
        _ => {}
    }
    let mut store = app::open_store(config)?;
    let applied = registry::apply_declarations(&mut store, config, crate::clock::now())?;
    if !applied.written.is_empty() {
        eprintln!(
            "applied from {}: {}",
            file.display(),
            applied.written.join(", ")
        );
    }
    for problem in &applied.refused {
        eprintln!(
            "not applied from {}: {}",
            file.display(),
            for_terminal(problem)
        );
    }
    let now = crate::clock::now();
    match action {
        ProviderAction::List | ProviderAction::Show { .. } | ProviderAction::Pending => Ok(()),
        ProviderAction::Approve { id, plan } => {
            let key = app::token_key(config)?;
            let (live, _) = registry::snapshot(&store, config)?;
            let approved = desk::approve(&mut store, &live, &key, id, plan, &actor(), now)?;
            let said = follow(&mut store, config)?;
            let company = &approved.company;
            if approved.joined {
                println!(
                    "Claim {id} approved: {} ({}) now has the writer's domain among its representatives. The writer is told.",
                    company.name, company.slug
                );
            } else {
                println!(
                    "Claim {id} approved: registered {} ({}). {said}; the writer is told, and a running service routes to it within seconds.",
                    company.name, company.slug
                );
            }
            Ok(())
        }
        ProviderAction::Refuse { id, reason } => {
            if reason.trim().is_empty() {
                anyhow::bail!("providers refuse: --reason must say why; the writer reads it");
            }
            // The writer's letter carries it as written: nothing a mail client would hide,
            // turn around, or read as the letter's end.
            if let Some(c) = reason
                .chars()
                .find(|c| (c.is_control() && *c != '\n') || crate::domain::names::is_invisible(*c))
            {
                anyhow::bail!(
                    "providers refuse: --reason has a control or invisible character (U+{:04X}); \
                     write it as plain text",
                    u32::from(c)
                );
            }
            if reason.lines().any(|l| l.trim_end() == "--") {
                anyhow::bail!(
                    "providers refuse: --reason has a line \"-- \", which mail programs read as \
                     the start of a signature and hide; write it otherwise"
                );
            }
            let key = app::token_key(config)?;
            let request = desk::refuse(&mut store, config, &key, id, &reason, &actor(), now)?;
            println!(
                "Claim {id} for {} refused; the writer is told why.",
                request.slug
            );
            Ok(())
        }
        ProviderAction::Add {
            slug,
            name,
            routes,
            aliases,
            representatives,
            response_days,
            plan,
        } => {
            let company = ProviderConfig {
                slug,
                name,
                aliases,
                routes,
                representatives,
                response_days,
                plan,
                rules: Vec::new(),
            };
            registry::save(
                &mut store,
                config,
                std::slice::from_ref(&company),
                Expect::New,
                &actor(),
                now,
            )?;
            let said = follow(&mut store, config)?;
            println!(
                "Registered {} ({}). {said}; a running service routes to it within seconds.",
                company.name, company.slug,
            );
            declared_too(config, file, &company.slug);
            Ok(())
        }
        ProviderAction::Edit { slug, changes } => {
            let mut company = registered(&store, &slug)?;
            edit(&mut company, *changes)?;
            let changed = registry::save(
                &mut store,
                config,
                &[company],
                Expect::Registered,
                &actor(),
                now,
            )?;
            if changed.iter().all(Option::is_none) {
                println!("{slug}: nothing changed");
                return Ok(());
            }
            let said = follow(&mut store, config)?;
            println!("Changed {slug}; a running service goes by it within seconds. {said}.");
            declared_too(config, file, &slug);
            Ok(())
        }
        ProviderAction::Remove { slug } => {
            let threads = store.company_threads(&slug)?;
            let record = registry::remove(&mut store, &slug, &actor(), now)?;
            let threads = match threads.threads {
                1 => "Its thread stays".to_owned(),
                n => format!("Its {n} threads stay"),
            };
            println!(
                "Removed {slug}. {threads} public; feedback naming it waits as for a company \
                 not registered."
            );
            if config.provider(&slug).is_some() {
                println!(
                    "It is still declared in {}: remove it there too, or it comes back when \
                     that declaration changes.",
                    file.display()
                );
            }
            println!(
                "Its record, for `nonono providers import`:\n\n{}",
                as_toml(&record)
            );
            Ok(())
        }
        ProviderAction::Export => {
            let (providers, unusable) = registry::companies(&store, &config.domain)?;
            for problem in unusable {
                eprintln!("left out: {}", for_terminal(&problem));
            }
            print!("{}", toml::to_string(&Companies { providers })?);
            Ok(())
        }
        ProviderAction::Import { file: from } => {
            let text = std::fs::read_to_string(&from)
                .with_context(|| format!("reading {}", from.display()))?;
            let Companies { providers } = toml::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{}: {}", from.display(), e.message()))?;
            if providers.is_empty() {
                anyhow::bail!("{}: no [[providers]] to import", from.display());
            }
            let changes =
                registry::save(&mut store, config, &providers, Expect::Any, &actor(), now)?;
            let count = |kind| changes.iter().filter(|c| **c == Some(kind)).count();
            let said = follow(&mut store, config)?;
            println!(
                "Companies added: {}, changed: {}, as they were: {}. {said}.",
                count(ChangeKind::Add),
                count(ChangeKind::Edit),
                changes.iter().filter(|c| c.is_none()).count(),
            );
            Ok(())
        }
    }
}

/// A stored record as `providers import` reads it back, fit for a terminal.
fn as_toml(record: &str) -> String {
    let text = match ProviderConfig::from_record(record) {
        Ok(p) => toml::to_string(&Companies { providers: vec![p] }).unwrap_or_default(),
        Err(_) => format!("[[providers]]\n{record}"),
    };
    text_for_terminal(&text)
}

/// Who changes the registry, for its history: the operator's login name.
fn actor() -> String {
    let user = ["SUDO_USER", "USER", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "unknown".into());
    format!("{}:{user}", registry::FROM_CLI)
}

fn registered(store: &Store, slug: &str) -> anyhow::Result<ProviderConfig> {
    let record = store
        .company(slug)?
        .ok_or_else(|| registry::RegistryError::Unknown(slug.to_owned()))?;
    ProviderConfig::from_record(&record.record)
        .map_err(|e| anyhow::anyhow!("{slug}: its record does not read: {}", e.message()))
}

/// Applies `changes` to `company`; removing what it does not have is an error, not nothing.
fn edit(company: &mut ProviderConfig, changes: CompanyEdit) -> anyhow::Result<()> {
    fn list(
        what: &str,
        list: &mut Vec<String>,
        replace: Vec<String>,
        add: Vec<String>,
        remove: &[String],
    ) -> anyhow::Result<()> {
        if !replace.is_empty() {
            *list = replace;
        }
        for item in add {
            if !list.contains(&item) {
                list.push(item);
            }
        }
        // Addresses and domains compare without case, as the registry keeps them.
        let named = |item: &String| remove.iter().any(|r| r.eq_ignore_ascii_case(item));
        if let Some(missing) = remove
            .iter()
            .find(|r| !list.iter().any(|item| item.eq_ignore_ascii_case(r)))
        {
            anyhow::bail!(
                "{} is not one of its {what}: {}",
                for_terminal(missing),
                for_terminal(&list.join(", "))
            );
        }
        list.retain(|item| !named(item));
        Ok(())
    }
    if let Some(name) = changes.name {
        company.name = name;
    }
    list(
        "routes",
        &mut company.routes,
        changes.routes,
        changes.add_routes,
        &changes.remove_routes,
    )?;
    list(
        "aliases",
        &mut company.aliases,
        changes.aliases,
        changes.add_aliases,
        &changes.remove_aliases,
    )?;
    list(
        "representatives",
        &mut company.representatives,
        changes.representatives,
        changes.add_representatives,
        &changes.remove_representatives,
    )?;
    if let Some(days) = changes.response_days {
        company.response_days = days;
    }
    if let Some(plan) = changes.plan {
        company.plan = plan;
    }
    Ok(())
}

/// Makes the threads follow the change at once (a running service would within seconds):
/// feedback that waited for a company registered now is forwarded, threads move to changed
/// routes. Says what it did.
fn follow(store: &mut Store, file: &Config) -> anyhow::Result<String> {
    let (config, _) = registry::snapshot(store, file)?;
    let key = app::token_key(&config)?;
    let (forwarded, moved) = registry::follow(store, &config, &key, crate::clock::now())?;
    let mut said = match forwarded {
        1 => "1 waiting thread forwarded".to_owned(),
        n => format!("{n} waiting threads forwarded"),
    };
    match moved {
        0 => {}
        1 => said.push_str("; 1 thread moved to the new route"),
        n => said.push_str(&format!("; {n} threads moved to the new route")),
    }
    Ok(said)
}

/// The claims waiting for the operator, each with what to check.
fn pending(store: &Store) -> anyhow::Result<()> {
    let claims = store.pending_claims()?;
    if claims.is_empty() {
        println!("No claims wait for a decision.");
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    for c in claims {
        writeln!(
            out,
            "claim {}  {}  {}\n  from: {}\n  authentication: {}\n  proposed record:\n{}",
            c.id,
            rfc3339(c.created_at),
            for_terminal(&c.slug),
            for_terminal(&c.sender),
            for_terminal(&c.evidence),
            text_for_terminal(&c.record)
                .lines()
                .map(|l| format!("    {l}\n"))
                .collect::<String>()
        )?;
    }
    writeln!(
        out,
        "Decide: nonono providers approve ID [--plan full|notice], or refuse ID --reason \"…\""
    )?;
    Ok(())
}

fn declared_too(config: &Config, file: &Path, slug: &str) {
    if config.provider(slug).is_some() {
        println!(
            "{slug} is declared in {} too: the registry's record holds until that declaration \
             is changed there.",
            file.display()
        );
    }
}

fn list(store: &Store, config: &Config) -> anyhow::Result<()> {
    let (providers, unusable) = registry::companies(store, &config.domain)?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<20} {:<30} {:>5}  {:<6}  routes",
        "slug", "name", "days", "plan"
    )?;
    for p in &providers {
        writeln!(
            out,
            "{:<20} {:<30} {:>5}  {:<6}  {}",
            for_terminal(&p.slug),
            clip(&for_terminal(&p.name), 30),
            p.response_days,
            plan(p.plan),
            for_terminal(&p.routes.join(", "))
        )?;
    }
    if providers.is_empty() {
        writeln!(out, "(no companies; `nonono providers add` registers one)")?;
    }
    for problem in unusable {
        writeln!(out, "left out: {}", for_terminal(&problem))?;
    }
    Ok(())
}

fn plan(plan: Plan) -> &'static str {
    match plan {
        Plan::Full => "full",
        Plan::Notice => "notice",
    }
}

fn show(store: &Store, config: &Config, slug: &str) -> anyhow::Result<()> {
    let company = registered(store, slug)?;
    let record = store
        .company(slug)?
        .ok_or_else(|| registry::RegistryError::Unknown(slug.to_owned()))?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} ({slug}), written by {} at {}\n",
        for_terminal(&company.name),
        for_terminal(&record.source),
        rfc3339(record.changed_at)
    )?;
    let (_, unusable) = registry::companies(store, &config.domain)?;
    for problem in unusable.iter().filter(|p| {
        p.strip_prefix(slug)
            .is_some_and(|rest| rest.starts_with(['.', ':']))
    }) {
        writeln!(out, "LEFT OUT of routing: {}", for_terminal(problem))?;
    }
    writeln!(out, "{}", as_toml(&record.record))?;
    writeln!(out, "Routes:")?;
    let mut routes: Vec<&str> = company.routes.iter().map(String::as_str).collect();
    for rule in &company.rules {
        if !routes.contains(&rule.route.as_str()) {
            routes.push(&rule.route);
        }
    }
    for route in routes {
        let health = store.route_health(&crate::mail::normalize_address(route))?;
        writeln!(out, "  {}: {}", for_terminal(route), route_state(&health))?;
    }
    let threads = store.company_threads(slug)?;
    writeln!(
        out,
        "\nThreads: {}, {} without its answer, {} with the clock paused (mail to it bounced)",
        threads.threads, threads.unanswered, threads.paused
    )?;
    let asked = store.pending_changes(slug)?;
    if !asked.is_empty() {
        writeln!(out, "\nAsked by mail, waiting for the writer's yes:")?;
        for r in asked {
            let commands: Vec<String> =
                serde_json::from_str::<Vec<crate::domain::desk::Command>>(&r.commands)
                    .map(|c| {
                        c.iter()
                            .map(|c| c.line(crate::config::Language::En))
                            .collect()
                    })
                    .unwrap_or_default();
            writeln!(
                out,
                "  change {}  {}  by {}: {}",
                r.id,
                rfc3339(r.created_at),
                for_terminal(&r.sender),
                for_terminal(&commands.join("; "))
            )?;
        }
    }
    let changes = store.company_changes(slug, 5)?;
    if !changes.is_empty() {
        writeln!(out, "\nLatest changes:")?;
        for c in changes {
            writeln!(
                out,
                "  {}  {:<6}  by {}",
                rfc3339(c.at),
                c.action,
                for_terminal(&c.actor)
            )?;
        }
    }
    Ok(())
}

/// A route's health in one line: whether mail gets through, when it last did, what failed,
/// what waits.
fn route_state(h: &RouteHealth) -> String {
    let failing = h
        .last_failed
        .as_ref()
        .is_some_and(|(failed, _)| h.last_delivered.is_none_or(|d| d < *failed));
    let verdict = if failing {
        "FAILING"
    } else if h.last_delivered.is_some() {
        "ok"
    } else if h.waiting > 0 {
        "waiting"
    } else {
        "nothing sent yet"
    };
    let mut line = verdict.to_owned();
    if let Some(at) = h.last_delivered {
        line.push_str(&format!("; last delivered {}", rfc3339(at)));
    }
    if let Some((at, said)) = &h.last_reported {
        line.push_str(&format!(
            "; their server reported {}: {}",
            rfc3339(*at),
            clip(&for_terminal(said), 120)
        ));
    }
    if let Some((at, why)) = &h.last_failed {
        line.push_str(&format!(
            "; last failed {}: {}",
            rfc3339(*at),
            clip(&for_terminal(why), 120)
        ));
    }
    if h.waiting > 0 {
        line.push_str(&format!(
            "; {} waiting since {}",
            h.waiting,
            rfc3339(h.oldest_waiting.unwrap_or_default())
        ));
    }
    line
}
