//! What is on the evidence: the Exchange install and its build, the IIS web roots,
//! the computer's name, the folders a file sweep covers, the log folders and event
//! logs the hunt reads, and the hives and configuration files all of that was read
//! from. What is missing becomes the coverage, so a collection without web roots or
//! logs is never reported as clean.

use crate::iis_config::IisConfig;
use crate::recognise::{self, Kind};
use crate::webmap::WebMap;
use exsweep_evidence::known::{
    APPLICATION_HOST, DEFAULT_EXCHANGE_ROOT, DEFAULT_INSTALL_DIRS, DEFAULT_WEB_ROOT, EVENT_LOG_DIR,
    IIS_LOG_DIR, SOFTWARE_HIVE, SYSTEM_HIVE,
};
use exsweep_evidence::{registry, winpath, Evidence, FileEntry};
use exsweep_logs::{Channel, LogSource};
use exsweep_model::{AreaCoverage, RecognisedGroup};
use rayon::prelude::*;
use std::sync::Arc;

const HIVE_READ_LIMIT: u64 = 512 << 20;

#[derive(Clone, Debug)]
pub struct ExchangeInstall {
    /// Windows path of the install root, without a trailing `\`.
    pub root: String,
    pub version: Option<String>,
    /// How it was found: the registry, or a default path.
    pub source: &'static str,
    /// KB articles of the Exchange updates the registry lists as installed.
    pub updates: Vec<String>,
}

/// Where a file sits, as far as the checks care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Zone {
    /// Directly in the front end's `owa\auth`, which holds a fixed set of pages.
    FrontEndOwaAuth,
    /// Below `owa\auth` in a build folder or `Current`: static resources only.
    FrontEndOwaAuthStatic,
    /// The front end's `ecp\auth`, which holds one page.
    FrontEndEcpAuth,
    /// An IIS root's `aspnet_client`, which holds no scripts at all.
    AspnetClient,
    /// Elsewhere in Exchange's front- or back-end web folders.
    ExchangeWeb,
    /// Elsewhere in an IIS web root.
    IisWebRoot,
    /// ASP.NET's compiled-page cache.
    TempAspNet,
    /// `C:\ProgramData`, where stolen data was staged in archives.
    ProgramData,
    /// Places attackers leave tools and dumps: `Windows\Temp`, `C:\root`, user folders.
    Staging,
    Other,
}

impl Zone {
    pub fn is_web(self) -> bool {
        matches!(
            self,
            Zone::FrontEndOwaAuth
                | Zone::FrontEndOwaAuthStatic
                | Zone::FrontEndEcpAuth
                | Zone::AspnetClient
                | Zone::ExchangeWeb
                | Zone::IisWebRoot
        )
    }
}

/// A folder the sweep covers, and whether its absence makes the verdict incomplete.
#[derive(Clone, Debug)]
pub struct Area {
    pub name: &'static str,
    pub windows_path: String,
    /// Absent on a normal server (e.g. `C:\root`): its absence is not a gap.
    pub optional: bool,
    pub consequence: &'static str,
}

/// A folder of text logs of one kind, the files found below it, and what its absence
/// means for the verdict.
pub struct LogDir {
    /// The kind (for HttpProxy, without a protocol: each file has its own).
    pub source: LogSource,
    pub windows_path: String,
    pub consequence: &'static str,
    pub files: Vec<LogFile>,
}

