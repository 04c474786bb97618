//! Service level objectives: targets, windows, the RFC's defaults, and the SRE workbook's
//! multi-window multi-burn-rate tiers derived from them. Targets and thresholds are exact
//! decimals (parts per million), so `99.9%` gives a budget of `0.001`, not `0.000999…`.

use std::fmt;

/// A target share of good events, e.g. `99.9%`, held exactly as parts per million.
///
/// ```
/// use observe::ops::Objective;
///
/// let objective = Objective::parse("99.9%").unwrap();
/// assert_eq!(objective.budget(), "0.001"); // exact, not 0.000999…
/// assert!(objective > Objective::parse("99%").unwrap());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Objective {
    per_million: u32,
}

impl Objective {
    /// Parses `"99.9%"` (or `"99.9"`): a percentage strictly between 0 and 100 with at most
    /// four decimals.
    ///
    /// ```
    /// use observe::ops::Objective;
    ///
    /// assert_eq!(Objective::parse("99.5").unwrap().to_string(), "99.5%");
    /// assert!(Objective::parse("100%").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Objective, String> {
        let text = text.trim();
        let percent = if text.ends_with('%') {
            text.to_owned()
        } else {
            format!("{text}%")
        };
        observe_vocab::slo_text::parse_percent(&percent).map(Objective::from_per_million)
    }

    /// From parts per million (`990_000` is 99%).
    ///
    /// ```
    /// use observe::ops::Objective;
    ///
    /// const FOUR_NINES: Objective = Objective::from_per_million(999_900);
    /// assert_eq!(FOUR_NINES.to_string(), "99.99%");
    /// ```
    pub const fn from_per_million(per_million: u32) -> Objective {
        Objective { per_million }
    }

    /// Parts per million of good events.
    ///
    /// ```
    /// assert_eq!(observe::ops::Objective::parse("99.9%").unwrap().per_million(), 999_000);
    /// ```
    pub fn per_million(self) -> u32 {
        self.per_million
    }

    /// The error budget in parts per million (`10_000` for 99%).
    ///
    /// ```
    /// assert_eq!(observe::ops::Objective::parse("99.9%").unwrap().budget_per_million(), 1_000);
    /// ```
    pub fn budget_per_million(self) -> u32 {
        1_000_000 - self.per_million
    }

    /// The target as a ratio, `0.99`.
    ///
    /// ```
    /// let objective = observe::ops::Objective::parse("99.5%").unwrap();
    /// assert_eq!(format!("availability < {}", objective.ratio()), "availability < 0.995");
    /// ```
    pub fn ratio(self) -> String {
        decimal(u64::from(self.per_million), 6)
    }

    /// The error budget as a percentage, `1%`.
    ///
    /// ```
    /// assert_eq!(observe::ops::Objective::parse("99.95%").unwrap().budget_percent(), "0.05%");
    /// ```
    pub fn budget_percent(self) -> String {
        format!("{}%", decimal(u64::from(self.budget_per_million()), 4))
    }

    /// The error budget as a ratio, `0.01`.
    ///
    /// ```
    /// let objective = observe::ops::Objective::parse("99%").unwrap();
    /// let burn = format!("error_ratio > (14.4 * {})", objective.budget());
    /// assert_eq!(burn, "error_ratio > (14.4 * 0.01)");
    /// ```
    pub fn budget(self) -> String {
        decimal(u64::from(self.budget_per_million()), 6)
    }
}

impl fmt::Display for Objective {
    /// `99.9%`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", decimal(u64::from(self.per_million), 4))
    }
}

/// `value / 10^scale` as the shortest exact decimal: `decimal(144, 1)` is `"14.4"`.
pub(crate) fn decimal(value: u64, scale: u32) -> String {
    let unit = 10u64.pow(scale);
    let whole = value / unit;
    let fraction = value % unit;
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = format!("{fraction:0width$}", width = scale as usize);
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// A duration in whole seconds, written the Prometheus way (`5m`, `1h`, `30d`).
///
/// ```
/// use observe::ops::Window;
///
/// let window = Window::parse("30d").unwrap();
/// assert_eq!(window.as_secs(), 30 * 86_400);
/// assert_eq!(Window::seconds(3600).to_string(), "1h");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Window {
    seconds: u64,
}

