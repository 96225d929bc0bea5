//! IIS configuration fixtures for the tests.

/// A site `web.config` with the EOMT cookie rule (ProxyLogon) and the ProxyNotShell
/// autodiscover rule, as Microsoft published them.
pub const MITIGATION_RULES: &str = r#"<configuration><system.webServer><rewrite><rules>
      <rule name="EOMT Cookie" stopProcessing="true"><match url=".*" />
        <conditions logicalGrouping="MatchAny">
          <add input="{HTTP_COOKIE}" pattern="(.*)X-AnonResource-Backend(.*)" />
          <add input="{HTTP_COOKIE}" pattern="(.*)X-BEResource=(.+)/(.+)~(.+)" />
        </conditions><action type="AbortRequest" /></rule>
      <rule name="PowerShell - inbound"><match url=".*" />
        <conditions><add input="{UrlDecode:{REQUEST_URI}}" pattern="(?=.*autodiscover)(?=.*powershell)" /></conditions>
        <action type="AbortRequest" /></rule>
    </rules></rewrite></system.webServer></configuration>"#;
