//! Marking the ways out of a timed body, so the call's guard knows its `outcome`.
//!
//! The last expression and every `return` are passed through the guard's `done` (with a
//! classifier that tells an `Err` by its type, when the return type can be named) and every
//! `?` is armed before it applies and disarmed after it lets the value through. Closures,
//! `async` blocks and nested items have their own `return`s and `?`s and are left alone, as
//! are macro arguments (not parsed: a `?` in them is classified when the guard drops).

use proc_macro2::TokenStream;
use quote::quote;
use syn::visit_mut::{self, VisitMut};
use syn::{Block, Expr, Ident, Item, ReturnType, Stmt, Type, parse_quote};

/// The declared return type when code can name it (`let x: T` works): not `()`, not `!`, no
/// `impl Trait` and no `_` inside.
pub(crate) fn nameable_output(output: &ReturnType) -> Option<&Type> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    if matches!(**ty, Type::Never(_)) || is_unit(ty) {
        return None;
    }
    let mut finder = Unnameable(false);
    let mut probe = (**ty).clone();
    finder.visit_type_mut(&mut probe);
    (!finder.0).then_some(&**ty)
}

/// True when the function returns `()`.
pub(crate) fn returns_unit(output: &ReturnType) -> bool {
    match output {
        ReturnType::Default => true,
        ReturnType::Type(_, ty) => is_unit(ty),
    }
}

fn is_unit(ty: &Type) -> bool {
    matches!(ty, Type::Tuple(tuple) if tuple.elems.is_empty())
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

/// The body's statements with every way out marked. `classify` names the classifier closure
/// when the return type is nameable; `unit` says the function returns `()` (so falling off
/// the end of the body is a return too).
pub(crate) fn mark(
    block: Block,
    guard: &Ident,
    classify: Option<&Ident>,
    unit: bool,
) -> TokenStream {
    let mut marker = Marker { guard, classify };
    let mut stmts = block.stmts;
    for stmt in &mut stmts {
        marker.visit_stmt_mut(stmt);
    }
    let tail = match stmts.last() {
        Some(Stmt::Expr(tail, None)) if !diverges(tail) => {
            let tail = tail.clone();
            stmts.pop();
            Some(tail)
        }
        _ => None,
    };
    let end = match tail {
        // The last expression's value goes through the guard by way of a local, so that a
        // last expression that never returns (`loop {}`, `process::exit(1)`) leaves only
        // statements behind it, whose "unreachable" warning can be allowed (an expression's
        // cannot, on stable Rust).
        Some(tail) => {
            let value = Ident::new("__pushtimer_value", proc_macro2::Span::mixed_site());
            let done = marker.done(parse_quote!(#value));
            quote! {
                #[allow(unreachable_code)]
                let #value = #tail;
                #[allow(unreachable_code)]
                let #value = #done;
                #value
            }
        }
        None if unit && !matches!(stmts.last(), Some(Stmt::Expr(_, None))) => quote! {
            #[allow(unreachable_code)]
            #guard.done_ok(());
        },
        None => TokenStream::new(),
    };
    quote! { #(#stmts)* #end }
}

/// A last expression that never produces a value (wrapping it would only add an "unreachable
/// call" warning).
fn diverges(expr: &Expr) -> bool {
    match expr {
        Expr::Macro(mac) => mac.mac.path.segments.last().is_some_and(|segment| {
            ["panic", "todo", "unimplemented", "unreachable"]
                .iter()
                .any(|name| segment.ident == name)
        }),
        _ => false,
    }
}

struct Marker<'a> {
    guard: &'a Ident,
    classify: Option<&'a Ident>,
}

impl Marker<'_> {
    fn done(&self, value: Expr) -> Expr {
        let guard = self.guard;
        match self.classify {
            Some(classify) => parse_quote!(#guard.done(#value, &#classify)),
            None => parse_quote!(#guard.done_ok(#value)),
        }
    }
}

impl VisitMut for Marker<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if matches!(expr, Expr::Closure(_) | Expr::Async(_)) {
            return;
        }
        visit_mut::visit_expr_mut(self, expr);
        let guard = self.guard;
        match expr {
            Expr::Try(attempt) => {
                let inner = &attempt.expr;
                let question = &attempt.question_token;
                *expr = parse_quote!(#guard.disarm(#guard.armed(#inner) #question));
            }
            Expr::Return(ret) => {
                let value = ret
                    .expr
                    .take()
                    .map_or_else(|| parse_quote!(()), |value| *value);
                ret.expr = Some(Box::new(self.done(value)));
            }
            _ => {}
        }
    }

    fn visit_item_mut(&mut self, _: &mut Item) {
        // A nested fn's `return` and `?` are its own.
    }
}
