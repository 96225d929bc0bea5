//! One text log file's part of the hunt: the header in force (`#Fields:` lines, a bare
//! CSV header as Exchange or PowerShell's `Export-Csv` writes it, else the kind's
//! default layout, said in a warning), each selected line parsed by it (records that do
//! not fit the header counted and warned about), the `--since`/`--until` window, the
//! log checks, requests to known shells, and the `--follow` trail.

use super::cap::EarliestKept;
use super::correlation::{self, LogOf, Place};
use super::options::HuntOptions;
use super::SigmaRun;
use super::MAX_TRAIL;
use crate::checks::logs::{self, LogContext};
use crate::correlate::ShellUrl;
use crate::inventory::LogFile;
use exsweep_logs::lines::LineSink;
use exsweep_logs::parse::{self, Columns, Fields};
use exsweep_logs::LogSource;
use exsweep_model::{
    excerpt, Entities, Evidence, Finding, LocalPath, LogCoverage, LogLine, Text, TrailEntry,
};

/// What one file gave.
pub struct FileRead {
    pub findings: Vec<Finding>,
    /// The `--follow` entries, the earliest of them if there were more than the cap.
    pub trail: EarliestKept<TrailEntry>,
    /// The lines that failed to parse and the span of times; the caller adds the
    /// file, byte and line counts the selection made.
    pub coverage: LogCoverage,
    pub warnings: Vec<String>,
}

/// The per-file state of the hunt: the header in force and what was found.
pub struct FileHunt<'a> {
    file: &'a LogFile,
    local: LocalPath,
    columns: Option<Columns>,
    /// Records whose field count is not the header's.
    misfits: u64,
    ctx: &'a LogContext<'a>,
    shells: &'a [ShellUrl],
    options: &'a HuntOptions,
    /// The `--sigma` rules, when they take lines of this file's kind.
    sigma: Option<SigmaRun<'a>>,
    /// This file as the correlation inputs name it, once one is kept.
    log_of: Option<std::sync::Arc<LogOf>>,
    read: FileRead,
}

impl<'a> FileHunt<'a> {
    pub fn new(
        file: &'a LogFile,
        local: LocalPath,
        ctx: &'a LogContext<'a>,
        shells: &'a [ShellUrl],
        options: &'a HuntOptions,
        sigma: Option<SigmaRun<'a>>,
    ) -> FileHunt<'a> {
        FileHunt {
            file,
            local,
            columns: None,
            misfits: 0,
            ctx,
            shells,
            options,
            sigma: sigma.filter(|s| s.rules.reads_text(file.source.name())),
            log_of: None,
            read: FileRead {
                findings: Vec::new(),
                trail: EarliestKept::new(MAX_TRAIL),
                coverage: LogCoverage::default(),
                warnings: Vec::new(),
            },
        }
    }

    pub fn finish(mut self) -> FileRead {
        if self.misfits > 0 {
            let expected = self.columns.as_ref().map_or(0, Columns::len);
            self.read.warnings.push(format!(
                "{}: {} record(s) with another number of fields than the header's {expected}: \
                 longer IIS records were re-aligned around their free-text fields (user agent, referer), \
                 others read from their start as lines cut short",
                self.file.entry.windows_path, self.misfits
            ));
        }
        self.read
    }

    /// The kind's default layout, for a file whose first record comes before any
    /// header: by that record's field count where the versions differ.
    fn default_columns(&mut self, first_record: &[String]) -> Columns {
        let (columns, layout) = self.file.source.default_columns(first_record.len());
        self.read.warnings.push(if columns.is_empty() {
            format!(
                "{}: no header line before the first record, and {} logs have no default layout: its records could not be read",
                self.file.entry.windows_path,
                self.file.source.name()
            )
        } else {
            format!(
                "{}: no header line before the first record; read with the default {} layout of {layout} ({} columns)",
                self.file.entry.windows_path,
                self.file.source.name(),
                columns.len()
            )
        });
        columns
    }

    /// The fields of a line, whether it read as a record of this log (a readable
    /// time), and its values as the header orders them; `None` when the file's layout
    /// is unknown.
    fn parse(&mut self, text: &str) -> Option<(Fields, bool, Vec<String>)> {
        let file = self.file;
        let source = &file.source;
        if source == &LogSource::OabGenerator {
            return Some((parse::free_text(text), true, Vec::new()));
        }
        let record: Vec<String> = if source.is_w3c() {
            text.split(' ').map(str::to_string).collect()
        } else {
            parse::split_csv(text)
        };
        if self.columns.is_none() {
            self.columns = Some(self.default_columns(&record));
        }
        let columns = self.columns.as_ref().expect("set above");
        if columns.is_empty() {
            return None;
        }
        let record = if record.len() == columns.len() {
            record
        } else {
            self.misfits += 1;
            if source.is_w3c() {
                parse::fit_w3c(columns, record)
            } else {
                record
            }
        };
        let mut fields = if source.is_w3c() {
            parse::iis(columns, &record)
        } else {
            parse::exchange_csv(columns, &record)
        };
        if matches!(source, LogSource::EcpServer | LogSource::EcpActivity) && fields.text.is_none()
        {
            fields.text = Some(text.to_string());
        }
        let is_record = fields.time.is_some();
        Some((fields, is_record, record))
    }

    fn line_evidence(&self, fields: &Fields, number: u64, text: &str) -> (LogLine, Entities) {
        let line = LogLine {
            source: Text::Borrowed(self.file.source.name()),
            windows_path: self.file.entry.windows_path.clone(),
            local: self.local.clone(),
            line: number,
            time: fields.time,
            method: fields.method.clone(),
            status: fields.status.clone(),
            excerpt: excerpt(text),
        };
        let entities = Entities {
            client_ip: fields.client_ip.clone(),
            user: fields.user.clone(),
            user_agent: fields.user_agent.clone(),
            url: fields.url_stem.as_ref().map(|s| match &fields.url_query {
                Some(q) => format!("{s}?{q}"),
                None => s.clone(),
            }),
            request_id: fields.request_id.clone(),
            ..Entities::default()
        };
        (line, entities)
    }

    fn follows(&self, fields: &Fields, text: &str) -> bool {
        self.options.follow.as_deref().is_some_and(|needle| {
            fields
                .request_id
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case(needle))
                || fields.client_ip.as_deref() == Some(needle)
                || text
                    .to_ascii_lowercase()
                    .contains(&needle.to_ascii_lowercase())
        })
    }
}

