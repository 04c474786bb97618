//! Service level objectives, declared where operators expect them: `[slo.<service>]` in
//! `observe.toml` (optionally `[slo.<service>.operations.<operation>]`), or `slo(…)` on
//! `#[instrumented]` next to the code. Checked at compile time like everything else:
//! targets strictly between 0% and 100%, the window a duration, the service known, and a
//! latency threshold equal to a bucket bound of the function's preset (any other
//! threshold cannot be measured from the histogram). Undeclared keys take the RFC's
//! defaults at runtime (`observe::ops`).
//!
//! ```toml
//! [slo.parsing]
//! window = "30d"
//! availability = "99%"
//! latency = { threshold = "5s", target = "95%" }
//! min_calls_per_minute = 1          # the throughput floor
//! component = "document_processing" # the alerts' component label
//! [slo.parsing.operations.parse_message]
//! availability = "99.9%"
//! ```

use std::collections::BTreeMap;
use std::ops::Range;

use proc_macro2::{Span, TokenStream};
use quote::quote;
use serde::Deserialize;
use toml::Spanned;

use crate::text::{closest, one_of};

// ---------------------------------------------------------------------------------------
// observe.toml

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SloFile {
    window: Option<Spanned<String>>,
    availability: Option<Spanned<String>>,
    latency: Option<Spanned<LatencyFile>>,
    min_calls_per_minute: Option<Spanned<i64>>,
    component: Option<Spanned<String>>,
    #[serde(default)]
    operations: BTreeMap<String, Spanned<OperationSloFile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OperationSloFile {
    availability: Option<Spanned<String>>,
    latency: Option<Spanned<LatencyFile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LatencyFile {
    threshold: Spanned<String>,
    target: Spanned<String>,
}

/// A service's declared SLO.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ServiceSlo {
    pub(crate) window_secs: Option<u64>,
    pub(crate) availability: Option<u32>,
    pub(crate) latency: Option<Latency>,
    pub(crate) min_calls_per_minute: Option<u32>,
    pub(crate) component: Option<String>,
    pub(crate) operations: BTreeMap<String, OperationSlo>,
}

/// An operation's declared objectives.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct OperationSlo {
    pub(crate) availability: Option<u32>,
    pub(crate) latency: Option<Latency>,
}

/// "`target` (parts per million) of calls within `threshold` seconds", and where it was
/// declared, for the error if the threshold is no bucket bound.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Latency {
    pub(crate) threshold: f64,
    pub(crate) target: u32,
    pub(crate) threshold_text: String,
    pub(crate) origin: String,
}

/// One problem in the `[slo]` tables: where, which key, what.
pub(crate) type FileError = (Option<Range<usize>>, String, String);

/// The declared SLOs of `[slo.*]`, and every problem in them.
pub(crate) fn from_file(
    tables: BTreeMap<String, Spanned<SloFile>>,
    services: Option<&[String]>,
    errors: &mut Vec<FileError>,
) -> BTreeMap<String, ServiceSlo> {
    let mut out = BTreeMap::new();
    for (service, table) in tables {
        let key = format!("slo.{service}");
        if let Some(known) = services
            && !known.contains(&service)
        {
            let hint = closest(&service, known.iter().map(String::as_str))
                .map_or(String::new(), |c| format!("; did you mean `{c}`?"));
            errors.push((
                Some(table.span()),
                key.clone(),
                format!(
                    "an SLO for unknown service `{service}`: `services` declares {}{hint}",
                    one_of(known.iter().map(String::as_str))
                ),
            ));
        }
        let table = table.into_inner();
        let mut slo = ServiceSlo {
            window_secs: table
                .window
                .and_then(|w| check(errors, &format!("{key}.window"), &w, parse_window)),
            availability: table
                .availability
                .and_then(|a| check(errors, &format!("{key}.availability"), &a, parse_percent)),
            latency: table
                .latency
                .and_then(|l| latency(errors, &format!("{key}.latency"), l.into_inner())),
            component: table.component.map(Spanned::into_inner),
            ..ServiceSlo::default()
        };
        if let Some(floor) = table.min_calls_per_minute {
            match u32::try_from(*floor.get_ref()) {
                Ok(n) if n > 0 => slo.min_calls_per_minute = Some(n),
                _ => errors.push((
                    Some(floor.span()),
                    format!("{key}.min_calls_per_minute"),
                    format!(
                        "`{}` is not a positive number of calls a minute",
                        floor.get_ref()
                    ),
                )),
            }
        }
        for (operation, op) in table.operations {
            let op_key = format!("{key}.operations.{operation}");
            let op = op.into_inner();
            let parsed = OperationSlo {
                availability: op.availability.and_then(|a| {
                    check(errors, &format!("{op_key}.availability"), &a, parse_percent)
                }),
                latency: op
                    .latency
                    .and_then(|l| latency(errors, &format!("{op_key}.latency"), l.into_inner())),
            };
            slo.operations.insert(operation, parsed);
        }
        out.insert(service, slo);
    }
    out
}

