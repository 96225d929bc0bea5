//! The attack chains: the findings of one scan joined into incidents. Two findings
//! are in one chain when they share an entity (a client IP, a RequestId, a user, or a
//! file: a shell's Windows path, named by its file findings, by the requests to the
//! URL it answers at through the web map, and by the OAB generator line that wrote
//! it). What shares none (an LSASS dump, an archive, a compiled copy of a shell)
//! joins the incident its time falls in or lies nearest, within a day, and says so;
//! a single request of another actor does not. Findings that fall near no incident
//! but near each other form a chain of their own, joined by time only. A chain needs two findings and one of them a
//! compromise or an attempt; what joins none stays a finding on its own. Exposure is
//! the server's state, not an act: it joins no chain.

use crate::checks::events::SUSPICIOUS_CMDLET;
use crate::checks::logs::{
    KNOWN_ATTACKER_IP, OAB_FILE_WRITE, SUSPICIOUS_USER_AGENT, VIRTUAL_DIRECTORY_WRITE,
};
use crate::webmap::WebMap;
use exsweep_evidence::winpath;
use exsweep_model::{
    rfc3339, Class, Confidence, Evidence, Finding, Incident, IncidentStep, Phase, Reference,
};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::{Duration, SystemTime};

/// How far outside an incident's span a keyless finding may lie and still join it.
const TIME_JOIN: Duration = Duration::from_secs(24 * 3600);
/// The largest gap between keyless findings that form a chain of their own.
const TIME_CLUSTER: Duration = Duration::from_secs(3600);

/// Whether a finding is the change that writes a shell through Exchange's own
/// machinery: the OAB generator's download (26858), the virtual-directory change in
/// the ECP logs (27065), or, in MSExchange Management, the mailbox export ProxyShell
/// writes its PST-shaped shell with, the role grant it needs first, or a script put
/// into a virtual directory's URL (`Set-OabVirtualDirectory` ...).
fn plants_a_shell(f: &Finding) -> bool {
    if f.check_id == OAB_FILE_WRITE.id || f.check_id == VIRTUAL_DIRECTORY_WRITE.id {
        return true;
    }
    if f.check_id != SUSPICIOUS_CMDLET.id {
        return false;
    }
    // The detail starts with the cmdlet's name.
    let cmdlet = f
        .detail
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    cmdlet == "new-mailboxexportrequest"
        || cmdlet == "new-managementroleassignment"
        || (cmdlet.starts_with("set-") && cmdlet.ends_with("virtualdirectory"))
}

/// Where a finding stands in a chain, by itself.
fn phase(f: &Finding) -> Phase {
    if plants_a_shell(f) {
        return Phase::Planting;
    }
    let category = f.category.as_ref();
    match &f.evidence {
        Evidence::File(_) => match category {
            "credential-access" | "collection" | "execution" => Phase::Aftermath,
            _ => Phase::Implant,
        },
        _ => match category {
            "exploitation" | "exploitation-attempt" | "indicator" => Phase::Exploitation,
            "webshell" => Phase::Use,
            _ => Phase::Aftermath,
        },
    }
}

/// The checks that describe who sent a request, not what it did: they stand where
/// the request's other findings stand (a shell's use from a campaign address is use).
fn describes_sender(f: &Finding) -> bool {
    f.check_id == KNOWN_ATTACKER_IP.id || f.check_id == SUSPICIOUS_USER_AGENT.id
}

/// Each member with its phase in the chain.
fn phases<'f>(members: &[&'f Finding]) -> Vec<(&'f Finding, Phase)> {
    let at: BTreeMap<String, Phase> = members
        .iter()
        .filter(|f| !describes_sender(f))
        .map(|f| (f.evidence.location(), phase(f)))
        .collect();
    members
        .iter()
        .map(|f| {
            let own = phase(f);
            let placed = if describes_sender(f) {
                at.get(&f.evidence.location()).copied().unwrap_or(own)
            } else {
                own
            };
            (*f, placed)
        })
        .collect()
}

/// Accounts every server has, which tie nothing together.
fn is_generic_user(user: &str) -> bool {
    let name = user.rsplit(['\\', '/']).next().unwrap_or(user);
    matches!(
        name.to_ascii_lowercase().as_str(),
        "" | "-" | "system" | "anonymous" | "network service" | "local service" | "iusr"
    ) || name.ends_with('$')
}

/// Keys of the entities that name an actor (the rest name a file).
fn is_actor_key(key: &str) -> bool {
    !key.starts_with("file ")
}