impl LogDir {
    /// How the coverage names it: the kind, and for HttpProxy the protocol folder, for
    /// IIS the site's folder (`W3SVC1`, `W3SVC2` for Exchange's back end).
    pub fn label(&self) -> String {
        match &self.source {
            LogSource::HttpProxy { protocol } if !protocol.is_empty() => {
                format!(r"HttpProxy\{protocol}")
            }
            LogSource::Iis => match self.windows_path.strip_prefix(&format!(r"{IIS_LOG_DIR}\")) {
                Some(site) => format!("IIS {site}"),
                None => "IIS".into(),
            },
            source => source.name().to_string(),
        }
    }
}

/// A log file and its kind.
pub struct LogFile {
    /// For HttpProxy, with the protocol folder the file sits in.
    pub source: LogSource,
    pub entry: Arc<FileEntry>,
}

/// An event log the hunt reads, its files on the evidence, and what its absence means
/// (`None`: optional, as Sysmon and Defender logs are).
pub struct EventLog {
    pub channel: Channel,
    pub windows_path: String,
    pub consequence: Option<&'static str>,
    pub files: Vec<Arc<FileEntry>>,
}

/// An event log no built-in check reads (PowerShell, Task Scheduler ...), as one
/// source however many files hold it: `--sigma` rules read it.
pub struct OtherEventLog {
    /// How the coverage names it: `EVTX` and the channel.
    pub name: String,
    /// Its file, or the folder its files were found in.
    pub windows_path: String,
    pub files: Vec<Arc<FileEntry>>,
}

impl OtherEventLog {
    /// Puts a file with the others of its log, by the log's name; a log of several
    /// files is named by the folder they were found in.
    fn file_under(logs: &mut Vec<OtherEventLog>, name: String, folder: &str, file: Arc<FileEntry>) {
        match logs.iter_mut().find(|log| log.name == name) {
            Some(log) => {
                if log.files.len() == 1 {
                    log.windows_path = folder.to_string();
                }
                log.files.push(file);
            }
            None => logs.push(OtherEventLog {
                name,
                windows_path: file.windows_path.clone(),
                files: vec![file],
            }),
        }
    }
}

/// A hive or configuration file the inventory reads, and whether the evidence held it.
pub struct ConfigSource {
    pub name: &'static str,
    pub windows_path: &'static str,
    pub present: bool,
    pub consequence: &'static str,
}

pub struct Inventory {
    pub exchange: Option<ExchangeInstall>,
    pub web_roots: Vec<String>,
    /// IIS's configuration, when the evidence holds `applicationHost.config` (read
    /// once, for the web roots, the web map, the IIS log folders, the mitigations and
    /// the IIS persistence checks).
    pub iis: Option<IisConfig>,
    /// IIS's URLs and the folders they serve.
    pub web_map: WebMap,
    pub host: Option<String>,
    /// The text logs, when the inventory was asked to find them.
    pub logs: Vec<LogDir>,
    /// The event logs, when the inventory was asked to find them.
    pub event_logs: Vec<EventLog>,
    /// The other event logs (PowerShell, Task Scheduler ...): no built-in check
    /// reads them; `--sigma` rules do.
    pub other_event_logs: Vec<OtherEventLog>,
    pub configs: Vec<ConfigSource>,
    /// For loose logs, what the files were taken for and why.
    pub recognised: Vec<RecognisedGroup>,
    pub warnings: Vec<String>,
    zones: Vec<(String, Zone)>,
}

fn read_small(evidence: &Evidence, path: &str, warnings: &mut Vec<String>) -> Option<Vec<u8>> {
    match evidence.read_path(path, HIVE_READ_LIMIT)? {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            warnings.push(format!("cannot read {path}: {e}"));
            None
        }
    }
}

fn find_exchange(evidence: &Evidence, warnings: &mut Vec<String>) -> Option<ExchangeInstall> {
    if let Some(hive) = read_small(evidence, SOFTWARE_HIVE, warnings) {
        match registry::exchange_setup(&hive) {
            Ok((Some(setup), valid)) => {
                if !valid {
                    warnings.push(
                        "the SOFTWARE hive's header did not validate (unflushed copy); its values were read anyway"
                            .into(),
                    );
                }
                let root = setup.install_path.trim_end_matches('\\').to_string();
                if evidence.dir_exists(&root) {
                    return Some(ExchangeInstall {
                        root,
                        version: setup.version,
                        source: "registry (MsiInstallPath)",
                        updates: registry::installed_exchange_updates(&hive),
                    });
                }
                warnings.push(format!(
                    "the registry names {root} as the Exchange install, but the evidence does not hold it"
                ));
            }
            Ok((None, _)) => {}
            Err(e) => warnings.push(format!("SOFTWARE hive unreadable: {e}")),
        }
    }
    evidence.drives().into_iter().find_map(|letter| {
        DEFAULT_INSTALL_DIRS.iter().find_map(|dir| {
            let root = format!("{letter}:\\{dir}");
            evidence.dir_exists(&root).then_some(ExchangeInstall {
                root,
                version: None,
                source: "default install path",
                updates: Vec::new(),
            })
        })
    })
}

/// The default web root, then every folder IIS's configuration serves.
fn find_web_roots(config: Option<&IisConfig>) -> Vec<String> {
    let mut roots = vec![DEFAULT_WEB_ROOT.to_string()];
    for (_, dir) in config.iter().flat_map(|c| c.dirs()) {
        let path = dir.physical.trim_end_matches('\\');
        if winpath::split(path).is_some()
            && !roots.iter().any(|r| winpath::key(r) == winpath::key(path))
        {
            roots.push(path.to_string());
        }
    }
    roots
}

