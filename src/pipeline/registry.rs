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

use super::announce::{self, CompanySide, Opening};
use super::context::{Context, PipelineError};
use crate::config::{
    Companies, Config, Live, ProviderConfig, RecordProblem, companies_problems, company_problems,
};
use crate::domain::route;
use crate::domain::token::TokenKey;
use crate::store::companies::{ChangeKind, CompanyRecord};
use crate::store::{Shared, Store, StoreError, Tx};

/// How often a running service looks for registry changes.
pub const LOOK_EVERY: Duration = Duration::from_secs(2);

/// Who wrote a record: a declaration of the config file, or the command line.
pub const FROM_CONFIG: &str = "config";
pub const FROM_CLI: &str = "cli";

/// Why a registry change was not made.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<RecordProblem>),
    #[error("{0:?} is registered already; `nonono providers edit {0}` changes it")]
    Exists(String),
    #[error("no company {0:?}; `nonono providers` lists them")]
    Unknown(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Forwarding what waited, or what bounced at a route that changed.
    #[error(transparent)]
    Forward(#[from] PipelineError),
}

/// What applying the config's declarations did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Declared for the first time, or declared differently since last applied: written.
    pub written: Vec<String>,
    /// Declared as before, but changed since by the command line: the store's record stays.
    pub edited_since: Vec<String>,
    /// Declared as before, but removed since by the command line: it stays removed.
    pub removed_since: Vec<String>,
    /// Declared before, not any more: still registered.
    pub undeclared: Vec<String>,
    /// Declarations not applied, each with why: what they would clash with in the registry.
    /// They are tried again the next time.
    pub refused: Vec<String>,
}

/// Applies the config file's `[[providers]]` declarations to the registry (see the module's
/// documentation for which wins), each checked beside the companies registered already.
pub fn apply_declarations(
    store: &mut Store,
    config: &Config,
    now: i64,
) -> Result<Applied, RegistryError> {
    let tx = store.begin()?;
    let mut applied = Applied::default();
    let mut changed = Vec::new();
    for p in config.providers.iter().map(normalized) {
        let record = p.to_record();
        if tx.declaration(&p.slug)?.as_deref() != Some(record.as_str()) {
            changed.push(p);
            continue;
        }
        match tx.company(&p.slug)? {
            None => applied.removed_since.push(p.slug.clone()),
            Some(c) if c.record != record => applied.edited_since.push(p.slug.clone()),
            Some(_) => {}
        }
    }
    // Every company is read and checked only when some declaration is to be written.
    let refused = if changed.is_empty() {
        Vec::new()
    } else {
        problems_beside(parse(tx.companies()?).0, &changed, &config.domain)
    };
    for p in &changed {
        if refused.iter().any(|(slug, _)| *slug == p.slug) {
            continue;
        }
        let record = p.to_record();
        tx.put_company(&p.slug, &record, FROM_CONFIG, FROM_CONFIG, now)?;
        tx.set_declaration(&p.slug, &record)?;
        applied.written.push(p.slug.clone());
    }
    applied.refused = refused
        .iter()
        .map(|(_, problem)| problem.to_string())
        .collect();
    for slug in tx.declared()? {
        if config.provider(&slug).is_none() && tx.company(&slug)?.is_some() {
            applied.undeclared.push(slug);
        }
    }
    tx.commit()?;
    Ok(applied)
}

/// A company with its addresses as they compare: routes as mail to them is recorded, and
/// representatives, lower-cased.
fn normalized(p: &ProviderConfig) -> ProviderConfig {
    let mut p = p.clone();
    for route in p
        .routes
        .iter_mut()
        .chain(p.rules.iter_mut().map(|r| &mut r.route))
    {
        *route = crate::mail::normalize_address(route);
    }
    for r in &mut p.representatives {
        *r = r.trim().to_lowercase();
    }
    p
}

