//! The findings of the demo server and of a log fixture, compared finding by finding
//! with the ones recorded in `tests/golden/` (times, ids and local paths left out, which
//! differ from run to run). A change that alters a detection result changes these
//! files on purpose: regenerate them with `EXSWEEP_BLESS=1 cargo test --release --test golden`
//! and say why in the commit.

use exsweep_engine::progress::Silent;
use exsweep_engine::scan::{self, ScanRequest};
use exsweep_report::Format;
use serde_json::{json, Value};
use std::path::Path;

/// The fields of a JSONL finding record that say what was found, in the shape the
/// recorded files have (schema 1's `file` and `log` objects, with the entities apart).
fn project(record: &Value) -> Value {
    let evidence = &record["evidence"];
    let pick = |keys: &[&str]| -> Value {
        keys.iter()
            .map(|k| {
                (
                    k.to_string(),
                    evidence.get(*k).cloned().unwrap_or(Value::Null),
                )
            })
            .collect()
    };
    let (file, log) = match evidence["kind"].as_str() {
        Some("file") => (
            pick(&["windows_path", "size", "md5", "sha1", "sha256"]),
            Value::Null,
        ),
        Some("log_line") => (
            Value::Null,
            pick(&[
                "source",
                "windows_path",
                "line",
                "method",
                "status",
                "excerpt",
            ]),
        ),
        Some("event_record") => {
            let mut log = pick(&["source", "windows_path", "method", "status", "excerpt"]);
            log["line"] = evidence["record_id"].clone();
            (Value::Null, log)
        }
        // A configuration item (an exposure finding's build) goes where a file would.
        Some("config") => (pick(&["windows_path", "item", "value"]), Value::Null),
        other => panic!("evidence of kind {other:?}"),
    };
    let entities = &record["entities"];
    // Schema 1 had no entities for files; the shell's path is new in schema 2.
    let entities: serde_json::Map<String, Value> =
        ["client_ip", "user_agent", "url", "request_id", "user"]
            .iter()
            .map(|k| {
                (
                    k.to_string(),
                    entities.get(*k).cloned().unwrap_or(Value::Null),
                )
            })
            .collect();
    json!({
        "check_id": record["check_id"],
        "title": record["title"],
        "severity": record["severity"],
        "score": record["score"],
        "category": record["category"],
        "detail": record["detail"],
        "rule": record["rule"].get("id").cloned().unwrap_or(Value::Null),
        "references": record["references"],
        "file": file,
        "log": log,
        "entities": entities,
        "matches": record.get("matches").cloned().unwrap_or(json!([])),
    })
}

/// A value as text with its object keys sorted, so key order never matters.
fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical(&map[k])))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", items.join(","))
        }
        other => other.to_string(),
    }
}

/// Scans `root` and compares its findings with `tests/golden/<name>.jsonl`.
fn assert_same_findings(root: &Path, request: ScanRequest, name: &str) {
    let report = scan::run(&request.validate().unwrap(), &Silent).unwrap();
    let mut jsonl = Vec::new();
    exsweep_report::render(&report, Format::Jsonl, &mut jsonl).unwrap();
    let mut got: Vec<String> = String::from_utf8(jsonl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["record"] == "finding")
        .map(|r| canonical(&project(&r)))
        .collect();
    got.sort();
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/{name}.jsonl"));
    if std::env::var_os("EXSWEEP_BLESS").is_some() {
        std::fs::write(&golden, got.join("\n") + "\n").unwrap();
        return;
    }
    let want: Vec<String> = std::fs::read_to_string(&golden)
        .unwrap()
        .lines()
        .map(|l| canonical(&serde_json::from_str::<Value>(l).unwrap()))
        .collect();
    let missing: Vec<&String> = want.iter().filter(|w| !got.contains(w)).collect();
    let extra: Vec<&String> = got.iter().filter(|g| !want.contains(g)).collect();
    assert!(
        missing.is_empty() && extra.is_empty() && got.len() == want.len(),
        "{} of {root:?}: {} findings, {} recorded\nmissing:\n{missing:#?}\nextra:\n{extra:#?}",
        name,
        got.len(),
        want.len()
    );
}

#[test]
fn demo_findings_are_the_recorded_ones() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("EXCH01");
    exsweep_testkit::build(&root).unwrap();
    let config = ScanRequest {
        host: Some("EXCH01".into()),
        ..ScanRequest::new(root.clone())
    };
    assert_same_findings(&root, config, "demo");
}

#[test]
fn log_fixture_findings_are_the_recorded_ones() {
    let dir = tempfile::tempdir().unwrap();
    exsweep_testkit::logs::write(dir.path(), 4 << 20).unwrap();
    assert_same_findings(
        dir.path(),
        ScanRequest::new(dir.path().to_path_buf()),
        "fixture",
    );
}
