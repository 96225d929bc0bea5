//! Integration tests: build evidence trees in a temp dir, scan them through the
//! library and the binary, and check findings, coverage and that nothing changed.

use exsweep_engine::progress::Silent;
use exsweep_engine::scan::{self, ScanConfig, ScanRequest};
use exsweep_model::{Evidence, Report, Severity, VerdictLevel};
use exsweep_testkit as demo;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn config(evidence: &Path) -> ScanConfig {
    ScanRequest::new(evidence.to_path_buf()).validate().unwrap()
}

/// Check IDs by Windows path (lower case), for compact assertions.
fn by_path(report: &Report) -> BTreeMap<String, Vec<&str>> {
    let mut map: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for f in &report.findings {
        if let Some(file) = f.file() {
            map.entry(file.windows_path.to_lowercase())
                .or_default()
                .push(&f.check_id);
        }
    }
    for ids in map.values_mut() {
        ids.sort();
        ids.dedup();
    }
    map
}

fn put(root: &Path, rel: &str, content: &[u8]) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
}

/// Content, size and modification time of every file below `root`.
fn fingerprint(root: &Path) -> BTreeMap<PathBuf, (Vec<u8>, std::time::SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let kind = entry.file_type().unwrap();
            let meta = fs::symlink_metadata(entry.path()).unwrap();
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                out.insert(
                    entry.path(),
                    (fs::read(entry.path()).unwrap(), meta.modified().unwrap()),
                );
            }
        }
    }
    out
}

/// Runs the exsweep binary with `args` and then `path`.
fn exsweep(args: &[&str], path: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_exsweep"))
        .args(args)
        .arg(path)
        .output()
        .unwrap()
}

#[test]
fn demo_server_is_compromised_and_decoys_stay_quiet() {
    let dir = tempfile::tempdir().unwrap();
    demo::build(dir.path()).unwrap();
    let before = fingerprint(dir.path());
    let report = scan::run(&config(dir.path()), &Silent).unwrap();
    assert_eq!(
        fingerprint(dir.path()),
        before,
        "the scan changed the evidence"
    );

    assert_eq!(report.verdict.level, VerdictLevel::Compromised);
    // Install root and host name come from the demo's registry hives.
    assert_eq!(
        report.coverage.exchange_install_source.as_deref(),
        Some("registry (MsiInstallPath)")
    );
    assert_eq!(report.host, "EXCH01");
    let hits = by_path(&report);
    let fe = r"c:\program files\microsoft\exchange server\v15\frontend\httpproxy";
    let expect = |path: &str, ids: &[&str]| {
        assert_eq!(
            hits.get(path).map(Vec::as_slice),
            Some(ids),
            "{path}: {hits:#?}"
        );
    };
    expect(
        r"c:\inetpub\wwwroot\aspnet_client\discover.aspx",
        &["EXS-FILE-002", "EXS-FILE-004", "EXS-FILE-009"],
    );
    expect(
        &format!(r"{fe}\owa\auth\outlooken.aspx"),
        &["EXS-FILE-002", "EXS-FILE-003", "EXS-FILE-009"],
    );
    expect(
        &format!(r"{fe}\owa\auth\current\themes\resources\errorpage.aspx"),
        &["EXS-FILE-004", "EXS-FILE-009"],
    );
    expect(
        r"c:\inetpub\wwwroot\aspnet_client\system_web\xqbdfmse.aspx",
        &["EXS-FILE-004", "EXS-FILE-007"],
    );
    expect(r"c:\root\lsass.dmp", &["EXS-FILE-005"]);
    expect(r"c:\windows\temp\d.bat", &["EXS-FILE-009"]);
    expect(r"c:\programdata\it.zip", &["EXS-FILE-002", "EXS-FILE-008"]);
    expect(
        r"c:\programdata\vmware\vmware tools\manifest.zip",
        &["EXS-FILE-008"],
    );
    assert!(
        hits.keys().any(|p| p.contains("app_web_discover")),
        "compiled shell missed"
    );
    // Clean pages, the WER dump and logs raise nothing.
    assert_eq!(hits.len(), 9, "unexpected findings: {hits:#?}");
    let vmware = report
        .findings
        .iter()
        .find(|f| f.file().is_some_and(|e| e.windows_path.contains("VMware")))
        .unwrap();
    assert_eq!(vmware.severity, Severity::Low);
    assert!(
        report.coverage.gaps().next().is_none(),
        "{:#?}",
        report.coverage.areas
    );
    // The logs show the shell on disk in use.
    let used = report
        .findings
        .iter()
        .find(|f| f.check_id == "EXS-LOG-012")
        .expect("the shell's requests are linked to it");
    assert!(
        used.detail.contains(r"aspnet_client\discover.aspx"),
        "{}",
        used.detail
    );
    assert!(used.detail.contains("5.2.69.14"), "{}", used.detail);
    // Every finding carries its explanation and evidence.
    for f in &report.findings {
        assert!(!f.why.is_empty() && !f.action.is_empty() && !f.references.is_empty());
        match &f.evidence {
            Evidence::File(file) => {
                assert!(file.sha256.is_some() && file.times.modified.is_some())
            }
            Evidence::LogLine(log) => assert!(log.time.is_some() && log.line > 0),
            // Exposure: the build, where it was read.
            Evidence::Config(item) => {
                assert!(f.check_id.starts_with("EXS-EXP-") && item.value.contains("15.2.858.5"))
            }
            other => panic!("the demo has only file, log and build evidence: {other:?}"),
        }
    }
}

