//! How large and how deeply nested a template may be, checked on the raw text before
//! handlebars sees it. handlebars' parser and its compiled template are recursive, so a
//! template of a few kilobytes of nested blocks or subexpressions overflows the stack, and
//! its compile time grows faster than the template's length. A message is at most 4,000
//! characters, and no real message nests more than a few levels, so these limits cost a real
//! campaign nothing. The check is one pass over the text and does not recurse.

/// The most characters a template may have: the most a message may have.
pub const MAX_TEMPLATE_CHARS: usize = 4_000;

/// The deepest nesting a template may have: blocks (`{{#if}}`, each `{{else if}}` of a chain),
/// subexpressions (`(upper x)`) and literals (`[…]`, `{…}`) inside one another. Real messages
/// nest two or three levels.
pub const MAX_TEMPLATE_DEPTH: usize = 32;

/// A template over a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitProblem {
    /// Longer than [`MAX_TEMPLATE_CHARS`]; `chars` is its length.
    TooLong { chars: usize },
    /// Nested deeper than [`MAX_TEMPLATE_DEPTH`]; `at` is the 1-based character at which the
    /// nesting goes past the limit.
    TooDeep { at: usize },
    /// A `[…]` inside a mustache holding quotes or brackets, at the 1-based character `at`:
    /// a list literal or a path key, which only a full parse can tell apart (and so measure).
    /// Campaign templates need neither; a column with spaces is `[first name]`, still allowed.
    Brackets { at: usize },
}

impl LimitProblem {
    /// What is wrong, for a message that names the template first.
    pub fn describe(self) -> String {
        match self {
            LimitProblem::TooLong { chars } => format!(
                "is {chars} characters long; a template may have at most {MAX_TEMPLATE_CHARS} (the longest message a call can carry)"
            ),
            LimitProblem::TooDeep { at } => format!(
                "nests blocks or parentheses more than {MAX_TEMPLATE_DEPTH} deep (at character {at})"
            ),
            LimitProblem::Brackets { at } => format!(
                "has a `[…]` holding quotes or brackets (at character {at}); campaign templates use `[…]` only for a column name with spaces, such as `{{{{[first name]}}}}`"
            ),
        }
    }
}

/// Checks a template's length and nesting, without parsing it.
pub fn check(source: &str) -> Result<(), LimitProblem> {
    problems(source).into_iter().next().map_or(Ok(()), Err)
}

/// Every limit a template is over: its length, then its nesting (or its brackets). The scan
/// is linear, so a template far over the length is still measured for depth.
pub fn problems(source: &str) -> Vec<LimitProblem> {
    let mut out = Vec::new();
    // A cheap bound first: bytes are at least characters.
    if source.len() > MAX_TEMPLATE_CHARS {
        let chars = source.chars().count();
        if chars > MAX_TEMPLATE_CHARS {
            out.push(LimitProblem::TooLong { chars });
        }
    }
    let at = |byte: usize| source[..byte].chars().count() + 1;
    match scan(source.as_bytes(), MAX_TEMPLATE_DEPTH) {
        Ok(_) => {}
        Err(Stop::Deep(byte)) => out.push(LimitProblem::TooDeep { at: at(byte) }),
        Err(Stop::Brackets(byte)) => out.push(LimitProblem::Brackets { at: at(byte) }),
    }
    out
}

/// Where a scan stopped, as a byte offset.
enum Stop {
    Deep(usize),
    Brackets(usize),
}

