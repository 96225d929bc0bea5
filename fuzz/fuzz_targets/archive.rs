//! A zip (a Velociraptor collection or a zip of loose logs) or a `.gz`, opened as
//! evidence and every member read, streamed and opened for EVTX, in place.
#![no_main]
use exsweep_evidence::Evidence;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temp folder");
    let name = if data.starts_with(&[0x1f, 0x8b]) {
        "logs.gz"
    } else {
        "collection.zip"
    };
    let path = dir.path().join(name);
    std::fs::write(&path, data).expect("written");
    let Ok(evidence) = Evidence::open(&path, None, &[]) else {
        return;
    };
    let files = match evidence.loose_files() {
        Some((files, _)) => files.to_vec(),
        None => evidence.list_files(&[r"C:\".to_string()], &[]).0,
    };
    let mut buf = Vec::new();
    for file in files.iter().take(64) {
        let _ = evidence.read(file, 1 << 20, &mut buf);
        let _ = evidence.read_chunks(file, 0, 4096, &mut |_| true);
        let _ = evidence.open_seekable(file, 1 << 20);
        let _ = evidence.local_path(file);
    }
});
