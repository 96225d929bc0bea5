//! The `exsweep` command: what was typed ([`flags`]), validated and loaded
//! ([`hiargs`]), handed to the engine, and the report written with an exit code:
//! 0 nothing at or above `--fail-level`, 1 findings, 2 the scan could not run.

mod flags;
mod hiargs;
mod probe;
mod progress;
mod remediate;
mod report;

use clap::Parser;
use exsweep_engine::checks::{
    events::EVENT_CHECKS, exposure::EXPOSURE_CHECKS, iis::IIS_CHECKS, logs::LOG_CHECKS,
    sigma::SIGMA_CHECKS, CATALOG,
};
use exsweep_engine::scan::{self, ScanRequest};
use flags::{BaselineCommand, Cli, Command, DemoArgs, RulesCommand, SigmaCommand};
use hiargs::{HiScan, Output};
use progress::ProgressBar;
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Checks => print_checks().map(|_| ExitCode::SUCCESS),
        Command::Scan(args) => {
            let plan = args.plan.clone();
            let (evidence, layout) = (args.evidence.clone(), args.layout.map(Into::into));
            HiScan::new(*args).and_then(|hi| {
                let mut report = scan::run(&hi.config, &ProgressBar::new(!hi.output.quiet))?;
                remediate::add_checklist(&mut report);
                if let Some(plan) = &plan {
                    remediate::write_plan(&report, &evidence, layout, plan)?;
                }
                hi.output.emit(&report).map(|(code, _)| code)
            })
        }
        Command::Quarantine(args) => remediate::quarantine(*args),
        Command::Restore(args) => remediate::restore(args),
        Command::Probe(args) => probe::probe(args),
        Command::Demo(args) => run_demo(args),
        Command::Report(args) => report::report(args),
        Command::Rules(RulesCommand::Check { paths }) => check_rules(&paths),
        Command::Sigma(SigmaCommand::Check {
            paths,
            sigma_routing,
        }) => check_sigma(&paths, sigma_routing.as_deref()),
        Command::Sigma(SigmaCommand::Routing) => {
            print!("{}", exsweep_sigma::routing::BUILT_IN);
            Ok(ExitCode::SUCCESS)
        }
        Command::Baseline(BaselineCommand::Create {
            evidence,
            output,
            layout,
            build,
        }) => create_baseline(&evidence, &output, layout.map(Into::into), build),
        Command::Fixture(args) => exsweep_testkit::logs::write(&args.dir, args.log_mib << 20)
            .map(|traces| {
                eprintln!(
                    "wrote {} MiB of logs with {} planted traces to {}",
                    args.log_mib,
                    traces.len(),
                    args.dir.display()
                );
                ExitCode::SUCCESS
            })
            .map_err(|e| format!("cannot write fixtures: {e}")),
    };
    result.unwrap_or_else(|e| {
        eprintln!("exsweep: {e}");
        ExitCode::from(2)
    })
}

