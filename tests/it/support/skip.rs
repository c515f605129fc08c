use std::io::Write;

/// Whether `test` can run here: `available` says so. If not, one line on stderr says why and the test is to
/// return; under CI (`CI` set), where every test must run, it fails instead of passing without having run.
pub fn skip_unless(available: bool, test: &str, why: &str) -> bool {
    if available {
        return true;
    }
    assert!(std::env::var_os("CI").is_none(), "{test} cannot run under CI: {why}");
    // Straight to stderr: libtest captures `eprintln!` of a passing test, and a skip must be seen.
    let _ = writeln!(std::io::stderr(), "{test}: SKIPPED, {why}");
    false
}