/// The records that read as companies, by slug; each that does not (written by a newer
/// version, or by hand) is named in the second list.
fn parse(records: Vec<CompanyRecord>) -> (Vec<ProviderConfig>, Vec<String>) {
    let mut read = Vec::new();
    let mut unreadable = Vec::new();
    for c in records {
        match ProviderConfig::from_record(&c.record) {
            Ok(p) if p.slug == c.slug => read.push(p),
            Ok(_) => unreadable.push(format!("{}: its record names another slug", c.slug)),
            Err(e) => unreadable.push(format!("{}: {}", c.slug, e.message())),
        }
    }
    (read, unreadable)
}

/// Every registered company, by slug; a record that does not read, or names what no company
/// may have (written by a newer version, or by hand into the store), is left out and named in
/// the second list. Of two that share a name, the one changed last is left out.
pub fn companies(
    store: &Store,
    our_domain: &str,
) -> Result<(Vec<ProviderConfig>, Vec<String>), StoreError> {
    let mut records = store.companies()?;
    records.sort_by_key(|c| c.changed_at);
    let (read, mut unusable) = parse(records);
    let mut alone_fine = Vec::new();
    for p in read {
        let problems = company_problems(&p, &p.slug, our_domain);
        if problems.is_empty() {
            alone_fine.push(p);
        } else {
            unusable.extend(problems.iter().map(ToString::to_string));
        }
    }
    let clashing = problems_beside(Vec::new(), &alone_fine, our_domain);
    let mut usable: Vec<ProviderConfig> = alone_fine
        .into_iter()
        .filter(|p| !clashing.iter().any(|(slug, _)| *slug == p.slug))
        .collect();
    usable.sort_by(|a, b| a.slug.cmp(&b.slug));
    unusable.extend(clashing.iter().map(|(_, problem)| problem.to_string()));
    Ok((usable, unusable))
}

