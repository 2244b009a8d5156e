//! The binary osqueryd autoloads (copied to `embargo.ext`). Exit codes: 0
//! when the manager goes away or asks us to stop, 1 when it cannot be
//! reached or refuses us, 2 for a bad flag, root or catalog.

use embargo_osquery::args::{self, Parsed};
use embargo_osquery::lifecycle::{self, StartError};

fn main() {
    let code = match args::parse(std::env::args().skip(1)) {
        Ok(Parsed::Help) => {
            println!("{}", args::HELP);
            0
        }
        Ok(Parsed::Version) => {
            println!("embargo-osquery {}", env!("CARGO_PKG_VERSION"));
            0
        }
        Err(e) => {
            eprintln!("embargo-osquery: {e} (see --help)");
            2
        }
        Ok(Parsed::Run(a)) => match lifecycle::run(a) {
            Ok(()) => 0,
            Err(StartError::Usage(e)) => {
                eprintln!("embargo-osquery: {e}");
                2
            }
            Err(StartError::Other(e)) => {
                eprintln!("embargo-osquery: {e:#}");
                1
            }
        },
    };
    // Workers still running (a generate over budget) end with the process.
    std::process::exit(code);
}