#[test]
fn kape_collection_without_web_roots_is_not_called_clean() {
    let dir = tempfile::tempdir().unwrap();
    let ex = "C/Program Files/Microsoft/Exchange Server/V15";
    put(
        dir.path(),
        &format!("{ex}/Logging/HttpProxy/Owa/HttpProxy_2021030300-1.LOG"),
        b"#Fields: x\r\n",
    );
    put(
        dir.path(),
        "C/Windows/System32/winevt/Logs/Application.evtx",
        b"ElfFile\0",
    );
    let report = scan::run(&config(dir.path()), &Silent).unwrap();
    assert_eq!(report.coverage.layout, "KAPE target collection");
    assert_eq!(report.verdict.level, VerdictLevel::NoIndicatorsFound);
    let gaps: Vec<&str> = report.coverage.gaps().map(|a| a.area.as_str()).collect();
    assert!(gaps.contains(&"IIS web root"), "{gaps:?}");
    assert!(gaps.contains(&"Exchange front-end web folders"), "{gaps:?}");

    let out = exsweep(&["scan", "-q"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("NOT A CLEAN BILL OF HEALTH"), "{text}");
    assert!(text.contains("[MISSING] IIS web root"), "{text}");
}

/// A server whose SOFTWARE hive (on drive `c`) puts Exchange on `D:`, and drive `d`
/// with a clean logon page and a shell in the front end's `owa\auth`.
fn plant_exchange_on_d(c: &Path, d: &Path) {
    use exsweep_testkit::hive::{self, Key, Value};
    let setup = Key::path(
        r"ROOT\Microsoft\ExchangeServer\v15\Setup",
        vec![("MsiInstallPath", Value::String(r"D:\Exchange Server\V15\"))],
    );
    put(c, "Windows/System32/config/SOFTWARE", &hive::write(&setup));
    let auth = "Exchange Server/V15/FrontEnd/HttpProxy/owa/auth";
    put(d, &format!("{auth}/logon.aspx"), b"<%@ Page %>");
    put(
        d,
        &format!("{auth}/errorEEE.aspx"),
        &demo::samples::china_chopper(),
    );
}

/// What a scan of [`plant_exchange_on_d`]'s server must find: the install on `D:`
/// through the registry, the shell as an extra page and by its rule, the logon page clean.
fn assert_shell_found_on_d(report: &Report) {
    assert_eq!(
        report.coverage.exchange_install.as_deref(),
        Some(r"D:\Exchange Server\V15")
    );
    let hits = by_path(report);
    let auth = r"d:\exchange server\v15\frontend\httpproxy\owa\auth";
    let shell = hits
        .get(&format!(r"{auth}\erroreee.aspx"))
        .unwrap_or_else(|| panic!("{hits:#?}"));
    // An extra page in owa\auth is only known as such once the install root is.
    assert!(
        shell.contains(&"EXS-FILE-003") && shell.contains(&"EXS-FILE-009"),
        "{shell:?}"
    );
    assert!(!hits.contains_key(&format!(r"{auth}\logon.aspx")));
}

#[test]
fn kape_collection_finds_exchange_on_another_drive_through_the_registry() {
    let dir = tempfile::tempdir().unwrap();
    plant_exchange_on_d(&dir.path().join("C"), &dir.path().join("D"));
    let report = scan::run(&config(dir.path()), &Silent).unwrap();
    assert_eq!(report.coverage.layout, "KAPE target collection");
    assert_shell_found_on_d(&report);
}

#[test]
fn second_drive_mounted_apart_is_reached_with_drive() {
    let c = tempfile::tempdir().unwrap();
    let d = tempfile::tempdir().unwrap();
    plant_exchange_on_d(c.path(), d.path());
    put(c.path(), "inetpub/wwwroot/iisstart.htm", b"<html></html>");
    let request = ScanRequest {
        extra_drives: vec![('D', d.path().to_path_buf())],
        ..ScanRequest::new(c.path().to_path_buf())
    };
    let report = scan::run(&request.validate().unwrap(), &Silent).unwrap();
    assert_eq!(report.coverage.drives, ["C:", "D:"]);
    assert_shell_found_on_d(&report);
    // Without the drive, the registry names an install the evidence does not hold.
    let alone = scan::run(&config(c.path()), &Silent).unwrap();
    assert!(alone.coverage.exchange_install.is_none());
    assert!(alone
        .coverage
        .warnings
        .iter()
        .any(|w| w.contains("does not hold it")));
}

#[test]
fn usage_errors_exit_2_before_the_evidence_is_read() {
    let dir = tempfile::tempdir().unwrap();
    demo::build(dir.path()).unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let output = out_dir.path().join("report.jsonl");
    let bin = env!("CARGO_BIN_EXE_exsweep");
    #[cfg(not(windows))]
    let live: (&[&str], &str) = (&["--layout", "live"], "a live system is read on Windows");
    #[cfg(windows)]
    let live: (&[&str], &str) = (&["--max-file-size", "0"], "--max-file-size");
    let cases: [(&[&str], &str); 6] = [
        live,
        (
            &["--since", "2021-04-01", "--until", "2021-03-01"],
            "--since is after --until",
        ),
        (&["--iocs", "/nonexistent/feed.txt"], "feed.txt"),
        (&["--rules", "/nonexistent/rules"], "does not exist"),
        (&["--drive", "D=/nonexistent/d"], "is not a folder"),
        (&["--max-file-size", "0"], "--max-file-size"),
    ];
    for (args, says) in cases {
        let run = Command::new(bin)
            .args(["scan", "-q", "-o"])
            .arg(&output)
            .args(args)
            .arg(dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(!output.exists(), "{args:?} left an output file");
    }
    let missing = Command::new(bin)
        .args(["scan", "/nonexistent/evidence"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn velociraptor_folder_decodes_names_and_reads_true_times() {
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "uploads/auto/C%3A/inetpub/wwwroot/aspnet_client/disc%20over.aspx",
        &demo::samples::china_chopper(),
    );
    put(
        dir.path(),
        "uploads/ntfs/%5C%5C.%5CC%3A/root/lsass.dmp",
        &demo::samples::minidump(),
    );
    // As the collector writes it (no times), then a row from a tool that adds them.
    put(
        dir.path(),
        "uploads.json",
        br#"{"Timestamp":"2021-03-10T09:00:00Z","started":"2021-03-10 09:00:00 +0000 UTC","vfs_path":"\\\\.\\C:\\root\\lsass.dmp","_Components":["uploads","ntfs","\\\\.\\C:","root","lsass.dmp"],"file_size":4096,"uploaded_size":4096,"Type":""}
{"vfs_path":"C:\\inetpub\\wwwroot\\aspnet_client\\disc over.aspx","_Components":["uploads","auto","C:","inetpub","wwwroot","aspnet_client","disc over.aspx"],"file_size":90,"mtime":"2021-03-03T02:53:00Z"}"#,
    );
    // The unzipped dump keeps the member's time, the server's modification time.
    let dump_mtime = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_614_740_400);
    fs::File::options()
        .write(true)
        .open(
            dir.path()
                .join("uploads/ntfs/%5C%5C.%5CC%3A/root/lsass.dmp"),
        )
        .unwrap()
        .set_modified(dump_mtime)
        .unwrap();
    let report = scan::run(&config(dir.path()), &Silent).unwrap();
    assert_eq!(report.coverage.layout, "Velociraptor collection (folder)");
    let shell = report
        .findings
        .iter()
        .find(|f| f.check_id == "EXS-FILE-009")
        .expect("chopper found");
    let file = shell.file().unwrap();
    assert_eq!(
        file.windows_path,
        r"C:\inetpub\wwwroot\aspnet_client\disc over.aspx"
    );
    assert!(file.local.display().ends_with("disc%20over.aspx"));
    assert_eq!(
        exsweep_model::rfc3339(file.times.modified.unwrap()),
        "2021-03-03T02:53:00Z"
    );
    let dump = report
        .findings
        .iter()
        .find(|f| f.check_id == "EXS-FILE-005")
        .expect("dump found");
    assert_eq!(dump.file().unwrap().times.modified, Some(dump_mtime));
}

#[test]
fn velociraptor_zip_is_read_in_place() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("Collection-EXCH01.zip");
    let mut zip = zip::ZipWriter::new(fs::File::create(&zip_path).unwrap());
    // The collector keeps each file's modification time in the member's UTC timestamp.
    let shell_mtime = 1_614_739_980; // 2021-03-03T02:53:00Z
    let opts = zip::write::FullFileOptions::default()
        .with_extended_timestamp(Some(shell_mtime), None, None)
        .unwrap();
    let entries: [(&str, Vec<u8>); 3] = [
        (
            "uploads/auto/C%3A/Program%20Files/Microsoft/Exchange%20Server/V15/FrontEnd/HttpProxy/owa/auth/OutlookEN.aspx",
            demo::samples::oab_dump_shell(),
        ),
        ("uploads/auto/C%3A/inetpub/wwwroot/iisstart.htm", b"<html></html>".to_vec()),
        ("results/Windows.KapeFiles.Targets.json", b"{}".to_vec()),
    ];
    for (name, data) in entries {
        zip.start_file(name, opts.clone()).unwrap();
        zip.write_all(&data).unwrap();
    }
    zip.finish().unwrap();
    let report = scan::run(&config(&zip_path), &Silent).unwrap();
    assert_eq!(report.coverage.layout, "Velociraptor collection (zip)");
    assert_eq!(report.verdict.level, VerdictLevel::Compromised);
    let file = report.findings[0].file().unwrap();
    assert!(
        file.windows_path.ends_with(r"owa\auth\OutlookEN.aspx"),
        "{}",
        file.windows_path
    );
    assert!(
        file.local.display().contains(".zip!uploads/auto/"),
        "{}",
        file.local.display()
    );
    // The member's name as the zip stores it, to reach it again from the JSONL.
    let member = file.local.member_bytes().expect("a zip member");
    assert!(member.starts_with(b"uploads/auto/"), "{member:?}");
    assert_eq!(
        file.times.modified,
        Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(shell_mtime.into()))
    );
}

#[test]
fn unreadable_zip_member_is_counted_and_the_sweep_goes_on() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("Collection-EXCH02.zip");
    let mut zip = zip::ZipWriter::new(fs::File::create(&zip_path).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let broken = "uploads/auto/C%3A/inetpub/wwwroot/broken.aspx";
    let marker = b"BROKEN-MEMBER-DATA ".repeat(400);
    zip.start_file(broken, opts).unwrap();
    zip.write_all(&marker).unwrap();
    zip.start_file(
        "uploads/auto/C%3A/inetpub/wwwroot/aspnet_client/discover.aspx",
        opts,
    )
    .unwrap();
    zip.write_all(&demo::samples::china_chopper()).unwrap();
    zip.finish().unwrap();
    // Damage the first member's compressed bytes (they follow its local header).
    let mut bytes = fs::read(&zip_path).unwrap();
    let data_start = 30 + broken.len();
    for b in &mut bytes[data_start + 4..data_start + 24] {
        *b ^= 0x5a;
    }
    fs::write(&zip_path, &bytes).unwrap();

    let report = scan::run(&config(&zip_path), &Silent).unwrap();
    assert_eq!(
        report.coverage.unreadable, 1,
        "{:#?}",
        report.coverage.warnings
    );
    assert!(report
        .coverage
        .warnings
        .iter()
        .any(|w| w.contains("cannot read") && w.contains("broken.aspx")));
    assert_eq!(
        report.verdict.level,
        VerdictLevel::Compromised,
        "the next member was still swept"
    );
}

#[cfg(unix)]
#[test]
fn bad_input_is_reported_and_the_sweep_goes_on() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    put(
        root,
        "inetpub/wwwroot/aspnet_client/discover.aspx",
        &demo::samples::china_chopper(),
    );
    put(root, "inetpub/wwwroot/empty.aspx", b"");
    put(
        root,
        "inetpub/wwwroot/bad\x1b[31mname.aspx",
        b"<html></html>",
    );
    fs::write(
        root.join("inetpub/wwwroot")
            .join(std::ffi::OsStr::from_bytes(b"latin1-\xe9t\xe9.aspx")),
        b"x",
    )
    .unwrap();
    std::os::unix::fs::symlink("..", root.join("inetpub/wwwroot/loop")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", root.join("inetpub/wwwroot/outside.aspx")).unwrap();
    let fifo = root.join("inetpub/wwwroot/pipe");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    // A sparse 3 MiB LSASS dump over a 1 MiB cap: header checks still see it.
    fs::create_dir_all(root.join("Windows/Temp")).unwrap();
    let big = fs::File::create(root.join("Windows/Temp/lsass_624.dmp")).unwrap();
    big.set_len(3 << 20).unwrap();

    let cfg = ScanRequest {
        max_file_size: 1 << 20,
        ..ScanRequest::new(root.to_path_buf())
    }
    .validate()
    .unwrap();
    let report = scan::run(&cfg, &Silent).unwrap();
    let cov = &report.coverage;
    assert_eq!(cov.symlinks_not_followed, 2, "{cov:#?}");
    assert_eq!(cov.special_files, 1);
    assert_eq!(cov.odd_names, 2);
    assert_eq!(cov.empty_files, 1);
    assert_eq!(cov.over_size_cap, 1);
    assert!(
        cov.warnings.iter().any(|w| w.contains("\\u{1b}")),
        "control characters escaped: {:#?}",
        cov.warnings
    );
    let ids: Vec<&str> = report.findings.iter().map(|f| &*f.check_id).collect();
    assert!(
        ids.contains(&"EXS-FILE-009") && ids.contains(&"EXS-FILE-005"),
        "{ids:?}"
    );
}

#[test]
fn cli_formats_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    demo::build(dir.path()).unwrap();
    let out = exsweep(&["scan", "-q", "--format", "jsonl"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let (summary, records) = lines.split_last().unwrap();
    assert_eq!(summary["record"], "summary");
    assert_eq!(summary["verdict"], "COMPROMISED");
    let of = |kind: &str| -> Vec<&serde_json::Value> {
        records.iter().filter(|r| r["record"] == kind).collect()
    };
    let (findings, incidents, checklist) = (of("finding"), of("incident"), of("checklist"));
    assert_eq!(
        findings.len() + incidents.len() + checklist.len(),
        records.len()
    );
    assert!(findings.len() > 5);
    assert!(incidents.iter().any(|i| i["confidence"] == "high"));
    // The LSASS dump and the web shells call for credential resets and a rebuild.
    let todo: Vec<&str> = checklist
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(
        todo.contains(&"EXS-TODO-005") && todo.contains(&"EXS-TODO-006"),
        "{todo:?}"
    );
    for f in &findings {
        assert_eq!(f["record"], "finding");
        assert!(f["timestamp"].as_str().unwrap().ends_with('Z'));
        assert!(f["check_id"].as_str().unwrap().starts_with("EXS-"));
        assert_eq!(f["schema_version"], 3);
        assert_eq!(f["id"].as_str().map(str::len), Some(16), "{f}");
        let path = f["evidence"]["windows_path"].as_str();
        assert!(path.unwrap().starts_with("C:\\"), "{f}");
    }

    let bin = env!("CARGO_BIN_EXE_exsweep");
    let csv_path = tempfile::tempdir().unwrap().path().join("out.csv");
    fs::create_dir_all(csv_path.parent().unwrap()).unwrap();
    let out = Command::new(bin)
        .args([
            "scan",
            "-q",
            "--format",
            "csv",
            "--fail-level",
            "critical",
            "-o",
        ])
        .arg(&csv_path)
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let csv = fs::read_to_string(&csv_path).unwrap();
    assert!(csv.starts_with("timestamp,timestamp_desc,message,"));

    // Timesketch: one event per timestamp, oldest first, a file's times apart, each
    // event carrying its finding's ID.
    let out = exsweep(&["scan", "-q", "--format", "timesketch"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let events: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let stamps: Vec<i64> = events
        .iter()
        .map(|e| e["timestamp"].as_i64().unwrap())
        .collect();
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "oldest first");
    for e in &events {
        for field in [
            "message",
            "datetime",
            "timestamp_desc",
            "exsweep_finding_id",
        ] {
            assert!(e[field].is_string(), "{field}: {e}");
        }
    }
    let shell: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["check_id"] == "EXS-FILE-007")
        .collect();
    assert!(
        shell.len() >= 2,
        "modified (2021) and accessed apart: {shell:#?}"
    );
    assert!(shell
        .iter()
        .all(|e| e["exsweep_finding_id"] == shell[0]["exsweep_finding_id"]));
    let ssrf = events
        .iter()
        .find(|e| e["check_id"] == "EXS-LOG-001")
        .unwrap();
    assert_eq!(ssrf["datetime"], "2021-03-03T14:52:48Z");
    assert_eq!(ssrf["timestamp"], 1_614_783_168_000_000_i64);
    assert_eq!(ssrf["timestamp_desc"], "Logged");
    assert!(ssrf["exsweep_incident"]
        .as_str()
        .unwrap()
        .starts_with("INC-"));

    // ECS: one alert per finding, nested as Elastic maps it.
    let out = exsweep(&["scan", "-q", "--format", "ecs"], dir.path());
    let docs: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(docs.len(), findings.len());
    assert!(docs.iter().all(|d| d["event"]["kind"] == "alert"
        && d["@timestamp"].as_str().unwrap().ends_with('Z')
        && d["ecs"]["version"].is_string()
        && d["rule"]["id"].as_str().unwrap().starts_with("EXS-")));
    let ssrf = docs
        .iter()
        .find(|d| d["rule"]["id"] == "EXS-LOG-001")
        .unwrap();
    assert_eq!(ssrf["source"]["ip"], "5.2.69.14");
    assert_eq!(ssrf["vulnerability"]["id"][0], "CVE-2021-26855");
    let shell = docs
        .iter()
        .find(|d| d["rule"]["id"] == "EXS-FILE-007")
        .unwrap();
    assert_eq!(shell["file"]["name"], "xqbdfmse.aspx");
    assert_eq!(
        shell["file"]["hash"]["sha256"].as_str().map(str::len),
        Some(64)
    );

    // Output inside the evidence is refused; so is evidence that is not a server.
    let out = Command::new(bin)
        .args(["scan", "-q", "-o"])
        .arg(dir.path().join("report.txt"))
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!dir.path().join("report.txt").exists());
    let empty = tempfile::tempdir().unwrap();
    let out = exsweep(&["scan", "-q"], empty.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--layout"));

    // Only low findings: below the default fail level.
    let low = tempfile::tempdir().unwrap();
    put(low.path(), "ProgramData/Vendor/update.zip", b"PK\x03\x04");
    put(low.path(), "inetpub/wwwroot/iisstart.htm", b"<html></html>");
    let out = exsweep(&["scan", "-q"], low.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let out = Command::new(bin).arg("checks").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("EXS-FILE-001") && text.contains("EXS-FILE-009"));
}

#[test]
fn hostile_names_are_escaped_in_every_output() {
    let dir = tempfile::tempdir().unwrap();
    demo::build(dir.path()).unwrap();
    let client = "inetpub/wwwroot/aspnet_client";
    // Shown as `aspx.png` by a terminal that obeys the override; and a screen-clearing name.
    put(
        dir.path(),
        &format!("{client}/report\u{202e}gnp.xpsa"),
        &demo::samples::china_chopper(),
    );
    put(
        dir.path(),
        &format!("{client}/\u{1b}[2J=cmd.aspx"),
        &demo::samples::china_chopper(),
    );
    let bin = env!("CARGO_BIN_EXE_exsweep");
    for format in ["console", "csv", "jsonl"] {
        let out = Command::new(bin)
            .args(["scan", "-q", "--no-logs", "--format", format])
            .arg(dir.path())
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(!text.contains('\u{202e}'), "{format}: a raw bidi override");
        assert!(!text.contains('\u{1b}'), "{format}: a raw escape");
        let (bidi, escape) = match format {
            "jsonl" => ("report\\u202egnp.xpsa", "\\u001b[2J=cmd.aspx"),
            _ => ("report\\u{202e}gnp.xpsa", "\\u{1b}[2J=cmd.aspx"),
        };
        assert!(
            text.contains(bidi) && text.contains(escape),
            "{format}: {text}"
        );
    }
}

#[test]
fn a_flat_folder_of_many_files_is_swept_whole() {
    let dir = tempfile::tempdir().unwrap();
    let temp = dir.path().join("Windows/Temp");
    fs::create_dir_all(&temp).unwrap();
    for i in 0..2_000 {
        fs::write(
            temp.join(format!("tmp{i:05}.txt")),
            format!("temp file {i}\n"),
        )
        .unwrap();
    }
    for i in [7, 1_234, 1_999] {
        fs::write(
            temp.join(format!("lsass_{i}.dmp")),
            demo::samples::minidump(),
        )
        .unwrap();
    }
    let report = scan::run(&config(dir.path()), &Silent).unwrap();
    assert_eq!(report.coverage.files_seen, 2_003);
    assert_eq!(report.coverage.files_scanned, 2_003);
    let mut dumps: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.check_id == "EXS-FILE-005")
        .filter_map(|f| f.file().map(|e| e.windows_path.as_str()))
        .collect();
    dumps.sort();
    assert_eq!(
        dumps,
        [
            r"C:\Windows\Temp\lsass_1234.dmp",
            r"C:\Windows\Temp\lsass_1999.dmp",
            r"C:\Windows\Temp\lsass_7.dmp"
        ]
    );
}

/// `exsweep rules check` says what a pack loads and names the rule that did not, and
/// exits 1 for it; a clean pack exits 0.
#[test]
fn rules_check_names_the_rule_that_did_not_load() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("mixed.yar"),
        "rule loads_fine { strings: $a = \"needle\" condition: $a }\nrule breaks_here { condition: no_such_thing }\n",
    )
    .unwrap();
    let run = exsweep(&["rules", "check"], dir.path());
    let text = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "{text}");
    assert!(text.contains("rule breaks_here:"), "{text}");
    assert!(text.contains("1 other rule(s) loaded"), "{text}");
    assert!(text.contains("prefilter: on"), "{text}");
    fs::write(
        dir.path().join("mixed.yar"),
        "rule loads_fine { strings: $a = \"needle\" condition: $a }\n",
    )
    .unwrap();
    assert_eq!(
        exsweep(&["rules", "check"], dir.path()).status.code(),
        Some(0)
    );
}

#[test]
fn a_file_is_one_content_finding_scored_by_its_place_and_time() {
    let dir = tempfile::tempdir().unwrap();
    // A page no built-in rule describes, only the heuristics (a computed string run
    // through Execute, characters decoded by arithmetic), assembled here.
    let decoder = [
        "Function D(s):For x=1 To Ubound(s):D=D&Chr(s(x)-55)",
        ":Next:End Function",
    ];
    let page = format!(
        "<%\r\n{}{}\r\nexEC{}(D(Split(\"*156*173*152\",\"*\")))\r\n%>",
        decoder[0], decoder[1], "utE"
    );
    let web = r"inetpub/wwwroot/aspnet_client/system_web/x.asp";
    let elsewhere = r"Users/admin/Documents/x.asp";
    put(dir.path(), web, page.as_bytes());
    put(dir.path(), elsewhere, page.as_bytes());
    put(dir.path(), "Windows/System32/config/.keep", b"");
    // Written during ProxyLogon's mass exploitation (2021-03-03).
    let march_2021 =
        std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_614_729_600);
    fs::File::options()
        .write(true)
        .open(dir.path().join(web))
        .unwrap()
        .set_modified(march_2021)
        .unwrap();
    let mut request = ScanRequest::new(dir.path().to_path_buf());
    request.full = true;
    let report = scan::run(&request.validate().unwrap(), &Silent).unwrap();
    let content: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.check_id == "EXS-FILE-010")
        .collect();
    assert_eq!(content.len(), 2, "{:#?}", report.findings);
    let in_web = content
        .iter()
        .find(|f| f.file().unwrap().windows_path.contains("aspnet_client"))
        .unwrap();
    let reasons: Vec<&str> = in_web.score_reasons.iter().map(|r| &*r.because).collect();
    assert!(reasons[0].starts_with("web-shell traits: "), "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.contains("aspnet_client")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("ProxyLogon")),
        "{reasons:?}"
    );
    let alone = content
        .iter()
        .find(|f| f.file().unwrap().windows_path.contains("Users"))
        .unwrap();
    assert_eq!(
        alone.score_reasons.len(),
        1,
        "no context for a user folder today"
    );
    // The heuristics alone stop at high; the place and the time make it critical.
    assert_eq!((alone.score, alone.severity), (85, Severity::High));
    assert_eq!((in_web.score, in_web.severity), (100, Severity::Critical));
}

