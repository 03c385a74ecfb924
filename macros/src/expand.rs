//! Code generation for `#[timed]`.
//!
//! The function keeps its signature, attributes and body; what the body means is unchanged.
//! A guard is started first (it resolves the call site's series once, in a `static`) and records
//! the call when it drops, so `?`, panics, borrows, `#[track_caller]` and `cfg`'d statements
//! behave exactly as written. To tell an `Err` from an `Ok`, the values the function returns are
//! bound to its declared return type, which is a coercion site exactly as the function's own
//! tail and `return` are, so type inference and coercions are unchanged too:
//! - a function whose return type can be named: its body becomes the initialiser of
//!   `let value: R = if always() { body } else { never() };` (so what follows is reachable
//!   code to the compiler even when the body diverges) and each of its `return e` a
//!   `return { let value: R = ...e...; ... }` (see [`crate::returns`]);
//! - an `async fn`, or a method `#[async_trait]` has rewritten: the body runs in an inner
//!   `async move` block awaited in place (see [`crate::future`]);
//! - anything else (`()`, `!`, `impl Trait`): the body is left exactly as written, after the
//!   guard.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::{AttrStyle, Attribute, Expr, ExprLit, Ident, ItemFn, Lit, LitStr, Meta};

use crate::attr::{Histogram, TimedArgs};
use crate::{future, returns, tokens};

/// Suffix of every summary pushtimer creates (Prometheus base-unit naming).
const SECONDS_SUFFIX: &str = "_seconds";

/// The `static` every expansion puts in the body: finding it means `#[timed]` ran already.
const CALL_SITE_STATIC: &str = "__PUSHTIMER_CALL_SITE";

