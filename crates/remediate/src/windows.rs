//! Windows file attributes, cleared before a move and put back on restore (attackers
//! set read-only, hidden and system on shells so that they resist deletion and stay
//! out of Explorer), and the owner's SID for the manifest. This file is built only for
//! Windows, which the project's CI cannot compile; it is kept to the four API calls
//! it needs, declared here rather than through a bindings crate.

use std::ffi::c_void;
use std::os::windows::ffi::OsStrExt;
use std::os::windows::fs::MetadataExt;
use std::path::Path;

const FILE_ATTRIBUTE_READONLY: u32 = 0x1;
const FILE_ATTRIBUTE_HIDDEN: u32 = 0x2;
const FILE_ATTRIBUTE_SYSTEM: u32 = 0x4;

const SE_FILE_OBJECT: u32 = 1;
const OWNER_SECURITY_INFORMATION: u32 = 1;

#[link(name = "kernel32")]
extern "system" {
    fn SetFileAttributesW(name: *const u16, attributes: u32) -> i32;
    fn LocalFree(memory: *mut c_void) -> *mut c_void;
}

#[link(name = "advapi32")]
extern "system" {
    fn GetNamedSecurityInfoW(
        name: *const u16,
        object_type: u32,
        info: u32,
        owner: *mut *mut c_void,
        group: *mut *mut c_void,
        dacl: *mut *mut c_void,
        sacl: *mut *mut c_void,
        descriptor: *mut *mut c_void,
    ) -> u32;
    fn ConvertSidToStringSidW(sid: *mut c_void, text: *mut *mut u16) -> i32;
}

fn wide(path: &Path) -> Vec<u16> {
    path.as_os_str().encode_wide().chain([0]).collect()
}

/// The file owner's SID as text (`S-1-5-32-544`), for the manifest.
pub fn owner_sid(path: &Path) -> Option<String> {
    let name = wide(path);
    let null = std::ptr::null_mut();
    let (mut owner, mut descriptor) = (null, null);
    // SAFETY: `name` is NUL-terminated; the out pointers are valid for writes, the
    // unused ones null as the API allows. `owner` points into `descriptor`, which is
    // freed with LocalFree after the last use of `owner`.
    unsafe {
        let status = GetNamedSecurityInfoW(
            name.as_ptr(),
            SE_FILE_OBJECT,
            OWNER_SECURITY_INFORMATION,
            &mut owner,
            null.cast(),
            null.cast(),
            null.cast(),
            &mut descriptor,
        );
        if status != 0 {
            return None;
        }
        let mut text: *mut u16 = std::ptr::null_mut();
        let converted = ConvertSidToStringSidW(owner, &mut text) != 0;
        let sid = converted.then(|| {
            let len = (0..).take_while(|&i| *text.add(i) != 0).count();
            String::from_utf16_lossy(std::slice::from_raw_parts(text, len))
        });
        if converted {
            LocalFree(text.cast());
        }
        LocalFree(descriptor);
        sid
    }
}

/// Sets the file's attribute bits; failures are left for the move to report.
pub fn set_attributes(path: &Path, bits: u32) {
    let name = wide(path);
    // SAFETY: `name` is a NUL-terminated UTF-16 path that outlives the call.
    unsafe {
        SetFileAttributesW(name.as_ptr(), bits);
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
