//! The render stage: a patient row → the call's variables and tags.
//!
//! Templates are handlebars, strict, unescaped. Most campaign templates are a column or a
//! helper applied to columns (`{{title first_name}}`); those are compiled into a small
//! program evaluated directly on the row, which is an order of magnitude faster than the
//! handlebars renderer on large lists. Everything else (blocks such as `{{#if}}`) is rendered
//! by handlebars. Both paths share the helpers ([`template::apply`]) and the rule that
//! an empty or missing value is an error unless `defaults` gives one; a test checks that they
//! agree.

pub mod dates;
pub mod limits;
pub mod names;
pub mod suspect;
pub mod template;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use handlebars::template::{Parameter, TemplateElement};
use handlebars::{Handlebars, RenderErrorReason, Template};

/// Why a row cannot be rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderProblem {
    /// A template needs a column that is missing or empty on this row, with no default.
    Missing { template: String, column: String },
    /// A helper failed (a date that is not a date, …).
    Failed { template: String, message: String },
    /// A template rendered empty or only blanks on this row, and the campaign does not list
    /// it under `allow_empty`.
    Empty { template: String },
    /// A template rendered a whole object (`[object]`), never words for a patient.
    Object { template: String },
}

impl RenderProblem {
    pub fn describe(&self) -> String {
        match self {
            RenderProblem::Missing { template, column } => {
                format!(
                    "`{template}` needs `{column}`, which is empty on this row (give it a value under `defaults` to call anyway)"
                )
            }
            RenderProblem::Failed { template, message } => format!("`{template}`: {message}"),
            RenderProblem::Empty { template } => format!(
                "`{template}` renders empty on this row (give its columns a value under `defaults`, or list `{template}` under `allow_empty` if the message reads well without it)"
            ),
            RenderProblem::Object { template } => format!(
                "`{template}` renders `[object]` on this row, not a value: name a column, such as `{{{{first_name}}}}`"
            ),
        }
    }
}

/// The column a `missing-value` skip's reason names (the reason [`RenderProblem::describe`]
/// writes, read back from a plan's skips).
pub fn missing_column(reason: &str) -> Option<&str> {
    let (_, rest) = reason.split_once("` needs `")?;
    rest.split_once("`, which is empty")
        .map(|(column, _)| column)
}

#[derive(Debug, Clone)]
enum Arg {
    Column(String),
    Literal(String),
}

#[derive(Debug, Clone)]
enum Piece {
    Text(String),
    Column(String),
    /// A helper, its arguments, and the language of its `locale=`, looked up once here.
    Helper(&'static str, Vec<Arg>, Option<Arc<names::Names>>),
}

#[derive(Debug, Clone)]
struct Compiled {
    name: String,
    /// The handlebars registry name, for the slow path.
    id: String,
    fast: Option<Vec<Piece>>,
}

/// Renders the `variables` and `tags` of a campaign.
pub struct Renderer {
    hb: Handlebars<'static>,
    variables: Vec<Compiled>,
    tags: Vec<Compiled>,
    defaults: BTreeMap<String, String>,
    dates: Arc<dates::DateRules>,
    /// The variables and tags that may render empty.
    allow_empty: std::collections::BTreeSet<String>,
}

/// A renderer bound to one source's header.
pub struct Bound<'r> {
    renderer: &'r Renderer,
    index: HashMap<String, usize>,
    header: Vec<String>,
}

/// The rendered values of one row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    pub variables: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
}

/// A plain column name (no path, no `this`, no `@data`).
fn simple_column(raw: &str) -> Option<String> {
    let ok = !raw.is_empty() && raw != "this" && !raw.contains(['.', '/', '@', '[', ']']);
    ok.then(|| raw.to_owned())
}

