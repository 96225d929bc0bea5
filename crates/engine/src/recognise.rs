//! What a loose file is, told from its content as Hayabusa and Chainsaw take any
//! folder: an EVTX by its magic and the channel its records name, a text log by its
//! header lines (IIS's `#Software:` and W3C `#Fields:`, Exchange's `#Log-type:`), by
//! the columns of a CSV header (`AnchorMailbox` is HttpProxy, `EventData` ECP,
//! `ClientInfo` Rps_Http), or by the shape of its rows when the header was lost.
//! Each answer says what gave it away, for the coverage.

use crate::hunt::MAX_EVTX_IN_MEMORY;
use exsweep_evidence::{Evidence, FileEntry};
use exsweep_logs::parse::csv_header;
use exsweep_logs::{evtx, Channel, LogSource};

/// How much of a file's start is read to tell what it is.
const HEAD: u64 = 64 << 10;
/// The HttpProxy protocol folders, by which a loose file's parent folder names its
/// protocol.
const PROTOCOLS: [&str; 12] = [
    "Autodiscover",
    "Eas",
    "Ecp",
    "Ews",
    "Mapi",
    "Oab",
    "Owa",
    "OwaCalendar",
    "PowerShell",
    "RpcHttp",
    "RestApi",
    "PushNotifications",
];

/// What a loose file was taken for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Text(LogSource),
    Events(Channel),
    /// An event log no built-in check reads (PowerShell, Task Scheduler ...), by the
    /// channel its records name: read for `--sigma` rules.
    OtherEvents(String),
}

/// What a file was taken for (`None`: not a log exsweep reads), and why.
pub struct Recognition {
    pub kind: Option<Kind>,
    pub by: String,
}

fn found(kind: Kind, by: impl Into<String>) -> Recognition {
    Recognition {
        kind: Some(kind),
        by: by.into(),
    }
}

fn not_read(by: impl Into<String>) -> Recognition {
    Recognition {
        kind: None,
        by: by.into(),
    }
}

/// Tells what a loose file is.
pub fn recognise(evidence: &Evidence, file: &FileEntry) -> Recognition {
    let mut head = Vec::new();
    if let Err(e) = evidence.read(file, HEAD, &mut head) {
        return not_read(format!("unreadable: {e}"));
    }
    if head.starts_with(b"ElfFile\0") {
        return recognise_evtx(evidence, file);
    }
    let protocol = parent_folder(&file.windows_path)
        .and_then(|dir| PROTOCOLS.iter().find(|p| p.eq_ignore_ascii_case(dir)))
        .map_or("", |p| *p);
    recognise_text(&head, protocol)
}

fn parent_folder(path: &str) -> Option<&str> {
    let (dir, _) = path.rsplit_once('\\')?;
    Some(dir.rsplit('\\').next().unwrap_or(dir))
}

fn recognise_evtx(evidence: &Evidence, file: &FileEntry) -> Recognition {
    let reader = match evidence.open_seekable(file, MAX_EVTX_IN_MEMORY) {
        Ok(r) => r,
        Err(e) => return not_read(format!("an EVTX file, unreadable: {e}")),
    };
    match evtx::first_channel(reader) {
        Some(name) => match Channel::from_log_name(&name) {
            Some(channel) => found(
                Kind::Events(channel),
                format!("EVTX whose records name the {name} log"),
            ),
            None => found(
                Kind::OtherEvents(name.clone()),
                format!(
                    "EVTX whose records name the {} log (no built-in checks: read by --sigma rules)",
                    exsweep_model::printable(name.as_bytes())
                ),
            ),
        },
        None => not_read("EVTX magic, but no readable record names its log"),
    }
}

/// Tells a text log from its first lines; `protocol` is the HttpProxy protocol its
/// folder names, if any.
pub fn recognise_text(head: &[u8], protocol: &str) -> Recognition {
    let sample = &head[..head.len().min(4096)];
    if sample.starts_with(&[0xff, 0xfe]) || sample.starts_with(&[0xfe, 0xff]) {
        return not_read("UTF-16 text: convert it to UTF-8 to have it read");
    }
    if sample.contains(&0) {
        return not_read("binary data, not a text log");
    }
    let http_proxy = || {
        Kind::Text(LogSource::HttpProxy {
            protocol: protocol.to_string(),
        })
    };
    let text = String::from_utf8_lossy(head);
    let lines = text
        .lines()
        .map(|l| l.trim_start_matches('\u{feff}').trim_end())
        .filter(|l| !l.is_empty())
        .take(64);
    for line in lines {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("#software: microsoft internet information services") {
            return found(Kind::Text(LogSource::Iis), "its IIS #Software: line");
        }
        if let Some(kind) = lower.strip_prefix("#log-type:").map(str::trim) {
            let source = match kind {
                k if k.starts_with("httpproxy") => Some(http_proxy()),
                k if k.starts_with("ecp server") => Some(Kind::Text(LogSource::EcpServer)),
                k if k.starts_with("ecp activity") => Some(Kind::Text(LogSource::EcpActivity)),
                k if k.starts_with("rps http") => Some(Kind::Text(LogSource::RpsHttp)),
                k if k.starts_with("oab") => Some(Kind::Text(LogSource::OabGenerator)),
                _ => None,
            };
            if let Some(source) = source {
                return found(
                    source,
                    format!("its #Log-type: line ({})", line[10..].trim()),
                );
            }
        }
        if let Some(fields) = lower.strip_prefix("#fields:") {
            if fields.contains("cs-uri-stem") || fields.contains("cs-method") {
                return found(Kind::Text(LogSource::Iis), "its W3C #Fields: line");
            }
        }
        if line.starts_with('#') {
            continue;
        }
        if let Some(columns) = csv_header(line) {
            let has = |name: &str| columns.has(name);
            let source = if has("anchormailbox") || has("routinghint") {
                Some(http_proxy())
            } else if has("eventdata") {
                Some(Kind::Text(LogSource::EcpServer))
            } else if has("clientinfo") {
                Some(Kind::Text(LogSource::RpsHttp))
            } else {
                None
            };
            if let Some(source) = source {
                return found(source, "the columns of its CSV header");
            }
            continue;
        }
        if lower.contains("download failed and temporary file") || lower.contains("oabgenerator") {
            return found(
                Kind::Text(LogSource::OabGenerator),
                "OAB generator messages",
            );
        }
        if let Some(shape) = headerless_shape(line, http_proxy()) {
            return shape;
        }
    }
    not_read("no header or rows of a log exsweep reads")
}