#[test]
fn a_baseline_from_a_clean_server_finds_new_modified_and_renamed_files() {
    let clean = tempfile::tempdir().unwrap();
    let ex = "Program Files/Microsoft/Exchange Server/V15";
    let auth = format!("{ex}/FrontEnd/HttpProxy/owa/auth");
    let shipped: [(String, &[u8]); 5] = [
        (
            format!("{auth}/logon.aspx"),
            b"<%@ Page %><html>logon</html>",
        ),
        (
            format!("{auth}/errorFE.aspx"),
            b"<%@ Page %><html>error</html>",
        ),
        (
            format!("{auth}/15.2.1544.4/themes/resources/logon.css"),
            b"body{}",
        ),
        (
            format!("{auth}/Current/themes/resources/logon.css"),
            b"body{}",
        ),
        (
            format!("{ex}/ClientAccess/ecp/default.aspx"),
            b"<%@ Page %><html>ecp</html>",
        ),
    ];
    for (path, content) in &shipped {
        put(clean.path(), path, content);
    }
    // A shipped page that a heuristic would take for a shell: the baseline vouches for it.
    let vouched = format!("<% {}(Request.Item[\"x\"]) %>", "eval");
    put(
        clean.path(),
        &format!("{ex}/ClientAccess/ecp/tool.aspx"),
        vouched.as_bytes(),
    );
    let out = tempfile::tempdir().unwrap();
    let baseline = out.path().join("baseline.csv.gz");
    let created = Command::new(env!("CARGO_BIN_EXE_exsweep"))
        .args(["baseline", "create", "-o"])
        .arg(&baseline)
        .arg(clean.path())
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(String::from_utf8_lossy(&created.stderr).contains("build 15.2.1544.4 (6 files)"));

    // The same server later: a new page, an edited page, a shipped page copied into
    // aspnet_client, and the files Exchange itself writes.
    let later = clean.path();
    put(
        later,
        &format!("{ex}/ClientAccess/ecp/branding.aspx"),
        b"<%@ Page %><html>new</html>",
    );
    put(
        later,
        &format!("{auth}/errorFE.aspx"),
        b"<%@ Page %><html>error</html><!-- x -->",
    );
    put(
        later,
        "inetpub/wwwroot/aspnet_client/l.aspx",
        b"<%@ Page %><html>logon</html>",
    );
    put(
        later,
        &format!("{ex}/ClientAccess/owa/x.localized.js"),
        b"var x;",
    );
    put(later, &format!("{ex}/ClientAccess/OAB/Temp/a.xml"), b"<x/>");
    let mut request = ScanRequest::new(later.to_path_buf());
    request.baselines = vec![baseline.clone()];
    request.logs = false;
    let report = scan::run(&request.validate().unwrap(), &Silent).unwrap();
    let hits = by_path(&report);
    let ex_key = r"c:\program files\microsoft\exchange server\v15";
    assert_eq!(
        hits.get(&format!(r"{ex_key}\clientaccess\ecp\branding.aspx"))
            .map(Vec::as_slice),
        Some(&["EXS-FILE-011"][..]),
        "{hits:#?}"
    );
    assert_eq!(
        hits.get(&format!(
            r"{ex_key}\frontend\httpproxy\owa\auth\errorfe.aspx"
        ))
        .map(Vec::as_slice),
        Some(&["EXS-FILE-012"][..]),
        "{hits:#?}"
    );
    assert_eq!(
        hits.get(r"c:\inetpub\wwwroot\aspnet_client\l.aspx")
            .map(Vec::as_slice),
        Some(&["EXS-FILE-004", "EXS-FILE-013"][..]),
        "{hits:#?}"
    );
    assert_eq!(
        hits.len(),
        3,
        "shipped files and Exchange's own writes are quiet: {hits:#?}"
    );

    // A baseline of another build is said to be of no use here.
    let other = out.path().join("other.csv");
    fs::write(
        &other,
        format!(
            "{},15.2.858.5,\\ClientAccess\\ecp\\default.aspx\n",
            "A".repeat(64)
        ),
    )
    .unwrap();
    let mut request = ScanRequest::new(later.to_path_buf());
    request.baselines = vec![other];
    request.logs = false;
    let report = scan::run(&request.validate().unwrap(), &Silent).unwrap();
    assert!(
        report
            .coverage
            .warnings
            .iter()
            .any(|w| w
                .contains("no baseline for the server's build 15.2.1544.4 (loaded: 15.2.858.5)")),
        "{:?}",
        report.coverage.warnings
    );
    assert!(by_path(&report)
        .values()
        .all(|ids| !ids.contains(&"EXS-FILE-011")));
}

