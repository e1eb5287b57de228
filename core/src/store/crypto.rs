//! Record encryption: AES-256-GCM under a storage key per (purpose, key
//! version), a fresh random 96-bit nonce per encryption, and associated
//! data that binds the record to its place:
//!
//! ```text
//! aad = "btp/record/v1" || store id (16) || record id (i64 BE)
//!       || purpose length (u32 BE) || purpose || subject hash (32)
//!       || key version (u32 BE) || expires at (i64 BE) || kind (u8)
//! ```
//!
//! A row edited in the file (longer expiry, other purpose, other subject,
//! swapped ciphertexts between rows) fails to decrypt: [`Error::Integrity`]
//! naming the record.
//!
//! The plaintext is `format (1) || subject length (u16 BE) || subject id ||
//! template bytes`: the subject id is only ever stored encrypted.
//!
//! Random 96-bit nonces stay safe up to 2^32 encryptions per key (NIST SP
//! 800-38D 8.3); the store counts them per key and refuses past its limit.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use rand::rngs::OsRng;
use rand::TryRngCore;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::keys::{KeyUsage, MasterKey};

/// Encryptions allowed per storage key with random nonces.
pub const NONCE_LIMIT: u64 = 1 << 32;
/// Nonce length in bytes.
pub const NONCE_LEN: usize = 12;
const PLAINTEXT_FORMAT: u8 = 1;

/// Where a record sits: everything the associated data binds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Binding<'a> {
    pub store_id: &'a [u8; 16],
    pub record: i64,
    pub purpose: &'a str,
    pub subject_hash: &'a [u8; 32],
    pub key_version: u32,
    pub expires_at: i64,
    pub kind: u8,
}

impl Binding<'_> {
    fn aad(&self) -> Vec<u8> {
        let mut a = Vec::with_capacity(96 + self.purpose.len());
        a.extend_from_slice(b"btp/record/v1");
        a.extend_from_slice(self.store_id);
        a.extend_from_slice(&self.record.to_be_bytes());
        a.extend_from_slice(&(self.purpose.len() as u32).to_be_bytes());
        a.extend_from_slice(self.purpose.as_bytes());
        a.extend_from_slice(self.subject_hash);
        a.extend_from_slice(&self.key_version.to_be_bytes());
        a.extend_from_slice(&self.expires_at.to_be_bytes());
        a.push(self.kind);
        a
    }
}

/// The cipher of one (purpose, storage key version).
pub(crate) struct RecordCipher {
    aead: Aes256Gcm,
}

impl RecordCipher {
    pub(crate) fn new(master: &MasterKey, purpose: &str, version: u32) -> Self {
        let key = master.derive(&KeyUsage::Storage { purpose, version });
        let aead = Aes256Gcm::new_from_slice(key.expose_secret()).expect("32-byte AES-256 key");
        Self { aead }
    }

    /// Encrypts `(subject, template)` for `binding`; returns (nonce, ciphertext).
    pub(crate) fn seal(
        &self,
        binding: &Binding<'_>,
        subject: &str,
        template: &[u8],
    ) -> Result<([u8; NONCE_LEN], Vec<u8>)> {
        let subject_len = u16::try_from(subject.len())
            .map_err(|_| Error::param("subject", "longer than 65535 bytes"))?;
        let mut plain = Zeroizing::new(Vec::with_capacity(3 + subject.len() + template.len()));
        plain.push(PLAINTEXT_FORMAT);
        plain.extend_from_slice(&subject_len.to_be_bytes());
        plain.extend_from_slice(subject.as_bytes());
        plain.extend_from_slice(template);
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.try_fill_bytes(&mut nonce).map_err(|_| Error::Rng)?;
        let aad = binding.aad();
        let ct = self
            .aead
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &plain,
                    aad: &aad,
                },
            )
            .map_err(|_| Error::database("encryption failed"))?;
        Ok((nonce, ct))
    }

    /// Decrypts a record; returns (subject id, template bytes).
    pub(crate) fn open(
        &self,
        binding: &Binding<'_>,
        nonce: &[u8],
        ciphertext: &[u8],
    ) -> Result<(Zeroizing<String>, Zeroizing<Vec<u8>>)> {
        let integrity = || Error::Integrity {
            record: binding.record,
        };
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| integrity())?;
        let aad = binding.aad();
        let plain = Zeroizing::new(
            self.aead
                .decrypt(
                    &Nonce::from(nonce),
                    Payload {
                        msg: ciphertext,
                        aad: &aad,
                    },
                )
                .map_err(|_| integrity())?,
        );
        if plain.len() < 3 || plain[0] != PLAINTEXT_FORMAT {
            return Err(integrity());
        }
        let n = usize::from(u16::from_be_bytes([plain[1], plain[2]]));
        if plain.len() < 3 + n {
            return Err(integrity());
        }
        let subject = std::str::from_utf8(&plain[3..3 + n]).map_err(|_| integrity())?;
        Ok((
            Zeroizing::new(subject.to_owned()),
            Zeroizing::new(plain[3 + n..].to_vec()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(record: i64) -> Binding<'static> {
        Binding {
            store_id: &[1; 16],
            record,
            purpose: "gate",
            subject_hash: &[2; 32],
            key_version: 1,
            expires_at: 1000,
            kind: 0,
        }
    }

    #[test]
    fn round_trip_and_every_binding_field_counts() {
        let mk = MasterKey::from_bytes(&[3; 32]).unwrap();
        let c = RecordCipher::new(&mk, "gate", 1);
        let b = binding(7);
        let (nonce, ct) = c.seal(&b, "alice", b"template").unwrap();
        let (s, t) = c.open(&b, &nonce, &ct).unwrap();
        assert_eq!((s.as_str(), t.as_slice()), ("alice", &b"template"[..]));
        let other_store = [9u8; 16];
        let other_hash = [9u8; 32];
        let variants = [
            Binding { record: 8, ..b },
            Binding {
                purpose: "watch",
                ..b
            },
            Binding {
                store_id: &other_store,
                ..b
            },
            Binding {
                subject_hash: &other_hash,
                ..b
            },
            Binding {
                key_version: 2,
                ..b
            },
            Binding {
                expires_at: 1001,
                ..b
            },
            Binding { kind: 1, ..b },
        ];
        for v in variants {
            assert_eq!(
                c.open(&v, &nonce, &ct).unwrap_err(),
                Error::Integrity { record: v.record }
            );
        }
        let mut bad = ct.clone();
        bad[0] ^= 1;
        assert!(c.open(&b, &nonce, &bad).is_err());
        assert!(c.open(&b, &nonce[..11], &ct).is_err());
        // Another purpose's key cannot read it.
        assert!(RecordCipher::new(&mk, "watch", 1)
            .open(&b, &nonce, &ct)
            .is_err());
        assert!(RecordCipher::new(&mk, "gate", 2)
            .open(&b, &nonce, &ct)
            .is_err());
        // Nonces are fresh.
        let (n2, _) = c.seal(&b, "alice", b"template").unwrap();
        assert_ne!(nonce, n2);
    }
}