/// A record whose header was lost, by its shape: ECP's `ECP.Request` events and
/// `S:KEY=value` data, HttpProxy's dozens of CSV columns after an ISO time, or IIS's
/// space-separated fields after a date and time.
fn headerless_shape(line: &str, http_proxy: Kind) -> Option<Recognition> {
    let bytes = line.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .is_some_and(|b| b.iter().all(u8::is_ascii_digit))
    };
    let dated = digits(0..4) && bytes.get(4) == Some(&b'-') && digits(5..7) && digits(8..10);
    if !dated {
        return None;
    }
    match bytes.get(10) {
        Some(b'T') if line.contains(",ECP.") || line.contains("S:CMD=") => Some(found(
            Kind::Text(LogSource::EcpServer),
            "its rows: ECP Server events, with no header (read with the default layout)",
        )),
        Some(b'T') if line.matches(',').count() >= 40 => Some(found(
            http_proxy,
            "its rows: HttpProxy's columns, with no header (read with the default layout)",
        )),
        Some(b' ') if line.split(' ').count() >= 10 => Some(found(
            Kind::Text(LogSource::Iis),
            "its rows: IIS's fields, with no header (read with the default layout)",
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(head: &str, protocol: &str) -> Option<Kind> {
        recognise_text(head.as_bytes(), protocol).kind
    }

    #[test]
    fn text_logs_are_told_by_their_headers_and_rows() {
        let proxy = |p: &str| Some(Kind::Text(LogSource::HttpProxy { protocol: p.into() }));
        assert_eq!(
            kind(
                "#Software: Microsoft Internet Information Services 10.0\n",
                ""
            ),
            Some(Kind::Text(LogSource::Iis))
        );
        assert_eq!(
            kind("#Fields: date time cs-method cs-uri-stem\n", ""),
            Some(Kind::Text(LogSource::Iis))
        );
        assert_eq!(
            kind(
                "#Software: Microsoft Exchange Server\n#Log-type: HttpProxy Logs\n",
                "Ecp"
            ),
            proxy("Ecp")
        );
        // Test-ProxyLogon's own CSV, as Export-Csv writes it.
        assert_eq!(
            kind(
                "#TYPE System.Management.Automation.PSCustomObject\n\"DateTime\",\"RequestId\",\"AnchorMailbox\"\n",
                ""
            ),
            proxy("")
        );
        assert_eq!(
            kind("\u{feff}TimeStamp,ServerName,EventId,EventData\n", ""),
            Some(Kind::Text(LogSource::EcpServer))
        );
        assert_eq!(
            kind("DateTime,StartTime,RequestId,ClientInfo\n", ""),
            Some(Kind::Text(LogSource::RpsHttp))
        );
        let headerless = format!("2021-03-03T02:50:12.000Z{}\n", ",x".repeat(73));
        assert_eq!(kind(&headerless, "Owa"), proxy("Owa"));
        assert_eq!(
            kind(
                "2021-03-03 02:50:12 10.0.0.5 GET /owa/ - 443 - 10.0.0.9 Mozilla - 200 0 0 15\n",
                ""
            ),
            Some(Kind::Text(LogSource::Iis))
        );
        assert_eq!(
            kind(
                "2021-03-03T02:50:00.000Z,EXCH01,ECP.Request,\"S:TIME=1;S:CMD=Get-Mailbox\"\n",
                ""
            ),
            Some(Kind::Text(LogSource::EcpServer))
        );
        assert_eq!(
            kind("2021-03-03T02:50:12.000Z Download failed and temporary file 'x' needs to be removed\n", ""),
            Some(Kind::Text(LogSource::OabGenerator))
        );
        for other in ["hello world\n", "", "a,b,c\n", "DateTime,Foo\n"] {
            assert_eq!(kind(other, ""), None, "{other:?}");
        }
        assert_eq!(recognise_text(b"\xff\xfeD\0a\0", "").kind, None);
        assert!(recognise_text(b"\0\0\0\x01", "").by.contains("binary"));
    }
}
