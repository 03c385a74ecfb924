//! The argument model of `#[timed(...)]` and its parser.
//!
//! Every check that can be made at compile time is made here, and each error points at the token
//! that caused it, so a typo never turns into a runtime surprise (or a 400 from the Pushgateway).

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::parse::Parse;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Ident, Lit, LitStr};

// The naming rules are the runtime's too (crate `pushtimer-names`): a name the attribute takes
// is one the runtime takes, and the other way round.
use pushtimer_names::{
    OWN_PREFIX, RESERVED_LABELS, is_valid_bucket_bound, is_valid_label_name, is_valid_metric_name,
    is_valid_quantile,
};

/// The parsed arguments of one `#[timed(...)]`.
#[derive(Default)]
pub(crate) struct TimedArgs {
    /// `name = "..."`: the metric's base name, validated.
    pub(crate) name: Option<LitStr>,
    /// `help = "..."`: the HELP text.
    pub(crate) help: Option<LitStr>,
    /// `labels(key = "value", ...)`: constant labels, in the order written.
    pub(crate) labels: Vec<(Ident, LitStr)>,
    /// Where `labels(...)` was written, to report a duplicate.
    labels_seen: bool,
    /// `histogram` or `buckets(...)`: a histogram instead of a summary.
    pub(crate) histogram: Option<Histogram>,
    /// `quantiles(0.5, 0.99)`: the summary's whole-run quantiles, checked.
    pub(crate) quantiles: Option<(Span, Vec<f64>)>,
    /// `native_histogram` or `native_histogram(schema = N)`: native buckets, of schema `N`
    /// (checked) or, for `None`, the runtime's default.
    pub(crate) native: Option<(Span, Option<i32>)>,
}

/// The schemas of a native histogram, as Prometheus has them.
const NATIVE_SCHEMAS: std::ops::RangeInclusive<i32> = -4..=8;

/// How a timed function's histogram gets its buckets.
pub(crate) enum Histogram {
    /// `histogram`: `pushtimer::DEFAULT_BUCKETS`.
    Default(Span),
    /// `buckets(0.01, 0.1, 1.0)`: checked bounds, in seconds.
    Bounds(Span, Vec<f64>),
}

impl Histogram {
    fn span(&self) -> Span {
        match self {
            Histogram::Default(span) | Histogram::Bounds(span, _) => *span,
        }
    }
}

