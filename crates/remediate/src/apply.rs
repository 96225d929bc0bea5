//! Carrying out a plan, and finishing what an interrupted run left.
//!
//! One file at a time, each step journaled before the next is taken:
//! `begin` (with everything the manifest will hold) → copy into the vault, flushed,
//! renamed into place → read the copy back and check its SHA-256 → `stored` →
//! check the original is still the file the plan names → remove it, flush its folder
//! → `removed` → (a modified Exchange file with a known-good copy) put the copy in its
//! place → `replaced`. At every instant the file is in place, or verified in the
//! vault, or both; [`recover`] turns "both" into one of the two before a run does
//! anything else.

use crate::durable::{self, digest_file, part_path, sync_dir};
use crate::journal::Step;
use crate::plan::{Plan, PlanEntry};
use crate::target::Target;
use crate::vault::{io_err, item_id, Item, Replacement, State, Vault};
use exsweep_evidence::winpath;
use exsweep_model::LocalPath;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// What a run did and did not do.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Items now in the vault (and replaced, for those with a known-good copy).
    pub moved: Vec<Item>,
    /// Plan entries left in place, with why (changed since the plan, gone, a link).
    pub skipped: Vec<(String, String)>,
    /// Plan entries an earlier run already quarantined.
    pub already: Vec<String>,
    /// What recovery did with an interrupted run's items.
    pub recovered: Vec<String>,
    /// For a modified Exchange file with no known-good copy: where to get one.
    pub take_from_media: Vec<String>,
    /// The SHA-256 of the manifest as written at the end, for the case notes.
    pub manifest_sha256: String,
    /// Why the run stopped before the end of the plan (the vault's disk is full):
    /// everything not yet moved is in place.
    pub stopped: Option<String>,
}

pub(crate) fn local_of(item: &Item) -> PathBuf {
    path_from_bytes(LocalPath::from_escaped(&item.local_path).path_bytes())
}

#[cfg(unix)]
fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
}

pub(crate) fn time_text(time: std::io::Result<SystemTime>) -> Option<String> {
    let time: chrono::DateTime<chrono::Utc> = time.ok()?.into();
    Some(time.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true))
}

/// `user@host` of this run, for the manifest's "by whom".
fn who() -> String {
    let user = ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok())
        .unwrap_or_else(|| "unknown".into());
    format!("{user}@{}", host_name())
}

#[cfg(unix)]
fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most `buf.len()` bytes into the buffer.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    if ok {
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        "unknown".into()
    }
}

#[cfg(not(unix))]
fn host_name() -> String {
    std::env::var("COMPUTERNAME").unwrap_or_else(|_| "unknown".into())
}

/// Everything the manifest keeps about the file at `path`, read before it moves.
fn describe(entry: &PlanEntry, path: &Path, meta: &fs::Metadata) -> Result<Item, String> {
    let digests = digest_file(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    #[cfg(unix)]
    let (owner, unix_mode) = {
        use std::os::unix::fs::MetadataExt;
        (
            Some(format!("{}:{}", meta.uid(), meta.gid())),
            Some(meta.mode() & 0o7777),
        )
    };
    #[cfg(windows)]
    let (owner, unix_mode) = (crate::windows::owner_sid(path), None);
    #[cfg(not(any(unix, windows)))]
    let (owner, unix_mode) = (None, None);
    Ok(Item {
        id: item_id(&entry.windows_path, &digests.sha256),
        windows_path: entry.windows_path.clone(),
        local_path: LocalPath::file(path.as_os_str().as_encoded_bytes())
            .escaped()
            .to_string(),
        size: digests.size,
        md5: digests.md5,
        sha1: digests.sha1,
        sha256: digests.sha256,
        modified: time_text(meta.modified()),
        accessed: time_text(meta.accessed()),
        created: time_text(meta.created()),
        attributes: exsweep_evidence::attributes::windows_attributes(path),
        owner,
        unix_mode,
        reasons: entry.reasons.clone(),
        companion_of: entry.companion_of.clone(),
        replacement: None,
        quarantined_at: crate::now_rfc3339(),
        quarantined_by: who(),
    })
}

/// A known-good copy for a modified Exchange file: a file of the same name below
/// `dir` whose SHA-256 is one the baseline ships.
fn find_known_good(dir: &Path, entry: &PlanEntry) -> Option<(PathBuf, String)> {
    let name = winpath::key(winpath::file_name(&entry.windows_path));
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for e in fs::read_dir(&folder).ok()?.flatten() {
            let Ok(kind) = e.file_type() else { continue };
            if kind.is_dir() {
                stack.push(e.path());
            } else if kind.is_file() && winpath::key(&e.file_name().to_string_lossy()) == name {
                let sha = digest_file(&e.path()).ok()?.sha256;
                if entry.known_good_sha256.contains(&sha) {
                    return Some((e.path(), sha));
                }
            }
        }
    }
    None
}