/// The text-log folders below an Exchange install, and IIS's (`iis_dirs`), by kind.
fn log_dirs(exchange_root: &str, iis_dirs: &[String]) -> Vec<LogDir> {
    let log = |rel: &str| format!(r"{exchange_root}\Logging\{rel}");
    let dir = |source, windows_path, consequence| LogDir {
        source,
        windows_path,
        consequence,
        files: Vec::new(),
    };
    let mut dirs = vec![
        dir(
            LogSource::HttpProxy {
                protocol: String::new(),
            },
            log("HttpProxy"),
            "ProxyLogon (CVE-2021-26855, 27065) exploitation in the front end was not assessed",
        ),
        dir(
            LogSource::EcpServer,
            log(r"ECP\Server"),
            "virtual-directory web-shell writes (CVE-2021-27065) were not assessed",
        ),
        dir(
            LogSource::EcpActivity,
            log(r"ECP\Activity"),
            "ECP activity was not assessed",
        ),
        dir(
            LogSource::OabGenerator,
            log("OABGeneratorLog"),
            "OAB generator file writes (CVE-2021-26858) were not assessed",
        ),
        dir(
            LogSource::RpsHttp,
            log(r"CmdletInfra\Powershell-Proxy\Http"),
            "remote PowerShell requests were not assessed",
        ),
    ];
    dirs.extend(iis_dirs.iter().map(|d| {
        dir(
            LogSource::Iis,
            d.clone(),
            "web-shell use and ProxyShell/ProxyNotShell requests in IIS logs were not assessed",
        )
    }));
    dirs
}

/// Where IIS logs: the folders its configuration names, and IIS's default folder
/// when there is no configuration or the evidence holds that folder anyway (logs
/// kept from before a move).
fn iis_log_dirs(evidence: &Evidence, config: Option<&IisConfig>) -> Vec<String> {
    let mut dirs = config.map(IisConfig::log_dirs).unwrap_or_default();
    let default_listed = dirs
        .iter()
        .any(|d| winpath::key(d) == winpath::key(IIS_LOG_DIR));
    if !default_listed && (dirs.is_empty() || evidence.dir_exists(IIS_LOG_DIR)) {
        dirs.push(IIS_LOG_DIR.into());
    }
    dirs
}

/// Which files of a log folder belong to its kind: Rps_Http logs by name, every file
/// below `OABGeneratorLog` (as Test-ProxyLogon reads them), the rest `*.log`.
fn belongs_to(source: &LogSource, file_name: &str) -> bool {
    let name = file_name.to_lowercase();
    match source {
        LogSource::RpsHttp => name.contains("rps_http"),
        LogSource::OabGenerator => true,
        _ => name.contains(".log"),
    }
}

/// The folder directly below `dir_key` (a [`winpath::key`]) a file sits in, as the
/// server spelled it: the HttpProxy protocol, the IIS site; empty for a file directly
/// in it or not below it at all (loose logs).
fn folder_below<'p>(windows_path: &'p str, dir_key: &str) -> &'p str {
    if !winpath::key(windows_path).starts_with(dir_key) {
        return "";
    }
    let rest = windows_path
        .get(dir_key.len()..)
        .unwrap_or("")
        .trim_start_matches('\\');
    match rest.split_once('\\') {
        Some((folder, _)) => folder,
        None => "",
    }
}

/// One log folder per folder below it: per HttpProxy protocol (`HttpProxy\Ecp`,
/// `HttpProxy\Mapi` ...) and per IIS site (`W3SVC1` ...), so that each one's span is
/// judged on its own, as Test-ProxyLogon reports them: a late `Ecp` must not hide
/// behind an older `Mapi`. Files directly in the folder stay under its own name.
fn split_by_folder(dir: LogDir) -> Vec<LogDir> {
    let dir_key = winpath::key(&dir.windows_path);
    let mut by_folder: Vec<LogDir> = Vec::new();
    for file in dir.files {
        let folder = match &file.source {
            LogSource::HttpProxy { protocol } => protocol.clone(),
            _ => folder_below(&file.entry.windows_path, &dir_key).to_string(),
        };
        let windows_path = if folder.is_empty() {
            dir.windows_path.clone()
        } else {
            format!(r"{}\{folder}", dir.windows_path)
        };
        let key = winpath::key(&windows_path);
        match by_folder
            .iter_mut()
            .find(|d| winpath::key(&d.windows_path) == key)
        {
            Some(known) => known.files.push(file),
            None => by_folder.push(LogDir {
                windows_path,
                source: match &dir.source {
                    LogSource::HttpProxy { .. } => LogSource::HttpProxy { protocol: folder },
                    other => other.clone(),
                },
                consequence: dir.consequence,
                files: vec![file],
            }),
        }
    }
    if by_folder.is_empty() {
        return vec![LogDir {
            files: Vec::new(),
            ..dir
        }];
    }
    by_folder.sort_by_key(|d| d.windows_path.to_lowercase());
    by_folder
}

