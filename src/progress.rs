//! A progress bar on stderr, shown only for runs that last over a second and only
//! when stderr is a terminal, so pipes and CI logs stay clean.

use exsweep_engine::progress::Progress;
use indicatif::{ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const SHOW_AFTER: Duration = Duration::from_secs(1);

pub struct ProgressBar {
    bar: indicatif::ProgressBar,
    started: Instant,
    wanted: bool,
    shown: AtomicBool,
}

impl ProgressBar {
    /// A counter of files done; the total is unknown because reading overlaps the walk.
    pub fn new(wanted: bool) -> ProgressBar {
        let bar = indicatif::ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {elapsed_precise} {pos} files read ({per_sec})",
            )
            .expect("static template"),
        );
        ProgressBar {
            bar,
            started: Instant::now(),
            wanted: wanted && std::io::stderr().is_terminal(),
            shown: AtomicBool::new(false),
        }
    }
}

impl Progress for ProgressBar {
    fn file_swept(&self) {
        self.bar.inc(1);
        if self.wanted
            && !self.shown.load(Ordering::Relaxed)
            && self.started.elapsed() > SHOW_AFTER
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    fn sweep_finished(&self) {
        self.bar.finish_and_clear();
    }
}
