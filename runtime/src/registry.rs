//! The global registry: one series per metric name and label set, created on first use.
//!
//! Series live in a `prometheus::Registry` (so the text exposition is the `prometheus` crate's)
//! and, for lookup, in a map from name to family. The map is only touched when a call site or a
//! hand-made summary is resolved, never per observation.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use prometheus::core::Desc;
use prometheus::{Encoder, IntCounterVec, Opts, TextEncoder};

use crate::summary::{SummaryCollector, SummaryCore};

/// The name prefix and constant labels every series gets (`PUSHTIMER_NAMESPACE`,
/// `PUSHTIMER_LABELS`), already validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Naming {
    pub(crate) namespace: Option<String>,
    pub(crate) labels: Vec<(String, String)>,
}

/// Name of the counter of refused hand observations.
const REJECTED_COUNTER: &str = "pushtimer_rejected_observations_total";

/// All series of one metric name.
struct Family {
    help: String,
    label_names: Vec<String>,
    series: HashMap<Vec<String>, &'static SummaryCore>,
}

#[derive(Default)]
struct Families {
    by_name: HashMap<String, Family>,
    /// Series that cannot be exported (label names conflicting with an earlier series of the
    /// same name, or refused by the registry), by name and labels: the same one is handed out
    /// again rather than a new one each time.
    unexported: HashMap<(String, Vec<String>, Vec<String>), &'static SummaryCore>,
    /// Conflicts already reported, so each is logged once.
    reported: HashSet<String>,
}

/// The registry behind [`render`](crate::render) and the background pusher.
pub(crate) struct Registry {
    prometheus: prometheus::Registry,
    naming: Naming,
    families: Mutex<Families>,
    rejected: OnceLock<Option<IntCounterVec>>,
}

impl Registry {
    pub(crate) fn new(naming: Naming) -> Self {
        Registry {
            prometheus: prometheus::Registry::new(),
            naming,
            families: Mutex::default(),
            rejected: OnceLock::new(),
        }
    }

    /// The `prometheus` registry, for users who add metrics of their own to what is pushed.
    pub(crate) fn prometheus(&self) -> &prometheus::Registry {
        &self.prometheus
    }

    /// The series for `name` (already ending in `_seconds`) with these constant labels, created
    /// on first use. Never fails: a series that conflicts with an earlier one of the same name
    /// (other label names) is logged once and handed out unregistered, so the caller still
    /// works but its data is not exported.
    pub(crate) fn summary(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
    ) -> &'static SummaryCore {
        let full_name = match &self.naming.namespace {
            Some(namespace) => format!("{namespace}_{name}"),
            None => name.to_owned(),
        };
        // The function's own labels win over the global ones of the same name.
        let mut merged: BTreeMap<String, String> = self.naming.labels.iter().cloned().collect();
        merged.extend(
            labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let label_names: Vec<String> = merged.keys().cloned().collect();
        let label_values: Vec<String> = merged.values().cloned().collect();

        // `Desc` refuses an empty HELP, which would silently keep the series from being
        // exported.
        let default_help;
        let help = if help.is_empty() {
            default_help = format!("Duration of {full_name}, in seconds.");
            default_help.as_str()
        } else {
            help
        };
        let mut families = self.lock_families();
        let Families {
            by_name,
            unexported,
            reported,
        } = &mut *families;
        let key = (full_name.clone(), label_names.clone(), label_values.clone());
        if let Some(core) = unexported.get(&key) {
            return core;
        }
        let family = by_name.entry(full_name.clone()).or_insert_with(|| Family {
            help: help.to_owned(),
            label_names: label_names.clone(),
            series: HashMap::new(),
        });
        if family.label_names != label_names {
            if reported.insert(format!("labels {full_name} {label_names:?}")) {
                log::warn!(
                    "pushtimer: summary {full_name} is used with label names {:?} here and {:?} elsewhere; \
                     the series with {:?} is not exported (give the two a different name)",
                    label_names,
                    family.label_names,
                    label_names
                );
            }
            let core = SummaryCore::leak(&full_name);
            unexported.insert(key, core);
            return core;
        }
        if family.help != help && reported.insert(format!("help {full_name} {help}")) {
            log::warn!(
                "pushtimer: summary {full_name} is used with two HELP texts, {:?} and {:?}; the first is kept",
                family.help,
                help
            );
        }
        if let Some(core) = family.series.get(&label_values) {
            return core;
        }
        let core = SummaryCore::leak(&full_name);
        let registered = Desc::new(
            full_name.clone(),
            family.help.clone(),
            vec![],
            merged.into_iter().collect(),
        )
        .and_then(|desc| {
            self.prometheus
                .register(Box::new(SummaryCollector::new(desc, core)))
        });
        match registered {
            Ok(()) => {
                family.series.insert(label_values, core);
            }
            Err(error) => {
                if reported.insert(format!("register {full_name}")) {
                    log::warn!("pushtimer: summary {full_name} cannot be exported: {error}");
                }
                unexported.insert(key, core);
            }
        }
        core
    }