fn check<T>(
    errors: &mut Vec<FileError>,
    key: &str,
    value: &Spanned<String>,
    parse: fn(&str) -> Result<T, String>,
) -> Option<T> {
    parse(value.get_ref())
        .map_err(|message| errors.push((Some(value.span()), key.to_owned(), message)))
        .ok()
}

fn latency(errors: &mut Vec<FileError>, key: &str, file: LatencyFile) -> Option<Latency> {
    let threshold = check(
        errors,
        &format!("{key}.threshold"),
        &file.threshold,
        parse_threshold,
    );
    let target = check(
        errors,
        &format!("{key}.target"),
        &file.target,
        parse_percent,
    );
    Some(Latency {
        threshold: threshold?,
        target: target?,
        threshold_text: file.threshold.into_inner(),
        origin: format!("`{key}` in `observe.toml`"),
    })
}

// ---------------------------------------------------------------------------------------
// Values

pub(crate) use observe_vocab::slo_text::{parse_percent, parse_window};

/// `"5s"`, `"2.5s"`, `"500ms"` → seconds.
pub(crate) fn parse_threshold(text: &str) -> Result<f64, String> {
    let (number, scale) = if let Some(ms) = text.strip_suffix("ms") {
        (ms, 1000.0)
    } else if let Some(s) = text.strip_suffix('s') {
        (s, 1.0)
    } else {
        return Err(format!(
            "latency threshold `{text}` must be a duration in `s` or `ms`, like `5s`"
        ));
    };
    match number.parse::<f64>() {
        Ok(n) if n > 0.0 && n.is_finite() && !number.starts_with(['+', '-']) => Ok(n / scale),
        _ => Err(format!(
            "latency threshold `{text}` must be a positive duration like `5s` or `500ms`"
        )),
    }
}

mod attr;
pub(crate) use attr::{AttrSlo, parse_attr};

// ---------------------------------------------------------------------------------------
// Resolution at one #[instrumented] function

/// The objectives of one operation: the attribute's, else `observe.toml`'s for the
/// operation, else the service's; `None` keys take the RFC's defaults at runtime.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Resolved {
    pub(crate) window_secs: Option<u64>,
    pub(crate) availability: Option<u32>,
    pub(crate) latency: Option<(f64, u32)>,
    pub(crate) min_calls_per_minute: Option<u32>,
    pub(crate) component: Option<String>,
    /// The operations `observe.toml` declares for the service: the runtime reports those
    /// no linked function has.
    pub(crate) declared_operations: Vec<String>,
}

/// A latency threshold that is no bucket bound of the function's preset: the SLO cannot be
/// measured. The message names the bounds that exist; `Some(span)` if the attribute
/// declared it.
pub(crate) struct Unmeasurable {
    pub(crate) span: Option<Span>,
    pub(crate) message: String,
    pub(crate) help: String,
}

