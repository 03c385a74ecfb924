//! The source rewrite: an attribute on every function with a body, inserted as text.
//!
//! The file is parsed with `syn` only to find where each function starts; the attribute is then
//! spliced into the original text at that byte, so everything else (comments, formatting, macro
//! bodies) stays byte-identical. The text is inserted on the function's own line, never as a new
//! line, so line numbers in compiler messages are the same in the control and the timed copy.

use proc_macro2::{LineColumn, Span};
use syn::visit::{self, Visit};
use syn::{AttrStyle, Attribute, ImplItemFn, ItemFn, Signature, TraitItemFn, Visibility};

/// Which attribute the rewrite inserts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `#[pushtimer::timed]`: the run under test.
    Timed,
    /// `#[cfg_attr(any(), pushtimer::timed)]`, which expands to nothing: the same rewrite and the
    /// same dependency, without the macro, to show that they alone are harmless.
    Control,
}

impl Mode {
    /// The attribute's text, as inserted (a space follows it).
    pub fn attribute(self) -> &'static str {
        match self {
            Mode::Timed => "#[pushtimer::timed]",
            Mode::Control => "#[cfg_attr(any(), pushtimer::timed)]",
        }
    }

    /// The mode's name in reports and scratch directory names.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Timed => "timed",
            Mode::Control => "control",
        }
    }
}

/// One file after the rewrite.
#[derive(Debug)]
pub struct Rewritten {
    /// The new source text.
    pub text: String,
    /// How many functions got the attribute.
    pub functions: usize,
}

/// Inserts `mode`'s attribute before every function with a body in `source`.
///
/// Functions are numbered in source order from 0 (an enclosing function before the ones nested
/// in its body). An even-numbered one gets the attribute before its first outer attribute (doc
/// comments included), so that it is the outermost; an odd-numbered one right after its last
/// outer attribute, before the visibility and qualifiers, so that it is the innermost. A function
/// without outer attributes gets it before its first token either way.
///
/// Skipped: `const fn` (which `#[timed]` rejects by design), declarations without a body (trait
/// methods without a default, foreign functions), and whatever sits inside a macro invocation or
/// a `macro_rules!` definition, which `syn` keeps as unparsed tokens.
///
/// Fails, leaving nothing changed, when `source` is not a Rust file `syn` parses (e.g. a file
/// `include!`d as an expression).
pub fn rewrite(source: &str, mode: Mode) -> syn::Result<Rewritten> {
    // syn strips a byte order mark before tokenizing, so the columns of line 1 would not count
    // it: parse without it and shift the offsets by its length instead.
    let bom = if source.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    let body = &source[bom..];
    let file = syn::parse_file(body)?;
    let mut finder = Finder::default();
    finder.visit_file(&file);

    let lines = LineIndex::new(body);
    let mut insertions: Vec<usize> = finder
        .sites
        .iter()
        .enumerate()
        .map(|(index, site)| {
            let at = if index % 2 == 0 {
                site.outermost
            } else {
                site.innermost
            };
            bom + lines.byte_offset(at)
        })
        .collect();
    insertions.sort_unstable();
    insertions.dedup();

    let attribute = mode.attribute();
    let mut text = String::with_capacity(source.len() + insertions.len() * (attribute.len() + 1));
    let mut copied = 0;
    for &at in &insertions {
        text.push_str(&source[copied..at]);
        text.push_str(attribute);
        text.push(' ');
        copied = at;
    }
    text.push_str(&source[copied..]);
    Ok(Rewritten {
        text,
        functions: finder.sites.len(),
    })
}

/// The two places a function's attribute can go.
#[derive(Debug)]
struct Site {
    /// The start of the first outer attribute, else of the first token.
    outermost: LineColumn,
    /// The start of the first token after the outer attributes: the visibility, a qualifier
    /// (`default`, `const`, `async`, `unsafe`, `extern`) or `fn`.
    innermost: LineColumn,
}

/// Collects the [`Site`] of every function with a body, in source order.
#[derive(Default)]
struct Finder {
    /// The functions found so far.
    sites: Vec<Site>,
}

