//! The probe's results as a person reads them (one line a target and a summary) or
//! as CERTs exchange them: JSONL, one object a target, and CSV with the fields
//! national CERTs share (IP, host, port, build, a verdict per CVE family, the method,
//! the time). Written as the results come, never held.

use crate::probe::ProbeResult;
use exsweep_model::printable;
use exsweep_report::csv::field;
use exsweep_report::Format;
use std::io::{self, Write};

/// The families, in the columns' order.
const FAMILIES: [(&str, &str); 3] = [
    ("ProxyLogon", "proxylogon"),
    ("ProxyShell", "proxyshell"),
    ("ProxyNotShell/OWASSRF", "proxynotshell"),
];

const CSV_HEADER: [&str; 19] = [
    "time",
    "ip",
    "host",
    "port",
    "scheme",
    "exchange",
    "build",
    "release",
    "precision",
    "method",
    "proxylogon",
    "proxyshell",
    "proxynotshell",
    "open_cves",
    "unsupported",
    "server_names",
    "tls",
    "active",
    "error",
];

/// The formats probe results are written in: the ones of `scan --format` that fit
/// one record per server (Timesketch and ECS are for a scan's findings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeFormat {
    Console,
    Jsonl,
    Csv,
}

impl TryFrom<Format> for ProbeFormat {
    type Error = String;

    fn try_from(format: Format) -> Result<ProbeFormat, String> {
        match format {
            Format::Console => Ok(ProbeFormat::Console),
            Format::Jsonl => Ok(ProbeFormat::Jsonl),
            Format::Csv => Ok(ProbeFormat::Csv),
            Format::Timesketch | Format::Ecs => Err(
                "probe results are written as console, jsonl or csv; timesketch and ecs are for a scan's findings".into(),
            ),
        }
    }
}

/// Counts for the closing summary and the exit code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub targets: u64,
    pub exchange: u64,
    /// Exchange servers with at least one family open.
    pub open: u64,
    /// Targets that could not be assessed.
    pub errors: u64,
}

/// Writes results in one format as they arrive.
pub struct Writer<W: Write> {
    out: W,
    format: ProbeFormat,
    pub tally: Tally,
}

impl<W: Write> Writer<W> {
    pub fn new(mut out: W, format: ProbeFormat) -> io::Result<Writer<W>> {
        if format == ProbeFormat::Csv {
            writeln!(out, "{}", CSV_HEADER.join(","))?;
        }
        Ok(Writer {
            out,
            format,
            tally: Tally::default(),
        })
    }

    pub fn write(&mut self, result: &ProbeResult) -> io::Result<()> {
        self.tally.targets += 1;
        self.tally.exchange += u64::from(result.exchange);
        self.tally.open += u64::from(!result.open_cves.is_empty());
        self.tally.errors += u64::from(result.error.is_some());
        match self.format {
            ProbeFormat::Jsonl => {
                serde_json::to_writer(&mut self.out, result)?;
                writeln!(self.out)
            }
            ProbeFormat::Csv => writeln!(self.out, "{}", csv_row(result)),
            ProbeFormat::Console => writeln!(self.out, "{}", console_line(result)),
        }
    }

    /// The summary (console only) and the flush.
    pub fn finish(mut self) -> io::Result<Tally> {
        if self.format == ProbeFormat::Console {
            let t = self.tally;
            writeln!(
                self.out,
                "\n{} target(s): {} Exchange, {} still open to a CVE, {} not assessed (error)",
                t.targets, t.exchange, t.open, t.errors
            )?;
        }
        self.out.flush()?;
        Ok(self.tally)
    }
}

fn csv_row(r: &ProbeResult) -> String {
    let verdict = |family| r.verdict(family).unwrap_or("").to_string();
    let active: Vec<String> = r
        .active
        .iter()
        .map(|a| format!("{}={}", a.check, a.outcome))
        .collect();
    let row = [
        r.time.clone(),
        r.ip.clone().unwrap_or_default(),
        r.host.clone(),
        r.port.to_string(),
        r.scheme.to_string(),
        r.exchange.to_string(),
        r.build.clone().unwrap_or_default(),
        r.release.clone().unwrap_or_default(),
        r.precision.unwrap_or("").to_string(),
        r.method.unwrap_or("").to_string(),
        verdict(FAMILIES[0].0),
        verdict(FAMILIES[1].0),
        verdict(FAMILIES[2].0),
        r.open_cves.join(" "),
        r.unsupported.clone().unwrap_or_default(),
        r.server_names.join(" "),
        r.tls.clone().unwrap_or_default(),
        active.join(" "),
        r.error.clone().unwrap_or_default(),
    ];
    row.iter().map(|v| field(v)).collect::<Vec<_>>().join(",")
}

fn console_line(r: &ProbeResult) -> String {
    let mut line = printable(r.target.as_bytes());
    if let Some(ip) = r.ip.as_ref().filter(|ip| **ip != r.host) {
        line += &format!(" ({ip})");
    }
    if let Some(e) = &r.error {
        return format!("{line}  NOT ASSESSED: {}", printable(e.as_bytes()));
    }
    if !r.exchange {
        return format!("{line}  not Exchange");
    }
    match (&r.build, r.method) {
        (Some(build), Some(method)) => {
            line += &format!(
                "  {} {build} ({}, {method})",
                r.release.as_deref().unwrap_or("Exchange"),
                r.precision.unwrap_or("")
            );
        }
        _ => line += "  Exchange, build unknown",
    }
    for (family, short) in FAMILIES {
        if let Some(v) = r.verdict(family) {
            line += &format!("  {short}: {v}");
        }
    }
    if !r.open_cves.is_empty() {
        line += &format!("\n    OPEN: {}", r.open_cves.join(", "));
    }
    if let Some(u) = &r.unsupported {
        line += &format!("\n    unsupported CU: {u}");
    }
    if !r.server_names.is_empty() {
        line += &format!(
            "\n    server names leaked: {}",
            printable(r.server_names.join(", ").as_bytes())
        );
    }
    if let Some(tls) = r.tls.as_ref().filter(|t| *t != "trusted") {
        line += &format!("\n    TLS: {tls}");
    }
    for a in &r.active {
        line += &format!("\n    active {}: {} ({})", a.check, a.outcome, a.detail);
    }
    line
}
