//! Reading logs: streaming line selection ([`lines`], [`segments`]), the W3C and CSV
//! record parsers ([`parse`]) and event-log records ([`evtx`]), and the kinds of log
//! ([`LogSource`], [`Channel`]). What the lines mean is the checks' business; which
//! files to read, the inventory's.

pub mod evtx;
pub mod lines;
pub mod parse;
pub mod segments;

use parse::Columns;

/// The kinds of text log exsweep reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogSource {
    /// `Logging\HttpProxy\<protocol>\`.
    HttpProxy {
        protocol: String,
    },
    EcpServer,
    EcpActivity,
    OabGenerator,
    RpsHttp,
    Iis,
}

impl LogSource {
    pub fn name(&self) -> &'static str {
        match self {
            LogSource::HttpProxy { .. } => "HttpProxy",
            LogSource::EcpServer => "ECP Server",
            LogSource::EcpActivity => "ECP Activity",
            LogSource::OabGenerator => "OAB Generator",
            LogSource::RpsHttp => "Rps_Http",
            LogSource::Iis => "IIS",
        }
    }

    pub fn is_w3c(&self) -> bool {
        matches!(self, LogSource::Iis)
    }

    pub fn is_csv(&self) -> bool {
        !matches!(self, LogSource::Iis | LogSource::OabGenerator)
    }

    /// True for the logs Test-ProxyLogon reads without regard to a line's time
    /// (HttpProxy rows by column name, ECP and OAB generator lines as raw text): a line
    /// there is checked even when it does not read as a record.
    pub fn checks_lines_without_time(&self) -> bool {
        matches!(
            self,
            LogSource::HttpProxy { .. }
                | LogSource::EcpServer
                | LogSource::EcpActivity
                | LogSource::OabGenerator
        )
    }

    /// The layout of a file whose header was lost, chosen by its first record's field
    /// count where the versions differ (HttpProxy: Exchange 2013's 53 columns, else
    /// 2016/2019's 74), with the name of the layout for the coverage; no columns for a
    /// kind with no default.
    pub fn default_columns(&self, fields: usize) -> (Columns, &'static str) {
        match self {
            LogSource::HttpProxy { .. }
                if fields == parse::HTTPPROXY_2013_FIELDS.split(',').count() =>
            {
                (
                    Columns::new(parse::HTTPPROXY_2013_FIELDS.split(',')),
                    "Exchange 2013",
                )
            }
            LogSource::HttpProxy { .. } => (
                Columns::new(parse::HTTPPROXY_DEFAULT_FIELDS.split(',')),
                "Exchange 2016/2019",
            ),
            LogSource::EcpServer => (
                Columns::new(parse::ECP_SERVER_DEFAULT_FIELDS.split(',')),
                "Exchange 2013-2019",
            ),
            LogSource::Iis => (
                Columns::new(parse::IIS_DEFAULT_FIELDS.split(' ')),
                "IIS 7-10",
            ),
            _ => (Columns::default(), ""),
        }
    }
}

/// The Windows event logs exsweep reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Application,
    ExchangeManagement,
    Security,
    System,
    Sysmon,
    Defender,
}

impl Channel {
    /// The channel of an event log by the name its records carry (`System/Channel`).
    pub fn from_log_name(name: &str) -> Option<Channel> {
        const NAMES: [(&str, Channel); 6] = [
            ("Application", Channel::Application),
            ("MSExchange Management", Channel::ExchangeManagement),
            ("Security", Channel::Security),
            ("System", Channel::System),
            ("Microsoft-Windows-Sysmon/Operational", Channel::Sysmon),
            (
                "Microsoft-Windows-Windows Defender/Operational",
                Channel::Defender,
            ),
        ];
        NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))
            .map(|(_, c)| *c)
    }

    pub fn name(self) -> &'static str {
        match self {
            Channel::Application => "EVTX Application",
            Channel::ExchangeManagement => "EVTX MSExchange Management",
            Channel::Security => "EVTX Security",
            Channel::System => "EVTX System",
            Channel::Sysmon => "EVTX Sysmon",
            Channel::Defender => "EVTX Defender",
        }
    }
}
