//! Incidents end to end: the demo server and a generated log fixture with a shell
//! put beside it are scanned, and the ProxyLogon chain must come out as one incident
//! that links the SSRF requests, the ECP change, the shell on disk and its uses, in
//! that order, with the right first and last times, while the other actors' requests
//! stay out of it.

use exsweep_engine::progress::Silent;
use exsweep_engine::scan::{self, ScanRequest};
use exsweep_model::{rfc3339, Confidence, Incident, Phase, Report};
use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

const SHELL: &str = r"C:\inetpub\wwwroot\aspnet_client\discover.aspx";
/// When the fixture's logs show the ProxyLogon chain (SSRF, ECP change, OAB write).
const EXPLOITED: &str = "2021-03-03T14:52:48Z";
/// When they show the shell's use.
const USED: &str = "2021-03-03T23:02:24Z";

fn scan(root: &Path) -> Report {
    scan::run(
        &ScanRequest::new(root.to_path_buf()).validate().unwrap(),
        &Silent,
    )
    .unwrap()
}

/// The incident holding the ProxyLogon SSRF, with the position of each step in it.
fn proxylogon(report: &Report) -> &Incident {
    let with_ssrf: Vec<&Incident> = report
        .incidents
        .iter()
        .filter(|i| i.steps.iter().any(|s| s.check_id == "EXS-LOG-001"))
        .collect();
    assert_eq!(with_ssrf.len(), 1, "{:#?}", report.incidents);
    with_ssrf[0]
}

/// The chain's order: the first SSRF, then the ECP change, then the shell on disk,
/// then its first use; and the span from the SSRF to the last use.
fn assert_chain(incident: &Incident, shell_findings: &[&str]) {
    let position = |what: &dyn Fn(&exsweep_model::IncidentStep) -> bool| {
        incident
            .steps
            .iter()
            .position(what)
            .unwrap_or_else(|| panic!("a step is missing: {:#?}", incident.steps))
    };
    let ssrf = position(&|s| s.check_id == "EXS-LOG-001");
    let ecp_change = position(&|s| s.check_id == "EXS-LOG-005" && s.phase == Phase::Planting);
    let shell = position(&|s| shell_findings.contains(&s.finding_id.as_str()));
    let used = position(&|s| s.check_id == "EXS-LOG-012");
    assert!(
        ssrf < ecp_change && ecp_change < shell && shell < used,
        "SSRF {ssrf}, ECP {ecp_change}, shell {shell}, use {used}: {:#?}",
        incident.steps
    );
    assert_eq!(rfc3339(incident.first), EXPLOITED);
    assert_eq!(rfc3339(incident.last), USED);
    assert_eq!(incident.attacker_ips, ["5.2.69.14"]);
    assert!(
        incident.files.iter().any(|f| f == SHELL),
        "{:?}",
        incident.files
    );
    assert!(incident.cves.iter().any(|c| c == "CVE-2021-26855"));
    assert_eq!(
        incident.confidence,
        Confidence::High,
        "{}",
        incident.confidence_reason
    );
    assert!(
        incident.story.contains("5.2.69.14 exploited the server")
            && incident.story.contains("discover.aspx"),
        "{}",
        incident.story
    );
}

fn shell_findings(report: &Report) -> Vec<&str> {
    report
        .findings
        .iter()
        .filter(|f| f.file().is_some_and(|file| file.windows_path == SHELL))
        .map(|f| f.id.as_str())
        .collect()
}

#[test]
fn the_demo_s_proxylogon_chain_is_one_incident_in_order() {
    let dir = tempfile::tempdir().unwrap();
    exsweep_testkit::build(dir.path()).unwrap();
    let report = scan(dir.path());
    let incident = proxylogon(&report);
    assert_chain(incident, &shell_findings(&report));
    // What followed on disk, placed by time, is part of the story.
    assert!(incident.files.iter().any(|f| f == r"C:\root\lsass.dmp"));
    assert!(
        incident.story.contains("LSASS memory dump"),
        "{}",
        incident.story
    );
    // The scanner's probe and the ProxyShell attacker are incidents of their own.
    for ip in ["198.51.100.23", "203.0.113.50"] {
        let theirs: Vec<&Incident> = report
            .incidents
            .iter()
            .filter(|i| i.attacker_ips.iter().any(|a| a == ip))
            .collect();
        assert_eq!(theirs.len(), 1, "{ip}: {:#?}", report.incidents);
        assert_ne!(theirs[0].id, incident.id);
    }
    let probe = report
        .incidents
        .iter()
        .find(|i| i.attacker_ips == ["198.51.100.23"])
        .unwrap();
    assert_eq!(probe.confidence, Confidence::Low, "attempts only");
    // Every step names a finding of the report.
    for step in report.incidents.iter().flat_map(|i| &i.steps) {
        assert!(report.findings.iter().any(|f| f.id == step.finding_id));
    }
}

#[test]
fn a_generated_fixture_with_its_shell_gives_the_same_chain() {
    let dir = tempfile::tempdir().unwrap();
    exsweep_testkit::logs::write(dir.path(), 2 << 20).unwrap();
    // The shell the fixture's OAB generator line names, written a minute after it.
    let written = SystemTime::UNIX_EPOCH + Duration::from_secs(1_614_783_168 + 60);
    let shell = dir
        .path()
        .join("inetpub/wwwroot/aspnet_client/discover.aspx");
    fs::create_dir_all(shell.parent().unwrap()).unwrap();
    fs::write(&shell, exsweep_testkit::samples::china_chopper()).unwrap();
    fs::File::options()
        .write(true)
        .open(&shell)
        .unwrap()
        .set_modified(written)
        .unwrap();
    let report = scan(dir.path());
    let incident = proxylogon(&report);
    assert_chain(incident, &shell_findings(&report));
    let oab = incident
        .steps
        .iter()
        .find(|s| s.check_id == "EXS-LOG-004")
        .unwrap();
    assert_eq!(
        oab.joined_by,
        format!("file {}", SHELL.to_lowercase()),
        "the OAB generator line names the shell it wrote"
    );
}