fn find_logs(
    evidence: &Evidence,
    exchange_root: &str,
    iis_dirs: &[String],
    warnings: &mut Vec<String>,
) -> Vec<LogDir> {
    let mut found = Vec::new();
    for mut dir in log_dirs(exchange_root, iis_dirs) {
        let (entries, listing) = evidence.list_files(std::slice::from_ref(&dir.windows_path), &[]);
        warnings.extend(listing.warnings);
        let dir_key = winpath::key(&dir.windows_path);
        for entry in entries {
            if !belongs_to(&dir.source, winpath::file_name(&entry.windows_path)) {
                continue;
            }
            let source = match &dir.source {
                LogSource::HttpProxy { .. } => LogSource::HttpProxy {
                    protocol: folder_below(&entry.windows_path, &dir_key).to_string(),
                },
                other => other.clone(),
            };
            dir.files.push(LogFile {
                source,
                entry: Arc::new(entry),
            });
        }
        if matches!(dir.source, LogSource::HttpProxy { .. } | LogSource::Iis) {
            found.extend(split_by_folder(dir));
        } else {
            found.push(dir);
        }
    }
    found
}

/// The event logs exsweep reads, by file name, and what their absence means.
const EVENT_LOGS: [(Channel, &str, Option<&str>); 6] = [
    (
        Channel::Application,
        "Application.evtx",
        Some("Unified Messaging exploitation (CVE-2021-26857) was not assessed"),
    ),
    (
        Channel::ExchangeManagement,
        "MSExchange Management.evtx",
        Some("Exchange cmdlets run by attackers (mailbox exports, role assignments) were not assessed"),
    ),
    (
        Channel::Security,
        "Security.evtx",
        Some("process creation by the web server (4688) and log clearing (1102) were not assessed"),
    ),
    (
        Channel::System,
        "System.evtx",
        Some("event log clearing (104) was not assessed"),
    ),
    (Channel::Sysmon, "Microsoft-Windows-Sysmon%4Operational.evtx", None),
    (
        Channel::Defender,
        "Microsoft-Windows-Windows Defender%4Operational.evtx",
        None,
    ),
];

/// True for the log's own file (`Security.evtx`) and for the archives Windows writes
/// when a full log is set to archive (`Archive-Security-2021-03-04-10-00-00-000.evtx`).
fn is_event_log_file(name: &str, log_file: &str) -> bool {
    let name = name.to_lowercase();
    let log_file = log_file.to_lowercase();
    let stem = log_file.trim_end_matches(".evtx");
    name == log_file
        || name
            .strip_prefix("archive-")
            .and_then(|rest| rest.strip_prefix(stem))
            .is_some_and(|rest| rest.starts_with('-') && rest.ends_with(".evtx"))
}

/// How the coverage names an event log no built-in check reads, from its file's name
/// (`Microsoft-Windows-PowerShell%4Operational.evtx`: `EVTX Microsoft-Windows-PowerShell/Operational`).
fn channel_of_file(windows_path: &str) -> String {
    let name = winpath::file_name(windows_path);
    let stem = name.get(..name.len().saturating_sub(5)).unwrap_or(name);
    format!("EVTX {}", stem.replace("%4", "/"))
}

/// The known event logs, and the other event logs beside them.
fn find_event_logs(
    evidence: &Evidence,
    warnings: &mut Vec<String>,
) -> (Vec<EventLog>, Vec<OtherEventLog>) {
    let (entries, listing) = evidence.list_files(&[EVENT_LOG_DIR.to_string()], &[]);
    warnings.extend(listing.warnings);
    let entries: Vec<Arc<FileEntry>> = entries.into_iter().map(Arc::new).collect();
    let known: Vec<EventLog> = EVENT_LOGS
        .iter()
        .map(|(channel, file, consequence)| EventLog {
            channel: *channel,
            windows_path: format!(r"{EVENT_LOG_DIR}\{file}"),
            consequence: *consequence,
            files: entries
                .iter()
                .filter(|e| is_event_log_file(winpath::file_name(&e.windows_path), file))
                .cloned()
                .collect(),
        })
        .collect();
    let mut others = Vec::new();
    for entry in entries {
        let name = winpath::file_name(&entry.windows_path);
        if name.to_lowercase().ends_with(".evtx")
            && !known
                .iter()
                .any(|log| log.files.iter().any(|f| Arc::ptr_eq(f, &entry)))
        {
            let channel = channel_of_file(&entry.windows_path);
            OtherEventLog::file_under(&mut others, channel, EVENT_LOG_DIR, entry);
        }
    }
    (known, others)
}

/// The hives and configuration files the inventory reads, and whether the evidence
/// holds them.
fn config_sources(evidence: &Evidence) -> Vec<ConfigSource> {
    [
        (
            "SOFTWARE hive",
            SOFTWARE_HIVE,
            "the Exchange install and build were not read from the registry",
        ),
        (
            "SYSTEM hive",
            SYSTEM_HIVE,
            "the computer name was not read from the registry",
        ),
        (
            "IIS configuration",
            APPLICATION_HOST,
            "IIS sites other than the default web root were not found",
        ),
    ]
    .into_iter()
    .map(|(name, windows_path, consequence)| ConfigSource {
        name,
        windows_path,
        present: evidence.file_exists(windows_path),
        consequence,
    })
    .collect()
}

