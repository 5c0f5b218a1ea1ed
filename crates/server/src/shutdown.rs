//! Shutdown as an argument, not a global: every long loop `select!`s on [`Shutdown::recv`].

use tokio::sync::watch;

/// The sending side: `trigger` tells every [`Shutdown`] to stop.
#[derive(Clone)]
pub struct Trigger(watch::Sender<bool>);

/// The receiving side, cloned into every task.
#[derive(Clone)]
pub struct Shutdown(watch::Receiver<bool>);

pub fn channel() -> (Trigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (Trigger(tx), Shutdown(rx))
}

impl Trigger {
    pub fn trigger(&self) {
        let _ = self.0.send(true);
    }
}

impl Shutdown {
    /// Completes when shutdown is triggered (or its trigger is gone).
    pub async fn recv(&mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    pub fn is_triggered(&self) -> bool {
        *self.0.borrow()
    }
}