pub(crate) fn resolve(
    declared: &BTreeMap<String, ServiceSlo>,
    service: &str,
    operation: &str,
    attr: Option<&AttrSlo>,
    preset: &str,
    buckets: &[f64],
) -> Result<Resolved, Unmeasurable> {
    let service_slo = declared.get(service);
    let op_slo = service_slo.and_then(|s| s.operations.get(operation));
    let availability = attr
        .and_then(|a| a.availability.as_ref().map(|(_, ppm)| *ppm))
        .or(op_slo.and_then(|o| o.availability))
        .or(service_slo.and_then(|s| s.availability));
    let latency: Option<(Option<Span>, &Latency)> = attr
        .and_then(|a| a.latency.as_ref().map(|(lit, l)| (Some(lit.span()), l)))
        .or(op_slo.and_then(|o| o.latency.as_ref()).map(|l| (None, l)))
        .or(service_slo
            .and_then(|s| s.latency.as_ref())
            .map(|l| (None, l)));
    if let Some((span, latency)) = latency
        && !buckets.contains(&latency.threshold)
    {
        let bounds: Vec<String> = buckets.iter().map(|b| format!("{b}s")).collect();
        return Err(Unmeasurable {
            span,
            message: format!(
                "the latency SLO of operation `{operation}` ({}: `{}`) cannot be measured: `{}` is not a bucket bound of its `{preset}` histogram, whose bounds are {}",
                latency.origin,
                latency.threshold_text,
                latency.threshold_text,
                bounds.join(", ")
            ),
            help: format!(
                "set the threshold to one of {}, or choose a preset that has `{}` (`histogram = \"…\"`)",
                bounds.join(", "),
                latency.threshold_text
            ),
        });
    }
    Ok(Resolved {
        window_secs: service_slo.and_then(|s| s.window_secs),
        availability,
        latency: latency.map(|(_, l)| (l.threshold, l.target)),
        min_calls_per_minute: service_slo.and_then(|s| s.min_calls_per_minute),
        component: service_slo.and_then(|s| s.component.clone()),
        declared_operations: service_slo
            .map(|s| s.operations.keys().cloned().collect())
            .unwrap_or_default(),
    })
}

