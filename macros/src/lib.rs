//! The `#[timed]` attribute of [pushtimer](https://docs.rs/pushtimer).
//!
//! Depend on the `pushtimer` crate, not on this one: it re-exports [`timed`] and holds the
//! runtime the generated code calls into. The full user documentation lives on
//! `pushtimer::timed`.
#![forbid(unsafe_code)]

mod attr;
mod count;
mod expand;
mod future;
mod returns;
mod tokens;

use proc_macro::TokenStream;
use syn::ItemFn;

/// Times every call of the annotated function into a Prometheus summary.
///
/// ```
/// #[pushtimer::timed(name = "train", help = "Wall time of one training run", labels(stage = "fit"))]
/// fn train() { /* ... */ }
///
/// train();
/// assert!(pushtimer::render().contains("train_seconds_count{outcome=\"ok\",stage=\"fit\"} 1"));
/// ```
///
/// Arguments (all optional):
/// - `name = "x"`: feeds the summary `x_seconds` (a name already ending in `_seconds` is kept as
///   it is). Default: the function's name. Must match `[a-zA-Z_:][a-zA-Z0-9_:]*`.
/// - `help = "..."`: the HELP text. Default: the first line of the doc comment, else a sentence
///   naming the function.
/// - `labels(key = "value", ...)`: constant labels on this function's series. Names must match
///   `[a-zA-Z_][a-zA-Z0-9_]*`, must not start with `__` and must not be `job`, `instance`,
///   `quantile` or `outcome`.
/// - `histogram`: a histogram with `pushtimer::DEFAULT_BUCKETS` instead of a summary.
/// - `buckets(0.01, 0.1, 1)`: a histogram with these bucket bounds, in seconds.
/// - `native_histogram` or `native_histogram(schema = N)` (-4 to 8): a native histogram
///   (exponential buckets, merged across jobs by `histogram_quantile(0.99, sum(x_seconds))`).
///
/// Every call is counted under the label `outcome` (`ok`, `error`, `panic`, `cancelled`).
///
/// See the `pushtimer` crate for what is recorded, when it is pushed and how to configure it.
#[proc_macro_attribute]
pub fn timed(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut parsed = attr::TimedArgs::default();
    let parser = syn::meta::parser(|meta| parsed.parse_arg(meta));
    if let Err(error) = syn::parse::Parser::parse(parser, args) {
        // The function itself stays, so the error about the arguments is the only one.
        let mut tokens = error.to_compile_error();
        tokens.extend(proc_macro2::TokenStream::from(item));
        return tokens.into();
    }
    let item_fn: ItemFn = match syn::parse(item.clone()) {
        Ok(item_fn) => item_fn,
        // A function whose body does not parse is left exactly as written: the compiler then
        // reports the user's own syntax error, and nothing else (the function does not vanish
        // for rust-analyzer either).
        Err(_) if syn::parse::<FunctionShape>(item.clone()).is_ok() => return item,
        Err(_) => return not_a_function(item),
    };
    match expand::expand(parsed, item_fn) {
        Ok(tokens) => tokens.into(),
        // The function stays as written, so its callers still compile: the error is the only one.
        Err(error) => {
            let mut tokens = error.to_compile_error();
            tokens.extend(proc_macro2::TokenStream::from(item));
            tokens.into()
        }
    }
}

/// Adds to a counter at the call site: `count!("rows_processed", rows.len())`.
///
/// ```
/// pushtimer::count!("macro_doc_rows", 3, labels(stage = "load"));
/// pushtimer::count!("macro_doc_rows", 2_usize, labels(stage = "load"));
/// assert!(pushtimer::render().contains("macro_doc_rows_total{stage=\"load\"} 5"));
/// ```
///
/// See `pushtimer::count` for the arguments and what is recorded.
#[proc_macro]
pub fn count(input: TokenStream) -> TokenStream {
    match syn::parse::<count::CountArgs>(input) {
        Ok(args) => count::expand(args).into(),
        // Only the error: the expression the macro stands for is `()`, and an error in its
        // place is all the compiler reports.
        Err(error) => error.to_compile_error().into(),
    }
}

/// A function with a body, the body taken as unparsed tokens: what `#[timed]` was put on when
/// only the body is broken.
struct FunctionShape;

impl syn::parse::Parse for FunctionShape {
    fn parse(input: syn::parse::ParseStream<'_>) -> syn::Result<Self> {
        input.call(syn::Attribute::parse_outer)?;
        input.parse::<syn::Visibility>()?;
        input.parse::<syn::Signature>()?;
        let body;
        syn::braced!(body in input);
        body.parse::<proc_macro2::TokenStream>()?;
        Ok(FunctionShape)
    }
}

/// The error for `#[timed]` on anything but a function with a body. A function declared without
/// one (a trait method, a foreign fn) gets its own message spanning the signature; anything else
/// is pointed at by its first keyword (e.g. `struct`), past any attributes and visibility.
fn not_a_function(item: TokenStream) -> TokenStream {
    let declaration = syn::parse::<syn::TraitItemFn>(item.clone())
        .ok()
        .filter(|declaration| declaration.default.is_none());
    if let Some(declaration) = declaration {
        let (sig, semi) = (&declaration.sig, &declaration.semi_token);
        return syn::Error::new_spanned(
            quote::quote!(#sig #semi),
            "#[timed] needs a function body to time, and this declaration has none; put #[timed] on the method in each impl, e.g. `impl Trainer for Model { #[timed] fn train(&self) { ... } }`",
        )
        .to_compile_error()
        .into();
    }
    let span = proc_macro2::TokenStream::from(item)
        .into_iter()
        .find(|token| matches!(token, proc_macro2::TokenTree::Ident(ident) if ident != "pub"))
        .map(|token| token.span())
        .unwrap_or_else(proc_macro2::Span::call_site);
    syn::Error::new(
        span,
        "#[timed] can only be applied to a function with a body (a free fn, a method or a trait impl fn)",
    )
    .to_compile_error()
    .into()
}
