//! The command line, as osqueryd gives it: `[--verbose] --socket S
//! --timeout T --interval I`, each value its own token, and maybe flags
//! added by later osquery versions, which we ignore. A small explicit
//! parser rather than clap: ignoring unknown flags is the point, and clap
//! only does that by ignoring every error. `--flag=value` is accepted too.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq)]
pub struct Args {
    /// The manager's socket; ours is `<socket>.<uuid>`.
    pub socket: PathBuf,
    /// How long to wait for the manager and to retry a rejected registration.
    pub timeout: Duration,
    /// How often to check that the manager is still there.
    pub interval: Duration,
    pub verbose: bool,
    pub root: PathBuf,
    pub catalog: Option<PathBuf>,
    /// Unix seconds of `--as-of`.
    pub as_of: Option<i64>,
    /// The longest a `generate` call is waited for.
    pub generate_budget: Duration,
    /// How long a scan's rows serve later calls.
    pub cache_ttl: Duration,
    /// How long a connection may stay silent.
    pub io_timeout: Duration,
    pub max_connections: usize,
    /// The largest `generate` response sent, in bytes of its rows.
    pub max_response_bytes: usize,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            // osquery's default --extensions_socket on Linux.
            socket: PathBuf::from("/var/osquery/osquery.em"),
            timeout: Duration::from_secs(3),
            interval: Duration::from_secs(3),
            verbose: false,
            root: PathBuf::from("/"),
            catalog: None,
            as_of: None,
            generate_budget: embargo_tables::engine::DEFAULT_BUDGET,
            cache_ttl: Duration::from_secs(10),
            io_timeout: Duration::from_secs(30),
            max_connections: 64,
            max_response_bytes: DEFAULT_MAX_RESPONSE,
        }
    }
}

/// 256 MiB: far beyond any real table (100,000 packages are about 60 MiB
/// as osquery rows), far below what would hurt osqueryd, which holds the
/// whole response and then its rows again.
pub const DEFAULT_MAX_RESPONSE: usize = 256 << 20;

/// What the command line asks.
#[derive(Debug, PartialEq)]
pub enum Parsed {
    Run(Args),
    Help,
    Version,
}

/// A bad value of one of our own flags (exit 2).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{flag}: {why}")]
pub struct UsageError {
    pub flag: String,
    pub why: String,
}

pub const HELP: &str = "embargo-osquery: embargo's tables inside osqueryd (an osquery extension).

osqueryd starts it as `embargo.ext [--verbose] --socket PATH --timeout S --interval S`.

  --socket PATH          the extension manager's socket (default /var/osquery/osquery.em)
  --timeout S            wait this long for the manager, and retry a rejected registration (default 3)
  --interval S           check the manager is still there this often (default 3)
  --verbose              log each call to standard error
  --root DIR             scan this directory as `/` (a mounted disk image; default /)
  --catalog PATH         replace the built-in banned-vendor catalog with this TOML file or directory
  --as-of YYYY-MM-DD     judge findings as of this date instead of each scan's time
  --generate-budget S    answer a generate that runs longer with an error (default 60)
  --cache-ttl S          rows of one scan serve the calls of this long (default 10)
  --io-timeout S         close a connection silent this long (default 30)
  --max-connections N    connections served at once (default 64)
  --max-response-bytes N answer a generate whose rows would be larger with an error (default 256M; K, M, G suffixes)

Unknown flags are ignored (osqueryd may pass more).";

fn seconds(flag: &str, v: &str, min: f64) -> Result<Duration, UsageError> {
    let bad = |why: String| UsageError { flag: flag.to_string(), why };
    let s: f64 = v.trim().parse().map_err(|_| bad(format!("{v:?} is not a number of seconds")))?;
    if !s.is_finite() || s < min || s > 86_400.0 * 365.0 {
        return Err(bad(format!("{v:?} is out of range (at least {min} s)")));
    }
    Ok(Duration::from_secs_f64(s))
}

/// `N`, `NK`, `NM` or `NG` bytes, from 1 KiB to 4 GiB.
fn bytes(v: &str) -> Option<usize> {
    let v = v.trim();
    let (digits, shift) = match v.char_indices().last()? {
        (i, 'k' | 'K') => (&v[..i], 10),
        (i, 'm' | 'M') => (&v[..i], 20),
        (i, 'g' | 'G') => (&v[..i], 30),
        _ => (v, 0),
    };
    let n: u64 = digits.parse().ok()?;
    let n = n.checked_mul(1 << shift)?;
    (1 << 10..=4 << 30).contains(&n).then(|| usize::try_from(n).ok())?
}