fn param_arg(p: &Parameter) -> Option<Arg> {
    match p {
        Parameter::Path(handlebars::Path::Relative((_, raw))) => {
            simple_column(raw).map(Arg::Column)
        }
        Parameter::Name(n) => simple_column(n).map(Arg::Column),
        Parameter::Literal(serde_json::Value::String(s)) => Some(Arg::Literal(s.clone())),
        Parameter::Literal(v @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_))) => {
            Some(Arg::Literal(v.to_string()))
        }
        _ => None,
    }
}

/// Compiles the fast program for a template, if it fits the fast subset.
fn fast_program(source: &str) -> Option<Vec<Piece>> {
    let t = Template::compile(source).ok()?;
    let mut pieces = Vec::new();
    for e in &t.elements {
        match e {
            TemplateElement::RawString(s) => pieces.push(Piece::Text(s.clone())),
            TemplateElement::Comment(_) => {}
            TemplateElement::Expression(h) | TemplateElement::HtmlExpression(h) => {
                if h.block || h.template.is_some() {
                    return None;
                }
                let name = match &h.name {
                    Parameter::Name(n) => n.clone(),
                    Parameter::Path(handlebars::Path::Relative((_, raw))) => raw.clone(),
                    _ => return None,
                };
                if h.params.is_empty() {
                    // `{{upper}}` alone calls the helper with no argument: leave it to handlebars.
                    if template::HELPERS.contains(&name.as_str()) {
                        return None;
                    }
                    pieces.push(Piece::Column(simple_column(&name)?));
                } else {
                    let helper = *template::HELPERS.iter().find(|&&x| x == name)?;
                    let args = h.params.iter().map(param_arg).collect::<Option<Vec<_>>>()?;
                    // `locale="ha"` is the one named argument; anything else is handlebars'.
                    let language = match h.hash.get(template::LOCALE) {
                        None if h.hash.is_empty() => None,
                        Some(Parameter::Literal(serde_json::Value::String(tag)))
                            if h.hash.len() == 1 && template::takes_locale(helper) =>
                        {
                            Some(names::for_tag(tag).ok()?)
                        }
                        _ => return None,
                    };
                    pieces.push(Piece::Helper(helper, args, language));
                }
            }
            _ => return None,
        }
    }
    Some(pieces)
}

impl Renderer {
    /// Compiles the templates. They must have passed validation. Dates are read by `dates`
    /// (the campaign's `dates:` on the plan's date).
    pub fn new(
        variables: &BTreeMap<String, String>,
        tags: &BTreeMap<String, String>,
        defaults: &BTreeMap<String, String>,
        dates: dates::DateRules,
    ) -> Result<Self, String> {
        let dates = Arc::new(dates);
        let mut hb = template::registry(&dates);
        let mut compile = |section: &str,
                           map: &BTreeMap<String, String>|
         -> Result<Vec<Compiled>, String> {
            map.iter()
                .map(|(name, source)| {
                    let id = format!("{section}/{name}");
                    // Validation refuses these first; a renderer never hands them to handlebars.
                    limits::check(source)
                        .map_err(|p| format!("the template for `{name}` {}", p.describe()))?;
                    hb.register_template_string(&id, source)
                        .map_err(|e| format!("the template for `{name}` does not parse: {e}"))?;
                    Ok(Compiled {
                        name: name.clone(),
                        id,
                        fast: fast_program(source),
                    })
                })
                .collect()
        };
        let variables = compile("variables", variables)?;
        let tags = compile("tags", tags)?;
        Ok(Renderer {
            hb,
            variables,
            tags,
            defaults: defaults.clone(),
            dates,
            allow_empty: std::collections::BTreeSet::new(),
        })
    }

    /// Lets these variables and tags render empty (the campaign's `allow_empty`).
    #[must_use]
    pub fn allowing_empty(mut self, names: &[String]) -> Self {
        self.allow_empty = names.iter().cloned().collect();
        self
    }

