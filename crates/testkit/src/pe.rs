//! Writes the smallest PE32+ file Windows tools and PE parsers accept with a version
//! resource: DOS and PE headers, one `.rsrc` section holding `RT_VERSION` with a
//! `VS_FIXEDFILEINFO`. For tests of reading Exchange's build from `ExSetup.exe`
//! without shipping a Microsoft binary.

const FILE_ALIGNMENT: usize = 0x200;
const RSRC_RVA: u32 = 0x1000;

fn put16(out: &mut [u8], at: usize, v: u16) {
    out[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn put32(out: &mut [u8], at: usize, v: u32) {
    out[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// A resource directory table with one ID entry pointing at `target` (a subtable
/// when `subtable`).
fn table(out: &mut Vec<u8>, id: u32, target: u32, subtable: bool) {
    let mut t = [0u8; 24];
    put16(&mut t, 14, 1); // one ID entry
    put32(&mut t, 16, id);
    put32(
        &mut t,
        20,
        if subtable {
            0x8000_0000 | target
        } else {
            target
        },
    );
    out.extend_from_slice(&t);
}

/// The resource section: type 16 (RT_VERSION) → ID 1 → language 1033 → the data.
fn resources(version: [u16; 4]) -> Vec<u8> {
    let mut rsrc = Vec::new();
    table(&mut rsrc, 16, 0x18, true);
    table(&mut rsrc, 1, 0x30, true);
    table(&mut rsrc, 1033, 0x48, false);
    let mut info = Vec::new();
    let key: Vec<u8> = "VS_VERSION_INFO\0"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    info.extend_from_slice(&[0; 6]);
    info.extend_from_slice(&key);
    info.resize(40, 0); // VS_FIXEDFILEINFO starts on a 32-bit boundary
    let mut fixed = [0u8; 52];
    put32(&mut fixed, 0, 0xFEEF_04BD);
    put32(&mut fixed, 4, 0x0001_0000);
    let ms = (u32::from(version[0]) << 16) | u32::from(version[1]);
    let ls = (u32::from(version[2]) << 16) | u32::from(version[3]);
    for at in [8, 16] {
        put32(&mut fixed, at, ms);
        put32(&mut fixed, at + 4, ls);
    }
    info.extend_from_slice(&fixed);
    let len = info.len() as u16;
    put16(&mut info, 0, len);
    put16(&mut info, 2, 52);
    let mut entry = [0u8; 16];
    put32(&mut entry, 0, RSRC_RVA + 0x58);
    put32(&mut entry, 4, u32::from(len));
    rsrc.extend_from_slice(&entry);
    rsrc.extend_from_slice(&info);
    rsrc
}

/// A PE32+ image whose version resource gives `version` as its file version.
pub fn with_file_version(version: [u16; 4]) -> Vec<u8> {
    let rsrc = resources(version);
    let raw_size = rsrc.len().div_ceil(FILE_ALIGNMENT) * FILE_ALIGNMENT;
    let mut out = vec![0u8; FILE_ALIGNMENT + raw_size];
    out[..2].copy_from_slice(b"MZ");
    put32(&mut out, 0x3c, 0x40);
    out[0x40..0x44].copy_from_slice(b"PE\0\0");
    let file_header = 0x44;
    put16(&mut out, file_header, 0x8664); // x64
    put16(&mut out, file_header + 2, 1); // one section
    put16(&mut out, file_header + 16, 240); // PE32+ optional header with 16 directories
    put16(&mut out, file_header + 18, 0x0022);
    let optional = file_header + 20;
    put16(&mut out, optional, 0x20b);
    out[optional + 24..optional + 32].copy_from_slice(&0x1_4000_0000u64.to_le_bytes());
    put32(&mut out, optional + 32, 0x1000); // section alignment
    put32(&mut out, optional + 36, FILE_ALIGNMENT as u32);
    put16(&mut out, optional + 40, 6);
    put16(&mut out, optional + 48, 6);
    put32(&mut out, optional + 56, 0x2000); // size of image
    put32(&mut out, optional + 60, FILE_ALIGNMENT as u32); // size of headers
    put16(&mut out, optional + 68, 3); // console subsystem
    put32(&mut out, optional + 108, 16);
    let resource_dir = optional + 112 + 2 * 8;
    put32(&mut out, resource_dir, RSRC_RVA);
    put32(&mut out, resource_dir + 4, rsrc.len() as u32);
    let section = optional + 240;
    out[section..section + 8].copy_from_slice(b".rsrc\0\0\0");
    put32(&mut out, section + 8, rsrc.len() as u32);
    put32(&mut out, section + 12, RSRC_RVA);
    put32(&mut out, section + 16, raw_size as u32);
    put32(&mut out, section + 20, FILE_ALIGNMENT as u32);
    put32(&mut out, section + 36, 0x4000_0040); // initialised data, readable
    out[FILE_ALIGNMENT..FILE_ALIGNMENT + rsrc.len()].copy_from_slice(&rsrc);
    out
}
