//! The master key: written by `btp keygen`, read by every other command
//! from a file (`--key-file`, `BTP_KEY_FILE`) or from `BTP_KEY`, never from
//! the command line itself (it would show in `ps` and shell history).
//!
//! A key file holds the 32 key bytes as 64 hexadecimal characters and a
//! newline (32 raw bytes are accepted too). Like ssh, a key file that its
//! group or others may read or write is refused.

use std::fs::OpenOptions;
use std::io::Read;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use btp::MasterKey;
use zeroize::Zeroizing;

use crate::error::{CliError, Result};
use crate::files::{is_stdout, OutputFile};

/// Environment variable holding the key as 64 hex characters.
pub const KEY_ENV: &str = "BTP_KEY";
/// Environment variable naming the key file (also read by clap).
pub const KEY_FILE_ENV: &str = "BTP_KEY_FILE";

const KEY_LEN: usize = 32;

/// Writes a new random key to `path` as hex, mode 0600, failing if the
/// file exists (created atomically with `O_EXCL`).
pub fn generate(path: &Path) -> Result<()> {
    let key = MasterKey::generate()?;
    write_new(path, key.expose_secret())
}

/// Writes `bytes` as a new key file (hex, mode 0600, never overwriting;
/// removed again if the write fails).
pub fn write_new(path: &Path, bytes: &[u8; KEY_LEN]) -> Result<()> {
    if is_stdout(path) {
        return Err(CliError::usage(
            "the key is written to a file only (mode 0600), not to stdout: give --out PATH",
        ));
    }
    let mut file = OutputFile::create_with(path, OpenOptions::new().mode(0o600))?;
    let mut text = Zeroizing::new(String::with_capacity(2 * KEY_LEN + 1));
    for b in bytes {
        text.push(hex_digit(b >> 4));
        text.push(hex_digit(b & 0xf));
    }
    text.push('\n');
    file.write_bytes(text.as_bytes())?;
    file.finish()
}

fn hex_digit(n: u8) -> char {
    char::from_digit(u32::from(n), 16).expect("a nibble")
}

/// Where the key comes from, in order: `--key-file` (or `BTP_KEY_FILE`,
/// through clap), then `BTP_KEY`.
pub fn load(key_file: Option<&PathBuf>) -> Result<MasterKey> {
    if let Some(path) = key_file {
        return read_file(path);
    }
    if let Some(value) = std::env::var_os(KEY_ENV) {
        let value = Zeroizing::new(
            value
                .into_string()
                .map_err(|_| CliError::key(format!("{KEY_ENV} is not valid text")))?,
        );
        return parse_hex(value.trim()).ok_or_else(|| {
            CliError::key(format!("{KEY_ENV} must hold 64 hexadecimal characters"))
        });
    }
    Err(CliError::key(format!(
        "no key: give --key-file PATH, or set {KEY_FILE_ENV} or {KEY_ENV}"
    )))
}

/// Reads a key file, refusing one that others may read or write.
pub fn read_file(path: &Path) -> Result<MasterKey> {
    let mut file = std::fs::File::open(path)
        .map_err(|e| CliError::key(format!("cannot read key file {}: {e}", path.display())))?;
    let meta = file
        .metadata()
        .map_err(|e| CliError::key(format!("key file {}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(CliError::key(format!(
            "key file {} is not a regular file",
            path.display()
        )));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(CliError::key(format!(
            "key file {} is accessible by group or others (mode {mode:03o}): run `chmod 600 {}`",
            path.display(),
            path.display()
        )));
    }
    let mut bytes = Zeroizing::new(Vec::with_capacity(2 * KEY_LEN + 2));
    Read::by_ref(&mut file)
        .take(4096)
        .read_to_end(&mut bytes)
        .map_err(|e| CliError::key(format!("cannot read key file {}: {e}", path.display())))?;
    let malformed = || {
        CliError::key(format!(
            "key file {} must hold 64 hexadecimal characters (or 32 raw bytes)",
            path.display()
        ))
    };
    if let Some(key) = std::str::from_utf8(&bytes)
        .ok()
        .and_then(|t| parse_hex(t.trim()))
    {
        return Ok(key);
    }
    if bytes.len() == KEY_LEN {
        return MasterKey::from_bytes(&bytes).map_err(|_| malformed());
    }
    Err(malformed())
}

fn parse_hex(text: &str) -> Option<MasterKey> {
    if text.len() != 2 * KEY_LEN || !text.is_ascii() {
        return None;
    }
    let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
    for (i, pair) in text.as_bytes().chunks(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        bytes[i] = (hi * 16 + lo) as u8;
    }
    MasterKey::from_bytes(&bytes[..]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        write_new(&path, &[0xab; 32]).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(read_file(&path).unwrap().expose_secret(), &[0xab; 32]);
        assert!(write_new(&path, &[1; 32]).is_err());
        assert_eq!(read_file(&path).unwrap().expose_secret(), &[0xab; 32]);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert!(read_file(&path).unwrap_err().message.contains("chmod 600"));
        assert!(parse_hex("zz").is_none());
        assert!(parse_hex(&"g".repeat(64)).is_none());
        assert!(parse_hex(&"0f".repeat(32)).is_some());
    }
}
