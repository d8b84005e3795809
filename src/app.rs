//! Wiring: opens the store, starts the receiver, intake writer, pipeline, relay and archive,
//! and stops them in order on one shutdown signal.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::config::Live;
use crate::domain::token::TokenKey;
use crate::inbound::intake_writer::IntakeWriter;
use crate::pipeline::auth::Authenticator;
use crate::pipeline::registry::RegistryError;
use crate::pipeline::{self, Doorbell};
use crate::store::checkpoint::Checkpointer;
use crate::store::intake::{Intake, Mover};
use crate::store::turns::WriteTurns;
use crate::store::{Shared, Store, StoreError};
use crate::{archive, inbound, relay};

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{}: {source}", .path.display())]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {source}", .path.display())]
    Secret {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{what} listener on {addr}: {source}")]
    Bind {
        what: &'static str,
        addr: String,
        source: std::io::Error,
    },
    #[error("store {}: {source}", .path.display())]
    Store { path: PathBuf, source: StoreError },
    #[error("starting a worker: {0}")]
    Spawn(std::io::Error),
    #[error("{0}")]
    DkimKey(relay::dkim::KeyError),
    #[error("{0}")]
    Tls(inbound::TlsError),
    #[error("{0}")]
    Transport(relay::TransportError),
    #[error("sender authentication: {0}")]
    SenderAuth(anyhow::Error),
    #[error("the company registry: {0}")]
    Registry(RegistryError),
    #[error("{}: no store yet; `nonono serve` (or any command that writes, such as `nonono providers add`) makes it", .0.display())]
    NoStore(PathBuf),
}

/// The store's file inside `data_dir`.
pub fn store_path(config: &Config) -> PathBuf {
    config.store_path()
}

/// Opens the store for writing (creating `data_dir` and running migrations).
pub fn open_store(config: &Config) -> Result<Store, AppError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| AppError::DataDir {
        path: config.data_dir.clone(),
        source,
    })?;
    let path = store_path(config);
    Store::open(&path).map_err(|source| AppError::Store { path, source })
}

/// Opens the store for reading only, as the operator's commands read it beside the running
/// service; one that does not exist yet is an error, not created.
pub fn open_store_readonly(config: &Config) -> Result<Store, AppError> {
    let path = store_path(config);
    if !path.exists() {
        return Err(AppError::NoStore(path));
    }
    Store::open_readonly(&path).map_err(|source| AppError::Store { path, source })
}

/// Moves what the receiver committed to the intake into the store's journal (the running
/// service does this all the time; a backup or a reprocess first makes sure nothing waits).
pub fn move_intake(config: &Config) -> Result<usize, AppError> {
    let store = open_store(config)?;
    let path = crate::store::intake_path(&store_path(config));
    let err = |source| AppError::Store {
        path: path.clone(),
        source,
    };
    Mover::open(&path, store)
        .and_then(|mut mover| mover.move_all())
        .map_err(err)
}

