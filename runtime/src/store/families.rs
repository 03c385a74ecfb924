//! Our series as the model's metric families: each metric name's series (summaries,
//! histograms, counters or gauges, one per label set, and the one overflow series beyond the
//! cardinality limit), the counter of refused values, and the names their samples go by
//! (which no other family may reuse).

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::model::family::{self as model, Bucket, Kind, Metric, Quantile, Value};
use crate::store::counter::CounterCore;
use crate::store::gauge::GaugeCore;
use crate::store::registry::CallSiteId;
use crate::store::summary::SummaryCore;

/// Name of the counter of refused values (hand observations, counts, gauge values).
pub(crate) const REJECTED_COUNTER: &str = "pushtimer_rejected_observations_total";
const REJECTED_HELP: &str = "Values refused by pushtimer because they were negative, NaN, \
                             infinite or too large, by the metric that refused them.";
/// The label of [`REJECTED_COUNTER`] naming the metric that refused.
pub(crate) const REJECTED_LABEL: &str = "metric";
/// The label, set to `"true"`, of the series that takes every label set past a metric's
/// cardinality limit.
pub(crate) const OVERFLOW_LABEL: &str = "pushtimer_overflow";

/// What the series of one family are.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Shape {
    /// A summary, with these quantiles (none for none).
    Summary {
        quantiles: Vec<f64>,
    },
    /// A histogram with these classic bucket bounds (seconds; empty for none) and native
    /// buckets sent at this schema (`None` for none); never neither.
    Histogram {
        buckets: Vec<f64>,
        native: Option<i32>,
    },
    Counter,
    Gauge,
}

impl Shape {
    /// The shape of a summary (no `buckets`) or a histogram, as a call site or builder gives it.
    pub(crate) fn timing(buckets: &[f64], quantiles: &[f64]) -> Shape {
        if buckets.is_empty() {
            Shape::Summary {
                quantiles: quantiles.to_vec(),
            }
        } else {
            Shape::Histogram {
                buckets: buckets.to_vec(),
                native: None,
            }
        }
    }

    /// A new series of this shape, leaked.
    pub(crate) fn leak(&self, name: &str) -> Core {
        match self {
            Shape::Summary { quantiles } => Core::Summary(SummaryCore::leak(name, &[], quantiles)),
            Shape::Histogram {
                buckets,
                native: None,
            } => Core::Summary(SummaryCore::leak(name, buckets, &[])),
            Shape::Histogram {
                buckets,
                native: Some(schema),
            } => Core::Summary(SummaryCore::leak_native(name, buckets, *schema)),
            Shape::Counter => Core::Counter(CounterCore::leak(name)),
            Shape::Gauge => Core::Gauge(GaugeCore::leak(name)),
        }
    }

    /// For messages: "summary", "histogram", "counter", "gauge".
    pub(crate) fn noun(&self) -> &'static str {
        match self {
            Shape::Summary { .. } => "summary",
            Shape::Histogram { .. } => "histogram",
            Shape::Counter => "counter",
            Shape::Gauge => "gauge",
        }
    }

    /// For messages: "a summary", "a histogram with buckets [..]", "a counter".
    pub(crate) fn describe(&self) -> String {
        match self {
            Shape::Summary { quantiles } if quantiles.is_empty() => String::from("a summary"),
            Shape::Summary { quantiles } => format!("a summary with quantiles {quantiles:?}"),
            Shape::Histogram {
                buckets,
                native: None,
            } => format!("a histogram with buckets {buckets:?}"),
            Shape::Histogram {
                buckets,
                native: Some(schema),
            } if buckets.is_empty() => format!("a native histogram of schema {schema}"),
            Shape::Histogram {
                buckets,
                native: Some(schema),
            } => format!("a histogram with buckets {buckets:?} and native ones of schema {schema}"),
            Shape::Counter => String::from("a counter"),
            Shape::Gauge => String::from("a gauge"),
        }
    }

    /// The names the samples of a family `name` of this shape go by.
    pub(crate) fn sample_names(&self, name: &str) -> Vec<String> {
        match self {
            Shape::Summary { .. } => vec![
                name.to_owned(),
                format!("{name}_sum"),
                format!("{name}_count"),
            ],
            Shape::Histogram { .. } => vec![
                format!("{name}_bucket"),
                format!("{name}_sum"),
                format!("{name}_count"),
            ],
            Shape::Counter | Shape::Gauge => vec![name.to_owned()],
        }
    }

    fn kind(&self) -> Kind {
        match self {
            Shape::Summary { .. } => Kind::Summary,
            Shape::Histogram { .. } => Kind::Histogram,
            Shape::Counter => Kind::Counter,
            Shape::Gauge => Kind::Gauge,
        }
    }
}