#[test]
fn a_third_party_rule_on_a_page_that_only_fetches_pages_drops_to_low() {
    let dir = tempfile::tempdir().unwrap();
    let rules = tempfile::tempdir().unwrap();
    // A rule in the manner of third-party generic ASP rules: split strings and objects.
    put(
        rules.path(),
        "generic.yar",
        br#"rule test_asp_split_strings_and_objects {
    meta:
        description = "ASP page that splits strings and creates objects"
        author = "exsweep tests"
        score = 75
    strings:
        $asp = "<%"
        $join = /\w"\s*&\s*"\w/
        $create = "createobject" nocase
    condition:
        $asp and #join > 1 and $create
}
"#,
    );
    // A CMS page asking a search engine how many of the site's pages it holds.
    let seo = r#"<%
url=request.querystring("url")
content=gethttppage("http://www.example.com/s?wd=site%3a"&url&"")
count=striptags(mid(content,instr(content,"about")+5,80))
%>
<p>Pages found: <%= count %></p>
<%
' The count as text: tags, spaces and separators taken out.
function striptags(html)
  dim regex
  set regex = new regexp
  regex.ignorecase = true
  regex.global = true
  regex.pattern = "<[^>]*>"
  striptags = regex.replace(html, "")
  striptags = replace(striptags, "&nbsp;", "")
  striptags = replace(striptags, ",", "")
  striptags = replace(striptags, " ", "")
  if not isnumeric(striptags) then
    striptags = "0"
  end if
  set regex = nothing
