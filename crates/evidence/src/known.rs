//! Where Windows, IIS and Exchange keep things on a default install: the paths every
//! stage starts from before the registry or a configuration file says otherwise.

/// Where the Exchange installer puts the product unless told otherwise, below a drive.
pub const DEFAULT_INSTALL_DIRS: [&str; 2] = [
    r"Program Files\Microsoft\Exchange Server\V15",
    r"Program Files\Microsoft\Exchange Server\V14",
];
/// Exchange 2013-2019's default install root.
pub const DEFAULT_EXCHANGE_ROOT: &str = r"C:\Program Files\Microsoft\Exchange Server\V15";
pub const SOFTWARE_HIVE: &str = r"C:\Windows\System32\config\SOFTWARE";
pub const SYSTEM_HIVE: &str = r"C:\Windows\System32\config\SYSTEM";
pub const APPLICATION_HOST: &str = r"C:\Windows\System32\inetsrv\config\applicationHost.config";
pub const DEFAULT_WEB_ROOT: &str = r"C:\inetpub\wwwroot";
pub const IIS_LOG_DIR: &str = r"C:\inetpub\logs\LogFiles";
pub const EVENT_LOG_DIR: &str = r"C:\Windows\System32\winevt\Logs";
