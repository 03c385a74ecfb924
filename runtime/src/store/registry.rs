//! The global registry: pushtimer's summaries, one series per metric name and label set,
//! created on first use, and the user's own `prometheus` registry, rendered together as the
//! model's families (`model/`): the user's are gathered as `prometheus::proto` and converted
//! once, here, where they are merged with ours.
//!
//! The summaries are kept here, not in the `prometheus` registry: rendering them needs no
//! collector machinery, the push thread can learn that nothing changed without rendering (see
//! `changes.rs`), and a user metric whose name collides with one of ours can be left out of the
//! push (with a warning) instead of making the gateway refuse every push. The map is touched
//! only when a call site or a hand-made summary is resolved and when rendering, never per
//! observation.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

// The user's registry answers in the `prometheus` crate's data model; nothing else does.
use prometheus::proto::MetricFamily;

use crate::diagnostics::Note;
use crate::encode::text;
use crate::model::check::Problem;
use crate::model::convert::from_prometheus;
use crate::model::family as model;
use crate::settings::checked::Naming;
use crate::settings::env::{CARDINALITY_LIMIT, DEFAULT_NATIVE_SCHEMA};
use crate::store::changes;
use crate::store::families::{Core, Family, OVERFLOW_LABEL, Shape, own_families};
use crate::store::reentry::SettingUp;
use crate::store::run::{self, Run};
#[cfg(test)]
use crate::store::summary::SummaryCore;

/// Where a `#[timed]` function is, for the warning about two functions that share a series by
/// accident. Filled in by the code `#[timed]` generates.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    /// `module_path!()` of the function.
    pub module_path: &'static str,
    /// The function's name.
    pub function: &'static str,
    /// True when the metric name was given with `name = "..."`; false when it is the function's
    /// own name (and so may collide with a namesake elsewhere by accident).
    pub named: bool,
}

impl Origin {
    fn path(&self) -> String {
        format!("{}::{}", self.module_path, self.function)
    }
}

/// A call site: its address (each `#[timed]` function has its own) and where it is.
pub(crate) type CallSiteId = (usize, Origin);

#[derive(Default)]
struct Families {
    by_name: BTreeMap<String, Family>,
    /// Every sample name of our families (`x_seconds_sum`, `rows_total`), with the family
    /// that writes it: a new family may not write the same.
    samples: HashMap<String, String>,
    /// Series that cannot be exported (another shape or label names than an earlier family of
    /// the same name, or samples another family writes), by name, shape and labels: the same
    /// one is handed out again rather than a new one each time.
    unexported: HashMap<(String, String, Vec<String>, Vec<String>), Core>,
    /// Problems already reported, so each is reported once.
    reported: HashSet<String>,
}

impl Families {
    /// `note` unless a note with the same `key` was made before.
    fn once(&mut self, notes: &mut Vec<Note>, key: String, note: impl FnOnce() -> String) {
        if self.reported.insert(key) {
            notes.push(Note::warn(note()));
        }
    }
}

/// The user's metrics as `registry().gather()` answered them, not converted yet: compared as
/// they are (the gateway's "did they change", which most rounds ask and answer with no), and
/// converted to the model once, when rendered ([`Registry::families_with`]).
#[derive(Debug, PartialEq)]
pub(crate) struct Gathered(Vec<MetricFamily>);

/// The registry behind [`render`](crate::render) and the background pusher.
pub(crate) struct Registry {
    user: prometheus::Registry,
    naming: Naming,
    run: Run,
    families: Mutex<Families>,
}

impl Registry {
    pub(crate) fn new(naming: Naming, run: Run) -> Self {
        Registry {
            user: prometheus::Registry::new(),
            naming,
            run,
            families: Mutex::default(),
        }
    }

    /// The `prometheus` registry for the user's own metrics, pushed with ours.
    pub(crate) fn user(&self) -> &prometheus::Registry {
        &self.user
    }

    /// The summary or histogram for `name` (already ending in `_seconds`) with these constant
    /// labels: [`series`](Self::series) of that shape. Never fails.
    #[cfg(test)]
    pub(crate) fn summary(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
        buckets: &[f64],
        quantiles: &[f64],
        call_site: Option<CallSiteId>,
    ) -> (&'static SummaryCore, Vec<Note>) {
        let shape = Shape::timing(buckets, quantiles);
        match self.series(name, help, labels, &shape, call_site) {
            (Core::Summary(core), notes) => (core, notes),
            // `series` hands out a series of the shape asked for; this is never taken, and
            // would still give a working series, unexported.
            (_, notes) => (SummaryCore::leak(name, buckets, quantiles), notes),
        }
    }