end function

' The page in the character set its server declares, or in gb2312.
function charsetof(headers)
  dim at
  at = instr(1, lcase(headers), "charset=")
  if at > 0 then
    charsetof = trim(mid(headers, at + 8, 12))
  else
    charsetof = "gb2312"
  end if
end function
' The search engine's answer as text, or nothing when it does not answer in time.
function gethttppage(address)
  dim client : set client = server.createobject("msxml2.server" & "xmlhttp")
  client.settimeouts 2000, 2000, 2000, 5000
  client.open "GET", address, False
  client.send
  if client.status = 200 then gethttppage = bytestobstr(client.responsebody, _
    charsetof(client.getresponseheader("content-type")))
  set client = nothing
end function

' The answer's bytes as text: written to a stream in memory, read back in its charset.
function bytestobstr(body,cset)
  dim s
  set s = server.createobject("adod"&"b.stream")
  with s
    .type = 1
    .mode = 3
    .open
    .write body
    .position = 0
    .type = 2
    .charset = cset
    bytestobstr = .readtext
    .close
  end with
  set s = nothing
end function
%>
"#;
    // The same page keeping what it fetched is a downloader.
    let keeps = seo.replace(
        "    .position = 0\n",
        &["    .saveto", "file server.mappath(\"c.asp\"),2\n"].concat(),
    );
    put(dir.path(), "inetpub/wwwroot/seo.asp", seo.as_bytes());
    put(dir.path(), "inetpub/wwwroot/keep.asp", keeps.as_bytes());
    put(dir.path(), "Windows/System32/config/.keep", b"");
    let mut request = ScanRequest::new(dir.path().to_path_buf());
    request.full = true;
    request.rules = vec![rules.path().to_path_buf()];
    let report = scan::run(&request.validate().unwrap(), &Silent).unwrap();
    let content = |name: &str| {
        report
            .findings
            .iter()
            .find(|f| {
                f.check_id == "EXS-FILE-009" && f.file().unwrap().windows_path.ends_with(name)
            })
            .unwrap_or_else(|| panic!("no rule finding on {name}: {:#?}", report.findings))
    };
    let fetches = content("seo.asp");
    assert_eq!(
        (fetches.score, fetches.severity),
        (35, Severity::Low),
        "{:?}",
        fetches.score_reasons
    );
    assert!(
        fetches
            .score_reasons
            .iter()
            .any(|r| r.because.contains("fetches web pages")),
        "{:?}",
        fetches.score_reasons
    );
    let downloader = content("keep.asp");
    assert!(downloader.severity >= Severity::High, "{downloader:#?}");
}
