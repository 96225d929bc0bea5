//! What was typed: the command line as clap parses it, with no checks beyond the
//! syntax of each value. [`crate::hiargs`] turns it into a validated configuration.

use clap::{Args, Parser, Subcommand, ValueEnum};
use exsweep_engine::scan;
use exsweep_evidence::Layout;
use exsweep_model::Severity;
use exsweep_report::Format;
use std::path::PathBuf;
use std::time::SystemTime;

/// Was this Exchange / IIS server compromised? Sweeps a live server or evidence
/// collected from one, offline, and shows the evidence.
#[derive(Parser)]
#[command(name = "exsweep", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Scan a server's files and logs: a live root, a mounted image, a KAPE or Velociraptor collection.
    Scan(Box<ScanArgs>),
    /// List every check with its ID, severity and references.
    Checks,
    /// Write a realistic compromised Exchange 2019 server into a temp folder and scan it.
    Demo(DemoArgs),
    /// Render saved scans (`scan --format jsonl -o FILE`) again: one scan in any
    /// format and as HTML; several (files, or folders of `.jsonl` / `.jsonl.gz`) as an
    /// overview of every host with the attacker IPs and file hashes they share.
    Report(ReportArgs),
    /// Work with YARA rule packs.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Work with known-good baselines of Exchange's web files.
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// Work with Sigma rules.
    #[command(subcommand)]
    Sigma(SigmaCommand),
    /// Move the files a scan found into a vault, without losing a byte: shows the plan,
    /// and changes nothing without --apply. Run again, it first finishes or rolls back
    /// an interrupted run.
    Quarantine(Box<QuarantineArgs>),
    /// Put quarantined files back from a vault, with their timestamps, hashes checked.
    Restore(RestoreArgs),
    /// Ask Exchange servers over the network which build they run and which CVEs it
    /// leaves open. Passive by default (the requests a browser makes); --active adds
    /// non-destructive exploitation checks. Exits 1 when a server is open to a CVE.
    Probe(ProbeArgs),
    /// Write log fixtures for tests and benchmarks (developers' tool).
    #[command(hide = true)]
    Fixture(FixtureArgs),
}

