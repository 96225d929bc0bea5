//! Parsers for the selected lines: Exchange's CSV logs (HttpProxy, ECP, Rps_Http),
//! IIS W3C logs, and free-text logs (OAB generator). Columns are mapped by name from
//! each file's own header, and dates are read from the formats, never the locale.

use std::collections::HashMap;
use std::time::SystemTime;

/// Reads `YYYY-MM-DD[T ]HH:MM:SS[.fff][Z]` (UTC) at the start of `s`.
pub fn parse_timestamp(s: &str) -> Option<SystemTime> {
    let b = s.trim_start_matches(['"', ' ']).as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b' ')
        || b[13] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    let date = chrono::NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let mut millis = 0;
    if b.len() > 20 && b[19] == b'.' {
        let digits: Vec<u8> = b[20..]
            .iter()
            .take_while(|d| d.is_ascii_digit())
            .take(3)
            .copied()
            .collect();
        let text = std::str::from_utf8(&digits).ok()?;
        millis = format!("{text:0<3}").parse().ok()?;
    }
    let time = date.and_hms_milli_opt(num(11..13)?, num(14..16)?, num(17..19)?, millis)?;
    Some(time.and_utc().into())
}

/// A logged URL path as checks compare it: percent-decoded (IIS keeps `%40` and `%20`
/// as the client sent them) and in lower case, so `/owa/x%40y/PowerShell` and
/// `/owa/x@y/powershell` are the same request. Bytes that decode to no text stay escaped.
pub fn url_path_key(stem: &str) -> String {
    percent_encoding::percent_decode_str(stem)
        .decode_utf8()
        .map(|decoded| decoded.to_lowercase())
        .unwrap_or_else(|_| stem.to_lowercase())
}

/// A logged query string as checks read it: `+` as the space it encodes, then
/// percent-decoded (invalid UTF-8 replaced) and in lower case, so `cmd=net+user` and
/// `cmd=net%20user` both read `cmd=net user`.
pub fn query_text(query: &str) -> String {
    percent_encoding::percent_decode_str(&query.replace('+', " "))
        .decode_utf8_lossy()
        .to_lowercase()
}

/// The spellings under which a URL path can stand in a log: as it is, and
/// percent-encoded as clients send names with spaces or other characters (lower case,
/// as the line selector compares).
pub fn logged_spellings(path: &str) -> Vec<String> {
    const KEPT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'.')
        .remove(b'-')
        .remove(b'_')
        .remove(b'~');
    let mut spellings = vec![path.to_lowercase()];
    let encoded = percent_encoding::utf8_percent_encode(path, KEPT)
        .to_string()
        .to_lowercase();
    if encoded != spellings[0] {
        spellings.push(encoded);
    }
    spellings
}

/// Splits one CSV record (RFC 4180: quotes, doubled quotes inside).
pub fn split_csv(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if field.is_empty() => quoted = true,
            (',', false) => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// A file's column names, looked up case-insensitively.
#[derive(Clone, Debug, Default)]
pub struct Columns {
    index: HashMap<String, usize>,
    count: usize,
}

/// The names of the time column a header of an Exchange CSV log starts with.
const TIME_COLUMNS: [&str; 4] = ["datetime", "timestamp", "date-time", "starttime"];

/// How each kind's bare CSV header starts (lower case, as the line selector
/// compares): what finds a header repeated mid-file.
pub fn csv_header_start(source: &crate::LogSource) -> Option<&'static str> {
    match source {
        crate::LogSource::HttpProxy { .. } => Some("datetime,requestid,"),
        crate::LogSource::EcpServer | crate::LogSource::EcpActivity => {
            Some("timestamp,servername,")
        }
        _ => None,
    }
}

impl Columns {
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Columns {
        let mut count = 0;
        let index = names
            .into_iter()
            .enumerate()
            .map(|(i, n)| {
                count = i + 1;
                (n.trim().trim_matches('"').to_ascii_lowercase(), i)
            })
            .collect();
        Columns { index, count }
    }