impl TimedArgs {
    /// Parses one argument; used with [`syn::meta::parser`].
    pub(crate) fn parse_arg(&mut self, meta: ParseNestedMeta<'_>) -> syn::Result<()> {
        if meta.path.is_ident("name") {
            reject_duplicate(&meta, self.name.is_some(), "name")?;
            let name = string_value(&meta, "name", "name = \"load_shard\"")?;
            check_metric_name(&name)?;
            self.name = Some(name);
        } else if meta.path.is_ident("help") {
            reject_duplicate(&meta, self.help.is_some(), "help")?;
            self.help = Some(string_value(
                &meta,
                "help",
                "help = \"Wall time of one training run\"",
            )?);
        } else if meta.path.is_ident("labels") {
            reject_duplicate(&meta, self.labels_seen, "labels")?;
            self.labels_seen = true;
            if !meta.input.peek(syn::token::Paren) {
                return Err(meta.error(
                    "`labels` takes a list of constant labels, e.g. labels(stage = \"fit\")",
                ));
            }
            meta.parse_nested_meta(|label| parse_label(label, &mut self.labels))?;
        } else if meta.path.is_ident("native_histogram") {
            if let Some((earlier, _)) = &self.native {
                let mut error = meta.error("duplicate argument `native_histogram`");
                error.combine(syn::Error::new(*earlier, "first given here"));
                return Err(error);
            }
            if let Some((earlier, _)) = &self.quantiles {
                let mut error = meta.error("`quantiles` are a summary's and cannot be combined with `native_histogram`; its quantiles come from histogram_quantile() in PromQL");
                error.combine(syn::Error::new(*earlier, "the quantiles are here"));
                return Err(error);
            }
            let span = meta.path.span();
            let schema = if meta.input.peek(syn::token::Paren) {
                let mut schema = None;
                meta.parse_nested_meta(|inner| {
                    if !inner.path.is_ident("schema") || schema.is_some() {
                        return Err(inner.error(
                            "`native_histogram` takes one `schema = N`, an integer from -4 to 8",
                        ));
                    }
                    schema = Some(parse_schema(&inner)?);
                    Ok(())
                })?;
                schema
            } else if !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
                return Err(meta.error(
                    "`native_histogram` takes no value; for a schema of your own write native_histogram(schema = 3)",
                ));
            } else {
                None
            };
            self.native = Some((span, schema));
        } else if meta.path.is_ident("quantiles") {
            if self.quantiles.is_some() {
                return Err(meta.error("duplicate argument `quantiles`"));
            }
            if let Some((earlier, _)) = &self.native {
                let mut error = meta.error("`quantiles` are a summary's and cannot be combined with `native_histogram`; its quantiles come from histogram_quantile() in PromQL");
                error.combine(syn::Error::new(*earlier, "the native histogram is here"));
                return Err(error);
            }
            self.reject_quantiles_with_histogram(&meta, meta.path.span())?;
            let span = meta.path.span();
            let quantiles = parse_numbers(&meta, Numbers::Quantiles)?;
            self.quantiles = Some((span, quantiles));
        } else if meta.path.is_ident("histogram") {
            self.reject_second_histogram(&meta)?;
            self.reject_quantiles_with_histogram(&meta, meta.path.span())?;
            if !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
                return Err(meta.error(
                    "`histogram` takes no value; for buckets of your own write buckets(0.01, 0.1, 1.0)",
                ));
            }
            self.histogram = Some(Histogram::Default(meta.path.span()));
        } else if meta.path.is_ident("buckets") {
            self.reject_second_histogram(&meta)?;
            self.reject_quantiles_with_histogram(&meta, meta.path.span())?;
            let span = meta.path.span();
            let bounds = parse_numbers(&meta, Numbers::Buckets)?;
            self.histogram = Some(Histogram::Bounds(span, bounds));
        } else {
            return Err(meta.error(
                "unknown argument of #[timed]; expected `name = \"...\"`, `help = \"...\"`, `labels(key = \"value\", ...)`, `quantiles(...)`, `histogram`, `buckets(...)` or `native_histogram`",
            ));
        }
        Ok(())
    }

    fn reject_second_histogram(&self, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
        match &self.histogram {
            Some(earlier) => {
                let mut error = meta.error(
                    "a timed function has one histogram: write either `histogram` (default buckets) or `buckets(...)`, once",
                );
                error.combine(syn::Error::new(earlier.span(), "first given here"));
                Err(error)
            }
            None => Ok(()),
        }
    }

    /// Quantiles belong to a summary: with `histogram` or `buckets`, the later of the two is
    /// the error.
    fn reject_quantiles_with_histogram(
        &self,
        meta: &ParseNestedMeta<'_>,
        _here: Span,
    ) -> syn::Result<()> {
        let earlier = match (&self.quantiles, &self.histogram) {
            (Some((span, _)), None) if !meta.path.is_ident("quantiles") => Some(*span),
            (None, Some(histogram)) if meta.path.is_ident("quantiles") => Some(histogram.span()),
            _ => None,
        };
        match earlier {
            Some(span) => {
                let mut error = meta.error(
                    "`quantiles` are a summary's and cannot be combined with `histogram` or `buckets`; a histogram's quantiles come from histogram_quantile() in PromQL",
                );
                error.combine(syn::Error::new(span, "the other one is here"));
                Err(error)
            }
            None => Ok(()),
        }
    }
}

/// One `key = "value"` of `labels(...)`, checked, added to `labels`.
pub(crate) fn parse_label(
    meta: ParseNestedMeta<'_>,
    labels: &mut Vec<(Ident, LitStr)>,
) -> syn::Result<()> {
    let Some(key) = meta.path.get_ident().cloned() else {
        return Err(meta.error("a label name must be a single identifier, e.g. stage = \"fit\""));
    };
    let key_text = key.to_string();
    let key_text = key_text.strip_prefix("r#").unwrap_or(&key_text);
    check_label_name(key_text, key.span())?;
    if labels.iter().any(|(seen, _)| seen == &key) {
        return Err(syn::Error::new(
            key.span(),
            format!("duplicate label `{key_text}`"),
        ));
    }
    let value = string_value(&meta, &format!("label `{key_text}`"), "stage = \"fit\"")?;
    labels.push((key, value));
    Ok(())
}

/// What a list of numbers is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Numbers {
    /// `buckets(0.01, 0.1, 1)`: seconds, finite, above zero.
    Buckets,
    /// `quantiles(0.5, 0.99)`: between 0 and 1, both excluded.
    Quantiles,
}

