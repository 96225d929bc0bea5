//! `quarantine`, `restore` and `scan --plan`: the command-line side of
//! [`exsweep_remediate`] — where the findings come from, which server is acted on,
//! and what the responder is told. Exit codes: 0 everything planned was done (or,
//! without `--apply`, the plan is shown), 1 something was left in place, 2 nothing
//! could be done.

use crate::flags::{QuarantineArgs, RemediateFormat, RestoreArgs};
use exsweep_engine::scan::{self, ScanRequest};
use exsweep_evidence::{Evidence, Layout};
use exsweep_model::Report;
use exsweep_remediate::apply::{self, Outcome};
use exsweep_remediate::findings::{read_jsonl, FindingRef, ScanRef};
use exsweep_remediate::plan::{self, Plan, Selection};
use exsweep_remediate::restore::{self, Which};
use exsweep_remediate::target::Target;
use exsweep_remediate::vault::{item_id, Vault};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Fills the report's checklist: what its findings call for beyond moving files.
pub fn add_checklist(report: &mut Report) {
    report.checklist = exsweep_remediate::checklist::build(&report.findings);
}

/// The findings of the report as remediation reads them, and what it says of the scan.
fn from_report(report: &Report) -> (Vec<FindingRef>, ScanRef) {
    let findings = report
        .findings
        .iter()
        .map(FindingRef::from_finding)
        .collect();
    let scan = ScanRef {
        host: report.host.clone(),
        evidence_root: report.coverage.evidence_root.clone(),
        layout: report.coverage.layout.clone(),
    };
    (findings, scan)
}

/// `scan --plan FILE`: the default selection of the scan's findings, written for
/// `quarantine --plan` on the server.
pub fn write_plan(
    report: &Report,
    evidence: &Path,
    layout: Option<Layout>,
    out: &Path,
) -> Result<(), String> {
    crate::hiargs::refuse_output_inside(out, evidence)?;
    let (findings, scan) = from_report(report);
    let opened = Evidence::open(evidence, layout, &[])?;
    let plan = plan::build(&findings, &Selection::default(), &opened, &scan);
    std::fs::write(out, plan.to_json())
        .map_err(|e| format!("cannot write the plan {}: {e}", out.display()))?;
    eprintln!(
        "exsweep: plan of {} file(s) written to {}",
        plan.entries.len(),
        out.display()
    );
    Ok(())
}

fn default_vault() -> Result<PathBuf, String> {
    if cfg!(windows) {
        Ok(PathBuf::from(r"C:\ProgramData\exsweep\vault"))
    } else {
        Err("--vault DIR is needed here (the default, C:\\ProgramData\\exsweep\\vault, is Windows')".into())
    }
}