/// Follows handlebars' grammar as far as nesting goes: each open block (`{{#…}}`), each link
/// chained to it (`{{else …}}`, `{{^…}}`: handlebars nests a chain one level per link), and
/// inside a mustache each `(` and `{` not in a string. Comments, raw blocks and escaped
/// mustaches are text. Where handlebars would refuse the text, the scan may count anything:
/// the parser never gets past that point, so it never nests deeper than the scan has seen.
///
/// Returns the deepest nesting seen, or where it went past `limit`.
fn scan(text: &[u8], limit: usize) -> Result<usize, Stop> {
    // Per open block: 1 + the number of links chained to it.
    let mut blocks: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    let mut deepest = 0usize;
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        if rest[0] == b'\\' {
            // One backslash escapes a mustache (`\{{`, `\{{{{`); more are text before a real one.
            let run = rest.iter().take_while(|&&b| b == b'\\').count();
            i += run;
            if run == 1 && text[i..].starts_with(b"{{") {
                i += if text[i..].starts_with(b"{{{{") { 4 } else { 2 };
            }
            continue;
        }
        if !rest.starts_with(b"{{") {
            i += 1;
            continue;
        }
        if rest.starts_with(b"{{!--") {
            // A long comment, or, if it never ends, a short one.
            i = find(text, i + 5, b"--}}")
                .map(|e| e + 4)
                .or_else(|| find(text, i + 3, b"}}").map(|e| e + 2))
                .unwrap_or(text.len());
            continue;
        }
        if rest.starts_with(b"{{!") {
            i = find(text, i + 3, b"}}").map_or(text.len(), |e| e + 2);
            continue;
        }
        if rest.starts_with(b"{{{{") {
            // A raw block: its start tag (which may hold subexpressions), text up to the next
            // unescaped `{{{{`, and its end tag.
            let (end, inner) = inside(text, i + 4, depth + 1, limit)?;
            deepest = deepest.max(inner);
            i = raw_end(text, end);
            continue;
        }
        // A mustache: its kind, then its inside up to the `}}` that closes it.
        let mut j = i + 2;
        if text.get(j) == Some(&b'~') {
            j += 1;
        }
        let word = skip_blanks(text, j);
        match text.get(j) {
            Some(b'#') => {
                blocks.push(1);
                depth += 1;
            }
            Some(b'/') => depth -= blocks.pop().unwrap_or(0),
            Some(b'^') => chain(text, j + 1, &mut blocks, &mut depth),
            _ if text[word..].starts_with(b"else") => {
                chain(text, word + 4, &mut blocks, &mut depth);
            }
            _ => {}
        }
        if depth > limit {
            return Err(Stop::Deep(i));
        }
        let (end, inner) = inside(text, j, depth, limit)?;
        deepest = deepest.max(inner);
        i = end;
    }
    Ok(deepest)
}

/// A `{{else …}}` or `{{^…}}` whose word ends at `after`: a link of the open block's chain
/// unless the mustache closes right there (`{{else}}`, `{{^}}`: the block's inverse).
fn chain(text: &[u8], after: usize, blocks: &mut [usize], depth: &mut usize) {
    let at = skip_blanks(text, after);
    let closes = text[at.min(text.len())..].starts_with(b"}}")
        || text[at.min(text.len())..].starts_with(b"~}}");
    if !closes && let Some(links) = blocks.last_mut() {
        *links += 1;
        *depth += 1;
    }
}

/// Scans a mustache's inside from `from`, with `depth` levels open around it; returns the
/// offset just past the `}}` that closes it (or the end of the text), and the deepest
/// nesting inside it.
fn inside(text: &[u8], from: usize, depth: usize, limit: usize) -> Result<(usize, usize), Stop> {
    let mut open: Vec<u8> = Vec::new();
    let mut deepest = depth;
    let mut k = from;
    while k < text.len() {
        match text[k] {
            quote @ (b'"' | b'\'') => {
                k += 1;
                while k < text.len() && text[k] != quote {
                    k += if text[k] == b'\\' { 2 } else { 1 };
                }
            }
            b'[' => {
                // A path key (`[first name]`) or a list literal: the same extent as long as it
                // holds no quotes or brackets, and no deeper than one level.
                let Some(end) = find(text, k + 1, b"]") else {
                    return Ok((text.len(), deepest));
                };
                if text[k + 1..end]
                    .iter()
                    .any(|b| matches!(b, b'"' | b'\'' | b'[' | b'{'))
                {
                    return Err(Stop::Brackets(k));
                }
                if depth + open.len() + 1 > limit {
                    return Err(Stop::Deep(k));
                }
                deepest = deepest.max(depth + open.len() + 1);
                k = end;
            }
            opener @ (b'(' | b'{') => {
                open.push(if opener == b'(' { b')' } else { b'}' });
                if depth + open.len() > limit {
                    return Err(Stop::Deep(k));
                }
                deepest = deepest.max(depth + open.len());
            }
            b')' if open.last() == Some(&b')') => {
                open.pop();
            }
            b'}' if open.last() == Some(&b'}') => {
                open.pop();
            }
            b'}' if text[k..].starts_with(b"}}") => return Ok((k + 2, deepest)),
            _ => {}
        }
        k += 1;
    }
    Ok((text.len(), deepest))
}

