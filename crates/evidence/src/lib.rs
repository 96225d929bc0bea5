//! The evidence source: where a Windows server's files are, as seen from here.
//!
//! One type, [`Evidence`], hides the layouts responders bring (a live or mounted
//! root, a KAPE target collection, a Velociraptor collection as a folder or zip,
//! loose logs as a folder, an archive or one file).
//! It maps Windows paths to local ones case-insensitively, lists files below
//! Windows folders in parallel, and reads them read-only. Nothing else in the
//! program touches the evidence's bytes.

pub mod attributes;
mod folder;
pub mod known;
mod live;
mod loose;
pub mod registry;
pub mod velociraptor;
pub mod winpath;
mod zip;

use exsweep_model::{FileTimes, LocalPath};
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How the evidence is laid out on this machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// A mounted disk image or a copy of a system drive (a folder holding `Windows`,
    /// `inetpub` ...): drive `C:`, plus any drives named beside it.
    Image,
    /// The running Windows machine, every drive it has (`C:\`, `D:\` ...).
    Live,
    /// A KAPE target collection: `<dest>/C/...`, one folder per drive letter.
    Kape,
    /// A Velociraptor collection, unpacked or as its `.zip`.
    Velociraptor,
    /// Logs handed over without their server's folders: a folder of them, a zip or
    /// `.gz`, or one file; what each file is, is told from its content.
    Loose,
}

impl Layout {
    /// Whether this machine can read evidence in this layout: a live system only from
    /// the Windows machine itself.
    pub fn available_here(self) -> Result<(), String> {
        if self == Layout::Live && live::drives().is_empty() {
            return Err(
                "a live system is read on Windows; here, give a mounted image and name its other drives with --drive D=PATH"
                    .into(),
            );
        }
        Ok(())
    }

    pub fn describe(self, zipped: bool) -> &'static str {
        match (self, zipped) {
            (Layout::Image, _) => "mounted disk image or system drive",
            (Layout::Live, _) => "live Windows system",
            (Layout::Kape, _) => "KAPE target collection",
            (Layout::Velociraptor, false) => "Velociraptor collection (folder)",
            (Layout::Velociraptor, true) => "Velociraptor collection (zip)",
            (Layout::Loose, _) => "loose logs (each file recognised by its content)",
        }
    }
}

/// Where a file's bytes are.
#[derive(Clone, Debug)]
pub enum Location {
    Local(PathBuf),
    /// A file on this machine whose Windows path spells its local path: the
    /// evidence's root number `root` joined with the components of
    /// `windows_path[skip..]`. The path is not kept twice: a listing of a hundred
    /// thousand logs keeps every file's.
    Mirrored {
        root: u16,
        skip: u16,
    },
    /// A member of a Velociraptor collection's zip.
    ZipEntry(usize),
    /// A `.gz` file of loose logs, read through its decompression.
    Gzip(PathBuf),
    /// A member of a zip of loose logs.
    LooseMember {
        archive: usize,
        index: usize,
    },
}

/// A reader that can seek: what record-oriented formats (EVTX) need.
pub trait SeekRead: io::Read + io::Seek + Send {}
impl<T: io::Read + io::Seek + Send> SeekRead for T {}

/// A regular file found on the evidence.
#[derive(Clone, Debug)]
pub struct FileEntry {
    /// The path as the server knew it.
    pub windows_path: String,
    pub location: Location,
    pub size: u64,
    pub times: FileTimes,
}

impl FileEntry {
    /// Its path on this machine's disk, where it is read in place: its own, or the one
    /// its Windows path spells below `root` (the root its location names); `None` for
    /// a file read through an archive or a decompression.
    fn disk_path(&self, root: Option<&Path>) -> Option<Cow<'_, Path>> {
        match &self.location {
            Location::Local(p) => Some(Cow::Borrowed(p)),
            Location::Mirrored { skip, .. } => {
                let below = self.windows_path.get(usize::from(*skip)..)?;
                Some(Cow::Owned(folder::mirror(root?, below)))
            }
            _ => None,
        }
    }
}

