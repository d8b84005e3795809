//! Domain core: dates and Finnish working days, for mail dates, pages, response deadlines and
//! "waiting for N working days".
//!
//! Weekends and Finnish public holidays are not working days, including the moving ones (Good
//! Friday, Easter Monday, Ascension Day, Midsummer Eve) and the de facto closed Christmas Eve.
//! Days are counted in Finnish time: UTC+2, and UTC+3 in summer (EU rule: from 01:00 UTC on the
//! last Sunday of March to 01:00 UTC on the last Sunday of October).

/// Seconds Finnish time is ahead of UTC at an instant.
pub fn finnish_offset(secs: i64) -> i64 {
    let (year, _, _) = civil_from_days(secs.div_euclid(86_400));
    let last_sunday = |month: u32| {
        let end = days_from_civil(year, month, 31);
        end - (weekday(end) + 1) % 7
    };
    let summer_starts = last_sunday(3) * 86_400 + 3600;
    let summer_ends = last_sunday(10) * 86_400 + 3600;
    if (summer_starts..summer_ends).contains(&secs) {
        3 * 3600
    } else {
        2 * 3600
    }
}

/// A calendar day as days since 1970-01-01.
pub type Day = i64;

/// Days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> Day {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The Finnish calendar day of an instant.
pub fn day_of(secs: i64) -> Day {
    (secs + finnish_offset(secs)).div_euclid(86_400)
}

/// Easter Sunday of a year (anonymous Gregorian algorithm).
pub fn easter(year: i64) -> Day {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    days_from_civil(year, month as u32, day as u32)
}

/// 0 = Monday … 6 = Sunday.
pub fn weekday(day: Day) -> i64 {
    (day + 3).rem_euclid(7)
}

/// Finnish public holidays (and Midsummer Eve and Christmas Eve) that fall on weekdays matter;
/// this lists them all for a year.
pub fn holidays(year: i64) -> Vec<Day> {
    let e = easter(year);
    let midsummer_eve = (19..=25)
        .map(|d| days_from_civil(year, 6, d))
        .find(|&d| weekday(d) == 4)
        .expect("a Friday in 19–25 June");
    let all_saints = (0..7)
        .map(|i| days_from_civil(year, 10, 31) + i)
        .find(|&d| weekday(d) == 5)
        .expect("a Saturday in 31 Oct–6 Nov");
    vec![
        days_from_civil(year, 1, 1),
        days_from_civil(year, 1, 6),
        e - 2,
        e,
        e + 1,
        days_from_civil(year, 5, 1),
        e + 39,
        e + 49,
        midsummer_eve,
        midsummer_eve + 1,
        all_saints,
        days_from_civil(year, 12, 6),
        days_from_civil(year, 12, 24),
        days_from_civil(year, 12, 25),
        days_from_civil(year, 12, 26),
    ]
}

/// Whether a day is a working day in Finland; `extra` are more closed days from the config.
pub fn is_working_day(day: Day, extra: &[Day]) -> bool {
    if weekday(day) >= 5 || extra.contains(&day) {
        return false;
    }
    let (year, _, _) = civil_from_days(day);
    !holidays(year).contains(&day)
}

/// The longest response time a company may have: a working year.
pub const MOST_WORKING_DAYS: u32 = 250;

/// The instant `n` working days after `start`: the same time of day on the n-th working day
/// after the start's day (at most [`MOST_WORKING_DAYS`]).
pub fn add_working_days(start: i64, n: u32, extra: &[Day]) -> i64 {
    let mut day = day_of(start);
    // Day by day, so bounded: a response time beyond a working year is refused where it is
    // set, and one that got into the store anyway must not stop the service counting it.
    let mut left = n.min(MOST_WORKING_DAYS);
    while left > 0 {
        day += 1;
        if is_working_day(day, extra) {
            left -= 1;
        }
    }
    start + (day - day_of(start)) * 86_400
}

/// Whole working days from `start` to `end` (0 on the same day). Counts weeks arithmetically
/// and holidays once per year, so a thread waiting for years costs no more than one waiting
/// for days.
pub fn working_days_between(start: i64, end: i64, extra: &[Day]) -> i64 {
    let (from, to) = (day_of(start) + 1, day_of(end));
    if to < from {
        return 0;
    }
    let weekdays_before = |day: Day| {
        // Weekdays in [epoch Monday, day), counting from the Monday 1969-12-29 (day -3).
        let d = day + 3;
        d.div_euclid(7) * 5 + d.rem_euclid(7).min(5)
    };
    let mut days = weekdays_before(to + 1) - weekdays_before(from);
    let (first_year, _, _) = civil_from_days(from);
    let (last_year, _, _) = civil_from_days(to);
    let mut closed: Vec<Day> = (first_year..=last_year)
        .flat_map(holidays)
        .chain(extra.iter().copied())
        .filter(|&d| (from..=to).contains(&d) && weekday(d) < 5)
        .collect();
    closed.sort_unstable();
    closed.dedup();
    days -= closed.len() as i64;
    days
}

/// `Tue, 24 Nov 2026 13:59:18 +0000` for unix seconds: a mail `Date:` (RFC 5322).
pub fn rfc5322(secs: i64) -> String {
    internet_date(secs, false)
}

/// `secs` as HTTP writes a date (RFC 9110 IMF-fixdate): `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(secs: i64) -> String {
    internet_date(secs, true)
}

