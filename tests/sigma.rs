//! Sigma over SigmaHQ's own test data (`../shared/data/sigmahq/`, a pinned commit of
//! SigmaHQ's rules and `regression_data`, under the Detection Rule License; read there,
//! never copied): every rule file of `rules/`, `rules-emerging-threats/` and
//! `rules-threat-hunting/` is in the load report, none fails to parse, every
//! `webserver` and `msexchange-management` rule loads; and every regression pair
//! passes, from the `.evtx` and from its `.json` twin: the rule fires at least
//! `match_count` times. Skipped where the data is absent (it is not part of the project).

use exsweep_engine::checks::sigma::evtx_record;
use exsweep_logs::evtx::{read_records, record_from_json, EventRecord, RecordRead};
use exsweep_model::RecognisedGroup;
use exsweep_sigma::{LinePasses, Routing, SigmaRules, SkippedKind};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const FOLDERS: [&str; 3] = ["rules", "rules-emerging-threats", "rules-threat-hunting"];

fn sigmahq() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/sigmahq");
    if root.is_dir() {
        Some(root)
    } else {
        eprintln!("skipped: {} is absent", root.display());
        None
    }
}

/// SigmaHQ's rules, loaded once for every test here.
fn rules(root: &Path) -> &'static SigmaRules {
    static RULES: OnceLock<SigmaRules> = OnceLock::new();
    RULES.get_or_init(|| {
        let folders: Vec<PathBuf> = FOLDERS.iter().map(|f| root.join(f)).collect();
        SigmaRules::load(&folders, Routing::built_in())
    })
}

fn yml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            yml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(path);
        }
    }
}

#[test]
fn every_sigmahq_rule_is_accounted_for_and_the_exchange_and_web_rules_load() {
    let Some(root) = sigmahq() else { return };
    let rules = rules(&root);
    let report = &rules.report;
    let mut files = Vec::new();
    for folder in FOLDERS {
        yml_files(&root.join(folder), &mut files);
    }
    eprintln!(
        "{}",
        exsweep_engine::coverage::sigma_coverage(report).summary()
    );
    assert_eq!(report.files, files.len(), "every rule file is read");
    let parse_errors: Vec<_> = report
        .skipped
        .iter()
        .filter(|s| s.kind == SkippedKind::ParseError)
        .collect();
    assert!(parse_errors.is_empty(), "{parse_errors:#?}");
    assert_eq!(
        report.loaded + report.skipped.len(),
        files.len(),
        "one outcome per rule (SigmaHQ keeps one rule a file)"
    );
    let exchange_or_web: Vec<_> = report
        .skipped
        .iter()
        .filter(|s| {
            let text = std::fs::read_to_string(&s.file).unwrap_or_default();
            text.contains("category: webserver") || text.contains("service: msexchange-management")
        })
        .collect();
    assert!(exchange_or_web.is_empty(), "{exchange_or_web:#?}");
}

