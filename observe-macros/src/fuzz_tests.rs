//! The macros never panic: `#[instrumented]`, the derive and the function-like macros fed
//! arbitrary token streams (random tokens, truncated and nested groups, odd literals, a
//! valid call with one part replaced by noise, huge inputs), and the `observe.toml` parser
//! fed arbitrary bytes and mutations of a real file. Every case must end in a compile error
//! or an expansion that parses; a panic fails the property, with the shrunk input.

use std::path::Path;
use std::str::FromStr;

use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};
use proptest::prelude::*;
use proptest::test_runner::Config;

use crate::convention::Loaded;
use crate::rules::Kind;

/// This repository's `observe.toml`, as the macros load it.
fn convention() -> Loaded {
    crate::convention::load(None)
}

/// Words the macros give meaning to, Rust keywords, and plain names.
const WORDS: &[&str] = &[
    "service",
    "histogram",
    "name",
    "operation",
    "level",
    "skip",
    "skip_all",
    "fields",
    "labels",
    "kind",
    "parent",
    "crate",
    "help",
    "preset",
    "error_label",
    "rename",
    "transparent",
    "fn",
    "async",
    "unsafe",
    "const",
    "extern",
    "pub",
    "self",
    "Self",
    "impl",
    "dyn",
    "where",
    "move",
    "return",
    "await",
    "enum",
    "struct",
    "mut",
    "ref",
    "Result",
    "Option",
    "Box",
    "Pin",
    "Future",
    "u32",
    "String",
    "parsing",
    "queue",
    "latency",
    "x",
    "_",
    "r#type",
    "déjà",
    "a𝔘",
];

fn ident() -> impl Strategy<Value = TokenTree> {
    prop_oneof![
        prop::sample::select(WORDS).prop_map(|w| match w.strip_prefix("r#") {
            Some(raw) => Ident::new_raw(raw, Span::call_site()),
            None => Ident::new(w, Span::call_site()),
        }),
        "[a-zA-Z_][a-zA-Z0-9_]{0,12}"
            .prop_filter("not a lone underscore-free keyword check", |s| s != "_")
            .prop_map(|s| Ident::new(&s, Span::call_site())),
    ]
    .prop_map(TokenTree::Ident)
}

fn punct() -> impl Strategy<Value = TokenTree> {
    (
        prop::sample::select(
            &[
                '=', ',', ':', ';', '.', '#', '!', '?', '&', '*', '<', '>', '-', '+', '/', '\'',
                '@', '|', '^', '%', '~', '$',
            ][..],
        ),
        any::<bool>(),
    )
        .prop_map(|(c, joint)| {
            let spacing = if joint {
                Spacing::Joint
            } else {
                Spacing::Alone
            };
            TokenTree::Punct(Punct::new(c, spacing))
        })
}

fn literal() -> impl Strategy<Value = TokenTree> {
    prop_oneof![
        // Names the rules check, valid and not.
        prop::sample::select(
            &[
                "copilot_parsing_retries_total",
                "copilot_parsing_queue_depth_messages",
                "copilot_parsing_size_bytes",
                "parsing",
                "latency",
                "debug",
                "server",
                "",
                "BadName",
                "a-b",
                "x_total_total",
                "__reserved",
            ][..]
        )
        .prop_map(Literal::string),
        any::<String>().prop_map(|s| Literal::string(&s)),
        any::<u64>().prop_map(Literal::u64_suffixed),
        any::<i128>().prop_map(Literal::i128_unsuffixed),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Literal::f64_unsuffixed),
        any::<char>().prop_map(Literal::character),
        prop::collection::vec(any::<u8>(), 0..16).prop_map(|b| Literal::byte_string(&b)),
        // Odd literal forms, when the lexer takes them.
        prop::sample::select(
            &[
                "1e999",
                "0x_",
                "1.0f16",
                "1u7",
                "b'\\xff'",
                "r#\"raw\"#",
                "c\"c\"",
                "'\\u{10FFFF}'",
                "0b102",
                "\"\\u{0}\"",
                "1_000_000usize",
                "\"multi\nline\"",
            ][..]
        )
        .prop_filter_map("lexes", |s| Literal::from_str(s).ok()),
    ]
    .prop_map(TokenTree::Literal)
}