/// How the coverage names where loose logs were found.
pub const LOOSE: &str = "(loose logs)";
/// What a loose file that is no log exsweep reads was taken for.
pub const NOT_READ: &str = "not read";

/// Loose files are walked and read this many at a time: the inventory counts them by
/// kind, and the hunt reads them a batch after the other, so a collection of a
/// hundred thousand exported logs is never listed whole.
pub const LOOSE_BATCH: usize = 4096;

/// The log folders of loose logs, each of them found nowhere in particular.
fn loose_log_dirs() -> Vec<LogDir> {
    let mut logs = log_dirs(DEFAULT_EXCHANGE_ROOT, &[IIS_LOG_DIR.into()]);
    for dir in &mut logs {
        dir.windows_path = LOOSE.into();
    }
    logs
}

/// The event logs of loose logs, as empty as [`loose_log_dirs`].
fn loose_event_logs() -> Vec<EventLog> {
    EVENT_LOGS
        .iter()
        .map(|(channel, _, consequence)| EventLog {
            channel: *channel,
            windows_path: LOOSE.into(),
            consequence: *consequence,
            files: Vec::new(),
        })
        .collect()
}

/// A batch of loose files, each recognised by its content and put with the logs of
/// its kind (the kinds none was found of stay, empty).
pub struct LooseBatch {
    pub logs: Vec<LogDir>,
    pub event_logs: Vec<EventLog>,
    pub other_event_logs: Vec<OtherEventLog>,
    pub recognised: Vec<RecognisedGroup>,
}

/// Recognises each of `files` and puts it with the logs of its kind.
pub fn loose_batch(evidence: &Evidence, files: &[Arc<FileEntry>]) -> LooseBatch {
    let mut logs = loose_log_dirs();
    let mut event_logs = loose_event_logs();
    let mut recognised: Vec<RecognisedGroup> = Vec::new();
    let mut other_event_logs = Vec::new();
    // Each file's first bytes are read in parallel; the sorting is in the batch's order.
    let found: Vec<_> = files
        .par_iter()
        .map(|file| recognise::recognise(evidence, file))
        .collect();
    for (file, found) in files.iter().zip(found) {
        let taken_for = match &found.kind {
            Some(Kind::Text(source)) => {
                let dir = logs
                    .iter_mut()
                    .find(|d| std::mem::discriminant(&d.source) == std::mem::discriminant(source))
                    .expect("every kind has a folder");
                dir.files.push(LogFile {
                    source: source.clone(),
                    entry: file.clone(),
                });
                source.name().to_string()
            }
            Some(Kind::Events(channel)) => {
                let log = event_logs
                    .iter_mut()
                    .find(|l| l.channel == *channel)
                    .expect("every channel has a log");
                log.files.push(file.clone());
                channel.name().to_string()
            }
            Some(Kind::OtherEvents(name)) => {
                let log = format!("EVTX {name}");
                OtherEventLog::file_under(&mut other_event_logs, log.clone(), LOOSE, file.clone());
                format!("{log} (read with --sigma only)")
            }
            None => NOT_READ.to_string(),
        };
        let group = match recognised
            .iter_mut()
            .position(|g| g.taken_for == taken_for && g.by == found.by)
        {
            Some(at) => &mut recognised[at],
            None => {
                recognised.push(RecognisedGroup::new(taken_for, found.by));
                recognised.last_mut().expect("just pushed")
            }
        };
        group.add(&file.windows_path);
    }
    let logs = logs
        .into_iter()
        .flat_map(|dir| match dir.source {
            LogSource::HttpProxy { .. } => split_by_folder(dir),
            _ => vec![dir],
        })
        .collect();
    LooseBatch {
        logs,
        event_logs,
        other_event_logs,
        recognised,
    }
}

/// The loose logs' inventory as the batches add up: every log folder that had files
/// and every other event log, without their files (the hunt walks them again), and
/// the groups of files.
#[derive(Default)]
struct LooseTotals {
    logs: Vec<LogDir>,
    other_event_logs: Vec<OtherEventLog>,
    recognised: Vec<RecognisedGroup>,
}