fn stream(
    reader: &mut dyn io::Read,
    chunk: usize,
    sink: &mut dyn FnMut(&[u8]) -> bool,
) -> io::Result<()> {
    let mut buf = vec![0u8; chunk];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if !sink(&buf[..n]) {
            return Ok(());
        }
    }
}

/// What a listing passed over, so the coverage can say so.
#[derive(Clone, Debug, Default)]
pub struct ListingReport {
    pub symlinks: u64,
    pub special_files: u64,
    pub unreadable: u64,
    /// Names with control characters or that are not valid UTF-8.
    pub odd_names: u64,
    pub warnings: Vec<String>,
}

impl ListingReport {
    fn merge(&mut self, other: ListingReport) {
        self.symlinks += other.symlinks;
        self.special_files += other.special_files;
        self.unreadable += other.unreadable;
        self.odd_names += other.odd_names;
        self.warnings.extend(other.warnings);
    }
}

enum Backend {
    Folder(folder::FolderSource),
    Zip(zip::ZipSource),
    Loose(loose::LooseSource),
}

/// A Windows machine's files, wherever they are.
pub struct Evidence {
    layout: Layout,
    root: PathBuf,
    backend: Backend,
    /// True timestamps from a collection's own records (Velociraptor `uploads.json`),
    /// keyed by [`winpath::key`]; they beat the copy's file-system times.
    recorded_times: HashMap<String, FileTimes>,
}

impl Evidence {
    /// Opens the evidence at `path`, detecting its layout unless one is given.
    /// `extra_drives` are more drives of the same server (`D:` mounted elsewhere).
    pub fn open(
        path: &Path,
        layout: Option<Layout>,
        extra_drives: &[(char, PathBuf)],
    ) -> Result<Evidence, String> {
        let meta = std::fs::metadata(path)
            .map_err(|e| format!("cannot read evidence root {}: {e}", path.display()))?;
        if meta.is_file() {
            if !extra_drives.is_empty() {
                return Err("--drive goes with evidence in folders, not with a file".into());
            }
            let velociraptor = match layout {
                Some(Layout::Velociraptor) => Some(zip::ZipSource::open(path)?),
                Some(Layout::Loose) => None,
                Some(_) => {
                    return Err(format!(
                    "{} is a file: a Velociraptor collection's zip or loose logs (--layout loose)",
                    path.display()
                ))
                }
                // A zip that is no Velociraptor collection is a zip of logs.
                None => zip::ZipSource::open(path).ok(),
            };
            return Ok(match velociraptor {
                Some(source) => Evidence {
                    layout: Layout::Velociraptor,
                    root: path.to_path_buf(),
                    recorded_times: source.recorded_times(),
                    backend: Backend::Zip(source),
                },
                None => Evidence::loose(path, loose::LooseSource::file(path)?),
            });
        }
        let layout = match layout {
            Some(l) => l,
            None if live::drive_root_letter(path).is_some() => Layout::Live,
            // Without a known layout, a folder is taken as loose logs.
            None => folder::detect_layout(path).unwrap_or(Layout::Loose),
        };
        if layout == Layout::Loose {
            if !extra_drives.is_empty() {
                return Err("--drive goes with a server's folders, not with loose logs".into());
            }
            return Ok(Evidence::loose(path, loose::LooseSource::folder(path)?));
        }
        let source = folder::FolderSource::new(path, layout, extra_drives)?;
        let recorded_times = velociraptor::find_uploads_json(path)
            .and_then(|p| folder::open_read_only(&p).ok())
            .map(|mut f| velociraptor::read_uploads_json(&mut f, velociraptor::MAX_UPLOADS_JSON))
            .unwrap_or_default();
        Ok(Evidence {
            layout,
            root: path.to_path_buf(),
            backend: Backend::Folder(source),
            recorded_times,
        })
    }