impl LineSink for FileHunt<'_> {
    fn line(&mut self, line: &[u8], number: u64) {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_start_matches('\u{feff}');
        if text.is_empty() {
            return;
        }
        if let Some(header) = text.strip_prefix('#') {
            if let Some(fields) = header.strip_prefix("Fields:") {
                self.columns = Some(if self.file.source.is_w3c() {
                    Columns::new(fields.trim().split(' '))
                } else {
                    let names = parse::split_csv(fields.trim());
                    Columns::new(names.iter().map(String::as_str))
                });
            }
            return;
        }
        if self.file.source.is_csv() {
            if let Some(columns) = parse::csv_header(text) {
                self.columns = Some(columns);
                return;
            }
        }
        let (fields, is_record, record) = self
            .parse(text)
            .unwrap_or_else(|| (Fields::default(), false, Vec::new()));
        if is_record {
            self.read.coverage.parsed += 1;
            self.read.coverage.saw(fields.time);
        } else {
            self.read.coverage.parse_failures += 1;
            if !self.file.source.checks_lines_without_time() {
                return;
            }
        }
        if self.options.outside_window(fields.time) {
            return;
        }
        let mut hits = Vec::new();
        logs::check_line(&self.file.source, &fields, text, self.ctx, &mut hits);
        // A line of a file without a header has no columns to name: no rule is asked.
        let sigma = match (self.sigma, &self.columns) {
            (Some(s), Some(columns)) => {
                let passes = s.rules.line_passes(self.file.source.name(), text);
                passes.any().then_some((s, columns, passes))
            }
            _ => None,
        };
        if let Some((sigma, columns, passes)) = sigma {
            let named = columns.named(&record);
            let found = sigma
                .rules
                .evaluate_text(self.file.source.name(), text, &named, passes);
            hits.extend(found.hits.iter().map(crate::checks::sigma::sigma_hit));
            correlation::feed(
                sigma.fed,
                found.correlation,
                fields.time,
                &mut self.log_of,
                || LogOf {
                    source: Text::Borrowed(self.file.source.name()),
                    windows_path: self.file.entry.windows_path.clone(),
                    local: self.local.clone(),
                },
                || Place::Line(number),
            );
        }
        let stem = parse::url_path_key(fields.url_stem.as_deref().unwrap_or(""));
        let shell = self.shells.iter().find(|s| s.url == stem);
        let follow = self.follows(&fields, text);
        if hits.is_empty() && shell.is_none() && !follow {
            return;
        }
        let (line, entities) = self.line_evidence(&fields, number, text);
        if follow {
            self.read.trail.add_entry(TrailEntry {
                line: line.clone(),
                entities: entities.clone(),
            });
        }
        for hit in hits {
            let finding = Finding::new(hit, Evidence::LogLine(line.clone()), entities.clone());
            self.read.findings.push(finding);
        }
        if let Some(shell) = shell {
            // Folded into one finding per shell by `correlate::aggregate_shell_access`.
            let entities = Entities {
                windows_path: Some(shell.windows_path.clone()),
                ..entities
            };
            let hit = logs::SHELL_ACCESS.hit(String::new());
            self.read
                .findings
                .push(Finding::new(hit, Evidence::LogLine(line), entities));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exsweep_evidence::{FileEntry, Location};

    fn hunt_lines(source: LogSource, lines: &[&str], options: &HuntOptions) -> FileRead {
        let file = LogFile {
            source,
            entry: std::sync::Arc::new(FileEntry {
                windows_path: r"C:\logs\x.log".into(),
                location: Location::Local("/x.log".into()),
                size: 0,
                times: Default::default(),
            }),
        };
        let ctx = crate::checks::logs::test_context();
        let shells = [ShellUrl {
            url: "/aspnet_client/x.aspx".into(),
            windows_path: r"C:\inetpub\wwwroot\aspnet_client\x.aspx".into(),
        }];
        let mut hunt = FileHunt::new(
            &file,
            LocalPath::file(b"/x.log"),
            &ctx,
            &shells,
            options,
            None,
        );
        for (i, line) in lines.iter().enumerate() {
            hunt.line(line.as_bytes(), i as u64 + 1);
        }
        hunt.finish()
    }

    #[test]
    fn w3c_header_changes_mid_file_and_shell_requests_name_the_shell() {
        let read = hunt_lines(
            LogSource::Iis,
            &[
                "#Fields: date time cs-method cs-uri-stem c-ip sc-status",
                "2021-03-03 10:00:00 POST /aspnet_client/x.aspx 192.0.2.1 200",
                "#Fields: date time c-ip cs-method cs-uri-stem sc-status",
                "2021-03-03 11:00:00 192.0.2.2 GET /aspnet_client/X.aspx 200",
                "garbage that is no record",
            ],
            &HuntOptions::default(),
        );
        let shell: Vec<&Finding> = read
            .findings
            .iter()
            .filter(|f| f.check_id == logs::SHELL_ACCESS.id)
            .collect();
        assert_eq!(shell.len(), 2);
        assert_eq!(shell[1].entities.client_ip.as_deref(), Some("192.0.2.2"));
        assert_eq!(
            shell[0].entities.windows_path.as_deref(),
            Some(r"C:\inetpub\wwwroot\aspnet_client\x.aspx")
        );
        assert_eq!(read.coverage.parse_failures, 1);
        assert!(read.coverage.first < read.coverage.last);
    }

    #[test]
    fn bare_csv_header_window_and_follow() {
        let options = HuntOptions {
            since: exsweep_logs::parse::parse_timestamp("2021-03-03T00:00:00Z"),
            follow: Some("203.0.113.9".into()),
            ..HuntOptions::default()
        };
        let read = hunt_lines(
            LogSource::HttpProxy {
                protocol: "Ecp".into(),
            },
            &[
                "DateTime,RequestId,UrlStem,AnchorMailbox,ClientIpAddress,HttpStatus",
                "2021-03-02T10:00:00.000Z,r1,/ecp/y.js,ServerInfo~a]@x:444/ecp/z#,203.0.113.9,200",
                "2021-03-03T10:00:00.000Z,r2,/ecp/y.js,ServerInfo~a]@x:444/ecp/z#,203.0.113.9,200",
            ],
            &options,
        );
        // The first line is before --since: counted in the times, not checked.
        let lines: Vec<u64> = read
            .findings
            .iter()
            .filter_map(|f| match &f.evidence {
                Evidence::LogLine(l) => Some(l.line),
                _ => None,
            })
            .collect();
        assert!(
            !lines.is_empty() && lines.iter().all(|l| *l == 3),
            "{lines:?}"
        );
        let trail = read.trail.into_sorted();
        assert_eq!(trail.len(), 1);
        assert_eq!(trail[0].entities.request_id.as_deref(), Some("r2"));
        assert_eq!(read.coverage.parse_failures, 0);
    }

    #[test]
    fn a_headerless_file_gets_the_layout_of_its_field_count() {
        // An Exchange 2013 row (53 columns, no UrlHost): AnchorMailbox is the 15th.
        let mut row2013 = vec![String::new(); 53];
        row2013[0] = "2021-03-03T02:50:12.000Z".into();
        row2013[14] = "ServerInfo~a]@exch01:444/ecp/y.js#".into();
        row2013[18] = "200".into();
        // The same request in the 74 columns of 2016/2019: AnchorMailbox is the 16th.
        let mut row2019 = vec![String::new(); 74];
        row2019[0] = "2021-03-03T02:50:12.000Z".into();
        row2019[15] = "ServerInfo~a]@exch01:444/ecp/y.js#".into();
        row2019[19] = "200".into();
        for (row, layout) in [
            (row2013, "Exchange 2013 (53"),
            (row2019, "Exchange 2016/2019 (74"),
        ] {
            let line = row.join(",");
            let read = hunt_lines(
                LogSource::HttpProxy {
                    protocol: "Ecp".into(),
                },
                &[line.as_str()],
                &HuntOptions::default(),
            );
            let ssrf: Vec<&Finding> = read
                .findings
                .iter()
                .filter(|f| f.check_id == "EXS-LOG-001")
                .collect();
            assert_eq!(ssrf.len(), 1, "{layout}");
            assert_eq!(
                ssrf[0].severity,
                exsweep_model::Severity::Critical,
                "{layout}"
            );
            assert!(
                read.warnings.iter().any(|w| w.contains(layout)),
                "{:?}",
                read.warnings
            );
        }
    }
}
