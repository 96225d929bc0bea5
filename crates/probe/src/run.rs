//! Many targets at once: a tokio runtime, at most `concurrency` probes in flight,
//! targets drawn lazily from their specs and results handed back as each finishes,
//! so memory stays flat however many targets there are.

use crate::http::Client;
use crate::probe::{probe, ProbeResult};
use crate::targets::{Target, TargetSpec};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;

/// Probes in flight by default: enough to keep a /16 under ten minutes with
/// unanswered addresses costing a full timeout each, few enough for a laptop's
/// file-descriptor limit.
pub const DEFAULT_CONCURRENCY: usize = 256;
/// Seconds one request may take, connect to last byte.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Debug)]
pub struct ProbeOptions {
    pub concurrency: usize,
    pub timeout: Duration,
    /// Adds the non-destructive exploitation checks.
    pub active: bool,
}

impl Default for ProbeOptions {
    fn default() -> ProbeOptions {
        ProbeOptions {
            concurrency: DEFAULT_CONCURRENCY,
            timeout: DEFAULT_TIMEOUT,
            active: false,
        }
    }
}

/// How many targets `specs` stand for (for a progress bar).
pub fn count(specs: &[TargetSpec]) -> u64 {
    specs.iter().map(TargetSpec::len).sum()
}

/// Probes every target of `specs` and calls `on_result` for each, in the order they
/// finish. Returns an error only when the runtime cannot start.
pub fn run(
    specs: Vec<TargetSpec>,
    options: &ProbeOptions,
    mut on_result: impl FnMut(ProbeResult),
) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the probe's runtime: {e}"))?;
    let client = Arc::new(Client::new(options.timeout));
    let mut targets = specs.into_iter().flat_map(TargetSpec::targets);
    let concurrency = options.concurrency.max(1);
    let active = options.active;
    runtime.block_on(async {
        let mut running: JoinSet<ProbeResult> = JoinSet::new();
        let spawn = |running: &mut JoinSet<ProbeResult>, target: Target| {
            let client = client.clone();
            running.spawn(async move { probe(&client, &target, active).await });
        };
        for target in targets.by_ref().take(concurrency) {
            spawn(&mut running, target);
        }
        while let Some(done) = running.join_next().await {
            if let Some(next) = targets.next() {
                spawn(&mut running, next);
            }
            match done {
                Ok(result) => on_result(result),
                // A probe that panicked is a bug here, not the target's doing: say so
                // in place of its result and go on with the others.
                Err(e) => on_result(ProbeResult {
                    error: Some(format!("the probe failed: {e}")),
                    ..ProbeResult::default()
                }),
            }
        }
    });
    Ok(())
}
