//! Known-good baselines against the files of Exchange's web folders: a file the
//! evidence's build does not ship, a shipped file with another hash (modified, perhaps
//! trojanised), a shipped file's content under another name. A file that matches its
//! baseline is known good, and its content detections are dropped (a rule that fires
//! on Microsoft's own page is the rule's error).

use super::exposure::served_build;
use super::files::FileSubject;
use super::{MODIFIED_EXCHANGE_FILE, RENAMED_EXCHANGE_FILE, UNLISTED_EXCHANGE_FILE};
use crate::inventory::Inventory;
use exsweep_evidence::{winpath, Evidence};
use exsweep_indicators::baseline::{relative_key, Baselines, BuildBaseline};
use exsweep_model::{Hit, Severity};

/// Files Exchange writes at run time into folders the baselines cover.
fn is_known_noise(key: &str) -> bool {
    key.ends_with(".localized.js") || key.starts_with(r"\clientaccess\oab\temp\")
}

/// The folders below the install root the baselines describe.
const COVERED: [&str; 2] = [r"\frontend\httpproxy\", r"\clientaccess\"];

/// The baseline of the evidence's build, and what the sweep needs to use it.
pub struct BaselineContext<'a> {
    baselines: &'a Baselines,
    /// The install root's key (lower case, no trailing `\`).
    root_key: String,
    build: Option<&'a BuildBaseline>,
    pub build_name: Option<String>,
}

impl<'a> BaselineContext<'a> {
    /// The context for this evidence, or `None` when no baseline was loaded or no
    /// Exchange install was found; `warn` hears why files are not compared.
    pub fn new(
        baselines: &'a Baselines,
        evidence: &Evidence,
        inventory: &Inventory,
        warn: &mut dyn FnMut(String),
    ) -> Option<BaselineContext<'a>> {
        if baselines.is_empty() {
            return None;
        }
        let Some(exchange) = &inventory.exchange else {
            warn("a baseline was loaded but no Exchange install was found: files were not compared with it".into());
            return None;
        };
        let build_name = served_build(evidence, inventory).map(|(build, _)| build);
        let build = build_name.as_deref().and_then(|b| baselines.for_build(b));
        if build.is_none() {
            let loaded: Vec<&str> = baselines.builds().collect();
            warn(format!(
                "no baseline for the server's build {} (loaded: {}): Exchange's web files were not compared, \
                 only searched for shipped files under other names",
                build_name.as_deref().unwrap_or("(unknown)"),
                loaded.join(", ")
            ));
        }
        Some(BaselineContext {
            baselines,
            root_key: winpath::key(&exchange.root),
            build,
            build_name,
        })
    }

    /// The file's key below the install root, when it lies in a covered web folder.
    fn covered_key(&self, windows_path: &str) -> Option<String> {
        let key = winpath::key(windows_path);
        let relative = key.strip_prefix(&self.root_key)?;
        let relative = relative_key(relative);
        COVERED
            .iter()
            .any(|dir| relative.starts_with(dir))
            .then_some(relative)
            .filter(|k| !is_known_noise(k))
    }

    /// Compares one completely read file. Returns the hits and whether the file is
    /// known good (listed with this hash at this path).
    pub fn check(&self, subject: &FileSubject, already_judged: bool) -> (Vec<Hit>, bool) {
        let mut out = Vec::new();
        if !subject.complete {
            return (out, false);
        }
        let sha256 = subject.hashes.sha256(subject.data);
        let key = self.covered_key(subject.windows_path);
        let listed = match (&key, self.build) {
            (Some(key), Some(build)) => build.hashes_of(key),
            _ => None,
        };
        if let Some(hashes) = listed {
            if hashes.iter().any(|h| h == sha256) {
                return (out, true);
            }
            let build = self.build_name.as_deref().unwrap_or("?");
            let severity = if subject.extension() == "config" {
                Severity::Low
            } else if subject.is_server_executed() || subject.extension() == "dll" {
                Severity::High
            } else {
                Severity::Medium
            };
            let mut detail = format!(
                "{} is a file Exchange {build} ships, but its SHA-256 ({sha256}) is not the shipped one.",
                winpath::file_name(subject.windows_path)
            );
            if subject.extension() == "config" {
                detail.push_str(
                    " Setup and administrators change configuration files, so this alone is weak.",
                );
            }
            let mut hit = MODIFIED_EXCHANGE_FILE.hit_at(severity, detail);
            hit.known_good_sha256 = hashes.iter().map(|h| h.to_string()).collect();
            out.push(hit);
            return (out, false);
        }
        let elsewhere = self.baselines.paths_of_hash(sha256);
        if let Some(paths) = elsewhere {
            let this = key.clone().unwrap_or_default();
            if !paths.contains(&this) {
                let mut names: Vec<&str> = paths.iter().map(String::as_str).collect();
                names.sort_unstable();
                out.push(RENAMED_EXCHANGE_FILE.hit(format!(
                    "{} has the content of Exchange's {}{}: a shipped file copied or renamed.",
                    winpath::file_name(subject.windows_path),
                    names[0],
                    if names.len() > 1 {
                        format!(" (and {} other paths)", names.len() - 1)
                    } else {
                        String::new()
                    }
                )));
            }
            return (out, false);
        }
        if let (Some(key), Some(_), false) = (&key, self.build, already_judged) {
            let build = self.build_name.as_deref().unwrap_or("?");
            let detail =
                format!("{key} is not among the files Exchange {build} ships in its web folders.");
            out.push(if subject.is_server_executed() {
                UNLISTED_EXCHANGE_FILE.hit(detail)
            } else {
                UNLISTED_EXCHANGE_FILE.hit_at(
                    Severity::Low,
                    detail + " It is not a page IIS would run, so it is less likely a shell.",
                )
            });
        }
        (out, false)
    }
}
