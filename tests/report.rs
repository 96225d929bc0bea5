//! `exsweep report` end to end: a saved scan renders again byte for byte (JSONL and
//! HTML, plain or gzipped); a file cut short reads as incomplete, never clean; several
//! hosts' scans, found in folders (link loops and other files passed over), become an
//! overview that names the attacker IPs and shell hashes they share; outputs never
//! replace the scans being read.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

fn exsweep(args: &[&str], paths: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_exsweep"))
        .args(args)
        .args(paths)
        .output()
        .unwrap()
}

/// Scans `evidence` as `host`, writing its JSONL and HTML beside `out`.
fn saved_scan(evidence: &Path, host: &str, out: &Path) {
    let run = Command::new(env!("CARGO_BIN_EXE_exsweep"))
        .args(["scan", "-q", "--host", host, "--format", "jsonl", "-o"])
        .arg(out)
        .arg("--html")
        .arg(out.with_extension("html"))
        .arg(evidence)
        .output()
        .unwrap();
    assert!(run.status.code().is_some_and(|c| c < 2), "{run:?}");
}

fn stdout(run: &Output) -> String {
    String::from_utf8_lossy(&run.stdout).into_owned()
}

#[test]
fn a_saved_scan_renders_again_exactly_plain_or_gzipped() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = dir.path().join("EXCH01");
    exsweep_testkit::build(&evidence).unwrap();
    let saved = dir.path().join("scan.jsonl");
    saved_scan(&evidence, "EXCH01", &saved);

    let again = dir.path().join("again.jsonl");
    let run = exsweep(
        &["report", "-q", "--format", "jsonl", "-o"],
        &[&again, &saved],
    );
    assert_eq!(run.status.code(), Some(1), "the demo's findings: {run:?}");
    assert_eq!(fs::read(&again).unwrap(), fs::read(&saved).unwrap());

    let gz = dir.path().join("scan.jsonl.gz");
    let mut encoder =
        flate2::write::GzEncoder::new(fs::File::create(&gz).unwrap(), Default::default());
    encoder.write_all(&fs::read(&saved).unwrap()).unwrap();
    encoder.finish().unwrap();
    let html = dir.path().join("again.html");
    let run = exsweep(&["report", "-q", "--html"], &[&html, &gz]);
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    assert_eq!(
        fs::read_to_string(&html).unwrap(),
        fs::read_to_string(saved.with_extension("html")).unwrap(),
        "the HTML report of the saved scan is the scan's"
    );
    let console = stdout(&run);
    assert!(console.contains("VERDICT: COMPROMISED"), "{console}");
    assert!(console.contains("INCIDENTS"), "{console}");

    // The output may not be the file read.
    let before = fs::read(&saved).unwrap();
    let run = exsweep(
        &["report", "-q", "--format", "jsonl", "-o"],
        &[&saved, &saved],
    );
    assert_eq!(run.status.code(), Some(2), "{run:?}");
    assert!(String::from_utf8_lossy(&run.stderr).contains("refusing to write"));
    assert_eq!(fs::read(&saved).unwrap(), before);
}

#[test]
fn a_scan_cut_before_its_summary_is_incomplete_not_clean() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = dir.path().join("EXCH01");
    exsweep_testkit::build(&evidence).unwrap();
    let saved = dir.path().join("scan.jsonl");
    saved_scan(&evidence, "EXCH01", &saved);
    let text = fs::read_to_string(&saved).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Three whole findings, then half a line and a line of garbage.
    let cut = format!(
        "{}\n{}\n\u{1b}[31mnot json\n",
        lines[..3].join("\n"),
        &lines[3][..lines[3].len() / 2]
    );
    let cut_file = dir.path().join("cut.jsonl");
    fs::write(&cut_file, cut).unwrap();
    let run = exsweep(&["report", "-q"], &[&cut_file]);
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    let console = stdout(&run);
    assert!(console.contains("NOT ASSESSED"), "{console}");
    assert!(console.contains("before its summary record"), "{console}");
    assert!(
        console.contains("line 4: not an exsweep record"),
        "{console}"
    );
    assert!(
        console.contains("line 5: not an exsweep record"),
        "{console}"
    );
    assert!(
        !console.contains('\u{1b}'),
        "the garbage's escape is not printed raw"
    );
}

/// `text` with the scan's host and scan ID replaced.
fn as_host(text: &str, host: &str) -> String {
    text.replace("\"host\":\"EXCH01\"", &format!("\"host\":\"{host}\""))
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let id = v["scan_id"].as_str().unwrap();
            l.replace(id, &format!("{id}-{host}"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn several_hosts_make_an_overview_of_what_they_share() {
    let dir = tempfile::tempdir().unwrap();
    let scans = dir.path().join("scans");
    fs::create_dir_all(scans.join("site-b")).unwrap();
    let evidence = dir.path().join("EXCH01");
    exsweep_testkit::build(&evidence).unwrap();
    saved_scan(&evidence, "EXCH01", &scans.join("exch01.jsonl"));
    let text = fs::read_to_string(scans.join("exch01.jsonl")).unwrap();
    fs::write(scans.join("site-b/exch02.jsonl"), as_host(&text, "EXCH02")).unwrap();
    let clean = dir.path().join("CLEAN");
    fs::create_dir_all(clean.join("inetpub/wwwroot")).unwrap();
    fs::write(clean.join("inetpub/wwwroot/index.html"), "<p>hello</p>").unwrap();
    saved_scan(&clean, "WEB01", &scans.join("web01.jsonl"));
    // Passed over: a link loop, a file that is not a saved scan, the HTML reports.
    std::os::unix::fs::symlink(&scans, scans.join("site-b/loop")).unwrap();
    fs::write(scans.join("notes.txt"), "not a scan").unwrap();

    let html = dir.path().join("overview.html");
    let run = exsweep(&["report", "-q", "--html"], &[&html, &scans]);
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    let console = stdout(&run);
    assert!(
        console.starts_with("OVERVIEW: 3 scan(s) from 3 file(s): 2 COMPROMISED, 1 "),
        "{console}"
    );
    let hosts: Vec<&str> = console
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("    "))
        .collect();
    assert!(hosts[0].starts_with("  EXCH01  COMPROMISED"), "{hosts:?}");
    assert!(hosts[1].starts_with("  EXCH02  COMPROMISED"), "{hosts:?}");
    assert!(hosts[2].starts_with("  WEB01  "), "{hosts:?}");
    assert!(
        console.contains("  5.2.69.14  2 hosts: EXCH01, EXCH02"),
        "{console}"
    );
    let shell: serde_json::Value = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| {
            v["evidence"]["windows_path"]
                .as_str()
                .is_some_and(|p| p.ends_with(r"aspnet_client\discover.aspx"))
        })
        .unwrap();
    let sha = shell["evidence"]["sha256"].as_str().unwrap();
    assert!(
        console.contains(&format!("  {sha}  2 hosts: EXCH01, EXCH02")),
        "{console}"
    );
    let page = fs::read_to_string(&html).unwrap();
    assert!(page.contains("script-src 'none'"), "no script on the page");
    assert!(!page.contains("<script"));
    assert!(page.contains("5.2.69.14") && page.contains(sha));

    let run = exsweep(&["report", "-q", "--format", "csv"], &[&scans]);
    assert_eq!(run.status.code(), Some(2), "{run:?}");
    assert!(String::from_utf8_lossy(&run.stderr).contains("overview of several scans"));
}