/// The entities a finding can be joined on, as `kind value` keys. A requested URL
/// counts as the file it runs only where that file is a finding's: every exploit
/// request to `/autodiscover/autodiscover.json` names the same file, and must not
/// join two attackers.
fn keys(f: &Finding, web_map: &WebMap, on_disk: &HashSet<String>) -> Vec<String> {
    let e = &f.entities;
    let mut out = Vec::new();
    if let Some(ip) = e.client_ip.as_deref() {
        if !matches!(ip, "127.0.0.1" | "::1" | "") {
            out.push(format!("client IP {ip}"));
        }
    }
    if let Some(id) = e.request_id.as_deref().filter(|id| !id.is_empty()) {
        out.push(format!("RequestId {}", id.to_ascii_lowercase()));
    }
    if let Some(user) = e.user.as_deref().filter(|u| !is_generic_user(u)) {
        out.push(format!("user {}", user.to_ascii_lowercase()));
    }
    let mut files: Vec<String> = f
        .file()
        .map(|file| file.windows_path.clone())
        .into_iter()
        .collect();
    files.extend(e.windows_path.clone());
    if let (Some(url), Evidence::LogLine(_)) = (e.url.as_deref(), &f.evidence) {
        let path = url.split('?').next().unwrap_or("").to_ascii_lowercase();
        files.extend(
            web_map
                .files_of(&path)
                .into_iter()
                .filter(|k| on_disk.contains(k)),
        );
    }
    out.extend(files.iter().map(|p| format!("file {}", winpath::key(p))));
    out
}

/// Union-find over finding indices.
struct Groups(Vec<usize>);

impl Groups {
    fn root(&mut self, mut i: usize) -> usize {
        while self.0[i] != i {
            self.0[i] = self.0[self.0[i]];
            i = self.0[i];
        }
        i
    }

    fn join(&mut self, a: usize, b: usize) {
        let (a, b) = (self.root(a), self.root(b));
        if a != b {
            self.0[b.max(a)] = b.min(a);
        }
    }
}

/// A chain being built: its members, each with what joined it.
struct Chain {
    members: Vec<(usize, String)>,
    first: SystemTime,
    last: SystemTime,
}

impl Chain {
    fn new(t: SystemTime) -> Chain {
        Chain {
            members: Vec::new(),
            first: t,
            last: t,
        }
    }

    fn distance(&self, t: SystemTime) -> Duration {
        if t < self.first {
            self.first.duration_since(t).unwrap_or_default()
        } else {
            t.duration_since(self.last).unwrap_or_default()
        }
    }

    fn add(&mut self, i: usize, t: SystemTime, joined_by: String) {
        self.first = self.first.min(t);
        self.last = self.last.max(t);
        self.members.push((i, joined_by));
    }
}