fn live_root() -> Result<PathBuf, String> {
    if cfg!(windows) {
        Ok(PathBuf::from(r"C:\"))
    } else {
        Err("a plan is applied on the server itself; elsewhere give the server's writable mounted disk with --target ROOT".into())
    }
}

/// The plan, and the server it is for.
fn plan_and_target(args: &QuarantineArgs) -> Result<(Plan, PathBuf), String> {
    let selection = Selection {
        min_severity: args.min_severity,
        check_ids: args.check_ids.clone(),
        finding_ids: args.finding_ids.clone(),
        paths: args.paths.clone(),
    };
    let layout = args.layout.map(Layout::from);
    let source = &args.source;
    if let Some(path) = &source.plan {
        let plan = Plan::read(path)?;
        let target = args.target.clone().map_or_else(live_root, Ok)?;
        return Ok((plan, target));
    }
    let (findings, scan, scanned) = match (&source.findings, &source.scan) {
        (Some(path), _) => {
            let (findings, scan) = read_jsonl(path)?;
            let root = PathBuf::from(&scan.evidence_root);
            (findings, scan, root)
        }
        (None, Some(evidence)) => {
            let mut request = ScanRequest::new(evidence.clone());
            request.layout = layout;
            let report = scan::run(
                &request.validate()?,
                &crate::progress::ProgressBar::new(false),
            )?;
            let (findings, scan) = from_report(&report);
            (findings, scan, evidence.clone())
        }
        (None, None) => unreachable!("clap requires one source"),
    };
    let target = match &args.target {
        Some(t) => t.clone(),
        None if scanned.exists() => scanned.clone(),
        None => {
            return Err(format!(
                "the scan's evidence root {} is not reachable from here; give the server to act on with --target ROOT",
                scanned.display()
            ))
        }
    };
    // The scanned evidence may be gone (findings brought from elsewhere): the plan is
    // then made on the target, which holds the same Windows paths.
    let evidence = Evidence::open(&scanned, None, &[])
        .or_else(|_| Evidence::open(&target, layout, &[]))
        .map_err(|e| format!("cannot open the evidence the findings came from: {e}"))?;
    Ok((plan::build(&findings, &selection, &evidence, &scan), target))
}

fn emit(format: RemediateFormat, record: serde_json::Value, line: String) {
    match format {
        RemediateFormat::Console => println!("{line}"),
        RemediateFormat::Jsonl => println!("{record}"),
    }
}

/// Notes of one kind (`record`), each a line after `label`.
fn emit_notes(format: RemediateFormat, record: &str, label: &str, notes: &[String]) {
    for note in notes {
        emit(
            format,
            json!({"record": record, "note": note}),
            format!("  {label}  {note}"),
        );
    }
}

/// Files of one kind (`record`) with why, each a line after `label`.
fn emit_paths(format: RemediateFormat, record: &str, label: &str, paths: &[(String, String)]) {
    for (path, why) in paths {
        emit(
            format,
            json!({"record": record, "windows_path": path, "why": why}),
            format!(
                "  {label}  {}: {why}",
                exsweep_model::printable(path.as_bytes())
            ),
        );
    }
}

fn show_plan(plan: &Plan, format: RemediateFormat) {
    if format == RemediateFormat::Console {
        println!(
            "Plan: {} file(s) from the scan of {} ({}, host {})",
            plan.entries.len(),
            plan.evidence_root,
            plan.layout,
            plan.host
        );
    }
    for entry in &plan.entries {
        let why = match &entry.companion_of {
            Some(page) => format!("compiled copy of {page}"),
            None => entry
                .reasons
                .iter()
                .map(|r| format!("{} {} {}", r.check_id, r.severity, r.title))
                .collect::<Vec<_>>()
                .join("; "),
        };
        let id = item_id(&entry.windows_path, &entry.sha256);
        let replace = if entry.known_good_sha256.is_empty() {
            String::new()
        } else {
            format!(
                "\n         then: put back the shipped file (SHA-256 {}) from --known-good DIR, or take it from the installation media of this build",
                entry.known_good_sha256.join(" or ")
            )
        };
        emit(
            format,
            json!({"record": "plan_entry", "vault_item": id, "entry": entry}),
            format!(
                "  move   {}\n         sha256 {}  -> vault item {id}\n         why: {why}{replace}",
                exsweep_model::printable(entry.windows_path.as_bytes()),
                entry.sha256
            ),
        );
    }
    let left: Vec<(String, String)> = plan
        .left_alone
        .iter()
        .map(|l| (l.windows_path.clone(), l.why.clone()))
        .collect();
    emit_paths(format, "left_alone", "stays ", &left);
    match format {
        RemediateFormat::Console => {
            println!();
            let mut stdout = std::io::stdout().lock();
            let _ = exsweep_report::console::write_checklist(&plan.checklist, &mut stdout);
        }
        RemediateFormat::Jsonl => {
            for item in &plan.checklist {
                println!("{}", json!({"record": "checklist", "item": item}));
            }
        }
    }
}

fn show_outcome(out: &Outcome, vault: &Path, format: RemediateFormat) {
    emit_notes(format, "recovered", "recovered", &out.recovered);
    for item in &out.moved {
        let replaced = item.replacement.as_ref().map(|r| r.sha256.as_str());
        emit(
            format,
            json!({"record": "moved", "item": item}),
            format!(
                "  moved  {} -> {}{}",
                exsweep_model::printable(item.windows_path.as_bytes()),
                vault
                    .join("items")
                    .join(format!("{}.zip", item.id))
                    .display(),
                replaced.map_or(String::new(), |s| format!(
                    " (known-good copy {s} put in its place)"
                ))
            ),
        );
    }
    emit_paths(format, "skipped", "left  ", &out.skipped);
    let already: Vec<(String, String)> = out
        .already
        .iter()
        .map(|p| (p.clone(), "already in the vault".to_string()))
        .collect();
    emit_paths(format, "already_in_vault", "done  ", &already);
    emit_notes(format, "take_from_media", "media", &out.take_from_media);
}

pub fn quarantine(args: QuarantineArgs) -> Result<ExitCode, String> {
    let (plan, target_root) = plan_and_target(&args)?;
    let format = args.format;
    show_plan(&plan, format);
    let target = Target::open(&target_root, args.layout.map(Layout::from));
    let vault = match &args.vault {
        Some(v) => v.clone(),
        None => default_vault()?,
    };
    if !args.apply {
        let next = match &target {
            Ok(_) => format!(
                "Nothing was changed. Run again with --apply to move {} file(s) into {}.",
                plan.entries.len(),
                vault.display()
            ),
            Err(e) => format!("Nothing was changed, and this plan cannot be applied here: {e}"),
        };
        emit(
            format,
            json!({"record": "remediation_summary", "applied": false, "files": plan.entries.len(), "note": next}),
            format!("\n{next}"),
        );
        return Ok(ExitCode::SUCCESS);
    }
    let target = target?;
    let out = apply::apply(&plan, &target, &vault, args.known_good.as_deref())?;
    show_outcome(&out, &vault, format);
    let summary = format!(
        "{} file(s) moved into {} ({} already there), {} left in place. Vault manifest SHA-256: {} (note it in the case file: a later edit of the manifest then shows).",
        out.moved.len(),
        vault.display(),
        out.already.len(),
        out.skipped.len(),
        out.manifest_sha256
    );
    emit(
        format,
        json!({
            "record": "remediation_summary", "applied": true, "moved": out.moved.len(),
            "already_in_vault": out.already.len(), "left": out.skipped.len(), "stopped": out.stopped, "vault": vault,
            "manifest_sha256": out.manifest_sha256,
        }),
        format!("\n{summary}"),
    );
    if let Some(why) = &out.stopped {
        return Err(format!("the run stopped: {why}"));
    }
    Ok(if out.skipped.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub fn restore(args: RestoreArgs) -> Result<ExitCode, String> {
    let format = args.format;
    let which = match (args.all, args.ids.is_empty()) {
        (true, _) => Which::All,
        (false, false) => Which::Ids(args.ids.clone()),
        (false, true) => return list_vault(&args.vault, format),
    };
    let out = restore::restore(&args.vault, &which, args.force)?;
    emit_notes(format, "recovered", "recovered", &out.recovered);
    for item in &out.restored {
        emit(
            format,
            json!({"record": "restored", "item": item}),
            format!(
                "  restored  {}",
                exsweep_model::printable(item.windows_path.as_bytes())
            ),
        );
    }
    emit_notes(format, "set_aside", "set aside", &out.set_aside);
    emit_paths(format, "skipped", "left  ", &out.skipped);
    emit(
        format,
        json!({"record": "remediation_summary", "restored": out.restored.len(), "left": out.skipped.len(), "manifest_sha256": out.manifest_sha256}),
        format!(
            "\n{} file(s) restored, {} left. Vault manifest SHA-256: {}.",
            out.restored.len(),
            out.skipped.len(),
            out.manifest_sha256
        ),
    );
    Ok(if out.skipped.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `restore VAULT` alone: what the vault holds.
fn list_vault(dir: &Path, format: RemediateFormat) -> Result<ExitCode, String> {
    let vault = Vault::open(dir, false)?;
    for entry in vault.entries() {
        emit(
            format,
            json!({"record": "vault_item", "entry": entry}),
            format!(
                "  {}  {:<11}  {}  {}",
                entry.item.id,
                format!("{:?}", entry.state).to_lowercase(),
                entry.item.quarantined_at,
                exsweep_model::printable(entry.item.windows_path.as_bytes())
            ),
        );
    }
    if format == RemediateFormat::Console {
        println!("\nRestore with --id ITEM-ID (repeatable) or --all.");
    }
    Ok(ExitCode::SUCCESS)
}
