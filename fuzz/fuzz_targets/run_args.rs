//! `mvm run`'s command line (Docker's flags: -e, -v, -p, --tmpfs, -u, --memory, ...) from any
//! words: parsing and turning it into a run's spec never panics; bad input is an error.
#![no_main]

use clap::Parser;
use libfuzzer_sys::fuzz_target;
use vmm::cli::{Cli, Command};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut words = vec!["mvm".to_string(), "run".to_string()];
    words.extend(text.split('\0').take(32).map(str::to_string));
    if let Ok(cli) = Cli::try_parse_from(&words) {
        if let Command::Run(args) = cli.command {
            let _ = args.into_spec();
        }
    }
});
