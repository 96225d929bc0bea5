//! The vault: a folder holding each quarantined file neutralised, the journal of
//! every step, and a checksummed manifest of what is there.
//!
//! ```text
//! VAULT/
//!   .lock           held (an OS file lock) by the one run working on the vault
//!   journal.log     every step, flushed before it is taken (see `journal`)
//!   manifest.json   every item and its state, rebuilt from the journal, checksummed
//!   items/<id>.zip  the file, in a zip encrypted with the password `infected`
//! ```
//!
//! The zip is the form malware analysts exchange samples in: no web server runs a page
//! inside it, antivirus cannot read it to flag it again, and any unzip tool gives the
//! file back. An item's ID is a hash of its Windows path and SHA-256, so the same file
//! quarantined twice (an interrupted run, run again) is the same item.

use crate::durable::{self, digest_reader, part_path, sync_dir};
use crate::journal::{self, Journal, Step};
use exsweep_evidence::winpath;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use zip::unstable::write::FileOptionsExt;

/// The password of every vault zip: the one malware-sharing sites use.
pub const ZIP_PASSWORD: &[u8] = b"infected";
const MANIFEST_FORMAT: &str = "exsweep-vault-manifest/1";

/// A finding that put a file in the vault, as the manifest keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub finding_id: String,
    pub check_id: String,
    pub severity: String,
    pub title: String,
}

/// A known-good copy that took a modified Exchange file's place.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replacement {
    pub sha256: String,
    /// Where the copy came from (`--known-good`), escaped as local paths are.
    pub source: String,
}

/// Everything the vault knows about one quarantined file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub id: String,
    pub windows_path: String,
    /// The file's path on the machine that quarantined it, escaped as in the JSONL
    /// (`%XX` for bytes that are not UTF-8).
    pub local_path: String,
    pub size: u64,
    pub md5: String,
    pub sha1: String,
    pub sha256: String,
    /// RFC 3339 with nanoseconds, as the file system gave them.
    pub modified: Option<String>,
    pub accessed: Option<String>,
    pub created: Option<String>,
    /// Windows attribute bits, where the file system records them.
    pub attributes: Option<u32>,
    /// The owner as the platform gives it (`uid:gid` on Unix, the owner's SID on Windows).
    pub owner: Option<String>,
    /// Unix permission bits, restored with the file.
    pub unix_mode: Option<u32>,
    pub reasons: Vec<Reason>,
    /// For a compiled copy of a page (`App_Web_*.dll`, `.compiled`): the page.
    pub companion_of: Option<String>,
    pub replacement: Option<Replacement>,
    pub quarantined_at: String,
    /// `user@host` of the run that quarantined it.
    pub quarantined_by: String,
}

/// Where an item is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// A quarantine started and has not yet been confirmed or undone.
    Started,
    /// The vault copy is verified; the original may still be in place.
    Stored,
    /// The file is only in the vault.
    Quarantined,
    /// The file is in the vault and a known-good copy stands in its place.
    Replaced,
    /// The quarantine was undone before the original was removed.
    RolledBack,
    /// A restore started and has not yet been confirmed or undone.
    Restoring,
    /// The file is back where it was.
    Restored,
}

/// An item and its state, as the manifest lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub state: State,
    #[serde(flatten)]
    pub item: Item,
    /// For a restore in flight: whether the item had been replaced by a known-good copy.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub was_replaced: bool,
}

#[derive(Serialize, Deserialize)]
struct Manifest {
    format: String,
    written: String,
    items: Vec<Entry>,
    /// `sha256:` and the SHA-256 of `items` as written (compact JSON).
    checksum: String,
}

/// An item's ID: the same file at the same path is the same item.
pub fn item_id(windows_path: &str, sha256: &str) -> String {
    let key = format!("{}\u{1f}{sha256}", winpath::key(windows_path));
    durable::sha256_hex(key.as_bytes())[..16].to_string()
}

/// The vault, locked for this run.
pub struct Vault {
    dir: PathBuf,
    journal: Journal,
    entries: BTreeMap<String, Entry>,
    /// Held for the run: the OS drops the lock when the process ends, even by SIGKILL.
    _lock: File,
    /// Warnings met opening it (a torn journal line).
    pub warnings: Vec<String>,
}

