//! The terminal timeline: the picture of an election stepped by hand is checked line
//! by line against the one checked in (`tests/timeline/*.out`, beside its script), and
//! every picture of a busy 5-node cluster fits in 80 columns.
//!
//! After an intended change, rewrite the pictures and read the diff before committing:
//!
//! ```sh
//! GOLDEN_REWRITE=1 cargo test --release --test timeline
//! git diff tests/timeline
//! ```

use std::path::Path;
use std::process::Command;

/// Runs a script through the binary, plain text; returns its transcript.
fn transcript(script: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_raft-playground"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .arg("run")
        .arg(script)
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "{script} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).to_string()
}

#[test]
fn a_stepped_election_reads_line_by_line() {
    let script = "tests/timeline/stepped-election.txt";
    let actual = transcript(script);
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/timeline/stepped-election.out");
    if std::env::var_os("GOLDEN_REWRITE").is_some() {
        std::fs::write(&golden, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&golden).unwrap_or_else(|error| {
        panic!("{}: {error} (GOLDEN_REWRITE=1 writes it)", golden.display())
    });
    for (number, (want, got)) in expected.lines().zip(actual.lines()).enumerate() {
        assert_eq!(
            got,
            want,
            "{script}: line {} of the transcript differs (GOLDEN_REWRITE=1 rewrites it)",
            number + 1
        );
    }
    assert_eq!(
        actual.lines().count(),
        expected.lines().count(),
        "{script}: the transcript has another length"
    );
}

#[test]
fn a_busy_five_node_picture_fits_in_80_columns() {
    let dir = std::env::temp_dir().join(format!("raft-timeline-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("busy.txt");
    std::fs::write(
        &script,
        "cluster 5 seed 99999\nwait leader\nsubmit set a 1\nsubmit set b 2\nduplicate 20%\ndrop 10%\n\
         delay 1..3\ntick 40\ncrash leader\ntick 30\npartition 1,2 | 3,4,5\nsubmit @1 set c 3\n\
         tick 40\nheal\nrestart all\ntick 60\nsnapshot all\ntimeline 200\ntimeline 200 1,3\n",
    )
    .unwrap();
    let text = transcript(script.to_str().unwrap());
    let picture: Vec<&str> = text
        .lines()
        .skip_while(|line| !line.starts_with("» timeline"))
        .filter(|line| !line.starts_with('»'))
        .collect();
    assert!(picture.len() > 40, "{text}");
    for line in &picture {
        // The transcript indents each output line by two spaces.
        let width = line.chars().count() - 2;
        assert!(width <= 80, "{width} columns: {line}");
    }
    for mark in ["╳", "↻", "✗", "▶", "C", "L"] {
        assert!(
            picture.iter().any(|line| line.contains(mark)),
            "no {mark}: {text}"
        );
    }
}