/// Expands `#[timed(args)] item`. On an error the caller keeps the function as written, so the
/// error is the only one.
pub(crate) fn expand(args: TimedArgs, mut item: ItemFn) -> syn::Result<TokenStream> {
    if let Some(constness) = &item.sig.constness {
        return Err(syn::Error::new_spanned(
            constness,
            "#[timed] cannot time a `const fn`: reading the clock is not possible in const evaluation",
        ));
    }
    if tokens::names(item.block.to_token_stream(), CALL_SITE_STATIC) {
        return Err(syn::Error::new(
            Span::call_site(),
            "#[timed] is applied to this function twice (once under another name): each call would be counted twice; remove one",
        ));
    }
    // A second `#[timed]` below this one: reported on it, and dropped, so the function is
    // still timed once and its callers compile.
    let mut duplicate = TokenStream::new();
    if let Some(index) = item.attrs.iter().position(is_timed_attribute) {
        let second = item.attrs.remove(index);
        duplicate = syn::Error::new_spanned(
            second,
            "#[timed] is applied to this function twice: each call would be counted twice; remove one",
        )
        .to_compile_error();
    }

    let fn_name = unraw(&item.sig.ident);
    let base_name = match &args.name {
        Some(name) => name.value(),
        None => {
            if !fn_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(syn::Error::new(
                    item.sig.ident.span(),
                    format!(
                        "the function name `{fn_name}` is not a valid metric name (it must match [a-zA-Z_:][a-zA-Z0-9_:]*); give one explicitly, e.g. #[timed(name = \"load_shard\")]"
                    ),
                ));
            }
            if fn_name.starts_with(pushtimer_names::OWN_PREFIX) {
                return Err(syn::Error::new(
                    item.sig.ident.span(),
                    format!(
                        "the function name `{fn_name}` starts with `{}`, which belongs to pushtimer's own metrics; give another name, e.g. #[timed(name = \"load_shard\")]",
                        pushtimer_names::OWN_PREFIX
                    ),
                ));
            }
            fn_name.clone()
        }
    };
    let metric = if base_name.ends_with(SECONDS_SUFFIX) {
        base_name
    } else {
        format!("{base_name}{SECONDS_SUFFIX}")
    };
    let metric_lit = LitStr::new(&metric, Span::call_site());
    let help = help_expr(&args, &item.attrs, &fn_name);
    let label_pairs: Vec<(String, String)> = args
        .labels
        .iter()
        .map(|(key, value)| (unraw(key), value.value()))
        .collect();
    let label_tokens = label_pairs
        .iter()
        .map(|(key, value)| quote!((#key, #value)));
    let close_fence = unclosed_fence(&item.attrs).map(|fence| quote!(#[doc = #fence]));
    let kind = match (&args.native, &args.histogram) {
        (Some(_), _) => Kind::Native,
        (None, Some(_)) => Kind::Histogram,
        (None, None) => Kind::Summary,
    };
    let docs = metric_docs(&metric, &help, &label_pairs, kind);

    let named = args.name.is_some();
    let quantiles = match &args.quantiles {
        None => quote!(&[]),
        Some((_, quantiles)) => {
            let quantiles = quantiles
                .iter()
                .map(|q| proc_macro2::Literal::f64_suffixed(*q));
            quote!(&[#(#quantiles),*])
        }
    };
    let native = match &args.native {
        None => quote!(::core::option::Option::None),
        Some((_, None)) => {
            quote!(::core::option::Option::Some(
                ::pushtimer::DEFAULT_NATIVE_SCHEMA
            ))
        }
        Some((_, Some(schema))) => {
            let schema = proc_macro2::Literal::i32_suffixed(*schema);
            quote!(::core::option::Option::Some(#schema))
        }
    };
    let buckets = match &args.histogram {
        None => quote!(&[]),
        Some(Histogram::Default(_)) => quote!(::pushtimer::DEFAULT_BUCKETS),
        Some(Histogram::Bounds(_, bounds)) => {
            let bounds = bounds
                .iter()
                .map(|bound| proc_macro2::Literal::f64_suffixed(*bound));
            quote!(&[#(#bounds),*])
        }
    };
    let ItemFn {
        attrs,
        vis,
        sig,
        mut block,
    } = item;
    // Inner attributes (`#![allow(...)]`) must stay first in the body, before the guard.
    let (inner_attrs, outer_attrs): (Vec<Attribute>, Vec<Attribute>) = attrs
        .into_iter()
        .partition(|attr| matches!(attr.style, AttrStyle::Inner(_)));
    // `mixed_site` hygiene: the body cannot see or shadow the guard.
    let guard = Ident::new("__pushtimer_guard", Span::mixed_site());
    let enter = |output: Option<&syn::Type>, asynchronous: bool| {
        let fallible = match output.and_then(returns::nameable) {
            Some(ty) => quote! {{
                use ::pushtimer::__private::{OtherType as _, ResultType as _};
                (&&::pushtimer::__private::TypeProbe::<#ty>::new()).__pushtimer_fallible()
            }},
            None => quote!(false),
        };
        let call_site = Ident::new(CALL_SITE_STATIC, Span::mixed_site());
        quote! {
            let #guard = {
                static #call_site: ::pushtimer::__private::CallSite =
                    ::pushtimer::__private::CallSite::new(
                        #metric_lit,
                        #help,
                        &[#(#label_tokens),*],
                        ::pushtimer::__private::Origin {
                            module_path: ::core::module_path!(),
                            function: #fn_name,
                            named: #named,
                        },
                        #asynchronous,
                        #buckets,
                        #quantiles,
                        #native,
                        // Read where the function is compiled, so in the user's crate: cargo
                        // sets CARGO_BIN_NAME for a binary target only, whose version is then
                        // the program's (a library's timed function claims none).
                        ::core::option_env!("CARGO_BIN_NAME"),
                        ::core::option_env!("CARGO_PKG_VERSION"),
                    );
                #call_site.enter(#fallible)
            };
        }
    };
    let declared = match &sig.output {
        syn::ReturnType::Type(_, ty) => Some(&**ty),
        syn::ReturnType::Default => None,
    };
    let body = if sig.asyncness.is_some() {
        let arguments = future::arguments_last_first(&sig, &block.stmts);
        future::timed_future_body(
            &enter(declared, true),
            &guard,
            &arguments,
            &block.stmts,
            declared,
        )
    } else if let Some((future, output)) = future::async_trait_body(&sig.output, &mut block.stmts) {
        let stmts = std::mem::take(&mut future.block.stmts);
        // #[async_trait] rebinds the arguments at the start of its block: their order is its.
        let arguments = [];
        let timed = future::timed_future_body(
            &enter(Some(&output), true),
            &guard,
            &arguments,
            &stmts,
            Some(&output),
        );
        future.block.stmts = vec![syn::Stmt::Expr(syn::Expr::Verbatim(timed), None)];
        let stmts = &block.stmts;
        quote!(#(#stmts)*)
    } else {
        let enter = enter(declared, false);
        match declared.and_then(returns::nameable) {
            Some(ty) => {
                returns::mark_returns(&mut block, &guard, ty);
                let value = returns::value_ident();
                let bound = returns::bind(&value, ty, block.to_token_stream());
                let mark = returns::mark_value(&guard, &value);
                quote! {
                    #enter
                    #bound
                    #mark
                    #value
                }
            }
            None => {
                let stmts = &block.stmts;
                quote!(#enter #(#stmts)*)
            }
        }
    };
    Ok(quote! {
        #duplicate
        #(#outer_attrs)*
        #close_fence
        #docs
        #vis #sig {
            #(#inner_attrs)*
            #body
        }
    })
}

/// `#[timed]`, `#[pushtimer::timed]` or `#[::pushtimer::timed]`.
fn is_timed_attribute(attr: &Attribute) -> bool {
    let segments = tokens::segments(attr.path());
    matches!(attr.style, AttrStyle::Outer)
        && (segments == ["timed"] || segments == ["pushtimer", "timed"])
}

/// The identifier as written by the user, without a raw `r#` prefix.
fn unraw(ident: &Ident) -> String {
    let text = ident.to_string();
    text.strip_prefix("r#").map(str::to_owned).unwrap_or(text)
}

/// HELP: `help = "..."` (unless empty), else the first line of the doc comment, else a generated sentence.
/// Returns an expression usable both as a `&'static str` and inside `concat!`.
fn help_expr(args: &TimedArgs, attrs: &[Attribute], fn_name: &str) -> TokenStream {
    if let Some(help) = args.help.as_ref().filter(|help| !help.value().is_empty()) {
        return help.to_token_stream();
    }
    if let Some(line) = first_doc_line(attrs) {
        return LitStr::new(&line, Span::call_site()).to_token_stream();
    }
    // The runtime's one default sentence, so a hand-made summary reads the same.
    let subject_end = format!("::{fn_name}`");
    quote!(
        ::pushtimer::__private::default_help!("one call of `", ::core::module_path!(), #subject_end)
    )
}

/// The texts of the `///` or `#[doc = "..."]` comments, in order.
fn doc_texts(attrs: &[Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| match &attr.meta {
            Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// The first non-empty line of the doc comments, trimmed.
fn first_doc_line(attrs: &[Attribute]) -> Option<String> {
    doc_texts(attrs)
        .iter()
        .flat_map(|doc| doc.lines())
        .map(str::trim)
        .find(|line| !line.is_empty())
        .map(str::to_owned)
}

/// The fence of a code block the doc comments leave open (rustdoc closes it where they end), to
/// be closed before the appended "Metrics" section: in the block, the section would become part
/// of a doctest.
fn unclosed_fence(attrs: &[Attribute]) -> Option<String> {
    let mut open: Option<(char, usize)> = None;
    for doc in doc_texts(attrs) {
        for line in doc.lines().map(str::trim_start) {
            let Some(mark) = line.chars().next().filter(|c| *c == '`' || *c == '~') else {
                continue;
            };
            let run = line.chars().take_while(|c| *c == mark).count();
            if run < 3 {
                continue;
            }
            match open {
                None => open = Some((mark, run)),
                // A closing fence: the same character, at least as long, nothing after it.
                Some((opened, length))
                    if opened == mark
                        && run >= length
                        && line[run * mark.len_utf8()..].trim().is_empty() =>
                {
                    open = None;
                }
                Some(_) => {}
            }
        }
    }
    open.map(|(mark, length)| mark.to_string().repeat(length))
}

/// What a timed function feeds, for its rustdoc.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Summary,
    /// Classic buckets only.
    Histogram,
    /// Native buckets (and classic ones beside them).
    Native,
}

/// The rustdoc section appended to the function: which summary it feeds and how to query it.
fn metric_docs(
    metric: &str,
    help: &TokenStream,
    labels: &[(String, String)],
    kind: Kind,
) -> TokenStream {
    let histogram = kind != Kind::Summary;
    let noun = match kind {
        Kind::Summary => "summary",
        Kind::Histogram => "histogram",
        Kind::Native => "native histogram",
    };
    let pairs: Vec<String> = labels
        .iter()
        .map(|(key, value)| format!("{key}={value:?}"))
        .collect();
    let label_sentence = if labels.is_empty() {
        String::from("no constant labels of its own")
    } else {
        format!("the constant labels `{{{}}}`", pairs.join(", "))
    };
    // Selectors with the function's labels, and one of its outcomes.
    let with = |extra: &[&str]| {
        let all: Vec<String> = pairs
            .iter()
            .cloned()
            .chain(extra.iter().map(|pair| (*pair).to_owned()))
            .collect();
        if all.is_empty() {
            String::new()
        } else {
            format!("{{{}}}", all.join(", "))
        }
    };
    let (any, ok, error) = (
        with(&[]),
        with(&["outcome=\"ok\""]),
        with(&["outcome=\"error\""]),
    );
    let lines = [
        String::new(),
        String::from("# Metrics"),
        String::new(),
        format!(
            "Every call is timed by [pushtimer](https://docs.rs/pushtimer): its wall-clock duration, in seconds, \
             is added to the Prometheus {noun} **`{metric}`**, with {label_sentence}, and pushed to the \
             Pushgateway named by `PUSHGATEWAY_URL`."
        ),
        String::new(),
        if histogram {
            format!(
                "- Series: `{metric}_bucket{{le=\"...\"}}` (calls at or below each bound, in seconds), \
                 `{metric}_sum` (total seconds) and `{metric}_count` (number of calls)."
            )
        } else {
            format!(
                "- Series: `{metric}_sum` (total seconds) and `{metric}_count` (number of calls)."
            )
        },
        String::from(
            "- Label `outcome`: `ok`, `error` (returned an `Err`, when the return type is a `Result`), \
             `panic` (a panic unwound out of the call), `cancelled` (an `async fn` future dropped before it completed).",
        ),
    ];
    let after_help = [
        String::from(
            "- `PUSHTIMER_NAMESPACE` prefixes the name (`ns_` + name) and `PUSHTIMER_LABELS` adds labels, when set.",
        ),
        String::new(),
        String::from(
            "PromQL (the gateway holds each group's last push, so these describe the last run):",
        ),
        String::new(),
        String::from("```text"),
        String::from("# average seconds per successful call, per pushing job"),
        format!("{metric}_sum{ok} / {metric}_count{ok}"),
        String::from("# calls per job, by outcome"),
        format!("sum by (job, outcome) ({metric}_count{any})"),
        String::from("# share of calls that returned an error"),
        format!("sum by (job) ({metric}_count{error}) / sum by (job) ({metric}_count{any})"),
        String::from("# total seconds per job"),
        format!("sum by (job) ({metric}_sum{any})"),
    ];
    let quantile = histogram.then(|| {
        [
            String::from("# 99th percentile of a call, over the last run of every job"),
            if kind == Kind::Native {
                format!("histogram_quantile(0.99, sum({metric}{any}))")
            } else {
                format!("histogram_quantile(0.99, sum by (le) ({metric}_bucket{any}))")
            },
        ]
    });
    let after_help: Vec<String> = after_help
        .into_iter()
        .chain(quantile.into_iter().flatten())
        .chain([String::from("```")])
        .collect();
    quote! {
        #(#[doc = #lines])*
        #[doc = ::core::concat!("- HELP: \"", #help, "\"")]
        #(#[doc = #after_help])*
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_str(args: &str, item: &str) -> String {
        let mut parsed = TimedArgs::default();
        let parser = syn::meta::parser(|meta| parsed.parse_arg(meta));
        syn::parse::Parser::parse_str(parser, args).expect("arguments parse");
        let item: ItemFn = syn::parse_str(item).expect("item parses");
        expand(parsed, item).expect("expands").to_string()
    }

    #[test]
    fn docs_name_the_summary_its_labels_and_promql() {
        let out = expand_str(
            r#"name = "train", labels(stage = "fit")"#,
            "/// Trains.\nfn train() {}",
        );
        assert!(out.contains("# Metrics"), "{out}");
        assert!(out.contains("**`train_seconds`**"), "{out}");
        assert!(
            out.contains(r#"the constant labels `{stage=\"fit\"}`"#),
            "{out}"
        );
        assert!(
            out.contains(
                r#"train_seconds_sum{stage=\"fit\", outcome=\"ok\"} / train_seconds_count{stage=\"fit\", outcome=\"ok\"}"#
            ),
            "{out}"
        );
        assert!(
            out.contains(r#"sum by (job) (train_seconds_count{stage=\"fit\", outcome=\"error\"}) / sum by (job) (train_seconds_count{stage=\"fit\"})"#),
            "{out}"
        );
        assert!(out.contains(r#""- HELP: \"" , "Trains." , "\"""#), "{out}");
    }

    #[test]
    fn a_code_block_the_docs_leave_open_is_closed_before_the_metrics_section() {
        let open = expand_str("", "/// Example:\n/// ```\n/// let x = 1;\nfn f() {}");
        let closing = open.find(r#"# [doc = "```"]"#).expect("a closing fence");
        assert!(
            closing < open.find("# Metrics").expect("the section"),
            "{open}"
        );
        let tilde = expand_str("", "/// ~~~~rust\n/// let x = 1;\n/// ~~~\nfn f() {}");
        assert!(
            tilde.contains(r#"# [doc = "~~~~"]"#),
            "a shorter fence closes nothing: {tilde}"
        );
        // Closed by the user: the only bare fence is the one ending the section's own block.
        let closed = expand_str("", "/// ```\n/// let x = 1;\n/// ```\nfn f() {}");
        assert_eq!(closed.matches(r#"# [doc = "```"]"#).count(), 1, "{closed}");
    }

    #[test]
    fn original_attributes_and_signature_are_kept() {
        let out = expand_str(
            "",
            "#[must_use] #[track_caller] pub(crate) fn f<T: Copy>(x: T) -> T where T: Send { x }",
        );
        assert!(out.contains("# [must_use]"), "{out}");
        assert!(out.contains("# [track_caller]"), "{out}");
        assert!(
            out.contains("pub (crate) fn f < T : Copy > (x : T) -> T where T : Send"),
            "{out}"
        );
        assert!(out.contains(r#"CallSite :: new ("f_seconds""#), "{out}");
    }

    /// The program's version is read where the function is compiled (the user's crate), by
    /// the generated code, never here in the macro's crate; through `::core`, so that a crate
    /// with `#![no_implicit_prelude]` or its own `option_env` compiles it.
    #[test]
    fn the_crates_version_is_read_in_the_users_crate() {
        let out = expand_str("", "fn f() {}");
        for variable in ["CARGO_BIN_NAME", "CARGO_PKG_VERSION"] {
            let read = format!(r#":: core :: option_env ! ("{variable}")"#);
            assert!(out.contains(&read), "{out}");
        }
        assert!(!out.contains(env!("CARGO_PKG_VERSION")), "{out}");
    }
}