/// Removes the original after its copy is verified, and records it.
fn remove_original(vault: &mut Vault, item: &Item, path: &Path) -> Result<(), String> {
    clear_protective_attributes(path);
    fs::remove_file(path).map_err(|e| io_err("cannot remove", path, e))?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
        .map_err(|e| io_err("cannot flush", path, e))?;
    vault.record(Step::Removed {
        id: item.id.clone(),
    })
}

/// Puts the known-good copy where the modified file was, and records it.
fn put_replacement(vault: &mut Vault, item: &Item, path: &Path) -> Result<(), String> {
    let Some(replacement) = &item.replacement else {
        return Ok(());
    };
    let source = local_of_text(&replacement.source);
    let bytes =
        fs::read(&source).map_err(|e| io_err("cannot read the known-good copy", &source, e))?;
    if durable::sha256_hex(&bytes) != replacement.sha256 {
        return Err(format!(
            "the known-good copy {} changed since it was chosen; the modified file is in the vault and nothing stands in its place",
            source.display()
        ));
    }
    durable::replace_file(path, &bytes).map_err(|e| io_err("cannot write", path, e))?;
    vault.record(Step::Replaced {
        id: item.id.clone(),
    })
}

fn local_of_text(escaped: &str) -> PathBuf {
    path_from_bytes(LocalPath::from_escaped(escaped).path_bytes())
}

/// Clears read-only, hidden and system before a move: attackers set them so that the
/// file resists deletion and listing. Elsewhere the bits are not the file system's.
#[cfg(windows)]
fn clear_protective_attributes(path: &Path) {
    crate::windows::clear_attributes(path);
}

#[cfg(not(windows))]
fn clear_protective_attributes(_path: &Path) {}