#[derive(Subcommand)]
pub enum RulesCommand {
    /// Load rule files or folders as `scan --rules` would and report what loads: rule
    /// counts, every file or rule left out and why, and whether the prefilter is on.
    /// Exits 1 when something did not load.
    Check {
        /// Rule files or folders (`.yar`, `.yara`, searched recursively).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum SigmaCommand {
    /// Load Sigma rule files or folders as `scan --sigma` would and report every rule:
    /// loaded, or why not (parse error, unsupported feature, no source for its
    /// logsource, correlation). Exits 1 when a rule failed to parse or is unsupported.
    Check {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// A routing file in place of the built-in one.
        #[arg(long, value_name = "FILE")]
        sigma_routing: Option<PathBuf>,
    },
    /// Print the built-in log-source routing (which logs feed which Sigma logsources).
    Routing,
}

#[derive(Subcommand)]
pub enum BaselineCommand {
    /// Write the SHA-256 of every file in a clean server's Exchange web folders, in
    /// Microsoft's baseline format (`SHA256,build,relative path`), for `scan --baseline`.
    Create {
        /// The clean server: a live root, a mounted image, a KAPE or Velociraptor collection.
        evidence: PathBuf,
        /// The file to write; gzipped when its name ends in `.gz`.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: PathBuf,
        /// The evidence layout, when auto-detection guesses wrong.
        #[arg(long, value_enum)]
        layout: Option<LayoutArg>,
        /// The build, when the evidence does not tell it (no build folder, no SOFTWARE hive).
        #[arg(long)]
        build: Option<String>,
    },
}

#[derive(Args)]
#[group(id = "source", required = true, multiple = false)]
pub struct QuarantineSource {
    /// The findings of a scan: the file `scan --format jsonl -o FILE` wrote.
    #[arg(long, value_name = "FILE", group = "source")]
    pub findings: Option<PathBuf>,
    /// A plan written by `scan --plan` (on a collection or image in the lab), to act
    /// on here: only files whose SHA-256 still matches move.
    #[arg(long, value_name = "FILE", group = "source")]
    pub plan: Option<PathBuf>,
    /// Scan this evidence now (as `scan EVIDENCE` would) and plan from its findings.
    #[arg(long, value_name = "EVIDENCE", group = "source")]
    pub scan: Option<PathBuf>,
}

#[derive(Args)]
pub struct QuarantineArgs {
    #[command(flatten)]
    pub source: QuarantineSource,
    /// The vault folder (default on Windows: C:\ProgramData\exsweep\vault).
    #[arg(long, value_name = "DIR")]
    pub vault: Option<PathBuf>,
    /// Carry out the plan. Without it, the plan is shown and nothing changes.
    #[arg(long)]
    pub apply: bool,
    /// The server to act on: a live root or a writable mounted disk (default: the
    /// evidence the findings came from; with --plan, this machine's C:\).
    #[arg(long, value_name = "ROOT")]
    pub target: Option<PathBuf>,
    /// The target's layout, when auto-detection guesses wrong.
    #[arg(long, value_enum)]
    pub layout: Option<LayoutArg>,
    /// The lowest severity to take (default: high; findings or paths named with
    /// --finding or --path are taken whatever their severity).
    #[arg(long, value_parser = parse_severity)]
    pub min_severity: Option<Severity>,
    /// Only findings of this check (repeatable).
    #[arg(long = "check", value_name = "CHECK-ID")]
    pub check_ids: Vec<String>,
    /// Only this finding (repeatable).
    #[arg(long = "finding", value_name = "FINDING-ID")]
    pub finding_ids: Vec<String>,
    /// Only files at this Windows path or below this folder (repeatable).
    #[arg(long = "path", value_name = "WINDOWS-PATH")]
    pub paths: Vec<String>,
    /// A folder of original Exchange files (another server of the same build, or the
    /// installation media unpacked): a modified Exchange file is replaced by the copy
    /// whose SHA-256 the baseline ships.
    #[arg(long, value_name = "DIR")]
    pub known_good: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = RemediateFormat::Console)]
    pub format: RemediateFormat,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// The vault folder.
    pub vault: PathBuf,
    /// The vault item to restore (repeatable; `exsweep restore VAULT` lists them).
    #[arg(long = "id", value_name = "ITEM-ID", conflicts_with = "all")]
    pub ids: Vec<String>,
    /// Restore every quarantined item.
    #[arg(long)]
    pub all: bool,
    /// Restore over a different file standing at the path; that file goes into the
    /// vault first.
    #[arg(long)]
    pub force: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = RemediateFormat::Console)]
    pub format: RemediateFormat,
}

/// How quarantine and restore report.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RemediateFormat {
    /// For a person: the plan, what moved, what stayed and why, the checklist.
    Console,
    /// One JSON object a line: `plan_entry`, `left_alone`, `moved`, `skipped`,
    /// `checklist`, then a `remediation_summary`.
    Jsonl,
}

#[derive(Args)]
pub struct FixtureArgs {
    /// The folder to write (a mounted-image layout).
    pub dir: PathBuf,
    /// About how many MiB of logs to write.
    #[arg(long, default_value_t = 2048)]
    pub log_mib: u64,
}

