//! Calendar arithmetic for the timestamps btp stores and reports: Unix
//! seconds in UTC, shown as RFC 3339 (`2027-01-01T00:00:00Z`), without a
//! calendar library.
//!
//! Every timestamp the store accepts lies in [`RANGE`] (1970-01-01 to
//! 9999-12-31 UTC), so that every time it returns converts to a date in any
//! binding (Python's `datetime` stops at year 9999).

use std::ops::RangeInclusive;

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// Unix seconds of 9999-12-31T23:59:59Z: the last instant the store takes.
pub const MAX: i64 = 253_402_300_799;

/// The timestamps the store takes: 1970-01-01T00:00:00Z ..= 9999-12-31T23:59:59Z.
pub const RANGE: RangeInclusive<i64> = 0..=MAX;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `(year, month, day)` of days since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// RFC 3339 UTC of Unix seconds, e.g. `2027-01-01T00:00:00Z`. Times outside
/// four-digit years print their year with a sign and more digits.
pub fn format_utc(ts: i64) -> String {
    let (days, secs) = (ts.div_euclid(DAY), ts.rem_euclid(DAY));
    let (y, m, d) = civil_from_days(days);
    let year = if (0..=9999).contains(&y) {
        format!("{y:04}")
    } else {
        format!("{y:+}")
    };
    format!(
        "{year}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates_round_trip() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(MAX), "9999-12-31T23:59:59Z");
        assert_eq!(format_utc(1_798_761_600), "2027-01-01T00:00:00Z");
        assert_eq!(format_utc(951_782_400 + 3_661), "2000-02-29T01:01:01Z");
        assert_eq!(format_utc(-1), "1969-12-31T23:59:59Z");
        assert_eq!(format_utc(MAX + 1), "+10000-01-01T00:00:00Z");
        for days in [-800_000, -1, 0, 59, 60, 11_016, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
