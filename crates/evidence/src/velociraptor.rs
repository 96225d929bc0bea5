//! Velociraptor's collection conventions: percent-encoded names, drive folders per
//! accessor, and `uploads.json`.
//!
//! The collector (`reporting/container.go`) writes one `uploads.json` row per upload
//! with `vfs_path`, `_Components` (`uploads`, the accessor, the drive, the path),
//! `file_size` and `uploaded_size`, but no file times: it keeps each file's
//! modification time as the zip member's time, which the zip backend reads and an
//! unzipped folder keeps as the files' own. Rows that do carry times (other versions,
//! other tools writing the format) are read and win over the copy's.

use super::winpath;
use exsweep_model::FileTimes;
use serde_json::Value;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Decodes a stored name (`Program%20Files`, `C%3A`) into the server's name.
pub fn decode_name(name: &str) -> String {
    percent_encoding::percent_decode_str(name)
        .decode_utf8_lossy()
        .into_owned()
}

/// The drive letter of a decoded drive folder name: `C:` (auto accessor) or
/// `\\.\C:` (ntfs accessor).
pub fn drive_letter(decoded: &str) -> Option<char> {
    let trimmed = decoded.trim_start_matches(['\\', '.', '/']);
    let bytes = trimmed.as_bytes();
    (bytes.len() == 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':')
        .then(|| bytes[0].to_ascii_uppercase() as char)
}

/// The Windows path of an upload given its path components inside the collection,
/// the first being the drive (`C:` or `\\.\C:`).
pub fn windows_path(components: &[String]) -> Option<String> {
    // `uploads.json` gives the stored components: `uploads`, the accessor, the drive...
    let components = match components.first() {
        Some(first) if first.eq_ignore_ascii_case("uploads") => components.get(2..)?,
        _ => components,
    };
    let (drive, rest) = components.split_first()?;
    let letter = drive_letter(drive)?;
    let mut path = format!("{letter}:\\");
    for part in rest {
        path = winpath::join(&path, part);
    }
    Some(path)
}

pub fn find_uploads_json(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().eq_ignore_ascii_case("uploads.json"))
        .map(|e| e.path())
}

fn parse_time(value: &Value) -> Option<SystemTime> {
    match value {
        Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.with_timezone(&chrono::Utc).into()),
        // Seconds from 1970; negative, absurd (NaN, 1e300) or past what a time can
        // hold read as no time.
        Value::Number(n) => {
            let secs = n.as_f64().filter(|s| *s > 0.0)?;
            SystemTime::UNIX_EPOCH.checked_add(Duration::try_from_secs_f64(secs).ok()?)
        }
        _ => None,
    }
}

fn first_time(record: &Value, keys: &[&str]) -> Option<SystemTime> {
    keys.iter()
        .find_map(|k| record.get(*k).and_then(parse_time))
}

/// `uploads.json` is read up to this size: a collection's index, not evidence whose
/// every byte matters; a larger (or hostile) one has its first records used.
pub const MAX_UPLOADS_JSON: u64 = 256 << 20;

/// Reads at most `limit` bytes of `uploads.json` and parses them.
pub fn read_uploads_json(reader: &mut dyn Read, limit: u64) -> HashMap<String, FileTimes> {
    let mut bytes = Vec::new();
    match reader.take(limit).read_to_end(&mut bytes) {
        Ok(_) => parse_uploads_json(&bytes),
        Err(_) => HashMap::new(),
    }
}

/// Reads `uploads.json` (one JSON object a line, or one array) into true file times
/// keyed by Windows path. Records without a recognisable path or time are skipped:
/// the copy's own times are used for those files.
pub fn parse_uploads_json(bytes: &[u8]) -> HashMap<String, FileTimes> {
    let text = String::from_utf8_lossy(bytes);
    let records: Vec<Value> = match serde_json::from_str::<Value>(&text) {
        Ok(Value::Array(items)) => items,
        _ => text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect(),
    };
    let mut times = HashMap::new();
    for record in records {
        let components: Option<Vec<String>> = record
            .get("_Components")
            .and_then(Value::as_array)
            .map(|c| {
                c.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            });
        let path = components.as_deref().and_then(windows_path).or_else(|| {
            record
                .get("vfs_path")
                .or_else(|| record.get("Path"))
                .and_then(Value::as_str)
                .map(|p| p.trim_start_matches(['\\', '.']).to_string())
        });
        let Some(path) = path else { continue };
        let t = FileTimes {
            modified: first_time(&record, &["mtime", "Mtime", "modified", "LastWriteTime"]),
            accessed: first_time(&record, &["atime", "Atime", "accessed", "LastAccessTime"]),
            created: first_time(&record, &["btime", "Btime", "created", "CreationTime"]),
        };
        if t.modified.is_some() || t.accessed.is_some() || t.created.is_some() {
            times.insert(winpath::key(&path), t);
        }
    }
    times
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_drive_folders() {
        assert_eq!(drive_letter(&decode_name("C%3A")), Some('C'));
        assert_eq!(drive_letter(&decode_name("%5C%5C.%5CD%3A")), Some('D'));
        assert_eq!(drive_letter("Windows"), None);
        assert_eq!(decode_name("Program%20Files"), "Program Files");
    }

    #[test]
    fn reads_paths_of_the_collectors_own_rows() {
        let json = br#"{"vfs_path":"C:\\inetpub\\x.aspx","_Components":["uploads","auto","C:","inetpub","x.aspx"],"file_size":90,"mtime":"2021-03-03T02:53:00Z"}"#;
        let times = parse_uploads_json(json);
        assert!(
            times.contains_key(&winpath::key(r"C:\inetpub\x.aspx")),
            "{times:?}"
        );
    }

    #[test]
    fn uploads_json_is_read_up_to_its_cap() {
        let line = br#"{"vfs_path":"C:\\x","mtime":"2021-03-03T04:05:06Z"}"#;
        let mut many = Vec::new();
        for _ in 0..100 {
            many.extend_from_slice(line);
            many.push(b'\n');
        }
        // Cut in the middle of a record: the records before it are read.
        let cut = line.len() as u64 * 3 + 10;
        let times = read_uploads_json(&mut many.as_slice(), cut);
        assert_eq!(times.len(), 1);
        assert!(read_uploads_json(&mut many.as_slice(), 5).is_empty());
    }

    #[test]
    fn reads_times_from_uploads_json() {
        let json =
            br#"{"_Components":["C:","inetpub","wwwroot","x.aspx"],"mtime":"2021-03-03T04:05:06Z"}
not json at all
{"vfs_path":"C:\\Windows\\Temp\\a.txt","mtime":1614744306}"#;
        let times = parse_uploads_json(json);
        let t = &times[&winpath::key(r"C:\inetpub\wwwroot\x.aspx")];
        // Absurd and negative times are no times; the scan goes on.
        let absurd = br#"{"vfs_path":"C:\\a","mtime":1e300}
{"vfs_path":"C:\\b","mtime":-5}
{"vfs_path":"C:\\c","mtime":"-999999-01-01T00:00:00Z","atime":1614744306}"#;
        let odd = parse_uploads_json(absurd);
        assert!(!odd.contains_key(&winpath::key(r"C:\a")));
        assert!(!odd.contains_key(&winpath::key(r"C:\b")));
        assert!(odd[&winpath::key(r"C:\c")].modified.is_none());
        assert_eq!(
            exsweep_model::rfc3339(t.modified.unwrap()),
            "2021-03-03T04:05:06Z"
        );
        assert!(times.contains_key(&winpath::key(r"C:\Windows\Temp\a.txt")));
    }
}