/// The incidents of a scan's findings, oldest first.
pub fn build(findings: &[Finding], web_map: &WebMap) -> Vec<Incident> {
    let candidates: Vec<usize> = (0..findings.len())
        .filter(|&i| findings[i].class != Class::Exposure && findings[i].time().is_some())
        .collect();
    let on_disk: HashSet<String> = findings
        .iter()
        .filter_map(|f| f.file().map(|file| winpath::key(&file.windows_path)))
        .collect();
    let keys: HashMap<usize, Vec<String>> = candidates
        .iter()
        .map(|&i| (i, keys(&findings[i], web_map, &on_disk)))
        .collect();
    let mut groups = Groups((0..findings.len()).collect());
    let mut holder: HashMap<&str, usize> = HashMap::new();
    let mut key_count: HashMap<&str, usize> = HashMap::new();
    for &i in &candidates {
        for key in &keys[&i] {
            *key_count.entry(key).or_default() += 1;
            match holder.get(key.as_str()) {
                Some(&j) => groups.join(i, j),
                None => {
                    holder.insert(key, i);
                }
            }
        }
    }
    let mut by_root: HashMap<usize, Vec<usize>> = HashMap::new();
    for &i in &candidates {
        by_root.entry(groups.root(i)).or_default().push(i);
    }
    let time = |i: usize| findings[i].time().expect("candidates have a time");
    let acts = |members: &[usize]| {
        members
            .iter()
            .any(|&i| matches!(findings[i].class, Class::Compromise | Class::Attempt))
    };
    let locations = |members: &[usize]| {
        members
            .iter()
            .map(|&i| findings[i].evidence.location())
            .collect::<HashSet<_>>()
            .len()
    };
    let mut chains: Vec<Chain> = Vec::new();
    // Components too small to be a chain: those with no actor (the findings on one
    // file, an ECP line) join a chain as a unit, by time; one request of another
    // actor is no part of this one's chain and stays on its own.
    let mut units: Vec<Vec<usize>> = Vec::new();
    let mut alone: Vec<Vec<usize>> = Vec::new();
    let mut roots: Vec<_> = by_root.into_values().collect();
    roots.sort();
    for members in roots {
        let has_actor = members
            .iter()
            .any(|i| keys[i].iter().any(|k| is_actor_key(k)));
        if !has_actor {
            units.push(members);
            continue;
        }
        if locations(&members) < 2 || !acts(&members) {
            alone.push(members);
            continue;
        }
        let mut chain = Chain::new(time(members[0]));
        for i in members {
            let shared = keys[&i]
                .iter()
                .find(|k| key_count[k.as_str()] > 1)
                .cloned()
                .unwrap_or_default();
            chain.add(i, time(i), shared);
        }
        chains.push(chain);
    }
    let unit_time = |unit: &[usize]| unit.iter().map(|&i| time(i)).min().expect("non-empty");
    units.sort_by_key(|u| unit_time(u));
    let mut unplaced: Vec<Vec<usize>> = Vec::new();
    for unit in units {
        let t = unit_time(&unit);
        let nearest = chains
            .iter_mut()
            .map(|c| (c.distance(t), c))
            .filter(|(d, _)| *d <= TIME_JOIN)
            .min_by_key(|(d, _)| *d);
        match nearest {
            Some((_, chain)) => {
                for i in unit {
                    chain.add(i, time(i), "time".into());
                }
            }
            None => unplaced.push(unit),
        }
    }
    // The rest, close in time to each other, may be a chain of its own.
    unplaced.extend(alone);
    unplaced.sort_by_key(|u| unit_time(u));
    let mut cluster: Vec<usize> = Vec::new();
    let mut cluster_last: Option<SystemTime> = None;
    for unit in unplaced.into_iter().map(Some).chain([None]) {
        let starts_new = match (&unit, cluster_last) {
            (Some(u), Some(last)) => {
                unit_time(u).duration_since(last).unwrap_or_default() > TIME_CLUSTER
            }
            (None, _) => true,
            (Some(_), None) => false,
        };
        if starts_new {
            if locations(&cluster) >= 2 && acts(&cluster) {
                let mut chain = Chain::new(time(cluster[0]));
                for &j in &cluster {
                    chain.add(j, time(j), "time".into());
                }
                chains.push(chain);
            }
            cluster.clear();
            cluster_last = None;
        }
        if let Some(unit) = unit {
            let last = unit.iter().map(|&i| time(i)).max().expect("non-empty");
            cluster_last = Some(cluster_last.map_or(last, |l| l.max(last)));
            cluster.extend(unit);
        }
    }
    let mut incidents: Vec<Incident> = chains.iter().map(|c| incident(findings, c)).collect();
    incidents.sort_by_key(|i| i.first);
    for (n, incident) in incidents.iter_mut().enumerate() {
        incident.id = format!("INC-{}", n + 1);
    }
    incidents
}

