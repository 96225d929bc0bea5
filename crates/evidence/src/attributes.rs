//! Windows file attributes (hidden, system) where the evidence records them: on the
//! live Windows machine, and on an NTFS volume mounted on Linux by ntfs-3g or the
//! kernel's ntfs3 driver, which both expose them as the extended attribute
//! `system.ntfs_attrib_be` (four bytes, big-endian). Attackers set `+h +s` on shells;
//! collections (KAPE, Velociraptor) and other file systems do not keep the bits, so
//! there the answer is `None`, never "not hidden".

use std::path::Path;

const FILE_ATTRIBUTE_HIDDEN: u32 = 0x2;
const FILE_ATTRIBUTE_SYSTEM: u32 = 0x4;

fn hidden_or_system_bits(attributes: u32) -> bool {
    attributes & (FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM) != 0
}

/// Whether the file at `path` has the hidden or system attribute, when its file
/// system records Windows attributes.
pub fn hidden_or_system(path: &Path) -> Option<bool> {
    windows_attributes(path).map(hidden_or_system_bits)
}

/// The file's Windows attribute bits (`FILE_ATTRIBUTE_*`), when its file system
/// records them. Quarantine keeps them in its manifest.
#[cfg(windows)]
pub fn windows_attributes(path: &Path) -> Option<u32> {
    use std::os::windows::fs::MetadataExt;
    std::fs::symlink_metadata(path)
        .ok()
        .map(|m| m.file_attributes())
}

/// The file's Windows attribute bits (`FILE_ATTRIBUTE_*`), when its file system
/// records them (ntfs-3g and ntfs3 mounts). Quarantine keeps them in its manifest.
#[cfg(target_os = "linux")]
pub fn windows_attributes(path: &Path) -> Option<u32> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut value = [0u8; 4];
    // SAFETY: both strings are NUL-terminated and `value` is writable for its length;
    // lgetxattr does not follow a link and writes at most `value.len()` bytes.
    let read = unsafe {
        libc::lgetxattr(
            path.as_ptr(),
            c"system.ntfs_attrib_be".as_ptr(),
            value.as_mut_ptr().cast(),
            value.len(),
        )
    };
    (read == 4).then(|| u32::from_be_bytes(value))
}

/// Other systems record no Windows attributes.
#[cfg(not(any(windows, target_os = "linux")))]
pub fn windows_attributes(_path: &Path) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_and_system_bits_are_read_and_others_ignored() {
        assert!(hidden_or_system_bits(0x2 | 0x1));
        assert!(hidden_or_system_bits(0x4));
        assert!(!hidden_or_system_bits(0x20 | 0x1));
    }

    #[test]
    fn a_file_system_without_windows_attributes_says_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.aspx");
        std::fs::write(&file, b"x").unwrap();
        if !cfg!(windows) {
            assert_eq!(hidden_or_system(&file), None);
        }
        assert_eq!(hidden_or_system(&dir.path().join("missing")), None);
    }
}
