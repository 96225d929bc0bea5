//! What a run tells whoever watches it while it goes (the binary draws a progress bar
//! from it). The engine counts for itself and draws nothing.

/// Told of the sweep's progress, from many threads at once.
pub trait Progress: Sync {
    /// One more file was swept.
    fn file_swept(&self) {}
    /// The file sweep is over.
    fn sweep_finished(&self) {}
}

/// Watches nothing: tests, the library's callers that show no progress.
pub struct Silent;

impl Progress for Silent {}