    /// The series of `shape` for `name` (its suffix already on, the namespace not yet) with
    /// these constant labels, created on first use, and what the user should be told about
    /// it (emit the notes after any lock is released). Never fails: a series that cannot be
    /// exported (another shape or other label names than an earlier family of that name, or
    /// a sample name another family already uses) is handed out unexported, so the caller
    /// still works; past the family's cardinality limit every new label set gets the
    /// family's one overflow series.
    pub(crate) fn series(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
        shape: &Shape,
        call_site: Option<CallSiteId>,
    ) -> (Core, Vec<Note>) {
        let shape = &with_defaults(&self.naming, shape, call_site.is_some());
        let full_name = match &self.naming.namespace {
            Some(namespace) => format!("{namespace}_{name}"),
            None => name.to_owned(),
        };
        // The series' own labels win over the global ones of the same name.
        let mut merged: BTreeMap<String, String> = self.naming.labels.iter().cloned().collect();
        merged.extend(
            labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let label_names: Vec<String> = merged.keys().cloned().collect();
        let label_values: Vec<String> = merged.into_values().collect();
        let mut notes = Vec::new();

        let mut families = self.lock_families();
        let key = (
            full_name.clone(),
            shape.describe(),
            label_names.clone(),
            label_values.clone(),
        );
        if let Some(core) = families.unexported.get(&key) {
            return (*core, notes);
        }
        let refusal = match families.by_name.get(&full_name) {
            Some(family) => {
                let (refusal, more) =
                    check_namesake(family, &full_name, help, &label_names, shape, call_site);
                for (once, note) in more {
                    families.once(&mut notes, once, || note);
                }
                refusal
            }
            None => shape
                .sample_names(&full_name)
                .into_iter()
                .find_map(|sample| {
                    families
                        .samples
                        .get(&sample)
                        .map(|owner| (sample, owner.clone()))
                })
                .map(|(sample, owner)| {
                    (
                        format!("samples {full_name} {owner}"),
                        format!(
                            "{full_name} ({}) would write samples named {sample}, as {owner} \
                             already does; the series made here is not exported (give the two \
                             names that differ more)",
                            shape.describe()
                        ),
                    )
                }),
        };
        if let Some((once, note)) = refusal {
            families.once(&mut notes, once, || note);
            let core = shape.leak(&full_name);
            families.unexported.insert(key, core);
            return (core, notes);
        }
        if !families.by_name.contains_key(&full_name) {
            for sample in shape.sample_names(&full_name) {
                families.samples.insert(sample, full_name.clone());
            }
        }
        let limit = self.naming.cardinality_limit;
        let family = families
            .by_name
            .entry(full_name.clone())
            .or_insert_with(|| Family {
                help: help.to_owned(),
                label_names,
                shape: shape.clone(),
                series: Vec::new(),
                index: HashMap::new(),
                overflow: None,
                first_call_site: None,
            });
        if family.first_call_site.is_none() {
            family.first_call_site = call_site;
        }
        if let Some(&position) = family.index.get(&label_values)
            && let Some((_, core)) = family.series.get(position)
        {
            return (*core, notes);
        }
        if family.series.len() >= limit {
            let overflow = match &family.overflow {
                Some((_, core)) => *core,
                None => {
                    let core = shape.leak(&full_name);
                    let mut labels = self.naming.labels.clone();
                    labels.push((OVERFLOW_LABEL.to_owned(), "true".to_owned()));
                    labels.sort();
                    family.overflow = Some((labels, core));
                    changes::mark_other();
                    families.once(&mut notes, format!("overflow {full_name}"), || {
                        format!(
                            "{full_name} reached its limit of {limit} label sets \
                             ({CARDINALITY_LIMIT}); every further label set is recorded in \
                             its one series with {OVERFLOW_LABEL}=\"true\" (reported once)"
                        )
                    });
                    core
                }
            };
            return (overflow, notes);
        }
        let core = shape.leak(&full_name);
        family
            .index
            .insert(label_values.clone(), family.series.len());
        family.series.push((label_values, core));
        // A new series is news for the gateway, even before its first observation.
        changes::mark_other();
        (core, notes)
    }

    /// The user's metrics as they are now, as the `prometheus` registry gathers them (their
    /// collectors run here: call with no lock held).
    pub(crate) fn user_families(&self) -> Gathered {
        Gathered(self.user.gather())
    }

    /// The text exposition (format 0.0.4) of everything: ours and the user's `user` families
    /// (as gathered), less those whose names collide with ours; and the notes to emit about
    /// it.
    pub(crate) fn render_with(&self, user: &Gathered) -> (String, Vec<Note>) {
        let (all, mut notes) = self.families_with(user);
        let (text, problems) = text::to_string(&all);
        notes.extend(self.notes_about(problems));
        (text, notes)
    }

    /// Everything as families of the model, sorted by name: ours and the user's `user`
    /// families (as gathered, converted here), less those whose names collide with ours; and
    /// the notes to emit about it.
    pub(crate) fn families_with(&self, user: &Gathered) -> (Vec<model::Family>, Vec<Note>) {
        // Converted before the lock is taken: the lock guards our series only.
        let user = from_prometheus(&user.0);
        let mut notes = Vec::new();
        let mut all = {
            let mut families = self.lock_families();
            let (mut all, mut ours) = own_families(&families.by_name);
            all.extend(self.run.families());
            ours.extend(run::NAMES.iter().map(|name| (*name).to_owned()));
            all.reserve(user.len());
            // Each user family is kept, or left out with a note (once) naming the clash.
            for family in user {
                let clash = family
                    .sample_names()
                    .into_iter()
                    .find(|name| ours.contains(name));
                match clash {
                    None => all.push(family),
                    Some(clash) => {
                        let name = family.name;
                        families.once(&mut notes, format!("collision {name}"), || {
                            format!(
                                "the metric {name} in pushtimer::registry() collides with \
                                 pushtimer's own {clash}; it is left out of every push (the \
                                 gateway would refuse the whole push); rename it"
                            )
                        });
                    }
                }
            }
            all
        };
        all.sort_by(|a, b| a.name.cmp(&b.name));
        (all, notes)
    }

    /// What an encoder left out (`problems`), as warnings: each family's once per run, since
    /// the same family is left out again at every render and by every destination.
    pub(crate) fn notes_about(&self, problems: Vec<Problem>) -> Vec<Note> {
        let mut notes = Vec::new();
        if problems.is_empty() {
            // The usual case: no lock taken.
            return notes;
        }
        let mut families = self.lock_families();
        for problem in problems {
            families.once(&mut notes, format!("encode {}", problem.family), || {
                format!("{problem}; everything else is sent (reported once)")
            });
        }
        notes
    }

    /// The records of this run's end (see `run.rs`): its completion, and, for exit code 0,
    /// its success. Each is the whole content of its own group on the gateway.
    pub(crate) fn record_families(
        &self,
        exit_code: Option<i32>,
    ) -> (Vec<model::Family>, Option<Vec<model::Family>>) {
        let completion = self.run.completion(exit_code);
        let success = (exit_code == Some(0)).then(|| self.run.success());
        (completion, success)
    }

    /// [`render_with`](Self::render_with) the user's metrics as they are now.
    pub(crate) fn render(&self) -> (String, Vec<Note>) {
        self.render_with(&self.user_families())
    }

    /// The families, locked; the thread is [`SettingUp`] while it holds them, so a timed
    /// function this thread calls meanwhile (a timed allocator) never waits for the lock.
    fn lock_families(&self) -> FamiliesLock<'_> {
        let setting_up = SettingUp::begin();
        // A panic while holding the lock leaves the maps consistent (each insert is one step),
        // so a poisoned lock is safe to keep using.
        FamiliesLock {
            families: self.families.lock().unwrap_or_else(PoisonError::into_inner),
            _setting_up: setting_up,
        }
    }
}

