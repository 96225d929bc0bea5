//! Writes that survive a crash or a power cut: data flushed before it is named, the
//! folder flushed after a file appears in or leaves it, and every replacement done by
//! writing a sibling and renaming it over the target, so a reader sees the old file
//! or the new one, never half of either. The digests quarantine compares live here
//! too, computed while streaming so a multi-gigabyte dump never sits in memory.

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Flushes a folder's entries (a created, renamed or removed name) to disk. Windows
/// has no portable way to open a folder for flushing and NTFS journals its metadata,
/// so there this is a no-op.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// The sibling a file is written to before it is renamed into place.
pub fn part_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".exsweep-part");
    path.with_file_name(name)
}

/// Writes `bytes` to `path` so that a crash leaves either the old file or the whole
/// new one.
pub fn replace_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let part = part_path(path);
    let mut file = File::create(&part)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&part, path)?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

/// Appends `bytes` and flushes them to disk before returning.
pub fn append_synced(file: &mut File, bytes: &[u8]) -> io::Result<()> {
    file.write_all(bytes)?;
    file.sync_data()
}

/// Opens a file for appending, creating it.
pub fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// A file's size and the three digests responders exchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Digests {
    pub size: u64,
    pub md5: String,
    pub sha1: String,
    pub sha256: String,
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The digests of everything `reader` yields.
pub fn digest_reader(reader: &mut dyn Read) -> io::Result<Digests> {
    let (mut md5, mut sha1, mut sha256) = (Md5::new(), Sha1::new(), Sha256::new());
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        md5.update(&buf[..n]);
        sha1.update(&buf[..n]);
        sha256.update(&buf[..n]);
        size += n as u64;
    }
    Ok(Digests {
        size,
        md5: hex(&md5.finalize()),
        sha1: hex(&sha1.finalize()),
        sha256: hex(&sha256.finalize()),
    })
}

/// The digests of the file at `path`.
pub fn digest_file(path: &Path) -> io::Result<Digests> {
    digest_reader(&mut File::open(path)?)
}

/// The SHA-256 of `bytes`, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_file_holds_the_new_bytes_and_no_part_file_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("manifest.json");
        fs::write(&path, b"old").unwrap();
        replace_file(&path, b"new").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert!(!part_path(&path).exists());
    }

    #[test]
    fn digests_are_the_known_ones() {
        let d = digest_reader(&mut &b"abc"[..]).unwrap();
        assert_eq!(d.size, 3);
        assert_eq!(d.md5, "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(d.sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            d.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