    /// Counts a refused hand observation in `pushtimer_rejected_observations_total`.
    pub(crate) fn count_rejected(&self, summary: &str) {
        let counter = self.rejected.get_or_init(|| {
            let opts = Opts::new(
                REJECTED_COUNTER,
                "Observations refused by pushtimer because they were negative, NaN or infinite.",
            );
            let counter = IntCounterVec::new(opts, &["summary"]).ok()?;
            self.prometheus.register(Box::new(counter.clone())).ok()?;
            Some(counter)
        });
        if let Some(counter) = counter
            && let Ok(series) = counter.get_metric_with_label_values(&[summary])
        {
            series.inc();
        }
    }

    /// The text exposition (format 0.0.4) of everything registered.
    pub(crate) fn render(&self) -> String {
        let mut buffer = Vec::new();
        if let Err(error) = TextEncoder::new().encode(&self.prometheus.gather(), &mut buffer) {
            log::warn!("pushtimer: cannot encode the metrics: {error}");
        }
        String::from_utf8(buffer)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    fn lock_families(&self) -> MutexGuard<'_, Families> {
        // A panic while holding the lock leaves the maps consistent (each insert is one step),
        // so a poisoned lock is safe to keep using.
        self.families.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn registry(namespace: Option<&str>, labels: &[(&str, &str)]) -> Registry {
        Registry::new(Naming {
            namespace: namespace.map(str::to_owned),
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        })
    }

    #[test]
    fn same_name_and_labels_share_a_series() {
        let r = registry(None, &[]);
        let a = r.summary("x_seconds", "h", &[("stage", "fit")]);
        let b = r.summary("x_seconds", "h", &[("stage", "fit")]);
        assert!(std::ptr::eq(a, b));
        let c = r.summary("x_seconds", "h", &[("stage", "eval")]);
        assert!(!std::ptr::eq(a, c));
    }

    #[test]
    fn exposition_has_help_type_labels_sum_and_count() {
        let r = registry(Some("ns"), &[("team", "ml")]);
        let s = r.summary("x_seconds", "Time of x.", &[("stage", "fit")]);
        s.observe(Duration::from_millis(1500));
        s.observe(Duration::from_millis(500));
        let text = r.render();
        assert!(text.contains("# HELP ns_x_seconds Time of x.\n"), "{text}");
        assert!(text.contains("# TYPE ns_x_seconds summary\n"), "{text}");
        assert!(
            text.contains("ns_x_seconds_sum{stage=\"fit\",team=\"ml\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("ns_x_seconds_count{stage=\"fit\",team=\"ml\"} 2\n"),
            "{text}"
        );
    }

    #[test]
    fn function_labels_win_over_global_labels() {
        let r = registry(None, &[("team", "ml")]);
        r.summary("x_seconds", "h", &[("team", "infra")]);
        let text = r.render();
        assert!(text.contains("x_seconds_count{team=\"infra\"} 0"), "{text}");
    }

    #[test]
    fn conflicting_label_names_do_not_panic_and_are_not_exported() {
        let r = registry(None, &[]);
        let a = r.summary("x_seconds", "h", &[("a", "1")]);
        let b = r.summary("x_seconds", "h", &[("b", "1")]);
        assert!(!std::ptr::eq(a, b));
        // The unexported series is handed out again, not made anew.
        assert!(std::ptr::eq(b, r.summary("x_seconds", "h", &[("b", "1")])));
        b.observe(Duration::from_secs(1));
        let text = r.render();
        assert!(!text.contains("b=\"1\""), "{text}");
    }

    #[test]
    fn differing_help_keeps_the_first_and_shares_data() {
        let r = registry(None, &[]);
        let a = r.summary("x_seconds", "first", &[]);
        let b = r.summary("x_seconds", "second", &[]);
        assert!(std::ptr::eq(a, b));
        a.observe(Duration::from_secs(1));
        assert_eq!(b.snapshot(), (1, 1.0));
        let text = r.render();
        assert!(text.contains("# HELP x_seconds first\n"), "{text}");
        assert!(!text.contains("HELP x_seconds second"), "{text}");
    }
}