/// `(rule id, evtx path, match_count)` of every regression pair.
fn regression_pairs(root: &Path) -> Vec<(String, PathBuf, usize)> {
    let mut infos = Vec::new();
    let mut files = Vec::new();
    yml_files(&root.join("regression_data"), &mut files);
    for info in files.iter().filter(|f| f.ends_with("info.yml")) {
        let text = std::fs::read_to_string(info).unwrap();
        let value: serde_json::Value = yaml_serde::from_str(&text).unwrap();
        let id = value["rule_metadata"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        for test in value["regression_tests_info"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if test["type"] != "evtx" {
                continue;
            }
            // Paths are from the repository's root: `regression_data/rules/...`.
            let path = root.join(test["path"].as_str().unwrap());
            let count = test["match_count"].as_u64().unwrap_or(1) as usize;
            infos.push((id.clone(), path, count));
        }
    }
    infos
}

fn hits_of(rules: &SigmaRules, id: &str, records: &[EventRecord]) -> usize {
    records
        .iter()
        .map(|r| {
            rules
                .evaluate_evtx(&evtx_record(r))
                .hits
                .iter()
                .filter(|h| h.rule.id.as_deref() == Some(id))
                .count()
        })
        .sum()
}

#[test]
fn every_sigmahq_regression_pair_fires_from_evtx_and_from_json() {
    let Some(root) = sigmahq() else { return };
    let rules = rules(&root);
    let pairs = regression_pairs(&root);
    assert!(pairs.len() >= 200, "{} pairs", pairs.len());
    let mut failures = Vec::new();
    for (id, evtx, count) in &pairs {
        let mut records = Vec::new();
        read_records(std::fs::File::open(evtx).unwrap(), |r| {
            if let RecordRead::Event(e) = r {
                records.push(e);
            }
        })
        .unwrap();
        let from_evtx = hits_of(rules, id, &records);
        // The twin holds the records' JSON one after another.
        let json = std::fs::read_to_string(evtx.with_extension("json")).unwrap();
        let twins: Vec<EventRecord> = serde_json::Deserializer::from_str(&json)
            .into_iter::<serde_json::Value>()
            .map(Result::unwrap)
            .filter_map(|j| record_from_json(0, &j))
            .collect();
        let from_json = hits_of(rules, id, &twins);
        if from_evtx < *count || from_json < *count {
            failures.push(format!(
                "{id}: {from_evtx} from evtx, {from_json} from json, want {count} ({})",
                evtx.display()
            ));
        }
    }
    eprintln!(
        "{} of {} regression pairs pass",
        pairs.len() - failures.len(),
        pairs.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Scans `evidence` with the Sigma rules in `rule_dirs` (the findings are expected:
/// exit code 1) and returns its JSONL records.
fn scan_with_sigma(
    evidence: &Path,
    rule_dirs: &[PathBuf],
    scratch: &Path,
) -> Vec<serde_json::Value> {
    let out = scratch.join("scan.jsonl");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_exsweep"));
    command
        .args(["scan", "-q", "--format", "jsonl", "-o"])
        .arg(&out);
    for dir in rule_dirs {
        command.arg("--sigma").arg(dir);
    }
    let run = command.arg(evidence).output().unwrap();
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Copies `from` to the server's event-log folder as `name`.
fn place(logs: &Path, from: &Path, name: &str) {
    std::fs::copy(from, logs.join(name)).unwrap();
}

#[test]
fn a_scan_with_sigma_runs_every_event_log_names_the_rule_and_reports_the_load() {
    let Some(root) = sigmahq() else { return };
    let samples = root.join("../evtx");
    let dir = tempfile::tempdir().unwrap();
    let evidence = dir.path().join("EXCH01");
    let logs = evidence.join("Windows/System32/winevt/Logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::create_dir_all(evidence.join("inetpub/wwwroot")).unwrap();
    place(
        &logs,
        &samples.join("msexchange-management-install-transportagent.evtx"),
        "MSExchange Management.evtx",
    );
    // A damaged log: a warning, and the rest goes on.
    place(
        &logs,
        &samples.join("sample_with_a_bad_chunk_magic.evtx"),
        "Application.evtx",
    );
    // A channel no built-in check reads: only Sigma does.
    let task_log = task_scheduler_log(&root);
    place(
        &logs,
        &task_log,
        "Microsoft-Windows-TaskScheduler%4Operational.evtx",
    );
    let records = scan_with_sigma(&evidence, &[root.join("rules")], dir.path());
    let sigma: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| r["check_id"] == "EXS-SIGMA-001")
        .collect();
    let titles: Vec<&str> = sigma
        .iter()
        .map(|f| f["rule"]["name"].as_str().unwrap())
        .collect();
    assert!(
        titles.contains(&"MSExchange Transport Agent Installation - Builtin"),
        "{titles:?}"
    );
    let task = sigma
        .iter()
        .find(|f| f["evidence"]["source"] == "EVTX Microsoft-Windows-TaskScheduler/Operational")
        .unwrap_or_else(|| panic!("the Task Scheduler log's rule fired: {titles:?}"));
    // Every Sigma finding names its rule's author, file and UUID (the DRL asks for the author).
    for f in &sigma {
        assert!(f["rule"]["author"].is_string(), "{f}");
        assert!(f["rule"]["meta_id"].is_string(), "{f}");
        assert!(f["detail"].as_str().unwrap().contains(".yml"), "{f}");
        assert!(
            f["references"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["kind"] == "author"),
            "{f}"
        );
    }
    assert!(
        task["detail"].as_str().unwrap().contains("Matched:"),
        "{task}"
    );
    let summary = records.iter().find(|r| r["record"] == "summary").unwrap();
    let load = &summary["coverage"]["sigma"];
    assert!(load["rules_loaded"].as_u64().unwrap() > 2000, "{load}");
    assert_eq!(
        load["files"].as_u64().unwrap() as usize,
        load["rules_loaded"].as_u64().unwrap() as usize + load["skipped"].as_array().unwrap().len()
    );
    let coverage = summary["coverage"]["logs"].as_array().unwrap();
    let tasks_read = coverage
        .iter()
        .find(|l| l["source"] == "EVTX Microsoft-Windows-TaskScheduler/Operational")
        .unwrap();
    assert!(tasks_read["lines"].as_u64().unwrap() > 0);
    let warnings = summary["coverage"]["warnings"].to_string();
    assert!(
        warnings.contains("Application.evtx"),
        "the damaged log is named: {warnings}"
    );
}

/// A Task Scheduler log of SigmaHQ's regression data: a channel only Sigma reads.
fn task_scheduler_log(root: &Path) -> PathBuf {
    let tasks = root.join(
        "regression_data/rules/windows/builtin/taskscheduler/win_taskscheduler_susp_schtasks_delete_or_disable",
    );
    std::fs::read_dir(&tasks)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "evtx"))
        .unwrap()
}

#[test]
fn many_loose_files_of_one_log_are_one_source_and_one_group_in_the_coverage() {
    let Some(root) = sigmahq() else { return };
    let dir = tempfile::tempdir().unwrap();
    let evidence = dir.path().join("exports");
    std::fs::create_dir_all(&evidence).unwrap();
    let task_log = task_scheduler_log(&root);
    let copies = RecognisedGroup::NAMES_LISTED + 5;
    for i in 0..copies {
        std::fs::copy(&task_log, evidence.join(format!("host-{i:03}.evtx"))).unwrap();
    }
    let records = scan_with_sigma(
        &evidence,
        &[root.join("rules/windows/builtin/taskscheduler")],
        dir.path(),
    );
    let summary = records.iter().find(|r| r["record"] == "summary").unwrap();
    let tasks: Vec<&serde_json::Value> = summary["coverage"]["logs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["source"] == "EVTX Microsoft-Windows-TaskScheduler/Operational")
        .collect();
    assert_eq!(tasks.len(), 1, "one source, however many files: {tasks:?}");
    assert_eq!(tasks[0]["files"], copies);
    assert_eq!(tasks[0]["windows_path"], "(loose logs)");
    let groups = summary["coverage"]["recognised"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(groups[0]["count"], copies);
    let named = groups[0]["files"].as_array().unwrap();
    assert_eq!(named.len(), RecognisedGroup::NAMES_LISTED);
    assert_eq!(named[0], "host-000.evtx", "by name");
    // Every copy was read.
    let lines = tasks[0]["lines"].as_u64().unwrap() as usize;
    assert!(lines > 0 && lines.is_multiple_of(copies), "{lines} records");
}

#[test]
fn sigmahq_s_web_rules_fire_on_the_planted_exchange_attacks_and_stay_quiet_on_benign_traffic() {
    let Some(root) = sigmahq() else { return };
    let dir = tempfile::tempdir().unwrap();
    let evidence = dir.path().join("EXCH01");
    let traces = exsweep_testkit::logs::write(&evidence, 4 << 20).unwrap();
    let hits: Vec<serde_json::Value> = scan_with_sigma(
        &evidence,
        &[root.join("rules"), root.join("rules-emerging-threats")],
        dir.path(),
    )
    .into_iter()
    .filter(|r| r["check_id"] == "EXS-SIGMA-001")
    .collect();
    let names: Vec<&str> = hits
        .iter()
        .map(|h| h["rule"]["name"].as_str().unwrap())
        .collect();
    for expected in [
        "Successful Exchange ProxyShell Attack",
        "Exchange Exploitation Used by HAFNIUM",
    ] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    assert!(
        hits.iter().any(|h| h["evidence"]["source"] == "HttpProxy"),
        "SigmaHQ's webserver rules run over HttpProxy too: {names:?}"
    );
    // Benign traffic: every hit is on a line an attack was planted on.
    for hit in &hits {
        let (path, line) = (
            hit["evidence"]["windows_path"].as_str().unwrap(),
            hit["evidence"]["line"].as_u64().unwrap(),
        );
        assert!(
            traces
                .iter()
                .any(|t| t.windows_path.eq_ignore_ascii_case(path) && t.line == line),
            "a Sigma hit on benign traffic: {} at {path} line {line}",
            hit["rule"]["name"]
        );
    }
}

/// The string values of a Sigma rule's detection, its filters' left out.
fn detection_strings(detection: &yaml_serde::Value) -> Vec<String> {
    fn walk(value: &yaml_serde::Value, out: &mut Vec<String>) {
        match value {
            yaml_serde::Value::String(s) => out.push(s.clone()),
            yaml_serde::Value::Sequence(items) => items.iter().for_each(|v| walk(v, out)),
            yaml_serde::Value::Mapping(map) => map.values().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let yaml_serde::Value::Mapping(named) = detection {
        for (name, selection) in named {
            let name = name.as_str().unwrap_or("");
            if name != "condition" && !name.starts_with("filter") {
                walk(selection, &mut out);
            }
        }
    }
    out
}

/// The hunt reads only the IIS lines that hold one of the needles the loaded rules
/// give (`SigmaRules::line_needles`), and builds only the events of them a rule may
/// match (`SigmaRules::line_passes`): over lines built from every SigmaHQ webserver
/// rule's own values, placed in the stem, the query, the user agent and the referer
/// of GET and POST requests, every line a rule matches (or a correlation counts) is
/// one the needles select, and its passes give the same hits as both events do.
#[test]
fn iis_lines_selected_by_the_rules_needles_lose_no_sigma_hit() {
    use exsweep_logs::lines::{Needle, Needles};
    let Some(root) = sigmahq() else { return };
    let rules = rules(&root);
    let needles: Vec<Needle> = rules
        .line_needles("IIS")
        .expect("every webserver rule has literals to select lines by")
        .iter()
        .map(Needle::plain)
        .collect();
    let selector = Needles::new(&needles);
    let mut files = Vec::new();
    for folder in FOLDERS {
        yml_files(&root.join(folder), &mut files);
    }
    let mut values = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        if !text.contains("category: webserver") {
            continue;
        }
        let rule: yaml_serde::Value = yaml_serde::from_str(&text).unwrap();
        values.extend(detection_strings(&rule["detection"]));
    }
    let header = [
        "date",
        "time",
        "cs-method",
        "cs-uri-stem",
        "cs-uri-query",
        "c-ip",
        "cs(user-agent)",
        "cs(referer)",
        "sc-status",
    ];
    let mut fired = std::collections::BTreeSet::new();
    let mut lines = 0;
    for value in &values {
        // A W3C field holds no space: IIS writes `+` for one.
        let value = value.replace('*', "").replace(' ', "+");
        let stem = format!("/{}", value.trim_start_matches('/'));
        for method in ["GET", "POST"] {
            for (stem, query, agent, referer) in [
                (stem.as_str(), "-", "Mozilla/5.0", "-"),
                ("/owa/auth/logon.aspx", value.as_str(), "Mozilla/5.0", "-"),
                ("/", "-", value.as_str(), "-"),
                ("/", "a=1", "Mozilla/5.0", value.as_str()),
            ] {
                let fields = [
                    "2021-03-02",
                    "02:50:12",
                    method,
                    stem,
                    query,
                    "10.0.0.1",
                    agent,
                    referer,
                    "200",
                ];
                let line = fields.join(" ");
                let columns: Vec<(&str, &str)> = header.iter().copied().zip(fields).collect();
                let found = rules.evaluate_text("IIS", &line, &columns, LinePasses::BOTH);
                lines += 1;
                let titles: Vec<&str> = found.hits.iter().map(|h| h.rule.title.as_str()).collect();
                let passes = rules.line_passes("IIS", &line);
                let as_passed = rules.evaluate_text("IIS", &line, &columns, passes);
                let passed: Vec<&str> = as_passed
                    .hits
                    .iter()
                    .map(|h| h.rule.title.as_str())
                    .collect();
                assert_eq!(passed, titles, "{passes:?} loses a hit of {line}");
                assert_eq!(
                    as_passed.correlation.is_some(),
                    found.correlation.is_some(),
                    "{line}"
                );
                if titles.is_empty() && found.correlation.is_none() {
                    continue;
                }
                assert!(
                    selector.selects(line.as_bytes()),
                    "{titles:?} match a line the needles pass over: {line}"
                );
                fired.extend(titles);
            }
        }
    }
    eprintln!("{} webserver rules fired over {lines} lines", fired.len());
    assert!(fired.len() >= 40, "the lines exercise the rules: {fired:?}");
}

/// Two detection rules over Security logons and special-privilege grants, and one
/// correlation rule of each kind issue #13 names, over a real Security log
/// (`security_bad_string_cache.evtx`: 179 logons, 141 grants, over a few days).
const CORRELATIONS: &str = r#"
title: Logon
id: 0e5b0c9a-0000-4000-8000-000000000001
name: logon
logsource: {product: windows, service: security}
detection: {sel: {EventID: 4624}, condition: sel}
level: low
---
title: Special privileges
id: 0e5b0c9a-0000-4000-8000-000000000002
name: special_privileges
logsource: {product: windows, service: security}
detection: {sel: {EventID: 4672}, condition: sel}
level: low
---
title: Never logged
id: 0e5b0c9a-0000-4000-8000-000000000003
name: never
logsource: {product: windows, service: security}
detection: {sel: {EventID: 9999}, condition: sel}
level: low
---
title: Many logons of one account
id: 0e5b0c9a-0000-4000-8000-000000000010
correlation:
    type: event_count
    rules: [logon]
    group-by: [TargetUserName]
    timespan: 1h
    condition: {gte: 10}
level: high
---
title: Too many logons of one account
id: 0e5b0c9a-0000-4000-8000-000000000011
correlation:
    type: event_count
    rules: [logon]
    group-by: [TargetUserName]
    timespan: 1h
    condition: {gte: 100000}
level: high
---
title: One account by several logon types
id: 0e5b0c9a-0000-4000-8000-000000000012
correlation:
    type: value_count
    rules: [logon]
    group-by: [TargetUserName]
    timespan: 1d
    condition: {field: LogonType, gte: 2}
level: medium
---
title: Privileges around a logon
id: 0e5b0c9a-0000-4000-8000-000000000013
correlation:
    type: temporal
    rules: [special_privileges, logon]
    group-by: [LogonId]
    aliases:
        LogonId: {logon: TargetLogonId, special_privileges: SubjectLogonId}
    timespan: 10s
level: medium
---
title: Privileges after a logon
id: 0e5b0c9a-0000-4000-8000-000000000014
correlation:
    type: temporal_ordered
    rules: [logon, special_privileges]
    group-by: [LogonId]
    aliases:
        LogonId: {logon: TargetLogonId, special_privileges: SubjectLogonId}
    timespan: 10s
level: medium
---
title: A logon and what never happens
id: 0e5b0c9a-0000-4000-8000-000000000015
correlation:
    type: temporal
    rules: [logon, never]
    timespan: 1d
level: high
---
title: Refers to a rule not loaded
id: 0e5b0c9a-0000-4000-8000-000000000016
correlation:
    type: event_count
    rules: [not_here]
    timespan: 1h
    condition: {gte: 1}
"#;

#[test]
fn correlation_rules_of_every_kind_run_over_the_scan_s_records_in_time_order() {
    let Some(root) = sigmahq() else { return };
    let dir = tempfile::tempdir().unwrap();
    let evidence = dir.path().join("EXCH01");
    let logs = evidence.join("Windows/System32/winevt/Logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::create_dir_all(evidence.join("inetpub/wwwroot")).unwrap();
    place(
        &logs,
        &root.join("../evtx/security_bad_string_cache.evtx"),
        "Security.evtx",
    );
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(rules.join("logons.yml"), CORRELATIONS).unwrap();
    let records = scan_with_sigma(&evidence, &[rules], dir.path());
    let sigma = &records.last().unwrap()["coverage"]["sigma"];
    assert_eq!(sigma["rules_loaded"], 3, "{sigma}");
    assert_eq!(sigma["correlations_loaded"], 6, "{sigma}");
    let skipped = sigma["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{sigma}");
    assert_eq!(skipped[0]["kind"], "unsupported");
    assert!(skipped[0]["reason"].as_str().unwrap().contains("not_here"));

    let findings: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| r["record"] == "finding")
        .collect();
    // `generate` is false: the rules correlations count do not report alone.
    assert!(findings.iter().all(|f| f["check_id"] == "EXS-SIGMA-002"));
    let fired = |title: &str| -> Vec<&serde_json::Value> {
        findings
            .iter()
            .copied()
            .filter(|f| f["rule"]["name"] == title)
            .collect()
    };
    let many = fired("Many logons of one account");
    let system = many
        .iter()
        .find(|f| {
            f["detail"]
                .as_str()
                .unwrap()
                .contains("TargetUserName=SYSTEM")
        })
        .expect("SYSTEM logs on more than ten times an hour");
    assert_eq!(system["severity"], "high");
    assert_eq!(
        system["rule"]["meta_id"],
        "0e5b0c9a-0000-4000-8000-000000000010"
    );
    assert_eq!(system["evidence"]["source"], "EVTX Security");
    assert_eq!(system["evidence"]["event_id"], 4624);
    assert!(system["detail"]
        .as_str()
        .unwrap()
        .contains("10 events within 3600 s"));
    // One finding per account, however often its count was met again.
    let mut groups: Vec<&str> = many.iter().map(|f| f["detail"].as_str().unwrap()).collect();
    groups.dedup();
    assert_eq!(groups.len(), many.len());
    assert!(fired("Too many logons of one account").is_empty());
    assert!(!fired("One account by several logon types").is_empty());
    assert!(fired("A logon and what never happens").is_empty());
    // A grant follows its logon within a second, under the logon's id: both the
    // unordered and the ordered rule see it, each once per logon session.
    for title in ["Privileges around a logon", "Privileges after a logon"] {
        let sessions = fired(title);
        assert!(sessions.len() > 5, "{title}: {}", sessions.len());
        assert!(sessions
            .iter()
            .all(|f| f["detail"].as_str().unwrap().contains("LogonId=0x")));
    }
}

/// An MSExchange Management record (provider `MSExchange CmdletLogs`) as Exchange
/// writes it: the cmdlet, then its parameters, as two unnamed `Data` values.
fn cmdlet(event_id: u64, cmdlet: &str, parameters: &str) -> EventRecord {
    EventRecord {
        record_id: 1,
        provider: "MSExchange CmdletLogs".into(),
        event_id,
        channel: "MSExchange Management".into(),
        computer: "EXCH01.corp.example".into(),
        data: [cmdlet, parameters, r"corp.example/Users/Administrator"]
            .iter()
            .map(|v| (String::new(), v.to_string()))
            .collect(),
        ..EventRecord::default()
    }
}

/// The `msexchange-management` rules that fire on `record`, by file name.
fn exchange_rules_on(rules: &SigmaRules, record: &EventRecord) -> Vec<String> {
    let mut fired: Vec<String> = rules
        .evaluate_evtx(&evtx_record(record))
        .hits
        .iter()
        .filter(|h| h.rule.logsource.service.as_deref() == Some("msexchange-management"))
        .map(|h| {
            Path::new(&h.rule.file)
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    fired.sort();
    fired
}

#[test]
fn sigmahq_s_exchange_management_rules_fire_on_our_planted_cmdlets_and_not_on_benign_ones() {
    let Some(root) = sigmahq() else { return };
    let rules = rules(&root);
    let shell = r#"<script language="JScript" runat="server">function Page_Load(){eval(Request["exsweep"],"unsafe");}</script>"#;
    let planted = [
        (
            cmdlet(
                1,
                "New-MailboxExportRequest",
                r#"-Mailbox "administrator@corp.example" -IncludeFolders "Drafts" -FilePath "\\127.0.0.1\C$\inetpub\wwwroot\aspnet_client\x.aspx""#,
            ),
            vec!["win_exchange_proxyshell_mailbox_export"],
        ),
        (
            cmdlet(
                1,
                "New-ManagementRoleAssignment",
                r#"-Role "Mailbox Import Export" -User "administrator@corp.example""#,
            ),
            vec!["win_exchange_proxyshell_mailbox_export"],
        ),
        (
            cmdlet(
                1,
                "Remove-MailboxExportRequest",
                r#"-Identity "administrator\MailboxExport" -Confirm "False""#,
            ),
            vec!["win_exchange_proxyshell_remove_mailbox_export"],
        ),
        (
            cmdlet(
                1,
                "Set-OabVirtualDirectory",
                &format!(r#"-ExternalUrl "http://f/{shell}" -Identity "OAB (Default Web Site)""#),
            ),
            vec![
                "win_exchange_proxylogon_oabvirtualdir",
                "win_exchange_set_oabvirtualdirectory_externalurl",
            ],
        ),
        (
            cmdlet(
                1,
                "New-ExchangeCertificate",
                r#"-GenerateRequest -BinaryEncoded -RequestFile "\\localhost\C$\inetpub\wwwroot\aspnet_client\y.aspx" -SubjectName "c=US""#,
            ),
            vec!["win_exchange_proxyshell_certificate_generation"],
        ),
        (
            cmdlet(
                1,
                "Install-TransportAgent",
                r#"-Name "Security Interop Agent" -TransportAgentFactory "Microsoft.Exchange.Security.Interop.SecurityInteropAgentFactory" -AssemblyPath "C:\ProgramData\agent.dll""#,
            ),
            vec!["win_exchange_transportagent"],
        ),
        (
            cmdlet(
                6,
                "Install-TransportAgent",
                r#"-Name "x" -AssemblyPath "C:\Users\Public\x.dll""#,
            ),
            vec![
                "win_exchange_transportagent",
                "win_exchange_transportagent_failed",
            ],
        ),
        (
            cmdlet(
                6,
                "Cmdlet failed. Cmdlet Get-App, parameters {Identity=x}.",
                "",
            ),
            vec!["win_exchange_cve_2021_42321"],
        ),
    ];
    for (record, expected) in &planted {
        assert_eq!(
            exchange_rules_on(rules, record),
            *expected,
            "{:?}",
            record.data
        );
    }
    let benign = [
        cmdlet(1, "Get-Mailbox", r#"-Identity "alice@corp.example""#),
        cmdlet(
            1,
            "Set-OabVirtualDirectory",
            r#"-ExternalUrl "https://mail.corp.example/OAB" -Identity "OAB (Default Web Site)""#,
        ),
        cmdlet(
            1,
            "Remove-MailboxExportRequest",
            r#"-Identity "alice\MailboxExport""#,
        ),
        cmdlet(
            1,
            "New-ExchangeCertificate",
            r#"-GenerateRequest -RequestFile "C:\certs\mail.req" -SubjectName "cn=mail.corp.example""#,
        ),
        cmdlet(
            1,
            "Set-Mailbox",
            r#"-Identity "alice" -ForwardingSmtpAddress "smtp:bob@corp.example""#,
        ),
        cmdlet(1, "Get-App", r#"-Mailbox "alice""#),
    ];
    for record in &benign {
        assert!(
            exchange_rules_on(rules, record).is_empty(),
            "{:?}",
            record.data
        );
    }
}

#[test]
fn correlation_rules_run_over_the_text_logs_too() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = dir.path().join("EXCH01");
    exsweep_testkit::logs::write(&evidence, 4 << 20).unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("posts.yml"),
        r#"
title: A POST to OWA
id: 5d5d0000-0000-4000-8000-000000000001
name: owa_post
logsource: {category: webserver}
detection:
    sel: {cs-method: POST, cs-uri-stem|startswith: /owa/}
    condition: sel
---
title: Many POSTs to OWA from one address
id: 5d5d0000-0000-4000-8000-000000000002
correlation:
    type: event_count
    rules: [owa_post]
    group-by: [c-ip]
    timespan: 1d
    condition: {gte: 3}
level: medium
"#,
    )
    .unwrap();
    let records = scan_with_sigma(&evidence, &[rules], dir.path());
    let sigma = &records.last().unwrap()["coverage"]["sigma"];
    assert_eq!(sigma["correlations_loaded"], 1, "{sigma}");
    let fired: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| r["check_id"] == "EXS-SIGMA-002")
        .collect();
    assert!(!fired.is_empty());
    for finding in &fired {
        assert_eq!(finding["evidence"]["kind"], "log_line", "{finding}");
        assert!(["IIS", "HttpProxy"]
            .iter()
            .any(|s| finding["evidence"]["source"]
                .as_str()
                .unwrap()
                .starts_with(s)));
        let detail = finding["detail"].as_str().unwrap();
        assert!(
            detail.contains("events within 86400 s for c-ip="),
            "{detail}"
        );
        assert!(detail.contains(" line "), "{detail}");
    }
}