    /// Whether the file has a column of this (lower-case) name.
    pub fn has(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// How many columns the header names: a record with another count does not fit it.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Every column of `record` with its (lower-case) name, in no set order.
    pub fn named<'c, 'r>(&'c self, record: &'r [String]) -> Vec<(&'c str, &'r str)> {
        self.index
            .iter()
            .filter_map(|(name, &i)| record.get(i).map(|v| (name.as_str(), v.as_str())))
            .collect()
    }

    /// The value of the first of `names` that the file has, if the record has it.
    pub fn get<'r>(&self, record: &'r [String], names: &[&str]) -> Option<&'r str> {
        names
            .iter()
            .find_map(|n| self.index.get(*n))
            .and_then(|&i| record.get(i))
            .map(String::as_str)
            .filter(|v| !v.is_empty() && *v != "-")
    }
}

/// The columns of an Exchange CSV log's header line, as the server writes it
/// (`DateTime,RequestId,...`), as PowerShell's `Export-Csv` writes it
/// (`"DateTime","RequestId",...`), or after `#Fields:`; `None` when the line is a
/// record. A header is told from a record by its first field naming the time column.
pub fn csv_header(line: &str) -> Option<Columns> {
    let line = line.trim_start_matches('\u{feff}');
    let line = line.strip_prefix("#Fields:").unwrap_or(line).trim();
    // Every selected line of a CSV log comes here: only a line whose first field names
    // a time column is split whole (a time column's name holds no comma or quote).
    let first = line.split(',').next()?.trim().trim_matches('"');
    if !TIME_COLUMNS.iter().any(|t| first.eq_ignore_ascii_case(t)) {
        return None;
    }
    let names = split_csv(line);
    Some(Columns::new(names.iter().map(String::as_str)))
}

/// The HttpProxy header of Exchange 2016/2019, for files whose header was lost.
pub const HTTPPROXY_DEFAULT_FIELDS: &str = "DateTime,RequestId,MajorVersion,MinorVersion,BuildVersion,RevisionVersion,ClientRequestId,Protocol,UrlHost,UrlStem,ProtocolAction,AuthenticationType,IsAuthenticated,AuthenticatedUser,Organization,AnchorMailbox,UserAgent,ClientIpAddress,ServerHostName,HttpStatus,BackEndStatus,ErrorCode,Method,ProxyAction,TargetServer,TargetServerVersion,RoutingType,RoutingHint,BackEndCookie,ServerLocatorHost,ServerLocatorLatency,RequestBytes,ResponseBytes,TargetOutstandingRequests,AuthModulePerfContext,HttpPipelineLatency,CalculateTargetBackEndLatency,GlsLatencyBreakup,TotalGlsLatency,AccountForestLatencyBreakup,TotalAccountForestLatency,ResourceForestLatencyBreakup,TotalResourceForestLatency,ADLatency,SharedCacheLatencyBreakup,TotalSharedCacheLatency,ActivityContextLifeTime,ModuleToHandlerSwitchingLatency,ClientReqStreamLatency,BackendReqInitLatency,BackendReqStreamLatency,BackendProcessingLatency,BackendRespInitLatency,BackendRespStreamLatency,ClientRespStreamLatency,KerberosAuthHeaderLatency,HandlerCompletionLatency,RequestHandlerLatency,HandlerToModuleSwitchingLatency,ProxyTime,CoreLatency,RoutingLatency,HttpProxyOverhead,TotalRequestTime,RouteRefresherLatency,UrlQuery,BackEndGenericInfo,GenericInfo,GenericErrors,EdgeTraceId,DatabaseGuid,UserADObjectGuid,PartitionEndpointLookupLatency,RoutingStatus";