/// Token streams with nested groups, up to a few levels deep.
fn tokens() -> impl Strategy<Value = TokenStream> {
    let leaf = prop_oneof![4 => ident(), 3 => punct(), 3 => literal()];
    let tree = leaf.prop_recursive(3, 48, 6, |inner| {
        (
            prop::sample::select(
                &[
                    Delimiter::Parenthesis,
                    Delimiter::Brace,
                    Delimiter::Bracket,
                    Delimiter::None,
                ][..],
            ),
            prop::collection::vec(inner, 0..6),
        )
            .prop_map(|(delimiter, trees)| {
                TokenTree::Group(Group::new(delimiter, trees.into_iter().collect()))
            })
    });
    prop::collection::vec(tree, 0..16).prop_map(|trees| trees.into_iter().collect())
}

/// A valid call's text with one piece replaced by noise, or cut short: the parsers get far
/// before they meet the fault.
fn mutated(valid: &'static [&'static str]) -> impl Strategy<Value = TokenStream> {
    (
        prop::collection::vec(any::<bool>(), valid.len()),
        tokens(),
        0..=valid.len(),
    )
        .prop_map(move |(keep, noise, cut)| {
            let mut stream = TokenStream::new();
            for (piece, keep) in valid.iter().zip(keep).take(cut.max(1)) {
                if keep {
                    stream.extend(TokenStream::from_str(piece).unwrap());
                } else {
                    stream.extend(noise.clone());
                }
            }
            stream
        })
}

const ARGS: &[&str] = &[
    "service = \"parsing\",",
    "histogram = \"latency\",",
    "name = \"generation\",",
    "labels(queue = \"parsing\"),",
    "fields(message.id = 1),",
    "skip(a),",
    "kind = \"server\",",
    "level = \"debug\",",
];

const ITEMS: &[&str] = &[
    "#[inline]",
    "pub async fn",
    "parse",
    "<'a, T: Clone>",
    "(&self, a: &'a T, headers: &http::HeaderMap)",
    "-> Result<u32, ParseError>",
    "where T: Send",
    "{ Ok(1) }",
];

const METRIC: &[&str] = &[
    "\"copilot_parsing_retries_total\",",
    "help = \"Retries of a message.\",",
    "labels(queue = queue),",
    "preset = \"latency\",",
    "crate = ::observe,",
];

const VARIANTS: &[&str] = &[
    "#[error_label(rename = \"TooLargeError\")]",
    "TooLarge { size: usize },",
    "#[error_label(transparent)]",
    "Io(std::io::Error),",
    "InvalidJson = 3,",
];

/// `enum ParseError { … }` around damaged variants, sometimes with damaged attributes.
fn damaged_enum() -> impl Strategy<Value = TokenStream> {
    (
        mutated(VARIANTS),
        mutated(&["#[derive(Debug)]", "pub", "enum", "ParseError"]),
    )
        .prop_map(|(variants, head)| {
            let mut stream = head;
            stream.extend([TokenTree::Group(Group::new(Delimiter::Brace, variants))]);
            stream
        })
}

/// A compile error, or code that parses.
fn assert_error_or_code(output: &TokenStream, as_expression: bool) {
    let text = output.to_string();
    if text.contains("compile_error") {
        return;
    }
    assert!(!text.is_empty(), "an empty expansion without an error");
    let parses = if as_expression {
        syn::parse2::<syn::Expr>(output.clone()).is_ok()
    } else {
        syn::parse2::<syn::File>(output.clone()).is_ok()
    };
    assert!(parses, "neither an error nor valid code: {text}");
}

