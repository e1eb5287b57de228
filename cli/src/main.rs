//! `btp`: the command line of btp. Parses, dispatches to `commands/`,
//! prints the report and exits with the documented code (see `error.rs`
//! and `btp --help`). Domain logic lives in the core crate.

#![deny(unsafe_code)]

mod args;
mod commands;
mod config;
mod demo;
mod error;
mod files;
mod input;
mod keyfile;
mod npy;
mod output;
mod plot;
mod progress;
mod time;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use args::{AuditCommand, Cli, Command};
use error::{code, Result};
use output::Report;
use progress::Progress;

/// Writes errors past a file-size limit fail with `EFBIG` (reported, exit
/// 8) instead of the kernel killing the process with `SIGXFSZ` and no word.
/// (Rust already ignores `SIGPIPE`: a closed stdout is an `EPIPE` error.)
#[allow(unsafe_code)]
fn ignore_file_size_signal() {
    // SAFETY: called first in `main`, before any other thread exists;
    // setting a signal's disposition to SIG_IGN installs no handler code.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// One line on stderr, even if stderr is gone.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn main() -> ExitCode {
    ignore_file_size_signal();
    // A bug must still end as one line, never a backtrace (exit 101).
    std::panic::set_hook(Box::new(|info| say(&error::panic_line(info))));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version: their text on stdout, exit 0.
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            let args: Vec<String> = std::env::args_os()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            say(&format!("btp: error: {}", error::usage_line(&e, &args)));
            return ExitCode::from(code::USAGE);
        }
    };
    let progress = Progress::new(cli.quiet || cli.json);
    let outcome = run(&cli, progress).and_then(|report| match report {
        Some(report) => report.print(cli.json).map(|()| report.code),
        None => Ok(code::OK),
    });
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            say(&format!("btp: error: {e}"));
            ExitCode::from(e.class.code())
        }
    }
}

fn run(cli: &Cli, progress: Progress) -> Result<Option<Report>> {
    use commands::*;
    let report = match &cli.command {
        Command::Demo { dir, quick } => demo::run(dir.as_deref(), *quick, cli.json, progress)?,
        Command::Keygen { out } => keygen::run(out)?,
        Command::Init {
            store,
            config,
            update,
        } => init::run(store, config, *update)?,
        Command::Enroll {
            store,
            who,
            purpose,
            input,
            subjects,
            subject,
            retention,
        } => enroll::run(
            store,
            who,
            purpose,
            input,
            subjects.as_deref(),
            subject.as_deref(),
            retention,
            progress,
        )?,
        Command::Verify {
            store,
            who,
            purpose,
            subject,
            input,
        } => query::verify(store, who, purpose, subject, input)?,
        Command::Identify {
            store,
            who,
            purpose,
            input,
            k,
            threshold,
        } => query::identify(store, who, purpose, input, *k, *threshold)?,
        Command::Review {
            store,
            who,
            event,
            outcome,
            reviewer,
        } => query::review(store, who, *event, outcome, reviewer)?,
        Command::Erase {
            store,
            who,
            subject,
            purpose,
        } => erase::erase(store, who, subject, purpose.as_deref())?,
        Command::Hold {
            store,
            who,
            subject,
            record,
        } => erase::hold(store, who, subject.as_deref(), *record)?,
        Command::Release { store, who, hold } => erase::release(store, who, *hold)?,
        Command::Sweep {
            store,
            who,
            verbose,
            check_integrity,
        } => maintain::sweep(store, who, *verbose, *check_integrity, progress)?,
        Command::RotateKey {
            store,
            who,
            purpose,
        } => maintain::rotate(store, who, purpose.as_deref(), progress)?,
        Command::Audit { command } => match command {
            AuditCommand::Verify { store, expect_head } => {
                audit::verify(store, expect_head.as_deref(), progress)?
            }
            AuditCommand::Head { store } => audit::head(store)?,
            AuditCommand::Export {
                store,
                out,
                from,
                to,
                purpose,
                action,
            } => {
                return audit::export(
                    store,
                    out.as_deref(),
                    from.as_deref(),
                    to.as_deref(),
                    purpose.as_deref(),
                    action.as_deref(),
                )
            }
        },
        Command::Stats { store, from, to } => stats::run(store, from.as_deref(), to.as_deref())?,
        Command::Eval {
            genuine,
            impostor,
            fmr,
            det,
        } => eval::run(genuine, impostor, fmr, det.as_deref(), progress)?,
    };
    Ok(Some(report))
}
