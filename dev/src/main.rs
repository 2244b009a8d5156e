// Wired into a dev command later; the certs bench includes it meanwhile.
#[allow(dead_code)]
mod certs;
fn main() {}
