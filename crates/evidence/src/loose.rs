//! Loose logs: a folder or a single file handed over as it is (a zip of IIS logs,
//! exported EVTX with any names, HttpProxy extracts, a Test-ProxyLogon CSV), with no
//! Windows layout around it. Every file is a candidate, named by its path below the
//! folder given (that name stands where a server path would); `.gz` files are read
//! through their decompression and `.zip` archives member by member, in place. What
//! each file is, the engine tells from its content.

use super::folder::{self, FolderSource};
use super::zip::SharedArchive;
use super::{FileEntry, Layout, ListingReport, Location};
use exsweep_model::FileTimes;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub struct LooseSource {
    /// The folder given, that the files' names spell their local paths from; `None`
    /// for one file.
    root: Option<PathBuf>,
    /// For one file: it, or a zip's members. A folder's files are walked for each
    /// visit instead, so that a hundred thousand exported logs are never listed whole.
    single: Vec<Arc<FileEntry>>,
    /// The zips found so far, each opened once (their members name them by index),
    /// and where each one is.
    archives: Mutex<Archives>,
    /// For one file: what reading it as a zip passed over.
    report: ListingReport,
}

#[derive(Default)]
struct Archives {
    opened: Vec<Arc<SharedArchive>>,
    by_path: std::collections::HashMap<PathBuf, usize>,
}

impl LooseSource {
    /// Every file below a folder (links not followed, as everywhere), walked on each
    /// [`LooseSource::visit`].
    pub fn folder(dir: &Path) -> Result<LooseSource, String> {
        // Fails here, not at the first visit, on a folder that cannot be walked.
        FolderSource::new(dir, Layout::Image, &[])?;
        Ok(LooseSource {
            root: Some(dir.to_path_buf()),
            single: Vec::new(),
            archives: Mutex::default(),
            report: ListingReport::default(),
        })
    }

    /// One file: a log, a `.gz` of one, or a zip of them.
    pub fn file(path: &Path) -> Result<LooseSource, String> {
        let meta =
            std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let name = path
            .file_name()
            .map_or_else(|| "evidence".into(), |n| n.to_string_lossy().into_owned());
        let mut source = LooseSource {
            root: None,
            single: Vec::new(),
            archives: Mutex::default(),
            report: ListingReport::default(),
        };
        let (mut files, mut report) = (Vec::new(), ListingReport::default());
        source.add(
            FileEntry {
                windows_path: name,
                location: Location::Local(path.to_path_buf()),
                size: meta.len(),
                times: folder::times_of(&meta),
            },
            &mut files,
            &mut report,
        );
        source.single = files;
        source.report = report;
        Ok(source)
    }

    /// The folder the files' names spell their local paths from.
    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// Hands every file over to `each`, in batches of `batch` files (the last one
    /// smaller), each sorted by name, while the walk goes on: at most a batch and the
    /// walk's queue are held at a time, however many files the folder has. Returns
    /// what the walk passed over.
    pub fn visit(&self, batch: usize, each: &mut dyn FnMut(Vec<Arc<FileEntry>>)) -> ListingReport {
        let batch = batch.max(1);
        let Some(root) = &self.root else {
            let mut files = self.single.clone();
            files.sort_unstable_by(|a, b| a.windows_path.cmp(&b.windows_path));
            each(files);
            return self.report.clone();
        };
        let (send, found) = std::sync::mpsc::sync_channel::<FileEntry>(batch);
        std::thread::scope(|scope| {
            // The walk runs in a pool of its own: it waits whenever the queue is full,
            // and must not hold back the threads that read the batches.
            let walk = scope.spawn(move || {
                let walker = FolderSource::new(root, Layout::Image, &[])?;
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(1)
                    .build()
                    .map_err(|e| e.to_string())?;
                Ok::<_, String>(pool.install(|| {
                    walker.visit(&[r"C:\".to_string()], &[], &|mut file| {
                        strip_drive(&mut file);
                        // A send fails only when the reader is gone: nothing to do.
                        let _ = send.send(file);
                    })
                }))
            });
            let mut pending = Vec::with_capacity(batch);
            let mut zips = ListingReport::default();
            let mut hand_over = |pending: &mut Vec<Arc<FileEntry>>| {
                // Names below one folder are unique, so the unstable sort gives one order.
                pending.sort_unstable_by(|a, b| a.windows_path.cmp(&b.windows_path));
                each(std::mem::replace(pending, Vec::with_capacity(batch)));
            };
            for file in found {
                self.add(file, &mut pending, &mut zips);
                if pending.len() >= batch {
                    hand_over(&mut pending);
                }
            }
            if !pending.is_empty() {
                hand_over(&mut pending);
            }
            let mut listing = match walk.join() {
                Ok(Ok(listing)) => listing,
                Ok(Err(e)) => ListingReport {
                    warnings: vec![format!("cannot walk {}: {e}", root.display())],
                    ..ListingReport::default()
                },
                Err(_) => ListingReport {
                    warnings: vec![format!("the walk of {} failed", root.display())],
                    ..ListingReport::default()
                },
            };
            listing.warnings.append(&mut zips.warnings);
            listing.unreadable += zips.unreadable;
            listing
        })
    }

