// PowerShell implants and tooling seen after Exchange intrusions: reverse shells
// (Nishang, PowerCat), download cradles, and mailbox theft through the Exchange
// management snap-in.

rule exsweep_powershell_reverse_shell
{
    meta:
        id = "EXR-PS-1"
        description = "PowerShell reverse shell seen after Exchange intrusions (Nishang Invoke-PowerShellTcpOneLine, PowerCat)"
        severity = "high"
        attack = "T1059.001"
        family = "PowerShell implant"
        reference = "https://github.com/samratashok/nishang"
        author = "exsweep"
    strings:
        $nishang = "Invoke-PowerShellTcp" nocase ascii wide
        $powercat = /powercat\s+-c\s/ nocase ascii wide
        $tcp = /New-Object\s+(System\.)?Net\.Sockets\.TCPClient\s*\(/ nocase ascii wide
        $iex = /(iex|Invoke-Expression)\b/ nocase ascii wide
    condition:
        filesize < 5MB and ($nishang or $powercat or ($tcp and $iex))
}

rule exsweep_powershell_download_cradle
{
    meta:
        id = "EXR-PS-2"
        description = "Script or command file that downloads code and runs it in memory (IEX of Net.WebClient DownloadString, Invoke-WebRequest piped to iex)"
        severity = "high"
        family = "PowerShell implant"
        attack = "T1059.001"
        reference = "https://attack.mitre.org/techniques/T1059/001/"
        author = "exsweep"
    strings:
        $webclient_download = /Net\.WebClient\s*\)?\s*\.\s*DownloadString/ nocase ascii wide
        $iex = /(iex|Invoke-Expression)\s*[\(\s]/ nocase ascii wide
        $cradle2 = /DownloadString\s*\([^)]{1,200}\)\s*\|\s*(iex|Invoke-Expression)\b/ nocase ascii wide
        $cradle3 = /(Invoke-WebRequest|iwr|Invoke-RestMethod|irm)\s[^|\n]{1,200}\|\s*(iex|Invoke-Expression)\b/ nocase ascii wide
    condition:
        filesize < 5MB and uint16(0) != 0x5A4D and (($webclient_download and $iex) or $cradle2 or $cradle3)
}

rule exsweep_exchange_mailbox_theft_script
{
    meta:
        id = "EXR-PS-3"
        description = "Script that loads the Exchange management snap-in and exports mailboxes or their content (New-MailboxExportRequest, Search-Mailbox to a target mailbox): how mail was stolen after the 2021 intrusions"
        severity = "high"
        family = "PowerShell implant"
        attack = "T1114.002"
        reference = "https://www.volexity.com/blog/2021/03/02/active-exploitation-of-microsoft-exchange-zero-day-vulnerabilities/"
        author = "exsweep"
    strings:
        $snapin = /Add-PSSnapin\s+Microsoft\.Exchange\.Management\.PowerShell\.(SnapIn|E2010)/ nocase ascii wide
        $export1 = "New-MailboxExportRequest" nocase ascii wide
        $export2 = /Search-Mailbox\s[^\n]{0,200}-TargetMailbox/ nocase ascii wide
    condition:
        filesize < 5MB and uint16(0) != 0x5A4D and $snapin and any of ($export*)
}