impl LooseTotals {
    fn add(&mut self, batch: LooseBatch) {
        for dir in batch.logs.into_iter().filter(|d| !d.files.is_empty()) {
            if !self.logs.iter().any(|known| known.label() == dir.label()) {
                self.logs.push(LogDir {
                    files: Vec::new(),
                    ..dir
                });
            }
        }
        for log in batch.other_event_logs {
            match self
                .other_event_logs
                .iter_mut()
                .find(|l| l.name == log.name)
            {
                // Files in more than one batch: a log of several files, named by
                // the folder they were found in (as `OtherEventLog::file_under` does).
                Some(known) => known.windows_path = LOOSE.into(),
                None => self.other_event_logs.push(OtherEventLog {
                    files: Vec::new(),
                    ..log
                }),
            }
        }
        for group in batch.recognised {
            match self
                .recognised
                .iter_mut()
                .find(|g| g.taken_for == group.taken_for && g.by == group.by)
            {
                Some(known) => known.absorb(group),
                None => self.recognised.push(group),
            }
        }
    }

    /// The folders in the order of [`log_dirs`], each kind's by name (HttpProxy's
    /// protocol folders), as one batch of all the files would have them; a kind no
    /// batch had files of is its empty folder.
    fn into_logs(self) -> Vec<LogDir> {
        let kind = |dir: &LogDir| std::mem::discriminant(&dir.source);
        let mut rest = self.logs;
        let mut logs = Vec::new();
        for empty in loose_log_dirs() {
            let (mut found, others): (Vec<LogDir>, Vec<LogDir>) =
                rest.into_iter().partition(|d| kind(d) == kind(&empty));
            rest = others;
            if found.is_empty() {
                found.push(empty);
            }
            found.sort_by_cached_key(|d| d.windows_path.to_lowercase());
            logs.append(&mut found);
        }
        logs
    }
}

/// The inventory of loose logs: each file recognised by its content and counted with
/// the logs of its kind, a batch at a time ([`LOOSE_BATCH`]); the kinds none was
/// found of stay, empty, so the coverage says what was not assessed. The files are not
/// kept: the hunt walks them again. There is no file system to sweep.
fn loose_inventory(evidence: &Evidence, with_logs: bool) -> Inventory {
    let mut totals = LooseTotals::default();
    let listing = if with_logs {
        evidence.visit_loose(LOOSE_BATCH, &mut |files| {
            totals.add(loose_batch(evidence, &files));
        })
    } else {
        exsweep_evidence::ListingReport::default()
    };
    let event_logs = loose_event_logs();
    let other_event_logs = std::mem::take(&mut totals.other_event_logs);
    let recognised = std::mem::take(&mut totals.recognised);
    let logs = if with_logs {
        totals.into_logs()
    } else {
        loose_log_dirs()
    };
    Inventory {
        exchange: None,
        web_roots: Vec::new(),
        iis: None,
        web_map: WebMap::defaults(DEFAULT_EXCHANGE_ROOT),
        host: None,
        logs,
        event_logs,
        other_event_logs,
        configs: config_sources(evidence),
        recognised,
        warnings: listing.warnings,
        zones: Vec::new(),
    }
}

impl Inventory {
    /// Takes the inventory; `with_logs` also finds the log files the hunt reads.
    pub fn take(evidence: &Evidence, with_logs: bool) -> Inventory {
        if evidence.is_loose() {
            return loose_inventory(evidence, with_logs);
        }
        let mut warnings = Vec::new();
        let exchange = find_exchange(evidence, &mut warnings);
        let ex_root = exchange
            .as_ref()
            .map_or(DEFAULT_EXCHANGE_ROOT.to_string(), |e| e.root.clone());
        let iis = read_small(evidence, APPLICATION_HOST, &mut warnings)
            .map(|bytes| IisConfig::read(&String::from_utf8_lossy(&bytes), Some(&ex_root)));
        if iis.as_ref().is_some_and(|c| !c.well_formed) {
            warnings.push(format!(
                "{APPLICATION_HOST} is not well-formed XML (a damaged or cut copy?): its sites were read tag by tag; its modules, handlers and URL Rewrite rules were not assessed"
            ));
        }
        let web_roots = find_web_roots(iis.as_ref());
        let host = read_small(evidence, SYSTEM_HIVE, &mut warnings)
            .and_then(|h| registry::computer_name(&h));
        let configs = config_sources(evidence);
        let mut zones = Vec::new();
        let web_map = WebMap::read(iis.as_ref(), &ex_root);
        let fe = format!(r"{ex_root}\FrontEnd\HttpProxy");
        zones.push((format!(r"{fe}\owa\auth"), Zone::FrontEndOwaAuth));
        zones.push((format!(r"{fe}\ecp\auth"), Zone::FrontEndEcpAuth));
        zones.push((fe, Zone::ExchangeWeb));
        zones.push((format!(r"{ex_root}\ClientAccess"), Zone::ExchangeWeb));
        for root in &web_roots {
            zones.push((format!(r"{root}\aspnet_client"), Zone::AspnetClient));
            zones.push((root.clone(), Zone::IisWebRoot));
        }
        for dir in temp_aspnet_dirs() {
            zones.push((dir, Zone::TempAspNet));
        }
        zones.push((r"C:\ProgramData".into(), Zone::ProgramData));
        zones.push((r"C:\Windows\Temp".into(), Zone::Staging));
        zones.push((r"C:\root".into(), Zone::Staging));
        zones.push((r"C:\Users".into(), Zone::Staging));
        let mut zones: Vec<(String, Zone)> = zones
            .into_iter()
            .map(|(p, z)| (winpath::key(&p), z))
            .collect();
        // Most specific first, so the first match wins.
        zones.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
        let (logs, (event_logs, other_event_logs)) = if with_logs {
            let iis_dirs = iis_log_dirs(evidence, iis.as_ref());
            (
                find_logs(evidence, &ex_root, &iis_dirs, &mut warnings),
                find_event_logs(evidence, &mut warnings),
            )
        } else {
            (Vec::new(), (Vec::new(), Vec::new()))
        };
        Inventory {
            exchange,
            web_roots,
            iis,
            web_map,
            host,
            logs,
            event_logs,
            other_event_logs,
            configs,
            recognised: Vec::new(),
            warnings,
            zones,
        }
    }

