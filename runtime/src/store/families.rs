//! Our series as the model's metric families: each metric name's series (a summary or a
//! histogram per label set), the counter of refused hand observations, and the names their
//! samples go by (which a user family must not reuse).

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::model::family::{self as model, Bucket, Kind, Metric, Quantile, Value};
use crate::store::registry::CallSiteId;
use crate::store::summary::SummaryCore;

/// Name of the counter of refused hand observations.
pub(crate) const REJECTED_COUNTER: &str = "pushtimer_rejected_observations_total";
const REJECTED_HELP: &str =
    "Observations refused by pushtimer because they were negative, NaN, infinite or too large.";

/// All series of one metric name.
pub(crate) struct Family {
    pub(crate) help: String,
    pub(crate) label_names: Vec<String>,
    /// A histogram's bucket bounds (seconds); empty for a summary.
    pub(crate) buckets: Vec<f64>,
    /// A summary's quantiles; empty for none.
    pub(crate) quantiles: Vec<f64>,
    pub(crate) series: Vec<(Vec<String>, &'static SummaryCore)>,
    pub(crate) index: HashMap<Vec<String>, usize>,
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
        let mut metrics = Vec::with_capacity(family.series.len());
        for (values, core) in &family.series {
            let value = match core.buckets() {
                Some((buckets, count)) => Value::Histogram(model::Histogram {
                    count,
                    sum: core.sum_seconds(),
                    // Finite bounds only (checked when the histogram was made): `+Inf` is the
                    // count, as the model has it.
                    buckets: buckets
                        .into_iter()
                        .map(|(upper_bound, cumulative_count)| Bucket {
                            upper_bound,
                            cumulative_count,
                        })
                        .collect(),
                    native: None,
                }),
                None => {
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
            };
            metrics.push(Metric {
                labels: labels(&family.label_names, values),
                value,
                timestamp_ms: None,
            });
            if core.rejected() > 0 {
                rejected.push((core.name().to_owned(), core.rejected()));
            }
        }
        if metrics.is_empty() {
            continue;
        }
        let kind = if family.buckets.is_empty() {
            Kind::Summary
        } else {
            Kind::Histogram
        };
        let family = model::Family {
            name: name.clone(),
            help: family.help.clone(),
            kind,
            metrics,
        };
        names.extend(family.sample_names());
        all.push(family);
    }
    names.insert(REJECTED_COUNTER.to_owned());
    if !rejected.is_empty() {
        // One series per summary name; series of one name with other labels add up.
        let mut by_summary: BTreeMap<String, u64> = BTreeMap::new();
        for (summary, count) in rejected {
            let total = by_summary.entry(summary).or_default();
            *total = total.saturating_add(count);
        }
        let mut family = model::Family::new(REJECTED_COUNTER, REJECTED_HELP, Kind::Counter);
        family.metrics = by_summary
            .into_iter()
            .map(|(summary, count)| Metric {
                labels: vec![("summary".to_owned(), summary)],
                // An f64 holds every count below 2^53 exactly.
                value: Value::Counter(count as f64),
                timestamp_ms: None,
            })
            .collect();
        all.push(family);
    }
    (all, names)
}

/// A series' labels: the family's label names with this series' values, in order.
fn labels(names: &[String], values: &[String]) -> model::Labels {
    names.iter().cloned().zip(values.iter().cloned()).collect()
}
