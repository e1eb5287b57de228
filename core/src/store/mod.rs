//! The encrypted template store and its tamper-evident audit log.
pub mod audit;