pub(crate) fn io_err(what: &str, path: &Path, e: io::Error) -> String {
    format!("{what} {}: {e}{}", path.display(), os_hint(&e))
}

/// What an OS error means for a responder (a full disk, a read-only mount).
#[cfg(unix)]
fn os_hint(e: &io::Error) -> &'static str {
    match e.raw_os_error() {
        Some(libc::ENOSPC) => " (the disk is full)",
        Some(libc::EFBIG) => " (the file is over a size limit of this file system or process)",
        Some(libc::EROFS) => " (the file system is read-only)",
        Some(libc::EDQUOT) => " (over the disk quota)",
        _ => "",
    }
}

#[cfg(not(unix))]
fn os_hint(_e: &io::Error) -> &'static str {
    ""
}

/// Applies one journal step to the replayed state.
fn replay(entries: &mut BTreeMap<String, Entry>, step: Step) {
    let id = step.id().to_string();
    if let Step::Begin { item } = step {
        entries.insert(
            id,
            Entry {
                state: State::Started,
                item: *item,
                was_replaced: false,
            },
        );
        return;
    }
    let Some(entry) = entries.get_mut(&id) else {
        return;
    };
    entry.state = match step {
        Step::Begin { .. } => unreachable!("handled above"),
        Step::Stored { .. } => State::Stored,
        Step::Removed { .. } => State::Quarantined,
        Step::Replaced { .. } => State::Replaced,
        Step::RolledBack { .. } => State::RolledBack,
        Step::RestoreBegin { .. } => {
            entry.was_replaced = entry.state == State::Replaced;
            State::Restoring
        }
        Step::Restored { .. } => State::Restored,
        Step::RestoreAbandoned { .. } if entry.was_replaced => State::Replaced,
        Step::RestoreAbandoned { .. } => State::Quarantined,
    };
}

