//! `btp stats`: the transparency report of a period.

use serde_json::json;

use crate::args::StoreArgs;
use crate::error::Result;
use crate::output::Report;
use crate::time::{format_time, parse_instant};

const DAY: i64 = 86_400;

/// Activity per purpose in `[from, to]` and live gallery sizes now.
pub fn run(store: &StoreArgs, from: Option<&str>, to: Option<&str>) -> Result<Report> {
    let from = from.map(parse_instant).transpose()?.map_or(0, |i| i.secs);
    let to_excl = match to.map(parse_instant).transpose()? {
        // A date names the whole day.
        Some(i) if i.date_only => i.secs + DAY,
        Some(i) => i.secs,
        None => i64::MAX,
    };
    let store = super::open(store)?;
    let to_excl = to_excl.min(store.now()? + 1);
    let stats = store.stats(from, to_excl)?;
    let counts = store.record_counts()?;
    let mut human = format!(
        "transparency report {} to {} (UTC)\n",
        format_time(from),
        format_time(to_excl)
    );
    human.push_str(&format!(
        "{:<20}{:>9}{:>9}{:>10}{:>9}{:>9}{:>8}{:>8}{:>8}\n",
        "purpose",
        "enrolled",
        "verified",
        "searches",
        "reviews",
        "erased",
        "swept",
        "live",
        "stored"
    ));
    let mut purposes = Vec::new();
    let mut names: Vec<String> = store.purposes().map(|p| p.name.clone()).collect();
    for a in &stats.activity {
        if !a.purpose.is_empty() && !names.contains(&a.purpose) {
            names.push(a.purpose.clone());
        }
    }
    names.sort();
    for name in &names {
        let activity = stats.activity.iter().find(|a| &a.purpose == name);
        let count = |action: &str| {
            activity
                .and_then(|a| a.counts.get(action).copied())
                .unwrap_or(0)
        };
        let live = stats.live.get(name).copied().unwrap_or(0);
        let stored = counts.get(name).copied().unwrap_or(0);
        let erased = activity.map_or(0, |a| a.erased_records);
        let swept = activity.map_or(0, |a| a.swept_records);
        human.push_str(&format!(
            "{:<20}{:>9}{:>9}{:>10}{:>9}{:>9}{:>8}{:>8}{:>8}\n",
            name,
            count("enroll"),
            count("verify"),
            count("identify"),
            count("review"),
            erased,
            swept,
            live,
            stored
        ));
        purposes.push(json!({
            "purpose": name,
            "events": activity.map(|a| a.counts.clone()).unwrap_or_default(),
            "erased_records": erased,
            "swept_records": swept,
            "live_templates": live,
            "stored_records": stored,
        }));
    }
    human.push_str(
        "(events in the period; live = unexpired templates now; stored = records in the file, expired ones until the next sweep)\n",
    );
    Ok(Report::ok(
        human,
        json!({ "from": from, "to": to_excl, "purposes": purposes }),
    ))
}