/// `shape` with what the settings add: `PUSHTIMER_QUANTILES` to a `timed` function's summary
/// without quantiles of its own, `PUSHTIMER_NATIVE_HISTOGRAMS` native buckets to a histogram
/// without them.
fn with_defaults(naming: &Naming, shape: &Shape, timed: bool) -> Shape {
    match shape {
        Shape::Summary { quantiles } if quantiles.is_empty() && timed => Shape::Summary {
            quantiles: naming.quantiles.clone(),
        },
        Shape::Histogram {
            buckets,
            native: None,
        } if naming.native_histograms => Shape::Histogram {
            buckets: buckets.clone(),
            native: Some(DEFAULT_NATIVE_SCHEMA),
        },
        shape => shape.clone(),
    }
}

/// A warning to make once: the key it is made once by, and its text.
type Once = (String, String);

/// What becomes of a series of `shape` with `label_names` for the existing family `family`
/// of the same name: the refusal to export it, when its shape or label names differ (then it
/// is handed out unexported), and warnings about it otherwise (another HELP text, a merge of
/// two functions that may be an accident).
fn check_namesake(
    family: &Family,
    full_name: &str,
    help: &str,
    label_names: &[String],
    shape: &Shape,
    call_site: Option<CallSiteId>,
) -> (Option<Once>, Vec<Once>) {
    if family.shape != *shape {
        let (here, elsewhere) = (shape.describe(), family.shape.describe());
        let refusal = (
            format!("shape {full_name} {here}"),
            format!(
                "{full_name} is {here} here and {elsewhere} elsewhere; the series made here is \
                 not exported (give the two a different name)"
            ),
        );
        return (Some(refusal), Vec::new());
    }
    if family.label_names != label_names {
        let family_labels = &family.label_names;
        let refusal = (
            format!("labels {full_name} {label_names:?}"),
            format!(
                "{} {full_name} is used with label names {label_names:?} here and \
                 {family_labels:?} elsewhere; the series with {label_names:?} is not exported \
                 (give the two a different name)",
                shape.noun()
            ),
        );
        return (Some(refusal), Vec::new());
    }
    let mut notes = Vec::new();
    if family.help != help {
        notes.push((
            format!("help {full_name} {help}"),
            format!(
                "{} {full_name} is used with two HELP texts, {:?} and {help:?}; the first is kept",
                shape.noun(),
                family.help
            ),
        ));
    }
    if let (Some((first_address, first)), Some((address, origin))) =
        (family.first_call_site, call_site)
        && first_address != address
        && (!first.named || !origin.named)
    {
        let (a, b) = (first.path(), origin.path());
        notes.push((
            format!("merge {full_name} {a} {b}"),
            format!(
                "two functions feed the summary {full_name}: `{a}` and `{b}` (at least one takes \
                 its metric name from its function name); their calls are counted together. If \
                 they do different work, give one of them #[timed(name = \"...\")]"
            ),
        ));
    }
    (None, notes)
}

