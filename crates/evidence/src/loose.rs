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
    /// Shared with the inventory, which sorts them into logs without copying them.
    pub files: Vec<Arc<FileEntry>>,
    /// The folder given, that the files' names spell their local paths from; `None`
    /// for one file.
    root: Option<PathBuf>,
    archives: Vec<SharedArchive>,
    /// What the walk passed over, and archives that could not be opened.
    pub listing: ListingReport,
}

impl LooseSource {
    /// Every file below a folder (links not followed, as everywhere).
    pub fn folder(dir: &Path) -> Result<LooseSource, String> {
        // The folder walker maps a root to a drive; the drive prefix is taken off again.
        let walker = FolderSource::new(dir, Layout::Image, &[])?;
        // Each file goes into its `Arc` as it is found: a second list of a hundred
        // thousand entries would double the listing's peak.
        let found = Mutex::new(Vec::new());
        let listing = walker.visit(&[r"C:\".to_string()], &[], &|mut file| {
            strip_drive(&mut file);
            found.lock().unwrap().push(Arc::new(file))
        });
        let mut found = found.into_inner().unwrap();
        // Names below one folder are unique, so the unstable sort gives one order.
        found.sort_unstable_by(|a, b| a.windows_path.cmp(&b.windows_path));
        let mut source = LooseSource {
            files: Vec::with_capacity(found.len()),
            root: Some(dir.to_path_buf()),
            archives: Vec::new(),
            listing,
        };
        for file in found {
            source.add(file);
        }
        source.files.shrink_to_fit();
        Ok(source)
    }

    /// One file: a log, a `.gz` of one, or a zip of them.
    pub fn file(path: &Path) -> Result<LooseSource, String> {
        let meta =
            std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let name = path
            .file_name()
            .map_or_else(|| "evidence".into(), |n| n.to_string_lossy().into_owned());
        let mut source = LooseSource {
            files: Vec::new(),
            root: None,
            archives: Vec::new(),
            listing: ListingReport::default(),
        };
        source.add(Arc::new(FileEntry {
            windows_path: name,
            location: Location::Local(path.to_path_buf()),
            size: meta.len(),
            times: folder::times_of(&meta),
        }));
        Ok(source)
    }

    /// The folder the files' names spell their local paths from.
    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// Adds a file found on disk: a zip as its members, a `.gz` as its content.
    fn add(&mut self, file: Arc<FileEntry>) {
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
            return self.files.push(file);
        };
        if zip {
            match SharedArchive::open(&path) {
                Ok(archive) => return self.add_members(&file, archive),
                Err(e) => self
                    .listing
                    .warnings
                    .push(format!("{e}; read as a plain file")),
            }
            self.files.push(file);
        } else {
            let mut file = Arc::unwrap_or_clone(file);
            file.location = Location::Gzip(path);
            self.files.push(Arc::new(file));
        }
    }

    fn add_members(&mut self, zip: &FileEntry, archive: SharedArchive) {
        let at = self.archives.len();
        for index in 0..archive.len() {
            let Some(member) = archive.member(index) else {
                self.listing.unreadable += 1;
                continue;
            };
            if member.is_dir {
                continue;
            }
            self.files.push(Arc::new(FileEntry {
                windows_path: format!(r"{}\{}", zip.windows_path, member.name.replace('/', r"\")),
                location: Location::LooseMember { archive: at, index },
                size: member.size,
                times: FileTimes {
                    modified: member.modified,
                    ..FileTimes::default()
                },
            }));
        }
        self.archives.push(archive);
    }

    pub fn archive(&self, at: usize) -> io::Result<&SharedArchive> {
        self.archives
            .get(at)
            .ok_or_else(|| io::Error::other("no such archive in the evidence"))
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

        let source = LooseSource::folder(root).unwrap();
        let names: Vec<&str> = source
            .files
            .iter()
            .map(|f| f.windows_path.as_str())
            .collect();
        assert_eq!(
            names,
            [
                r"W3SVC1\u_ex210303.log",
                r"iis.zip\W3SVC2\u_ex210304.log",
                "old.log.gz"
            ]
        );
        let mut text = String::new();
        let Location::Gzip(path) = &source.files[2].location else {
            panic!("not read as gzip");
        };
        gzip_reader(path)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "compressed line\n");
        let Location::LooseMember { archive, index } = source.files[1].location else {
            panic!("not a member");
        };
        let mut buf = Vec::new();
        source
            .archive(archive)
            .unwrap()
            .read(index, 100, &mut buf)
            .unwrap();
        assert_eq!(buf, b"zipped line\n");
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
        let (files, _) = evidence.loose_files().unwrap();
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
        let (files, _) = evidence.loose_files().unwrap();
        assert_eq!(files.len(), 2);
        for file in files {
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
