//! The log hunt's settings: the `--since`/`--until` window and the `--follow` needle.

use std::time::SystemTime;

#[derive(Clone, Default)]
pub struct HuntOptions {
    pub since: Option<SystemTime>,
    pub until: Option<SystemTime>,
    /// A RequestId or client IP whose every logged request is collected.
    pub follow: Option<String>,
}

impl HuntOptions {
    /// True when an entry of this time is outside `--since`/`--until`.
    pub fn outside_window(&self, time: Option<SystemTime>) -> bool {
        time.is_some_and(|t| self.since.is_some_and(|s| t < s) || self.until.is_some_and(|u| t > u))
    }
}