/// Finishes or rolls back every item an interrupted run left in flight, so the
/// vault and the server agree before anything else happens.
pub fn recover(vault: &mut Vault) -> Result<Vec<String>, String> {
    let in_flight: Vec<(State, Item)> = vault
        .entries()
        .filter(|e| {
            matches!(e.state, State::Started | State::Stored | State::Restoring)
                || (e.state == State::Quarantined && e.item.replacement.is_some())
        })
        .map(|e| (e.state, e.item.clone()))
        .collect();
    let mut notes = Vec::new();
    for (state, item) in in_flight {
        let path = local_of(&item);
        let shown = &item.windows_path;
        let present = fs::symlink_metadata(&path).is_ok_and(|m| m.is_file());
        let same = present && digest_file(&path).is_ok_and(|d| d.sha256 == item.sha256);
        match state {
            State::Restoring => {
                let _ = fs::remove_file(part_path(&path));
                if same {
                    vault.record(Step::Restored {
                        id: item.id.clone(),
                    })?;
                    notes.push(format!(
                        "{shown}: the interrupted restore had finished; recorded"
                    ));
                } else {
                    vault.record(Step::RestoreAbandoned {
                        id: item.id.clone(),
                        why: "interrupted before the file was back".into(),
                    })?;
                    notes.push(format!(
                        "{shown}: the interrupted restore was undone; the file stays in the vault"
                    ));
                }
            }
            State::Quarantined => match put_replacement(vault, &item, &path) {
                Ok(()) => notes.push(format!("{shown}: the known-good copy was put in place")),
                Err(e) => notes.push(format!("{shown}: {e}")),
            },
            _ => {
                let verified = vault.verify(&item);
                match (present, same, verified) {
                    (true, true, true) => {
                        if state == State::Started {
                            vault.record(Step::Stored { id: item.id.clone() })?;
                        }
                        remove_original(vault, &item, &path)?;
                        put_replacement(vault, &item, &path)?;
                        notes.push(format!("{shown}: the interrupted quarantine was finished"));
                    }
                    (true, _, _) => {
                        // A verified copy of a file that changed since is kept: it is
                        // what the plan named, and the file on disk is no longer it.
                        if !verified {
                            vault.discard(&item.id)?;
                        }
                        let why = if same {
                            "interrupted before the vault copy was verified"
                        } else {
                            "the file changed during the interrupted run (a verified copy of it as planned stays in the vault)"
                        };
                        vault.record(Step::RolledBack {
                            id: item.id.clone(),
                            why: why.into(),
                        })?;
                        notes.push(format!("{shown}: the interrupted quarantine was rolled back ({why}); the file is in place"));
                    }
                    (false, _, true) => {
                        if state == State::Started {
                            vault.record(Step::Stored { id: item.id.clone() })?;
                        }
                        vault.record(Step::Removed { id: item.id.clone() })?;
                        put_replacement(vault, &item, &path)?;
                        notes.push(format!("{shown}: the interrupted quarantine had removed the file; recorded"));
                    }
                    (false, _, false) => {
                        return Err(format!(
                            "{shown} (vault item {}) is neither in place nor verified in the vault; this should not happen: keep the vault and the disk as they are and look by hand",
                            item.id
                        ))
                    }
                }
            }
        }
    }
    Ok(notes)
}

/// Quarantines one plan entry. `Ok(None)` with a reason in `skipped` when the file
/// is left in place; an error only when the vault itself failed (a full disk), which
/// ends the run.
fn quarantine_one(
    vault: &mut Vault,
    target: &Target,
    entry: &PlanEntry,
    known_good: Option<&Path>,
    out: &mut Outcome,
) -> Result<(), String> {
    let skip = |out: &mut Outcome, why: String| out.skipped.push((entry.windows_path.clone(), why));
    let path = match target.locate(&entry.windows_path) {
        Ok(p) => p,
        Err(why) => {
            let already = vault.entries().any(|e| {
                e.item.sha256 == entry.sha256
                    && winpath::key(&e.item.windows_path) == winpath::key(&entry.windows_path)
                    && matches!(e.state, State::Quarantined | State::Replaced)
            });
            if already {
                out.already.push(entry.windows_path.clone());
            } else {
                skip(out, why);
            }
            return Ok(());
        }
    };
    let meta = fs::symlink_metadata(&path).map_err(|e| io_err("cannot read", &path, e))?;
    let mut item = match describe(entry, &path, &meta) {
        Ok(item) => item,
        Err(why) => {
            skip(out, why);
            return Ok(());
        }
    };
    if item.sha256 != entry.sha256 {
        skip(
            out,
            format!(
                "it changed since the plan (SHA-256 now {}); left in place: scan it again",
                item.sha256
            ),
        );
        return Ok(());
    }
    if !entry.known_good_sha256.is_empty() {
        match known_good.and_then(|dir| find_known_good(dir, entry)) {
            Some((source, sha256)) => {
                item.replacement = Some(Replacement {
                    sha256,
                    source: LocalPath::file(source.as_os_str().as_encoded_bytes())
                        .escaped()
                        .to_string(),
                })
            }
            None => out.take_from_media.push(format!(
                "{}: take the shipped file (SHA-256 {}) from the installation media of this build, or give it with --known-good DIR",
                entry.windows_path,
                entry.known_good_sha256.join(" or ")
            )),
        }
    }
    if let Err(why) = move_into_vault(vault, &item, &path)? {
        skip(out, why);
        return Ok(());
    }
    put_replacement(vault, &item, &path)?;
    out.moved.push(item);
    Ok(())
}