/// The file's configuration with the registry's companies, and the registry version it shows.
pub fn snapshot(store: &Store, file: &Config) -> Result<(Config, i64), StoreError> {
    // The version first: a change made while the companies are read is seen next time.
    let version = store.registry_version()?;
    let (providers, unusable) = companies(store, &file.domain)?;
    for problem in unusable {
        tracing::error!("registry: left out: {problem}");
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
/// every other company (no name two companies share), in one transaction: no other change
/// comes between the check and the write. Returns what became of each: `None` where the
/// record was the one there already.
pub fn save(
    store: &mut Store,
    file: &Config,
    changed: &[ProviderConfig],
    expect: Expect,
    actor: &str,
    now: i64,
) -> Result<Vec<Option<ChangeKind>>, RegistryError> {
    let tx = store.begin()?;
    let changes = save_in(&tx, file, changed, expect, actor, now)?;
    tx.commit()?;
    Ok(changes)
}

/// [`save`] inside a transaction of the caller's (the pipeline's, applying a company's change
/// by mail with the rest of what the mail does).
pub fn save_in(
    tx: &Tx<'_>,
    file: &Config,
    changed: &[ProviderConfig],
    expect: Expect,
    actor: &str,
    now: i64,
) -> Result<Vec<Option<ChangeKind>>, RegistryError> {
    let changed: Vec<ProviderConfig> = changed.iter().map(normalized).collect();
    let (registered, _) = parse(tx.companies()?);
    for company in &changed {
        let exists = registered.iter().any(|p| p.slug == company.slug);
        match expect {
            Expect::New if exists => return Err(RegistryError::Exists(company.slug.clone())),
            Expect::Registered if !exists => {
                return Err(RegistryError::Unknown(company.slug.clone()));
            }
            _ => {}
        }
    }
    let problems = problems_beside(registered, &changed, &file.domain);
    if !problems.is_empty() {
        return Err(RegistryError::Invalid(
            problems.into_iter().map(|(_, problem)| problem).collect(),
        ));
    }
    // Who wrote it, for `providers show`: the actor's kind (`cli:NAME`, `mail:ADDRESS`).
    let source = actor.split(':').next().unwrap_or(FROM_CLI);
    Ok(changed
        .iter()
        .map(|c| tx.put_company(&c.slug, &c.to_record(), source, actor, now))
        .collect::<Result<Vec<_>, _>>()?)
}

/// What would keep `company` from being saved as it is, beside every registered company:
/// nothing is written.
pub fn problems_in(
    tx: &Tx<'_>,
    company: &ProviderConfig,
    our_domain: &str,
) -> Result<Vec<RecordProblem>, StoreError> {
    let (registered, _) = parse(tx.companies()?);
    Ok(
        problems_beside(registered, &[normalized(company)], our_domain)
            .into_iter()
            .map(|(_, problem)| problem)
            .collect(),
    )
}

/// What is wrong with `changed` companies beside the `registered` ones (those of the same
/// slugs replaced), each problem with the slug of the changed company it is about.
fn problems_beside(
    mut registered: Vec<ProviderConfig>,
    changed: &[ProviderConfig],
    our_domain: &str,
) -> Vec<(String, RecordProblem)> {
    registered.retain(|p| !changed.iter().any(|c| c.slug == p.slug));
    let first = registered.len();
    registered.extend(changed.iter().cloned());
    companies_problems(&registered, our_domain, |_, p| p.slug.clone())
        .into_iter()
        .filter(|(i, _)| *i >= first)
        .map(|(i, problem)| (registered[i].slug.clone(), problem))
        .collect()
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

/// Makes the threads follow the registry's changes since they last did: feedback that waited
/// for a company registered since is forwarded, and the threads of a company whose route is
/// gone move to the route it would choose now (what follows goes there; feedback that bounced
/// at the old route, whose clock is paused, is sent to the new one). Whoever changes the
/// registry or sees it change calls this (the command line, the running service, its start):
/// a second call finds nothing left to do. Returns how many threads were forwarded and moved.
pub fn follow(
    store: &mut Store,
    config: &Config,
    key: &TokenKey,
    now: i64,
) -> Result<(usize, usize), PipelineError> {
    let ctx = Context::scheduled(config, key, now);
    let tx = store.begin()?;
    let (version, followed) = tx.registry_versions()?;
    if version == followed {
        // Nothing changed since (a start after a stop with no change): the scheduler's round
        // still looks for waiting feedback, as it does every quarter of an hour.
        return Ok((0, 0));
    }
    let changed = tx.companies_changed_since(followed)?;
    let mut moved = 0;
    for provider in changed.iter().filter_map(|slug| config.provider(slug)) {
        let routes: Vec<String> = provider
            .routes
            .iter()
            .chain(provider.rules.iter().map(|r| &r.route))
            .map(|r| r.to_lowercase())
            .collect();
        for thread in tx.moved_threads(&provider.slug, &routes)? {
            let choice = route::choose_route(provider, &thread.title, &thread.body);
            tx.change_route(&thread, &choice.address, choice.label.as_deref())?;
            tracing::debug!(
                thread = thread.thread_id,
                "registry: {} moved from {} to {}",
                provider.slug,
                thread.route,
                choice.address
            );
            if thread.paused {
                let opening = Opening {
                    thread_id: thread.thread_id,
                    title: &thread.title,
                    body: &thread.body,
                    consumer: &thread.consumer,
                };
                let company = CompanySide {
                    provider,
                    participant: thread.company_participant,
                    address: &choice.address,
                };
                announce::forward_opening(&tx, &ctx, &opening, &company, choice.label.as_deref())?;
            }
            moved += 1;
        }
    }
    tx.registry_followed(version)?;
    tx.commit()?;
    let forwarded = super::unregistered::attach_registered(store, config, key, now)?;
    Ok((forwarded, moved))
}

/// Keeps a running service's configuration current: every [`LOOK_EVERY`] it compares the
/// registry's version with the one `live` was made from, and on a change makes it anew,
/// forwards at once the feedback that waited for a company registered now, and moves threads
/// to their company's new routes.
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
                let seen = live_now.version();
                if s.registry_version()? == seen {
                    return Ok(None);
                }
                let (config, version) = snapshot(s, &file)?;
                let companies = config.providers.len();
                // Routing by the change comes first; what it lets follow is work of its own.
                live_now.replace(config, version);
                let (forwarded, moved) = follow(s, &live_now.get(), &key, crate::clock::now())?;
                Ok::<_, PipelineError>(Some((companies, forwarded, moved)))
            })
            .await;
        match looked {
            Ok(None) => {}
            Ok(Some((companies, forwarded, moved))) => {
                tracing::info!(
                    "registry: changed; {companies} companies now, {forwarded} waiting threads \
                     forwarded, {moved} threads moved to a new route"
                );
                // A company's new route may be where waiting mail now goes.
                relay_wake.notify_one();
            }
            Err(e) => tracing::error!("registry: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn company(slug: &str, name: &str) -> ProviderConfig {
        ProviderConfig {
            slug: slug.into(),
            name: name.into(),
            routes: vec![format!("palaute@{slug}.example")],
            ..ProviderConfig::from_record("").unwrap()
        }
    }

    fn file(providers: Vec<ProviderConfig>) -> Config {
        Config {
            providers: providers.into(),
            ..Config::default()
        }
    }

    /// Helper-8: a declaration was written beside a company of the same name added by the
    /// command line, and then neither could be edited. It is not applied, and says why.
    #[test]
    fn a_declaration_that_clashes_with_the_registry_is_not_applied_and_says_why() {
        let mut store = Store::open_in_memory().unwrap();
        let acme = company("acme", "Acme Oy");
        save(&mut store, &file(vec![]), &[acme], Expect::New, "cli:a", 1).unwrap();
        let declared = file(vec![company("acme-fi", "Acme Oy"), company("vr", "VR")]);
        let applied = apply_declarations(&mut store, &declared, 2).unwrap();
        assert_eq!(applied.written, ["vr"]);
        assert_eq!(applied.refused.len(), 1, "{:?}", applied.refused);
        assert!(applied.refused[0].starts_with("acme-fi: the name \"Acme Oy\" is also"));
        assert!(store.company("acme-fi").unwrap().is_none());
        // Tried again next time: still refused while the clash lasts.
        let again = apply_declarations(&mut store, &declared, 3).unwrap();
        assert_eq!(again.refused.len(), 1);
    }

    #[test]
    fn a_declared_company_removed_by_the_command_line_stays_removed_and_is_named() {
        let mut store = Store::open_in_memory().unwrap();
        let declared = file(vec![company("vr", "VR")]);
        apply_declarations(&mut store, &declared, 1).unwrap();
        remove(&mut store, "vr", "cli:a", 2).unwrap();
        let applied = apply_declarations(&mut store, &declared, 3).unwrap();
        assert_eq!(applied.removed_since, ["vr"]);
        assert!(applied.written.is_empty());
        assert!(store.company("vr").unwrap().is_none());
    }

    /// Helper-8 wrote records into the store by hand: a name another company has, a route
    /// with a header in it. They are left out of what the service routes by, and named.
    #[test]
    fn a_record_written_into_the_store_by_hand_is_checked_like_any_other() {
        let mut store = Store::open_in_memory().unwrap();
        let elisa = company("elisa", "Elisa");
        save(&mut store, &file(vec![]), &[elisa], Expect::New, "cli:a", 1).unwrap();
        let tx = store.begin().unwrap();
        let mut bad = company("a-elisa", "Elisa");
        bad.routes = vec!["x@y.example\r\nBcc: z@example.org".into()];
        tx.put_company("a-elisa", &bad.to_record(), "hand", "hand", 2)
            .unwrap();
        tx.put_company("b-broken", "slug = [", "hand", "hand", 2)
            .unwrap();
        tx.commit().unwrap();
        let (config, _) = snapshot(&store, &Config::default()).unwrap();
        let slugs: Vec<&str> = config.providers.iter().map(|p| p.slug.as_str()).collect();
        assert_eq!(slugs, ["elisa"]);
        let (_, unusable) = companies(&store, "nonono.localhost").unwrap();
        assert_eq!(unusable.len(), 2, "{unusable:?}");
    }
}
