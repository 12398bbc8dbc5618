//! Outside programs some tests start (`redis-server`, `openssl`, `script`): one rule for all.
//!
//! On a machine without one, the test that needs it prints one line on stderr,
//! `skipped: redis-server not found — apt-get install redis-server (test …, skip N of this
//! test binary)`, and passes, so `cargo test --workspace` passes on a fresh machine with only
//! Rust and a C compiler; the lines are written past the test harness's capture, so they show
//! in the normal output (`cargo test 2>&1 | grep -c '^skipped:'` counts them). When the `CI`
//! environment variable is set (to anything but empty, `0` or `false`), a missing program
//! fails the test instead: `.ci/run` installs every one of them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

static SKIPPED: AtomicUsize = AtomicUsize::new(0);

/// Where `program` is on `PATH` (an executable regular file), if anywhere.
pub fn find_program(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Whether the `CI` environment variable asks for every program to be there.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false" | "FALSE" | "False"))
}

/// The skip line for these missing programs and their Debian packages, as printed
/// (`skipped: redis-server not found — apt-get install redis-server`).
pub fn skip_line(missing: &[(&str, &str)]) -> String {
    let progs: Vec<&str> = missing.iter().map(|(p, _)| *p).collect();
    let mut pkgs: Vec<&str> = missing.iter().map(|(_, p)| *p).collect();
    pkgs.dedup();
    format!(
        "skipped: {} not found — apt-get install {}",
        progs.join(", "),
        pkgs.join(" ")
    )
}

/// True when `program` is on `PATH`. When it is not: under `CI` this panics (the run fails);
/// otherwise it prints the skip line (with the test's name and the count of skips so far in
/// this test binary) and returns false, and the caller returns, passing.
///
/// ```ignore
/// if !yida_e2e::require_program("script", "bsdutils") {
///     return;
/// }
/// ```
pub fn require_program(program: &str, package: &str) -> bool {
    require_programs(&[(program, package)])
}

/// [`require_program`] for several programs (`(program, Debian package)`): true when all
/// are there; otherwise one skip line names every missing one.
pub fn require_programs(programs: &[(&str, &str)]) -> bool {
    let missing: Vec<(&str, &str)> = programs
        .iter()
        .copied()
        .filter(|(prog, _)| find_program(prog).is_none())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let line = skip_line(&missing);
    if in_ci() {
        let line = line.trim_start_matches("skipped: ");
        panic!("{line} (CI is set: a missing program fails the test)");
    }
    let n = SKIPPED.fetch_add(1, Ordering::Relaxed) + 1;
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("?");
    // Straight to the file descriptor: `eprintln!` would be captured by the test harness and
    // shown only for failing tests.
    let _ = writeln!(
        std::io::stderr(),
        "{line} (test {test}, skip {n} of this test binary)"
    );
    false
}
