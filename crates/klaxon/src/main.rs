//! The `klaxon` binary: `klaxon serve` runs the server; every other command is a client
//! of its REST API (only `serve` and `migrate` touch the database, through the server
//! library). Exit codes: 0 ok, 1 failure, 2 usage.
#![forbid(unsafe_code)]

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cli;
mod evidence;
mod output;
mod render;
mod serve;
mod time;

use std::process::ExitCode;

use clap::Parser;
use klaxon_client::ClientError;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let mut runtime = if cli::is_server(&cli) {
        // One worker per core unless `--workers` says otherwise; tokio itself reads
        // TOKIO_WORKER_THREADS when no count is set here.
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        if let Some(workers) = cli::server_workers(&cli) {
            builder.worker_threads(workers);
        }
        builder
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match runtime.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report(&e),
    }
}

/// Explains a failure on stderr, the way a person should read it, and picks the exit code.
fn report(err: &anyhow::Error) -> ExitCode {
    if err.is::<cli::Reported>() {
        return ExitCode::from(1);
    }
    if let Some(usage) = err.downcast_ref::<cli::Usage>() {
        eprintln!("error: {usage}");
        return ExitCode::from(2);
    }
    match err.downcast_ref::<ClientError>() {
        Some(ClientError::Api(problem)) => {
            let detail = err_text(err);
            eprintln!("error: {detail}");
            for field in &problem.errors {
                let line = format!("{}: {}", field.field, field.message);
                // A single field error is often the detail itself.
                if line != detail {
                    eprintln!("  {line}");
                }
            }
            match problem.status {
                401 => eprintln!("hint: check KLAXON_TOKEN; the server does not accept this token"),
                403 => eprintln!("hint: this token's scope does not allow that; ask an admin for a token with the right scope"),
                _ => {}
            }
        }
        Some(ClientError::Transport(_)) => {
            eprintln!("error: {}", err_text(err));
            eprintln!("hint: is the server running? Start one with `klaxon serve`, or point KLAXON_URL (--url) at it");
        }
        _ => eprintln!("error: {}", err_text(err)),
    }
    ExitCode::from(1)
}

/// The error and its causes on one line: "cannot read x: No such file".
fn err_text(err: &anyhow::Error) -> String {
    format!("{err:#}")
}
