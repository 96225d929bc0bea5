//! Detection quality on the web-shell development set (`../shared/data/webshell-devset/`,
//! a password zip of 229 public shells and 492 benign ASP.NET pages): the built-in
//! detection must find at least 95% of the shells at medium or above and flag at most
//! 0.5% of the benign pages. The zip is extracted into a temporary mounted-image tree
//! under a neutral folder and swept like any evidence. Skipped where the set is absent
//! (it is not part of the project). The project's own held-out set (`bench/heldout/`)
//! is held to the false-alarm bar and a recall floor. `bench/devset.py` prints the same
//! figures with the misses by name, and takes `--rules` for third-party packs.

use exsweep_engine::progress::Silent;
use exsweep_engine::scan::{self, ScanRequest};
use exsweep_model::Severity;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;

/// Extracts a sample zip (`webshells/`, `dev2/`, `benign/`) into a mounted-image tree
/// under `C:\Samples`, sweeps it with the built-in detection and returns, per folder,
/// (files, files with a finding at medium or above).
fn sweep_sample_zip(zip_path: &Path) -> Option<HashMap<String, (usize, usize)>> {
    let Ok(file) = std::fs::File::open(zip_path) else {
        eprintln!("skipped: {} is absent", zip_path.display());
        return None;
    };
    let mut archive = zip::ZipArchive::new(file).unwrap();
    let root = tempfile::tempdir().unwrap();
    let samples = root.path().join("Samples");
    let mut members: HashMap<String, String> = HashMap::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index_decrypt(i, b"infected").unwrap();
        let name = entry.name().unwrap().to_string();
        let set = name.split('/').next().unwrap_or("").to_string();
        if entry.is_dir() || !["webshells", "dev2", "benign"].contains(&set.as_str()) {
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
    let mut flagged = HashSet::new();
    for finding in &report.findings {
        let Some(file) = finding.file() else { continue };
        if finding.severity >= Severity::Medium {
            flagged.insert(
                file.windows_path
                    .to_lowercase()
                    .trim_start_matches(r"c:\samples\")
                    .replace('\\', "/"),
            );
        }
    }
    let mut counts: HashMap<String, (usize, usize)> = HashMap::new();
    for (member, set) in &members {
        let entry = counts.entry(set.clone()).or_default();
        entry.0 += 1;
        entry.1 += usize::from(flagged.contains(member));
    }
    Some(counts)
}

/// Checks that the set has the size it should (a broken zip would pass every bar) and
/// that at most 0.5% of its benign pages are flagged; returns (shells, shells found).
fn shells_and_false_alarm_bar(
    counts: &HashMap<String, (usize, usize)>,
    min_shells: usize,
    min_benign: usize,
) -> (usize, usize) {
    let (shells, found) = counts["webshells"];
    let (benign, false_alarms) = counts["benign"];
    assert!(
        shells > min_shells && benign > min_benign,
        "{shells} shells, {benign} benign"
    );
    assert!(
        false_alarms * 1000 <= benign * 5,
        "{false_alarms} of {benign} benign pages flagged, over 0.5%"
    );
    (shells, found)
}

#[test]
fn built_in_detection_meets_the_development_set_bars() {
    let zip_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/webshell-devset/devset.zip");
    let Some(counts) = sweep_sample_zip(&zip_path) else {
        return;
    };
    let (shells, found) = shells_and_false_alarm_bar(&counts, 200, 400);
    assert!(
        found * 100 >= shells * 95,
        "found {found} of {shells} shells, under 95%"
    );
}

/// The held-out set (`bench/heldout/`, in the repository): the false-alarm bar, and a
/// floor under recall at today's figure (111 of 137) so that no change loses ground
/// unseen. The target is 85%; this floor rises as detection does.
#[test]
fn built_in_detection_holds_its_ground_on_the_held_out_set() {
    let zip_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/heldout/heldout.zip");
    let counts = sweep_sample_zip(&zip_path).expect("the held-out set is in the repository");
    let (shells, found) = shells_and_false_alarm_bar(&counts, 100, 800);
    assert!(
        found >= 111,
        "found {found} of {shells} held-out shells, fewer than 111"
    );
}
