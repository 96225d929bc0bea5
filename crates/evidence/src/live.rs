//! The live Windows machine exsweep runs on: which drives it has. This is the one
//! module with Windows-only code; elsewhere a live machine has no drives to offer and
//! each drive of a mounted server is named with `--drive`.

use std::path::{Path, PathBuf};

/// The drive letters of this machine with their roots (`D:` at `D:\`). A and B are
/// left out: probing an empty floppy drive can stall for seconds.
#[cfg(windows)]
pub fn drives() -> Vec<(char, PathBuf)> {
    ('C'..='Z')
        .filter_map(|letter| {
            let root = PathBuf::from(format!("{letter}:\\"));
            root.is_dir().then_some((letter, root))
        })
        .collect()
}

#[cfg(not(windows))]
pub fn drives() -> Vec<(char, PathBuf)> {
    Vec::new()
}

/// The drive letter when `path` is the root of one of this machine's drives (`C:\`),
/// which is how a live scan is asked for.
pub fn drive_root_letter(path: &Path) -> Option<char> {
    let text = path.to_str()?;
    let bytes = text.as_bytes();
    let is_root = cfg!(windows)
        && matches!(bytes, [letter, b':'] | [letter, b':', b'\\'] | [letter, b':', b'/'] if letter.is_ascii_alphabetic());
    is_root.then(|| (bytes[0] as char).to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drive_roots_are_live_only_on_windows() {
        assert_eq!(
            drive_root_letter(Path::new(r"D:\")).is_some(),
            cfg!(windows)
        );
        assert_eq!(drive_root_letter(Path::new("/mnt/c")), None);
        assert_eq!(drive_root_letter(Path::new(r"C:\inetpub")), None);
        if cfg!(not(windows)) {
            assert!(drives().is_empty());
        }
    }
}