/// The token secret from `data_dir/token.key`, created with fresh random bytes on first start.
pub fn token_key(config: &Config) -> Result<TokenKey, AppError> {
    let path = config.data_dir.join("token.key");
    let err = |source| AppError::Secret {
        path: path.clone(),
        source,
    };
    match std::fs::read(&path) {
        Ok(secret) if secret.len() >= 32 => Ok(TokenKey::new(&secret)),
        Ok(_) => Err(err(std::io::Error::other(
            "the secret is shorter than 32 bytes",
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut secret = [0u8; 32];
            aws_lc_rs::rand::fill(&mut secret)
                .map_err(|_| err(std::io::Error::other("no system randomness")))?;
            write_private(&path, &secret).map_err(err)?;
            Ok(TokenKey::new(&secret))
        }
        Err(e) => Err(err(e)),
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Applies the config's company declarations to the registry, makes the threads follow what
/// changed in it while the service was down, and makes the live config the service starts
/// with; what the operator should know of the declarations is logged.
pub fn registry(store: &mut Store, config: &Config, key: &TokenKey) -> Result<Live, RegistryError> {
    let applied = pipeline::registry::apply_declarations(store, config, crate::clock::now())?;
    if !applied.written.is_empty() {
        tracing::info!(
            "registry: from the config, {} written: {}",
            applied.written.len(),
            applied.written.join(", ")
        );
    }
    for slug in &applied.edited_since {
        tracing::info!(
            "registry: {slug} is declared in the config as before, and was changed since with \
             `nonono providers`; the registry's record holds"
        );
    }
    for slug in &applied.removed_since {
        tracing::info!(
            "registry: {slug} is declared in the config as before, and was removed since with \
             `nonono providers remove`; it stays removed until its declaration changes"
        );
    }
    for problem in &applied.refused {
        tracing::error!("registry: a declaration of the config is not applied: {problem}");
    }
    for slug in &applied.undeclared {
        tracing::warn!(
            "registry: {slug} is no longer declared in the config and stays registered; \
             `nonono providers remove {slug}` removes it"
        );
    }
    let (live, version) = pipeline::registry::snapshot(store, config)?;
    // What changed while the service was down (by the command line, by the declarations).
    let (_, moved) = pipeline::registry::follow(store, &live, key, crate::clock::now())?;
    if moved > 0 {
        tracing::info!("registry: {moved} threads moved to their company's new route");
    }
    Ok(Live::new(live, version))
}

/// A running service.
pub struct Running {
    /// Where the SMTP receiver listens.
    pub smtp_addr: SocketAddr,
    /// Where the web archive listens.
    pub http_addr: SocketAddr,
    stop: watch::Sender<bool>,
    inbound: JoinHandle<()>,
    relay: JoinHandle<()>,
    http: JoinHandle<()>,
    scheduler: JoinHandle<()>,
    registry: JoinHandle<()>,
    intake_writer: std::thread::JoinHandle<()>,
    pipeline: std::thread::JoinHandle<()>,
    doorbell: Arc<Doorbell>,
    /// Dropped to stop the checkpoints, last.
    checkpoints_stop: std::sync::mpsc::Sender<()>,
    checkpoints: std::thread::JoinHandle<()>,
}

/// The sender authenticator: the badge needs it when `[trust] verify_sender_auth` is on, the
/// company desk always.
pub fn authenticator(config: &Config) -> Result<Option<Authenticator>, AppError> {
    Authenticator::new(&config.trust, &config.domain)
        .map(Some)
        .map_err(AppError::SenderAuth)
}

/// Starts every part of the service on the configured listeners.
pub async fn start(config: Config) -> Result<Running, AppError> {
    let config = Arc::new(config);
    // Opening for writing first creates data_dir and the file, and runs migrations.
    let mut pipeline_store = open_store(&config)?;
    let key = token_key(&config)?;
    let path = store_path(&config);
    let store_err = |source| AppError::Store {
        path: path.clone(),
        source,
    };
    let live = Arc::new(
        registry(&mut pipeline_store, &config, &key).map_err(|e| match e {
            RegistryError::Store(source) => store_err(source),
            e => AppError::Registry(e),
        })?,
    );
    // The service's writers take turns at the store's write lock.
    let turns = Arc::new(WriteTurns::default());
    pipeline_store.take_turns(turns.clone());
    let writer = || -> Result<Store, AppError> {
        let mut store = Store::open(&path).map_err(store_err)?;
        store.take_turns(turns.clone());
        Ok(store)
    };
    let intake_path = crate::store::intake_path(&path);
    let intake_err = |source| AppError::Store {
        path: intake_path.clone(),
        source,
    };
    let receiving = Intake::open(&pipeline_store, &intake_path).map_err(intake_err)?;
    let moving = Mover::open(&intake_path, writer()?).map_err(intake_err)?;
    pipeline_store.sync_lazily().map_err(store_err)?;
    let relay_store = writer()?;
    // A delivery mark undone by a power loss only means that message goes out again.
    relay_store.sync_lazily().map_err(store_err)?;
    let checkpointer = Checkpointer::open(&path).map_err(store_err)?;
    let (checkpoints_stop, until_stopped) = std::sync::mpsc::channel();
    let checkpoints_thread = std::thread::Builder::new()
        .name("checkpoints".into())
        .spawn(move || checkpointer.run(until_stopped))
        .map_err(AppError::Spawn)?;
    let archive_stores = (0..4)
        .map(|_| Store::open_readonly(&path))
        .collect::<Result<Vec<_>, _>>()
        .map_err(store_err)?;
    let transport = relay::Transport::from_config(&config).map_err(AppError::Transport)?;

    let signer = relay::Signer::from_config(&config).map_err(AppError::DkimKey)?;
    let tls = inbound::tls_acceptor(&config).map_err(AppError::Tls)?;

    let bind = |what: &'static str, addr: &str| {
        let addr = addr.to_owned();
        async move {
            TcpListener::bind(&addr)
                .await
                .map_err(|source| AppError::Bind { what, addr, source })
        }
    };
    let smtp_listener = bind("smtp", &config.smtp.listen).await?;
    let http_listener = bind("http", &config.http.listen).await?;
    let smtp_addr = smtp_listener.local_addr().map_err(AppError::Spawn)?;
    let http_addr = http_listener.local_addr().map_err(AppError::Spawn)?;

    let (stop, stopped) = watch::channel(false);
    let doorbell = Arc::new(Doorbell::default());
    let relay_wake = Arc::new(Notify::new());

    let ring = doorbell.clone();
    let (intake_writer, intake_writer_thread) =
        IntakeWriter::start(receiving, move || ring.ring()).map_err(AppError::Spawn)?;

    let authenticator = authenticator(&config)?;
    let metrics = Arc::new(crate::metrics::Metrics::default());
    let pending = pipeline_store
        .journal_counts()
        .map_err(store_err)?
        .into_iter()
        .find_map(|(state, n)| (state == "pending").then_some(n))
        .unwrap_or(0)
        + moving.waiting().map_err(intake_err)?;
    metrics.set_backlog(pending);
    let pipeline_thread = {
        let (live, key) = (live.clone(), key.clone());
        let signals = pipeline::Signals {
            doorbell: doorbell.clone(),
            metrics: metrics.clone(),
            relay: relay_wake.clone(),
        };
        std::thread::Builder::new()
            .name("pipeline".into())
            .spawn(move || pipeline::run(pipeline_store, moving, live, key, authenticator, signals))
            .map_err(AppError::Spawn)?
    };

    let receiver = Arc::new(inbound::Receiver {
        metrics: metrics.clone(),
        live: live.clone(),
        key: key.clone(),
        intake: intake_writer,
        reader: Shared::new(Store::open_readonly(&path).map_err(store_err)?),
        tls,
        utf8_reach: transport.utf8_reach(),
        trusted_relays: config.trusted_relays(),
    });
    let inbound = tokio::spawn(inbound::run(smtp_listener, receiver, stopped.clone()));
    let on_outcome = pipeline::delivery::on_outcome(live.clone(), key.clone());
    let relay = tokio::spawn(relay::run(
        Shared::new(relay_store),
        transport,
        signer,
        relay_wake.clone(),
        on_outcome,
        stopped.clone(),
    ));
    let scheduler = tokio::spawn(pipeline::scheduler::run(
        writer()?,
        live.clone(),
        key.clone(),
        relay_wake.clone(),
        stopped.clone(),
    ));
    let registry = tokio::spawn(pipeline::registry::keep_current(
        writer()?,
        live.clone(),
        config.clone(),
        key.clone(),
        relay_wake,
        stopped.clone(),
    ));
    let app = archive::router(
        archive::Archive::new(archive_stores, live, metrics)
            .with_unsubscribe(writer()?, key.clone()),
    );
    let http_config = config.http.clone();
    let http =
        tokio::spawn(
            async move { archive::serve(http_listener, app, &http_config, stopped).await },
        );

    tracing::info!("smtp listening on {smtp_addr} for @{}", config.domain);
    tracing::info!(
        "http listening on {http_addr}, public at {}",
        config.http.public_url
    );
    Ok(Running {
        smtp_addr,
        http_addr,
        stop,
        inbound,
        relay,
        http,
        scheduler,
        registry,
        intake_writer: intake_writer_thread,
        pipeline: pipeline_thread,
        doorbell,
        checkpoints_stop,
        checkpoints: checkpoints_thread,
    })
}

impl Running {
    /// Stops accepting, lets sessions in flight finish or answer 421, commits what was accepted,
    /// lets the pipeline process it and the relay finish its delivery in hand.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.inbound.await;
        let (intake_writer, pipeline, doorbell) =
            (self.intake_writer, self.pipeline, self.doorbell);
        // The receiver's intake handles are gone with it, so the writer drains and ends.
        let threads = tokio::task::spawn_blocking(move || {
            let _ = intake_writer.join();
            doorbell.close();
            let _ = pipeline.join();
        });
        let _ = tokio::time::timeout(Duration::from_secs(30), threads).await;
        let _ = self.relay.await;
        let _ = self.http.await;
        let _ = self.scheduler.await;
        let _ = self.registry.await;
        drop(self.checkpoints_stop);
        let checkpoints = self.checkpoints;
        let _ = tokio::task::spawn_blocking(move || checkpoints.join()).await;
        tracing::info!("stopped");
    }
}

/// Runs the service until `shutdown` completes, then stops it cleanly.
pub async fn serve(
    config: Config,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), AppError> {
    let running = start(config).await?;
    shutdown.await;
    tracing::info!("shutting down");
    // Bounded: a session or delivery that hangs must not keep the process from exiting;
    // whatever was not finished is still in the store and resumes on the next start.
    if tokio::time::timeout(Duration::from_secs(60), running.stop())
        .await
        .is_err()
    {
        tracing::warn!("stopping took over 60 s; exiting anyway, unfinished work resumes on start");
    }
    Ok(())
}

/// A future that completes on SIGINT (ctrl-c) or SIGTERM. The handlers are installed when this
/// is called, not when the future is first polled, so a signal that arrives while the service
/// is still starting is not lost.
pub fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