impl Vault {
    /// Opens the vault at `dir`, creating it when `create` is set, and takes its lock.
    /// Refuses when another run holds the lock, or when the manifest or journal is
    /// damaged.
    pub fn open(dir: &Path, create: bool) -> Result<Vault, String> {
        if create {
            fs::create_dir_all(dir.join("items"))
                .map_err(|e| io_err("cannot create the vault", dir, e))?;
        } else if !dir.join("manifest.json").exists() && !journal::path_in(dir).exists() {
            return Err(format!(
                "{} is not an exsweep vault (no manifest.json or journal.log)",
                dir.display()
            ));
        }
        let lock_path = dir.join(".lock");
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| io_err("cannot open the vault lock", &lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(format!(
                    "another exsweep run is working on the vault {} (its lock is held); wait for it to finish",
                    dir.display()
                ))
            }
            Err(fs::TryLockError::Error(e)) => {
                return Err(io_err("cannot lock the vault", &lock_path, e))
            }
        }
        let (journal, steps, warning) = Journal::open(&journal::path_in(dir))?;
        let mut entries = BTreeMap::new();
        for step in steps {
            replay(&mut entries, step);
        }
        for listed in check_manifest(dir)? {
            if !entries.contains_key(&listed) {
                return Err(format!(
                    "the vault journal {} does not record item {listed}, which the manifest lists: the journal was cut short or replaced; nothing was changed. Keep both files for the case",
                    journal::path_in(dir).display()
                ));
            }
        }
        Ok(Vault {
            dir: dir.to_path_buf(),
            journal,
            entries,
            _lock: lock,
            warnings: warning.into_iter().collect(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    pub fn entry(&self, id: &str) -> Option<&Entry> {
        self.entries.get(id)
    }

    /// Records a step in the journal (flushed) and in the vault's state.
    pub fn record(&mut self, step: Step) -> Result<(), String> {
        self.journal.record(&step).map_err(|e| {
            io_err(
                "cannot write the vault journal",
                &journal::path_in(&self.dir),
                e,
            )
        })?;
        replay(&mut self.entries, step);
        Ok(())
    }

    /// Where an item's zip is.
    pub fn item_path(&self, id: &str) -> PathBuf {
        self.dir.join("items").join(format!("{id}.zip"))
    }

    /// Copies `source` into the item's zip (written beside it, flushed, renamed into
    /// place, the folder flushed).
    pub fn store(&self, item: &Item, source: &Path) -> Result<(), String> {
        let path = self.item_path(&item.id);
        let part = part_path(&path);
        let write = || -> io::Result<()> {
            let mut input = File::open(source)?;
            let out = File::create(&part)?;
            let mut zip = zip::ZipWriter::new(out);
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .large_file(item.size >= u32::MAX as u64)
                .with_deprecated_encryption(ZIP_PASSWORD)
                .map_err(io::Error::other)?;
            zip.start_file(member_name(item), options)
                .map_err(io::Error::other)?;
            io::copy(&mut input, &mut zip)?;
            let out = zip.finish().map_err(io::Error::other)?;
            out.sync_all()?;
            drop(out);
            fs::rename(&part, &path)?;
            sync_dir(&self.dir.join("items"))
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&part);
            io_err("cannot write the vault copy", &path, e)
        })
    }

    /// Whether the item's zip holds a file with the item's SHA-256.
    pub fn verify(&self, item: &Item) -> bool {
        self.read_item(item, &mut |r| digest_reader(r))
            .is_ok_and(|d| d.sha256 == item.sha256 && d.size == item.size)
    }

    /// Streams the item's content (decrypted) to `use_it`.
    pub fn read_item<T>(
        &self,
        item: &Item,
        use_it: &mut dyn FnMut(&mut dyn Read) -> io::Result<T>,
    ) -> io::Result<T> {
        let file = File::open(self.item_path(&item.id))?;
        let mut zip = zip::ZipArchive::new(file).map_err(io::Error::other)?;
        let mut member = zip
            .by_index_decrypt(0, ZIP_PASSWORD)
            .map_err(io::Error::other)?;
        use_it(&mut member)
    }

    /// Removes an item's zip (a quarantine rolled back before the original moved).
    pub fn discard(&self, id: &str) -> Result<(), String> {
        let path = self.item_path(id);
        for p in [part_path(&path), path.clone()] {
            match fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err("cannot remove the vault copy", &p, e)),
            }
        }
        sync_dir(&self.dir.join("items")).map_err(|e| io_err("cannot flush", &self.dir, e))
    }

    /// Rewrites the manifest from the replayed journal, returning its SHA-256 (for
    /// the case notes: a later change to the manifest then shows).
    pub fn write_manifest(&self) -> Result<String, String> {
        let items: Vec<Entry> = self.entries.values().cloned().collect();
        let items_json = serde_json::to_vec(&items).map_err(|e| e.to_string())?;
        let manifest = Manifest {
            format: MANIFEST_FORMAT.into(),
            written: crate::now_rfc3339(),
            checksum: format!("sha256:{}", durable::sha256_hex(&items_json)),
            items,
        };
        let bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| e.to_string())?;
        let path = self.dir.join("manifest.json");
        durable::replace_file(&path, &bytes)
            .map_err(|e| io_err("cannot write the vault manifest", &path, e))?;
        Ok(durable::sha256_hex(&bytes))
    }
}

/// The name of the file inside an item's zip: the original name with `.quarantined`
/// added, so that unpacking it by hand does not make a page a server would run.
fn member_name(item: &Item) -> String {
    let name = winpath::file_name(&item.windows_path);
    let safe: String = name
        .chars()
        .map(|c| if c.is_control() || c == '/' { '_' } else { c })
        .collect();
    format!("{safe}.quarantined")
}

