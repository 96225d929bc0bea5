//! Evidence that is a folder on this machine: a mounted image or live root, a KAPE
//! tree, an unpacked Velociraptor collection. Resolves Windows paths case-insensitively
//! and walks folders in parallel without following links.

use super::{velociraptor, winpath, FileEntry, Layout, ListingReport, Location};
use exsweep_model::FileTimes;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Folder names whose presence marks the root of a Windows system drive.
const DRIVE_MARKERS: [&str; 5] = [
    "windows",
    "program files",
    "inetpub",
    "programdata",
    "users",
];

/// At most this many warnings are kept from one listing; the counters stay exact.
const MAX_WARNINGS: usize = 200;
/// A folder with more files than this hands them to the thread pool, not one task.
const PARALLEL_FILES: usize = 64;

/// One drive letter's files, found at a local folder.
#[derive(Clone, Debug)]
struct DriveRoot {
    letter: char,
    local: PathBuf,
    /// Velociraptor percent-encodes the names it stores.
    encoded_names: bool,
}

pub struct FolderSource {
    drives: Vec<DriveRoot>,
}

fn child_dirs(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(rd) = fs::read_dir(dir) else {
        return Vec::new();
    };
    rd.filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect()
}

fn find_child(dir: &Path, name: &str) -> Option<PathBuf> {
    child_dirs(dir)
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, p)| p)
}

fn looks_like_system_drive(dir: &Path) -> bool {
    child_dirs(dir)
        .iter()
        .any(|(n, _)| DRIVE_MARKERS.contains(&n.to_lowercase().as_str()))
}

fn kape_drives(dir: &Path) -> Vec<DriveRoot> {
    child_dirs(dir)
        .into_iter()
        .filter(|(n, _)| n.len() == 1 && n.as_bytes()[0].is_ascii_alphabetic())
        .map(|(n, p)| DriveRoot {
            letter: n.as_bytes()[0].to_ascii_uppercase() as char,
            local: p,
            encoded_names: false,
        })
        .collect()
}

fn velociraptor_drives(dir: &Path) -> Vec<DriveRoot> {
    let Some(uploads) = find_child(dir, "uploads") else {
        return Vec::new();
    };
    let mut drives = Vec::new();
    // uploads/<accessor>/<encoded drive>/...: `auto/C%3A`, `ntfs/%5C%5C.%5CC%3A`, `file/C%3A`.
    for (_, accessor) in child_dirs(&uploads) {
        for (name, path) in child_dirs(&accessor) {
            if let Some(letter) = velociraptor::drive_letter(&velociraptor::decode_name(&name)) {
                drives.push(DriveRoot {
                    letter,
                    local: path,
                    encoded_names: true,
                });
            }
        }
    }
    drives
}

/// Guesses the layout of an evidence folder.
pub fn detect_layout(dir: &Path) -> Option<Layout> {
    if !velociraptor_drives(dir).is_empty() {
        Some(Layout::Velociraptor)
    } else if looks_like_system_drive(dir) {
        Some(Layout::Image)
    } else if kape_drives(dir)
        .iter()
        .any(|d| looks_like_system_drive(&d.local))
    {
        Some(Layout::Kape)
    } else {
        None
    }
}

impl FolderSource {
    /// The drives of `dir` in `layout`, plus `extra` drives (letter, local root).
    pub fn new(
        dir: &Path,
        layout: Layout,
        extra: &[(char, PathBuf)],
    ) -> Result<FolderSource, String> {
        let plain = |letter: char, local: &Path| DriveRoot {
            letter: letter.to_ascii_uppercase(),
            local: local.to_path_buf(),
            encoded_names: false,
        };
        let mut drives = match layout {
            Layout::Image => vec![plain('C', dir)],
            Layout::Live => {
                layout.available_here()?;
                super::live::drives()
                    .iter()
                    .map(|(l, p)| plain(*l, p))
                    .collect()
            }
            Layout::Kape => kape_drives(dir),
            Layout::Velociraptor => velociraptor_drives(dir),
            Layout::Loose => return Err("loose logs are no drive folders".into()),
        };
        for (letter, local) in extra {
            let letter = letter.to_ascii_uppercase();
            if drives.iter().any(|d| d.letter == letter) {
                return Err(format!("drive {letter}: is in the evidence already"));
            }
            drives.push(plain(letter, local));
        }
        if drives.is_empty() {
            return Err(format!(
                "{} holds no drive folders for the {:?} layout",
                dir.display(),
                layout
            ));
        }
        Ok(FolderSource { drives })
    }

    /// True when one drive letter has several roots (collected by two accessors).
    pub fn has_repeated_drives(&self) -> bool {
        self.drives().len() < self.drives.len()
    }

    pub fn drives(&self) -> Vec<char> {
        let mut letters: Vec<char> = self.drives.iter().map(|d| d.letter).collect();
        letters.sort_unstable();
        letters.dedup();
        letters
    }

    /// The local folder of drive root number `root`.
    pub fn drive_root(&self, root: u16) -> Option<&Path> {
        self.drives
            .get(usize::from(root))
            .map(|d| d.local.as_path())
    }

