//! Exporters the environment asks for that this build compiled out: a metrics-only
//! build (`default-features = false`) with `OTEL_EXPORTER_OTLP_ENDPOINT` or
//! `OBSERVE_PUSHGATEWAY_URL` set. Platforms set `OTEL_*` for every pod, so this is one
//! warning at `init` naming the missing cargo feature, not an error. (The builder has no
//! method for a compiled-out exporter: asking for one in code does not compile.)

/// One variable whose exporter is not in this build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CompiledOut {
    pub(crate) var: &'static str,
    pub(crate) feature: &'static str,
    pub(crate) what: &'static str,
}

/// What `var` (the environment, filtered to non-empty values) asks for that is compiled out.
pub(crate) fn requested(var: impl Fn(&'static str) -> Option<String>) -> Vec<CompiledOut> {
    let otlp = cfg!(not(feature = "otlp"))
        .then(|| otlp_endpoint(&var))
        .flatten();
    let push = cfg!(not(feature = "pushgateway"))
        .then(|| var("OBSERVE_PUSHGATEWAY_URL"))
        .flatten()
        .map(|_| CompiledOut {
            var: "OBSERVE_PUSHGATEWAY_URL",
            feature: "pushgateway",
            what: "Pushgateway pushes",
        });
    otlp.into_iter().chain(push).collect()
}

/// The endpoint variable that would turn span export on (as `traces::otlp` reads them).
fn otlp_endpoint(var: &impl Fn(&'static str) -> Option<String>) -> Option<CompiledOut> {
    let disabled = var("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let name = [
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ]
    .into_iter()
    .find(|name| var(name).is_some())
    .filter(|_| !disabled)?;
    Some(CompiledOut {
        var: name,
        feature: "otlp",
        what: "span export over OTLP",
    })
}

impl CompiledOut {
    /// The warning's text.
    pub(crate) fn message(&self) -> String {
        format!(
            "{var} is set but this build has no {what}: observe was built without its `{feature}` cargo feature (enable it: `observe = {{ …, features = [\"{feature}\"] }}`, or unset {var}); nothing is {done}",
            var = self.var,
            what = self.what,
            feature = self.feature,
            done = if self.feature == "otlp" {
                "exported"
            } else {
                "pushed"
            },
        )
    }
}

/// One warning line per compiled-out exporter, through the log subscriber just installed;
/// on stderr if there is none (`Builder::logging(false)` and no subscriber of the program's).
pub(crate) fn warn(compiled_out: &[CompiledOut]) {
    for missing in compiled_out {
        if tracing::dispatcher::has_been_set() {
            tracing::warn!(target: "observe", "{}", missing.message());
        } else {
            eprintln!("observe: {}", missing.message());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn exporters_in_the_build_are_never_reported() {
        let all = env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"),
            ("OBSERVE_PUSHGATEWAY_URL", "http://gw:9091"),
        ]);
        let reported: Vec<_> = requested(all).into_iter().map(|c| c.feature).collect();
        let expected: Vec<&str> = [
            (!cfg!(feature = "otlp")).then_some("otlp"),
            (!cfg!(feature = "pushgateway")).then_some("pushgateway"),
        ]
        .into_iter()
        .flatten()
        .collect();
        assert_eq!(reported, expected);
        assert_eq!(requested(env(&[])), []);
    }

    #[cfg(not(feature = "otlp"))]
    #[test]
    fn a_compiled_out_otlp_endpoint_names_the_variable_and_the_feature() {
        let reported = requested(env(&[(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://c:4318",
        )]));
        assert_eq!(
            reported[0].message(),
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set but this build has no span export over OTLP: observe was built without its `otlp` cargo feature (enable it: `observe = { …, features = [\"otlp\"] }`, or unset OTEL_EXPORTER_OTLP_TRACES_ENDPOINT); nothing is exported"
        );
        // OTEL_SDK_DISABLED=true already turns export off: nothing to warn about.
        let disabled = env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
            ("OTEL_SDK_DISABLED", "TRUE"),
        ]);
        assert_eq!(requested(disabled), []);
    }

    #[cfg(not(feature = "pushgateway"))]
    #[test]
    fn a_compiled_out_pushgateway_names_the_variable_and_the_feature() {
        let reported = requested(env(&[("OBSERVE_PUSHGATEWAY_URL", "http://gw:9091")]));
        assert_eq!(reported.len(), 1);
        assert!(
            reported[0]
                .message()
                .starts_with("OBSERVE_PUSHGATEWAY_URL is set but this build has no Pushgateway pushes: observe was built without its `pushgateway` cargo feature"),
            "{}",
            reported[0].message()
        );
    }
}