/// The locked families (unlocked before the set-up stretch ends: fields drop in order).
struct FamiliesLock<'a> {
    families: MutexGuard<'a, Families>,
    _setting_up: SettingUp,
}

impl std::ops::Deref for FamiliesLock<'_> {
    type Target = Families;

    fn deref(&self) -> &Families {
        &self.families
    }
}

impl std::ops::DerefMut for FamiliesLock<'_> {
    fn deref_mut(&mut self) -> &mut Families {
        &mut self.families
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::time::Duration;

    use crate::model::family::Value;
    use crate::store::families::{Core, REJECTED_COUNTER, Shape};

    fn registry(namespace: Option<&str>, labels: &[(&str, &str)]) -> Registry {
        let labels: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Registry::new(
            Naming {
                namespace: namespace.map(str::to_owned),
                labels: labels.clone(),
                ..Naming::default()
            },
            Run::new(labels, None),
        )
    }

    fn series(
        r: &Registry,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
    ) -> &'static SummaryCore {
        r.summary(name, help, labels, &[], &[], None).0
    }

    fn text(r: &Registry) -> String {
        r.render().0
    }

    /// A timed function's summary `name` resolved from `call_site`: the series and the notes.
    fn timed(
        r: &Registry,
        name: &str,
        call_site: Option<CallSiteId>,
    ) -> (&'static SummaryCore, Vec<Note>) {
        r.summary(name, "h", &[], &[], &[], call_site)
    }

    fn site(address: usize, module_path: &'static str, named: bool) -> Option<CallSiteId> {
        Some((
            address,
            Origin {
                module_path,
                function: "load",
                named,
            },
        ))
    }

    /// The rendered text less the run's own gauges (whose duration changes as time passes).
    fn own_text(r: &Registry) -> String {
        text(r)
            .lines()
            .filter(|line| !line.contains("pushtimer_job_"))
            .map(|line| format!("{line}\n"))
            .collect()
    }

    /// The quantiles of each series in `text`: `(series name, quantile)` in order.
    fn quantile_lines(text: &str) -> Vec<(&str, &str)> {
        text.lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| {
                let (name, rest) = line.split_once("{quantile=\"")?;
                Some((name, rest.split_once('"')?.0))
            })
            .collect()
    }

    /// Without a refused observation there is no counter of them (not even at 0): the text is
    /// exactly the summaries' and histograms' series, bucket bounds ascending, +Inf last.
    #[test]
    fn the_exposition_is_exactly_the_series_and_no_rejected_counter() {
        let r = registry(Some("ns"), &[("team", "ml")]);
        series(&r, "x_seconds", "Time of x.", &[]).observe(Duration::from_millis(1500));
        let (histogram, notes) = r.summary(
            "y_seconds",
            "Time of y.",
            &[("stage", "fit")],
            &[0.5, 2.0],
            &[],
            None,
        );
        assert!(notes.is_empty(), "{notes:?}");
        histogram.observe(Duration::from_millis(1500));
        histogram.observe(Duration::from_millis(100));
        assert_eq!(
            own_text(&r),
            "# HELP ns_x_seconds Time of x.\n\
             # TYPE ns_x_seconds summary\n\
             ns_x_seconds_sum{team=\"ml\"} 1.5\n\
             ns_x_seconds_count{team=\"ml\"} 1\n\
             # HELP ns_y_seconds Time of y.\n\
             # TYPE ns_y_seconds histogram\n\
             ns_y_seconds_bucket{stage=\"fit\",team=\"ml\",le=\"0.5\"} 1\n\
             ns_y_seconds_bucket{stage=\"fit\",team=\"ml\",le=\"2\"} 2\n\
             ns_y_seconds_bucket{stage=\"fit\",team=\"ml\",le=\"+Inf\"} 2\n\
             ns_y_seconds_sum{stage=\"fit\",team=\"ml\"} 1.6\n\
             ns_y_seconds_count{stage=\"fit\",team=\"ml\"} 2\n"
        );
    }

    /// `PUSHTIMER_QUANTILES` goes to a timed function's summary that has no quantiles of its
    /// own, and to nothing else: not over a timed summary's own quantiles, not to a summary
    /// made by hand, not to a histogram (so a timed and a hand-made histogram of one name and
    /// bounds are one family).
    #[test]
    fn quantiles_from_the_environment_go_to_timed_summaries_without_their_own() {
        let r = Registry::new(
            Naming {
                quantiles: vec![0.5],
                ..Naming::default()
            },
            Run::new(Vec::new(), None),
        );
        let timed_site = site(1, "etl", true);
        let (default, _) = r.summary("a_seconds", "h", &[], &[], &[], timed_site);
        let (own, _) = r.summary("b_seconds", "h", &[], &[], &[0.9], site(2, "etl", true));
        let (by_hand, _) = r.summary("c_seconds", "h", &[], &[], &[], None);
        let (histogram, notes) =
            r.summary("d_seconds", "h", &[], &[1.0], &[], site(3, "etl", true));
        assert!(notes.is_empty(), "{notes:?}");
        let (by_hand_histogram, notes) = r.summary("d_seconds", "h", &[], &[1.0], &[], None);
        assert!(notes.is_empty(), "{notes:?}");
        assert!(std::ptr::eq(histogram, by_hand_histogram));
        for core in [default, own, by_hand, histogram] {
            core.observe(Duration::from_secs(1));
        }
        let text = text(&r);
        assert_eq!(
            quantile_lines(&text),
            [("a_seconds", "0.5"), ("b_seconds", "0.9")],
            "{text}"
        );
        assert!(text.contains("# TYPE c_seconds summary\n"), "{text}");
        assert!(text.contains("# TYPE d_seconds histogram\n"), "{text}");
    }

    /// Two call sites of one name where only one has an explicit `name = "..."`: the other took
    /// its name from its function, so the merge may be an accident and is reported (whichever
    /// came first).
    #[test]
    fn a_named_and_an_unnamed_namesake_are_reported() {
        for (first, second) in [(true, false), (false, true)] {
            let r = registry(None, &[]);
            let (_, notes) = timed(&r, "load_seconds", site(1, "etl::read", first));
            assert!(notes.is_empty(), "{notes:?}");
            let (_, notes) = timed(&r, "load_seconds", site(2, "etl::write", second));
            assert_eq!(notes.len(), 1, "{first} {second}: {notes:?}");
            assert!(
                notes[0]
                    .text
                    .contains("`etl::read::load` and `etl::write::load`"),
                "{notes:?}"
            );
        }
    }

    /// The records of a run's end: the completion with its exit code always, the success only
    /// for exit code 0; both with the constant labels.
    #[test]
    fn the_success_record_is_only_for_exit_code_0() {
        let r = registry(None, &[("team", "ml")]);
        /// Each family's name and its one gauge's labels and value.
        fn shown(families: &[model::Family]) -> Vec<(String, String, f64)> {
            families
                .iter()
                .map(|family| {
                    let metric = &family.metrics[0];
                    let labels: Vec<String> = metric
                        .labels
                        .iter()
                        .map(|(name, value)| format!("{name}={value}"))
                        .collect();
                    let Value::Gauge(value) = metric.value else {
                        panic!("not a gauge: {metric:?}");
                    };
                    (family.name.clone(), labels.join(","), value)
                })
                .collect()
        }
        const COMPLETION: &str = "pushtimer_job_last_completion_timestamp_seconds";
        let now = || {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |since| since.as_secs_f64())
        };
        let record = |name: &str, value: f64| (name.to_owned(), "team=ml".to_owned(), value);
        for (exit_code, succeeded) in [(Some(0), true), (Some(1), false), (None, false)] {
            let before = now();
            let (completion, success) = r.record_families(exit_code);
            let after = now();
            let completion = shown(&completion);
            let at = completion[0].2;
            let mut expected = vec![record(COMPLETION, at)];
            if let Some(code) = exit_code {
                expected.push(record("pushtimer_job_exit_code", f64::from(code)));
            }
            assert_eq!(completion, expected, "{exit_code:?}");
            assert!((before..=after).contains(&at), "{at}");
            let success = success.as_deref().map(shown);
            if succeeded {
                let success = success.expect("exit code 0 is a success");
                assert_eq!(
                    success,
                    [record(
                        "pushtimer_job_last_success_timestamp_seconds",
                        success[0].2
                    )]
                );
                assert!((before..=after).contains(&success[0].2), "{success:?}");
            } else {
                assert_eq!(success, None, "{exit_code:?}");
            }
        }
    }

    #[test]
    fn same_name_and_labels_share_a_series() {
        let r = registry(None, &[]);
        let a = series(&r, "x_seconds", "h", &[("stage", "fit")]);
        let b = series(&r, "x_seconds", "h", &[("stage", "fit")]);
        assert!(std::ptr::eq(a, b));
        let c = series(&r, "x_seconds", "h", &[("stage", "eval")]);
        assert!(!std::ptr::eq(a, c));
    }

    #[test]
    fn exposition_has_help_type_labels_sum_and_count() {
        let r = registry(Some("ns"), &[("team", "ml")]);
        let s = series(&r, "x_seconds", "Time of x.", &[("stage", "fit")]);
        s.observe(Duration::from_millis(1500));
        s.observe(Duration::from_millis(500));
        let text = text(&r);
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
        series(&r, "x_seconds", "h", &[("team", "infra")]);
        let text = text(&r);
        assert!(text.contains("x_seconds_count{team=\"infra\"} 0"), "{text}");
    }

    #[test]
    fn conflicting_label_names_are_reported_once_and_not_exported() {
        let r = registry(None, &[]);
        let a = series(&r, "x_seconds", "h", &[("a", "1")]);
        let (b, notes) = r.summary("x_seconds", "h", &[("b", "1")], &[], &[], None);
        assert!(!std::ptr::eq(a, b));
        assert_eq!(notes.len(), 1, "{notes:?}");
        // The unexported series is handed out again, not made anew, and not reported again.
        let (again, notes) = r.summary("x_seconds", "h", &[("b", "1")], &[], &[], None);
        assert!(std::ptr::eq(b, again));
        assert!(notes.is_empty());
        b.observe(Duration::from_secs(1));
        assert!(!text(&r).contains("b=\"1\""));
    }

    #[test]
    fn differing_help_keeps_the_first_and_shares_data() {
        let r = registry(None, &[]);
        let a = series(&r, "x_seconds", "first", &[]);
        let (b, notes) = r.summary("x_seconds", "second", &[], &[], &[], None);
        assert!(std::ptr::eq(a, b));
        assert_eq!(notes.len(), 1);
        a.observe(Duration::from_secs(1));
        assert_eq!(b.snapshot(), (1, 1.0));
        let text = text(&r);
        assert!(text.contains("# HELP x_seconds first\n"), "{text}");
        assert!(!text.contains("HELP x_seconds second"), "{text}");
    }

    #[test]
    fn a_summary_and_a_histogram_of_one_name_conflict() {
        let r = registry(None, &[]);
        let (summary, notes) = r.summary("x_seconds", "h", &[], &[], &[], None);
        assert!(notes.is_empty());
        let (histogram, notes) = r.summary("x_seconds", "h", &[], &[1.0], &[], None);
        assert!(!std::ptr::eq(summary, histogram));
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].text.contains("a histogram with buckets [1.0]"),
            "{notes:?}"
        );
        histogram.observe(std::time::Duration::from_secs(1));
        let text = text(&r);
        assert!(text.contains("# TYPE x_seconds summary"), "{text}");
        assert!(!text.contains("x_seconds_bucket"), "{text}");
    }

    #[test]
    fn namesakes_without_explicit_names_are_reported_once() {
        let r = registry(None, &[]);
        let (_, notes) = timed(&r, "load_seconds", site(1, "etl::read", false));
        assert!(notes.is_empty());
        // The same call site again (a generic function's other instantiation): silent.
        let (_, notes) = timed(&r, "load_seconds", site(1, "etl::read", false));
        assert!(notes.is_empty());
        let (_, notes) = timed(&r, "load_seconds", site(2, "etl::write", false));
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].text.contains("`etl::read::load`"), "{notes:?}");
        assert!(notes[0].text.contains("`etl::write::load`"), "{notes:?}");
        let (_, notes) = timed(&r, "load_seconds", site(2, "etl::write", false));
        assert!(notes.is_empty());
        // Equal explicit names share silently.
        let r = registry(None, &[]);
        timed(&r, "x_seconds", site(1, "a", true));
        let (_, notes) = timed(&r, "x_seconds", site(2, "b", true));
        assert!(notes.is_empty());
    }

    #[test]
    fn colliding_user_metrics_are_left_out_and_ours_kept() {
        let r = registry(None, &[]);
        series(&r, "train_seconds", "h", &[]).observe(Duration::from_secs(2));
        let core = series(&r, "q_seconds", "h", &[]);
        core.reject();
        for name in [
            "train_seconds_count",
            "train_seconds_sum",
            "train_seconds",
            REJECTED_COUNTER,
            "ok_total",
        ] {
            let counter = prometheus::IntCounter::new(name, "user's").unwrap();
            counter.inc_by(7);
            r.user().register(Box::new(counter)).unwrap();
        }
        let (text, notes) = r.render();
        assert_eq!(notes.len(), 4, "{notes:?}");
        assert!(text.contains("train_seconds_sum 2\n"), "{text}");
        assert!(text.contains("train_seconds_count 1\n"), "{text}");
        assert!(
            !text.contains(" 7\n") || text.contains("ok_total 7\n"),
            "{text}"
        );
        assert_eq!(
            text.matches(" 7\n").count(),
            1,
            "only ok_total is the user's: {text}"
        );
        assert!(
            text.contains("pushtimer_rejected_observations_total{metric=\"q_seconds\"} 1\n"),
            "{text}"
        );
        // Reported once.
        assert!(r.render().1.is_empty());
    }

    /// A user collector may gather anything: a family the encoders cannot write (a name that
    /// is no metric name, a label name that is no label name) is left out, the rest written,
    /// and each such family reported once, not at every render.
    #[test]
    fn what_the_encoder_leaves_out_is_reported_once() {
        use prometheus::core::{Collector, Desc};
        use prometheus::proto;

        struct Unwritable;
        impl Collector for Unwritable {
            fn desc(&self) -> Vec<&Desc> {
                Vec::new()
            }
            fn collect(&self) -> Vec<proto::MetricFamily> {
                let gauge = |label: &str| {
                    let mut pair = proto::LabelPair::default();
                    pair.set_name(label.to_owned());
                    pair.set_value("v".to_owned());
                    let mut gauge = proto::Gauge::default();
                    gauge.set_value(1.0);
                    let mut metric = proto::Metric::default();
                    metric.set_label(vec![pair]);
                    metric.set_gauge(gauge);
                    metric
                };
                let family = |name: &str, metrics| {
                    let mut family = proto::MetricFamily::default();
                    family.set_name(name.to_owned());
                    family.set_field_type(proto::MetricType::GAUGE);
                    family.set_metric(metrics);
                    family
                };
                vec![
                    family("bad-name", vec![gauge("a")]),
                    family("half", vec![gauge("ok"), gauge("a-b")]),
                ]
            }
        }
        let r = registry(None, &[]);
        r.user().register(Box::new(Unwritable)).unwrap();
        let (text, notes) = r.render();
        assert!(!text.contains("bad-name"), "{text}");
        assert!(
            text.contains("# TYPE half gauge\nhalf{ok=\"v\"} 1\n"),
            "{text}"
        );
        assert!(!text.contains("a-b"), "{text}");
        let notes: Vec<&str> = notes.iter().map(|note| note.text.as_str()).collect();
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].contains("\"bad-name\" is left out"), "{notes:?}");
        assert!(
            notes[1].contains("\"half\" has 1 of its 2 metrics left out"),
            "{notes:?}"
        );
        let (again, notes) = r.render();
        assert!(notes.is_empty(), "{notes:?}");
        assert!(again.contains("half{ok=\"v\"} 1\n"), "{again}");
    }

    /// A registry with this cardinality limit and one process-wide label.
    fn limited(limit: usize) -> Registry {
        let labels = vec![("team".to_owned(), "ml".to_owned())];
        Registry::new(
            Naming {
                labels: labels.clone(),
                cardinality_limit: limit,
                ..Naming::default()
            },
            Run::new(labels, None),
        )
    }

    #[test]
    fn counters_and_gauges_render_with_the_namespace_and_labels() {
        let r = registry(Some("ns"), &[("team", "ml")]);
        let (counter, notes) = r.series(
            "rows_total",
            "Rows.",
            &[("stage", "load")],
            &Shape::Counter,
            None,
        );
        assert!(notes.is_empty(), "{notes:?}");
        let (gauge, _) = r.series("used_bytes", "Used.", &[], &Shape::Gauge, None);
        let (Core::Counter(counter), Core::Gauge(gauge)) = (counter, gauge) else {
            panic!("shapes");
        };
        counter.add(41);
        counter.add(1);
        assert!(gauge.set(2.5e9));
        assert_eq!(
            own_text(&r),
            "# HELP ns_rows_total Rows.\n\
             # TYPE ns_rows_total counter\n\
             ns_rows_total{stage=\"load\",team=\"ml\"} 42\n\
             # HELP ns_used_bytes Used.\n\
             # TYPE ns_used_bytes gauge\n\
             ns_used_bytes{team=\"ml\"} 2500000000\n"
        );
    }

    /// A counter and a gauge (or a summary) of one name, or a gauge named like a summary's
    /// samples, would make the gateway refuse the push: the later one is not exported.
    #[test]
    fn shapes_and_sample_names_that_clash_are_not_exported() {
        let r = registry(None, &[]);
        let (first, _) = r.series("x", "h", &[], &Shape::Counter, None);
        let (second, notes) = r.series("x", "h", &[], &Shape::Gauge, None);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0]
                .text
                .contains("x is a gauge here and a counter elsewhere"),
            "{notes:?}"
        );
        let (Core::Counter(_), Core::Gauge(gauge)) = (first, second) else {
            panic!("shapes");
        };
        gauge.set(7.0);
        series(&r, "t_seconds", "h", &[]).observe(Duration::from_secs(1));
        let (sum, notes) = r.series("t_seconds_sum", "h", &[], &Shape::Gauge, None);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].text.contains("as t_seconds already does"),
            "{notes:?}"
        );
        let Core::Gauge(sum) = sum else {
            panic!("shape")
        };
        sum.set(9.0);
        // Handed out again without a second warning.
        let (_, notes) = r.series("t_seconds_sum", "h", &[], &Shape::Gauge, None);
        assert!(notes.is_empty(), "{notes:?}");
        let text = text(&r);
        assert!(text.contains("# TYPE x counter\nx 0\n"), "{text}");
        assert!(text.contains("t_seconds_sum 1\n"), "{text}");
        assert!(!text.contains(" 7\n") && !text.contains(" 9\n"), "{text}");
    }

    /// Past the limit every new label set lands in one overflow series (the process-wide
    /// labels and `pushtimer_overflow="true"`), with one warning; known label sets keep
    /// theirs; another family has a limit of its own.
    #[test]
    fn label_sets_past_the_limit_share_one_overflow_series() {
        let r = limited(2);
        let count = |user: &str, family: &str| {
            let (core, notes) = r.series(family, "h", &[("user", user)], &Shape::Counter, None);
            let Core::Counter(core) = core else {
                panic!("shape")
            };
            core.add(1);
            notes
        };
        assert!(count("a", "rows_total").is_empty());
        assert!(count("b", "rows_total").is_empty());
        let notes = count("c", "rows_total");
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].text.contains(
                "rows_total reached its limit of 2 label sets (PUSHTIMER_CARDINALITY_LIMIT)"
            ),
            "{notes:?}"
        );
        assert!(count("d", "rows_total").is_empty(), "warned once");
        assert!(count("a", "rows_total").is_empty());
        assert!(count("z", "other_total").is_empty());
        let text = own_text(&r);
        assert!(
            text.contains("rows_total{team=\"ml\",user=\"a\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("rows_total{team=\"ml\",user=\"b\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("rows_total{pushtimer_overflow=\"true\",team=\"ml\"} 2\n"),
            "{text}"
        );
        assert!(
            !text.contains("user=\"c\"") && !text.contains("user=\"d\""),
            "{text}"
        );
        assert!(
            text.contains("other_total{team=\"ml\",user=\"z\"} 1\n"),
            "{text}"
        );
        // Summaries too, and the overflow series is a summary of its own.
        let r = limited(1);
        r.summary("s_seconds", "h", &[("k", "1")], &[], &[], None)
            .0
            .observe(Duration::from_secs(1));
        r.summary("s_seconds", "h", &[("k", "2")], &[], &[], None)
            .0
            .observe(Duration::from_secs(2));
        r.summary("s_seconds", "h", &[("k", "3")], &[], &[], None)
            .0
            .observe(Duration::from_secs(3));
        let text = own_text(&r);
        assert!(
            text.contains("s_seconds_sum{k=\"1\",team=\"ml\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("s_seconds_sum{pushtimer_overflow=\"true\",team=\"ml\"} 5\n"),
            "{text}"
        );
        assert!(
            text.contains("s_seconds_count{pushtimer_overflow=\"true\",team=\"ml\"} 2\n"),
            "{text}"
        );
    }
}
