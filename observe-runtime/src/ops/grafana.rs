//! Grafana's dashboard JSON model (schema version 39, as `@grafana/schema` types it):
//! panels, variables, thresholds, laid out on the 24-column grid.

use serde_json::{Value, json};

/// The Prometheus data source every panel queries: the `$datasource` variable.
pub(crate) fn datasource() -> Value {
    json!({ "type": "prometheus", "uid": "${datasource}" })
}

/// A query of a panel.
pub(crate) struct Query {
    pub(crate) expr: String,
    pub(crate) legend: String,
}

pub(crate) fn query(expr: impl Into<String>, legend: &str) -> Query {
    Query {
        expr: expr.into(),
        legend: legend.to_owned(),
    }
}

/// A threshold step: from `value` on, `color` (`None`: the base step).
pub(crate) type Step = (Option<f64>, &'static str);

/// Lays panels out left to right, `height` units tall, wrapping at 24 columns.
pub(crate) struct Layout {
    next_id: u64,
    x: u64,
    y: u64,
    row_height: u64,
    pub(crate) panels: Vec<Value>,
}

impl Layout {
    pub(crate) fn new() -> Layout {
        Layout {
            next_id: 1,
            x: 0,
            y: 0,
            row_height: 0,
            panels: Vec::new(),
        }
    }

    fn place(&mut self, width: u64, height: u64) -> (u64, Value) {
        if self.x + width > 24 {
            self.x = 0;
            self.y += self.row_height;
            self.row_height = 0;
        }
        let pos = json!({ "h": height, "w": width, "x": self.x, "y": self.y });
        self.x += width;
        self.row_height = self.row_height.max(height);
        let id = self.next_id;
        self.next_id += 1;
        (id, pos)
    }

    /// A row header across the whole width.
    pub(crate) fn row(&mut self, title: &str) {
        if self.x > 0 {
            self.x = 24;
        }
        let (id, pos) = self.place(24, 1);
        self.panels.push(json!({
            "collapsed": false, "gridPos": pos, "id": id, "panels": [], "title": title, "type": "row"
        }));
    }

    /// A time series panel; `steps` draw threshold lines (the alert thresholds).
    pub(crate) fn timeseries(
        &mut self,
        title: &str,
        description: &str,
        unit: &str,
        queries: Vec<Query>,
        steps: &[Step],
        width: u64,
    ) {
        let (id, pos) = self.place(width, 8);
        let thresholds_style = if steps.len() > 1 { "line" } else { "off" };
        self.panels.push(json!({
            "datasource": datasource(),
            "description": description,
            "fieldConfig": {
                "defaults": {
                    "color": { "mode": "palette-classic" },
                    "custom": {
                        "drawStyle": "line",
                        "fillOpacity": 10,
                        "lineWidth": 1,
                        "showPoints": "never",
                        "spanNulls": false,
                        "thresholdsStyle": { "mode": thresholds_style }
                    },
                    "thresholds": thresholds(steps),
                    "unit": unit
                },
                "overrides": []
            },
            "gridPos": pos,
            "id": id,
            "options": {
                "legend": { "calcs": [], "displayMode": "list", "placement": "bottom", "showLegend": true },
                "tooltip": { "mode": "multi", "sort": "desc" }
            },
            "targets": targets(queries),
            "title": title,
            "type": "timeseries"
        }));
    }

    /// A single-value panel coloured by `steps`.
    pub(crate) fn stat(
        &mut self,
        title: &str,
        description: &str,
        unit: &str,
        queries: Vec<Query>,
        steps: &[Step],
        width: u64,
    ) {
        let (id, pos) = self.place(width, 6);
        self.panels.push(json!({
            "datasource": datasource(),
            "description": description,
            "fieldConfig": {
                "defaults": { "color": { "mode": "thresholds" }, "thresholds": thresholds(steps), "unit": unit },
                "overrides": []
            },
            "gridPos": pos,
            "id": id,
            "options": {
                "colorMode": "value",
                "graphMode": "area",
                "justifyMode": "auto",
                "orientation": "auto",
                "percentChangeColorMode": "standard",
                "reduceOptions": { "calcs": ["lastNotNull"], "fields": "", "values": false },
                "showPercentChange": false,
                "textMode": "value_and_name",
                "wideLayout": true
            },
            "targets": targets(queries),
            "title": title,
            "type": "stat"
        }));
    }

    /// A Markdown panel (no query).
    pub(crate) fn text(&mut self, title: &str, markdown: &str) {
        let (id, pos) = self.place(24, 4);
        self.panels.push(json!({
            "gridPos": pos, "id": id,
            "options": { "content": markdown, "mode": "markdown" },
            "title": title, "type": "text"
        }));
    }
}

fn targets(queries: Vec<Query>) -> Value {
    let refs = ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L"];
    Value::Array(
        queries
            .into_iter()
            .enumerate()
            .map(|(i, q)| {
                json!({
                    "datasource": datasource(),
                    "expr": q.expr,
                    "legendFormat": q.legend,
                    "refId": refs.get(i).copied().unwrap_or("Z")
                })
            })
            .collect(),
    )
}

fn thresholds(steps: &[Step]) -> Value {
    let steps: Vec<Value> = if steps.is_empty() {
        vec![json!({ "color": "green", "value": null })]
    } else {
        steps
            .iter()
            .map(|(value, color)| json!({ "color": color, "value": value }))
            .collect()
    };
    json!({ "mode": "absolute", "steps": steps })
}

/// The data source variable, then the others.
pub(crate) fn datasource_variable() -> Value {
    json!({
        "hide": 0, "includeAll": false, "label": "Data source", "multi": false,
        "name": "datasource", "options": [], "query": "prometheus", "refresh": 1, "regex": "", "type": "datasource"
    })
}

/// A variable of the label values of a query, optionally multi-select with "All".
pub(crate) fn query_variable(name: &str, label: &str, query: &str, multi: bool) -> Value {
    json!({
        "datasource": datasource(), "hide": 0,
        "includeAll": multi, "label": label, "multi": multi, "name": name, "options": [],
        "query": { "query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery" },
        "refresh": 2, "regex": "", "sort": 1, "type": "query"
    })
}

/// A variable with fixed values (the first selected).
pub(crate) fn custom_variable(name: &str, label: &str, values: &[&str]) -> Value {
    let options: Vec<Value> = values
        .iter()
        .enumerate()
        .map(|(i, v)| json!({ "selected": i == 0, "text": v, "value": v }))
        .collect();
    json!({
        "current": { "selected": true, "text": values[0], "value": values[0] },
        "hide": 0, "includeAll": false, "label": label, "multi": false, "name": name,
        "options": options, "query": values.join(","), "type": "custom"
    })
}

/// What names a dashboard.
pub(crate) struct Header<'a> {
    pub(crate) uid: &'a str,
    pub(crate) title: &'a str,
    pub(crate) description: &'a str,
    pub(crate) tags: &'a [&'a str],
    /// The firing-alerts annotation's query.
    pub(crate) alerts_query: &'a str,
}