fn sorted(items: impl Iterator<Item = String>) -> Vec<String> {
    items
        .filter(|s| !s.is_empty())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn incident(findings: &[Finding], chain: &Chain) -> Incident {
    let members: Vec<&Finding> = chain.members.iter().map(|(i, _)| &findings[*i]).collect();
    let staged = phases(&members);
    let mut steps: Vec<IncidentStep> = chain
        .members
        .iter()
        .zip(&staged)
        .map(|((_, joined_by), (f, phase))| IncidentStep {
            time: f.time(),
            phase: *phase,
            finding_id: f.id.clone(),
            check_id: f.check_id.to_string(),
            summary: format!("{}: {}", f.title, f.evidence.location()),
            joined_by: joined_by.clone(),
        })
        .collect();
    steps.sort_by(|a, b| (a.time, a.phase, &a.finding_id).cmp(&(b.time, b.phase, &b.finding_id)));
    let refs = |want: fn(&Reference) -> Option<&str>| {
        sorted(
            members
                .iter()
                .flat_map(|f| f.references.iter().filter_map(want).map(String::from)),
        )
    };
    let files = sorted(staged.iter().flat_map(|(f, phase)| {
        let on_disk = f.file().map(|file| file.windows_path.clone());
        let named = (*phase != Phase::Exploitation)
            .then(|| f.entities.windows_path.clone())
            .flatten();
        on_disk.into_iter().chain(named)
    }));
    let (confidence, confidence_reason) = confidence(&staged, &chain.members);
    let mut incident = Incident {
        id: String::new(),
        story: String::new(),
        first: chain.first,
        last: chain.last,
        attacker_ips: sorted(members.iter().filter_map(|f| f.entities.client_ip.clone())),
        user_agents: sorted(members.iter().filter_map(|f| f.entities.user_agent.clone())),
        users: sorted(
            members
                .iter()
                .filter_map(|f| f.entities.user.clone())
                .filter(|u| !is_generic_user(u)),
        ),
        files,
        cves: refs(|r| match r {
            Reference::Cve(id) => Some(id),
            _ => None,
        }),
        techniques: refs(|r| match r {
            Reference::Attack(id) => Some(id),
            _ => None,
        }),
        confidence,
        confidence_reason,
        steps,
    };
    incident.story = story(&staged, &incident);
    incident
}

/// High for the whole chain (exploitation or planting, the file left, its use) tied
/// by entities; medium for a compromise tied by entities without the whole chain;
/// low for attempts only or a chain of time alone.
fn confidence(staged: &[(&Finding, Phase)], joins: &[(usize, String)]) -> (Confidence, String) {
    let has = |p: Phase| {
        staged
            .iter()
            .any(|(f, placed)| *placed == p && f.class == Class::Compromise)
    };
    let mut kinds: Vec<&str> = Vec::new();
    for (_, by) in joins {
        let kind = match by.split(' ').next().unwrap_or("") {
            "client" => "client IP",
            "" | "time" => continue,
            other => other,
        };
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    kinds.sort();
    let by_time = joins.iter().filter(|(_, by)| by == "time").count();
    let time_note = match by_time {
        0 => String::new(),
        n => format!("; {n} finding(s) placed by time alone"),
    };
    let tied = kinds.join(", ");
    let compromised = staged.iter().any(|(f, _)| f.class == Class::Compromise);
    let (level, why) = if kinds.is_empty() {
        (
            Confidence::Low,
            "joined by time alone: the findings share no client IP, RequestId, user or file"
                .to_string(),
        )
    } else if !compromised {
        (
            Confidence::Low,
            format!("attempts only, tied by {tied}: no sign they succeeded"),
        )
    } else if (has(Phase::Exploitation) || has(Phase::Planting))
        && has(Phase::Implant)
        && has(Phase::Use)
    {
        (
            Confidence::High,
            format!("the exploitation, the file it left and that file's use are tied by {tied}"),
        )
    } else {
        (
            Confidence::Medium,
            format!("compromise findings tied by {tied}, without the whole chain from exploitation to a shell in use"),
        )
    };
    (level, why + &time_note)
}

fn minute(t: SystemTime) -> String {
    let text = rfc3339(t);
    format!(
        "{} {} UTC",
        text.get(..10).unwrap_or(&text),
        text.get(11..16).unwrap_or("")
    )
}

fn list(items: &[String], most: usize) -> String {
    match items.len() {
        n if n > most => format!("{} and {} more", items[..most].join(", "), n - most),
        _ => items.join(", "),
    }
}

/// The story in plain words: who did what, in the order of the phases.
fn story(staged: &[(&Finding, Phase)], incident: &Incident) -> String {
    let of = |p: Phase| -> Vec<&Finding> {
        staged
            .iter()
            .filter(|(_, placed)| *placed == p)
            .map(|(f, _)| *f)
            .collect()
    };
    let ips = |fs: &[&Finding]| sorted(fs.iter().filter_map(|f| f.entities.client_ip.clone()));
    let titles = |fs: &[&Finding]| sorted(fs.iter().map(|f| f.title.to_string()));
    let requests = |fs: &[&Finding]| {
        fs.iter()
            .map(|f| f.evidence.location())
            .collect::<HashSet<_>>()
            .len()
    };
    let from = |who: Vec<String>| match who.is_empty() {
        true => String::new(),
        false => format!(" from {}", list(&who, 3)),
    };
    let mut parts: Vec<String> = Vec::new();
    let exploitation = of(Phase::Exploitation);
    if !exploitation.is_empty() {
        let verb = match exploitation.iter().any(|f| f.class == Class::Compromise) {
            true => "exploited",
            false => "tried to exploit",
        };
        let cves = sorted(exploitation.iter().flat_map(|f| {
            f.references.iter().filter_map(|r| match r {
                Reference::Cve(id) => Some(id.to_string()),
                _ => None,
            })
        }));
        let through = match cves.is_empty() {
            true => String::new(),
            false => format!(" through {}", list(&cves, 4)),
        };
        parts.push(format!(
            "{}{verb} the server{through} in {} logged request(s)",
            match ips(&exploitation) {
                who if who.is_empty() => "someone ".to_string(),
                who => format!("{} ", list(&who, 3)),
            },
            requests(&exploitation)
        ));
    }
    let planting = of(Phase::Planting);
    if !planting.is_empty() {
        parts.push(format!(
            "had Exchange write a file ({})",
            list(&titles(&planting), 2)
        ));
    }
    let aftermath = of(Phase::Aftermath);
    let aftermath_files: HashSet<&str> = aftermath
        .iter()
        .filter_map(|f| f.file().map(|file| file.windows_path.as_str()))
        .collect();
    let implants = sorted(of(Phase::Implant).iter().filter_map(|f| {
        let path = &f.file()?.windows_path;
        (!aftermath_files.contains(path.as_str())).then(|| winpath::file_name(path).to_string())
    }));
    if !implants.is_empty() {
        parts.push(format!("left {}", list(&implants, 4)));
    }
    let uses = of(Phase::Use);
    if !uses.is_empty() {
        let what = match implants.len() {
            0 => "requested pages where none should be",
            1 => "used it",
            _ => "used them",
        };
        parts.push(format!(
            "{what} in {} logged request(s){}",
            requests(&uses),
            from(ips(&uses))
        ));
    }
    if !aftermath.is_empty() {
        parts.push(format!("then: {}", list(&titles(&aftermath), 4)));
    }
    let span = match incident.first == incident.last {
        true => format!("At {}", minute(incident.first)),
        false => format!(
            "From {} to {}",
            minute(incident.first),
            minute(incident.last)
        ),
    };
    format!("{span}, {}.", parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::logs::{PROXYLOGON_SSRF, SHELL_ACCESS};
    use crate::checks::{LSASS_DUMP, SCRIPT_IN_STATIC_FOLDER};
    use exsweep_model::{Entities, FileEvidence, FileTimes, LogLine};

    const EX: &str = r"C:\Program Files\Microsoft\Exchange Server\V15";
    const T0: u64 = 1_614_783_168;

    fn at(minutes: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(T0 + minutes * 60)
    }

    fn request(
        check: &exsweep_model::Check,
        line: u64,
        minutes: u64,
        ip: &str,
        url: &str,
    ) -> Finding {
        Finding::new(
            check.hit(String::new()),
            Evidence::LogLine(LogLine {
                windows_path: r"C:\inetpub\logs\LogFiles\W3SVC1\u_ex210303.log".into(),
                line,
                time: Some(at(minutes)),
                ..LogLine::default()
            }),
            Entities {
                client_ip: Some(ip.into()),
                url: Some(url.into()),
                ..Entities::default()
            },
        )
    }

    fn file(check: &exsweep_model::Check, path: &str, minutes: u64) -> Finding {
        Finding::new(
            check.hit(String::new()),
            Evidence::File(FileEvidence {
                windows_path: path.into(),
                times: FileTimes {
                    modified: Some(at(minutes)),
                    ..FileTimes::default()
                },
                ..FileEvidence::default()
            }),
            Entities::default(),
        )
    }

    const SHELL: &str = r"C:\inetpub\wwwroot\aspnet_client\a.aspx";

    #[test]
    fn exports_role_grants_and_virtual_directory_changes_plant_other_cmdlets_follow() {
        let cmdlet = |detail: &str| {
            Finding::new(
                SUSPICIOUS_CMDLET.hit(detail.into()),
                Evidence::Remote(exsweep_model::RemoteObservation::default()),
                Entities::default(),
            )
        };
        for planting in [
            r"New-MailboxExportRequest -Mailbox a -FilePath \\127.0.0.1\c$\inetpub\x.aspx: export",
            "New-ManagementRoleAssignment -Role \"Mailbox Import Export\": grant",
            "Set-OabVirtualDirectory -ExternalUrl 'http://f/<script>': script",
        ] {
            assert_eq!(phase(&cmdlet(planting)), Phase::Planting, "{planting}");
        }
        assert_eq!(
            phase(&cmdlet("Install-TransportAgent -Name x: agent")),
            Phase::Aftermath
        );
        assert_eq!(
            phase(&cmdlet("Set-Mailbox -ForwardingSmtpAddress x: forwarding")),
            Phase::Aftermath
        );
    }

    #[test]
    fn one_actor_s_chain_takes_its_shell_by_url_and_its_dump_by_time_but_not_a_stranger() {
        let findings = vec![
            request(&PROXYLOGON_SSRF, 1, 0, "192.0.2.7", "/ecp/y.js"),
            file(&SCRIPT_IN_STATIC_FOLDER, SHELL, 2),
            request(
                &SHELL_ACCESS,
                2,
                60,
                "192.0.2.7",
                "/aspnet_client/a.aspx?x=1",
            ),
            file(&LSASS_DUMP, r"C:\root\lsass.dmp", 70),
            // Another address's one request, inside the chain's span.
            request(
                &SHELL_ACCESS,
                3,
                30,
                "198.51.100.1",
                "/aspnet_client/b.aspx",
            ),
            // A dump two days later is no part of it.
            file(&LSASS_DUMP, r"C:\Windows\Temp\x.dmp", 3 * 24 * 60),
        ];
        let incidents = build(&findings, &WebMap::defaults(EX));
        assert_eq!(incidents.len(), 1, "{incidents:#?}");
        let incident = &incidents[0];
        let ids: Vec<&str> = incident
            .steps
            .iter()
            .map(|s| s.finding_id.as_str())
            .collect();
        let expected: Vec<&str> = [0, 1, 2, 3]
            .iter()
            .map(|&i| findings[i].id.as_str())
            .collect();
        assert_eq!(ids, expected, "in time order");
        let joined: Vec<&str> = incident
            .steps
            .iter()
            .map(|s| s.joined_by.as_str())
            .collect();
        assert_eq!(
            joined,
            [
                "client IP 192.0.2.7",
                &format!("file {}", SHELL.to_lowercase()),
                "client IP 192.0.2.7",
                "time"
            ]
        );
        assert_eq!((incident.first, incident.last), (at(0), at(70)));
        assert_eq!(incident.attacker_ips, ["192.0.2.7"]);
        assert_eq!(
            incident.confidence,
            Confidence::High,
            "{}",
            incident.confidence_reason
        );
        assert!(incident
            .confidence_reason
            .ends_with("1 finding(s) placed by time alone"));
        assert_eq!(
            incident.story,
            "From 2021-03-03 14:52 UTC to 2021-03-03 16:02 UTC, 192.0.2.7 exploited the server \
             through CVE-2021-26855 in 1 logged request(s); left a.aspx; used it in 1 logged \
             request(s) from 192.0.2.7; then: LSASS memory dump."
        );
    }

    #[test]
    fn findings_near_no_chain_form_one_by_time_and_exposure_joins_none() {
        let findings = vec![
            file(&SCRIPT_IN_STATIC_FOLDER, SHELL, 0),
            file(&LSASS_DUMP, r"C:\root\lsass.dmp", 20),
            file(&LSASS_DUMP, r"C:\Windows\Temp\x.dmp", 10 * 24 * 60),
        ];
        let incidents = build(&findings, &WebMap::defaults(EX));
        assert_eq!(incidents.len(), 1, "{incidents:#?}");
        assert_eq!(
            incidents[0].steps.len(),
            2,
            "the late dump stays on its own"
        );
        assert_eq!(incidents[0].confidence, Confidence::Low);
        assert!(build(&findings[2..], &WebMap::defaults(EX)).is_empty());
        assert!(build(&[], &WebMap::defaults(EX)).is_empty());
    }

    #[test]
    fn system_accounts_and_machine_accounts_tie_nothing() {
        for user in [
            "NT AUTHORITY\\SYSTEM",
            "corp.example/Users/SYSTEM",
            "EXCH01$",
            "-",
        ] {
            assert!(is_generic_user(user), "{user}");
        }
        assert!(!is_generic_user("CORP\\svc-backup"));
    }

    #[test]
    fn stories_cut_long_lists() {
        let items: Vec<String> = (1..=6).map(|n| format!("f{n}")).collect();
        assert_eq!(list(&items, 4), "f1, f2, f3, f4 and 2 more");
        assert_eq!(list(&items[..2], 4), "f1, f2");
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_614_783_168);
        assert_eq!(minute(t), "2021-03-03 14:52 UTC");
    }
}