/// Refuses a manifest that fails its checksum: someone edited it, or the disk
/// damaged it. A missing manifest is fine (a run that stopped before writing one).
/// Returns the IDs it lists, which the journal must all record.
fn check_manifest(dir: &Path) -> Result<Vec<String>, String> {
    let path = dir.join("manifest.json");
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err("cannot read the vault manifest", &path, e)),
    };
    let bad = |why: &str| {
        format!(
            "the vault manifest {} {why}: it was damaged or edited; nothing was changed. The journal beside it still records every item; keep both for the case file",
            path.display()
        )
    };
    let manifest: Manifest =
        serde_json::from_slice(&bytes).map_err(|_| bad("is not a complete manifest"))?;
    if manifest.format != MANIFEST_FORMAT {
        return Err(bad("is of an unknown format"));
    }
    let items_json = serde_json::to_vec(&manifest.items).map_err(|e| e.to_string())?;
    if manifest.checksum != format!("sha256:{}", durable::sha256_hex(&items_json)) {
        return Err(bad("fails its checksum"));
    }
    Ok(manifest.items.into_iter().map(|e| e.item.id).collect())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn item(id: &str, sha256: &str, size: u64) -> Item {
        Item {
            id: id.into(),
            windows_path: r"C:\inetpub\wwwroot\aspnet_client\x.aspx".into(),
            local_path: "/tmp/x.aspx".into(),
            size,
            md5: String::new(),
            sha1: String::new(),
            sha256: sha256.into(),
            modified: None,
            accessed: None,
            created: None,
            attributes: None,
            owner: None,
            unix_mode: None,
            reasons: Vec::new(),
            companion_of: None,
            replacement: None,
            quarantined_at: String::new(),
            quarantined_by: String::new(),
        }
    }

    #[test]
    fn a_stored_copy_verifies_and_opens_with_the_customary_password() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("x.aspx");
        fs::write(&source, b"<%@ Page %>payload").unwrap();
        let sha = durable::digest_file(&source).unwrap().sha256;
        let vault = Vault::open(&dir.path().join("vault"), true).unwrap();
        let it = item("abc", &sha, 18);
        vault.store(&it, &source).unwrap();
        assert!(vault.verify(&it));
        let mut zip = zip::ZipArchive::new(File::open(vault.item_path("abc")).unwrap()).unwrap();
        assert!(zip.by_index(0).is_err(), "the copy is encrypted");
        let mut text = String::new();
        zip.by_index_decrypt(0, b"infected")
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "<%@ Page %>payload");
        assert!(!vault.verify(&item("abc", &"0".repeat(64), 18)));
    }

    #[test]
    fn a_second_run_on_a_locked_vault_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let first = Vault::open(dir.path(), true).unwrap();
        let err = Vault::open(dir.path(), true).err().unwrap();
        assert!(err.contains("another exsweep run"), "{err}");
        drop(first);
        assert!(Vault::open(dir.path(), true).is_ok());
    }

    #[test]
    fn the_manifest_checksum_shows_an_edit() {
        let dir = tempfile::tempdir().unwrap();
        let mut vault = Vault::open(dir.path(), true).unwrap();
        vault
            .record(Step::Begin {
                item: Box::new(item("abc", "00", 1)),
            })
            .unwrap();
        vault.write_manifest().unwrap();
        drop(vault);
        let path = dir.path().join("manifest.json");
        let text = fs::read_to_string(&path).unwrap();
        fs::write(&path, text.replace("aspnet_client", "aspnet_clienT")).unwrap();
        let err = Vault::open(dir.path(), false).err().unwrap();
        assert!(err.contains("fails its checksum"), "{err}");
        fs::write(&path, &text[..text.len() / 2]).unwrap();
        let err = Vault::open(dir.path(), false).err().unwrap();
        assert!(err.contains("not a complete manifest"), "{err}");
        // A journal that lost the records of listed items is refused too.
        fs::write(&path, &text).unwrap();
        fs::write(journal::path_in(dir.path()), b"").unwrap();
        let err = Vault::open(dir.path(), false).err().unwrap();
        assert!(err.contains("cut short or replaced"), "{err}");
    }

    #[test]
    fn replay_follows_an_item_through_quarantine_and_restore() {
        let mut entries = BTreeMap::new();
        let id = || "abc".to_string();
        replay(
            &mut entries,
            Step::Begin {
                item: Box::new(item("abc", "00", 1)),
            },
        );
        for (step, state) in [
            (Step::Stored { id: id() }, State::Stored),
            (Step::Removed { id: id() }, State::Quarantined),
            (Step::Replaced { id: id() }, State::Replaced),
            (Step::RestoreBegin { id: id() }, State::Restoring),
            (
                Step::RestoreAbandoned {
                    id: id(),
                    why: String::new(),
                },
                State::Replaced,
            ),
            (Step::RestoreBegin { id: id() }, State::Restoring),
            (Step::Restored { id: id() }, State::Restored),
        ] {
            replay(&mut entries, step);
            assert_eq!(entries["abc"].state, state);
        }
    }
}
