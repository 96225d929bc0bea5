//! What to probe: `host`, `host:port`, a URL, a CIDR range, or lines of a file, each
//! made into [`Target`]s lazily, so a `/16` costs no memory up front.
//!
//! A target without a scheme is HTTPS on 443 (where OWA lives), except port 80,
//! which is HTTP. A URL is probed as given, plain `http://` included: a responder
//! who names a port and a scheme means that service.

use ipnet::IpNet;
use std::fmt;
use std::net::IpAddr;

/// The largest range one argument may expand to: a `/16` of IPv4. A typo such as
/// `10.0.0.0/8` would otherwise start sixteen million probes.
pub const MAX_RANGE: u64 = 1 << 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// One server to probe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub scheme: Scheme,
    /// A name or an IP address (IPv6 without brackets).
    pub host: String,
    pub port: u16,
    /// The path Exchange's virtual directories hang under: empty, or `/prefix`
    /// without a trailing slash, for a server published below a path.
    pub base: String,
}

impl Target {
    /// `https://host:port` with brackets around IPv6, and the base path.
    pub fn origin(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!(
            "{}://{host}:{}{}",
            self.scheme.as_str(),
            self.port,
            self.base
        )
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin())
    }
}

/// One argument (or line): a single target, or a range of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetSpec {
    One(Target),
    Range {
        net: IpNet,
        scheme: Scheme,
        port: u16,
    },
}

impl TargetSpec {
    /// How many targets it stands for.
    pub fn len(&self) -> u64 {
        match self {
            TargetSpec::One(_) => 1,
            TargetSpec::Range { net, .. } => range_len(net),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Its targets, one at a time.
    pub fn targets(self) -> Box<dyn Iterator<Item = Target> + Send> {
        match self {
            TargetSpec::One(target) => Box::new(std::iter::once(target)),
            TargetSpec::Range { net, scheme, port } => {
                // A /32 or /128 is the one address; otherwise every address in the
                // range, network and broadcast included: Exchange may sit on any.
                Box::new(net.hosts().map(move |ip| Target {
                    scheme,
                    host: ip.to_string(),
                    port,
                    base: String::new(),
                }))
            }
        }
    }
}

fn range_len(net: &IpNet) -> u64 {
    let host_bits = u32::from(net.max_prefix_len() - net.prefix_len());
    let all = 1u64.checked_shl(host_bits).unwrap_or(u64::MAX);
    // `hosts()` leaves out the network and broadcast addresses of IPv4 ranges
    // wider than /31.
    match net {
        IpNet::V4(_) if host_bits >= 2 => all - 2,
        _ => all,
    }
}

/// Parses one target as typed: `mail.example.org`, `10.0.0.5:8443`, `[::1]:443`,
/// `https://mail.example.org/owa`, `http://10.0.0.5:80`, `192.0.2.0/24`. A range is
/// `RANGE` or `scheme://RANGE`, with an optional `:port` after the prefix length
/// (`10.0.0.0/24:8443`).
pub fn parse(text: &str) -> Result<TargetSpec, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("an empty target".into());
    }
    let (scheme, rest) = match text.split_once("://") {
        Some((s, rest)) if s.eq_ignore_ascii_case("https") => (Some(Scheme::Https), rest),
        Some((s, rest)) if s.eq_ignore_ascii_case("http") => (Some(Scheme::Http), rest),
        Some((s, _)) => return Err(format!("`{text}`: the scheme `{s}` is not http or https")),
        None => (None, text),
    };
    let (authority, base) = match rest.find(['/', '?', '#']) {
        // A `/` followed by digits only and nothing else is a prefix length.
        Some(i) if rest[i..].starts_with('/') && is_prefix_len(&rest[i + 1..]) => (rest, ""),
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if let Some((net, port)) = parse_range(authority)? {
        let scheme = scheme.unwrap_or_else(|| default_scheme(port));
        let port = port.unwrap_or(default_port(scheme));
        let spec = TargetSpec::Range { net, scheme, port };
        if spec.len() > MAX_RANGE {
            return Err(format!(
                "`{text}` holds {} addresses; split it into ranges of at most {MAX_RANGE} (a /16)",
                spec.len()
            ));
        }
        return Ok(spec);
    }
    let (host, port) = split_host_port(authority).map_err(|e| format!("`{text}`: {e}"))?;
    let scheme = scheme.unwrap_or_else(|| default_scheme(port));
    let base = base
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .trim_end_matches('/');
    // A URL that names an Exchange page (`/owa`, `/owa/auth/logon.aspx`, `/ecp/`)
    // means the server: the probe asks for the pages it needs itself.
    let base = match first_exchange_segment(base) {
        Some(i) => &base[..i],
        None => base,
    };
    Ok(TargetSpec::One(Target {
        scheme,
        host,
        port: port.unwrap_or(default_port(scheme)),
        base: base.to_string(),
    }))
}

/// Where `/owa`, `/ecp`, `/autodiscover`, `/ews` or `/mapi` starts in a path.
fn first_exchange_segment(path: &str) -> Option<usize> {
    const VDIRS: [&str; 5] = ["owa", "ecp", "autodiscover", "ews", "mapi"];
    let mut at: usize = 0;
    for segment in path.split('/') {
        if VDIRS.iter().any(|v| segment.eq_ignore_ascii_case(v)) {
            return Some(at.saturating_sub(1));
        }
        at += segment.len() + 1;
    }
    None
}

fn is_prefix_len(s: &str) -> bool {
    let digits = s.split(':').next().unwrap_or("");
    !digits.is_empty() && digits.len() <= 3 && digits.bytes().all(|b| b.is_ascii_digit())
}

fn default_scheme(port: Option<u16>) -> Scheme {
    match port {
        Some(80) => Scheme::Http,
        _ => Scheme::Https,
    }
}

fn default_port(scheme: Scheme) -> u16 {
    match scheme {
        Scheme::Http => 80,
        Scheme::Https => 443,
    }
}

/// `10.0.0.0/24`, `10.0.0.0/24:8443`, `[2001:db8::]/120:443`, `2001:db8::/120`.
fn parse_range(authority: &str) -> Result<Option<(IpNet, Option<u16>)>, String> {
    let Some(slash) = authority.rfind('/') else {
        return Ok(None);
    };
    let (addr, rest) = (&authority[..slash], &authority[slash + 1..]);
    let (len, port) = match rest.split_once(':') {
        Some((len, port)) => (len, Some(parse_port(port)?)),
        None => (rest, None),
    };
    let addr = addr.trim_start_matches('[').trim_end_matches(']');
    let net: IpNet = format!("{addr}/{len}")
        .parse()
        .map_err(|_| format!("`{authority}` is not an address range (`192.0.2.0/24`)"))?;
    Ok(Some((net.trunc(), port)))
}

fn parse_port(text: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(format!("`{text}` is not a port (1-65535)")),
    }
}

