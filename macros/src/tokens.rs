//! Looking at tokens and paths by name, for the few places the expansion must recognise what
//! it is given (its own earlier expansion, an argument the body names, `Box::pin`).

use proc_macro2::{TokenStream, TokenTree};

/// Whether `tokens` hold the identifier `name` anywhere, inside groups (macro arguments
/// included).
pub(crate) fn names(tokens: TokenStream, name: &str) -> bool {
    tokens.into_iter().any(|token| match token {
        TokenTree::Ident(ident) => ident == name,
        TokenTree::Group(group) => names(group.stream(), name),
        _ => false,
    })
}

/// The identifiers of `path`'s segments, in order (`Box::pin` is `["Box", "pin"]`).
pub(crate) fn segments(path: &syn::Path) -> Vec<String> {
    path.segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect()
}
