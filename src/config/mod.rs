//! The operator's configuration: a TOML file read once at start, and in a running service
//! [`Live`], the file's keys with the registry's companies, replaced when they change.
//!
//! Every key has a default ([`keys`]). [`Config::load`] names every key whose value does not
//! read (unknown keys too, by serde's `deny_unknown_fields`), then [`Config::validate`] every
//! bad value, each with its key, so an operator can fix a file in one pass.

mod check;
mod keys;
mod live;
mod read;
mod record;

pub use keys::*;
pub use live::Live;
pub use read::ConfigError;
pub use record::{Field, Problem, RecordProblem, companies_problems, company_problems};
