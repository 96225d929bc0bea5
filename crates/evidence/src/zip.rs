//! A Velociraptor collection read in place from its `.zip`: nothing is unpacked.
//! The central directory is indexed once; each worker borrows an open archive from
//! a small pool, so reads run in parallel without re-parsing the directory.

use super::{velociraptor, winpath, FileEntry, Location};
use exsweep_model::FileTimes;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
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
    path: PathBuf,
    entries: Vec<IndexedEntry>,
    pool: Mutex<Vec<zip::ZipArchive<File>>>,
    uploads_json: Option<usize>,
}

fn open_archive(path: &Path) -> Result<zip::ZipArchive<File>, String> {
    let file = File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    zip::ZipArchive::new(file).map_err(|e| format!("{} is not a readable zip: {e}", path.display()))
}

impl ZipSource {
    pub fn open(path: &Path) -> Result<ZipSource, String> {
        let mut archive = open_archive(path)?;
        let mut entries = Vec::new();
        let mut uploads_json = None;
        for i in 0..archive.len() {
            let Ok(entry) = archive.by_index_raw(i) else {
                continue;
            };
            let Ok(name) = entry.name().map(|n| n.into_owned()) else {
                continue;
            };
            if name.eq_ignore_ascii_case("uploads.json") {
                uploads_json = Some(i);
            }
            if entry.is_dir() {
                continue;
            }
            // uploads/<accessor>/<drive>/<path...>
            let mut parts = name.split('/');
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
                    zip_name: name,
                    size: entry.size(),
                    modified: entry.extra_data_fields().find_map(|field| match field {
                        zip::ExtraField::ExtendedTimestamp(t) => t
                            .mod_time()
                            .map(|secs| UNIX_EPOCH + Duration::from_secs(u64::from(secs))),
                        _ => None,
                    }),
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
            path: path.to_path_buf(),
            entries,
            pool: Mutex::new(vec![archive]),
            uploads_json,
        })
    }

    pub fn recorded_times(&self) -> HashMap<String, FileTimes> {
        let Some(i) = self.uploads_json else {
            return HashMap::new();
        };
        let mut buf = Vec::new();
        match self.read(i, 256 << 20, &mut buf) {
            Ok(()) => velociraptor::parse_uploads_json(&buf),
            Err(_) => HashMap::new(),
        }
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
        self.with_entry(zip_index, &mut |entry| {
            entry.take(limit).read_to_end(buf).map(|_| ())
        })
    }

    /// Lends `use_entry` a reader of one entry, on an archive borrowed from the pool.
    pub fn with_entry(
        &self,
        zip_index: usize,
        use_entry: &mut dyn FnMut(&mut dyn Read) -> io::Result<()>,
    ) -> io::Result<()> {
        let pooled = self.pool.lock().unwrap().pop();
        let mut archive = match pooled {
            Some(a) => a,
            None => open_archive(&self.path).map_err(io::Error::other)?,
        };
        let result = archive
            .by_index(zip_index)
            .map_err(io::Error::other)
            .and_then(|mut entry| use_entry(&mut entry));
        self.pool.lock().unwrap().push(archive);
        result
    }
}