impl Window {
    /// A window of this many seconds.
    ///
    /// ```
    /// const FIVE_MINUTES: observe::ops::Window = observe::ops::Window::seconds(300);
    /// assert_eq!(FIVE_MINUTES.to_string(), "5m");
    /// ```
    pub const fn seconds(seconds: u64) -> Window {
        Window { seconds }
    }

    /// Parses `30d`, `6h`, `5m`, `90s`, `1w`: a positive whole number and one unit.
    ///
    /// ```
    /// use observe::ops::Window;
    ///
    /// assert_eq!(Window::parse("6h"), Ok(Window::seconds(6 * 3600)));
    /// assert!(Window::parse("6 hours").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Window, String> {
        observe_vocab::slo_text::parse_window(text.trim()).map(Window::seconds)
    }

    /// Whole seconds.
    ///
    /// ```
    /// let window = observe::ops::Window::parse("5m").unwrap();
    /// assert_eq!(std::time::Duration::from_secs(window.as_secs()).as_secs(), 300);
    /// ```
    pub fn as_secs(self) -> u64 {
        self.seconds
    }

    /// This window divided by `scale` (the test profile's time compression), at least 1 s.
    ///
    /// ```
    /// use observe::ops::Window;
    ///
    /// // The test profile at 60: the 1 h window lasts 1 min.
    /// assert_eq!(Window::parse("1h").unwrap().scaled(60), Window::parse("1m").unwrap());
    /// ```
    pub fn scaled(self, scale: u64) -> Window {
        Window::seconds((self.seconds / scale.max(1)).max(1))
    }
}

impl fmt::Display for Window {
    /// The largest unit that divides it exactly: `1d`, `6h`, `30m`, `5s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (unit, seconds) in [("d", 86_400), ("h", 3600), ("m", 60)] {
            if self.seconds >= seconds && self.seconds.is_multiple_of(seconds) {
                return write!(f, "{}{unit}", self.seconds / seconds);
            }
        }
        write!(f, "{}s", self.seconds)
    }
}

/// A service's declared (or default) SLO.
///
/// ```
/// #[observe::instrumented(service = "parsing")]
/// fn parse(raw: &str) -> Result<u32, std::num::ParseIntError> {
///     raw.parse()
/// }
///
/// let catalog = observe::ops::catalog();
/// let slo = &catalog.services.iter().find(|s| s.name == "parsing").unwrap().slo;
/// assert_eq!(slo.source, observe::ops::SloSource::Declared); // in `observe.toml`
/// assert_eq!(slo.availability.to_string(), "99%");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    /// The compliance window, `30d` by default.
    pub window: Window,
    /// The share of calls that must succeed.
    pub availability: Objective,
    /// Latency: `(threshold in seconds, share of calls within it)`.
    pub latency: Option<(f64, Objective)>,
    /// The RFC's throughput floor: fewer calls a minute than this, for 10 minutes, alerts.
    pub min_calls_per_minute: Option<u32>,
    /// Where this SLO comes from, for the generated documents.
    pub source: SloSource,
}

