//! The one place that reads the wall clock.
//!
//! Everything else takes time as a parameter (unix seconds), so tests can set it; the date
//! arithmetic is [`crate::domain::calendar`]'s.

/// Seconds since the Unix epoch, now.
#[allow(clippy::disallowed_methods)]
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