fn config() -> Config {
    Config {
        cases: 128,
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn instrumented_never_panics_on_random_tokens(args in tokens(), item in tokens()) {
        assert_error_or_code(&crate::driver::instrumented(args, item, true, &convention()), false);
    }

    #[test]
    fn instrumented_never_panics_on_damaged_calls(args in mutated(ARGS), item in mutated(ITEMS)) {
        assert_error_or_code(&crate::driver::instrumented(args.clone(), item.clone(), true, &convention()), false);
        assert_error_or_code(&crate::driver::instrumented(args, item, false, &convention()), false);
    }

    #[test]
    fn function_like_macros_never_panic(random in tokens(), damaged in mutated(METRIC)) {
        for kind in [Kind::Counter, Kind::Gauge, Kind::Histogram] {
            assert_error_or_code(&crate::driver::metric(kind, random.clone(), true, &convention()), true);
            assert_error_or_code(&crate::driver::metric(kind, damaged.clone(), true, &convention()), true);
        }
    }

    #[test]
    fn derive_never_panics(random in tokens(), damaged in damaged_enum()) {
        assert_error_or_code(&crate::driver::error_label(random, &convention()), false);
        assert_error_or_code(&crate::driver::error_label(damaged, &convention()), false);
    }

    #[test]
    fn convention_file_parser_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = crate::convention::parse(&text, Path::new("observe.toml"), "app".into());
    }

    #[test]
    fn convention_file_parser_never_panics_on_damaged_files(
        cuts in prop::collection::vec((0usize..4096, 0usize..64, "[\\[\\]=\"'.,a-z0-9 \n#{}]{0,8}"), 1..6)
    ) {
        let mut text = include_str!("../../observe.toml").to_owned();
        for (at, len, insert) in cuts {
            let at = floor_char_boundary(&text, at % (text.len() + 1));
            let end = floor_char_boundary(&text, (at + len).min(text.len()));
            text.replace_range(at..end, &insert);
        }
        match crate::convention::parse(&text, Path::new("observe.toml"), "app".into()) {
            Ok(_) => {}
            Err(messages) => prop_assert!(
                messages.iter().all(|m| m.contains("observe.toml")),
                "every message names the file: {messages:?}"
            ),
        }
    }
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Huge inputs: long flat streams and deep nesting end in an error or code too.
#[test]
fn huge_and_deep_inputs_never_panic() {
    let long: TokenStream =
        TokenStream::from_str(&"service = \"parsing\", ".repeat(5_000)).unwrap();
    let item = TokenStream::from_str("fn f() {}").unwrap();
    assert_error_or_code(
        &crate::driver::instrumented(long.clone(), item.clone(), true, &convention()),
        false,
    );
    assert_error_or_code(
        &crate::driver::metric(Kind::Counter, long, true, &convention()),
        true,
    );

    let mut deep = TokenStream::from_str("1").unwrap();
    for _ in 0..64 {
        deep = TokenTree::Group(Group::new(Delimiter::Parenthesis, deep)).into();
    }
    let body = TokenStream::from_str(&format!("fn f() -> u32 {{ {deep} }}")).unwrap();
    let args = TokenStream::from_str("service = \"parsing\"").unwrap();
    assert_error_or_code(
        &crate::driver::instrumented(args, body, true, &convention()),
        false,
    );
    let labels = TokenStream::from_str(&format!(
        "\"copilot_parsing_retries_total\", help = \"Retries.\", labels(queue = {deep})"
    ))
    .unwrap();
    assert_error_or_code(
        &crate::driver::metric(Kind::Counter, labels, true, &convention()),
        true,
    );
    let many_variants = format!(
        "enum E {{ {} }}",
        (0..2_000)
            .map(|n| format!("V{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    assert_error_or_code(
        &crate::driver::error_label(
            TokenStream::from_str(&many_variants).unwrap(),
            &convention(),
        ),
        false,
    );
}