/// After a raw block's start tag (ending at `from`): the offset past its end tag.
fn raw_end(text: &[u8], from: usize) -> usize {
    // The start tag's `}}}}`: `inside` stopped after its first two braces.
    let mut at = if text[from.min(text.len())..].starts_with(b"}}") {
        from + 2
    } else {
        from
    };
    while let Some(e) = find(text, at, b"{{{{") {
        let backslashes = text[at..e]
            .iter()
            .rev()
            .take_while(|&&b| b == b'\\')
            .count();
        if backslashes == 1 {
            at = e + 4;
            continue;
        }
        return find(text, e + 4, b"}}}}").map_or(text.len(), |f| f + 4);
    }
    text.len()
}

fn skip_blanks(text: &[u8], mut at: usize) -> usize {
    while at < text.len() && text[at].is_ascii_whitespace() {
        at += 1;
    }
    at
}

/// The offset of the first `needle` at or after `from`.
fn find(text: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    text.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested_blocks(n: usize) -> String {
        format!("{}x{}", "{{#if a}}".repeat(n), "{{/if}}".repeat(n))
    }

    fn nested_subexpressions(n: usize) -> String {
        format!("{{{{upper {}a{}}}}}", "(upper ".repeat(n), ")".repeat(n))
    }

    #[test]
    fn real_templates_pass() {
        for t in [
            "Hello {{title first_name}}",
            "{{#if ward}}ward {{ward}}{{else}}{{clinic}}{{/if}}",
            "{{#if a}}{{else if b}}{{else}}{{/if}}",
            "{{! a comment with {{#if}} in it }}{{!-- and (((( --}}",
            "\\{{#if not a block}}",
            "{{date appt \"%d (%B)\"}}",
            "{{{{raw}}}}{{#if}}{{#if}}{{{{/raw}}}}",
            "{{default x '((((((((((((((((((((((((((((((((((((('}}",
            "{{{clinic}}} {{&clinic}} {{~name~}}",
        ] {
            assert_eq!(check(t), Ok(()), "{t}");
        }
    }

    #[test]
    fn the_deepest_accepted_nesting_is_the_limit() {
        assert_eq!(check(&nested_blocks(MAX_TEMPLATE_DEPTH)), Ok(()));
        assert_eq!(
            check(&nested_blocks(MAX_TEMPLATE_DEPTH + 1)),
            Err(LimitProblem::TooDeep {
                at: MAX_TEMPLATE_DEPTH * 9 + 1
            })
        );
        // The mustache itself is one level: `{{upper (upper … a)}}` with 32 parentheses.
        assert_eq!(check(&nested_subexpressions(MAX_TEMPLATE_DEPTH)), Ok(()));
        assert!(matches!(
            check(&nested_subexpressions(MAX_TEMPLATE_DEPTH + 1)),
            Err(LimitProblem::TooDeep { .. })
        ));
        let chain = format!(
            "{{{{#if a}}}}{}{{{{/if}}}}",
            "{{else if b}}".repeat(MAX_TEMPLATE_DEPTH)
        );
        assert!(matches!(check(&chain), Err(LimitProblem::TooDeep { .. })));
        let arrays = format!("{{{{x {}1{}}}}}", "[".repeat(40), "]".repeat(40));
        assert!(matches!(check(&arrays), Err(LimitProblem::Brackets { .. })));
        // Blocks and parentheses add up.
        let both = format!("{}{}", "{{#if a}}".repeat(20), nested_subexpressions(20));
        assert!(matches!(check(&both), Err(LimitProblem::TooDeep { .. })));
    }

    /// Text that hides structure from a careless scanner: strings holding `}}` or `)`,
    /// backslashes before a real mustache, a long comment that never ends, a path key with a
    /// quote, subexpressions in a raw block's tag.
    #[test]
    fn hidden_nesting_is_counted() {
        let deep = MAX_TEMPLATE_DEPTH + 1;
        let cases = [
            format!(
                "{{{{x {}a{}}}}}",
                "(x \")\" ".repeat(deep),
                ")".repeat(deep)
            ),
            format!(
                "{{{{x {}a{}}}}}",
                "(x \"}}}}\" ".repeat(deep),
                ")".repeat(deep)
            ),
            format!(
                "{}x{}",
                "\\\\{{#if a}}".repeat(deep),
                "{{/if}}".repeat(deep)
            ),
            format!("{{{{!-- }}}}{}", "{{#if a}}".repeat(deep)),
            format!("{}{}", "{{#if a}}{{x \"{{/if}}\"}}".repeat(deep), "{{/if}}"),
            format!(
                "{{{{{{{{raw {}a{}}}}}}}}}",
                "(x ".repeat(deep),
                ")".repeat(deep)
            ),
            format!("{{{{#if a}}}}{}{{{{/if}}}}", "{{elsewhere}}".repeat(deep)),
        ];
        for t in &cases {
            assert!(matches!(check(t), Err(LimitProblem::TooDeep { .. })), "{t}");
        }
        assert!(matches!(
            check("{{a.[it's]}}{{#if a}}{{b.[']}}"),
            Err(LimitProblem::Brackets { at: 5 })
        ));
        assert_eq!(check("{{[first name]}} {{x [1, 2]}}"), Ok(()));
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert_eq!(check(&"é".repeat(MAX_TEMPLATE_CHARS)), Ok(()));
        assert_eq!(
            check(&"a".repeat(MAX_TEMPLATE_CHARS + 1)),
            Err(LimitProblem::TooLong {
                chars: MAX_TEMPLATE_CHARS + 1
            })
        );
    }

    #[test]
    fn unclosed_and_odd_text_ends_the_scan() {
        for t in [
            "{{",
            "{{#",
            "{{/",
            "{{!--",
            "{{{{",
            "{{{{raw}}}}",
            "{{x \"",
            "{{x \\",
            "{{^",
            "{{else",
        ] {
            assert_eq!(check(t), Ok(()), "{t}");
        }
    }

    /// How deep handlebars itself nests a template it parsed: blocks (a chained link is a
    /// block inside its inverse) and subexpressions.
    fn parsed_depth(elements: &[handlebars::template::TemplateElement]) -> usize {
        use handlebars::template::{HelperTemplate, Parameter, TemplateElement};
        fn params(h: &HelperTemplate) -> usize {
            h.params
                .iter()
                .chain(h.hash.values())
                .chain(std::iter::once(&h.name))
                .map(|p| match p {
                    Parameter::Subexpression(s) => match s.element.as_ref() {
                        TemplateElement::Expression(h) => 1 + params(h),
                        _ => 1,
                    },
                    _ => 0,
                })
                .max()
                .unwrap_or(0)
        }
        elements
            .iter()
            .map(|e| match e {
                TemplateElement::HelperBlock(h) => {
                    let inner = [&h.template, &h.inverse]
                        .into_iter()
                        .flatten()
                        .map(|t| parsed_depth(&t.elements))
                        .max()
                        .unwrap_or(0);
                    1 + inner.max(params(h))
                }
                TemplateElement::Expression(h) | TemplateElement::HtmlExpression(h) => params(h),
                _ => 0,
            })
            .max()
            .unwrap_or(0)
    }

    const PIECES: [&str; 30] = [
        "{{#if a}}",
        "{{/if}}",
        "{{else}}",
        "{{else if b}}",
        "{{^}}",
        "{{^b}}",
        "{{x ",
        "(x ",
        "(",
        ")",
        "}}",
        "\"",
        "'",
        "\\",
        "{{!--",
        "--}}",
        "{{!",
        "[",
        "]",
        "a",
        " ",
        "{{{{raw}}}}",
        "{{{{/raw}}}}",
        "{",
        "}",
        "~",
        "{{&",
        "{{{",
        "{{elsewhere}}",
        "{{",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]

        /// The scan never counts less nesting than handlebars builds, on any text handlebars
        /// accepts.
        #[test]
        fn the_scan_never_counts_less_than_handlebars_nests(
            pieces in proptest::collection::vec(0..PIECES.len(), 0..40),
        ) {
            let text: String = pieces.iter().map(|&i| PIECES[i]).collect();
            if let Ok(t) = handlebars::Template::compile(&text) {
                let parsed = parsed_depth(&t.elements);
                match scan(text.as_bytes(), usize::MAX) {
                    Ok(scanned) => proptest::prop_assert!(
                        parsed <= scanned,
                        "{text:?}: handlebars nests {parsed}, the scan counted {scanned}"
                    ),
                    Err(Stop::Brackets(_)) => {}
                    Err(Stop::Deep(_)) => unreachable!("no limit"),
                }
            }
        }
    }
}
