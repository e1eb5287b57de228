//! The command line's grammar (clap derive). Commands live in `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::error::EXIT_CODES_HELP;

const ABOUT: &str = "Biometric template protection: protected templates in an encrypted store, \
retention, erasure, key rotation, audit and evaluation.";

const LONG_ABOUT: &str = "\
Biometric template protection: cancellable templates (ISO/IEC 24745 style) in an
AES-GCM encrypted SQLite store with purposes, retention sweeps, legal holds,
erasure, key rotation and a keyed hash-chained audit log; evaluation of score files.

Start with `btp demo`. Keys are never given on the command line: use --key-file
PATH (or BTP_KEY_FILE), or BTP_KEY holding 64 hex characters. `btp keygen` writes
a key file readable only by its owner; group- or world-readable key files are
refused. The store is --store PATH (or BTP_STORE); who acts is --actor (or
BTP_ACTOR) and every operation on personal data is audited with its --reason.";

/// The `btp` command.
#[derive(Debug, Parser)]
#[command(name = "btp", version, about = ABOUT, long_about = LONG_ABOUT, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    /// Print one JSON object on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// No progress bars.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// Where the store is and which key opens it.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The store file.
    #[arg(long, env = "BTP_STORE", value_name = "PATH")]
    pub store: PathBuf,
    /// File holding the master key (64 hex characters); else BTP_KEY.
    #[arg(long, env = "BTP_KEY_FILE", value_name = "PATH")]
    pub key_file: Option<PathBuf>,
}

/// Who acts and why (audited).
#[derive(Debug, Args)]
pub struct Who {
    /// Who acts: operator, officer or service id.
    #[arg(long, env = "BTP_ACTOR")]
    pub actor: String,
    /// Why: legal basis, case or request reference.
    #[arg(long)]
    pub reason: String,
}

/// Who acts, and why if not the command's default reason.
#[derive(Debug, Args)]
pub struct WhoDefault {
    /// Who acts: operator, officer or service id.
    #[arg(long, env = "BTP_ACTOR")]
    pub actor: String,
    /// Why (the command has a default).
    #[arg(long)]
    pub reason: Option<String>,
}