impl Finder {
    /// Records a function, unless it is a `const fn`.
    fn record(&mut self, attrs: &[Attribute], first_token: Span, sig: &Signature) {
        if sig.constness.is_some() {
            return;
        }
        let innermost = first_token.start();
        let outermost = attrs
            .iter()
            .filter(|attr| matches!(attr.style, AttrStyle::Outer))
            .map(|attr| attr.pound_token.span.start())
            .min()
            .map_or(innermost, |first| first.min(innermost));
        self.sites.push(Site {
            outermost,
            innermost,
        });
    }
}

impl<'ast> Visit<'ast> for Finder {
    fn visit_item_fn(&mut self, item: &'ast ItemFn) {
        let first = visibility_start(&item.vis).unwrap_or_else(|| signature_start(&item.sig));
        self.record(&item.attrs, first, &item.sig);
        visit::visit_item_fn(self, item);
    }

    fn visit_impl_item_fn(&mut self, item: &'ast ImplItemFn) {
        let first = visibility_start(&item.vis)
            .or(item.defaultness.map(|token| token.span))
            .unwrap_or_else(|| signature_start(&item.sig));
        self.record(&item.attrs, first, &item.sig);
        visit::visit_impl_item_fn(self, item);
    }

    fn visit_trait_item_fn(&mut self, item: &'ast TraitItemFn) {
        if item.default.is_some() {
            self.record(&item.attrs, signature_start(&item.sig), &item.sig);
        }
        visit::visit_trait_item_fn(self, item);
    }
}

/// The span of `pub`, if the item has a visibility.
fn visibility_start(vis: &Visibility) -> Option<Span> {
    match vis {
        Visibility::Public(token) => Some(token.span),
        Visibility::Restricted(restricted) => Some(restricted.pub_token.span),
        Visibility::Inherited => None,
    }
}

/// The span of a signature's first token: a qualifier, else `fn`.
fn signature_start(sig: &Signature) -> Span {
    sig.constness
        .map(|token| token.span)
        .or(sig.asyncness.map(|token| token.span))
        .or(sig.unsafety.map(|token| token.span))
        .or(sig.abi.as_ref().map(|abi| abi.extern_token.span))
        .unwrap_or(sig.fn_token.span)
}

