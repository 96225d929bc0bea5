//! The validated configuration: what [`crate::flags`] parsed, checked against each
//! other and the file system, with the feeds loaded, the rules compiled and the output
//! opened. Every usage error surfaces here, before any evidence is read.

use crate::flags::{FormatArg, OutputArgs, ScanArgs};
use exsweep_engine::hunt::HuntOptions;
use exsweep_engine::scan::{ScanConfig, ScanRequest};
use exsweep_evidence::Layout;
use exsweep_model::{Report, Severity};
use exsweep_report::overview::Overview;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// A scan ready to run and where its report goes.
pub struct HiScan {
    pub config: ScanConfig,
    pub output: Output,
}

impl HiScan {
    pub fn new(args: ScanArgs) -> Result<HiScan, String> {
        if let Some(threads) = args.tuning.threads {
            if threads == 0 {
                return Err("--threads must be at least 1".into());
            }
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build_global()
                .map_err(|e| e.to_string())?;
        }
        for out in args.output.output.iter().chain(&args.output.html) {
            refuse_output_inside(out, &args.evidence)?;
            for (_, drive) in &args.drives {
                refuse_output_inside(out, drive)?;
            }
        }
        let request = ScanRequest {
            evidence: args.evidence,
            layout: args.layout.map(Layout::from),
            extra_drives: args.drives,
            full: args.full,
            iocs: args.iocs,
            baselines: args.baselines,
            rules: args.rules,
            sigma: args.sigma,
            sigma_routing: args.sigma_routing,
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
        let config = request.validate()?;
        // Opened last, so that a usage error leaves no empty output file behind.
        let output = Output::new(args.output)?;
        Ok(HiScan { config, output })
    }
}

enum Sink {
    Stdout,
    File(BufWriter<File>),
}

/// Where and how a report is written, and what exit code it earns.
pub struct Output {
    sink: Sink,
    /// `--html`: the HTML report, written beside the main output.
    html: Option<(PathBuf, BufWriter<File>)>,
    format: FormatArg,
    fail_level: Severity,
    pub quiet: bool,
    to_file: bool,
}

impl Output {
    pub fn new(args: OutputArgs) -> Result<Output, String> {
        let sink = match &args.output {
            Some(path) => {
                Sink::File(BufWriter::new(File::create(path).map_err(|e| {
                    format!("cannot create the output {}: {e}", path.display())
                })?))
            }
            None => Sink::Stdout,
        };
        let html = match args.html {
            Some(path) => {
                let file = File::create(&path).map_err(|e| {
                    format!("cannot create the HTML report {}: {e}", path.display())
                })?;
                Some((path, BufWriter::new(file)))
            }
            None => None,
        };
        Ok(Output {
            sink,
            html,
            format: args.format,
            fail_level: args.fail_level,
            quiet: args.quiet,
            to_file: args.output.is_some(),
        })
    }

    /// Writes the main output with `main` and the HTML file, if asked, with `html`;
    /// returns the HTML file's path.
    fn write_both(
        self,
        main: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
        html: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<Option<PathBuf>, String> {
        let write_err = |e: std::io::Error| format!("cannot write the output: {e}");
        let html = match self.html {
            Some((path, mut file)) => {
                let html_err = |e: std::io::Error| {
                    format!("cannot write the HTML report {}: {e}", path.display())
                };
                html(&mut file).map_err(html_err)?;
                file.flush().map_err(html_err)?;
                Some(path)
            }
            None => None,
        };
        match self.sink {
            Sink::File(mut file) => {
                main(&mut file).map_err(write_err)?;
                file.flush().map_err(write_err)?;
            }
            Sink::Stdout => {
                let mut stdout = BufWriter::new(std::io::stdout().lock());
                main(&mut stdout).map_err(write_err)?;
                stdout.flush().map_err(write_err)?;
            }
        }
        Ok(html)
    }

    /// 1 when something reached `--fail-level`, else 0.
    fn exit_code(&self, worst: Option<Severity>) -> ExitCode {
        if worst.is_some_and(|s| s >= self.fail_level) {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    }

    /// Writes the report (and the HTML report, returning its path); exit code 1 when
    /// a finding reaches `--fail-level`.
    pub fn emit(self, report: &Report) -> Result<(ExitCode, Option<PathBuf>), String> {
        let code = self.exit_code(report.findings.iter().map(|f| f.severity).max());
        let (format, quiet) = (self.format, self.quiet);
        let summary = !quiet && (format != FormatArg::Console || self.to_file);
        let html = self.write_both(
            |out| exsweep_report::render(report, format.into(), out),
            |out| exsweep_report::html::write(report, out),
        )?;
        if summary {
            eprintln!(
                "exsweep: {} — {} finding(s), {} file(s) read",
                report.verdict.headline(),
                report.findings.len(),
                report.coverage.files_scanned
            );
        }
        Ok((code, html))
    }

    /// Writes the overview of many scans as console text (whatever `--format`: the
    /// caller refuses other formats before opening the output), and the HTML page if
    /// asked;
    /// exit code 1 when a finding of any host reaches `--fail-level`.
    pub fn emit_overview(self, overview: &Overview) -> Result<ExitCode, String> {
        let worst = overview
            .rows
            .iter()
            .flat_map(|row| {
                Severity::ALL
                    .into_iter()
                    .filter(|s| row.by_severity[*s as usize] > 0)
            })
            .max();
        let code = self.exit_code(worst);
        self.write_both(
            |out| exsweep_report::overview::write_console(overview, out),
            |out| exsweep_report::overview::write_html(overview, out),
        )?;
        Ok(code)
    }
}

/// Output files never go into the evidence: exsweep does not write to what it scans.
pub fn refuse_output_inside(out: &Path, evidence: &Path) -> Result<(), String> {
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
