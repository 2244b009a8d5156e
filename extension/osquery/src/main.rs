//! The binary osqueryd autoloads (copied to `embargo.ext`). Exit codes: 0
//! when the manager goes away or asks us to stop, 1 when it cannot be
//! reached or refuses us, 2 for a bad flag, root or catalog.

use embargo_osquery::args::{self, Parsed};
use embargo_osquery::lifecycle::{self, StartError};

fn main() {
    limit_malloc_arenas();
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

/// glibc gives threads up to 8 malloc arenas per core, and each keeps the
/// memory it once held: with a thread per connection and per generate, RSS
/// would creep up for hours as calls land on arenas not yet warm. Two
/// arenas keep it flat (and idle RSS small); the work is I/O bound anyway.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