#[derive(Args)]
pub struct ScanArgs {
    /// The evidence: a folder (live root, mounted image, KAPE or Velociraptor) or a Velociraptor .zip.
    pub evidence: PathBuf,
    /// The evidence layout, when auto-detection guesses wrong.
    #[arg(long, value_enum)]
    pub layout: Option<LayoutArg>,
    /// Another drive of the same server, mounted elsewhere: `--drive D=/mnt/exch01-d`.
    #[arg(long = "drive", value_name = "LETTER=PATH", value_parser = parse_drive)]
    pub drives: Vec<(char, PathBuf)>,
    /// Sweep every file on every drive, not just the web, temp and staging folders.
    #[arg(long)]
    pub full: bool,
    /// An indicator feed to add: Loki hash or filename IOCs, a plain list, or a STIX 2.1 bundle.
    #[arg(long = "iocs", value_name = "FILE")]
    pub iocs: Vec<PathBuf>,
    /// A known-good baseline to compare Exchange's web files with (`SHA256,build,relative
    /// path`, optionally gzipped: Microsoft's lists, or `exsweep baseline create`).
    #[arg(long = "baseline", value_name = "FILE")]
    pub baselines: Vec<PathBuf>,
    /// A YARA rule file or folder to add (signature-base works as is).
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// A Sigma rule file or folder (SigmaHQ's `rules/` works as is), run over every
    /// event log; repeatable. The load report says what loaded and why the rest did not.
    #[arg(long = "sigma", value_name = "PATH")]
    pub sigma: Vec<PathBuf>,
    /// A log-source routing file in place of the built-in one (`exsweep sigma routing`
    /// prints it to start from).
    #[arg(long, value_name = "FILE")]
    pub sigma_routing: Option<PathBuf>,
    /// Only log entries at or after this time (RFC 3339 or YYYY-MM-DD, UTC).
    #[arg(long, value_parser = parse_time)]
    pub since: Option<SystemTime>,
    /// Only log entries at or before this time (RFC 3339 or YYYY-MM-DD, UTC).
    #[arg(long, value_parser = parse_time)]
    pub until: Option<SystemTime>,
    /// Print every logged request of this RequestId or client IP, across all logs.
    #[arg(long, value_name = "REQUESTID|IP")]
    pub follow: Option<String>,
    /// Skip the log hunt: files only.
    #[arg(long)]
    pub no_logs: bool,
    /// Also write a remediation plan of the findings (high and above, with their
    /// compiled copies and the checklist) to this file, for `quarantine --plan` on
    /// the server.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    #[command(flatten)]
    pub tuning: TuningArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args)]
pub struct TuningArgs {
    /// Files larger than this many MiB get name and header checks only.
    #[arg(long, value_name = "MIB", default_value_t = scan::DEFAULT_MAX_FILE_SIZE >> 20)]
    pub max_file_size: u64,
    /// Seconds the rules may spend on one file.
    #[arg(long, value_name = "SECS", default_value_t = scan::DEFAULT_RULE_TIMEOUT.as_secs())]
    pub rule_timeout: u64,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j')]
    pub threads: Option<usize>,
    /// The host name to report (default: from the SYSTEM hive, else the evidence's name).
    #[arg(long)]
    pub host: Option<String>,
}

#[derive(Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Console)]
    pub format: FormatArg,
    /// Write the output to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the HTML report (one self-contained page) to this file, beside
    /// `--format`'s output.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Exit with code 1 when a finding is at or above this severity.
    #[arg(long, value_parser = parse_severity, default_value = "medium")]
    pub fail_level: Severity,
    /// No progress bar and no summary on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Args)]
