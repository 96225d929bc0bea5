// Payloads of the Exchange exploit chains themselves: the OAB virtual-directory dump
// that ProxyLogon writes as a page (CVE-2021-26858/27065), and the mailbox-export (PST)
// and certificate-export (DER) files that ProxyShell and its successors write under a
// page name, each carrying a server script in its binary body.

rule exsweep_oab_virtual_directory_dump_shell
{
    meta:
        id = "EXR-EXCH-1"
        description = "OAB virtual directory property dump written to a page (CVE-2021-27065/26858): the ExternalUrl carries a server-side script"
        severity = "critical"
        attack = "T1505.003"
        cve = "CVE-2021-27065"
        family = "Exchange exploit payload"
        reference = "https://www.volexity.com/blog/2021/03/02/active-exploitation-of-microsoft-exchange-zero-day-vulnerabilities/"
        author = "exsweep"
    strings:
        $p1 = "OfflineAddressBooks" ascii wide
        $p2 = "InternalAuthenticationMethods" ascii wide
        $p3 = "ExtendedProtectionTokenChecking" ascii wide
        $p4 = "ExternalUrl" ascii wide
        $script = /runat\s*=\s*["']?server/ nocase ascii wide
        $onechar_host = /https?:\/\/[a-z0-9]\/[^\s]{0,20}<script/ nocase
    condition:
        filesize < 1MB and 3 of ($p*) and ($script or $onechar_host)
}

rule exsweep_exported_file_with_script
{
    meta:
        id = "EXR-EXCH-2"
        description = "An Outlook PST (mailbox export) or DER certificate blob that carries a server script: the ProxyShell way of planting a web shell through New-MailboxExportRequest or a certificate export, whatever the file is named"
        severity = "critical"
        family = "Exchange exploit payload"
        attack = "T1505.003"
        cve = "CVE-2021-34473"
        reference = "https://www.mandiant.com/resources/blog/pst-want-shell-proxyshell-exploiting-microsoft-exchange-servers"
        author = "exsweep"
    strings:
        $runat = /runat\s*=\s*["']?server/ nocase ascii wide
        $page = /<%\s*@\s*Page/ nocase ascii wide
        $eval = /\beval\s*\(/ nocase ascii wide
    condition:
        filesize < 100MB and (uint32(0) == 0x4E444221 or uint16(0) == 0x8230) and ($runat or ($page and $eval))
}
