//! The configuration as a running service reads it: the file's keys with the companies of the
//! registry, replaced whole when the registry changes. Each unit of work (an SMTP transaction,
//! a batch of the pipeline, a page, a delivery's outcome) takes the current one and keeps it to
//! its end, so it never sees half a change.

use std::sync::{Arc, RwLock};

use super::keys::Config;

/// The current configuration and the registry version it was made from.
#[derive(Debug)]
pub struct Live {
    current: RwLock<(Arc<Config>, i64)>,
}

impl Live {
    /// Starts with `config`, made from the registry at `version`.
    pub fn new(config: Config, version: i64) -> Live {
        Live {
            current: RwLock::new((Arc::new(config), version)),
        }
    }

    /// The configuration to do one unit of work by.
    pub fn get(&self) -> Arc<Config> {
        self.read().0.clone()
    }

    /// The registry version the current configuration was made from.
    pub fn version(&self) -> i64 {
        self.read().1
    }

    /// Makes `config`, from the registry at `version`, the one every next unit of work uses.
    pub fn replace(&self, config: Config, version: i64) {
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        *current = (Arc::new(config), version);
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, (Arc<Config>, i64)> {
        // A writer never panics while holding the lock; the value is whole either way.
        self.current.read().unwrap_or_else(|e| e.into_inner())
    }
}

/// A fixed configuration, for parts run without a registry (tests, one-off commands).
impl From<Config> for Live {
    fn from(config: Config) -> Live {
        Live::new(config, 0)
    }
}
