//! The values a timed function returns, bound to its declared return type so the guard sees
//! whether each is an `Err`.
//!
//! Only `return` expressions are touched, and only their operand: `return e` becomes
//! `return { let v: R = if always() { e } else { never() }; guard.mark(outcome_of!(&v)); v }`
//! (see [`bind`]). The `let` with the declared type is a coercion site exactly as `return` is,
//! so coercions (`&String` as `&str`, `Box<E>` as `Box<dyn Error>`, ...) and inference are
//! unchanged; the `return` node keeps its attributes (`#[cfg]`, ...). Nothing else in the body
//! changes: `?` is left alone (an unmarked way out of a function returning a `Result` is an
//! `Err`), as are closures, `async` blocks and nested items (their `return`s are their own) and
//! macro arguments (not parsed).

use proc_macro2::Span;
use quote::quote;
use syn::visit_mut::{self, VisitMut};
use syn::{Block, Expr, Ident, Item, Type, parse_quote};

/// `ty` when code can name it in a `let` (`let v: T = ...` works: no `impl Trait`, `_` or type
/// macro inside) and it is not `()` or `!`.
pub(crate) fn nameable(ty: &Type) -> Option<&Type> {
    if matches!(ty, Type::Never(_)) || matches!(ty, Type::Tuple(tuple) if tuple.elems.is_empty()) {
        return None;
    }
    let mut finder = Unnameable(false);
    let mut probe = ty.clone();
    finder.visit_type_mut(&mut probe);
    (!finder.0).then_some(ty)
}

struct Unnameable(bool);

impl VisitMut for Unnameable {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if matches!(ty, Type::ImplTrait(_) | Type::Infer(_) | Type::Macro(_)) {
            self.0 = true;
        }
        visit_mut::visit_type_mut(self, ty);
    }
}

/// The local every marked value is bound to (`mixed_site`: the body cannot see it).
pub(crate) fn value_ident() -> Ident {
    Ident::new("__pushtimer_value", Span::mixed_site())
}

/// Marks every `return` of `block` that belongs to the function itself.
pub(crate) fn mark_returns(block: &mut Block, guard: &Ident, output: &Type) {
    let mut marker = Marker { guard, output };
    marker.visit_block_mut(block);
}

struct Marker<'a> {
    guard: &'a Ident,
    output: &'a Type,
}

impl VisitMut for Marker<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if matches!(expr, Expr::Closure(_) | Expr::Async(_) | Expr::Const(_)) {
            return;
        }
        visit_mut::visit_expr_mut(self, expr);
        if let Expr::Return(ret) = expr
            && let Some(operand) = ret.expr.take()
        {
            let (guard, output, value) = (self.guard, self.output, value_ident());
            let bound = bind(&value, output, quote!({ #operand }));
            let mark = mark_value(guard, &value);
            ret.expr = Some(Box::new(parse_quote! {{
                #bound
                #mark
                #value
            }}));
        }
    }

    fn visit_item_mut(&mut self, _: &mut Item) {
        // A nested fn's `return`s are its own.
    }
}

/// `let value: output = if always() block else { never() };`: `block` bound to the declared
/// type (a coercion site, as the function's tail and `return` are), in a way the compiler does
/// not see diverge even when `block` does, so what follows is never "unreachable code".
pub(crate) fn bind(
    value: &Ident,
    output: &Type,
    block: proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    quote! {
        let #value: #output = if ::pushtimer::__private::always() #block else {
            ::pushtimer::__private::never()
        };
    }
}

/// `value`'s outcome marked on `guard`.
pub(crate) fn mark_value(guard: &Ident, value: &Ident) -> proc_macro2::TokenStream {
    quote! {
        #guard.mark(::pushtimer::__private::outcome_of!(&#value));
    }
}
