//! The purposes file of `btp init`: one `[[purpose]]` table per purpose.
//!
//! ```toml
//! [[purpose]]
//! name = "border-entry"
//! scheme = "iom-grp"        # iom-grp (hashes, window), iom-urp (hashes, window, order), biohash (bits)
//! dim = 128
//! hashes = 512
//! window = 16
//! l2 = true                 # optional, default false
//! centre = "centre.npy"     # optional: a 1-D .npy of `dim` values, relative to this file
//! application = "gate-A"
//! version = 1               # optional transform key version, default 1
//! threshold = 0.3
//! max_retention = "5y"      # s, min, h, d, w, y
//! ```

use std::path::Path;
use std::time::Duration;

use btp::store::Purpose;
use btp::SchemeParams;
use serde::Deserialize;

use crate::error::{CliError, Result};
use crate::files::read_text;
use crate::input;
use crate::time::parse_duration;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    purpose: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    scheme: String,
    dim: u32,
    hashes: Option<u32>,
    window: Option<u32>,
    order: Option<u32>,
    bits: Option<u32>,
    #[serde(default)]
    l2: bool,
    centre: Option<String>,
    application: String,
    #[serde(default = "one")]
    version: u32,
    threshold: f64,
    max_retention: String,
}

fn one() -> u32 {
    1
}

/// Reads the purposes of a TOML file.
pub fn load(path: &Path) -> Result<Vec<Purpose>> {
    let text = read_text(path, "the purposes file")?;
    let file: File = toml::from_str(&text).map_err(|e| {
        let msg = e.message().to_owned();
        let at = e
            .span()
            .map(|s| format!(" (line {})", text[..s.start].lines().count().max(1)))
            .unwrap_or_default();
        CliError::input(format!("{}: {msg}{at}", path.display()))
    })?;
    if file.purpose.is_empty() {
        return Err(CliError::input(format!(
            "{}: no [[purpose]] table",
            path.display()
        )));
    }
    let base = path.parent().unwrap_or(Path::new("."));
    file.purpose
        .into_iter()
        .map(|e| {
            let name = e.name.clone();
            purpose(e, base)
                .map_err(|err| err.context(format!("{}: purpose `{name}`", path.display())))
        })
        .collect()
}

fn purpose(e: Entry, base: &Path) -> Result<Purpose> {
    let need = |v: Option<u32>, field: &str| {
        v.ok_or_else(|| CliError::input(format!("scheme {} needs `{field}`", e.scheme)))
    };
    let refuse = |v: Option<u32>, field: &str| match v {
        Some(_) => Err(CliError::input(format!(
            "scheme {} takes no `{field}`",
            e.scheme
        ))),
        None => Ok(()),
    };
    let params = match e.scheme.as_str() {
        "iom-grp" => {
            refuse(e.order, "order")?;
            refuse(e.bits, "bits")?;
            SchemeParams::iom_grp(e.dim, need(e.hashes, "hashes")?, need(e.window, "window")?)?
        }
        "iom-urp" => {
            refuse(e.bits, "bits")?;
            SchemeParams::iom_urp(
                e.dim,
                need(e.hashes, "hashes")?,
                need(e.window, "window")?,
                need(e.order, "order")?,
            )?
        }
        "biohash" => {
            refuse(e.hashes, "hashes")?;
            refuse(e.window, "window")?;
            refuse(e.order, "order")?;
            SchemeParams::biohash(e.dim, need(e.bits, "bits")?)?
        }
        other => {
            return Err(CliError::input(format!(
                "unknown scheme `{other}`: use iom-grp, iom-urp or biohash"
            )))
        }
    };
    let mut params = params.with_l2(e.l2);
    if let Some(centre) = &e.centre {
        let path = base.join(centre);
        let rows = input::read_npy(&path)?;
        if rows.rows() != 1 {
            return Err(CliError::input(format!(
                "centre {}: one vector expected, found {}",
                path.display(),
                rows.rows()
            )));
        }
        params = params.with_centre(rows.values.to_vec())?;
    }
    let max_retention = Duration::from_secs(parse_duration(&e.max_retention)?);
    let mut p = Purpose::new(&e.name, params, &e.application, e.threshold, max_retention)?;
    if e.version == 0 {
        return Err(CliError::input("`version` must be at least 1"));
    }
    p.transform_version = e.version;
    Ok(p)
}