    fn loose(path: &Path, source: loose::LooseSource) -> Evidence {
        Evidence {
            layout: Layout::Loose,
            root: path.to_path_buf(),
            backend: Backend::Loose(source),
            recorded_times: HashMap::new(),
        }
    }

    /// True for loose logs, whose files are found by walking them
    /// ([`Evidence::visit_loose`]), not by their Windows paths.
    pub fn is_loose(&self) -> bool {
        matches!(self.backend, Backend::Loose(_))
    }

    /// For loose logs, every file, handed to `each` in batches of `batch` while the
    /// walk goes on (the listing is never held whole), and what the walk passed over;
    /// for a server's folders, nothing.
    pub fn visit_loose(
        &self,
        batch: usize,
        each: &mut dyn FnMut(Vec<Arc<FileEntry>>),
    ) -> ListingReport {
        match &self.backend {
            Backend::Loose(l) => l.visit(batch, each),
            _ => ListingReport::default(),
        }
    }

    pub fn describe_layout(&self) -> &'static str {
        self.layout
            .describe(matches!(self.backend, Backend::Zip(_)))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The local folders a Windows folder maps to, for evidence in folders (a drive
    /// collected twice can give two); empty for archives and loose logs.
    pub fn local_dirs(&self, windows_dir: &str) -> Vec<PathBuf> {
        match &self.backend {
            Backend::Folder(f) => f.resolve(windows_dir),
            _ => Vec::new(),
        }
    }

    /// The drive letters the evidence holds.
    pub fn drives(&self) -> Vec<char> {
        match &self.backend {
            Backend::Folder(f) => f.drives(),
            Backend::Zip(z) => z.drives(),
            Backend::Loose(_) => Vec::new(),
        }
    }

    /// True when the Windows folder exists in the evidence.
    pub fn dir_exists(&self, windows_dir: &str) -> bool {
        match &self.backend {
            Backend::Folder(f) => !f.resolve(windows_dir).is_empty(),
            Backend::Zip(z) => z.dir_exists(windows_dir),
            Backend::Loose(_) => false,
        }
    }

    /// The names of the sub-folders of a Windows folder (as the server spelled them).
    pub fn subdirs(&self, windows_dir: &str) -> Vec<String> {
        match &self.backend {
            Backend::Folder(f) => f.subdirs(windows_dir),
            Backend::Zip(z) => z.subdirs(windows_dir),
            Backend::Loose(_) => Vec::new(),
        }
    }

    /// Hands every regular file below the given Windows folders to `visit`, in
    /// parallel and while the walk goes on, skipping the folders in `exclude` (keys
    /// from [`winpath::key`]). A file reachable twice (the same drive collected by two
    /// accessors) is visited once.
    pub fn visit_files(
        &self,
        dirs: &[String],
        exclude: &[String],
        visit: &(dyn Fn(FileEntry) + Sync),
    ) -> ListingReport {
        // Only a drive collected twice (two Velociraptor accessors) can repeat a file;
        // elsewhere the check would cost a lock and an allocation per file for nothing.
        let may_repeat = match &self.backend {
            Backend::Folder(f) => f.has_repeated_drives(),
            Backend::Zip(_) => true,
            // Loose files have no Windows paths to be found under.
            Backend::Loose(_) => return ListingReport::default(),
        };
        let seen = std::sync::Mutex::new(std::collections::HashSet::new());
        let once = |mut file: FileEntry| {
            if !self.recorded_times.is_empty() || may_repeat {
                let key = winpath::key(&file.windows_path);
                if let Some(t) = self.recorded_times.get(&key) {
                    file.times = t.clone();
                }
                if may_repeat && !seen.lock().unwrap().insert(key) {
                    return;
                }
            }
            visit(file);
        };
        match &self.backend {
            Backend::Folder(f) => f.visit(dirs, exclude, &once),
            Backend::Zip(z) => {
                use rayon::prelude::*;
                z.list(dirs, exclude).into_par_iter().for_each(once);
                ListingReport::default()
            }
            Backend::Loose(_) => ListingReport::default(),
        }
    }

    /// Lists every regular file below the given Windows folders (see [`Self::visit_files`]).
    pub fn list_files(
        &self,
        dirs: &[String],
        exclude: &[String],
    ) -> (Vec<FileEntry>, ListingReport) {
        let files = std::sync::Mutex::new(Vec::new());
        let report = self.visit_files(dirs, exclude, &|f| files.lock().unwrap().push(f));
        (files.into_inner().unwrap(), report)
    }

    /// The path of a file on this machine's disk, read in place; `None` for one read
    /// through an archive or a decompression.
    fn disk_path<'a>(&self, file: &'a FileEntry) -> Option<Cow<'a, Path>> {
        let root = match (&self.backend, &file.location) {
            (Backend::Zip(_), _) => return None,
            (Backend::Folder(f), Location::Mirrored { root, .. }) => f.drive_root(*root),
            (Backend::Folder(_), _) => None,
            // A loose folder is its files' one root.
            (Backend::Loose(l), _) => l.root(),
        };
        file.disk_path(root)
    }

    /// Reads at most `limit` bytes of a file into `buf` (cleared first).
    pub fn read(&self, file: &FileEntry, limit: u64, buf: &mut Vec<u8>) -> io::Result<()> {
        buf.clear();
        if let Some(p) = self.disk_path(file) {
            return folder::read_local(&p, limit, buf);
        }
        match (&self.backend, &file.location) {
            (Backend::Zip(z), Location::ZipEntry(i)) => z.read(*i, limit, buf),
            (Backend::Loose(_), Location::Gzip(p)) => loose::gzip_reader(p)?
                .take(limit)
                .read_to_end(buf)
                .map(|_| ()),
            (Backend::Loose(l), Location::LooseMember { archive, index }) => {
                l.archive(*archive)?.read(*index, limit, buf)
            }
            _ => Err(foreign_location()),
        }
    }

    /// Whether [`Evidence::read_chunks`] can start anywhere in the file (files on
    /// disk), not only at its start (compressed files are one stream).
    pub fn seekable(&self, file: &FileEntry) -> bool {
        matches!(
            file.location,
            Location::Local(_) | Location::Mirrored { .. }
        )
    }

    /// Streams a file from byte `offset` on in chunks of up to `chunk` bytes to
    /// `sink`, which returns `false` to stop early. Memory stays at one chunk whatever
    /// the file's size. An offset past 0 needs a [seekable](Evidence::seekable) file.
    pub fn read_chunks(
        &self,
        file: &FileEntry,
        offset: u64,
        chunk: usize,
        sink: &mut dyn FnMut(&[u8]) -> bool,
    ) -> io::Result<()> {
        if offset > 0 && !self.seekable(file) {
            return Err(io::Error::other(
                "a compressed file can only be read from its start",
            ));
        }
        if let Some(p) = self.disk_path(file) {
            let mut reader = folder::open_read_only(&p)?;
            if offset > 0 {
                io::Seek::seek(&mut reader, io::SeekFrom::Start(offset))?;
            }
            return stream(&mut reader, chunk, sink);
        }
        match (&self.backend, &file.location) {
            (Backend::Zip(z), Location::ZipEntry(i)) => {
                z.with_entry(*i, &mut |r| stream(r, chunk, sink))
            }
            (Backend::Loose(_), Location::Gzip(p)) => {
                stream(&mut loose::gzip_reader(p)?, chunk, sink)
            }
            (Backend::Loose(l), Location::LooseMember { archive, index }) => l
                .archive(*archive)?
                .with_entry(*index, &mut |r| stream(r, chunk, sink)),
            _ => Err(foreign_location()),
        }
    }

    /// A seekable reader of a file, for formats read out of order (EVTX). Files on
    /// disk are read in place; a compressed one is decompressed into memory, so one
    /// larger than `max_in_memory` is refused.
    pub fn open_seekable(
        &self,
        file: &FileEntry,
        max_in_memory: u64,
    ) -> io::Result<Box<dyn SeekRead>> {
        if let Some(p) = self.disk_path(file) {
            return Ok(Box::new(folder::open_read_only(&p)?));
        }
        let too_big = || {
            io::Error::other(format!(
                "more than {} MiB compressed: more than exsweep decompresses into memory; unpack it",
                max_in_memory >> 20
            ))
        };
        if file.size > max_in_memory && !matches!(file.location, Location::Gzip(_)) {
            return Err(too_big());
        }
        let mut buf = Vec::new();
        // One byte over the cap tells a file of exactly the cap from a larger one.
        self.read(file, max_in_memory + 1, &mut buf)?;
        if buf.len() as u64 > max_in_memory {
            return Err(too_big());
        }
        Ok(Box::new(io::Cursor::new(buf)))
    }

    /// Reads a whole file given by its Windows path, if the evidence holds it.
    pub fn read_path(&self, windows_path: &str, limit: u64) -> Option<io::Result<Vec<u8>>> {
        let entry = self.find_file(windows_path)?;
        let mut buf = Vec::new();
        Some(self.read(&entry, limit, &mut buf).map(|_| buf))
    }

    /// True when the evidence holds the file at this Windows path.
    pub fn file_exists(&self, windows_path: &str) -> bool {
        self.find_file(windows_path).is_some()
    }

    fn find_file(&self, windows_path: &str) -> Option<FileEntry> {
        let parent = windows_path.rsplit_once('\\')?.0;
        let want = winpath::key(windows_path);
        let files = match &self.backend {
            Backend::Folder(f) => f.list_one_level(parent),
            Backend::Zip(z) => z.list(&[parent.to_string()], &[]),
            Backend::Loose(_) => return None,
        };
        files
            .into_iter()
            .find(|f| winpath::key(&f.windows_path) == want)
    }

    /// Whether the file has the hidden or system attribute, where the evidence records
    /// Windows attributes (the live machine, an NTFS volume mounted by ntfs-3g or
    /// ntfs3); `None` elsewhere (collections, archives, other file systems).
    pub fn hidden_or_system(&self, file: &FileEntry) -> Option<bool> {
        attributes::hidden_or_system(&self.disk_path(file)?)
    }

    /// Where a file was read from, losslessly: its local path, or the zip and member.
    pub fn local_path(&self, file: &FileEntry) -> LocalPath {
        if let Some(p) = self.disk_path(file) {
            return LocalPath::file(p.as_os_str().as_encoded_bytes());
        }
        match (&self.backend, &file.location) {
            (_, Location::Local(p) | Location::Gzip(p)) => {
                LocalPath::file(p.as_os_str().as_encoded_bytes())
            }
            (Backend::Zip(z), Location::ZipEntry(i)) => LocalPath::zip_member(
                self.root.as_os_str().as_encoded_bytes(),
                z.entry_name(*i).as_bytes(),
            ),
            (Backend::Loose(l), Location::LooseMember { archive, index }) => {
                match l.archive(*archive) {
                    Ok(zip) => LocalPath::zip_member(
                        zip.path.as_os_str().as_encoded_bytes(),
                        zip.member(*index)
                            .map_or_else(|| format!("entry {index}"), |m| m.name)
                            .as_bytes(),
                    ),
                    Err(_) => LocalPath::zip_member(b"", format!("entry {index}").as_bytes()),
                }
            }
            (_, Location::ZipEntry(i) | Location::LooseMember { index: i, .. }) => {
                LocalPath::zip_member(b"", format!("entry {i}").as_bytes())
            }
            // Only an entry of other evidence names a root this one lacks: its
            // Windows path is all that is known of it.
            (_, Location::Mirrored { .. }) => LocalPath::file(file.windows_path.as_bytes()),
        }
    }
}

fn foreign_location() -> io::Error {
    io::Error::other("file location does not belong to this evidence")
}
