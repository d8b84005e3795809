//! Domain core for abuse limits: who counts as the same writer, and which `[limits]` a writer
//! has reached. Counting happens in the store; this decides.

use crate::config::LimitsConfig;

/// Reminders a thread gets at most: a company past its response time is reminded this many
/// times, then the thread says it was not answered.
pub const MAX_REMINDERS: i64 = 3;

/// The same mailbox however it is written: lower-cased, `+tag` dropped, and for Gmail the dots in
/// the local part too.
///
/// ```
/// use nonono::domain::limits::sender_key;
/// assert_eq!(sender_key("M.a.t.t.i+x@googlemail.com"), "matti@gmail.com");
/// assert_eq!(sender_key("m.atti+x@elisa.fi"), "m.atti@elisa.fi");
/// ```
pub fn sender_key(address: &str) -> String {
    let address = crate::mail::normalize_address(address);
    let Some((local, domain)) = address.rsplit_once('@') else {
        return address;
    };
    let local = local.split('+').next().unwrap_or(local);
    let domain = if domain == "googlemail.com" {
        "gmail.com"
    } else {
        domain
    };
    if domain == "gmail.com" {
        format!("{}@{domain}", local.replace('.', ""))
    } else {
        format!("{local}@{domain}")
    }
}

/// How much a writer has sent, as the store counted it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// New feedback from this writer in the last hour.
    pub address_hour: u32,
    /// New feedback from this client IP in the last hour.
    pub ip_hour: u32,
    /// Messages from this writer about this company in the last day.
    pub pair_day: u32,
}

/// A limit a writer reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Reached {
    #[error("451 4.7.1 Too much new feedback from this address in an hour; please try again later")]
    AddressPerHour,
    #[error(
        "451 4.7.1 Too much new feedback from this network address in an hour; please try again later"
    )]
    IpPerHour,
    #[error("451 4.7.1 Too many messages to this company today; please try again tomorrow")]
    PairPerDay,
}

/// The first limit that one more message would pass; `0` in the config turns a limit off.
pub fn reached(limits: &LimitsConfig, counts: &Counts) -> Option<Reached> {
    let over = |limit: u32, count: u32| limit != 0 && count >= limit;
    if over(limits.new_threads_per_address_per_hour, counts.address_hour) {
        Some(Reached::AddressPerHour)
    } else if over(limits.new_threads_per_ip_per_hour, counts.ip_hour) {
        Some(Reached::IpPerHour)
    } else if over(limits.messages_per_pair_per_day, counts.pair_day) {
        Some(Reached::PairPerDay)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmail_dots_and_plus_variants_are_one_writer() {
        for variant in [
            "matti@gmail.com",
            "m.a.t.t.i@gmail.com",
            "Matti+spam@GoogleMail.com",
            "<m.atti+1@gmail.com>",
        ] {
            assert_eq!(sender_key(variant), "matti@gmail.com", "{variant}");
        }
        assert_eq!(
            sender_key("m.atti+x@elisa.fi"),
            "m.atti@elisa.fi",
            "dots matter elsewhere"
        );
    }

    #[test]
    fn limits_apply_and_zero_turns_them_off() {
        let limits = LimitsConfig {
            new_threads_per_address_per_hour: 2,
            new_threads_per_ip_per_hour: 0,
            messages_per_pair_per_day: 5,
        };
        let counts = |a, i, p| Counts {
            address_hour: a,
            ip_hour: i,
            pair_day: p,
        };
        assert_eq!(reached(&limits, &counts(1, 1000, 4)), None);
        assert_eq!(
            reached(&limits, &counts(2, 0, 0)),
            Some(Reached::AddressPerHour)
        );
        assert_eq!(
            reached(&limits, &counts(0, 0, 5)),
            Some(Reached::PairPerDay)
        );
    }
}