/// One live series, of whichever shape.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Core {
    /// A summary's or a histogram's.
    Summary(&'static SummaryCore),
    Counter(&'static CounterCore),
    Gauge(&'static GaugeCore),
}

impl Core {
    fn name(self) -> &'static str {
        match self {
            Core::Summary(core) => core.name(),
            Core::Counter(core) => core.name(),
            Core::Gauge(core) => core.name(),
        }
    }

    fn rejected(self) -> u64 {
        match self {
            Core::Summary(core) => core.rejected(),
            Core::Counter(core) => core.rejected(),
            Core::Gauge(core) => core.rejected(),
        }
    }

    /// The series' value now, in the model.
    fn value(self) -> Value {
        match self {
            Core::Summary(core) => match (core.buckets(), core.native_counts()) {
                (classic, Some((counts, stored, sent))) => {
                    // The count is the classic buckets' when there are any, else the native
                    // ones': each added up once, here.
                    let (buckets, count) = match classic {
                        Some((buckets, all)) => (classic_buckets(buckets), all),
                        // Exact classic buckets at powers of 4, for consumers of the text
                        // format, made from the native ones.
                        None => (counts.classic_at_derived_bounds(stored), counts.total()),
                    };
                    Value::Histogram(model::Histogram {
                        count,
                        sum: core.sum_seconds(),
                        buckets,
                        native: counts.to_native(stored, sent),
                    })
                }
                (Some((buckets, count)), None) => Value::Histogram(model::Histogram {
                    count,
                    sum: core.sum_seconds(),
                    buckets: classic_buckets(buckets),
                    native: None,
                }),
                (None, None) => {
                    let (count, sum) = core.snapshot();
                    let quantiles = core
                        .quantile_values()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(quantile, value)| Quantile { quantile, value })
                        .collect();
                    Value::Summary(model::Summary {
                        count,
                        sum,
                        quantiles,
                    })
                }
            },
            // An f64 holds every count below 2^53 exactly.
            Core::Counter(core) => Value::Counter(core.value() as f64),
            Core::Gauge(core) => Value::Gauge(core.value()),
        }
    }
}

/// All series of one metric name.
pub(crate) struct Family {
    pub(crate) help: String,
    pub(crate) label_names: Vec<String>,
    pub(crate) shape: Shape,
    pub(crate) series: Vec<(Vec<String>, Core)>,
    pub(crate) index: HashMap<Vec<String>, usize>,
    /// The series every label set past the cardinality limit lands in, with its labels (the
    /// process-wide ones and [`OVERFLOW_LABEL`]); made when the first one arrives.
    pub(crate) overflow: Option<(model::Labels, Core)>,
    /// The first `#[timed]` call site that fed this family.
    pub(crate) first_call_site: Option<CallSiteId>,
}

/// Our families in the model, by name, and every sample name they produce.
pub(crate) fn own_families(
    by_name: &BTreeMap<String, Family>,
) -> (Vec<model::Family>, HashSet<String>) {
    let mut all = Vec::with_capacity(by_name.len().saturating_add(1));
    let mut names = HashSet::with_capacity(by_name.len().saturating_mul(4).saturating_add(1));
    let mut rejected = Vec::new();
    for (name, family) in by_name {
        let overflow = family
            .overflow
            .iter()
            .map(|(labels, core)| (labels.clone(), *core));
        let series = family
            .series
            .iter()
            .map(|(values, core)| (labels(&family.label_names, values), *core))
            .chain(overflow);
        let mut metrics = Vec::with_capacity(family.series.len());
        for (labels, core) in series {
            metrics.push(Metric {
                labels,
                value: core.value(),
                timestamp_ms: None,
            });
            if core.rejected() > 0 {
                rejected.push((core.name(), core.rejected()));
            }
        }
        names.extend(family.shape.sample_names(name));
        if metrics.is_empty() {
            continue;
        }
        all.push(model::Family {
            name: name.clone(),
            help: family.help.clone(),
            kind: family.shape.kind(),
            metrics,
        });
    }
    names.insert(REJECTED_COUNTER.to_owned());
    if !rejected.is_empty() {
        // One series per metric name; series of one name with other labels add up.
        let mut by_metric: BTreeMap<&str, u64> = BTreeMap::new();
        for (metric, count) in rejected {
            let total = by_metric.entry(metric).or_default();
            *total = total.saturating_add(count);
        }
        let mut family = model::Family::new(REJECTED_COUNTER, REJECTED_HELP, Kind::Counter);
        family.metrics = by_metric
            .into_iter()
            .map(|(metric, count)| Metric {
                labels: vec![(REJECTED_LABEL.to_owned(), metric.to_owned())],
                // An f64 holds every count below 2^53 exactly.
                value: Value::Counter(count as f64),
                timestamp_ms: None,
            })
            .collect();
        all.push(family);
    }
    (all, names)
}

/// Classic buckets in the model: finite bounds only (checked when the histogram was made),
/// since `+Inf` is the count, as the model has it.
fn classic_buckets(buckets: Vec<(f64, u64)>) -> Vec<Bucket> {
    buckets
        .into_iter()
        .map(|(upper_bound, cumulative_count)| Bucket {
            upper_bound,
            cumulative_count,
        })
        .collect()
}

/// A series' labels: the family's label names with this series' values, in order.
fn labels(names: &[String], values: &[String]) -> model::Labels {
    names.iter().cloned().zip(values.iter().cloned()).collect()
}
