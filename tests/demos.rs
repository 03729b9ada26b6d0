//! Every demo in `demos/` runs through the real binary (`raft-playground run`) and
//! must pass; and the script runner reports failures as `FILE:LINE: ...` with a
//! non-zero exit status.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_raft-playground"));
    command.env("NO_COLOR", "1");
    command
}

fn demos() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("demos");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("demos/ exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "txt"))
        .collect();
    files.sort();
    files
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn script(name: &str, body: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("raft-playground-demos-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path
}

#[test]
fn every_demo_passes_through_the_binary() {
    let files = demos();
    assert!(
        files.len() >= 9,
        "expected at least 9 demos, found {files:?}"
    );
    for file in files {
        let output = binary()
            .arg("run")
            .arg(&file)
            .output()
            .expect("the binary runs");
        let text = text(&output);
        assert!(
            output.status.success(),
            "{} failed:\n{text}",
            file.display()
        );
        // Narration is printed, and every expectation passed.
        assert!(
            text.contains("✓"),
            "{} asserts nothing:\n{text}",
            file.display()
        );
        assert!(!text.contains("VIOLATION"), "{}:\n{text}", file.display());
    }
}

#[test]
fn demos_are_deterministic() {
    let file = &demos()[0];
    let run = || text(&binary().arg("run").arg(file).output().unwrap());
    assert_eq!(run(), run());
}

#[test]
fn a_failed_expectation_names_file_and_line_and_exits_non_zero() {
    let path = script(
        "fails.txt",
        "# narration\ncluster 3 seed 1\nwait leader\nexpect term all = 7\nstatus\n",
    );
    let output = binary().arg("run").arg(&path).output().unwrap();
    let text = text(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let line = format!("{}:4: expected n1's term = 7, saw 1", path.display());
    assert!(text.contains(&line), "{text}");
    assert!(text.contains("narration"), "narration is echoed: {text}");
    assert!(
        !text.contains("» status"),
        "the run stops at the failure: {text}"
    );
}

#[test]
fn keep_going_runs_to_the_end_and_counts_failures() {
    let path = script(
        "keep-going.txt",
        "cluster 3 seed 1\nfrobnicate\nexpect leader\nwait leader\nexpect leader\ncrash 9\n",
    );
    let output = binary()
        .args(["run", "--keep-going"])
        .arg(&path)
        .output()
        .unwrap();
    let text = text(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains(":2: unknown command `frobnicate`"), "{text}");
    assert!(text.contains(":3: expected a leader, saw none"), "{text}");
    assert!(text.contains(":6: no node 9"), "{text}");
    assert!(text.contains("3 failures"), "{text}");
}

#[test]
fn scripts_read_standard_input_and_bad_files_are_reported() {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = binary()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"cluster 3 seed 2\nwait leader\nexpect leader\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("✓"));

    let output = binary().args(["run", "no/such/file.txt"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output).contains("no/such/file.txt: cannot read"),
        "{}",
        text(&output)
    );

    let path = script("binary.txt", "");
    std::fs::write(&path, b"cluster 3\n\xff\xfe junk\n").unwrap();
    let output = binary().arg("run").arg(&path).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output).contains(":2: not valid UTF-8"),
        "{}",
        text(&output)
    );
}

#[test]
fn run_takes_nodes_and_seed() {
    let path = script("flags.txt", "expect role n7 follower\nwait leader\n");
    let output = binary()
        .args(["run", "--nodes", "7", "--seed", "3"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let output = binary()
        .args(["--nodes", "16", "run"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output).contains("16 is not in 1..=15"),
        "{}",
        text(&output)
    );
}

#[test]
fn version_and_help_say_what_the_binary_is() {
    let output = binary().arg("--version").output().unwrap();
    assert!(output.status.success());
    assert!(
        text(&output).contains(env!("CARGO_PKG_VERSION")),
        "{}",
        text(&output)
    );
    let output = binary().arg("--help").output().unwrap();
    let help = text(&output);
    assert!(output.status.success());
    for flag in [
        "--nodes",
        "--seed",
        "--tick-ms",
        "--paused",
        "--no-color",
        "Examples:",
        "run demos/",
    ] {
        assert!(help.contains(flag), "--help mentions {flag}: {help}");
    }
    let output = binary().args(["--tick-ms", "0"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
}
