//! Timing a function whose body is a future: an `async fn`, or the shape `#[async_trait]` turns
//! one into (`fn f(..) -> Pin<Box<dyn Future<Output = T> + Send + '_>> { Box::pin(async move {
//! .. }) }`, written by `#[async_trait]` on the impl before `#[timed]` on the method expands).
//!
//! The body runs inside an inner `async move` block, awaited in place: its `?` and `return`s end
//! the inner block, so every way the body completes lands in one value the generated code sees,
//! while a future dropped before completion never reaches the mark (`cancelled`). The inner
//! block's return type is pinned to the declared one by a typed `return` that never runs (as
//! `#[async_trait]` does), so `return`s keep their coercions.
//!
//! An `async fn`'s arguments are dropped after the body's locals, the last first. Moved into
//! the inner block they would be dropped in the order the body first mentions them, so the
//! inner block mentions them first, last argument first: the order is the same with or without
//! the attribute. Only arguments the body names are mentioned (an unused one keeps its
//! "unused variable" warning, and is dropped when the outer future completes, after the others).

use proc_macro2::TokenStream;
use quote::quote;
use syn::{
    Expr, ExprAsync, FnArg, GenericArgument, Ident, Pat, PathArguments, ReturnType, Signature,
    Stmt, Type, TypeParamBound,
};

use crate::returns::{mark_value, nameable, value_ident};
use crate::tokens;

/// The `async move` block an `#[async_trait]` method returns, and the future's output type.
pub(crate) fn async_trait_body<'a>(
    output: &ReturnType,
    stmts: &'a mut [Stmt],
) -> Option<(&'a mut ExprAsync, Type)> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    let future_output = pinned_boxed_future_output(ty)?;
    let Some(Stmt::Expr(Expr::Call(call), None)) = stmts.last_mut() else {
        return None;
    };
    let Expr::Path(func) = &*call.func else {
        return None;
    };
    if !tokens::segments(&func.path).ends_with(&["Box".to_owned(), "pin".to_owned()])
        || call.args.len() != 1
    {
        return None;
    }
    match call.args.first_mut() {
        Some(Expr::Async(block)) if block.capture.is_some() => Some((block, future_output)),
        _ => None,
    }
}

/// `T` of `Pin<Box<dyn Future<Output = T> + ..>>`, under any path to those names.
fn pinned_boxed_future_output(ty: &Type) -> Option<Type> {
    let boxed = single_type_argument(ty, "Pin")?;
    let Type::TraitObject(object) = single_type_argument(boxed, "Box")? else {
        return None;
    };
    object.bounds.iter().find_map(|bound| {
        let TypeParamBound::Trait(bound) = bound else {
            return None;
        };
        let last = bound.path.segments.last()?;
        if last.ident != "Future" {
            return None;
        }
        let PathArguments::AngleBracketed(args) = &last.arguments else {
            return None;
        };
        args.args.iter().find_map(|arg| match arg {
            GenericArgument::AssocType(assoc) if assoc.ident == "Output" => Some(assoc.ty.clone()),
            _ => None,
        })
    })
}

/// The one type argument of a path type whose last segment is `name`.
fn single_type_argument<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    let Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let mut types = args.args.iter().filter_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty),
        _ => None,
    });
    match (types.next(), types.next()) {
        (Some(ty), None) => Some(ty),
        _ => None,
    }
}

/// The arguments of an `async fn` its body names, last first, to be mentioned at the start of
/// the inner block (see the module docs).
pub(crate) fn arguments_last_first(sig: &Signature, stmts: &[Stmt]) -> Vec<Ident> {
    let body: TokenStream = stmts.iter().map(quote::ToTokens::to_token_stream).collect();
    let mut named = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => {
                named.push(Ident::new("self", receiver.self_token.span));
            }
            FnArg::Typed(typed) => bindings(&typed.pat, &mut named),
        }
    }
    named.retain(|ident| tokens::names(body.clone(), &ident.to_string()));
    named.reverse();
    named
}

/// The identifiers a pattern binds, in order.
fn bindings(pat: &Pat, into: &mut Vec<Ident>) {
    match pat {
        Pat::Ident(binding) if binding.by_ref.is_none() => {
            into.push(binding.ident.clone());
            if let Some((_, sub)) = &binding.subpat {
                bindings(sub, into);
            }
        }
        Pat::Tuple(tuple) => tuple.elems.iter().for_each(|pat| bindings(pat, into)),
        Pat::TupleStruct(tuple) => tuple.elems.iter().for_each(|pat| bindings(pat, into)),
        Pat::Struct(fields) => fields
            .fields
            .iter()
            .for_each(|field| bindings(&field.pat, into)),
        Pat::Slice(slice) => slice.elems.iter().for_each(|pat| bindings(pat, into)),
        Pat::Paren(paren) => bindings(&paren.pat, into),
        Pat::Type(typed) => bindings(&typed.pat, into),
        _ => {}
    }
}

/// The statements of a timed future's body: `enter` starts the guard, the body's `stmts` run in
/// an inner `async move` block (after `arguments` are mentioned, to fix their drop order), and
/// its value is marked before it is returned.
pub(crate) fn timed_future_body(
    enter: &TokenStream,
    guard: &Ident,
    arguments: &[Ident],
    stmts: &[Stmt],
    output: Option<&Type>,
) -> TokenStream {
    let value = value_ident();
    let capture = (!arguments.is_empty()).then(|| quote!(let _ = (#(&#arguments,)*);));
    if matches!(output, Some(Type::Never(_))) {
        // Never completes: nothing to mark after it (and the compiler knows it).
        return quote! {
            #enter
            async move { #capture #(#stmts)* }.await
        };
    }
    match output.and_then(nameable) {
        Some(ty) => {
            let mark = mark_value(guard, &value);
            quote! {
                #enter
                let #value: #ty = async move {
                    // Pins the block's return type to the declared one, so `return`s coerce.
                    if !::pushtimer::__private::always() {
                        return ::pushtimer::__private::never::<#ty>();
                    }
                    #capture
                    #(#stmts)*
                }.await;
                #mark
                #value
            }
        }
        None => quote! {
            #enter
            let #value = async move { #capture #(#stmts)* }.await;
            #guard.mark_ok();
            #value
        },
    }
}
