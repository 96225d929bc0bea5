//! Detection quality on the web-shell development set (`../shared/data/webshell-devset/`,
//! a password zip of 229 public shells and 492 benign ASP.NET pages): the built-in
//! detection must find at least 95% of the shells at medium or above and flag at most
//! 0.5% of the benign pages. The zip is extracted into a temporary mounted-image tree
//! under a neutral folder and swept like any evidence. Skipped where the set is absent
//! (it is not part of the project). `bench/devset.py` prints the same figures with the
//! misses by name, and takes `--rules` for third-party packs.

use exsweep_engine::progress::Silent;
use exsweep_engine::scan::{self, ScanRequest};
use exsweep_model::Severity;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

#[test]
fn built_in_detection_meets_the_development_set_bars() {
    let zip_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/webshell-devset/devset.zip");
    let Ok(file) = std::fs::File::open(&zip_path) else {
        eprintln!("skipped: {} is absent", zip_path.display());
        return;
    };
    let mut archive = zip::ZipArchive::new(file).unwrap();
    let root = tempfile::tempdir().unwrap();
    let samples = root.path().join("Samples");
    let mut members: HashMap<String, &'static str> = HashMap::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index_decrypt(i, b"infected").unwrap();
        let name = entry.name().unwrap().to_string();
        let set = match name.split('/').next() {
            Some("webshells") => "webshells",
            Some("benign") => "benign",
            _ => continue,
        };
        if entry.is_dir() {
            continue;
        }
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        let target = samples.join(&name);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(&target, data).unwrap();
        members.insert(name.to_lowercase(), set);
    }
    let request = ScanRequest {
        full: true,
        logs: false,
        layout: Some(exsweep_evidence::Layout::Image),
        ..ScanRequest::new(root.path().to_path_buf())
    };
    let report = scan::run(&request.validate().unwrap(), &Silent).unwrap();
    let mut flagged: HashMap<&str, usize> = HashMap::new();
    let mut seen = std::collections::HashSet::new();
    for finding in &report.findings {
        let Some(file) = finding.file() else { continue };
        if finding.severity < Severity::Medium {
            continue;
        }
        let member = file
            .windows_path
            .to_lowercase()
            .trim_start_matches(r"c:\samples\")
            .replace('\\', "/");
        if let Some(set) = members.get(&member) {
            if seen.insert(member.clone()) {
                *flagged.entry(set).or_default() += 1;
            }
        }
    }
    let total = |set: &str| members.values().filter(|s| **s == set).count();
    let (shells, benign) = (total("webshells"), total("benign"));
    assert!(
        shells > 200 && benign > 400,
        "{shells} shells, {benign} benign"
    );
    let found = flagged.get("webshells").copied().unwrap_or(0);
    let false_alarms = flagged.get("benign").copied().unwrap_or(0);
    assert!(
        found * 100 >= shells * 95,
        "found {found} of {shells} shells, under 95%"
    );
    assert!(
        false_alarms * 1000 <= benign * 5,
        "{false_alarms} of {benign} benign pages flagged, over 0.5%"
    );
}