/// Parses `argv` without the program name.
pub fn parse<I: IntoIterator<Item = String>>(argv: I) -> Result<Parsed, UsageError> {
    let mut a = Args::default();
    let mut it = argv.into_iter();
    while let Some(token) = it.next() {
        let (flag, inline) = match token.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (token.clone(), None),
        };
        let takes_value = matches!(
            flag.as_str(),
            "--socket"
                | "--timeout"
                | "--interval"
                | "--root"
                | "--catalog"
                | "--as-of"
                | "--generate-budget"
                | "--cache-ttl"
                | "--io-timeout"
                | "--max-connections"
                | "--max-response-bytes"
        );
        if !takes_value {
            match flag.as_str() {
                "--verbose" => a.verbose = true,
                "--help" | "-h" => return Ok(Parsed::Help),
                "--version" | "-V" => return Ok(Parsed::Version),
                // Someone else's flag (or its value): not ours to judge.
                _ => {}
            }
            continue;
        }
        let Some(v) = inline.or_else(|| it.next()) else {
            return Err(UsageError { flag, why: "needs a value".into() });
        };
        let bad = |why: String| UsageError { flag: flag.clone(), why };
        match flag.as_str() {
            "--socket" if v.is_empty() => return Err(bad("an empty path".into())),
            "--socket" => a.socket = PathBuf::from(v),
            "--timeout" => a.timeout = seconds(&flag, &v, 0.0)?,
            "--interval" => a.interval = seconds(&flag, &v, 0.0)?.max(Duration::from_millis(200)),
            "--root" if v.is_empty() => return Err(bad("an empty path".into())),
            "--root" => a.root = PathBuf::from(v),
            "--catalog" => a.catalog = Some(PathBuf::from(v)),
            "--as-of" => {
                let date = embargo_catalog::Date::parse_iso(&v)
                    .map_err(|why| bad(format!("{why} (for example 2025-01-31)")))?;
                a.as_of = Some(date.unix_seconds());
            }
            "--generate-budget" => a.generate_budget = seconds(&flag, &v, 0.001)?,
            "--cache-ttl" => a.cache_ttl = seconds(&flag, &v, 0.0)?,
            "--io-timeout" => a.io_timeout = seconds(&flag, &v, 0.001)?,
            "--max-connections" => {
                a.max_connections = v
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=4096).contains(n))
                    .ok_or_else(|| bad(format!("{v:?} is not a count from 1 to 4096")))?;
            }
            "--max-response-bytes" => {
                a.max_response_bytes = bytes(&v).ok_or_else(|| {
                    bad(format!("{v:?} is not a size from 1K to 4G (bytes, or with a K, M or G suffix)"))
                })?
            }
            _ => unreachable!("takes_value lists exactly these"),
        }
    }
    Ok(Parsed::Run(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(argv: &[&str]) -> Result<Args, UsageError> {
        match parse(argv.iter().map(|s| s.to_string()))? {
            Parsed::Run(a) => Ok(a),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn osqueryds_argv_is_read_verbose_first_and_unknown_flags_ignored() {
        let a =
            run(&["--verbose", "--socket", "/var/osquery/osquery.em", "--timeout", "3", "--interval", "5"]).unwrap();
        assert_eq!((a.verbose, a.socket.to_str().unwrap()), (true, "/var/osquery/osquery.em"));
        assert_eq!((a.timeout, a.interval), (Duration::from_secs(3), Duration::from_secs(5)));
        let a =
            run(&["--extensions_future", "x", "--socket=/s", "--flagfile", "/etc/f", "--interval=0.5", "-z"]).unwrap();
        assert_eq!((a.socket.to_str().unwrap(), a.interval, a.verbose), ("/s", Duration::from_millis(500), false));
        assert_eq!(a.root, PathBuf::from("/"));
    }

    #[test]
    fn our_own_flags_are_read() {
        let a = run(&[
            "--root",
            "/mnt/img",
            "--catalog",
            "/c.toml",
            "--as-of",
            "2025-09-29",
            "--generate-budget",
            "5",
            "--cache-ttl",
            "0",
            "--max-connections",
            "8",
            "--io-timeout",
            "2",
            "--max-response-bytes",
            "64K",
        ])
        .unwrap();
        assert_eq!(a.root, PathBuf::from("/mnt/img"));
        assert_eq!(a.catalog, Some(PathBuf::from("/c.toml")));
        // 2025-09-29T00:00:00Z, as `date -u -d 2025-09-29 +%s` says.
        assert_eq!(a.as_of, Some(1_759_104_000));
        assert_eq!((a.generate_budget, a.cache_ttl, a.max_connections), (Duration::from_secs(5), Duration::ZERO, 8));
        assert_eq!(a.max_response_bytes, 65_536);
        assert_eq!(run(&["--max-response-bytes=3000"]).unwrap().max_response_bytes, 3000);
        assert_eq!(run(&[]).unwrap().max_response_bytes, 256 << 20);
        // osquery's floor for the interval.
        assert_eq!(run(&["--interval", "0"]).unwrap().interval, Duration::from_millis(200));
    }

    #[test]
    fn bad_values_of_our_flags_are_usage_errors() {
        for (argv, flag) in [
            (&["--timeout", "soon"][..], "--timeout"),
            (&["--interval", "-1"], "--interval"),
            (&["--socket"], "--socket"),
            (&["--socket", ""], "--socket"),
            (&["--as-of", "2025-13-01"], "--as-of"),
            (&["--max-connections", "0"], "--max-connections"),
            (&["--generate-budget", "nan"], "--generate-budget"),
            (&["--root="], "--root"),
            (&["--max-response-bytes", "12"], "--max-response-bytes"),
            (&["--max-response-bytes", "5G"], "--max-response-bytes"),
            (&["--max-response-bytes", "lots"], "--max-response-bytes"),
        ] {
            let e = run(argv).unwrap_err();
            assert_eq!(e.flag, flag, "{argv:?}: {e}");
        }
        assert_eq!(parse(["--help".to_string()]), Ok(Parsed::Help));
    }
}