    /// The local folders a Windows folder resolves to (one per collection accessor),
    /// each with the Windows path spelled as the evidence spells it and the drive
    /// root it is on.
    fn resolve_spelled(&self, windows_dir: &str) -> Vec<(PathBuf, String, &DriveRoot, u16)> {
        let Some((letter, parts)) = winpath::split(windows_dir) else {
            return Vec::new();
        };
        let mut found = Vec::new();
        let on_drive = (0..).zip(&self.drives).filter(|(_, d)| d.letter == letter);
        'drives: for (root, drive) in on_drive {
            let mut local = drive.local.clone();
            let mut spelled = format!("{letter}:\\");
            for part in &parts {
                let Ok(rd) = fs::read_dir(&local) else {
                    continue 'drives;
                };
                let hit = rd.filter_map(|e| e.ok()).find_map(|e| {
                    let name = display_name(&e.file_name(), drive.encoded_names);
                    (name.to_lowercase() == part.to_lowercase()
                        && e.file_type().is_ok_and(|t| t.is_dir()))
                    .then(|| (e.path(), name))
                });
                match hit {
                    Some((path, name)) => {
                        local = path;
                        spelled = winpath::join(&spelled, &name);
                    }
                    None => continue 'drives,
                }
            }
            found.push((local, spelled, drive, root));
        }
        found
    }

    pub fn resolve(&self, windows_dir: &str) -> Vec<PathBuf> {
        self.resolve_spelled(windows_dir)
            .into_iter()
            .map(|(p, _, _, _)| p)
            .collect()
    }

    pub fn subdirs(&self, windows_dir: &str) -> Vec<String> {
        let mut names = Vec::new();
        for (local, _, drive, _) in self.resolve_spelled(windows_dir) {
            for (name, _) in child_dirs(&local) {
                names.push(display_name(
                    std::ffi::OsStr::new(&name),
                    drive.encoded_names,
                ));
            }
        }
        names
    }

    /// Walks the folders in parallel and hands every regular file to `visit` as soon
    /// as its folder is read, so that the caller's work overlaps the walk.
    pub fn visit(
        &self,
        dirs: &[String],
        exclude: &[String],
        visit: &(dyn Fn(FileEntry) + Sync),
    ) -> ListingReport {
        self.walk(dirs, exclude, true, visit)
    }

    /// The files directly in one folder.
    pub fn list_one_level(&self, windows_dir: &str) -> Vec<FileEntry> {
        let files = Mutex::new(Vec::new());
        self.walk(&[windows_dir.to_string()], &[], false, &|f| {
            files.lock().unwrap().push(f)
        });
        files.into_inner().unwrap()
    }

    fn walk(
        &self,
        dirs: &[String],
        exclude: &[String],
        recurse: bool,
        visit: &(dyn Fn(FileEntry) + Sync),
    ) -> ListingReport {
        let report = Mutex::new(ListingReport::default());
        rayon::scope(|scope| {
            for dir in dirs {
                for (local, spelled, drive, root) in self.resolve_spelled(dir) {
                    let walk = Walk {
                        encoded: drive.encoded_names,
                        // Encoded names spell no local path.
                        mirror: (!drive.encoded_names).then_some((root, drive.local.as_path())),
                        exclude,
                        visit,
                        report: &report,
                        recurse,
                    };
                    scope.spawn(move |s| walk.dir(s, local, spelled));
                }
            }
        });
        report.into_inner().unwrap()
    }
}

/// A file name as the server knew it: decoded where the collector encoded it,
/// with bytes that are not UTF-8 replaced (the local path keeps the real bytes).
fn display_name(name: &std::ffi::OsStr, encoded: bool) -> String {
    let lossy = name.to_string_lossy();
    if encoded {
        velociraptor::decode_name(&lossy)
    } else {
        lossy.into_owned()
    }
}

/// One parallel walk: shared sinks, each folder a rayon task.
#[derive(Clone, Copy)]
struct Walk<'a> {
    encoded: bool,
    /// The drive root (its number and local folder) that the files' Windows paths
    /// spell their local paths from, where names are not encoded.
    mirror: Option<(u16, &'a Path)>,
    exclude: &'a [String],
    visit: &'a (dyn Fn(FileEntry) + Sync),
    report: &'a Mutex<ListingReport>,
    recurse: bool,
}

impl<'a> Walk<'a> {
    /// Where a file is: spelled by its Windows path where that names its local path
    /// (a listing of a hundred thousand logs then keeps each path once), else its
    /// local path itself.
    fn location_of(&self, local: PathBuf, windows: &str) -> Location {
        if let (Some((root, root_dir)), Some(below)) = (self.mirror, windows.get(DRIVE_PREFIX..)) {
            if spells(root_dir, below, &local) {
                return Location::Mirrored {
                    root,
                    skip: DRIVE_PREFIX as u16,
                };
            }
        }
        // Boxed to drop the join's spare capacity.
        Location::Local(local.into_boxed_path().into_path_buf())
    }

