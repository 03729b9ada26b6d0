//! Golden transcripts: every demo (`demos/*.txt`) and every step-by-step scenario
//! (`tests/scenarios/*.txt`) runs through the binary, and its whole transcript (plain
//! text, as `raft-playground run FILE` prints it to a file) must equal the one checked
//! in beside it (`NAME.out`). A script is a specification of what the playground
//! shows; a change that alters a transcript shows up as a reviewed diff.
//!
//! After an intended change, rewrite the transcripts and read the diff before
//! committing it:
//!
//! ```sh
//! GOLDEN_REWRITE=1 cargo test --release --test golden
//! git diff demos tests/scenarios
//! ```

use std::path::{Path, PathBuf};
use std::process::Command;

/// The scripts in `dir` (relative to the crate), sorted.
fn scripts(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
        .unwrap_or_else(|error| panic!("{dir}: {error}"))
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "txt"))
        .map(|path| Path::new(dir).join(path.file_name().expect("a file name")))
        .collect();
    files.sort();
    files
}

/// Runs one script through the binary as a user would with output to a file; returns
/// whether it passed and its transcript.
fn transcript(script: &Path) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_raft-playground"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .arg("run")
        .arg(script)
        .output()
        .expect("the binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// The first lines where `expected` and `actual` differ, as a unified-style diff with
/// a little context (`-` expected, `+` actual).
fn first_difference(expected: &str, actual: &str) -> String {
    let expected: Vec<&str> = expected.lines().collect();
    let actual: Vec<&str> = actual.lines().collect();
    let first = expected
        .iter()
        .zip(&actual)
        .position(|(a, b)| a != b)
        .unwrap_or(expected.len().min(actual.len()));
    let context = first.saturating_sub(3);
    let mut diff = vec![format!(
        "@@ line {} (expected {} lines, got {}) @@",
        first + 1,
        expected.len(),
        actual.len()
    )];
    for line in &expected[context..first] {
        diff.push(format!(" {line}"));
    }
    for line in expected.iter().skip(first).take(8) {
        diff.push(format!("-{line}"));
    }
    for line in actual.iter().skip(first).take(8) {
        diff.push(format!("+{line}"));
    }
    diff.join("\n")
}

/// Checks (or, with `GOLDEN_REWRITE=1`, rewrites) the transcript of every script in
/// `dir`; every script must also pass.
fn check_dir(dir: &str, at_least: usize) {
    let rewrite = std::env::var_os("GOLDEN_REWRITE").is_some_and(|value| value == "1");
    let files = scripts(dir);
    assert!(
        files.len() >= at_least,
        "expected at least {at_least} scripts in {dir}, found {files:?}"
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut problems = Vec::new();
    for script in files {
        let (passed, actual) = transcript(&script);
        if !passed {
            problems.push(format!("{} failed:\n{actual}", script.display()));
            continue;
        }
        let golden = root.join(script.with_extension("out"));
        if rewrite {
            std::fs::write(&golden, &actual)
                .unwrap_or_else(|error| panic!("{}: {error}", golden.display()));
            continue;
        }
        match std::fs::read_to_string(&golden) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => problems.push(format!(
                "{} differs from {}:\n{}",
                script.display(),
                golden.display(),
                first_difference(&expected, &actual)
            )),
            Err(error) => problems.push(format!(
                "{}: no transcript ({error}); write it with GOLDEN_REWRITE=1 cargo test --release --test golden",
                golden.display()
            )),
        }
    }
    assert!(
        problems.is_empty(),
        "{}\n\n(after an intended change: GOLDEN_REWRITE=1 cargo test --release --test golden, then read the diff)",
        problems.join("\n\n")
    );
}

#[test]
fn demos_match_their_transcripts() {
    check_dir("demos", 9);
}

#[test]
fn scenarios_match_their_transcripts() {
    check_dir("tests/scenarios", 8);
}

#[test]
fn a_difference_is_shown_as_the_first_differing_lines() {
    let diff = first_difference("a\nb\nc\nd\n", "a\nb\nX\nd\n");
    assert!(diff.starts_with("@@ line 3"), "{diff}");
    assert!(diff.contains("\n b\n-c\n-d\n+X\n+d"), "{diff}");
    let shorter = first_difference("a\nb\n", "a\n");
    assert!(shorter.contains("-b"), "{shorter}");
}
