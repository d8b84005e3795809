//! What every step of the pipeline works with: its error and its context.

use super::auth::Authenticator;
use super::compose;
use crate::config::Config;
use crate::domain::token::TokenKey;
use crate::store::StoreError;

/// Why a message could not be processed.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Compose(#[from] compose::ComposeError),
    /// A bug met this message; it stays in the journal for `reprocess` after the fix.
    #[error("internal error: {0}")]
    Panic(String),
}

impl PipelineError {
    /// Whether trying again later may succeed (the database was busy), as opposed to a problem
    /// with this message that needs a code fix and `reprocess`.
    pub fn is_transient(&self) -> bool {
        matches!(self, PipelineError::Store(e) if e.is_busy())
    }
}

/// What the pipeline needs besides the store.
pub struct Context<'a> {
    pub config: &'a Config,
    pub key: &'a TokenKey,
    /// Sender authentication (the badge's when `[trust] verify_sender_auth` is on, the company
    /// desk's always); none for work on the clock.
    pub authenticator: Option<&'a Authenticator>,
    pub now: i64,
}

impl<'a> Context<'a> {
    /// The context of work on the clock rather than on a message: no sender to authenticate.
    pub fn scheduled(config: &'a Config, key: &'a TokenKey, now: i64) -> Self {
        Context {
            config,
            key,
            authenticator: None,
            now,
        }
    }
}
