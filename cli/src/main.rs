//! `btp`: the command line of btp. Parses, dispatches to `commands/`,
//! prints the report and exits with the documented code (see `error.rs`
//! and `btp --help`). Domain logic lives in the core crate.

mod args;
mod commands;
mod config;
mod demo;
mod error;
mod input;
mod keyfile;
mod output;
mod plot;
mod progress;
mod time;

use std::process::ExitCode;

use clap::Parser;

use args::{AuditCommand, Cli, Command};
use error::Result;
use output::Report;
use progress::Progress;

fn main() -> ExitCode {
    // A bug must still end as one line, never a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "btp: internal error: {}{at} (a bug: please report it)",
            msg.replace('\n', " ")
        );
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version exit 0, usage errors 2 (clap's codes).
        Err(e) => e.exit(),
    };
    let progress = Progress::new(cli.quiet || cli.json);
    match run(&cli, progress) {
        Ok(Some(report)) => {
            report.print(cli.json);
            ExitCode::from(report.code)
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("btp: error: {e}");
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
