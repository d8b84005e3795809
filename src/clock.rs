//! The one place that reads the wall clock, and the date arithmetic the service needs.
//!
//! Everything else takes time as a parameter (unix seconds), so tests can set it.

/// Seconds since the Unix epoch, now.
#[allow(clippy::disallowed_methods)]
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `Tue, 24 Nov 2026 13:59:18 +0000` for unix seconds: a mail `Date:` (RFC 5322).
pub fn rfc5322(secs: i64) -> String {
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    let days = secs.div_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let s = secs.rem_euclid(86_400);
    format!(
        "{}, {d} {} {y} {:02}:{:02}:{:02} +0000",
        WEEKDAYS[days.rem_euclid(7) as usize],
        MONTHS[m as usize - 1],
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `(year, month, day)` of a day count since 1970-01-01 (Howard Hinnant's civil_from_days).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `2026-11-23T20:00:00Z` for unix seconds.
pub fn rfc3339(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// A time as a Finnish reader expects it: `23.11.2026 klo 22.20` (fi) or `23 Nov 2026 22:20`
/// (en), in Finnish time.
pub fn display(secs: i64, finnish: bool) -> String {
    let local = secs + crate::calendar::finnish_offset(secs);
    let (y, m, d) = civil_from_days(local.div_euclid(86_400));
    let s = local.rem_euclid(86_400);
    let (h, min) = (s / 3600, s / 60 % 60);
    if finnish {
        format!("{d}.{m}.{y} klo {h}.{min:02}")
    } else {
        format!("{d} {} {y} {h:02}:{min:02}", MONTHS[m as usize - 1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_464_000), "2026-11-23T20:00:00Z");
    }

    #[test]
    fn mail_dates_name_the_weekday() {
        assert_eq!(rfc5322(0), "Thu, 1 Jan 1970 00:00:00 +0000");
        assert_eq!(rfc5322(1_795_464_000), "Mon, 23 Nov 2026 20:00:00 +0000");
    }

    #[test]
    fn display_is_in_finnish_time() {
        assert_eq!(display(1_795_464_000, true), "23.11.2026 klo 22.00");
        assert_eq!(display(1_795_464_000, false), "23 Nov 2026 22:00");
    }
}