/// `host`, `host:port`, `[v6]`, `[v6]:port`, or a bare IPv6 address.
fn split_host_port(authority: &str) -> Result<(String, Option<u16>), String> {
    if let Some(inner) = authority.strip_prefix('[') {
        let (host, after) = inner
            .split_once(']')
            .ok_or("an IPv6 address opened with `[` is not closed")?;
        let port = match after.strip_prefix(':') {
            Some(port) => Some(parse_port(port)?),
            None if after.is_empty() => None,
            None => return Err(format!("`{after}` after the address")),
        };
        return Ok((valid_host(host)?, port));
    }
    if authority.parse::<IpAddr>().is_ok() {
        return Ok((authority.to_string(), None));
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => Ok((valid_host(host)?, Some(parse_port(port)?))),
        None => Ok((valid_host(authority)?, None)),
    }
}

/// A host name of letters, digits, `-`, `_` and `.`, or an IP address: anything
/// else (spaces, `@`, control characters) is a typo or a hostile input file.
fn valid_host(host: &str) -> Result<String, String> {
    if host.parse::<IpAddr>().is_ok() {
        return Ok(host.to_string());
    }
    let ok = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(host.to_ascii_lowercase())
    } else {
        Err(format!(
            "`{}` is not a host name or an IP address",
            exsweep_model::printable(host.as_bytes())
        ))
    }
}

/// The targets of a list file (`-i FILE`): one a line; blank lines and `#` comments
/// are skipped. Bad lines are returned with their line number, for a warning.
pub fn parse_list(text: &str) -> (Vec<TargetSpec>, Vec<String>) {
    let mut specs = Vec::new();
    let mut errors = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        match parse(line) {
            Ok(spec) => specs.push(spec),
            Err(e) => errors.push(format!("line {}: {e}", n + 1)),
        }
    }
    (specs, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Target {
        match parse(text).unwrap() {
            TargetSpec::One(t) => t,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn hosts_ports_and_urls_take_the_scheme_a_responder_means() {
        assert_eq!(
            one("Mail.Example.org").origin(),
            "https://mail.example.org:443"
        );
        assert_eq!(one("10.0.0.5:80").origin(), "http://10.0.0.5:80");
        assert_eq!(one("10.0.0.5:8443").origin(), "https://10.0.0.5:8443");
        assert_eq!(one("http://10.0.0.5:8080").origin(), "http://10.0.0.5:8080");
        assert_eq!(one("[::1]:444").origin(), "https://[::1]:444");
        assert_eq!(one("::1").origin(), "https://[::1]:443");
        assert_eq!(
            one("https://mail.example.org/owa/auth/logon.aspx?x=1").origin(),
            "https://mail.example.org:443"
        );
        assert_eq!(
            one("https://gw.example.org/exchange/owa").origin(),
            "https://gw.example.org:443/exchange"
        );
    }

    #[test]
    fn ranges_expand_lazily_and_wide_ones_are_refused() {
        let spec = parse("192.0.2.0/30:8443").unwrap();
        assert_eq!(spec.len(), 2);
        let hosts: Vec<String> = spec.targets().map(|t| t.origin()).collect();
        assert_eq!(hosts, ["https://192.0.2.1:8443", "https://192.0.2.2:8443"]);
        assert_eq!(parse("http://192.0.2.7/32").unwrap().len(), 1);
        assert_eq!(parse("10.1.0.0/16").unwrap().len(), 65534);
        let wide = parse("10.0.0.0/8").unwrap_err();
        assert!(wide.contains("/16"), "{wide}");
    }

    #[test]
    fn bad_targets_are_refused_with_the_reason() {
        assert!(parse("ftp://x").unwrap_err().contains("scheme"));
        assert!(parse("host:99999").unwrap_err().contains("port"));
        assert!(parse("a b").is_err() && parse("evil\u{1b}[2J").is_err());
        assert!(parse("300.1.1.1/24").is_err());
        let (specs, errors) =
            parse_list("# servers\nmail.example.org\n\nbad host\n10.0.0.0/31 # lab\n");
        assert_eq!(specs.len(), 2);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].starts_with("line 4:"), "{errors:?}");
    }
}
