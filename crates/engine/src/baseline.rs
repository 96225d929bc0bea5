//! Writing a known-good baseline from a clean server: every file of Exchange's front-
//! and back-end web folders with its SHA-256, in Microsoft's format
//! (`exsweep baseline create`), so a server of a build Microsoft published no list
//! for can be compared with a clean twin.

use crate::checks::exposure::served_build;
use crate::checks::files::Hashes;
use crate::inventory::Inventory;
use exsweep_evidence::{winpath, Evidence, Layout};
use exsweep_indicators::baseline::{write_baseline, BaselineLine};
use std::path::Path;
use std::sync::Mutex;

/// Files larger than this are listed without being compared (none ships this big).
const MAX_BASELINE_FILE: u64 = 1 << 30;

/// What a clean server's web folders hold.
pub struct CreatedBaseline {
    pub build: String,
    /// (SHA-256 in lower-case hex, path below the install root as the server spells it).
    pub files: Vec<(String, String)>,
    /// Files that could not be read and so are not in the baseline.
    pub warnings: Vec<String>,
}

impl CreatedBaseline {
    /// Writes it in Microsoft's format, sorted by path; gzipped when `gzip`.
    pub fn write(&self, gzip: bool, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let mut lines: Vec<BaselineLine> = self
            .files
            .iter()
            .map(|(sha256, relative_path)| BaselineLine {
                sha256,
                relative_path,
            })
            .collect();
        write_baseline(&self.build, &mut lines, gzip, out)
    }
}

/// Reads the evidence's Exchange web folders. `build` names the build when the
/// evidence does not tell it (no build folder below `owa\auth`, no SOFTWARE hive).
pub fn create(
    evidence_path: &Path,
    layout: Option<Layout>,
    build: Option<String>,
) -> Result<CreatedBaseline, String> {
    let evidence = Evidence::open(evidence_path, layout, &[])?;
    let inventory = Inventory::take(&evidence, false);
    let exchange = inventory
        .exchange
        .as_ref()
        .ok_or_else(|| format!("no Exchange install found in {}", evidence_path.display()))?;
    let build = build
        .or_else(|| served_build(&evidence, &inventory).map(|(build, _)| build))
        .ok_or("the evidence does not tell the build: name it with --build")?;
    if !exsweep_indicators::baseline::is_build(&build) {
        return Err(format!("{build} is not a build number (like 15.2.1544.4)"));
    }
    let dirs = [
        format!(r"{}\FrontEnd\HttpProxy", exchange.root),
        format!(r"{}\ClientAccess", exchange.root),
    ];
    let root_len = exchange.root.len();
    let files = Mutex::new(Vec::new());
    let warnings = Mutex::new(Vec::new());
    let listing = evidence.visit_files(&dirs, &[], &|file| {
        let mut buf = Vec::new();
        match evidence.read(&file, MAX_BASELINE_FILE, &mut buf) {
            Ok(()) => {
                let sha256 = Hashes::default().sha256(&buf).to_string();
                let relative = file.windows_path[root_len..].to_string();
                files.lock().unwrap().push((sha256, relative));
            }
            Err(e) => warnings.lock().unwrap().push(format!(
                "cannot read {}: {e}",
                exsweep_model::printable(file.windows_path.as_bytes())
            )),
        }
    });
    let mut warnings = warnings.into_inner().unwrap();
    warnings.extend(listing.warnings);
    let files = files.into_inner().unwrap();
    if files.is_empty() {
        return Err(format!(
            "no file below {} or {}",
            winpath::key(&dirs[0]),
            winpath::key(&dirs[1])
        ));
    }
    Ok(CreatedBaseline {
        build,
        files,
        warnings,
    })
}
