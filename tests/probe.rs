//! `exsweep probe` end to end: the binary against the testkit's real loopback
//! Exchange servers, targets given on the command line and in a list file with a
//! comment and a bad line, and each output format read back: CSV columns, JSONL
//! fields, the console's lines, and the exit codes (1 when a server is open, 0 when
//! none is, 2 when no target can be read).

use exsweep_testkit::exchange_server::{exchange, Exchange};
use std::fs;
use std::process::{Command, Output};

fn exsweep(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_exsweep"))
        .args(args)
        .output()
        .expect("the exsweep binary runs")
}

fn vulnerable() -> String {
    let addr = exchange(
        Exchange {
            owa_version: Some("15.2.792.3"),
            logon_cu: Some("15.2.792"),
            ..Exchange::default()
        },
        false,
    );
    format!("http://{addr}")
}

fn patched() -> String {
    let addr = exchange(
        Exchange {
            owa_version: Some("15.2.1544.14"),
            ..Exchange::default()
        },
        true,
    );
    format!("https://{addr}")
}

#[test]
fn a_target_list_probed_to_csv_gives_one_row_a_target_and_exit_1_when_one_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("targets.txt");
    let (open, fixed) = (vulnerable(), patched());
    fs::write(
        &list,
        format!("# the estate\n{open}\n\n{fixed}  # patched in 2024\nnot a target//\n"),
    )
    .unwrap();
    let csv = dir.path().join("out.csv");
    let run = exsweep(&[
        "probe",
        "-i",
        list.to_str().unwrap(),
        "--format",
        "csv",
        "-o",
        csv.to_str().unwrap(),
        "--timeout",
        "5",
    ]);
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("line 5"), "the bad line is named: {stderr}");
    assert!(
        stderr.contains("2 target(s): 2 Exchange, 1 still open"),
        "{stderr}"
    );
    let text = fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 2, "{text}");
    let row = |scheme: &str| rows.iter().find(|r| r[column("scheme")] == scheme).unwrap();
    let (open_row, fixed_row) = (row("http"), row("https"));
    assert_eq!(open_row[column("ip")], "127.0.0.1");
    assert_eq!(open_row[column("build")], "15.2.792.3");
    assert_eq!(open_row[column("method")], "x-owa-version");
    assert_eq!(open_row[column("proxylogon")], "open");
    assert!(open_row[column("open_cves")].contains("CVE-2021-26855"));
    assert_eq!(fixed_row[column("proxynotshell")], "fixed");
    assert_eq!(fixed_row[column("open_cves")], "");
    assert!(fixed_row[column("tls")].starts_with("untrusted certificate"));
    assert!(rows.iter().all(|r| r[column("time")].ends_with('Z')));
}

#[test]
fn jsonl_and_console_outputs_carry_the_verdicts_and_a_patched_estate_exits_0() {
    let fixed = patched();
    let run = exsweep(&["probe", &fixed, "--format", "jsonl", "-q"]);
    assert_eq!(run.status.code(), Some(0), "{run:?}");
    assert!(run.stderr.is_empty(), "-q keeps stderr quiet: {run:?}");
    let record: serde_json::Value =
        serde_json::from_slice(run.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(record["build"], "15.2.1544.14");
    assert_eq!(record["precision"], "exact");
    assert_eq!(record["open_cves"], serde_json::json!([]));
    let families: Vec<&str> = record["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(families, ["fixed", "fixed", "fixed"]);

    let run = exsweep(&["probe", &vulnerable()]);
    assert_eq!(run.status.code(), Some(1));
    let console = String::from_utf8_lossy(&run.stdout);
    assert!(console.contains("proxylogon: open"), "{console}");
    assert!(console.contains("OPEN: CVE-2021-26855"), "{console}");
    assert!(
        console.contains("1 target(s): 1 Exchange, 1 still open"),
        "{console}"
    );
}

#[test]
fn no_readable_target_is_an_error_with_exit_2() {
    let run = exsweep(&["probe", "a host//with a path?"]);
    assert_eq!(run.status.code(), Some(2), "{run:?}");
    assert!(!run.stderr.is_empty());
}
