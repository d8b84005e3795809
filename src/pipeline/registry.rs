//! The company registry. Companies live in the store, one record each; the operator changes
//! them with `nonono providers` while the service runs, and the running service routes, shows
//! and forwards by the new records within seconds ([`keep_current`]).
//!
//! `[[providers]]` in the config file are declarations, applied at start: a declaration new
//! or changed since it was last applied is written to the store (it wins over the command
//! line's edits of that company); one unchanged since leaves the store's record alone (the
//! command line's edits stay). A company no longer declared stays registered until
//! `providers remove`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};

use crate::config::{Companies, Config, Live, ProviderConfig, companies_problems};
use crate::domain::token::TokenKey;
use crate::store::companies::ChangeKind;
use crate::store::{Shared, Store, StoreError};

/// How often a running service looks for registry changes.
pub const LOOK_EVERY: Duration = Duration::from_secs(2);

/// Who wrote a record: a declaration of the config file, or the command line.
pub const FROM_CONFIG: &str = "config";
pub const FROM_CLI: &str = "cli";

/// Why a registry change was not made.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{}", .0.join("; "))]
    Invalid(Vec<String>),
    #[error("{0:?} is registered already; `nonono providers edit {0}` changes it")]
    Exists(String),
    #[error("no company {0:?}; `nonono providers` lists them")]
    Unknown(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What applying the config's declarations did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Declared for the first time, or declared differently since last applied: written.
    pub written: Vec<String>,
    /// Declared as before, but changed since by the command line: the store's record stays.
    pub edited_since: Vec<String>,
    /// Declared before, not any more: still registered.
    pub undeclared: Vec<String>,
}

/// Applies the config file's `[[providers]]` declarations to the registry (see the module's
/// documentation for which wins).
pub fn apply_declarations(
    store: &mut Store,
    config: &Config,
    now: i64,
) -> Result<Applied, RegistryError> {
    let tx = store.begin()?;
    let mut applied = Applied::default();
    for p in config.providers.iter() {
        let record = p.to_record();
        if tx.declaration(&p.slug)?.as_deref() == Some(record.as_str()) {
            if tx.company(&p.slug)?.is_some_and(|c| c.record != record) {
                applied.edited_since.push(p.slug.clone());
            }
            continue;
        }
        tx.put_company(&p.slug, &record, FROM_CONFIG, FROM_CONFIG, now)?;
        tx.set_declaration(&p.slug, &record)?;
        applied.written.push(p.slug.clone());
    }
    for slug in tx.declared()? {
        if config.provider(&slug).is_none() && tx.company(&slug)?.is_some() {
            applied.undeclared.push(slug);
        }
    }
    tx.commit()?;
    Ok(applied)
}

/// Every registered company, by slug; a record that no longer reads (written by a newer
/// version, or by hand) is left out and named in the second list.
pub fn companies(store: &Store) -> Result<(Vec<ProviderConfig>, Vec<String>), StoreError> {
    let mut read = Vec::new();
    let mut unreadable = Vec::new();
    for c in store.companies()? {
        match ProviderConfig::from_record(&c.record) {
            Ok(p) if p.slug == c.slug => read.push(p),
            Ok(_) => unreadable.push(format!("{}: its record names another slug", c.slug)),
            Err(e) => unreadable.push(format!("{}: {}", c.slug, e.message())),
        }
    }
    Ok((read, unreadable))
}

/// The file's configuration with the registry's companies, and the registry version it shows.
pub fn snapshot(store: &Store, file: &Config) -> Result<(Config, i64), StoreError> {
    // The version first: a change made while the companies are read is seen next time.
    let version = store.registry_version()?;
    let (providers, unreadable) = companies(store)?;
    for problem in unreadable {
        tracing::error!("registry: left out, the record does not read: {problem}");
    }
    Ok((
        Config {
            providers: Companies::indexed(providers),
            ..file.clone()
        },
        version,
    ))
}

