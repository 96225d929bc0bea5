//! `exsweep probe`: the targets read and checked, the probe run with a progress bar
//! on stderr, each result written as it arrives, and the exit code: 1 when a server
//! is open to a CVE, 2 when no target could be read.

use crate::flags::ProbeArgs;
use exsweep_probe::output::{ProbeFormat, Writer};
use exsweep_probe::run::{self, ProbeOptions};
use exsweep_probe::targets::{self, TargetSpec};
use exsweep_report::Format;
use indicatif::{ProgressDrawTarget, ProgressStyle};
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

pub fn probe(args: ProbeArgs) -> Result<ExitCode, String> {
    let mut specs: Vec<TargetSpec> = Vec::new();
    for text in &args.targets {
        specs.push(targets::parse(text)?);
    }
    if let Some(path) = &args.input {
        let bytes = std::fs::read(path)
            .map_err(|e| format!("cannot read the target list {}: {e}", path.display()))?;
        let (listed, errors) = targets::parse_list(&String::from_utf8_lossy(&bytes));
        for error in errors {
            eprintln!("exsweep: {}: skipped {error}", path.display());
        }
        specs.extend(listed);
    }
    if specs.is_empty() {
        return Err("no targets: name hosts, URLs or ranges, or -i FILE".into());
    }
    if !(args.timeout > 0.0 && args.timeout.is_finite()) {
        return Err("--timeout takes a number of seconds above 0".into());
    }
    let options = ProbeOptions {
        concurrency: args.concurrency,
        timeout: Duration::from_secs_f64(args.timeout),
        active: args.active,
    };
    let format = ProbeFormat::try_from(Format::from(args.format))?;
    let sink: Box<dyn Write> = match &args.output {
        Some(path) => {
            Box::new(BufWriter::new(File::create(path).map_err(|e| {
                format!("cannot create the output {}: {e}", path.display())
            })?))
        }
        None => Box::new(BufWriter::new(std::io::stdout())),
    };
    let write_err = |e: std::io::Error| format!("cannot write the output: {e}");
    let mut writer = Writer::new(sink, format).map_err(write_err)?;
    let bar = progress_bar(run::count(&specs), !args.quiet);
    let mut failure = None;
    run::run(specs, &options, |result| {
        bar.inc(1);
        if failure.is_none() {
            failure = writer.write(&result).err();
        }
    })?;
    bar.finish_and_clear();
    if let Some(e) = failure {
        return Err(write_err(e));
    }
    let tally = writer.finish().map_err(write_err)?;
    if !args.quiet && (args.output.is_some() || args.format != crate::flags::FormatArg::Console) {
        eprintln!(
            "exsweep: {} target(s): {} Exchange, {} still open to a CVE, {} not assessed",
            tally.targets, tally.exchange, tally.open, tally.errors
        );
    }
    Ok(if tally.open > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Targets done out of the total, on stderr when it is a terminal.
fn progress_bar(total: u64, wanted: bool) -> indicatif::ProgressBar {
    let target = if wanted && std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = indicatif::ProgressBar::with_draw_target(Some(total), target);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} targets ({per_sec}, {eta} left)")
            .expect("static template"),
    );
    bar
}
