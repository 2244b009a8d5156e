//! Helpers for tests that compare embargo with an independent peer tool.

/// Whether the peer `tool` can be run. Outside CI a missing tool skips the
/// test (with a note on stderr); with `CI=true` it fails it, so that CI can
/// never pass by skipping.
pub fn peer_available(tool: &str) -> bool {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|d| d.join(tool).is_file()))
        .unwrap_or(false);
    if !found {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("peer tool `{tool}` is missing; .ci/run must install it");
        }
        eprintln!("skipping: peer tool `{tool}` is not installed");
    }
    found
}
