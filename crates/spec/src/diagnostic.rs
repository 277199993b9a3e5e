//! Diagnostics: what is wrong, where, and what to do about it.

use std::fmt;
use std::sync::Arc;

use miette::{LabeledSpan, NamedSource, SourceSpan};
use serde::Serialize;

use crate::spans::Location;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Allowed by upstream but advised against.
    Warning,
    /// The platform cannot be built as written.
    Error,
}

/// One finding about a spec file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Stable identifier of the check (`duplicate-ip`, `unknown-field`, …).
    pub code: &'static str,
    /// What is wrong, in one sentence.
    pub message: String,
    /// The field it is about (`spec.management.controlPlanes[0].ip`); empty for the file.
    pub path: String,
    /// Where in the file.
    #[serde(skip_serializing_if = "Option::is_none", flatten)]
    pub location: Option<Location>,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Other places involved (the first use of a duplicated address, …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Related>,
}

/// A second place a diagnostic refers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Related {
    /// What is there.
    pub message: String,
    /// The field.
    pub path: String,
    /// Where.
    #[serde(skip_serializing_if = "Option::is_none", flatten)]
    pub location: Option<Location>,
}

impl Diagnostic {
    /// An error.
    pub fn error(code: &'static str, path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            code,
            message: message.into(),
            path: path.into(),
            location: None,
            hint: None,
            related: Vec::new(),
        }
    }

    /// A warning.
    pub fn warning(
        code: &'static str,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(code, path, message)
        }
    }

    /// Adds a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file:line:column: severity[code]: message` — one line, for logs and tests.
    pub fn one_line(&self, file: &str) -> String {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        match self.location {
            Some(l) => format!(
                "{file}:{}:{}: {severity}[{}]: {}",
                l.line, l.column, self.code, self.message
            ),
            None => format!("{file}: {severity}[{}]: {}", self.code, self.message),
        }
    }
}

/// A spec file's name and text, shared by its diagnostics for rendering snippets.
#[derive(Debug, Clone)]
pub struct Source {
    /// The file name as the user gave it.
    pub name: String,
    /// The file's text.
    pub text: Arc<String>,
}

impl Source {
    /// A source from a name and its text.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            text: Arc::new(text.into()),
        }
    }
}

/// A diagnostic bound to its source, renderable by miette with a snippet.
#[derive(Debug)]
pub struct Report {
    diagnostic: Diagnostic,
    source: NamedSource<Arc<String>>,
}

impl Report {
    /// Binds `diagnostic` to `source`.
    pub fn new(diagnostic: Diagnostic, source: &Source) -> Self {
        Self {
            diagnostic,
            source: NamedSource::new(source.name.clone(), Arc::clone(&source.text))
                .with_language("yaml"),
        }
    }
}

impl fmt::Display for Report {
    /// The message alone: miette shows `file:line:column` above the snippet.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl std::error::Error for Report {}

fn span(l: &Location) -> SourceSpan {
    SourceSpan::new(l.offset.into(), l.len)
}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.diagnostic.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diagnostic
            .hint
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.diagnostic
            .location
            .map(|_| &self.source as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let primary = self.diagnostic.location.map(|l| {
            let label = if self.diagnostic.path.is_empty() {
                None
            } else {
                Some(self.diagnostic.path.clone())
            };
            LabeledSpan::new_primary_with_span(label, span(&l))
        });
        let related = self.diagnostic.related.iter().filter_map(|r| {
            r.location
                .map(|l| LabeledSpan::new_with_span(Some(r.message.clone()), span(&l)))
        });
        Some(Box::new(primary.into_iter().chain(related)))
    }
}