impl Resolved {
    /// The `SloMeta` literal the expansion puts in the function's `SiteMeta`.
    pub(crate) fn to_tokens(&self, krate: &TokenStream) -> TokenStream {
        fn opt<T: quote::ToTokens>(value: &Option<T>) -> TokenStream {
            match value {
                Some(v) => quote!(::core::option::Option::Some(#v)),
                None => quote!(::core::option::Option::None),
            }
        }
        let window = opt(&self.window_secs);
        let availability = opt(&self.availability);
        let latency = opt(&self
            .latency
            .map(|(threshold, target)| quote!((#threshold, #target))));
        let floor = opt(&self.min_calls_per_minute);
        let component = opt(&self.component);
        let operations = &self.declared_operations;
        quote! {
            #krate::__private::SloMeta {
                window_secs: #window,
                availability_per_million: #availability,
                latency: #latency,
                min_calls_per_minute: #floor,
                component: #component,
                declared_operations: &[#(#operations),*],
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(
        text: &str,
        services: Option<&[String]>,
    ) -> (BTreeMap<String, ServiceSlo>, Vec<String>) {
        #[derive(Deserialize)]
        struct Doc {
            slo: BTreeMap<String, Spanned<SloFile>>,
        }
        let doc: Doc = toml::from_str(text).unwrap();
        let mut errors = Vec::new();
        let slos = from_file(doc.slo, services, &mut errors);
        (
            slos,
            errors
                .into_iter()
                .map(|(_, key, message)| format!("{key}: {message}"))
                .collect(),
        )
    }

    const LATENCY: [f64; 10] = [0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

    #[test]
    fn the_issues_example_parses_and_resolves() {
        let (slos, errors) = file(
            "[slo.parsing]\nwindow = \"30d\"\navailability = \"99%\"\nlatency = { threshold = \"5s\", target = \"95%\" }\n\
             [slo.parsing.operations.parse_message]\navailability = \"99.9%\"\n",
            None,
        );
        assert!(errors.is_empty(), "{errors:?}");
        let op = resolve(&slos, "parsing", "parse_message", None, "latency", &LATENCY)
            .ok()
            .unwrap();
        assert_eq!(op.availability, Some(999_000));
        assert_eq!(op.latency, Some((5.0, 950_000)));
        assert_eq!(op.window_secs, Some(30 * 86_400));
        assert_eq!(op.declared_operations, ["parse_message"]);
        let other = resolve(&slos, "parsing", "decode", None, "latency", &LATENCY)
            .ok()
            .unwrap();
        assert_eq!(other.availability, Some(990_000));
        assert_eq!(
            resolve(&slos, "chunking", "x", None, "latency", &LATENCY)
                .ok()
                .unwrap(),
            Resolved::default()
        );
    }

    #[test]
    fn every_problem_of_the_file_is_reported() {
        let services = ["parsing".to_owned()];
        let (_, errors) = file(
            "[slo.parsnig]\navailability = \"100%\"\nwindow = \"30 days\"\nlatency = { threshold = \"fast\", target = \"95\" }\nmin_calls_per_minute = 0\n",
            Some(&services),
        );
        assert_eq!(
            errors,
            [
                "slo.parsnig: an SLO for unknown service `parsnig`: `services` declares `parsing`; did you mean `parsing`?",
                "slo.parsnig.window: window `30 days` is not a duration like `30d` (a whole number and `s`, `m`, `h`, `d` or `w`)",
                "slo.parsnig.availability: target `100%` must be strictly between 0% and 100%",
                "slo.parsnig.latency.threshold: latency threshold `fast` must be a duration in `s` or `ms`, like `5s`",
                "slo.parsnig.latency.target: target `95` must be a percentage like `99.9%`",
                "slo.parsnig.min_calls_per_minute: `0` is not a positive number of calls a minute",
            ]
        );
    }

    #[test]
    fn a_threshold_that_is_no_bucket_bound_is_unmeasurable() {
        let (slos, _) = file(
            "[slo.parsing]\nlatency = { threshold = \"3s\", target = \"95%\" }\n",
            None,
        );
        let error = resolve(&slos, "parsing", "decode", None, "latency", &LATENCY)
            .err()
            .unwrap();
        assert!(error.span.is_none());
        assert_eq!(
            error.message,
            "the latency SLO of operation `decode` (`slo.parsing.latency` in `observe.toml`: `3s`) cannot be measured: `3s` is not a bucket bound of its `latency` histogram, whose bounds are 0.01s, 0.05s, 0.1s, 0.5s, 1s, 2.5s, 5s, 10s, 30s, 60s"
        );
        assert!(
            error.help.starts_with("set the threshold to one of 0.01s"),
            "{}",
            error.help
        );
        let (slos, _) = file(
            "[slo.parsing]\nlatency = { threshold = \"500ms\", target = \"99%\" }\n",
            None,
        );
        assert_eq!(
            resolve(&slos, "parsing", "decode", None, "latency", &LATENCY)
                .ok()
                .unwrap()
                .latency,
            Some((0.5, 990_000))
        );
    }

    #[test]
    fn the_attribute_overrides_the_file_and_reports_every_mistake() {
        let attr = parse_attr(quote!(
            availability = "99.95%",
            latency(threshold = "1s", target = "90%")
        ))
        .ok()
        .unwrap();
        let (slos, _) = file("[slo.parsing]\navailability = \"99%\"\n", None);
        let op = resolve(&slos, "parsing", "decode", Some(&attr), "latency", &LATENCY)
            .ok()
            .unwrap();
        assert_eq!(
            (op.availability, op.latency),
            (Some(999_500), Some((1.0, 900_000)))
        );
        let error = parse_attr(quote!(
            availabilty = "99%",
            latency(threshold = "5", target = "101%")
        ))
        .err()
        .unwrap();
        let messages: Vec<String> = error.into_iter().map(|e| e.to_string()).collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(
            messages[0]
                .starts_with("unknown SLO key `availabilty`, expected `availability` or `latency`"),
            "{messages:?}"
        );
        assert!(
            messages[1].starts_with("latency threshold `5` must be a duration in `s` or `ms`"),
            "{messages:?}"
        );
        assert!(
            messages[2].starts_with("target `101%` must be strictly between 0% and 100%"),
            "{messages:?}"
        );
        let error = parse_attr(quote!(latency(threshold = "2s"))).err().unwrap();
        assert!(
            error
                .to_string()
                .starts_with("`latency(…)` needs both `threshold` and `target`")
        );
    }
}