    /// Adds a file found on disk to `files`: a zip as its members, a `.gz` as its
    /// content.
    fn add(&self, file: FileEntry, files: &mut Vec<Arc<FileEntry>>, report: &mut ListingReport) {
        let name = file.windows_path.as_bytes();
        let ends_with = |suffix: &[u8]| {
            name.len() >= suffix.len()
                && name[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
        };
        let (zip, gz) = (ends_with(b".zip"), ends_with(b".gz"));
        let path = (zip || gz)
            .then(|| file.disk_path(self.root()))
            .flatten()
            .map(|p| p.into_owned());
        let Some(path) = path else {
            return files.push(Arc::new(file));
        };
        if zip {
            match self.open_archive(&path) {
                Ok((at, archive)) => return add_members(&file, at, &archive, files, report),
                Err(e) => report.warnings.push(format!("{e}; read as a plain file")),
            }
            files.push(Arc::new(file));
        } else {
            files.push(Arc::new(FileEntry {
                location: Location::Gzip(path),
                ..file
            }));
        }
    }

    /// The zip at `path`, opened on the first visit that finds it.
    fn open_archive(&self, path: &Path) -> Result<(usize, Arc<SharedArchive>), String> {
        let mut archives = self.archives.lock().unwrap();
        if let Some(&at) = archives.by_path.get(path) {
            return Ok((at, archives.opened[at].clone()));
        }
        let archive = Arc::new(SharedArchive::open(path)?);
        let at = archives.opened.len();
        archives.opened.push(archive.clone());
        archives.by_path.insert(path.to_path_buf(), at);
        Ok((at, archive))
    }

    pub fn archive(&self, at: usize) -> io::Result<Arc<SharedArchive>> {
        self.archives
            .lock()
            .unwrap()
            .opened
            .get(at)
            .cloned()
            .ok_or_else(|| io::Error::other("no such archive in the evidence"))
    }
}

/// A zip's members, as files named below the zip's own name.
fn add_members(
    zip: &FileEntry,
    at: usize,
    archive: &SharedArchive,
    files: &mut Vec<Arc<FileEntry>>,
    report: &mut ListingReport,
) {
    for index in 0..archive.len() {
        let Some(member) = archive.member(index) else {
            report.unreadable += 1;
            continue;
        };
        if member.is_dir {
            continue;
        }
        files.push(Arc::new(FileEntry {
            windows_path: format!(r"{}\{}", zip.windows_path, member.name.replace('/', r"\")),
            location: Location::LooseMember { archive: at, index },
            size: member.size,
            times: FileTimes {
                modified: member.modified,
                ..FileTimes::default()
            },
        }));
    }
}

/// Takes the walker's drive prefix (`C:\`) off a file's name, and off the part of
/// the name its location is spelled from; the name keeps no spare capacity.
fn strip_drive(file: &mut FileEntry) {
    file.windows_path.drain(..folder::DRIVE_PREFIX);
    file.windows_path.shrink_to_fit();
    if let Location::Mirrored { skip, .. } = &mut file.location {
        *skip = skip.saturating_sub(folder::DRIVE_PREFIX as u16);
    }
}

/// A reader of a `.gz` file's content (every member of a multi-member file).
pub fn gzip_reader(path: &Path) -> io::Result<impl Read> {
    Ok(flate2::read::MultiGzDecoder::new(folder::open_read_only(
        path,
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Every file a visit hands over, in order.
    fn visited(evidence: &crate::Evidence, batch: usize) -> Vec<Arc<FileEntry>> {
        let mut files = Vec::new();
        evidence.visit_loose(batch, &mut |b| files.extend(b));
        files
    }

    #[test]
    fn zips_and_gzips_are_read_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("W3SVC1")).unwrap();
        std::fs::write(root.join("W3SVC1/u_ex210303.log"), b"#Fields: date\n").unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"compressed line\n").unwrap();
        std::fs::write(root.join("old.log.gz"), gz.finish().unwrap()).unwrap();
        let mut zip = zip::ZipWriter::new(std::fs::File::create(root.join("iis.zip")).unwrap());
        zip.start_file(
            "W3SVC2/u_ex210304.log",
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        zip.write_all(b"zipped line\n").unwrap();
        zip.finish().unwrap();

        let evidence = crate::Evidence::open(root, None, &[]).unwrap();
        let files = visited(&evidence, 100);
        let names: Vec<&str> = files.iter().map(|f| f.windows_path.as_str()).collect();
        assert_eq!(
            names,
            [
                r"W3SVC1\u_ex210303.log",
                r"iis.zip\W3SVC2\u_ex210304.log",
                "old.log.gz"
            ]
        );
        let mut text = String::new();
        let Location::Gzip(path) = &files[2].location else {
            panic!("not read as gzip");
        };
        gzip_reader(path)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "compressed line\n");
        assert!(matches!(
            files[1].location,
            Location::LooseMember { archive: 0, .. }
        ));
        let mut buf = Vec::new();
        evidence.read(&files[1], 100, &mut buf).unwrap();
        assert_eq!(buf, b"zipped line\n");
        // A second visit opens no zip again, and hands the files over in batches.
        let mut batches = Vec::new();
        evidence.visit_loose(2, &mut |b| batches.push(b.len()));
        assert_eq!(batches, [2, 1]);
        let again = visited(&evidence, 1);
        let member = again.iter().find(|f| f.windows_path.starts_with("iis.zip"));
        assert!(matches!(
            member.unwrap().location,
            Location::LooseMember { archive: 0, .. }
        ));
    }

    #[test]
    fn a_path_is_kept_once_where_the_name_spells_it() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("W3SVC1")).unwrap();
        std::fs::write(dir.path().join("W3SVC1/u_ex1.log"), b"plain").unwrap();
        // A backslash or bytes that are not UTF-8 in a name: the Windows-style name
        // spells another path, so the local one is kept.
        std::fs::write(dir.path().join(r"back\slash.log"), b"slash").unwrap();
        let latin1 = std::ffi::OsStr::from_bytes(b"\xe9t\xe9.log");
        std::fs::write(dir.path().join(latin1), b"latin").unwrap();
        let evidence = crate::Evidence::open(dir.path(), None, &[]).unwrap();
        let files = visited(&evidence, 10);
        let by_name = |name: &str| files.iter().find(|f| f.windows_path == name).unwrap();
        let plain = by_name(r"W3SVC1\u_ex1.log");
        assert!(matches!(
            plain.location,
            Location::Mirrored { root: 0, skip: 0 }
        ));
        let slash = by_name(r"back\slash.log");
        assert!(matches!(&slash.location, Location::Local(p) if p.ends_with(r"back\slash.log")));
        let odd = by_name("\u{fffd}t\u{fffd}.log");
        assert!(matches!(&odd.location, Location::Local(p) if p.ends_with(latin1)));
        for (file, want) in [(plain, "plain"), (slash, "slash"), (odd, "latin")] {
            let mut buf = Vec::new();
            evidence.read(file, 100, &mut buf).unwrap();
            assert_eq!(buf, want.as_bytes());
        }
        let local = evidence.local_path(plain);
        assert_eq!(
            local,
            exsweep_model::LocalPath::file(
                dir.path().join("W3SVC1/u_ex1.log").as_os_str().as_bytes()
            )
        );
    }

    #[test]
    fn compressed_files_are_decompressed_into_memory_up_to_a_cap() {
        let dir = tempfile::tempdir().unwrap();
        let big = vec![b'x'; 3 << 20];
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&big).unwrap();
        std::fs::write(dir.path().join("big.evtx.gz"), gz.finish().unwrap()).unwrap();
        let mut zip = zip::ZipWriter::new(std::fs::File::create(dir.path().join("e.zip")).unwrap());
        zip.start_file("big.evtx", zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(&big).unwrap();
        zip.finish().unwrap();
        let evidence = crate::Evidence::open(dir.path(), None, &[]).unwrap();
        let files = visited(&evidence, 10);
        assert_eq!(files.len(), 2);
        for file in &files {
            let refused = evidence
                .open_seekable(file, 1 << 20)
                .err()
                .expect("over the cap");
            assert!(
                refused.to_string().contains("decompresses into memory"),
                "{refused}"
            );
            assert!(evidence.open_seekable(file, 4 << 20).is_ok());
        }
    }
}