/// Moves the file at `path`, described by `item`, into the vault: copy, verify,
/// remove, each step journaled. The outer error is the vault's own (it ends the run);
/// the inner one says why the file was left in place.
fn move_into_vault(
    vault: &mut Vault,
    item: &Item,
    path: &Path,
) -> Result<Result<(), String>, String> {
    vault.record(Step::Begin {
        item: Box::new(item.clone()),
    })?;
    let id = item.id.clone();
    if let Err(e) = vault.store(item, path) {
        vault.discard(&id)?;
        vault.record(Step::RolledBack { id, why: e.clone() })?;
        return Err(format!(
            "{e}; {} is in place, nothing was lost",
            item.windows_path
        ));
    }
    let still_same = digest_file(path).is_ok_and(|d| d.sha256 == item.sha256);
    if !vault.verify(item) || !still_same {
        vault.discard(&id)?;
        let why = if still_same {
            "the vault copy did not read back the same"
        } else {
            "the file changed while it was copied"
        };
        vault.record(Step::RolledBack {
            id,
            why: why.into(),
        })?;
        return Ok(Err(format!("{why}; left in place")));
    }
    vault.record(Step::Stored { id: id.clone() })?;
    if let Err(e) = remove_original(vault, item, path) {
        vault.discard(&id)?;
        vault.record(Step::RolledBack { id, why: e.clone() })?;
        return Ok(Err(format!("{e}; left in place")));
    }
    Ok(Ok(()))
}

/// Puts the file at `path` (Windows path `windows_path`) into the vault because
/// `why`: a file standing where another is restored with `--force`. Returns the new
/// item's ID, or `None` when it had to stay.
pub(crate) fn set_aside(
    vault: &mut Vault,
    windows_path: &str,
    path: &Path,
    why: &str,
) -> Result<Option<String>, String> {
    let meta = fs::symlink_metadata(path).map_err(|e| io_err("cannot read", path, e))?;
    let entry = PlanEntry {
        windows_path: windows_path.to_string(),
        size: meta.len(),
        sha256: String::new(),
        reasons: vec![crate::vault::Reason {
            finding_id: String::new(),
            check_id: String::new(),
            severity: String::new(),
            title: why.to_string(),
        }],
        companion_of: None,
        known_good_sha256: Vec::new(),
    };
    let Ok(item) = describe(&entry, path, &meta) else {
        return Ok(None);
    };
    Ok(move_into_vault(vault, &item, path)?.ok().map(|_| item.id))
}

/// Refuses a vault that a web server would serve: inside the target's web folders or
/// beside a file being quarantined.
fn check_vault_place(vault_dir: &Path, target: &Target, plan: &Plan) -> Result<(), String> {
    let Some(windows) = target.windows_path_of(vault_dir) else {
        return Ok(());
    };
    let key = winpath::key(&windows) + "\\";
    let beside_entry = plan.entries.iter().any(|e| {
        let folder = winpath::key(e.windows_path.rsplit_once('\\').map_or("", |(d, _)| d));
        key.starts_with(&(folder + "\\"))
    });
    if crate::target::is_web_folder(&key) || beside_entry {
        return Err(format!(
            "the vault {} is {windows}, in a folder the web server serves: the shells would stay reachable. Put it elsewhere (e.g. C:\\ProgramData\\exsweep\\vault or another disk)",
            vault_dir.display()
        ));
    }
    Ok(())
}

/// Runs `plan` on `target`: first finishes or rolls back an interrupted run, then
/// quarantines every entry still as the plan names it.
pub fn apply(
    plan: &Plan,
    target: &Target,
    vault_dir: &Path,
    known_good: Option<&Path>,
) -> Result<Outcome, String> {
    check_vault_place(vault_dir, target, plan)?;
    let mut vault = Vault::open(vault_dir, true)?;
    let mut out = Outcome {
        recovered: vault.warnings.clone(),
        ..Outcome::default()
    };
    out.recovered.extend(recover(&mut vault)?);
    for entry in &plan.entries {
        if let Err(e) = quarantine_one(&mut vault, target, entry, known_good, &mut out) {
            out.stopped = Some(e);
            break;
        }
    }
    out.manifest_sha256 = vault.write_manifest()?;
    Ok(out)
}
