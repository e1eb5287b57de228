//! One module per group of commands; each turns arguments into core calls
//! and a [`Report`](crate::output::Report).

pub mod audit;
pub mod enroll;
pub mod erase;
pub mod eval;
pub mod init;
pub mod keygen;
pub mod maintain;
pub mod query;
pub mod stats;

use btp::store::Store;

use crate::args::StoreArgs;
use crate::error::Result;
use crate::keyfile;

/// Loads the key, then opens the existing store with its purposes.
pub fn open(args: &StoreArgs) -> Result<Store> {
    let key = keyfile::load(args.key_file.as_ref())?;
    Ok(Store::open_existing(&args.store, &key)?)
}

/// Hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
