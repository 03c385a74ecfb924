//! How a timed call ended, the `outcome` label of its series, and how the code `#[timed]`
//! generates tells an `Err` from an `Ok` without knowing the types it is given.
//!
//! A `Result` is recognised by its type, not its name: the generated code asks, with the
//! function's declared return type, "is this a `Result<_, _>`?" through two traits with the
//! same method, one implemented for `&Probe<Result<T, E>>` and one for every `Probe<T>`.
//! Method lookup tries `&Probe<_>` before `Probe<_>`, so a `Result` (under any alias:
//! `io::Result<T>`, `anyhow::Result<T>`, a user's own) finds the first, everything else the
//! second ("autoref specialisation"). A generic return type `T` is not known to be a `Result`
//! where the function is written, so such a function counts as one that cannot fail.

use std::marker::PhantomData;

/// How a call ended: the value of its `outcome` label.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Returned, and not an `Err`.
    Ok,
    /// Returned an `Err` (by `return`, `?` or its last expression).
    Error,
    /// A panic unwound out of the call.
    Panic,
    /// An `async fn`'s future was dropped before it completed.
    Cancelled,
}

impl Outcome {
    /// Every outcome, in the order of their series in a call site.
    pub(crate) const ALL: [Outcome; 4] = [
        Outcome::Ok,
        Outcome::Error,
        Outcome::Panic,
        Outcome::Cancelled,
    ];

    /// The label value.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
            Outcome::Panic => "panic",
            Outcome::Cancelled => "cancelled",
        }
    }

    #[inline]
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// The [`Outcome`] of a value of a concrete type: `Error` for an `Err`, else `Ok` (see the module
/// docs). Expanded where the type is concrete, which is what makes the probe see a `Result`.
#[doc(hidden)]
#[macro_export]
macro_rules! __pushtimer_outcome_of {
    ($value:expr) => {{
        use $crate::__private::{OtherValue as _, ResultValue as _};
        (&&$crate::__private::ValueProbe($value)).__pushtimer_outcome()
    }};
}

/// A value, to ask whether it is an `Err` (see the module docs).
#[doc(hidden)]
pub struct ValueProbe<'a, T>(pub &'a T);

/// `ValueProbe` of a `Result`: `Error` for an `Err`.
#[doc(hidden)]
pub trait ResultValue {
    fn __pushtimer_outcome(&self) -> Outcome;
}

impl<T, E> ResultValue for &ValueProbe<'_, Result<T, E>> {
    #[inline]
    fn __pushtimer_outcome(&self) -> Outcome {
        if self.0.is_err() {
            Outcome::Error
        } else {
            Outcome::Ok
        }
    }
}

/// `ValueProbe` of anything else: always `Ok`.
#[doc(hidden)]
pub trait OtherValue {
    fn __pushtimer_outcome(&self) -> Outcome;
}

impl<T> OtherValue for ValueProbe<'_, T> {
    #[inline]
    fn __pushtimer_outcome(&self) -> Outcome {
        Outcome::Ok
    }
}

/// A type, to ask whether it is a `Result` (see the module docs).
#[doc(hidden)]
pub struct TypeProbe<T>(PhantomData<fn() -> T>);

impl<T> TypeProbe<T> {
    #[doc(hidden)]
    #[inline]
    pub const fn new() -> Self {
        TypeProbe(PhantomData)
    }
}

impl<T> Default for TypeProbe<T> {
    fn default() -> Self {
        TypeProbe::new()
    }
}

/// `TypeProbe` of a `Result`: fallible.
#[doc(hidden)]
pub trait ResultType {
    fn __pushtimer_fallible(&self) -> bool;
}

impl<T, E> ResultType for &TypeProbe<Result<T, E>> {
    #[inline]
    fn __pushtimer_fallible(&self) -> bool {
        true
    }
}

/// `TypeProbe` of anything else: cannot fail.
#[doc(hidden)]
pub trait OtherType {
    fn __pushtimer_fallible(&self) -> bool;
}

impl<T> OtherType for TypeProbe<T> {
    #[inline]
    fn __pushtimer_fallible(&self) -> bool {
        false
    }
}

#[cfg(test)]
// The double reference is what the generated code writes: it is the point of the probe.
#[allow(clippy::needless_borrow)]
mod tests {
    use super::*;

    type Alias<T> = Result<T, String>;

    #[test]
    fn results_are_recognised_under_any_name() {
        assert!((&&TypeProbe::<Result<u8, ()>>::new()).__pushtimer_fallible());
        assert!((&&TypeProbe::<std::io::Result<u8>>::new()).__pushtimer_fallible());
        assert!((&&TypeProbe::<Alias<u8>>::new()).__pushtimer_fallible());
        assert!(!(&&TypeProbe::<Option<u8>>::new()).__pushtimer_fallible());
        assert!(!(&&TypeProbe::<()>::new()).__pushtimer_fallible());
        let err: Alias<u8> = Err("no".into());
        assert_eq!((&&ValueProbe(&err)).__pushtimer_outcome(), Outcome::Error);
        assert_eq!(
            (&&ValueProbe(&Alias::Ok(1))).__pushtimer_outcome(),
            Outcome::Ok
        );
        assert_eq!(
            (&&ValueProbe(&None::<u8>)).__pushtimer_outcome(),
            Outcome::Ok
        );
    }

    fn generic<T>(value: T) -> Outcome {
        (&&ValueProbe(&value)).__pushtimer_outcome()
    }

    #[test]
    fn a_generic_value_counts_as_ok() {
        assert_eq!(generic(Err::<(), ()>(())), Outcome::Ok);
    }

    #[test]
    fn labels_are_the_documented_values_in_series_order() {
        let labels: Vec<&str> = Outcome::ALL.iter().map(|o| o.label()).collect();
        assert_eq!(labels, ["ok", "error", "panic", "cancelled"]);
        for (i, outcome) in Outcome::ALL.iter().enumerate() {
            assert_eq!(outcome.index(), i, "{outcome:?}");
        }
    }
}
