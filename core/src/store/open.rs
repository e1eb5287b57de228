//! Creating a new store file and opening an existing one: the file's
//! recognition and schema (see `schema`), the store id and key check, the
//! purposes served. A creation that fails removes its file; an open never
//! creates one.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;

use rand::rngs::OsRng;
use rand::TryRngCore;
use rusqlite::{Connection, TransactionBehavior};

use super::audit::{self, Action};
use super::purpose::register_purpose;
use super::{checked_time, schema, system_now, Purpose, Served, Store, StoreOptions, Timestamp};
use crate::error::{Error, Result};
use crate::keys::{KeyUsage, MasterKey};
use crate::protector::Protector;

const KEY_CHECK_LABEL: &[u8] = b"btp/store/key-check";

/// How [`Store::open_at`] treats the path.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A new file: the path must not exist.
    Create,
    /// An existing, non-empty btp store: never created.
    Open,
}

impl Store {
    /// Creates a new store at `path` with default options. See
    /// [`Store::create_with`].
    pub fn create(
        path: impl AsRef<Path>,
        master: &MasterKey,
        purposes: &[Purpose],
    ) -> Result<Self> {
        Self::create_with(path, master, purposes, StoreOptions::default())
    }

    /// Creates a new store at `path`: a new file (mode 0600 on Unix) with a
    /// random store id, a key check and the purposes, and its creation in
    /// the audit log.
    ///
    /// Never opens what is already there: an existing path (a store, an
    /// empty file, anything) is [`Error::Io`] and is left untouched, so a
    /// mistyped path cannot reinitialise a store. A creation that fails
    /// removes the file it made.
    pub fn create_with(
        path: impl AsRef<Path>,
        master: &MasterKey,
        purposes: &[Purpose],
        options: StoreOptions,
    ) -> Result<Self> {
        Self::open_at(path.as_ref(), master, purposes, options, Mode::Create)
    }

    /// Opens the existing store at `path` with default options. See
    /// [`Store::open_with`].
    pub fn open(path: impl AsRef<Path>, master: &MasterKey, purposes: &[Purpose]) -> Result<Self> {
        Self::open_with(path, master, purposes, StoreOptions::default())
    }

    /// Opens the existing store at `path`, serving `purposes`.
    ///
    /// Never creates a file: a missing path is [`Error::Missing`], an empty
    /// file, a directory or another kind of file [`Error::NotAStore`] (see
    /// [`Store::create`] for a new store). The file must be a btp store of a
    /// schema this build reads (older ones are migrated), made with this
    /// master key. Each configured purpose must agree with the stored one on
    /// scheme, parameters, application and transform version (threshold and
    /// maximum retention may change: the change is audited); a purpose the
    /// file does not have yet is added. Purposes in the file but not
    /// configured stay untouched and unusable through this handle
    /// ([`Store::open_existing`] serves every stored purpose).
    pub fn open_with(
        path: impl AsRef<Path>,
        master: &MasterKey,
        purposes: &[Purpose],
        options: StoreOptions,
    ) -> Result<Self> {
        Self::open_at(path.as_ref(), master, purposes, options, Mode::Open)
    }

    fn open_at(
        path: &Path,
        master: &MasterKey,
        purposes: &[Purpose],
        options: StoreOptions,
        mode: Mode,
    ) -> Result<Self> {
        options.validate()?;
        let mut names = std::collections::HashSet::new();
        for p in purposes {
            p.validate()?;
            if !names.insert(p.name.as_str()) {
                return Err(Error::param(
                    "purposes",
                    format!("purpose `{}` is given twice", p.name),
                ));
            }
        }
        match mode {
            Mode::Open => schema::check_existing(path)?,
            Mode::Create => schema::create_file(path)?,
        }
        let opened = Self::open_file(path, master, purposes, options, mode);
        if opened.is_err() && mode == Mode::Create {
            schema::remove_files(path);
        }
        opened
    }

    fn open_file(
        path: &Path,
        master: &MasterKey,
        purposes: &[Purpose],
        options: StoreOptions,
        mode: Mode,
    ) -> Result<Self> {
        let mut conn = schema::connect(path)?;
        schema::configure(&conn, options.busy_timeout)?;
        let found = schema::prepare(&mut conn, mode == Mode::Create)?;
        let master = MasterKey::from_bytes(master.expose_secret())?;
        let clock = options.clock.clone();
        let now = move || -> Result<Timestamp> {
            checked_time(clock.as_ref().map_or_else(system_now, |c| c()))
        };

        let store_id = match found {
            schema::Found::Created => {
                let mut id = [0u8; 16];
                OsRng.try_fill_bytes(&mut id).map_err(|_| Error::Rng)?;
                let now = now()?;
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let audit_key = master.derive(&KeyUsage::Audit { store_id: &id });
                let check = audit_key.mac(&[KEY_CHECK_LABEL]);
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES ('store_id', ?1)",
                    [&id[..]],
                )?;
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES ('key_check', ?1)",
                    [&check[..]],
                )?;
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES ('created_at', ?1)",
                    [now.to_string().into_bytes()],
                )?;
                let mut ev = audit::NewEvent::new("btp", Action::StoreCreated, "store created");
                ev.detail
                    .insert("schema_version".into(), schema::SCHEMA_VERSION.into());
                audit::append(&tx, &audit_key, now, &ev)?;
                tx.commit()?;
                read_store_id(&conn)?
            }
            schema::Found::Existing => read_store_id(&conn)?,
        };
        let audit_key = master.derive(&KeyUsage::Audit {
            store_id: &store_id,
        });
        let subject_key = master.derive(&KeyUsage::SubjectIndex {
            store_id: &store_id,
        });
        let check = schema::meta(&conn, "key_check")?
            .ok_or_else(|| Error::NotAStore("no key check".into()))?;
        if check != audit_key.mac(&[KEY_CHECK_LABEL]) {
            return Err(Error::WrongKey);
        }

        let mut served = BTreeMap::new();
        if !purposes.is_empty() {
            let now = now()?;
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for p in purposes {
                register_purpose(&tx, &audit_key, now, p)?;
            }
            tx.commit()?;
        }
        for p in purposes {
            let protector = Protector::new(
                p.params.clone(),
                &master,
                &p.application,
                p.transform_version,
                None,
            )?;
            served.insert(
                p.name.clone(),
                Served {
                    purpose: p.clone(),
                    protector,
                },
            );
        }
        Ok(Self {
            conn: Mutex::new(conn),
            store_id,
            master,
            audit_key,
            subject_key,
            purposes: served,
            caches: Mutex::new(HashMap::new()),
            options,
        })
    }
}

fn read_store_id(conn: &Connection) -> Result<[u8; 16]> {
    let v =
        schema::meta(conn, "store_id")?.ok_or_else(|| Error::NotAStore("no store id".into()))?;
    v.as_slice()
        .try_into()
        .map_err(|_| Error::NotAStore("malformed store id".into()))
}
