// Defacement: pages that announce the site was taken over. Not a web shell, but
// someone wrote into the web root, which is what a responder must know first.

rule exsweep_defacement_banner
{
    meta:
        id = "EXR-DEF-1"
        description = "A page that announces the site was hacked (\"Hacked by ...\", \"Owned by ...\") in its title or a heading: a defacement, so someone could write into the web root; look for the way in (a web shell, an upload, a stolen account) next to it"
        severity = "medium"
        family = "defacement"
        attack = "T1491.002"
        reference = "https://attack.mitre.org/techniques/T1491/002/"
        author = "exsweep"
    strings:
        // The claim first (what the prefilter keys on), then the tag it closes.
        $banner = /(hacked|h4ck3d|hack3d|owned|pwned)[!.]?\s+((hacked|owned|pwned)\s+)?by\s[^<]{1,60}<\/(title|h1|h2|h3|b|strong|font|marquee|center)>/ nocase
    condition:
        filesize < 2MB and $banner
}
