//! Zips read in place, nothing unpacked: a Velociraptor collection as its `.zip`
//! ([`ZipSource`]), and any archive's members ([`SharedArchive`], also used for zips
//! of loose logs). The central directory is parsed once per archive; each reader
//! works on a clone that shares it, over its own position in one open file, so reads
//! run in parallel without parsing it again.

use super::{velociraptor, winpath, FileEntry, Location};
use exsweep_model::FileTimes;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

struct IndexedEntry {
    windows_path: String,
    key: String,
    zip_index: usize,
    zip_name: String,
    size: u64,
    /// The server's modification time: Velociraptor stores it as the member's time,
    /// in UTC in the extended-timestamp field (the DOS time has no time zone).
    modified: Option<SystemTime>,
}

pub struct ZipSource {
    entries: Vec<IndexedEntry>,
    archive: SharedArchive,
    uploads_json: Option<usize>,
}

/// One open file read at positions of its own: what lets clones of an archive read
/// in parallel (`pread`, not a shared cursor).
#[derive(Clone)]
pub struct SharedFile {
    file: Arc<File>,
    len: u64,
    pos: u64,
}

impl Read for SharedFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        #[cfg(unix)]
        let n = std::os::unix::fs::FileExt::read_at(&*self.file, buf, self.pos)?;
        #[cfg(windows)]
        let n = std::os::windows::fs::FileExt::seek_read(&*self.file, buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SharedFile {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(at) => Some(at),
            SeekFrom::End(delta) => self.len.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.pos.checked_add_signed(delta),
        };
        self.pos = target.ok_or_else(|| io::Error::other("seek before the start of the zip"))?;
        Ok(self.pos)
    }
}

/// A zip whose central directory was parsed once.
pub struct SharedArchive {
    pub path: PathBuf,
    archive: zip::ZipArchive<SharedFile>,
}

impl SharedArchive {
    pub fn open(path: &Path) -> Result<SharedArchive, String> {
        let file = super::folder::open_read_only(path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let len = file
            .metadata()
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?
            .len();
        let reader = SharedFile {
            file: Arc::new(file),
            len,
            pos: 0,
        };
        let archive = zip::ZipArchive::new(reader)
            .map_err(|e| format!("{} is not a readable zip: {e}", path.display()))?;
        Ok(SharedArchive {
            path: path.to_path_buf(),
            archive,
        })
    }

    pub fn len(&self) -> usize {
        self.archive.len()
    }

    /// A member's name, size, whether it is a folder, and its modification time.
    pub fn member(&self, index: usize) -> Option<Member> {
        let mut archive = self.archive.clone();
        let entry = archive.by_index_raw(index).ok()?;
        let name = entry.name().ok()?.into_owned();
        let modified = entry.extra_data_fields().find_map(|field| match field {
            zip::ExtraField::ExtendedTimestamp(t) => t
                .mod_time()
                .map(|secs| UNIX_EPOCH + Duration::from_secs(u64::from(secs))),
            _ => None,
        });
        let member = Member {
            is_dir: entry.is_dir(),
            size: entry.size(),
            modified,
            name,
        };
        Some(member)
    }

    pub fn read(&self, index: usize, limit: u64, buf: &mut Vec<u8>) -> io::Result<()> {
        self.with_entry(index, &mut |entry| {
            entry.take(limit).read_to_end(buf).map(|_| ())
        })
    }

    /// Lends `use_entry` a reader of one member, on a clone of the archive.
    pub fn with_entry(
        &self,
        index: usize,
        use_entry: &mut dyn FnMut(&mut dyn Read) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut archive = self.archive.clone();
        let mut entry = archive.by_index(index).map_err(io::Error::other)?;
        use_entry(&mut entry)
    }
}

/// What the central directory says of one member.
pub struct Member {
    pub name: String,
    pub is_dir: bool,
    pub size: u64,
    /// In UTC from the extended-timestamp field, where the member has one (the DOS
    /// time has no time zone).
    pub modified: Option<SystemTime>,
}

impl ZipSource {
    pub fn open(path: &Path) -> Result<ZipSource, String> {
        let archive = SharedArchive::open(path)?;
        let mut entries = Vec::new();
        let mut uploads_json = None;
        for i in 0..archive.len() {
            let Some(member) = archive.member(i) else {
                continue;
            };
            if member.name.eq_ignore_ascii_case("uploads.json") {
                uploads_json = Some(i);
            }
            if member.is_dir {
                continue;
            }
            // uploads/<accessor>/<drive>/<path...>
            let mut parts = member.name.split('/');
            if !parts
                .next()
                .is_some_and(|p| p.eq_ignore_ascii_case("uploads"))
            {
                continue;
            }
            let _accessor = parts.next();
            let components: Vec<String> = parts.map(velociraptor::decode_name).collect();
            if let Some(windows_path) = velociraptor::windows_path(&components) {
                entries.push(IndexedEntry {
                    key: winpath::key(&windows_path),
                    windows_path,
                    zip_index: i,
                    size: member.size,
                    modified: member.modified,
                    zip_name: member.name,
                });
            }
        }
        if entries.is_empty() {
            return Err(format!(
                "{} holds no uploads/<accessor>/<drive>/ files: not a Velociraptor collection",
                path.display()
            ));
        }
        Ok(ZipSource {
            entries,
            archive,
            uploads_json,
        })
    }