    fn dir<'s>(self, scope: &rayon::Scope<'s>, local: PathBuf, windows: String)
    where
        'a: 's,
    {
        let mut report = ListingReport::default();
        let mut found = Vec::new();
        match fs::read_dir(&local) {
            Err(e) => {
                report.unreadable += 1;
                report
                    .warnings
                    .push(format!("cannot list folder {}: {e}", local.display()));
            }
            Ok(rd) => {
                for entry in rd {
                    let entry = match entry {
                        Ok(e) => e,
                        Err(e) => {
                            report.unreadable += 1;
                            report
                                .warnings
                                .push(format!("cannot read an entry of {}: {e}", local.display()));
                            continue;
                        }
                    };
                    let raw = entry.file_name();
                    let name = display_name(&raw, self.encoded);
                    let child_windows = winpath::join(&windows, &name);
                    if raw.to_str().is_none() || name.chars().any(char::is_control) {
                        report.odd_names += 1;
                        report.warnings.push(format!(
                            "unusual file name (control characters or not UTF-8): {}",
                            exsweep_model::printable(entry.path().as_os_str().as_encoded_bytes())
                        ));
                    }
                    let Ok(kind) = entry.file_type() else {
                        report.unreadable += 1;
                        continue;
                    };
                    if kind.is_symlink() {
                        // Never followed: a link can point outside the evidence or loop.
                        report.symlinks += 1;
                        report.warnings.push(format!(
                            "symbolic link not followed: {}",
                            exsweep_model::printable(entry.path().as_os_str().as_encoded_bytes())
                        ));
                    } else if kind.is_dir() {
                        let key = winpath::key(&child_windows);
                        if self.recurse && !self.exclude.contains(&key) {
                            let path = entry.path();
                            scope.spawn(move |s| self.dir(s, path, child_windows));
                        }
                    } else if kind.is_file() {
                        match entry.metadata() {
                            Ok(meta) => found.push(FileEntry {
                                location: self.location_of(entry.path(), &child_windows),
                                windows_path: child_windows,
                                size: meta.len(),
                                times: times_of(&meta),
                            }),
                            Err(e) => {
                                report.unreadable += 1;
                                report.warnings.push(format!(
                                    "cannot read metadata of {}: {e}",
                                    entry.path().display()
                                ));
                            }
                        }
                    } else {
                        // Sockets, FIFOs, devices: opening a FIFO would block the scan.
                        report.special_files += 1;
                        report.warnings.push(format!(
                            "special file (socket, pipe or device) skipped: {}",
                            entry.path().display()
                        ));
                    }
                }
            }
        }
        {
            let mut shared = self.report.lock().unwrap();
            let room = MAX_WARNINGS.saturating_sub(shared.warnings.len());
            report.warnings.truncate(room);
            shared.merge(report);
        }
        // A folder of many files (a Windows\Temp of 100,000) is read on every core, not
        // by the one task that listed it; a few files are not worth the split.
        if found.len() > PARALLEL_FILES {
            use rayon::prelude::*;
            found.into_par_iter().for_each(|file| (self.visit)(file));
        } else {
            for file in found {
                (self.visit)(file);
            }
        }
    }
}

/// How long the drive prefix of a walked file's Windows path (`C:\`) is.
pub const DRIVE_PREFIX: usize = 3;

/// The components of a Windows path below a drive or folder root.
fn components(windows_below: &str) -> impl Iterator<Item = &str> {
    windows_below.split('\\').filter(|part| !part.is_empty())
}

/// The local path that a Windows path below `root` spells: its components joined on
/// to `root`.
pub fn mirror(root: &Path, windows_below: &str) -> PathBuf {
    let mut path = root.to_path_buf();
    path.extend(components(windows_below));
    path
}

/// Whether `local` is the path [`mirror`] would spell, compared without building it:
/// the walk asks this of every file.
fn spells(root: &Path, windows_below: &str, local: &Path) -> bool {
    local.strip_prefix(root).is_ok_and(|rest| {
        rest.components()
            .map(|c| c.as_os_str())
            .eq(components(windows_below).map(std::ffi::OsStr::new))
    })
}

/// Opens a file for reading only. On Linux, asks the kernel not to update the
/// access time, so that reading evidence does not change it.
pub fn open_read_only(path: &Path) -> io::Result<fs::File> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        const O_NOATIME: i32 = 0o1000000;
        if let Ok(f) = fs::OpenOptions::new()
            .read(true)
            .custom_flags(O_NOATIME)
            .open(path)
        {
            return Ok(f);
        }
    }
    fs::File::open(path)
}

/// A file's times as this machine's file system keeps them.
pub fn times_of(meta: &fs::Metadata) -> FileTimes {
    FileTimes {
        modified: meta.modified().ok(),
        accessed: meta.accessed().ok(),
        created: meta.created().ok(),
    }
}

pub fn read_local(path: &Path, limit: u64, buf: &mut Vec<u8>) -> io::Result<()> {
    let file = open_read_only(path)?;
    file.take(limit).read_to_end(buf)?;
    Ok(())
}