    /// Binds to a source's header.
    pub fn bind(&self, header: &[String]) -> Bound<'_> {
        Bound {
            renderer: self,
            index: header
                .iter()
                .enumerate()
                .map(|(i, h)| (h.clone(), i))
                .collect(),
            header: header.to_vec(),
        }
    }

    /// Disables the fast path (for tests that compare the two paths).
    #[doc(hidden)]
    #[must_use]
    pub fn without_fast_path(mut self) -> Self {
        for c in self.variables.iter_mut().chain(self.tags.iter_mut()) {
            c.fast = None;
        }
        self
    }
}

impl Bound<'_> {
    /// The trimmed value of a column on this row, or its default; `None` when neither exists.
    fn value<'a>(&'a self, row: &'a csv::StringRecord, column: &str) -> Option<&'a str> {
        let cell = self
            .index
            .get(column)
            .and_then(|&i| row.get(i))
            .map(str::trim)
            .filter(|v| !v.is_empty());
        cell.or_else(|| self.renderer.defaults.get(column).map(String::as_str))
    }

    fn run_fast(
        &self,
        c: &Compiled,
        pieces: &[Piece],
        row: &csv::StringRecord,
        row_names: Option<&names::Names>,
    ) -> Result<String, RenderProblem> {
        let mut out = String::new();
        for p in pieces {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Column(col) => {
                    out.push_str(self.value(row, col).ok_or_else(|| RenderProblem::Missing {
                        template: c.name.clone(),
                        column: col.clone(),
                    })?);
                }
                Piece::Helper(helper, args, language) => {
                    let mut values: Vec<&str> = Vec::with_capacity(args.len());
                    for (i, a) in args.iter().enumerate() {
                        match a {
                            Arg::Literal(l) => values.push(l),
                            Arg::Column(col) => match self.value(row, col) {
                                Some(v) => values.push(v),
                                None if *helper == "default" && i == 0 => values.push(""),
                                None => {
                                    return Err(RenderProblem::Missing {
                                        template: c.name.clone(),
                                        column: col.clone(),
                                    });
                                }
                            },
                        }
                    }
                    let column = match args.first() {
                        Some(Arg::Column(col)) => Some(col.as_str()),
                        _ => None,
                    };
                    let rules = &self.renderer.dates;
                    // `locale=` first, then the row's language.
                    let names = language.as_deref().or(row_names);
                    let text = template::apply(helper, &values, rules, column, names).map_err(
                        |message| RenderProblem::Failed {
                            template: c.name.clone(),
                            message,
                        },
                    )?;
                    out.push_str(&text);
                }
            }
        }
        Ok(out)
    }

    fn run_slow(&self, c: &Compiled, context: &serde_json::Value) -> Result<String, RenderProblem> {
        self.renderer
            .hb
            .render(&c.id, context)
            .map_err(|e| match e.reason() {
                RenderErrorReason::MissingVariable(path) => RenderProblem::Missing {
                    template: c.name.clone(),
                    column: path.clone().unwrap_or_else(|| "a value".to_owned()),
                },
                RenderErrorReason::Other(message) => RenderProblem::Failed {
                    template: c.name.clone(),
                    message: message.clone(),
                },
                other => RenderProblem::Failed {
                    template: c.name.clone(),
                    message: other.to_string(),
                },
            })
    }

    /// The handlebars context of a row: trimmed non-empty values, then defaults.
    fn context(&self, row: &csv::StringRecord) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for (name, default) in &self.renderer.defaults {
            map.insert(name.clone(), serde_json::Value::String(default.clone()));
        }
        for (i, h) in self.header.iter().enumerate() {
            if let Some(v) = row.get(i).map(str::trim).filter(|v| !v.is_empty()) {
                map.insert(h.clone(), serde_json::Value::String(v.to_owned()));
            }
        }
        serde_json::Value::Object(map)
    }

    /// A rendered value as it may reach a patient: not `[object]` (a template that printed
    /// the row itself), and not empty or blank unless the campaign allows it.
    fn words(&self, c: &Compiled, text: String) -> Result<String, RenderProblem> {
        if text.contains("[object]") {
            return Err(RenderProblem::Object {
                template: c.name.clone(),
            });
        }
        if text.trim().is_empty() && !self.renderer.allow_empty.contains(&c.name) {
            return Err(RenderProblem::Empty {
                template: c.name.clone(),
            });
        }
        Ok(text)
    }

    /// Renders every variable and tag for one row.
    pub fn render(&self, row: &csv::StringRecord) -> Result<Rendered, RenderProblem> {
        self.render_in(row, None)
    }

    /// Renders every variable and tag for one row whose patient speaks the language of
    /// `names` (`None`: English, as jiff writes it): the `date` and `number` helpers without a
    /// `locale=` write in it.
    pub fn render_in(
        &self,
        row: &csv::StringRecord,
        names: Option<&Arc<names::Names>>,
    ) -> Result<Rendered, RenderProblem> {
        // English is written as it always was (jiff's names, `%c` and `%p` included).
        let names = names.filter(|n| !n.is_english());
        let mut context: Option<serde_json::Value> = None;
        let mut run = |c: &Compiled| -> Result<String, RenderProblem> {
            let text = if let Some(pieces) = &c.fast {
                self.run_fast(c, pieces, row, names.map(|n| &**n))
            } else {
                let ctx = context.get_or_insert_with(|| self.context(row));
                template::with_row_language(names, || self.run_slow(c, ctx))
            }?;
            self.words(c, text)
        };
        let mut out = Rendered::default();
        for c in &self.renderer.variables {
            out.variables.insert(c.name.clone(), run(c)?);
        }
        for c in &self.renderer.tags {
            out.tags.insert(c.name.clone(), run(c)?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn renderer(templates: &[(&str, &str)], defaults: &[(&str, &str)]) -> Renderer {
        let vars = templates
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let defs = defaults
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Renderer::new(
            &vars,
            &BTreeMap::new(),
            &defs,
            dates::DateRules::strict_today(),
        )
        .unwrap()
    }

    fn header() -> Vec<String> {
        ["first_name", "clinic", "date", "ward"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
    }

    #[test]
    fn renders_and_skips_missing_values() {
        let r = renderer(
            &[
                ("name", "{{title first_name}}"),
                ("clinic", "{{clinic}}"),
                ("when", "{{date date '%d %B'}}"),
            ],
            &[("clinic", "your clinic")],
        );
        let b = r.bind(&header());
        let row: csv::StringRecord = vec!["ADA", "", "2026-12-03", ""].into();
        let out = b.render(&row).unwrap();
        assert_eq!(out.variables["name"], "Ada");
        assert_eq!(out.variables["clinic"], "your clinic");
        assert_eq!(out.variables["when"], "03 December");
        let row: csv::StringRecord = vec!["  ", "Yaba", "2026-12-03", ""].into();
        assert_eq!(
            b.render(&row).unwrap_err(),
            RenderProblem::Missing {
                template: "name".to_owned(),
                column: "first_name".to_owned()
            }
        );
        let row: csv::StringRecord = vec!["Ada", "Yaba", "soon", ""].into();
        assert!(matches!(
            b.render(&row).unwrap_err(),
            RenderProblem::Failed { .. }
        ));
    }

    #[test]
    fn a_missing_values_reason_names_its_column() {
        let p = RenderProblem::Missing {
            template: "clinic".into(),
            column: "Clinic".into(),
        };
        assert_eq!(missing_column(&p.describe()), Some("Clinic"));
        assert_eq!(missing_column("`date`: not a date"), None);
    }

    #[test]
    fn the_slow_path_handles_blocks() {
        let r = renderer(
            &[(
                "where",
                "{{#if ward}}ward {{ward}}{{else}}{{clinic}}{{/if}}",
            )],
            &[],
        );
        assert!(r.variables[0].fast.is_none());
        let b = r.bind(&header());
        let row: csv::StringRecord = vec!["Ada", "Yaba", "", " 4 "].into();
        assert_eq!(b.render(&row).unwrap().variables["where"], "ward 4");
        let row: csv::StringRecord = vec!["Ada", "Yaba", "", ""].into();
        assert_eq!(b.render(&row).unwrap().variables["where"], "Yaba");
        let row: csv::StringRecord = vec!["Ada", "", "", ""].into();
        assert!(matches!(
            b.render(&row).unwrap_err(),
            RenderProblem::Missing { .. }
        ));
    }

    #[test]
    fn dates_and_numbers_in_a_language() {
        let r = renderer(
            &[
                ("when", "{{date date '%A %-d %B' locale=\"ha\"}}"),
                ("short", "{{date date locale=\"sw\"}}"),
                ("count", "{{number ward locale=\"rw\"}}"),
                ("plain", "{{number ward}}"),
            ],
            &[],
        );
        assert!(r.variables.iter().all(|v| v.fast.is_some()));
        let b = r.bind(&header());
        let row: csv::StringRecord = vec!["Ada", "Yaba", "2027-01-15", "1234567.5"].into();
        let out = b.render(&row).unwrap();
        assert_eq!(out.variables["when"], "Jummaʼa 15 Janairu");
        assert_eq!(out.variables["short"], "15 Januari 2027");
        assert_eq!(out.variables["count"], "1.234.567,5");
        assert_eq!(out.variables["plain"], "1,234,567.5");
        // A cell that is not a number fails its row, and the reason does not repeat it.
        let row: csv::StringRecord = vec!["Ada", "Yaba", "2027-01-15", "12 units"].into();
        match b.render(&row).unwrap_err() {
            RenderProblem::Failed { template, message } => {
                assert_eq!(template, "count");
                assert!(message.contains("`ward` is not a number"), "{message}");
                assert!(!message.contains("12 units"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    const FAST_TEMPLATES: [&str; 10] = [
        "Hello {{first_name}}",
        "{{title first_name}} at {{upper clinic}}",
        "{{default ward 'your ward'}}",
        "{{lower clinic}}{{trim first_name}}",
        "{{date date '%A %-d %B'}}",
        "{{mask first_name}}!",
        "{{{clinic}}} & {{clinic}}",
        "{{default clinic first_name}}",
        "{{date date '%a %-d %b %Y' locale=\"yo\"}}",
        "{{number ward locale=\"rw\"}}",
    ];

    proptest! {
        /// The fast path and handlebars agree, including on errors.
        #[test]
        fn fast_and_slow_paths_agree(
            which in 0usize..FAST_TEMPLATES.len(),
            cells in proptest::collection::vec(
                prop_oneof!["", " ", "[a-zA-Z' -]{1,12}", "-?[0-9]{1,9}(\\.[0-9]{1,3})?", "2026-(0[1-9]|1[0-2])-(0[1-9]|1[0-9])", "x&<y>\"z"],
                4,
            ),
            with_default in any::<bool>(),
        ) {
            let template = FAST_TEMPLATES[which];
            let defaults: &[(&str, &str)] = if with_default { &[("clinic", "the clinic")] } else { &[] };
            let fast = renderer(&[("v", template)], defaults);
            prop_assert!(fast.variables[0].fast.is_some(), "{template} should take the fast path");
            let slow = renderer(&[("v", template)], defaults).without_fast_path();
            let row: csv::StringRecord = cells.into();
            let h = header();
            let a = fast.bind(&h).render(&row);
            let b = slow.bind(&h).render(&row);
            match (a, b) {
                (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
                (Err(a), Err(b)) => prop_assert_eq!(
                    std::mem::discriminant(&a),
                    std::mem::discriminant(&b)
                ),
                (a, b) => prop_assert!(false, "paths disagree on {template}: {a:?} vs {b:?}"),
            }
        }
    }
}
