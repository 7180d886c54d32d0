//! Liveness and readiness.
//!
//! Live: the process answers. Ready: not draining, and the database
//! answers a trivial query (`SELECT 1`, no table read, so never a user's
//! data) within [`DATABASE_TIMEOUT`]. On SIGTERM the instance turns
//! not-ready at once ([`Health::start_draining`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::meters;
use crate::store::any::Store;

/// Longest a readiness check waits for the database.
pub const DATABASE_TIMEOUT: Duration = Duration::from_secs(1);

/// Why an instance is not ready.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotReady {
    /// It received SIGTERM and is finishing its requests.
    #[error("draining")]
    Draining,
    /// The database did not answer (in time).
    #[error("database unavailable")]
    Database,
}

/// The instance's health, shared by the admin listener and the shutdown path.
pub struct Health {
    store: Store,
    draining: AtomicBool,
    /// Test-only planted fault: readiness ignores draining.
    fault_ready_while_draining: bool,
}

impl Health {
    /// Health of an instance on `store`; `fault_ready_while_draining` is the
    /// planted fault of the `rolling-restart` CI step's negative run.
    pub fn new(store: Store, fault_ready_while_draining: bool) -> Arc<Self> {
        metrics::gauge!(meters::READY).set(1.0);
        Arc::new(Self {
            store,
            draining: AtomicBool::new(false),
            fault_ready_while_draining,
        })
    }

    /// Turns the instance not-ready for good.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Release);
        metrics::gauge!(meters::READY).set(0.0);
    }

    /// Whether [`Health::start_draining`] was called.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// Ready for traffic, or why not.
    pub async fn readiness(&self) -> Result<(), NotReady> {
        if self.is_draining() && !self.fault_ready_while_draining {
            return Err(NotReady::Draining);
        }
        match tokio::time::timeout(DATABASE_TIMEOUT, self.store.ping()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "readiness: the database does not answer");
                Err(NotReady::Database)
            }
            Err(_) => {
                tracing::warn!(
                    timeout_ms = DATABASE_TIMEOUT.as_millis() as u64,
                    "readiness: the database did not answer in time"
                );
                Err(NotReady::Database)
            }
        }
    }
}

/// Completes once `signal` has fired and, after it, the instance has been
/// not-ready for `delay`: the moment the API listener stops accepting.
pub async fn drain_after(
    health: Arc<Health>,
    signal: impl std::future::Future<Output = ()>,
    delay: Duration,
) {
    signal.await;
    health.start_draining();
    if !delay.is_zero() {
        tracing::info!(
            delay_ms = delay.as_millis() as u64,
            "not ready; serving on until load balancers stop sending"
        );
        tokio::time::sleep(delay).await;
    }
}