fn print_checks() -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    for c in CATALOG
        .iter()
        .chain(LOG_CHECKS)
        .chain(EVENT_CHECKS)
        .chain(EXPOSURE_CHECKS)
        .chain(IIS_CHECKS)
        .chain(SIGMA_CHECKS)
    {
        let refs: Vec<String> = c.references.iter().map(|r| r.to_string()).collect();
        writeln!(
            out,
            "{}  {:<8}  {:<10}  {}\n    {}\n    refs: {}\n",
            c.id,
            c.severity,
            c.class.as_str(),
            c.title,
            c.why,
            refs.join(", ")
        )
        .map_err(|e| e.to_string())?;
    }
    writeln!(
        out,
        "Rule matches (EXS-FILE-009) take their severity from the rule's `severity` or `score` meta.\n\
         exsweep's own rules (rules/, built in):\n"
    )
    .map_err(|e| e.to_string())?;
    for rule in exsweep_engine::builtin_rules() {
        let refs: Vec<String> = rule.references.iter().map(|r| r.to_string()).collect();
        writeln!(
            out,
            "{}  {:<8}  {}  ({})\n    {}\n    refs: {}\n",
            rule.id,
            rule.severity,
            rule.identifier,
            rule.family,
            rule.description,
            refs.join(", ")
        )
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// `exsweep rules check`: what a `--rules` pack loads, and what it leaves out.
fn check_rules(paths: &[std::path::PathBuf]) -> Result<ExitCode, String> {
    let set = exsweep_engine::RuleSet::build(paths);
    let mut out = std::io::stdout().lock();
    let mut say = |line: String| writeln!(out, "{line}").map_err(|e| e.to_string());
    say(format!(
        "{} rules loaded ({} of them exsweep's own)",
        set.rule_count, set.builtin_rule_count
    ))?;
    for warning in &set.warnings {
        say(format!("  left out: {warning}"))?;
    }
    if let Some(note) = &set.cache_note {
        say(format!("compiled rules: {note}"))?;
    }
    let ungated = set.always_rule_count + set.pe_only_rule_count;
    say(match (set.is_prefiltered(), ungated) {
        (true, 0) => "prefilter: on (files holding none of the rules' literals skip the scan)".into(),
        (true, ungated) => format!(
            "prefilter: on for {} rules; {} rules are scanned on every file (their files have a rule that needs no literal, or their literals are too many to turn files away)",
            set.rule_count - ungated,
            set.always_rule_count
        ),
        (false, _) => "prefilter: off (some rule cannot be reduced to literals, or the pack needs so many that they would turn few files away): YARA-X scans every file".into(),
    })?;
    if set.pe_only_rule_count > 0 {
        say(format!(
            "{} rules are scanned only on files that start with MZ: every rule of their files tests `uint16(0) == 0x5A4D`",
            set.pe_only_rule_count
        ))?;
    }
    Ok(if set.warnings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `exsweep sigma check`: every rule loaded or why not.
fn check_sigma(
    paths: &[std::path::PathBuf],
    routing: Option<&std::path::Path>,
) -> Result<ExitCode, String> {
    let routing = exsweep_sigma::Routing::from_file_or_built_in(routing)?;
    let rules = exsweep_sigma::SigmaRules::load(paths, routing);
    let report = exsweep_engine::coverage::sigma_coverage(&rules.report);
    let mut out = std::io::stdout().lock();
    let mut say = |line: String| writeln!(out, "{line}").map_err(|e| e.to_string());
    say(report.summary())?;
    for s in &report.skipped {
        say(format!(
            "  {}: {}{}: {}",
            s.kind,
            exsweep_model::printable(s.file.as_bytes()),
            s.rule
                .as_ref()
                .map(|r| format!(" ({})", exsweep_model::printable(r.as_bytes())))
                .unwrap_or_default(),
            exsweep_model::printable(s.reason.as_bytes())
        ))?;
    }
    let failed = rules.report.skipped.iter().any(|s| {
        matches!(
            s.kind,
            exsweep_sigma::SkippedKind::ParseError | exsweep_sigma::SkippedKind::Unsupported
        )
    });
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Writes a baseline of a clean server; the warnings name files left out.
fn create_baseline(
    evidence: &std::path::Path,
    output: &std::path::Path,
    layout: Option<exsweep_evidence::Layout>,
    build: Option<String>,
) -> Result<ExitCode, String> {
    hiargs::refuse_output_inside(output, evidence)?;
    let created = exsweep_engine::baseline::create(evidence, layout, build)?;
    let gzip = output
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    let mut file = std::fs::File::create(output)
        .map_err(|e| format!("cannot write {}: {e}", output.display()))?;
    created
        .write(gzip, &mut file)
        .map_err(|e| format!("cannot write {}: {e}", output.display()))?;
    for warning in &created.warnings {
        eprintln!("exsweep: {warning}");
    }
    eprintln!(
        "wrote a baseline of build {} ({} files) to {}",
        created.build,
        created.files.len(),
        output.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn run_demo(mut args: DemoArgs) -> Result<ExitCode, String> {
    // The demo always ends with its HTML report: where asked, else in the temp folder
    // (outside the demo evidence, which is removed).
    let html = args
        .output
        .html
        .get_or_insert_with(|| std::env::temp_dir().join("exsweep-demo-report.html"))
        .clone();
    let output = Output::new(args.output)?;
    let dir = tempfile::Builder::new()
        .prefix("exsweep-demo-")
        .tempdir()
        .map_err(|e| format!("cannot create a temp folder: {e}"))?;
    let root = dir.path().join("EXCH01");
    exsweep_testkit::build(&root).map_err(|e| format!("cannot write the demo evidence: {e}"))?;
    if !output.quiet {
        eprintln!(
            "exsweep demo: wrote a compromised Exchange 2019 server to {}",
            root.display()
        );
    }
    let config = ScanRequest {
        host: Some("EXCH01".into()),
        ..ScanRequest::new(root.clone())
    }
    .validate()?;
    let mut report = scan::run(&config, &ProgressBar::new(!output.quiet))?;
    remediate::add_checklist(&mut report);
    let quiet = output.quiet;
    output.emit(&report)?;
    if !quiet {
        eprintln!("exsweep demo: HTML report written to {}", html.display());
    }
    if args.keep {
        let kept = dir.keep();
        eprintln!(
            "exsweep demo: evidence kept at {}; scan it again with: exsweep scan {}",
            kept.display(),
            root.display()
        );
    }
    // The demo ran: its findings are expected, so it exits 0.
    Ok(ExitCode::SUCCESS)
}
