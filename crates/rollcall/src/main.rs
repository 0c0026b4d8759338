//! The `rollcall` binary: the server and the operator's CLI.
//!
//! Every command opens the database named by `--database` / `ROLLCALL_DATABASE_URL` (creating and
//! migrating it when missing) and works while a server runs on the same database. With `--json`
//! a command prints exactly one JSON object on stdout; a refused command exits non-zero with one
//! sentence on stderr.

mod cli;
mod output;
mod serve;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    serve::init_logging(&cli);
    match cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("rollcall: {err:#}");
            ExitCode::FAILURE
        }
    }
}