/// Where an SLO comes from.
///
/// ```
/// # use observe::ops::{InstrumentedSite, SiteSlo, SourceSite};
/// # let family = |suffix: &str| (format!("copilot_billing_{suffix}"), format!("Charges: {suffix}."));
/// let charge = InstrumentedSite {
///     service: "billing".into(),
///     operation: "charge".into(),
///     site: SourceSite {
///         file: "src/billing.rs".into(),
///         line: 12,
///         module_path: "shop::billing".into(),
///         what: "#[instrumented] fn charge".into(),
///     },
///     labels: vec![],
///     metrics: ["duration_seconds", "messages_processed_total", "failures_total", "active_workers_current"]
///         .map(family),
///     buckets: vec![0.1, 0.5, 1.0],
///     outcomes: ["success", "failure", "cancelled"].map(String::from),
///     error_classes: Some(vec!["Declined".into()]),
///     slo: SiteSlo::default(),
/// };
/// // No SLO declared for `billing`: the RFC's tables apply.
/// let catalog = observe::ops::build(&[charge], &[]);
/// assert_eq!(catalog.services[0].slo.source, observe::ops::SloSource::RfcDefault);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SloSource {
    /// Declared in `observe.toml` or on the attribute.
    Declared,
    /// The RFC's tables (seed 000).
    RfcDefault,
}

/// The RFC's compliance window.
pub(crate) const DEFAULT_WINDOW: Window = Window::seconds(30 * 86_400);
/// The RFC's "All Services: 99% success".
pub(crate) const DEFAULT_AVAILABILITY: Objective = Objective::from_per_million(990_000);
/// The RFC's P95 column.
pub(crate) const P95: Objective = Objective::from_per_million(950_000);
/// How long throughput must stay under its floor before the alert fires (RFC: 10 min).
pub(crate) const THROUGHPUT_FOR: Window = Window::seconds(600);

/// The RFC's SLO tables for a service of this name: availability (99%, ingestion 99.9%),
/// P95 latency where it gives one, the throughput floor where it gives one.
pub(crate) fn rfc_default(service: &str) -> Slo {
    let availability = match service {
        "ingestion" => Objective::from_per_million(999_000),
        _ => DEFAULT_AVAILABILITY,
    };
    let p95_seconds = match service {
        "ingestion" => Some(0.5),
        "parsing" => Some(5.0),
        "chunking" => Some(2.0),
        "embedding" => Some(10.0),
        "summarization" => Some(30.0),
        "reporting" => Some(0.2),
        _ => None,
    };
    let min_calls_per_minute = match service {
        "parsing" => Some(1),
        "chunking" => Some(5),
        "embedding" => Some(10),
        _ => None,
    };
    Slo {
        window: DEFAULT_WINDOW,
        availability,
        latency: p95_seconds.map(|threshold| (threshold, P95)),
        min_calls_per_minute,
        source: SloSource::RfcDefault,
    }
}

/// Page or ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Urgency {
    /// Someone is woken up: the RFC's `critical`.
    Page,
    /// Handled in working hours: the RFC's `warning`.
    Ticket,
}

impl Urgency {
    /// The RFC's `severity` label.
    pub(crate) fn severity(self) -> &'static str {
        match self {
            Urgency::Page => "critical",
            Urgency::Ticket => "warning",
        }
    }

    /// `for:` of the alert: the RFC's no-flapping minimum (5 min) for pages; a ticket
    /// waits longer, it is not urgent.
    pub(crate) fn pending(self) -> Window {
        match self {
            Urgency::Page => Window::seconds(300),
            Urgency::Ticket => Window::seconds(1800),
        }
    }
}

/// One row of the SRE workbook's table: alert when both windows burn faster than `burn`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BurnTier {
    /// Page or ticket.
    pub urgency: Urgency,
    /// The long window.
    pub long: Window,
    /// The short window, 1/12 of the long one: the alert stops soon after the burn does.
    pub short: Window,
    /// Share of the period's budget consumed over the long window at this burn, per mille.
    pub budget_share_per_mille: u32,
}

/// The workbook's table for a 30-day SLO: 14.4× over 1h and 5m, 6× over 6h and 30m
/// (page), 3× over 1d and 2h, 1× over 3d and 6h (ticket).
pub(crate) const TIERS: [BurnTier; 4] = [
    tier(Urgency::Page, 3600, 300, 20),
    tier(Urgency::Page, 6 * 3600, 1800, 50),
    tier(Urgency::Ticket, 86_400, 7200, 100),
    tier(Urgency::Ticket, 3 * 86_400, 6 * 3600, 100),
];

