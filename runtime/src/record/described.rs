//! What every hand-made metric's builder holds (its name as given, its HELP text and its
//! constant labels), the checks they all share, and the registering.

use crate::error::InvalidMetric;
use crate::settings::names;
use crate::store::families::{Core, Shape};

/// A metric described by a builder, not yet registered.
#[derive(Debug, Clone)]
pub(crate) struct Description {
    /// The name as given, without the namespace and perhaps without its suffix.
    name: String,
    help: Option<String>,
    labels: Vec<(String, String)>,
}

impl Description {
    pub(crate) fn new(name: &str) -> Description {
        Description {
            name: name.to_owned(),
            help: None,
            labels: Vec::new(),
        }
    }

    pub(crate) fn set_help(&mut self, help: &str) {
        self.help = Some(help.to_owned());
    }

    pub(crate) fn add_label(&mut self, name: &str, value: &str) {
        self.labels.push((name.to_owned(), value.to_owned()));
    }

    /// The name as given.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The refusal of this metric, for `reason`.
    pub(crate) fn refused(&self, reason: impl Into<String>) -> InvalidMetric {
        InvalidMetric {
            metric: self.name.clone(),
            reason: reason.into(),
        }
    }

    /// The checks every metric passes: a metric name that is not one of pushtimer's own, and
    /// label names fit for constant labels.
    pub(crate) fn check(&self) -> Result<(), InvalidMetric> {
        if !names::is_valid_metric_name(&self.name) {
            return Err(self.refused("a metric name must match [a-zA-Z_:][a-zA-Z0-9_:]*"));
        }
        if self.name.starts_with(names::OWN_PREFIX) {
            return Err(
                self.refused("names starting with `pushtimer_` belong to pushtimer's own metrics")
            );
        }
        for (label, _) in &self.labels {
            if let Some(reason) = names::constant_label_problem(label) {
                return Err(self.refused(format!("label {label:?}: {reason}")));
            }
        }
        Ok(())
    }

    /// Finds or creates the series of `shape` named `name` (the name with its suffix) in the
    /// global registry, with this HELP text or else `default_help`, and reports what the
    /// registry had to say. Call after [`check`](Self::check).
    pub(crate) fn register(&self, name: &str, default_help: String, shape: &Shape) -> Core {
        let help = self
            .help
            .clone()
            .filter(|help| !help.is_empty())
            .unwrap_or(default_help);
        let labels: Vec<(&str, &str)> = self
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (core, notes) =
            crate::lifecycle::global::runtime().series(name, &help, &labels, shape, None);
        crate::diagnostics::emit(notes);
        core
    }
}