/// The HttpProxy header of Exchange 2013 (53 columns: no `UrlHost` or `RoutingType`,
/// fewer latencies), for files whose header was lost.
pub const HTTPPROXY_2013_FIELDS: &str = "DateTime,RequestId,MajorVersion,MinorVersion,BuildVersion,RevisionVersion,ClientRequestId,Protocol,UrlStem,ProtocolAction,AuthenticationType,IsAuthenticated,AuthenticatedUser,Organization,AnchorMailbox,UserAgent,ClientIpAddress,ServerHostName,HttpStatus,BackEndStatus,ErrorCode,Method,ProxyAction,TargetServer,TargetServerVersion,RoutingHint,BackEndCookie,ServerLocatorHost,ServerLocatorLatency,RequestBytes,ResponseBytes,TargetOutstandingRequests,AuthModulePerfContext,HttpPipelineLatency,CalculateTargetBackEndLatency,GlsLatencyBreakup,TotalGlsLatency,AccountForestLatencyBreakup,TotalAccountForestLatency,ResourceForestLatencyBreakup,TotalResourceForestLatency,ADLatency,ActivityContextLifeTime,ModuleToHandlerSwitching,FirstResponseByteReceived,ProxyTime,RequestHandlerLatency,HandlerToModuleSwitching,HttpProxyOverhead,TotalRequestTime,UrlQuery,GenericInfo,GenericErrors";

/// The ECP Server log's header, for files whose header was lost.
pub const ECP_SERVER_DEFAULT_FIELDS: &str = "TimeStamp,ServerName,EventId,EventData";

/// IIS's default W3C fields, for files whose `#Fields:` line was lost.
pub const IIS_DEFAULT_FIELDS: &str = "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken";

/// A log line reduced to what the checks read. Every field is optional: each log
/// kind fills what it has.
#[derive(Clone, Debug, Default)]
pub struct Fields {
    pub time: Option<SystemTime>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    pub method: Option<String>,
    pub url_stem: Option<String>,
    pub url_query: Option<String>,
    pub status: Option<String>,
    pub request_id: Option<String>,
    pub user: Option<String>,
    pub anchor_mailbox: Option<String>,
    pub routing_hint: Option<String>,
    pub backend_cookie: Option<String>,
    /// HttpProxy's `Protocol` column (`Ecp`, `Owa` ...).
    pub protocol: Option<String>,
    /// ECP Server's `EventData`, Rps_Http's `ClientInfo`, or a free-text line.
    pub text: Option<String>,
}

fn owned(v: Option<&str>) -> Option<String> {
    v.map(str::to_string)
}

/// Fields of an Exchange CSV log record (HttpProxy, ECP, Rps_Http), by column name.
pub fn exchange_csv(columns: &Columns, record: &[String]) -> Fields {
    let get = |names: &[&str]| owned(columns.get(record, names));
    Fields {
        time: columns.get(record, &TIME_COLUMNS).and_then(parse_timestamp),
        client_ip: get(&["clientipaddress", "clientip", "client-ip"]),
        user_agent: get(&["useragent"]),
        method: get(&["method"]),
        url_stem: get(&["urlstem"]),
        url_query: get(&["urlquery"]),
        status: get(&["httpstatus"]),
        request_id: get(&["requestid"]),
        user: get(&["authenticateduser"]),
        anchor_mailbox: get(&["anchormailbox"]),
        routing_hint: get(&["routinghint"]),
        backend_cookie: get(&["backendcookie"]),
        protocol: get(&["protocol"]),
        text: get(&["eventdata", "clientinfo"]),
    }
}

/// The W3C fields whose values are free text: a writer that did not encode their
/// spaces (IIS writes `+`) splits one value into several fields.
const W3C_FREE_TEXT: [&str; 3] = ["cs(user-agent)", "cs(referer)", "cs(cookie)"];