const fn tier(urgency: Urgency, long: u64, short: u64, budget_share_per_mille: u32) -> BurnTier {
    BurnTier {
        urgency,
        long: Window::seconds(long),
        short: Window::seconds(short),
        budget_share_per_mille,
    }
}

/// Every window a rule or alert needs, short to long.
pub(crate) fn sli_windows() -> Vec<Window> {
    let mut windows: Vec<Window> = TIERS.iter().flat_map(|t| [t.short, t.long]).collect();
    windows.sort();
    windows.dedup();
    windows
}

impl BurnTier {
    /// The burn rate, in units of 1/10 000: share × period / long window (14.4× for the
    /// first tier of a 30-day SLO), rounded to four decimals.
    pub(crate) fn burn_e4(&self, period: Window) -> u64 {
        let numerator = u64::from(self.budget_share_per_mille) * period.as_secs() * 10;
        (numerator + self.long.as_secs() / 2) / self.long.as_secs()
    }

    /// The burn rate as a decimal, `14.4`.
    pub(crate) fn burn(&self, period: Window) -> String {
        decimal(self.burn_e4(period), 4)
    }

    /// The error-ratio threshold, burn × budget, as an exact decimal (`0.144`).
    pub(crate) fn threshold(&self, period: Window, objective: Objective) -> String {
        let e10 = self.burn_e4(period) * u64::from(objective.budget_per_million());
        decimal(e10, 10)
    }

    /// The minimum-traffic guard: the fewest calls in the long window for which one
    /// failure alone stays at or under the threshold, so a near-idle operation never
    /// alerts on a single failure: ⌊1 / threshold⌋ + 1.
    pub(crate) fn min_calls(&self, period: Window, objective: Objective) -> u64 {
        let e10 = self.burn_e4(period) * u64::from(objective.budget_per_million());
        10_000_000_000 / e10.max(1) + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objectives_are_exact_decimals() {
        let o = Objective::parse("99.9%").unwrap();
        assert_eq!(
            (o.ratio(), o.budget(), o.to_string()),
            ("0.999".into(), "0.001".into(), "99.9%".into())
        );
        assert_eq!(Objective::parse("95").unwrap().budget(), "0.05");
        for bad in ["100%", "0%", "abc", "99.99999%", "-1%", ""] {
            assert!(Objective::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_workbook_table_for_thirty_days() {
        let burns: Vec<String> = TIERS.iter().map(|t| t.burn(DEFAULT_WINDOW)).collect();
        assert_eq!(burns, ["14.4", "6", "3", "1"]);
        let thresholds: Vec<String> = TIERS
            .iter()
            .map(|t| t.threshold(DEFAULT_WINDOW, DEFAULT_AVAILABILITY))
            .collect();
        assert_eq!(thresholds, ["0.144", "0.06", "0.03", "0.01"]);
        let guards: Vec<u64> = TIERS
            .iter()
            .map(|t| t.min_calls(DEFAULT_WINDOW, DEFAULT_AVAILABILITY))
            .collect();
        // 1/0.144 = 6.9: 7 calls in the hour before one failure (1/7 = 0.143) cannot page.
        assert_eq!(guards, [7, 17, 34, 101]);
        // A 7-day SLO burns its budget faster per hour of the long window.
        assert_eq!(TIERS[0].burn(Window::parse("7d").unwrap()), "3.36");
    }

    #[test]
    fn windows_round_trip_and_scale() {
        for text in ["5m", "30m", "1h", "6h", "1d", "3d", "30d", "90s"] {
            assert_eq!(Window::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(Window::parse("5m").unwrap().scaled(60).to_string(), "5s");
        assert_eq!(Window::parse("30d").unwrap().scaled(60).to_string(), "12h");
        assert!(Window::parse("5 minutes").is_err());
        assert!(Window::parse("0s").is_err());
        assert_eq!(
            sli_windows()
                .iter()
                .map(|w| w.to_string())
                .collect::<Vec<_>>(),
            ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]
        );
    }
}
