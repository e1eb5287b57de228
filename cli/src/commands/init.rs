//! `btp init`: a store with the purposes of a TOML file.

use std::path::Path;

use btp::store::{Purpose, Store};
use serde_json::{json, Value};

use crate::args::StoreArgs;
use crate::config;
use crate::error::{CliError, Result};
use crate::keyfile;
use crate::output::Report;
use crate::time::format_duration;

/// Creates the store (or, with `update`, applies the file to an existing one).
pub fn run(store: &StoreArgs, config_path: &Path, update: bool) -> Result<Report> {
    let purposes = config::load(config_path)?;
    let key = keyfile::load(store.key_file.as_ref())?;
    if store.store.is_dir() {
        return Err(CliError::io(format!(
            "{}: a folder: give the store's file path",
            store.store.display()
        )));
    }
    let exists = store.store.exists();
    if exists && !update {
        return Err(CliError::io(format!(
            "{} already exists: use --update to apply the purposes to it",
            store.store.display()
        )));
    }
    if !exists && update {
        return Err(CliError::new(
            crate::error::Class::NotFound,
            format!("no store at {}", store.store.display()),
        ));
    }
    let opened = if exists {
        // Check the key and file before touching anything.
        drop(Store::open_existing(&store.store, &key)?);
        Store::open(&store.store, &key, &purposes)?
    } else {
        Store::create(&store.store, &key, &purposes)?
    };
    let list: Vec<Value> = opened.purposes().map(describe).collect();
    let mut human = format!(
        "{} store {} with {} purpose(s):\n",
        if exists { "updated" } else { "created" },
        store.store.display(),
        purposes.len()
    );
    for p in &purposes {
        human.push_str(&format!(
            "  {:<20} {} dim {}, application {} v{}, threshold {}, max retention {}\n",
            p.name,
            p.params.scheme_id().name(),
            p.params.dim(),
            p.application,
            p.transform_version,
            p.threshold,
            format_duration(p.max_retention.as_secs())
        ));
    }
    Ok(Report::ok(
        human,
        json!({
            "store": store.store,
            "created": !exists,
            "store_id": super::hex(&opened.store_id()),
            "purposes": list,
        }),
    ))
}

/// A purpose as JSON.
pub fn describe(p: &Purpose) -> Value {
    json!({
        "name": p.name,
        "scheme": p.params.scheme_id().name(),
        "dim": p.params.dim(),
        "code_len": p.params.layout().len(),
        "application": p.application,
        "version": p.transform_version,
        "threshold": p.threshold,
        "max_retention_secs": p.max_retention.as_secs(),
    })
}