    /// Classifies a file by its Windows path.
    pub fn zone_of(&self, windows_path: &str) -> Zone {
        let key = winpath::key(windows_path);
        for (dir, zone) in &self.zones {
            if winpath::is_within(&key, dir) {
                if *zone == Zone::FrontEndOwaAuth {
                    let rest = &key[dir.len() + 1..];
                    return if rest.contains('\\') {
                        Zone::FrontEndOwaAuthStatic
                    } else {
                        Zone::FrontEndOwaAuth
                    };
                }
                return *zone;
            }
        }
        Zone::Other
    }

    /// The folders the default sweep covers.
    pub fn areas(&self, evidence: &Evidence) -> Vec<Area> {
        if evidence.is_loose() {
            return vec![Area {
                name: "the server's file system",
                windows_path: LOOSE.into(),
                optional: false,
                consequence: "the evidence is loose logs: web shells, dumps and archives on disk were not assessed",
            }];
        }
        let web = "web shells in this folder were not assessed";
        let mut areas = Vec::new();
        match &self.exchange {
            Some(ex) => {
                areas.push(Area {
                    name: "Exchange front-end web folders",
                    windows_path: format!(r"{}\FrontEnd\HttpProxy", ex.root),
                    optional: false,
                    consequence: web,
                });
                areas.push(Area {
                    name: "Exchange back-end web folders",
                    windows_path: format!(r"{}\ClientAccess", ex.root),
                    optional: false,
                    consequence: web,
                });
            }
            None => areas.push(Area {
                name: "Exchange install",
                windows_path: DEFAULT_EXCHANGE_ROOT.into(),
                optional: false,
                consequence: "no Exchange install found: Exchange web shells were not assessed",
            }),
        }
        for root in &self.web_roots {
            areas.push(Area {
                name: "IIS web root",
                windows_path: root.clone(),
                optional: root != DEFAULT_WEB_ROOT && !evidence.dir_exists(root),
                consequence: web,
            });
        }
        areas.push(Area {
            name: "IIS folder (logs excluded)",
            windows_path: r"C:\inetpub".into(),
            optional: false,
            consequence: web,
        });
        for dir in temp_aspnet_dirs() {
            areas.push(Area {
                name: "Temporary ASP.NET Files",
                windows_path: dir,
                optional: true,
                consequence: "compiled copies of web shells were not assessed",
            });
        }
        areas.push(Area {
            name: "ProgramData",
            windows_path: r"C:\ProgramData".into(),
            optional: false,
            consequence: "staged dumps and archives were not assessed",
        });
        areas.push(Area {
            name: "Windows temp",
            windows_path: r"C:\Windows\Temp".into(),
            optional: false,
            consequence: "credential dumps left in Windows\\Temp were not assessed",
        });
        areas.push(Area {
            name: "C:\\root (Hafnium staging folder)",
            windows_path: r"C:\root".into(),
            optional: true,
            consequence: "",
        });
        for user in evidence.subdirs(r"C:\Users") {
            areas.push(Area {
                name: "user temp folder",
                windows_path: format!(r"C:\Users\{user}\AppData\Local\Temp"),
                optional: true,
                consequence: "",
            });
        }
        areas
    }

    /// Folders a default sweep skips because other parts of exsweep read them
    /// (logs) or they hold nothing a file check looks for (mail databases).
    pub fn sweep_exclusions(&self) -> Vec<String> {
        let mut out = vec![winpath::key(r"C:\inetpub\logs")];
        if let Some(ex) = &self.exchange {
            out.push(winpath::key(&format!(r"{}\Logging", ex.root)));
        }
        out
    }
}

