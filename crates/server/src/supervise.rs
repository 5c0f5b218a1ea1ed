//! Every long-running task is held and watched. A task that fails (returns an error or
//! panics) is logged, counted in `ghor_task_restarts_total` and started again after an
//! exponential backoff, until shutdown; one that returns `Ok` has finished its work. The
//! handles are kept in [`Tasks`], so the process waits for its tasks when it stops.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus::IntCounterVec;
use tokio::task::JoinHandle;

use crate::shutdown::Shutdown;

/// The first pause before a restart; it doubles with every failure in a row.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// The longest pause between restarts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A task that ran this long before failing starts again at the first backoff.
const STEADY: Duration = Duration::from_secs(60);

/// A held task: its kind and its handle.
type Held = (&'static str, JoinHandle<()>);

/// The supervised tasks of a process.
#[derive(Clone)]
pub struct Tasks {
    handles: Arc<Mutex<Vec<Held>>>,
    restarts: IntCounterVec,
    shutdown: Shutdown,
}

impl Tasks {
    pub fn new(restarts: IntCounterVec, shutdown: Shutdown) -> Tasks {
        Tasks { handles: Default::default(), restarts, shutdown }
    }

    /// Runs `start()` until it returns `Ok` or shutdown; restarts it with backoff when it
    /// fails. `name` is a bounded metric label (a kind of task, never an id).
    pub fn spawn<F, Fut, E>(&self, name: &'static str, start: F)
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        let restarts = self.restarts.with_label_values(&[name]);
        let mut shutdown = self.shutdown.clone();
        let handle = tokio::spawn(async move {
            let mut backoff = FIRST_BACKOFF;
            loop {
                let started = tokio::time::Instant::now();
                // Its own task, so that a panic is seen here as a failure like any other.
                let failure = match tokio::spawn(start()).await {
                    Ok(Ok(())) => return,
                    Ok(Err(e)) => e.to_string(),
                    Err(e) if e.is_panic() => format!("panicked: {}", panic_text(e.into_panic())),
                    Err(e) => e.to_string(),
                };
                if shutdown.is_triggered() {
                    return;
                }
                if started.elapsed() >= STEADY {
                    backoff = FIRST_BACKOFF;
                }
                restarts.inc();
                tracing::error!(task = name, error = %failure, restart_in = ?backoff, "task failed; restarting");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.recv() => return,
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        });
        self.handles.lock().unwrap_or_else(|p| p.into_inner()).push((name, handle));
    }

    /// Holds a task that runs once, until it ends or shutdown (nothing to restart it from).
    pub fn hold(&self, name: &'static str, task: impl Future<Output = ()> + Send + 'static) {
        let handle = tokio::spawn(task);
        self.handles.lock().unwrap_or_else(|p| p.into_inner()).push((name, handle));
    }

    /// The shutdown the tasks stop at.
    pub fn shutdown(&self) -> Shutdown {
        self.shutdown.clone()
    }

    /// Waits for every task to end (after shutdown was triggered), at most `within`;
    /// returns the names of those still running then.
    pub async fn join(&self, within: Duration) -> Vec<&'static str> {
        let handles = std::mem::take(&mut *self.handles.lock().unwrap_or_else(|p| p.into_inner()));
        let deadline = tokio::time::Instant::now() + within;
        let mut late = Vec::new();
        for (name, mut handle) in handles {
            if tokio::time::timeout_at(deadline, &mut handle).await.is_err() {
                handle.abort();
                late.push(name);
            }
        }
        late
    }
}

fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "without a message".to_owned())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn restarts() -> IntCounterVec {
        IntCounterVec::new(prometheus::Opts::new("t", "t"), &["task"]).unwrap_or_else(|e| panic!("{e}"))
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_or_panicking_task_is_restarted_until_it_finishes() {
        let (trigger, shutdown) = crate::shutdown::channel();
        let tasks = Tasks::new(restarts(), shutdown);
        let runs = Arc::new(AtomicU32::new(0));
        let counter = runs.clone();
        tasks.spawn("flaky", move || {
            let run = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                match run {
                    0 => Err("first failure".to_owned()),
                    1 => panic!("second failure"),
                    _ => Ok(()),
                }
            }
        });
        assert!(tasks.join(Duration::from_secs(10)).await.is_empty(), "the task finished");
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        assert_eq!(tasks.restarts.with_label_values(&["flaky"]).get(), 2);
        drop(trigger);
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_ends_the_restarts() {
        let (trigger, shutdown) = crate::shutdown::channel();
        let tasks = Tasks::new(restarts(), shutdown);
        tasks.spawn("always failing", || async { Err::<(), _>("down") });
        tokio::time::sleep(Duration::from_secs(5)).await;
        trigger.trigger();
        assert!(tasks.join(Duration::from_secs(1)).await.is_empty(), "it stopped at shutdown");
        assert!(tasks.restarts.with_label_values(&["always failing"]).get() >= 3);
    }
}
