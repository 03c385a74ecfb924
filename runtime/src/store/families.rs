//! Our series as metric families: each metric name's series (a summary or a histogram per
//! label set), the counter of refused hand observations, and the names their samples go by in
//! the text format (which a user family must not reuse).

use std::collections::{BTreeMap, HashMap, HashSet};

use prometheus::proto::{
    Bucket, Counter, Histogram, LabelPair, Metric, MetricFamily, MetricType, Quantile, Summary,
};

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

/// Our families as protobuf, and every sample name they produce.
pub(crate) fn own_families(
    by_name: &BTreeMap<String, Family>,
) -> (Vec<MetricFamily>, HashSet<String>) {
    let mut all = Vec::with_capacity(by_name.len() + 1);
    let mut names = HashSet::with_capacity(by_name.len() * 3 + 1);
    let mut rejected = Vec::new();
    for (name, family) in by_name {
        let mut metrics = Vec::with_capacity(family.series.len());
        for (values, core) in &family.series {
            let mut metric = Metric::default();
            metric.set_label(label_pairs(&family.label_names, values));
            match core.buckets() {
                Some((buckets, all)) => {
                    let mut histogram = Histogram::default();
                    histogram.set_sample_count(all);
                    histogram.set_sample_sum(core.sum_seconds());
                    histogram.set_bucket(
                        buckets
                            .into_iter()
                            .map(|(bound, cumulative)| {
                                let mut bucket = Bucket::default();
                                bucket.set_upper_bound(bound);
                                bucket.set_cumulative_count(cumulative);
                                bucket
                            })
                            .collect(),
                    );
                    metric.set_histogram(histogram);
                }
                None => {
                    let (count, sum) = core.snapshot();
                    let mut summary = Summary::default();
                    summary.set_sample_count(count);
                    summary.set_sample_sum(sum);
                    if let Some(values) = core.quantile_values() {
                        summary.set_quantile(
                            values
                                .into_iter()
                                .map(|(q, value)| {
                                    let mut quantile = Quantile::default();
                                    quantile.set_quantile(q);
                                    quantile.set_value(value);
                                    quantile
                                })
                                .collect(),
                        );
                    }
                    metric.set_summary(summary);
                }
            }
            metrics.push(metric);
            if core.rejected() > 0 {
                rejected.push((core.name().to_owned(), core.rejected()));
            }
        }
        if metrics.is_empty() {
            continue;
        }
        let kind = if family.buckets.is_empty() {
            MetricType::SUMMARY
        } else {
            names.insert(format!("{name}_bucket"));
            MetricType::HISTOGRAM
        };
        all.push(family_of(name, &family.help, kind, metrics));
        names.extend([name.clone(), format!("{name}_sum"), format!("{name}_count")]);
    }
    names.insert(REJECTED_COUNTER.to_owned());
    if !rejected.is_empty() {
        // One series per summary name; series of one name with other labels add up.
        let mut by_summary: BTreeMap<String, u64> = BTreeMap::new();
        for (summary, count) in rejected {
            let total = by_summary.entry(summary).or_default();
            *total = total.saturating_add(count);
        }
        let metrics = by_summary
            .into_iter()
            .map(|(summary, count)| {
                let mut counter = Counter::default();
                // An f64 holds every count below 2^53 exactly.
                counter.set_value(count as f64);
                let mut metric = Metric::default();
                metric.set_label(label_pairs(&["summary".to_owned()], &[summary]));
                metric.set_counter(counter);
                metric
            })
            .collect();
        all.push(family_of(
            REJECTED_COUNTER,
            REJECTED_HELP,
            MetricType::COUNTER,
            metrics,
        ));
    }
    (all, names)
}

pub(crate) fn family_of(
    name: &str,
    help: &str,
    kind: MetricType,
    metrics: Vec<Metric>,
) -> MetricFamily {
    let mut family = MetricFamily::default();
    family.set_name(name.to_owned());
    family.set_help(help.to_owned());
    family.set_field_type(kind);
    family.set_metric(metrics);
    family
}

pub(crate) fn label_pairs(names: &[String], values: &[String]) -> Vec<LabelPair> {
    names
        .iter()
        .zip(values)
        .map(|(name, value)| {
            let mut pair = LabelPair::default();
            pair.set_name(name.clone());
            pair.set_value(value.clone());
            pair
        })
        .collect()
}

/// The names a family's samples go by in the text format.
pub(crate) fn sample_names(family: &MetricFamily) -> Vec<String> {
    let name = family.name();
    let mut names = vec![name.to_owned()];
    match family.get_field_type() {
        MetricType::SUMMARY => {
            names.extend([format!("{name}_sum"), format!("{name}_count")]);
        }
        MetricType::HISTOGRAM => names.extend([
            format!("{name}_sum"),
            format!("{name}_count"),
            format!("{name}_bucket"),
        ]),
        _ => {}
    }
    names
}