    pub fn recorded_times(&self) -> HashMap<String, FileTimes> {
        let Some(i) = self.uploads_json else {
            return HashMap::new();
        };
        let mut times = HashMap::new();
        let _ = self.archive.with_entry(i, &mut |entry| {
            times = velociraptor::read_uploads_json(entry, velociraptor::MAX_UPLOADS_JSON);
            Ok(())
        });
        times
    }

    pub fn drives(&self) -> Vec<char> {
        let mut letters: Vec<char> = self
            .entries
            .iter()
            .filter_map(|e| e.windows_path.chars().next())
            .collect();
        letters.sort_unstable();
        letters.dedup();
        letters
    }

    pub fn dir_exists(&self, windows_dir: &str) -> bool {
        let dir = winpath::key(windows_dir);
        self.entries
            .iter()
            .any(|e| e.key != dir && winpath::is_within(&e.key, &dir))
    }

    pub fn subdirs(&self, windows_dir: &str) -> Vec<String> {
        let dir = winpath::key(windows_dir);
        let mut names: Vec<String> = self
            .entries
            .iter()
            .filter(|e| e.key != dir && winpath::is_within(&e.key, &dir))
            .filter_map(|e| {
                let rest = e.windows_path.get(dir.len()..)?.trim_start_matches('\\');
                rest.split_once('\\').map(|(first, _)| first.to_string())
            })
            .collect();
        names.sort();
        names.dedup();
        names
    }

    pub fn list(&self, dirs: &[String], exclude: &[String]) -> Vec<FileEntry> {
        let dir_keys: Vec<String> = dirs.iter().map(|d| winpath::key(d)).collect();
        self.entries
            .iter()
            .filter(|e| dir_keys.iter().any(|d| winpath::is_within(&e.key, d)))
            .filter(|e| !exclude.iter().any(|x| winpath::is_within(&e.key, x)))
            .map(|e| FileEntry {
                windows_path: e.windows_path.clone(),
                location: Location::ZipEntry(e.zip_index),
                size: e.size,
                times: FileTimes {
                    modified: e.modified,
                    ..FileTimes::default()
                },
            })
            .collect()
    }

    pub fn entry_name(&self, zip_index: usize) -> String {
        self.entries
            .iter()
            .find(|e| e.zip_index == zip_index)
            .map(|e| e.zip_name.clone())
            .unwrap_or_else(|| format!("entry {zip_index}"))
    }

    pub fn read(&self, zip_index: usize, limit: u64, buf: &mut Vec<u8>) -> io::Result<()> {
        self.archive.read(zip_index, limit, buf)
    }

    /// Lends `use_entry` a reader of one entry.
    pub fn with_entry(
        &self,
        zip_index: usize,
        use_entry: &mut dyn FnMut(&mut dyn Read) -> io::Result<()>,
    ) -> io::Result<()> {
        self.archive.with_entry(zip_index, use_entry)
    }
}