pub struct ProbeArgs {
    /// Hosts, host:port, URLs (`http://host:8080` is probed as given) or CIDR ranges
    /// (`192.0.2.0/24`, `192.0.2.0/24:8443`, at most a /16 each).
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Also read targets from this file, one a line (`#` starts a comment).
    #[arg(short = 'i', long = "input", value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Add the non-destructive checks: ProxyLogon in Microsoft's localhost form, the
    /// ProxyShell autodiscover check, the ProxyNotShell mitigation check. Only on
    /// servers you are allowed to test.
    #[arg(long)]
    pub active: bool,
    /// Targets probed at once.
    #[arg(long, short = 'j', value_name = "N", default_value_t = exsweep_probe::run::DEFAULT_CONCURRENCY)]
    pub concurrency: usize,
    /// Seconds one request may take, connect to last byte.
    #[arg(long, value_name = "SECS", default_value_t = exsweep_probe::run::DEFAULT_TIMEOUT.as_secs_f64())]
    pub timeout: f64,
    /// Output format (`console`, or `jsonl`/`csv` with the fields CERTs exchange).
    #[arg(long, value_enum, default_value_t = FormatArg::Console)]
    pub format: FormatArg,
    /// Write the output to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// No progress bar and no summary on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Args)]
pub struct ReportArgs {
    /// Saved scans: JSONL files (gzipped when named `.gz`) or folders holding them.
    #[arg(required = true, value_name = "FILE.jsonl")]
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args)]
pub struct DemoArgs {
    /// Keep the demo evidence folder after the scan and print where it is.
    #[arg(long)]
    pub keep: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `--layout`'s values.
#[derive(Clone, Copy, ValueEnum)]
pub enum LayoutArg {
    /// A mounted disk image or a copy of a system drive (a folder holding `Windows`, `inetpub` ...).
    Image,
    /// The Windows machine exsweep runs on, every drive (detected when the evidence is `C:\`).
    Live,
    /// A KAPE target collection: `<dest>/C/...`, one folder per drive letter.
    Kape,
    /// A Velociraptor collection, unpacked or as its `.zip`.
    Velociraptor,
    /// Loose logs: a folder, zip, `.gz` or single file, each file recognised by its
    /// content (taken for any folder of no other layout).
    Loose,
}

impl From<LayoutArg> for Layout {
    fn from(arg: LayoutArg) -> Layout {
        match arg {
            LayoutArg::Image => Layout::Image,
            LayoutArg::Live => Layout::Live,
            LayoutArg::Kape => Layout::Kape,
            LayoutArg::Velociraptor => Layout::Velociraptor,
            LayoutArg::Loose => Layout::Loose,
        }
    }
}

/// `--format`'s values.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// A report for a person: verdict, findings by severity, coverage.
    Console,
    /// One JSON object a line: every finding, then a summary record.
    Jsonl,
    /// One finding a row, for spreadsheets.
    Csv,
    /// Timesketch's JSONL: one event per timestamp (a file's modified, created and
    /// accessed times apart), oldest first, with the finding's ID on each.
    Timesketch,
    /// Elastic Common Schema alerts (`event.kind: alert`), one document a line.
    Ecs,
}

impl From<FormatArg> for Format {
    fn from(arg: FormatArg) -> Format {
        match arg {
            FormatArg::Console => Format::Console,
            FormatArg::Jsonl => Format::Jsonl,
            FormatArg::Csv => Format::Csv,
            FormatArg::Timesketch => Format::Timesketch,
            FormatArg::Ecs => Format::Ecs,
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

fn parse_drive(s: &str) -> Result<(char, PathBuf), String> {
    let bad = || "LETTER=PATH, e.g. D=/mnt/exch01-d".to_string();
    let (letter, path) = s.split_once('=').ok_or_else(bad)?;
    let letter = letter.trim_end_matches(':');
    match letter.as_bytes() {
        [l] if l.is_ascii_alphabetic() && !path.is_empty() => {
            Ok(((*l as char).to_ascii_uppercase(), PathBuf::from(path)))
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drives_and_times_parse() {
        assert_eq!(parse_drive("d=/mnt/d"), Ok(('D', PathBuf::from("/mnt/d"))));
        assert_eq!(parse_drive("E:=/x"), Ok(('E', PathBuf::from("/x"))));
        assert!(parse_drive("DD=/x").is_err() && parse_drive("D=").is_err());
        assert!(parse_time("2021-03-01").is_ok() && parse_time("March").is_err());
    }
}
