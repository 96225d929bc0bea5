//! The `exsweep` command: argument parsing and wiring only.

mod progress;

use clap::{Args, Parser, Subcommand, ValueEnum};
use exsweep_engine::checks::CATALOG;
use exsweep_engine::hunt::HuntOptions;
use exsweep_engine::scan::{self, ScanConfig};
use exsweep_evidence::Layout;
use exsweep_model::{Report, Severity};
use exsweep_report::{self as output, Format};
use progress::ProgressBar;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

/// Was this Exchange / IIS server compromised? Sweeps a live server or evidence
/// collected from one, offline, and shows the evidence.
#[derive(Parser)]
#[command(name = "exsweep", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan a server's files and logs: a live root, a mounted image, a KAPE or Velociraptor collection.
    Scan(ScanArgs),
    /// List every check with its ID, severity and references.
    Checks,
    /// Write a realistic compromised Exchange 2019 server into a temp folder and scan it.
    Demo(DemoArgs),
    /// Write log fixtures for tests and benchmarks (developers' tool).
    #[command(hide = true)]
    Fixture(FixtureArgs),
}

#[derive(Args)]
struct FixtureArgs {
    /// The folder to write (a mounted-image layout).
    dir: PathBuf,
    /// About how many MiB of logs to write.
    #[arg(long, default_value_t = 2048)]
    log_mib: u64,
}

#[derive(Args)]
struct ScanArgs {
    /// The evidence: a folder (live root, mounted image, KAPE or Velociraptor) or a Velociraptor .zip.
    evidence: PathBuf,
    /// The evidence layout, when auto-detection guesses wrong.
    #[arg(long, value_enum)]
    layout: Option<LayoutArg>,
    /// Sweep every file on every drive, not just the web, temp and staging folders.
    #[arg(long)]
    full: bool,
    /// An indicator feed to add: Loki hash or filename IOCs, a plain list, or a STIX 2.1 bundle.
    #[arg(long = "iocs", value_name = "FILE")]
    iocs: Vec<PathBuf>,
    /// A YARA rule file or folder to add (signature-base works as is).
    #[arg(long = "rules", value_name = "PATH")]
    rules: Vec<PathBuf>,
    /// Only log entries at or after this time (RFC 3339 or YYYY-MM-DD, UTC).
    #[arg(long, value_parser = parse_time)]
    since: Option<SystemTime>,
    /// Only log entries at or before this time (RFC 3339 or YYYY-MM-DD, UTC).
    #[arg(long, value_parser = parse_time)]
    until: Option<SystemTime>,
    /// Print every logged request of this RequestId or client IP, across all logs.
    #[arg(long, value_name = "REQUESTID|IP")]
    follow: Option<String>,
    /// Skip the log hunt: files only.
    #[arg(long)]
    no_logs: bool,
    #[command(flatten)]
    tuning: TuningArgs,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Args)]
struct TuningArgs {
    /// Files larger than this many MiB get name and header checks only.
    #[arg(long, value_name = "MIB", default_value_t = scan::DEFAULT_MAX_FILE_SIZE >> 20)]
    max_file_size: u64,
    /// Seconds the rules may spend on one file.
    #[arg(long, value_name = "SECS", default_value_t = scan::DEFAULT_RULE_TIMEOUT.as_secs())]
    rule_timeout: u64,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j')]
    threads: Option<usize>,
    /// The host name to report (default: from the SYSTEM hive, else the evidence's name).
    #[arg(long)]
    host: Option<String>,
}

#[derive(Args)]
struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Console)]
    format: FormatArg,
    /// Write the output to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit with code 1 when a finding is at or above this severity.
    #[arg(long, value_parser = parse_severity, default_value = "medium")]
    fail_level: Severity,
    /// No progress bar and no summary on stderr.
    #[arg(long, short = 'q')]
    quiet: bool,
}

#[derive(Args)]
struct DemoArgs {
    /// Keep the demo evidence folder after the scan and print where it is.
    #[arg(long)]
    keep: bool,
    #[command(flatten)]
    output: OutputArgs,
}

/// `--layout`'s values.
#[derive(Clone, Copy, ValueEnum)]
enum LayoutArg {
    /// A live system drive or a mounted disk image (a folder holding `Windows`, `inetpub` ...).
    Image,
    /// A KAPE target collection: `<dest>/C/...`, one folder per drive letter.
    Kape,
    /// A Velociraptor collection, unpacked or as its `.zip`.
    Velociraptor,
}

impl From<LayoutArg> for Layout {
    fn from(arg: LayoutArg) -> Layout {
        match arg {
            LayoutArg::Image => Layout::Image,
            LayoutArg::Kape => Layout::Kape,
            LayoutArg::Velociraptor => Layout::Velociraptor,
        }
    }
}

/// `--format`'s values.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    /// A report for a person: verdict, findings by severity, coverage.
    Console,
    /// One JSON object a line: every finding, then a summary record.
    Jsonl,
    /// One finding a row, for spreadsheets and Timesketch.
    Csv,
}