/// A whole dashboard.
pub(crate) fn dashboard(
    header: Header<'_>,
    variables: Vec<Value>,
    panels: Vec<Value>,
    links: Vec<Value>,
) -> Value {
    let Header {
        uid,
        title,
        description,
        tags,
        alerts_query,
    } = header;
    json!({
        "annotations": { "list": [
            {
                "builtIn": 1, "datasource": { "type": "grafana", "uid": "-- Grafana --" }, "enable": true,
                "hide": true, "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard"
            },
            {
                "datasource": datasource(), "enable": true, "hide": false, "iconColor": "red",
                "name": "Firing alerts",
                "target": { "expr": alerts_query, "legendFormat": "{{alertname}} {{operation}}", "refId": "Anno" }
            }
        ] },
        "description": description,
        "editable": true,
        "graphTooltip": 1,
        "links": links,
        "panels": panels,
        "refresh": "30s",
        "schemaVersion": 39,
        "tags": tags,
        "templating": { "list": variables },
        "time": { "from": "now-6h", "to": "now" },
        "timepicker": {},
        "timezone": "browser",
        "title": title,
        "uid": uid,
        "version": 1
    })
}

/// A link to another generated dashboard, keeping time and variables.
pub(crate) fn link(title: &str, url: &str) -> Value {
    json!({
        "asDropdown": false, "icon": "dashboard", "includeVars": true, "keepTime": true, "tags": [],
        "targetBlank": false, "title": title, "tooltip": "", "type": "link", "url": url
    })
}