/// A retention choice.
#[derive(Debug, Args)]
#[group(multiple = false)]
pub struct RetentionArgs {
    /// Keep this long from now: e.g. 90d, 5y (units s, min, h, d, w, y); default: the purpose's maximum.
    #[arg(long, value_name = "DURATION")]
    pub retention: Option<String>,
    /// Keep until this date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, UTC).
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole job on generated identities and report the figures.
    Demo {
        /// Keep the key, store and audit export in DIR (default: a temporary folder, removed).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// A smaller population: a few seconds.
        #[arg(long)]
        quick: bool,
    },
    /// Write a new random master key to a file readable only by its owner.
    Keygen {
        /// The key file to create (never overwritten).
        #[arg(long, value_name = "PATH")]
        out: PathBuf,
    },
    /// Create a store with the purposes of a TOML file.
    Init {
        #[command(flatten)]
        store: StoreArgs,
        /// The purposes file (see the README).
        #[arg(long, value_name = "TOML")]
        config: PathBuf,
        /// Apply the file to an existing store: add new purposes, change thresholds and retention limits.
        #[arg(long)]
        update: bool,
    },
    /// Enrol subjects from feature vectors (.npy with --subjects, or CSV `subject,x1,...`).
    Enroll {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        who: Who,
        /// The purpose.
        #[arg(long)]
        purpose: String,
        /// Feature vectors: .npy (float32/float64, one row per subject) or CSV.
        #[arg(long, value_name = "FILE")]
        input: PathBuf,
        /// Subject ids of the .npy rows, one per line.
        #[arg(long, value_name = "FILE", conflicts_with = "subject")]
        subjects: Option<PathBuf>,
        /// The subject id of a one-row .npy.
        #[arg(long)]
        subject: Option<String>,
        #[command(flatten)]
        retention: RetentionArgs,
    },
    /// 1:1: does the probe match the subject? Exit 0 match, 1 no match.
    Verify {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        who: Who,
        /// The purpose.
        #[arg(long)]
        purpose: String,
        /// The claimed subject id.
        #[arg(long)]
        subject: String,
        /// The probe: .npy (one vector) or text values.
        #[arg(long, value_name = "FILE")]
        input: PathBuf,
    },
    /// 1:N: candidate list for human review. Exit 0 candidates, 1 none.
    Identify {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        who: Who,
        /// The purpose.
        #[arg(long)]
        purpose: String,
        /// The probe: .npy (one vector) or text values.
        #[arg(long, value_name = "FILE")]
        input: PathBuf,
        /// At most this many candidates.
        #[arg(short, default_value_t = 10)]
        k: usize,
        /// Minimum score (default: the purpose's threshold).
        #[arg(long)]
        threshold: Option<f64>,
    },
    /// Record a human review of an identification.
    Review {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        who: WhoDefault,
        /// The identification's event number (printed by `btp identify`).
        #[arg(long)]
        event: u64,
        /// confirmed:RECORD, rejected or inconclusive.
        #[arg(long)]
        outcome: String,
        /// Who reviewed.
        #[arg(long)]
        reviewer: String,
    },
    /// Erase a data subject's records (all purposes, or one). Refused under a legal hold.
    Erase {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        who: Who,
        /// The subject id.
        #[arg(long)]
        subject: String,
        /// Only this purpose.
        #[arg(long)]
        purpose: Option<String>,
    },
    /// Place a legal hold on a subject or a record: no sweep or erasure touches it.
    Hold {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        who: Who,
        /// Hold every record of this subject.
        #[arg(long, required_unless_present = "record", conflicts_with = "record")]
        subject: Option<String>,
        /// Hold this record.
        #[arg(long)]
        record: Option<i64>,
    },
    /// Release a legal hold.
    Release {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        who: Who,
        /// The hold's id (printed by `btp hold`).
        #[arg(long)]
        hold: i64,
    },
    /// Delete expired records (for cron: silent on success, non-zero exit on failure).
    Sweep {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        who: WhoDefault,
        /// Report what was deleted.
        #[arg(long, short)]
        verbose: bool,
        /// Then check the whole file's structure (reads it all).
        #[arg(long)]
        check_integrity: bool,
    },
    /// Rotate storage keys: re-encrypt records under a new key version.
    RotateKey {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        who: WhoDefault,
        /// Only this purpose (default: all).
        #[arg(long)]
        purpose: Option<String>,
    },
    /// The audit log: verify, head, export.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Transparency report for a period: operations per purpose, gallery sizes.
    Stats {
        #[command(flatten)]
        store: StoreArgs,
        /// First day (YYYY-MM-DD, UTC; default: the beginning).
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Last day, included (YYYY-MM-DD; a date-time is exclusive; default: now).
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
    },
    /// Evaluate genuine and impostor score files: EER, FNMR at FMR, thresholds, DET plot.
    Eval {
        /// Genuine (mated) scores: one number per line, or a 1-D .npy.
        #[arg(long, value_name = "FILE")]
        genuine: PathBuf,
        /// Impostor (non-mated) scores: one number per line, or a 1-D .npy.
        #[arg(long, value_name = "FILE")]
        impostor: PathBuf,
        /// Target false match rate(s) (repeat for several).
        #[arg(long, value_name = "RATE", default_values_t = [0.001])]
        fmr: Vec<f64>,
        /// Write the DET curve (probit axes) as SVG.
        #[arg(long, value_name = "FILE.svg")]
        det: Option<PathBuf>,
    },
}

/// `btp audit` commands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify the whole chain (exit 5 when broken).
    Verify {
        #[command(flatten)]
        store: StoreArgs,
        /// Also check that the log still holds this head (SEQ:MAC from `btp audit head`).
        #[arg(long, value_name = "SEQ:MAC")]
        expect_head: Option<String>,
    },
    /// Print the newest event's sequence number and MAC: keep it elsewhere.
    Head {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Export events as JSON lines.
    Export {
        #[command(flatten)]
        store: StoreArgs,
        /// Write to this file (never overwritten) instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Events from this date (UTC).
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Events before this date.
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
        /// Events of this purpose.
        #[arg(long)]
        purpose: Option<String>,
        /// Events of this action (enroll, verify, identify, review, erase, sweep, ...).
        #[arg(long)]
        action: Option<String>,
    },
}