/// `buckets(0.01, 0.1, 1)` or `quantiles(0.5, 0.99)`: numbers, strictly increasing, each in
/// its range; each error points at the offending number.
fn parse_numbers(meta: &ParseNestedMeta<'_>, kind: Numbers) -> syn::Result<Vec<f64>> {
    let (what, example) = match kind {
        Numbers::Buckets => (
            "`buckets` takes the bucket bounds in seconds",
            "buckets(0.01, 0.1, 1.0)",
        ),
        Numbers::Quantiles => (
            "`quantiles` takes the quantiles to push",
            "quantiles(0.5, 0.9, 0.99)",
        ),
    };
    if !meta.input.peek(syn::token::Paren) {
        return Err(meta.error(format!("{what}, e.g. {example}")));
    }
    let content;
    syn::parenthesized!(content in meta.input);
    let literals = content.parse_terminated(Lit::parse, syn::Token![,])?;
    if literals.is_empty() {
        return Err(meta.error(format!("{what}: at least one, e.g. {example}")));
    }
    let mut bounds: Vec<f64> = Vec::with_capacity(literals.len());
    for literal in &literals {
        let bound = match literal {
            Lit::Float(float) => float.base10_parse::<f64>()?,
            Lit::Int(int) => int.base10_parse::<f64>()?,
            other => {
                let message = match kind {
                    Numbers::Buckets => "a bucket bound is a number of seconds, e.g. 0.5",
                    Numbers::Quantiles => "a quantile is a number between 0 and 1, e.g. 0.99",
                };
                return Err(syn::Error::new_spanned(other, message));
            }
        };
        let (in_range, message) = match kind {
            Numbers::Buckets => (
                is_valid_bucket_bound(bound),
                "a bucket bound must be finite and above zero (`+Inf` is added by itself)",
            ),
            Numbers::Quantiles => (
                is_valid_quantile(bound),
                "a quantile must be between 0 and 1, both excluded (0.5 is the median)",
            ),
        };
        if !in_range {
            return Err(syn::Error::new_spanned(literal, message));
        }
        if let Some(previous) = bounds.last()
            && bound <= *previous
        {
            let what = match kind {
                Numbers::Buckets => "bucket bounds",
                Numbers::Quantiles => "quantiles",
            };
            return Err(syn::Error::new_spanned(
                literal,
                format!("{what} must be strictly increasing: {bound} follows {previous}"),
            ));
        }
        bounds.push(bound);
    }
    Ok(bounds)
}

/// `= N` of `native_histogram(schema = N)`: an integer from -4 to 8, the error on the value.
fn parse_schema(meta: &ParseNestedMeta<'_>) -> syn::Result<i32> {
    let value: Expr = meta.value()?.parse()?;
    let (negative, literal) = match &value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) => (false, Some(int)),
        Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        }) => match &**expr {
            Expr::Lit(ExprLit {
                lit: Lit::Int(int), ..
            }) => (true, Some(int)),
            _ => (true, None),
        },
        _ => (false, None),
    };
    let schema = literal
        .and_then(|int| int.base10_parse::<i32>().ok())
        .map(|n| if negative { -n } else { n })
        .filter(|n| NATIVE_SCHEMAS.contains(n));
    schema.ok_or_else(|| {
        syn::Error::new_spanned(
            &value,
            "a native histogram's schema is an integer from -4 (each bucket 2^16 times as wide as the last) to 8 (256 buckets per power of two); the default is 5",
        )
    })
}

pub(crate) fn reject_duplicate(
    meta: &ParseNestedMeta<'_>,
    seen: bool,
    what: &str,
) -> syn::Result<()> {
    if seen {
        Err(meta.error(format!("duplicate argument `{what}`")))
    } else {
        Ok(())
    }
}

/// Reads `= "..."`, with an error at the value when it is not a string literal.
pub(crate) fn string_value(
    meta: &ParseNestedMeta<'_>,
    what: &str,
    example: &str,
) -> syn::Result<LitStr> {
    let value: Expr = meta.value()?.parse()?;
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(s),
        other => Err(syn::Error::new_spanned(
            other,
            format!("{what} takes a string literal, e.g. {example}"),
        )),
    }
}

/// Metric names must match `[a-zA-Z_:][a-zA-Z0-9_:]*` (the Prometheus data model).
pub(crate) fn check_metric_name(name: &LitStr) -> syn::Result<()> {
    let text = name.value();
    let valid = is_valid_metric_name(&text);
    if valid && text.starts_with(OWN_PREFIX) {
        Err(syn::Error::new(
            name.span(),
            format!(
                "metric name {text:?} starts with `{OWN_PREFIX}`, which belongs to pushtimer's own metrics; choose another name"
            ),
        ))
    } else if valid {
        Ok(())
    } else {
        Err(syn::Error::new(
            name.span(),
            format!(
                "invalid metric name {text:?}: a metric name must match [a-zA-Z_:][a-zA-Z0-9_:]*"
            ),
        ))
    }
}

/// Label names must match `[a-zA-Z_][a-zA-Z0-9_]*`, must not start with `__` (reserved for
/// Prometheus' internal use) and must not be one of [`RESERVED_LABELS`].
fn check_label_name(name: &str, span: Span) -> syn::Result<()> {
    if name.starts_with("__") {
        return Err(syn::Error::new(
            span,
            format!(
                "invalid label name `{name}`: names starting with `__` are reserved by Prometheus"
            ),
        ));
    }
    if RESERVED_LABELS.contains(&name) {
        return Err(syn::Error::new(
            span,
            format!(
                "reserved label name `{name}`: `job` and `instance` belong to the Pushgateway's grouping key, `quantile` to a summary's quantiles, `le` to a histogram's buckets and `outcome` to how each call ended"
            ),
        ));
    }
    // An identifier already matches [a-zA-Z_][a-zA-Z0-9_]* unless it holds non-ASCII letters.
    if !is_valid_label_name(name) {
        return Err(syn::Error::new(
            span,
            format!("invalid label name `{name}`: a label name must match [a-zA-Z_][a-zA-Z0-9_]*"),
        ));
    }
    Ok(())
}
