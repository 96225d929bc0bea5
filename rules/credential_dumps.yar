// Credential dumping: the commands that dump LSASS memory, and the dumps themselves.

rule exsweep_lsass_dump_command
{
    meta:
        id = "EXR-CRED-1"
        description = "Script or command file that dumps LSASS memory (comsvcs.dll MiniDump, procdump -ma lsass)"
        severity = "high"
        attack = "T1003.001"
        family = "credential dump"
        reference = "https://www.microsoft.com/en-us/security/blog/2021/03/02/hafnium-targeting-exchange-servers/"
        author = "exsweep"
    strings:
        $comsvcs = /comsvcs(\.dll)?[\s,"']+#?(MiniDump|24)/ nocase ascii wide
        $procdump = /procdump(64)?(\.exe)?\s+(-accepteula\s+)?-ma\s+lsass/ nocase ascii wide
    condition:
        filesize < 5MB and uint16(0) != 0x5A4D and any of them
}

rule exsweep_lsass_minidump
{
    meta:
        id = "EXR-CRED-2"
        description = "A Windows minidump (MDMP) of the LSASS process, whatever its name: it holds the server's cached credentials"
        severity = "critical"
        family = "credential dump"
        attack = "T1003.001"
        reference = "https://www.microsoft.com/en-us/security/blog/2021/03/02/hafnium-targeting-exchange-servers/"
        author = "exsweep"
    strings:
        $lsasrv = "lsasrv.dll" nocase wide
        $wdigest = "wdigest.DLL" nocase wide
        $msv = "msv1_0.DLL" nocase wide
    condition:
        uint32(0) == 0x504D444D and 2 of them
}