/// What a change asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Companies not registered yet.
    New,
    /// Companies registered already.
    Registered,
    /// Either: registered or replaced.
    Any,
}

/// Writes companies' records as `actor`, all or none, after checking each alone and beside
/// every other company (no name two companies share). Returns what became of each: `None`
/// where the record was the one there already.
pub fn save(
    store: &mut Store,
    companies_in: &[ProviderConfig],
    expect: Expect,
    actor: &str,
    now: i64,
) -> Result<Vec<Option<ChangeKind>>, RegistryError> {
    let (mut all, _) = companies(store)?;
    for company in companies_in {
        let exists = all.iter().any(|p| p.slug == company.slug);
        match expect {
            Expect::New if exists => return Err(RegistryError::Exists(company.slug.clone())),
            Expect::Registered if !exists => {
                return Err(RegistryError::Unknown(company.slug.clone()));
            }
            _ => {}
        }
    }
    all.retain(|p| !companies_in.iter().any(|c| c.slug == p.slug));
    let first_new = all.len();
    all.extend(companies_in.iter().cloned());
    let problems: Vec<String> = companies_problems(&all)
        .into_iter()
        .filter_map(|problem| named(&problem, &all, first_new))
        .collect();
    if !problems.is_empty() {
        return Err(RegistryError::Invalid(problems));
    }
    let tx = store.begin()?;
    let changes = companies_in
        .iter()
        .map(|c| tx.put_company(&c.slug, &c.to_record(), FROM_CLI, actor, now))
        .collect::<Result<Vec<_>, _>>()?;
    tx.commit()?;
    Ok(changes)
}

/// A problem `companies_problems` named by its index (`providers[3].routes: …`) with the
/// company's slug instead, when it is about one at `first` or after; `None` for the others.
fn named(problem: &str, companies: &[ProviderConfig], first: usize) -> Option<String> {
    let rest = problem.strip_prefix("providers[")?;
    let (index, rest) = rest.split_once(']')?;
    let index: usize = index.parse().ok()?;
    let company = companies.get(index)?;
    (index >= first).then(|| format!("{}{rest}", company.slug))
}

/// Removes a company; returns the record it had. Its threads stay public; new feedback naming
/// it waits as for any company not registered.
pub fn remove(
    store: &mut Store,
    slug: &str,
    actor: &str,
    now: i64,
) -> Result<String, RegistryError> {
    let tx = store.begin()?;
    let record = tx
        .remove_company(slug, actor, now)?
        .ok_or_else(|| RegistryError::Unknown(slug.to_owned()))?;
    tx.commit()?;
    Ok(record)
}

/// Keeps a running service's configuration current: every [`LOOK_EVERY`] it compares the
/// registry's version with the one `live` was made from, and on a change makes it anew and
/// forwards at once the feedback that waited for a company registered now.
pub async fn keep_current(
    store: Store,
    live: Arc<Live>,
    file: Arc<Config>,
    key: TokenKey,
    relay_wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    let store = Shared::new(store);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(LOOK_EVERY) => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
        let (live_now, file, key) = (live.clone(), file.clone(), key.clone());
        let looked = store
            .run(move |s| {
                if s.registry_version()? == live_now.version() {
                    return Ok(None);
                }
                let (config, version) = snapshot(s, &file)?;
                let companies = config.providers.len();
                let forwarded =
                    super::unregistered::attach_registered(s, &config, &key, crate::clock::now())?;
                live_now.replace(config, version);
                Ok::<_, super::context::PipelineError>(Some((companies, forwarded)))
            })
            .await;
        match looked {
            Ok(None) => {}
            Ok(Some((companies, forwarded))) => {
                tracing::info!(
                    "registry: changed; {companies} companies now, {forwarded} waiting threads forwarded"
                );
                // A company's new route may be where waiting mail now goes.
                relay_wake.notify_one();
            }
            Err(e) => tracing::error!("registry: {e}"),
        }
    }
}
