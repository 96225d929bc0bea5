//! Putting quarantined files back: the content from the vault, written beside the
//! destination, checked against the recorded SHA-256, given its recorded timestamps
//! (and permissions, and attributes on Windows), then renamed into place. A different
//! file standing at the destination is never overwritten unless `--force`, and even
//! then it goes into the vault first.

use crate::apply::{local_of, recover, set_aside};
use crate::durable::{digest_file, digest_reader, part_path, sync_dir};
use crate::journal::Step;
use crate::vault::{io_err, Item, State, Vault};
use std::fs::{self, File};
use std::io;
use std::path::Path;
use std::time::SystemTime;

/// Which items to restore.
pub enum Which {
    All,
    Ids(Vec<String>),
}

#[derive(Debug, Default)]
pub struct Restored {
    pub restored: Vec<Item>,
    /// Items not restored, with why.
    pub skipped: Vec<(String, String)>,
    pub recovered: Vec<String>,
    /// Files that stood in the way and went into the vault (`--force`).
    pub set_aside: Vec<String>,
    pub manifest_sha256: String,
}

fn parse_time(text: &Option<String>) -> Option<SystemTime> {
    chrono::DateTime::parse_from_rfc3339(text.as_deref()?)
        .ok()
        .map(SystemTime::from)
}

/// Writes the item's content to `part`, with its times and permissions, flushed.
fn write_back(vault: &Vault, item: &Item, part: &Path) -> io::Result<()> {
    let mut out = File::create(part)?;
    vault.read_item(item, &mut |r| io::copy(r, &mut out))?;
    #[cfg(unix)]
    if let Some(mode) = item.unix_mode {
        use std::os::unix::fs::PermissionsExt;
        out.set_permissions(fs::Permissions::from_mode(mode))?;
    }
    let mut times = fs::FileTimes::new();
    if let Some(t) = parse_time(&item.modified) {
        times = times.set_modified(t);
    }
    if let Some(t) = parse_time(&item.accessed) {
        times = times.set_accessed(t);
    }
    #[cfg(windows)]
    if let Some(t) = parse_time(&item.created) {
        use std::os::windows::fs::FileTimesExt;
        times = times.set_created(t);
    }
    out.set_times(times)?;
    out.sync_all()
}

fn restore_one(
    vault: &mut Vault,
    item: &Item,
    force: bool,
    out: &mut Restored,
) -> Result<(), String> {
    let dest = local_of(item);
    let skip = |out: &mut Restored, why: String| out.skipped.push((item.windows_path.clone(), why));
    if let Ok(meta) = fs::symlink_metadata(&dest) {
        if !meta.is_file() {
            skip(
                out,
                format!(
                    "{} is now a link or folder; it is left as it is",
                    dest.display()
                ),
            );
            return Ok(());
        }
        let current = digest_file(&dest)
            .map_err(|e| io_err("cannot read", &dest, e))?
            .sha256;
        if current == item.sha256 {
            vault.record(Step::Restored {
                id: item.id.clone(),
            })?;
            out.restored.push(item.clone());
            return Ok(());
        }
        let ours = item
            .replacement
            .as_ref()
            .is_some_and(|r| r.sha256 == current);
        if !ours {
            if !force {
                skip(out, format!(
                    "a different file (SHA-256 {current}) is at {}; --force puts it in the vault and restores this one",
                    dest.display()
                ));
                return Ok(());
            }
            let why = format!("stood where vault item {} was restored (--force)", item.id);
            match set_aside(vault, &item.windows_path, &dest, &why)? {
                Some(aside) => out
                    .set_aside
                    .push(format!("{} (vault item {aside})", item.windows_path)),
                None => {
                    skip(
                        out,
                        format!("the file at {} could not be set aside", dest.display()),
                    );
                    return Ok(());
                }
            }
        }
    }
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent).map_err(|e| io_err("cannot create", parent, e))?;
    }
    vault.record(Step::RestoreBegin {
        id: item.id.clone(),
    })?;
    let part = part_path(&dest);
    let result = write_back(vault, item, &part).and_then(|_| {
        let d = digest_reader(&mut File::open(&part)?)?;
        if d.sha256 != item.sha256 {
            return Err(io::Error::other(
                "the vault copy does not have the recorded SHA-256",
            ));
        }
        fs::rename(&part, &dest)?;
        sync_dir(dest.parent().unwrap_or(Path::new(".")))
    });
    match result {
        Ok(()) => {
            #[cfg(windows)]
            if let Some(bits) = item.attributes {
                crate::windows::set_attributes(&dest, bits);
            }
            vault.record(Step::Restored {
                id: item.id.clone(),
            })?;
            out.restored.push(item.clone());
        }
        Err(e) => {
            let _ = fs::remove_file(&part);
            let why = io_err("cannot restore", &dest, e);
            vault.record(Step::RestoreAbandoned {
                id: item.id.clone(),
                why: why.clone(),
            })?;
            skip(out, why);
        }
    }
    Ok(())
}

/// Restores `which` items of the vault at `vault_dir`, after finishing whatever an
/// interrupted run left.
pub fn restore(vault_dir: &Path, which: &Which, force: bool) -> Result<Restored, String> {
    let mut vault = Vault::open(vault_dir, false)?;
    let mut out = Restored {
        recovered: vault.warnings.clone(),
        ..Restored::default()
    };
    out.recovered.extend(recover(&mut vault)?);
    let chosen: Vec<Item> = match which {
        Which::All => vault
            .entries()
            .filter(|e| matches!(e.state, State::Quarantined | State::Replaced))
            .map(|e| e.item.clone())
            .collect(),
        Which::Ids(ids) => {
            let mut chosen = Vec::new();
            for id in ids {
                match vault.entry(id) {
                    Some(e) if matches!(e.state, State::Quarantined | State::Replaced) => {
                        chosen.push(e.item.clone())
                    }
                    Some(e) => out.skipped.push((
                        e.item.windows_path.clone(),
                        format!("vault item {id} is {:?}, not in quarantine", e.state)
                            .to_lowercase(),
                    )),
                    None => out.skipped.push((id.clone(), "no such vault item".into())),
                }
            }
            chosen
        }
    };
    for item in &chosen {
        restore_one(&mut vault, item, force, &mut out)?;
    }
    out.manifest_sha256 = vault.write_manifest()?;
    Ok(out)
}
