//! Windows file attributes, cleared before a move and put back on restore. Attackers
//! set read-only, hidden and system on shells so that they resist deletion and stay
//! out of Explorer. This file is built only for Windows, which the project's CI
//! cannot compile; it is kept to two calls of `SetFileAttributesW`.

use std::os::windows::ffi::OsStrExt;
use std::os::windows::fs::MetadataExt;
use std::path::Path;

const FILE_ATTRIBUTE_READONLY: u32 = 0x1;
const FILE_ATTRIBUTE_HIDDEN: u32 = 0x2;
const FILE_ATTRIBUTE_SYSTEM: u32 = 0x4;

#[link(name = "kernel32")]
extern "system" {
    fn SetFileAttributesW(name: *const u16, attributes: u32) -> i32;
}

/// Sets the file's attribute bits; failures are left for the move to report.
pub fn set_attributes(path: &Path, bits: u32) {
    let wide: Vec<u16> = path.as_os_str().encode_wide().chain([0]).collect();
    // SAFETY: `wide` is a NUL-terminated UTF-16 path that outlives the call.
    unsafe {
        SetFileAttributesW(wide.as_ptr(), bits);
    }
}

/// Clears read-only, hidden and system, keeping the other bits.
pub fn clear_attributes(path: &Path) {
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        let bits = meta.file_attributes()
            & !(FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM);
        set_attributes(path, bits);
    }
}