/// A W3C record with more fields than its header, laid out by the safe rule: the
/// fields before the first free-text column are read from the start, those after
/// the last from the end, and the surplus belongs to the free-text span between
/// them: joined into its first column when the others are empty (`-`), else, as
/// their split cannot be told, read as absent. No value lands in another column. A record without a free-text column, or a shorter one (a line cut
/// short), is read from the start.
pub fn fit_w3c(columns: &Columns, record: Vec<String>) -> Vec<String> {
    let wanted = columns.len();
    let free: Vec<usize> = W3C_FREE_TEXT
        .iter()
        .filter_map(|name| columns.index.get(*name).copied())
        .collect();
    let (Some(&first), Some(&last)) = (free.iter().min(), free.iter().max()) else {
        return record;
    };
    if record.len() <= wanted {
        return record;
    }
    let surplus = record.len() - wanted;
    let mut fitted: Vec<String> = record[..first].to_vec();
    let span = &record[first..=last + surplus];
    // The columns after the first of the span, when each is empty (`-`, as a missing
    // referer is), take one `-` from its end; the first takes the rest.
    let after = last - first;
    let all_free = (first..=last).all(|i| free.contains(&i));
    if all_free && span[span.len() - after..].iter().all(|v| v == "-") {
        fitted.push(span[..span.len() - after].join(" "));
        fitted.extend((0..after).map(|_| "-".to_string()));
    } else {
        fitted.extend((first..=last).map(|_| "-".to_string()));
    }
    fitted.extend_from_slice(&record[last + surplus + 1..]);
    fitted
}

/// Fields of an IIS W3C record (space-separated, `+` for spaces in values).
pub fn iis(columns: &Columns, record: &[String]) -> Fields {
    let get = |names: &[&str]| owned(columns.get(record, names));
    let time = match (
        columns.get(record, &["date"]),
        columns.get(record, &["time"]),
    ) {
        (Some(d), Some(t)) => parse_timestamp(&format!("{d} {t}")),
        _ => None,
    };
    let query = get(&["cs-uri-query"]);
    // Exchange appends `&cafeReqId=<guid>;` to the query: the HttpProxy RequestId.
    let request_id = query.as_deref().and_then(|q| {
        let lower = q.to_ascii_lowercase();
        let at = lower.find("cafereqid=")? + "cafereqid=".len();
        Some(q[at..].split([';', '&']).next()?.to_string()).filter(|id| !id.is_empty())
    });
    Fields {
        time,
        client_ip: get(&["c-ip"]),
        user_agent: get(&["cs(user-agent)"]).map(|ua| ua.replace('+', " ")),
        method: get(&["cs-method"]),
        url_stem: get(&["cs-uri-stem"]),
        url_query: query,
        status: get(&["sc-status"]),
        request_id,
        user: get(&["cs-username"]),
        ..Fields::default()
    }
}