/// The date both mail and HTTP write, in UTC: HTTP's has a two-digit day and says `GMT`.
fn internet_date(secs: i64, http: bool) -> String {
    // Weekdays from 1 January 1970, a Thursday.
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    let days = secs.div_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let s = secs.rem_euclid(86_400);
    let (day, zone) = if http {
        (format!("{d:02}"), "GMT")
    } else {
        (d.to_string(), "+0000")
    };
    format!(
        "{}, {day} {} {y} {:02}:{:02}:{:02} {zone}",
        WEEKDAYS[days.rem_euclid(7) as usize],
        MONTHS[m as usize - 1],
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Month abbreviations as mail and HTTP dates (and English readers) write them.
pub const MONTHS: [&str; 12] = [
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

/// `YYYY-MM-DD` as a day count.
pub fn parse_date(s: &str) -> Option<Day> {
    let mut parts = s.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    let day = days_from_civil(y, m, d);
    // Reject dates that do not exist (2026-02-30) by reading them back.
    (civil_from_days(day) == (y, m, d)).then_some(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A response time of four billion days froze the service (helper-8): counting stops at a
    /// working year.
    #[test]
    fn adding_working_days_stops_at_a_working_year() {
        let start = 1_796_600_000;
        assert_eq!(
            add_working_days(start, u32::MAX, &[]),
            add_working_days(start, MOST_WORKING_DAYS, &[])
        );
        assert!(add_working_days(start, MOST_WORKING_DAYS, &[]) > start + 330 * 86_400);
    }

    fn date(y: i64, m: u32, d: u32) -> Day {
        days_from_civil(y, m, d)
    }

    #[test]
    fn http_dates_are_written_as_imf_fixdate() {
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
    }

    #[test]
    fn finnish_time_follows_the_eu_summer_time_rule() {
        // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
        let at = |d: Day, h: i64| d * 86_400 + h * 3600;
        assert_eq!(finnish_offset(at(date(2026, 3, 29), 0)), 2 * 3600);
        assert_eq!(finnish_offset(at(date(2026, 3, 29), 1)), 3 * 3600);
        assert_eq!(finnish_offset(at(date(2026, 10, 25), 0)), 3 * 3600);
        assert_eq!(finnish_offset(at(date(2026, 10, 25), 1)), 2 * 3600);
        assert_eq!(finnish_offset(at(date(2026, 11, 23), 12)), 2 * 3600);
        // 22:30 UTC on 23 November is already the 24th in Finland.
        assert_eq!(
            day_of(at(date(2026, 11, 23), 22) + 1800),
            date(2026, 11, 24)
        );
    }

    #[test]
    fn easter_matches_known_dates() {
        assert_eq!(easter(2025), date(2025, 4, 20));
        assert_eq!(easter(2026), date(2026, 4, 5));
        assert_eq!(easter(2027), date(2027, 3, 28));
    }

    #[test]
    fn official_finnish_holidays_2025_to_2027() {
        // Weekday holidays published for Finland (Good Friday, Easter Monday, Ascension,
        // Midsummer Eve, and the fixed ones).
        let expected = [
            (
                2025,
                vec![
                    (1, 1),
                    (1, 6),
                    (4, 18),
                    (4, 21),
                    (5, 1),
                    (5, 29),
                    (6, 20),
                    (12, 24),
                    (12, 25),
                    (12, 26),
                ],
            ),
            (
                2026,
                vec![
                    (1, 1),
                    (1, 6),
                    (4, 3),
                    (4, 6),
                    (5, 1),
                    (5, 14),
                    (6, 19),
                    (12, 24),
                    (12, 25),
                ],
            ),
            (
                2027,
                vec![
                    (1, 1),
                    (1, 6),
                    (3, 26),
                    (3, 29),
                    (5, 6),
                    (6, 25),
                    (12, 6),
                    (12, 24),
                ],
            ),
        ];
        for (year, days) in expected {
            for (m, d) in days {
                assert!(
                    !is_working_day(date(year, m, d), &[]),
                    "{year}-{m}-{d} is a holiday"
                );
            }
        }
        assert!(
            is_working_day(date(2026, 11, 23), &[]),
            "an ordinary Monday"
        );
        assert!(!is_working_day(date(2026, 11, 28), &[]), "a Saturday");
        assert!(
            !is_working_day(date(2026, 11, 23), &[date(2026, 11, 23)]),
            "extra day"
        );
    }

    #[test]
    fn working_days_skip_weekends_and_holidays() {
        // Thursday 2026-12-03 + 3 working days: Fri 4th, (Sun 6th Independence Day), Mon 7th, Tue 8th.
        let thu = date(2026, 12, 3) * 86_400 + 10 * 3600;
        let due = add_working_days(thu, 3, &[]);
        assert_eq!(day_of(due), date(2026, 12, 8));
        assert_eq!(working_days_between(thu, due, &[]), 3);
        // Over Christmas 2026: Wed 23rd + 1 = Mon 28th (24th–27th closed).
        let wed = date(2026, 12, 23) * 86_400 + 12 * 3600;
        assert_eq!(day_of(add_working_days(wed, 1, &[])), date(2026, 12, 28));
    }

    #[test]
    fn counting_agrees_with_walking_day_by_day() {
        let start = date(2024, 12, 20) * 86_400 + 9 * 3600;
        for span in [0, 1, 2, 5, 6, 7, 13, 40, 200, 400, 800] {
            let end = start + span * 86_400;
            let walked = (day_of(start) + 1..=day_of(end))
                .filter(|&d| is_working_day(d, &[date(2025, 3, 3)]))
                .count() as i64;
            assert_eq!(
                working_days_between(start, end, &[date(2025, 3, 3)]),
                walked,
                "{span} days"
            );
        }
        assert_eq!(working_days_between(start + 86_400, start, &[]), 0);
    }

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
}
