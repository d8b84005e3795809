//! Domain core for delivery: outcomes as data and the retry schedule.

/// How one delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The next hop accepted the message.
    Sent,
    /// Worth trying again later (4xx, connection refused, timeout).
    Temporary(String),
    /// Will never work (5xx, an address that cannot be written).
    Permanent(String),
}

/// Waits between attempts, in seconds; after the last, every [`LATER`] until [`GIVE_UP_AFTER`].
const SCHEDULE: &[i64] = &[60, 5 * 60, 15 * 60, 30 * 60, 3600, 2 * 3600, 4 * 3600];
const LATER: i64 = 8 * 3600;
/// How long a message is retried before it is a permanent failure, as MTAs do (5 days).
pub const GIVE_UP_AFTER: i64 = 5 * 24 * 3600;

/// When to try again after `attempts` failed attempts, or `None` to give up.
pub fn next_attempt(attempts: u32, created_at: i64, now: i64) -> Option<i64> {
    let wait = SCHEDULE
        .get(attempts.saturating_sub(1) as usize)
        .copied()
        .unwrap_or(LATER);
    let at = now + wait;
    (at - created_at <= GIVE_UP_AFTER).then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backs_off_then_gives_up_after_five_days() {
        assert_eq!(next_attempt(1, 0, 0), Some(60));
        assert_eq!(next_attempt(2, 0, 60), Some(360));
        assert_eq!(next_attempt(20, 0, 1000), Some(1000 + LATER));
        assert_eq!(next_attempt(30, 0, GIVE_UP_AFTER - 10), None);
        let mut now = 0;
        let mut attempts = 0;
        while let Some(at) = next_attempt(attempts + 1, 0, now) {
            attempts += 1;
            now = at;
        }
        assert!(
            attempts > 15 && now <= GIVE_UP_AFTER,
            "{attempts} attempts, last at {now}"
        );
    }
}
