//! The operator's configuration: a TOML file read once at start.
//!
//! Every key has a default ([`keys`]). [`Config::load`] names every key whose value does not
//! read (unknown keys too, by serde's `deny_unknown_fields`), then [`Config::validate`] every
//! bad value, each with its key, so an operator can fix a file in one pass.

mod check;
mod keys;
mod read;

pub use keys::*;
pub use read::ConfigError;