fn temp_aspnet_dirs() -> Vec<String> {
    ["Framework64", "Framework"]
        .iter()
        .flat_map(|fw| {
            ["v4.0.30319", "v2.0.50727"]
                .iter()
                .map(move |v| format!(r"C:\Windows\Microsoft.NET\{fw}\{v}\Temporary ASP.NET Files"))
        })
        .collect()
}

/// The coverage of each area: present or not, and what a gap means.
pub fn area_coverage(evidence: &Evidence, areas: &[Area]) -> Vec<AreaCoverage> {
    areas
        .iter()
        .filter_map(|a| {
            let present = evidence.dir_exists(&a.windows_path);
            (present || !a.optional).then(|| AreaCoverage {
                area: a.name.to_string(),
                windows_path: a.windows_path.clone(),
                present,
                consequence: (!present).then(|| a.consequence.to_string()),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_file(windows_path: &str) -> LogFile {
        let dir = r"c:\exchange\logging\httpproxy";
        LogFile {
            source: LogSource::HttpProxy {
                protocol: folder_below(windows_path, dir).to_string(),
            },
            entry: std::sync::Arc::new(FileEntry {
                windows_path: windows_path.into(),
                location: exsweep_evidence::Location::Local(windows_path.into()),
                size: 0,
                times: Default::default(),
            }),
        }
    }

    #[test]
    fn httpproxy_folders_are_judged_per_protocol() {
        let dir = LogDir {
            source: LogSource::HttpProxy {
                protocol: String::new(),
            },
            windows_path: r"C:\Exchange\Logging\HttpProxy".into(),
            consequence: "c",
            files: [
                r"C:\Exchange\Logging\HttpProxy\Mapi\a.LOG",
                r"C:\Exchange\Logging\HttpProxy\Ecp\b.LOG",
                r"C:\Exchange\Logging\HttpProxy\ecp\c.LOG",
                r"C:\Exchange\Logging\HttpProxy\loose.LOG",
            ]
            .into_iter()
            .map(log_file)
            .collect(),
        };
        let split = split_by_folder(dir);
        let labels: Vec<(String, usize)> =
            split.iter().map(|d| (d.label(), d.files.len())).collect();
        assert_eq!(
            labels,
            [
                ("HttpProxy".to_string(), 1),
                (r"HttpProxy\Ecp".to_string(), 2),
                (r"HttpProxy\Mapi".to_string(), 1)
            ]
        );
        assert_eq!(split[1].windows_path, r"C:\Exchange\Logging\HttpProxy\Ecp");
        let none = split_by_folder(LogDir {
            source: LogSource::HttpProxy {
                protocol: String::new(),
            },
            windows_path: r"C:\Exchange\Logging\HttpProxy".into(),
            consequence: "c",
            files: Vec::new(),
        });
        assert_eq!(none.len(), 1);
        assert_eq!(none[0].label(), "HttpProxy");
        // IIS sites likewise: the front end's W3SVC1 and the back end's W3SVC2.
        let iis = |site: &str| LogFile {
            source: LogSource::Iis,
            entry: std::sync::Arc::new(FileEntry {
                windows_path: format!(r"{IIS_LOG_DIR}\{site}\u_ex210303.log"),
                location: exsweep_evidence::Location::Local("/x".into()),
                size: 0,
                times: Default::default(),
            }),
        };
        let sites = split_by_folder(LogDir {
            source: LogSource::Iis,
            windows_path: IIS_LOG_DIR.into(),
            consequence: "c",
            files: vec![iis("W3SVC2"), iis("W3SVC1"), iis("w3svc1")],
        });
        let labels: Vec<(String, usize)> =
            sites.iter().map(|d| (d.label(), d.files.len())).collect();
        assert_eq!(
            labels,
            [("IIS W3SVC1".to_string(), 2), ("IIS W3SVC2".to_string(), 1)]
        );
    }

    #[test]
    fn archived_event_logs_belong_to_their_log() {
        assert!(is_event_log_file("Security.evtx", "Security.evtx"));
        assert!(is_event_log_file("SECURITY.EVTX", "Security.evtx"));
        assert!(is_event_log_file(
            "Archive-Security-2021-03-04-10-00-00-000.evtx",
            "Security.evtx"
        ));
        assert!(is_event_log_file(
            "Archive-MSExchange Management-2021-03-04-10-00-00-000.evtx",
            "MSExchange Management.evtx"
        ));
        assert!(!is_event_log_file(
            "Archive-SecurityX-2021.evtx",
            "Security.evtx"
        ));
        assert!(!is_event_log_file("Security.evtx.bak", "Security.evtx"));
    }
}
