//! Reading what a gateway exposes: a parser of the text exposition format 0.0.4 into
//! [`Scrape`] and its [`Sample`]s, strict enough that a malformed page fails the test.

use std::collections::BTreeMap;

/// One sample line of the text exposition.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// e.g. `train_seconds_count`
    pub name: String,
    /// Label name to value, unescaped.
    pub labels: BTreeMap<String, String>,
    /// The value.
    pub value: f64,
}

/// A parsed `/metrics` page.
#[derive(Debug, Clone, Default)]
pub struct Scrape {
    /// Every sample, in page order.
    pub samples: Vec<Sample>,
    /// `# HELP` text by family name, unescaped.
    pub help: BTreeMap<String, String>,
    /// `# TYPE` by family name.
    pub types: BTreeMap<String, String>,
}

impl Scrape {
    /// What the server at `base` (`http://127.0.0.1:<port>`) serves on `/metrics`, parsed; the
    /// scrape must answer 200.
    pub fn fetch(base: &str) -> Scrape {
        let (code, body) = crate::http_get(&format!("{base}/metrics"))
            .unwrap_or_else(|| panic!("cannot scrape {base}"));
        assert_eq!(code, 200, "scrape answered {code}: {body}");
        Scrape::parse(&body)
    }

    /// Parses the text exposition format 0.0.4. Panics on a line it cannot read, so a
    /// malformed exposition fails the test.
    pub fn parse(text: &str) -> Scrape {
        let mut scrape = Scrape::default();
        // Only `\n` ends a line in the text format (`str::lines` would also eat a `\r` that
        // belongs to a HELP text).
        for line in text.split('\n').filter(|l| !l.trim().is_empty()) {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
                scrape.help.insert(name.to_owned(), unescape(help));
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap_or((rest, ""));
                scrape.types.insert(name.to_owned(), kind.to_owned());
            } else if line.starts_with('#') {
                continue;
            } else {
                scrape.samples.push(parse_sample(line));
            }
        }
        scrape
    }

    /// The samples named `name` whose labels include all of `labels`.
    pub fn find(&self, name: &str, labels: &[(&str, &str)]) -> Vec<&Sample> {
        self.samples
            .iter()
            .filter(|s| s.name == name)
            .filter(|s| {
                labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect()
    }

    /// The value of the one sample named `name` with these labels, if exactly one matches.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        match self.find(name, labels).as_slice() {
            [one] => Some(one.value),
            _ => None,
        }
    }
}

fn parse_sample(line: &str) -> Sample {
    let (name_and_labels, value) = match line.rfind('}') {
        Some(close) => {
            let (head, tail) = line.split_at(close + 1);
            (head, tail.trim())
        }
        None => line
            .split_once(' ')
            .unwrap_or_else(|| panic!("malformed sample line: {line:?}")),
    };
    let value = value.split_whitespace().next().unwrap_or("");
    let value: f64 = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other
            .parse()
            .unwrap_or_else(|_| panic!("malformed value in {line:?}")),
    };
    let (name, labels) = match name_and_labels.split_once('{') {
        Some((name, rest)) => (name, parse_labels(rest.trim_end_matches('}'), line)),
        None => (name_and_labels.trim(), BTreeMap::new()),
    };
    Sample {
        name: name.to_owned(),
        labels,
        value,
    }
}

fn parse_labels(text: &str, line: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || *c == ' ') {
            chars.next();
        }
        let name: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=')).collect();
        if name.is_empty() {
            return labels;
        }
        assert_eq!(chars.next(), Some('='), "malformed labels in {line:?}");
        assert_eq!(chars.next(), Some('"'), "malformed labels in {line:?}");
        let mut value = String::new();
        loop {
            match chars.next() {
                Some('\\') => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(other) => value.push(other),
                    None => panic!("malformed escape in {line:?}"),
                },
                Some('"') => break,
                Some(c) => value.push(c),
                None => panic!("unterminated label value in {line:?}"),
            }
        }
        labels.insert(name, value);
    }
}

/// Undoes the escaping of a HELP text, left to right: `\\` is a backslash, `\n` a newline;
/// any other backslash (`\"` included: not an escape in HELP) stays as it is.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}
