//! The Prometheus recorder (`metrics-exporter-prometheus`, without its own
//! HTTP server): installed once per process, rendered in the Prometheus
//! text format by the admin listener's `/metrics`.

use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::meters::{self, Kind};
use crate::store::any::Store;

/// How often histograms' recent samples are folded into their buckets.
const UPKEEP: Duration = Duration::from_secs(5);

/// The installed recorder.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
}

impl Metrics {
    /// Installs the process-wide recorder, with every metric of
    /// [`meters::ALL`] described and its histogram buckets set, and starts
    /// its upkeep task (needs a tokio runtime).
    pub fn install() -> anyhow::Result<Self> {
        let mut builder = PrometheusBuilder::new();
        for (name, kind, _) in meters::ALL {
            if let Kind::Histogram(bounds) = kind {
                builder =
                    builder.set_buckets_for_metric(Matcher::Full(name.to_string()), bounds)?;
            }
        }
        let handle = builder.install_recorder()?;
        for (name, kind, help) in meters::ALL {
            match kind {
                Kind::Counter => metrics::describe_counter!(*name, *help),
                Kind::Gauge => metrics::describe_gauge!(*name, *help),
                Kind::Histogram(_) => metrics::describe_histogram!(*name, *help),
            }
        }
        let upkeep = handle.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(UPKEEP);
            loop {
                every.tick().await;
                upkeep.run_upkeep();
            }
        });
        Ok(Self { handle })
    }

    /// Every metric in the text format, the pool gauges read now.
    pub fn render(&self, store: &Store) -> String {
        if let Store::Postgres(pg) = store {
            let status = pg.pool_status();
            metrics::gauge!(meters::DB_POOL_SIZE).set(status.size as f64);
            metrics::gauge!(meters::DB_POOL_IN_USE)
                .set(status.size.saturating_sub(status.available) as f64);
            metrics::gauge!(meters::DB_POOL_WAITING).set(status.waiting as f64);
        }
        self.handle.render()
    }
}
