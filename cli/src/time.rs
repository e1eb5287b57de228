//! Durations (`90d`, `5y`) and dates (`2027-01-01`) of the command line,
//! in UTC. The calendar arithmetic is the core's (`btp::time`).

use btp::time::{civil_from_days, days_from_civil, format_utc, DAY, RANGE};

use crate::error::{CliError, Result};

/// Parses `N` followed by a unit: `s`, `min`, `h`, `d`, `w` or `y`
/// (365 days), e.g. `3600s`, `90d`, `5y`. Returns seconds (at least 1).
pub fn parse_duration(text: &str) -> Result<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| bad_duration(text))?;
    let (n, unit) = t.split_at(split);
    let n: u64 = n.parse().map_err(|_| bad_duration(text))?;
    let unit_secs: u64 = match unit {
        "s" => 1,
        "min" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        "y" => 365 * 86_400,
        _ => return Err(bad_duration(text)),
    };
    match n.checked_mul(unit_secs) {
        Some(0) | None => Err(bad_duration(text)),
        Some(s) => Ok(s),
    }
}

fn bad_duration(text: &str) -> CliError {
    CliError::input(format!(
        "invalid duration `{text}`: use a positive number and a unit s, min, h, d, w or y (e.g. 90d, 5y)"
    ))
}

/// A point in time given on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instant {
    /// Unix seconds.
    pub secs: i64,
    /// Whether only a date was given (midnight UTC).
    pub date_only: bool,
}

/// Parses `YYYY-MM-DD` (midnight UTC) or `YYYY-MM-DDTHH:MM[:SS][Z]` (UTC).
pub fn parse_instant(text: &str) -> Result<Instant> {
    let bad = || {
        CliError::input(format!(
            "invalid date `{text}`: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)"
        ))
    };
    let t = text.trim();
    let t = t.strip_suffix('Z').unwrap_or(t);
    let (date, time) = match t.split_once(['T', ' ']) {
        Some((d, h)) => (d, Some(h)),
        None => (t, None),
    };
    let num = |s: &str, lo: i64, hi: i64| -> Result<i64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let v: i64 = s.parse().map_err(|_| bad())?;
        if (lo..=hi).contains(&v) {
            Ok(v)
        } else {
            Err(bad())
        }
    };
    let parts: Vec<&str> = date.split('-').collect();
    let [y, m, d] = parts[..] else {
        return Err(bad());
    };
    if y.len() != 4 {
        return Err(bad());
    }
    let (y, m) = (num(y, 1970, 9999)?, num(m, 1, 12)?);
    let d = num(d, 1, 31)?;
    let days = days_from_civil(y, m, d);
    if civil_from_days(days) != (y, m, d) {
        return Err(bad());
    }
    let mut secs = days * DAY;
    if let Some(time) = time {
        let hms: Vec<&str> = time.split(':').collect();
        if !(2..=3).contains(&hms.len()) {
            return Err(bad());
        }
        secs += num(hms[0], 0, 23)? * 3600 + num(hms[1], 0, 59)? * 60;
        if let Some(s) = hms.get(2) {
            secs += num(s, 0, 59)?;
        }
    }
    if !RANGE.contains(&secs) {
        return Err(bad());
    }
    Ok(Instant {
        secs,
        date_only: time.is_none(),
    })
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_time(secs: i64) -> String {
    format_utc(secs)
}

/// A duration in the largest whole unit that reads well: `90d`, `5y`.
pub fn format_duration(secs: u64) -> String {
    for (unit, n) in [
        ("y", 365 * 86_400),
        ("w", 7 * 86_400),
        ("d", 86_400),
        ("h", 3600),
        ("min", 60),
    ] {
        if secs >= n && secs.is_multiple_of(n) {
            return format!("{}{unit}", secs / n);
        }
    }
    format!("{secs}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("3600s").unwrap(), 3600);
        assert_eq!(parse_duration("90d").unwrap(), 90 * 86_400);
        assert_eq!(parse_duration("5y").unwrap(), 5 * 365 * 86_400);
        assert_eq!(parse_duration("2min").unwrap(), 120);
        for bad in [
            "",
            "d",
            "5",
            "0d",
            "5m",
            "-1d",
            "1.5d",
            "99999999999999999999y",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(format_duration(5 * 365 * 86_400), "5y");
        assert_eq!(format_duration(90 * 86_400), "90d");
        assert_eq!(format_duration(61), "61s");
    }

    #[test]
    fn dates() {
        assert_eq!(parse_instant("1970-01-01").unwrap().secs, 0);
        let i = parse_instant("2027-01-01").unwrap();
        assert_eq!((i.secs, i.date_only), (1_798_761_600, true));
        let i = parse_instant("2026-03-01T12:30:15Z").unwrap();
        assert_eq!((i.secs, i.date_only), (1_772_368_215, false));
        assert_eq!(format_time(1_772_368_215), "2026-03-01T12:30:15Z");
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "26-01-01",
            "2026-01-01T25:00",
            "yesterday",
        ] {
            assert!(parse_instant(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_instant("9999-12-31T23:59:59Z").unwrap().secs,
            *RANGE.end()
        );
    }
}