/// Fields of a free-text line: its leading timestamp, if any, and the text.
pub fn free_text(line: &str) -> Fields {
    Fields {
        time: parse_timestamp(line),
        text: Some(line.to_string()),
        ..Fields::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exsweep_model::rfc3339;

    #[test]
    fn timestamps_in_every_log_format() {
        let t = |s| parse_timestamp(s).map(rfc3339);
        assert_eq!(
            t("2021-03-03T02:50:12.345Z,abc").as_deref(),
            Some("2021-03-03T02:50:12.345Z")
        );
        assert_eq!(
            t("2021-03-03 02:50:12 10.0.0.1").as_deref(),
            Some("2021-03-03T02:50:12Z")
        );
        assert_eq!(t("03/03/2021 02:50:12"), None);
        assert_eq!(t("2021-13-03T02:50:12Z"), None);
        assert_eq!(t("garbage"), None);
    }

    #[test]
    fn csv_headers_as_servers_and_export_csv_write_them() {
        let plain = csv_header("DateTime,RequestId,UrlStem").unwrap();
        let quoted = csv_header(r#""DateTime","RequestId","UrlStem""#).unwrap();
        let fields = csv_header("#Fields: date-time,RequestId").unwrap();
        let bom = csv_header("\u{feff}\"DateTime\",\"UrlStem\"").unwrap();
        let record: Vec<String> = split_csv(r#""2021-03-03T02:50:12.000Z","r1","/ecp/y.js""#);
        for cols in [&plain, &quoted] {
            assert_eq!(cols.len(), 3);
            assert_eq!(
                exchange_csv(cols, &record).url_stem.as_deref(),
                Some("/ecp/y.js")
            );
            assert!(exchange_csv(cols, &record).time.is_some());
        }
        assert_eq!(fields.len(), 2);
        assert_eq!(bom.len(), 2);
        // Records, quoted or not, are no headers.
        assert!(csv_header(r#""2021-03-03T02:50:12.000Z","r1""#).is_none());
        assert!(csv_header("2021-03-03T02:50:12.000Z,r1").is_none());
        assert!(csv_header("").is_none());
    }

    #[test]
    fn longer_w3c_records_are_realigned_around_their_free_text() {
        let columns = Columns::new(IIS_DEFAULT_FIELDS.split(' '));
        let line = |l: &str| l.split(' ').map(str::to_string).collect::<Vec<_>>();
        // A user agent with raw spaces: everything after it stays in place.
        let record = line("2021-03-03 02:50:12 10.0.0.5 POST /aspnet_client/x.aspx - 443 - 203.0.113.9 python requests/2.25 - 200 0 0 15");
        let fields = iis(&columns, &fit_w3c(&columns, record));
        assert_eq!(fields.status.as_deref(), Some("200"));
        assert_eq!(fields.user_agent.as_deref(), Some("python requests/2.25"));
        assert_eq!(fields.client_ip.as_deref(), Some("203.0.113.9"));
        // Two free-text columns share the surplus: neither is guessed, the rest holds.
        let both = Columns::new(
            "date time cs-method cs-uri-stem cs(User-Agent) cs(Referer) sc-status".split(' '),
        );
        let fields = iis(
            &both,
            &fit_w3c(&both, line("2021-03-03 02:50:12 GET /owa/ a b c 302")),
        );
        assert_eq!(fields.status.as_deref(), Some("302"));
        assert_eq!(fields.user_agent, None);
        let fields = iis(
            &both,
            &fit_w3c(&both, line("2021-03-03 02:50:12 GET /owa/ a b - 302")),
        );
        assert_eq!(fields.user_agent.as_deref(), Some("a b"));
        assert_eq!(fields.status.as_deref(), Some("302"));
        // A line cut short is read from its start.
        let cut = line("2021-03-03 02:50:12 10.0.0.5 GET /owa/");
        assert_eq!(fit_w3c(&columns, cut.clone()), cut);
    }

    #[test]
    fn urls_compare_decoded_and_reach_their_encoded_spellings() {
        assert_eq!(
            url_path_key("/owa/MasterMailbox%40corp.example/PowerShell"),
            "/owa/mastermailbox@corp.example/powershell"
        );
        assert_eq!(
            url_path_key("/aspnet_client/disc%20over.aspx"),
            "/aspnet_client/disc over.aspx"
        );
        // Not UTF-8 once decoded: compared as logged.
        assert_eq!(url_path_key("/x%FF.aspx"), "/x%ff.aspx");
        assert_eq!(
            logged_spellings("/aspnet_client/Disc Over.aspx"),
            [
                "/aspnet_client/disc over.aspx",
                "/aspnet_client/disc%20over.aspx"
            ]
        );
        assert_eq!(logged_spellings("/owa/auth/x.aspx"), ["/owa/auth/x.aspx"]);
    }

    #[test]
    fn csv_quotes() {
        assert_eq!(
            split_csv(r#"a,"b,c","say ""x""",,e"#),
            vec!["a", "b,c", r#"say "x""#, "", "e"]
        );
    }

    #[test]
    fn columns_by_name_and_cafe_request_id() {
        let cols = Columns::new(IIS_DEFAULT_FIELDS.split(' '));
        let rec: Vec<String> = "2021-03-03 02:50:12 10.0.0.5 POST /owa/auth/Current/themes/resources/logon.css &CorrelationID=<empty>;&cafeReqId=0c5a-11; 443 - 203.0.113.9 python-requests/2.25.1 - 200 0 0 12"
            .split(' ')
            .map(str::to_string)
            .collect();
        let f = iis(&cols, &rec);
        assert_eq!(f.method.as_deref(), Some("POST"));
        assert_eq!(f.request_id.as_deref(), Some("0c5a-11"));
        assert_eq!(f.user_agent.as_deref(), Some("python-requests/2.25.1"));
        assert!(f.time.is_some());
    }
}
