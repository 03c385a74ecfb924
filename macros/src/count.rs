//! `count!`: a counter at its call site, resolved once and cached in a `static`, like a
//! `#[timed]` function's series.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::meta::ParseNestedMeta;
use syn::parse::{Parse, ParseStream};
use syn::{Expr, Ident, LitStr, Token};

use crate::attr::{check_metric_name, parse_label, reject_duplicate, string_value};

/// The parsed arguments of one `count!(...)`.
pub(crate) struct CountArgs {
    /// The counter's name as written (validated), `_total` not yet added.
    name: LitStr,
    /// What to add; none for one.
    amount: Option<Expr>,
    help: Option<LitStr>,
    labels: Vec<(Ident, LitStr)>,
    labels_seen: bool,
}

const USAGE: &str = "count! takes the counter's name and what to add, then optionally labels(...) and help = \"...\", e.g. count!(\"rows_processed\", rows.len(), labels(stage = \"load\"))";

impl Parse for CountArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(input.error(USAGE));
        }
        let name: LitStr = input
            .parse()
            .map_err(|error| syn::Error::new(error.span(), USAGE))?;
        check_metric_name(&name)?;
        let mut args = CountArgs {
            name,
            amount: None,
            help: None,
            labels: Vec::new(),
            labels_seen: false,
        };
        if input.is_empty() {
            return Ok(args);
        }
        input.parse::<Token![,]>()?;
        if !input.is_empty() && !starts_an_option(input) {
            args.amount = Some(input.parse()?);
            if input.is_empty() {
                return Ok(args);
            }
            input.parse::<Token![,]>()?;
        }
        let rest: TokenStream = input.parse()?;
        let parser = syn::meta::parser(|meta| args.parse_option(meta));
        syn::parse::Parser::parse2(parser, rest)?;
        Ok(args)
    }
}

/// Whether what follows is `labels(` or `help =` rather than the amount.
fn starts_an_option(input: ParseStream<'_>) -> bool {
    let fork = input.fork();
    match fork.parse::<Ident>() {
        Ok(ident) if ident == "labels" => fork.peek(syn::token::Paren),
        Ok(ident) if ident == "help" => fork.peek(Token![=]) && !fork.peek(Token![==]),
        _ => false,
    }
}

impl CountArgs {
    fn parse_option(&mut self, meta: ParseNestedMeta<'_>) -> syn::Result<()> {
        if meta.path.is_ident("help") {
            reject_duplicate(&meta, self.help.is_some(), "help")?;
            self.help = Some(string_value(&meta, "help", "help = \"Rows loaded\"")?);
        } else if meta.path.is_ident("labels") {
            reject_duplicate(&meta, self.labels_seen, "labels")?;
            self.labels_seen = true;
            if !meta.input.peek(syn::token::Paren) {
                return Err(meta.error(
                    "`labels` takes a list of constant labels, e.g. labels(stage = \"load\")",
                ));
            }
            meta.parse_nested_meta(|label| parse_label(label, &mut self.labels))?;
        } else {
            return Err(meta.error(
                "unknown argument of count!; after the name and the amount, expected `labels(key = \"value\", ...)` or `help = \"...\"`",
            ));
        }
        Ok(())
    }
}

/// The block `count!` expands to: a `static` call site and one count into it.
pub(crate) fn expand(args: CountArgs) -> TokenStream {
    let text = args.name.value();
    let name = if text.ends_with(pushtimer_names::TOTAL_SUFFIX) {
        text
    } else {
        format!("{text}{}", pushtimer_names::TOTAL_SUFFIX)
    };
    let help = match &args.help {
        Some(help) if !help.value().is_empty() => help.value(),
        _ => {
            let [before, after] = pushtimer_names::COUNTER_HELP;
            format!("{before}{name}{after}")
        }
    };
    let name = LitStr::new(&name, args.name.span());
    let labels = args.labels.iter().map(|(key, value)| {
        let key = key.to_string();
        let key = key.strip_prefix("r#").unwrap_or(&key);
        quote!((#key, #value))
    });
    let amount = match &args.amount {
        Some(amount) => quote!(::pushtimer::__private::Amount::amount(#amount)),
        None => quote!(::core::result::Result::Ok(1)),
    };
    // Mixed-site: the `static` cannot clash with, or be named by, the caller's own items.
    let site = Ident::new("__PUSHTIMER_COUNTER", Span::mixed_site());
    quote! {
        {
            static #site: ::pushtimer::__private::CounterSite =
                ::pushtimer::__private::CounterSite::new(#name, #help, &[#(#labels),*]);
            #site.count(#amount)
        }
    }
}
