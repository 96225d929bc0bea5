//! `exsweep report`: saved scans rendered again. One scan comes back as the report
//! it was (every format, `--html`); several, from files or folders of them, become
//! an overview streamed record by record, so a thousand hosts fit in little memory.

use crate::flags::{FormatArg, ReportArgs};
use crate::hiargs::Output;
use exsweep_report::overview::Overview;
use exsweep_report::saved::{read_records, read_report, ReadError};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Whether a file in a folder given is a saved scan, by its name.
fn is_saved_scan(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase());
    name.is_some_and(|n| n.ends_with(".jsonl") || n.ends_with(".jsonl.gz"))
}

/// The files to read: each file given, and the saved scans in each folder given,
/// sorted, found without following links (a link loop cannot trap the walk).
fn expand(inputs: &[PathBuf], warnings: &mut Vec<String>) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for input in inputs {
        let meta = std::fs::metadata(input)
            .map_err(|e| format!("cannot read {}: {e}", input.display()))?;
        if !meta.is_dir() {
            files.push(input.clone());
            continue;
        }
        let mut found = Vec::new();
        let mut folders = vec![input.clone()];
        while let Some(folder) = folders.pop() {
            let entries = match std::fs::read_dir(&folder) {
                Ok(entries) => entries,
                Err(e) => {
                    warnings.push(format!("cannot list {}: {e}", folder.display()));
                    continue;
                }
            };
            for entry in entries.flatten() {
                let path = entry.path();
                match entry.file_type() {
                    Ok(t) if t.is_dir() => folders.push(path),
                    Ok(t) if t.is_file() && is_saved_scan(&path) => found.push(path),
                    _ => {}
                }
            }
        }
        if found.is_empty() {
            warnings.push(format!(
                "{}: no .jsonl or .jsonl.gz file in it",
                input.display()
            ));
        }
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

/// Outputs never replace what is being read.
fn refuse_overwriting_inputs(args: &ReportArgs, files: &[PathBuf]) -> Result<(), String> {
    let outputs = args.output.output.iter().chain(&args.output.html);
    for out in outputs {
        let Ok(out_path) = out.canonicalize() else {
            continue; // it does not exist yet, so it is no input
        };
        if files
            .iter()
            .any(|f| f.canonicalize().ok().as_ref() == Some(&out_path))
        {
            return Err(format!(
                "refusing to write {}: it is one of the saved scans being read",
                out.display()
            ));
        }
    }
    Ok(())
}

pub fn report(args: ReportArgs) -> Result<ExitCode, String> {
    let mut warnings = Vec::new();
    let files = expand(&args.inputs, &mut warnings)?;
    refuse_overwriting_inputs(&args, &files)?;
    if let [only] = files.as_slice() {
        match read_report(only) {
            Ok(mut report) => {
                report.coverage.warnings.extend(warnings);
                return Output::new(args.output)?
                    .emit(&report)
                    .map(|(code, _)| code);
            }
            Err(ReadError::Unreadable(why)) => return Err(why),
            Err(ReadError::SeveralScans) => {}
        }
    }
    if files.is_empty() {
        return Err(format!("no saved scan to read: {}", warnings.join("; ")));
    }
    if args.output.format != FormatArg::Console {
        return Err("an overview of several scans is written as console text and --html only; give one scan's file to render it in another format".into());
    }
    let mut overview = Overview::default();
    overview.warnings = warnings;
    for file in &files {
        let source = file.display().to_string();
        match read_records(file, |record| overview.add(record, &source)) {
            Ok(stats) => overview.file_read(stats.all_warnings()),
            Err(why) => overview.warnings.push(why),
        }
    }
    if overview.rows.is_empty() {
        return Err(format!(
            "no exsweep record in {} file(s): {}",
            files.len(),
            overview.warnings.join("; ")
        ));
    }
    Output::new(args.output)?.emit_overview(&overview)
}