impl From<FormatArg> for Format {
    fn from(arg: FormatArg) -> Format {
        match arg {
            FormatArg::Console => Format::Console,
            FormatArg::Jsonl => Format::Jsonl,
            FormatArg::Csv => Format::Csv,
        }
    }
}

fn parse_time(s: &str) -> Result<SystemTime, String> {
    let full = if s.len() == 10 {
        format!("{s}T00:00:00Z")
    } else {
        s.to_string()
    };
    chrono::DateTime::parse_from_rfc3339(&full)
        .map(|t| t.with_timezone(&chrono::Utc).into())
        .map_err(|_| "a UTC time: 2021-03-01 or 2021-03-01T12:00:00Z".to_string())
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s).ok_or_else(|| "one of info, low, medium, high, critical".to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Checks => print_checks().map(|_| ExitCode::SUCCESS),
        Command::Scan(args) => run_scan(args),
        Command::Demo(args) => run_demo(args),
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
        .chain(exsweep_engine::checks::logs::LOG_CHECKS)
        .chain(exsweep_engine::checks::events::EVENT_CHECKS)
    {
        let refs: Vec<String> = c.references.iter().map(|r| r.to_string()).collect();
        writeln!(
            out,
            "{}  {:<8}  {}\n    {}\n    refs: {}\n",
            c.id,
            c.severity,
            c.title,
            c.why,
            refs.join(", ")
        )
        .map_err(|e| e.to_string())?;
    }
    writeln!(
        out,
        "Rule matches (EXS-FILE-009) take their severity from the rule's `severity` or `score` meta."
    )
    .map_err(|e| e.to_string())
}

fn run_scan(args: ScanArgs) -> Result<ExitCode, String> {
    if let Some(threads) = args.tuning.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .map_err(|e| e.to_string())?;
    }
    if let Some(out) = &args.output.output {
        refuse_output_inside(out, &args.evidence)?;
    }
    let config = ScanConfig {
        evidence: args.evidence,
        layout: args.layout.map(Layout::from),
        full: args.full,
        iocs: args.iocs,
        rules: args.rules,
        max_file_size: args.tuning.max_file_size.saturating_mul(1 << 20),
        rule_timeout: Duration::from_secs(args.tuning.rule_timeout),
        host: args.tuning.host,
        logs: !args.no_logs,
        hunt: HuntOptions {
            since: args.since,
            until: args.until,
            follow: args.follow,
        },
    };
    let report = scan::run(&config, &ProgressBar::new(!args.output.quiet))?;
    emit(&report, &args.output)
}

fn run_demo(args: DemoArgs) -> Result<ExitCode, String> {
    let dir = tempfile::Builder::new()
        .prefix("exsweep-demo-")
        .tempdir()
        .map_err(|e| format!("cannot create a temp folder: {e}"))?;
    let root = dir.path().join("EXCH01");
    exsweep_testkit::build(&root).map_err(|e| format!("cannot write the demo evidence: {e}"))?;
    if !args.output.quiet {
        eprintln!(
            "exsweep demo: wrote a compromised Exchange 2019 server to {}",
            root.display()
        );
    }
    let config = ScanConfig {
        host: Some("EXCH01".into()),
        ..ScanConfig::new(root.clone())
    };
    let report = scan::run(&config, &ProgressBar::new(!args.output.quiet))?;
    let code = emit(&report, &args.output)?;
    if args.keep {
        let kept = dir.keep();
        eprintln!(
            "exsweep demo: evidence kept at {}; scan it again with: exsweep scan {}",
            kept.display(),
            root.display()
        );
    }
    Ok(code)
}

/// Output files never go into the evidence: exsweep does not write to what it scans.
fn refuse_output_inside(out: &Path, evidence: &Path) -> Result<(), String> {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if let (Ok(dir), Ok(ev)) = (parent.canonicalize(), evidence.canonicalize()) {
        if dir.starts_with(&ev) {
            return Err(format!(
                "refusing to write {} inside the evidence {}",
                out.display(),
                evidence.display()
            ));
        }
    }
    Ok(())
}

fn emit(report: &Report, args: &OutputArgs) -> Result<ExitCode, String> {
    let write_err = |e: std::io::Error| format!("cannot write the output: {e}");
    match &args.output {
        Some(path) => {
            let mut file = std::io::BufWriter::new(std::fs::File::create(path).map_err(write_err)?);
            output::render(report, args.format.into(), &mut file).map_err(write_err)?;
            file.flush().map_err(write_err)?;
        }
        None => {
            let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
            output::render(report, args.format.into(), &mut stdout).map_err(write_err)?;
            stdout.flush().map_err(write_err)?;
        }
    }
    if !args.quiet && (args.format != FormatArg::Console || args.output.is_some()) {
        eprintln!(
            "exsweep: {} — {} finding(s), {} file(s) read",
            report.verdict.label(),
            report.findings.len(),
            report.coverage.files_scanned
        );
    }
    let failing = report
        .findings
        .iter()
        .any(|f| f.severity >= args.fail_level);
    Ok(if failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
