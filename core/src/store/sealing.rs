//! Records sealed and opened under their purpose's storage key: the step
//! between a template in memory and a row (see `crypto` for the format,
//! `keyring` for the key versions, `records` for the rows).

use rusqlite::Connection;
use zeroize::Zeroizing;

use super::crypto::{Binding, RecordCipher};
use super::keyring;
use super::records::{RecordKind, Row};
use super::{RecordId, Served, Store, Timestamp};
use crate::error::{Error, Result};
use crate::template::ProtectedTemplate;

impl Store {
    fn cipher(&self, purpose: &str, version: u32) -> RecordCipher {
        RecordCipher::new(&self.master, purpose, version)
    }

    fn binding<'a>(&'a self, row: &'a Row) -> Binding<'a> {
        Binding {
            store_id: &self.store_id,
            record: row.id,
            purpose: &row.purpose,
            subject_hash: &row.subject_hash,
            key_version: row.key_version,
            expires_at: row.expires_at,
            kind: row.kind.code(),
        }
    }

    /// Seals a new record `id` (see `records::next_id`) of `subject` under
    /// the purpose's active storage key, counting the encryption.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn seal(
        &self,
        conn: &Connection,
        id: RecordId,
        purpose: &str,
        kind: RecordKind,
        subject: &str,
        subject_hash: [u8; 32],
        expires_at: Timestamp,
        template: &[u8],
    ) -> Result<Row> {
        let mut row = Row {
            id,
            purpose: purpose.to_owned(),
            subject_hash,
            kind,
            expires_at,
            key_version: 0,
            nonce: Vec::new(),
            ciphertext: Vec::new(),
        };
        self.reseal(conn, &mut row, subject, template)?;
        Ok(row)
    }

    /// Encrypts `(subject, template)` into `row` under its purpose's active
    /// storage key with a fresh nonce, counting the encryption.
    pub(super) fn reseal(
        &self,
        conn: &Connection,
        row: &mut Row,
        subject: &str,
        template: &[u8],
    ) -> Result<()> {
        row.key_version =
            keyring::take_encryption(conn, &row.purpose, self.options.max_encryptions_per_key)?;
        let (nonce, ct) = self.cipher(&row.purpose, row.key_version).seal(
            &self.binding(row),
            subject,
            template,
        )?;
        row.nonce = nonce.to_vec();
        row.ciphertext = ct;
        Ok(())
    }

    /// Decrypts a row: (subject id or case reference, template bytes).
    /// [`Error::Integrity`] when it does not authenticate with its columns.
    pub(super) fn unseal(&self, row: &Row) -> Result<(Zeroizing<String>, Zeroizing<Vec<u8>>)> {
        self.cipher(&row.purpose, row.key_version).open(
            &self.binding(row),
            &row.nonce,
            &row.ciphertext,
        )
    }

    /// Decrypts a row and decodes its template, checked against the purpose.
    pub(super) fn open_row(
        &self,
        served: &Served,
        row: &Row,
    ) -> Result<(Zeroizing<String>, ProtectedTemplate)> {
        let (subject, bytes) = self.unseal(row)?;
        let template = ProtectedTemplate::from_bytes(&bytes)
            .map_err(|_| Error::Integrity { record: row.id })?;
        served
            .protector
            .check(&template)
            .map_err(|_| Error::Integrity { record: row.id })?;
        Ok((subject, template))
    }
}