/// Turns proc-macro2's line and column (1-based line, 0-based column counted in chars) into a
/// byte offset in the text.
struct LineIndex<'a> {
    /// The indexed text.
    text: &'a str,
    /// The byte offset at which each line starts.
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes the line starts of `text` (lines end at `\n`; a `\r` before it belongs to the line).
    fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        LineIndex { text, starts }
    }

    /// The byte offset of `at`.
    fn byte_offset(&self, at: LineColumn) -> usize {
        let start = self.starts[at.line - 1];
        let line = &self.text[start..];
        start
            + line
                .char_indices()
                .nth(at.column)
                .map_or(line.len(), |(offset, _)| offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The timed rewrite of `source`.
    fn timed(source: &str) -> Rewritten {
        rewrite(source, Mode::Timed).unwrap()
    }

    #[test]
    fn plain_functions_get_the_attribute_before_their_first_token() {
        let out = timed("fn a() {}\npub fn b() {}\n");
        assert_eq!(
            out.text,
            "#[pushtimer::timed] fn a() {}\n#[pushtimer::timed] pub fn b() {}\n"
        );
        assert_eq!(out.functions, 2);
    }

    #[test]
    fn positions_alternate_between_outermost_and_innermost() {
        let source = "\
/// Zero.
#[inline]
pub fn zero() {}
/// One.
#[inline]
pub(crate) fn one() {}
#[test]
async fn two() {}
#[tokio::test]
unsafe extern \"C\" fn three() {}
";
        let expected = "\
#[pushtimer::timed] /// Zero.
#[inline]
pub fn zero() {}
/// One.
#[inline]
#[pushtimer::timed] pub(crate) fn one() {}
#[pushtimer::timed] #[test]
async fn two() {}
#[tokio::test]
#[pushtimer::timed] unsafe extern \"C\" fn three() {}
";
        let out = timed(source);
        assert_eq!(out.text, expected);
        assert_eq!(out.functions, 4);
    }

    #[test]
    fn columns_count_chars_and_offsets_count_bytes() {
        // Multi-byte characters before the function on its own line and on earlier lines: a
        // char column used as a byte offset would split a character or land inside `fn`.
        let source = "/* é */ fn a() {}\n/* 日本語 🦀 */ #[inline] /* ü */ fn b() {}\nconst S: &str = \"ß\"; fn c() {}\n";
        let expected = "/* é */ #[pushtimer::timed] fn a() {}\n/* 日本語 🦀 */ #[inline] /* ü */ #[pushtimer::timed] fn b() {}\nconst S: &str = \"ß\"; #[pushtimer::timed] fn c() {}\n";
        assert_eq!(timed(source).text, expected);
    }

    #[test]
    fn a_byte_order_mark_and_crlf_line_ends_are_kept() {
        let source = "\u{feff}fn a() {}\r\n#[inline]\r\nfn b() {}\r\n";
        let expected = "\u{feff}#[pushtimer::timed] fn a() {}\r\n#[inline]\r\n#[pushtimer::timed] fn b() {}\r\n";
        assert_eq!(timed(source).text, expected);
    }

    #[test]
    fn methods_trait_defaults_nested_functions_and_inline_modules_are_covered() {
        let source = "\
impl S { fn m(&self) { fn nested() {} } }
impl T for S { default fn t(&self) {} }
trait U { fn required(&self); fn provided(&self) {} }
mod inner { pub(super) fn f() {} }
";
        let expected = "\
impl S { #[pushtimer::timed] fn m(&self) { #[pushtimer::timed] fn nested() {} } }
impl T for S { #[pushtimer::timed] default fn t(&self) {} }
trait U { fn required(&self); #[pushtimer::timed] fn provided(&self) {} }
mod inner { #[pushtimer::timed] pub(super) fn f() {} }
";
        let out = timed(source);
        assert_eq!(out.text, expected);
        assert_eq!(out.functions, 5);
    }

    #[test]
    fn const_fns_declarations_and_macro_bodies_are_skipped() {
        let source = "\
const fn c() {}
pub const unsafe fn d() {}
extern \"C\" { fn foreign(); }
trait T { fn declared(&self); }
macro_rules! m { () => { fn in_macro_rules() {} } }
m! { fn in_invocation() {} }
thread_local! { static X: u8 = { fn in_thread_local() -> u8 { 0 } in_thread_local() }; }
fn kept() { vec![{ fn in_vec() {} }]; }
";
        let out = timed(source);
        assert_eq!(out.functions, 1);
        assert_eq!(
            out.text,
            source.replacen("fn kept", "#[pushtimer::timed] fn kept", 1)
        );
    }

    #[test]
    fn numbering_counts_only_rewritten_functions() {
        // The const fn between them does not take a number: `b` is odd, so innermost.
        let source = "#[a]\nfn a() {}\n#[c]\nconst fn c() {}\n#[b]\nfn b() {}\n";
        let expected = "#[pushtimer::timed] #[a]\nfn a() {}\n#[c]\nconst fn c() {}\n#[b]\n#[pushtimer::timed] fn b() {}\n";
        assert_eq!(timed(source).text, expected);
    }

    #[test]
    fn inner_attributes_of_a_body_do_not_count_as_outer_ones() {
        let source = "fn a() {}\n#[inline]\nfn b() {\n    #![allow(unused)]\n}\n";
        let expected = "#[pushtimer::timed] fn a() {}\n#[inline]\n#[pushtimer::timed] fn b() {\n    #![allow(unused)]\n}\n";
        assert_eq!(timed(source).text, expected);
    }

    #[test]
    fn the_control_inserts_a_cfg_attr_that_expands_to_nothing() {
        let out = rewrite("/// Doc.\nfn a() {}\n", Mode::Control).unwrap();
        assert_eq!(
            out.text,
            "#[cfg_attr(any(), pushtimer::timed)] /// Doc.\nfn a() {}\n"
        );
    }

    #[test]
    fn a_file_syn_does_not_parse_is_an_error() {
        assert!(rewrite("[1, 2, 3]", Mode::Timed).is_err());
    }

    #[test]
    fn the_rewritten_file_still_parses_and_only_gains_the_attributes() {
        let source = "//! Crate.\n#![allow(dead_code)]\n/** Block doc. */\n#[cfg(test)]\nmod t {\n    #[test]\n    fn x() { let _ = || { fn y() {} }; }\n}\n";
        let out = timed(source);
        syn::parse_file(&out.text).unwrap();
        assert_eq!(out.text.replace("#[pushtimer::timed] ", ""), source);
        assert_eq!(out.functions, 2);
    }
}
