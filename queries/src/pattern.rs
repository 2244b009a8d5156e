//! Patterns: checking them against the catalog's rules and compiling them to
//! matchers.
//!
//! Every comparison is case-insensitive by ASCII folding, which is what
//! SQLite's `lower()` does, so a canned query that compares
//! `lower(value)` with `lower(pattern)` agrees with [`Matcher::matches`].
//!
//! The regex dialect is the part that Rust's `regex` crate and ECMAScript
//! (`std::regex`, used by osquery's `regex_match`) read the same way:
//! literals, `.`, `^`, `$`, `\b`, `\B`, `\d \s \w` and their negations,
//! bracketed classes of literals and ranges, the usual quantifiers (greedy or
//! lazy), capturing and `(?:…)` groups, and alternation. Everything else is
//! refused, because the same pattern must find the same rows in embargo and
//! in osqueryd. (Rust's `\d`, `\w` and `\b` are Unicode-aware and
//! ECMAScript's are ASCII; the two differ only on non-ASCII input.)

use regex_syntax::ast::{
    self, AssertionKind, Ast, ClassSet, ClassSetItem, GroupKind, HexLiteralKind, LiteralKind, SpecialLiteralKind,
};

use crate::error::Problem;
use crate::vocab::MatchKind;

/// Longest pattern accepted, in bytes (the contract's limit for regexes,
/// applied to every pattern).
pub const MAX_PATTERN_BYTES: usize = 256;

/// Heap a compiled regex may take ([`regex::RegexBuilder::size_limit`]), and
/// the lazy DFA's cache ([`regex::RegexBuilder::dfa_size_limit`]). The
/// `regex` crate's defaults, spelled out so that the loader and
/// `regex_match` cannot drift apart: a catalog regex the loader accepts is
/// one that compiles at scan time.
pub const REGEX_SIZE_LIMIT: usize = 10 << 20;
pub const REGEX_DFA_SIZE_LIMIT: usize = 2 << 20;

/// Compiles `pattern` the way every regex embargo runs is compiled: the
/// catalog's at load and at first use, and `regex_match`'s in SQL.
pub fn compile_regex(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(pattern).size_limit(REGEX_SIZE_LIMIT).dfa_size_limit(REGEX_DFA_SIZE_LIMIT).build()
}

/// A compiled pattern.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub enum Matcher {
    /// Lowercased pattern; the whole value must equal it.
    Exact(String),
    /// Lowercased pattern; the value must start with it.
    Prefix(String),
    /// A glob or regex, run on the lowercased value.
    Regex(LazyRegex),
}

/// A regex compiled once when the catalog loads, to refuse what would fail
/// at scan time (a syntax error, or an automaton over the size limit), and
/// kept as its source until first used: scans match in SQL, a thawed
/// catalog ([`crate::frozen`]) was checked when it was frozen, and keeping
/// every compiled catalog regex would cost more memory than the catalog.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct LazyRegex {
    source: String,
    /// A literal every match contains, so that SQL can test it with
    /// `instr` before calling `regex_match`.
    needle: Option<String>,
    #[serde(skip)]
    compiled: std::sync::OnceLock<regex::Regex>,
}

impl LazyRegex {
    /// Checks that `source` compiles as scanning compiles it ([`compile_regex`]).
    fn checked(source: String) -> Result<LazyRegex, String> {
        let hir = regex_syntax::Parser::new().parse(&source).map_err(|e| first_line(&e.to_string()))?;
        compile_regex(&source).map_err(|e| match e {
            regex::Error::CompiledTooBig(limit) => {
                format!(
                    "the compiled regex would be larger than the {limit}-byte limit (reduce its counted repetitions)"
                )
            }
            e => first_line(&e.to_string()),
        })?;
        Ok(LazyRegex { needle: required_literal(&hir), source, compiled: std::sync::OnceLock::new() })
    }

    pub fn needle(&self) -> Option<&str> {
        self.needle.as_deref()
    }

    pub fn get(&self) -> &regex::Regex {
        // It compiled when the catalog was loaded or frozen, with the same
        // builder; should it not now, nothing matches rather than anything.
        self.compiled.get_or_init(|| {
            compile_regex(&self.source).unwrap_or_else(|_| regex::Regex::new("[^\\s\\S]").expect("empty class"))
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl Matcher {
    /// Checks `pattern` against the rules for `kind` and compiles it.
    pub fn compile(kind: MatchKind, pattern: &str) -> Result<Matcher, Problem> {
        if pattern.is_empty() {
            return Err(Problem::EmptyPattern);
        }
        if pattern.len() > MAX_PATTERN_BYTES {
            return Err(Problem::PatternTooLong { bytes: pattern.len(), max: MAX_PATTERN_BYTES });
        }
        match kind {
            MatchKind::Exact => Ok(Matcher::Exact(pattern.to_ascii_lowercase())),
            MatchKind::Prefix => Ok(Matcher::Prefix(pattern.to_ascii_lowercase())),
            MatchKind::Glob => Ok(Matcher::Regex(compile_glob(pattern)?)),
            MatchKind::Regex => {
                check_regex_dialect(pattern)?;
                LazyRegex::checked(pattern.to_string())
                    .map(Matcher::Regex)
                    .map_err(|message| Problem::InvalidRegex { message })
            }
        }
    }

    /// Lowercase text every matching value contains (regexes and globs).
    pub fn needle(&self) -> Option<&str> {
        match self {
            Matcher::Regex(re) => re.needle(),
            _ => None,
        }
    }

    /// Whether `value` matches, without regard to ASCII case.
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Matcher::Exact(p) => value.eq_ignore_ascii_case(p),
            Matcher::Prefix(p) => {
                value.len() >= p.len() && value.is_char_boundary(p.len()) && value[..p.len()].eq_ignore_ascii_case(p)
            }
            Matcher::Regex(re) => re.get().is_match(&value.to_ascii_lowercase()),
        }
    }
}

/// The longest literal among the top-level pieces of a concatenation: text
/// that every match must contain.
fn required_literal(hir: &regex_syntax::hir::Hir) -> Option<String> {
    use regex_syntax::hir::HirKind;
    let literal = |h: &regex_syntax::hir::Hir| match h.kind() {
        HirKind::Literal(l) => std::str::from_utf8(&l.0).ok().map(str::to_string),
        _ => None,
    };
    match hir.kind() {
        HirKind::Concat(parts) => parts.iter().filter_map(literal).max_by_key(String::len),
        _ => literal(hir),
    }
    .filter(|l| !l.is_empty())
}

/// Globs are whole-string: `*` is any run (also empty), `?` exactly one
/// character. Brackets are refused rather than given a meaning, because
/// SQLite's GLOB reads `[...]` as a class and the two must agree.
fn compile_glob(pattern: &str) -> Result<LazyRegex, Problem> {
    if pattern.contains(['[', ']']) {
        return Err(Problem::BadGlob { reason: "`[` and `]` are not allowed in a glob".into() });
    }
    if !pattern.chars().any(|c| c != '*' && c != '?') {
        return Err(Problem::BadGlob { reason: "a glob of only wildcards matches anything".into() });
    }
    if pattern.len() > 1 && pattern.starts_with('*') && pattern.ends_with('*') {
        return Err(Problem::BadGlob {
            reason: "a glob that starts and ends with `*` is a substring match, which the catalog does not allow"
                .into(),
        });
    }
    let mut re = String::from("(?s)^");
    for c in pattern.to_ascii_lowercase().chars() {
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            c => re.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
        }
    }
    re.push('$');
    LazyRegex::checked(re).map_err(|reason| Problem::BadGlob { reason })
}

/// Refuses what either Rust's `regex` or ECMAScript would read differently
/// (or not at all), and uppercase letters (the value is lowercased first, so
/// an uppercase literal could never match).
pub fn check_regex_dialect(pattern: &str) -> Result<(), Problem> {
    let parsed = ast::parse::Parser::new().parse(pattern).map_err(|e| match e.kind() {
        ast::ErrorKind::UnsupportedLookAround => forbidden("look-around"),
        ast::ErrorKind::UnsupportedBackreference => forbidden("a back-reference"),
        _ => Problem::InvalidRegex { message: e.kind().to_string() },
    })?;
    check_ast(&parsed)
}

fn forbidden(what: &str) -> Problem {
    Problem::ForbiddenRegex { construct: what.to_string() }
}

fn check_ast(node: &Ast) -> Result<(), Problem> {
    match node {
        Ast::Empty(_) | Ast::Dot(_) => Ok(()),
        Ast::Flags(_) => Err(forbidden("inline flags such as `(?i)`")),
        Ast::Literal(lit) => check_literal(lit),
        Ast::Assertion(a) => match a.kind {
            AssertionKind::StartLine
            | AssertionKind::EndLine
            | AssertionKind::WordBoundary
            | AssertionKind::NotWordBoundary => Ok(()),
            AssertionKind::StartText | AssertionKind::EndText => Err(forbidden("`\\A` or `\\z` (use `^` and `$`)")),
            _ => Err(forbidden("a half word boundary such as `\\<` or `\\b{start}`")),
        },
        Ast::ClassUnicode(_) => Err(forbidden("a Unicode class such as `\\pL`")),
        Ast::ClassPerl(_) => Ok(()),
        Ast::ClassBracketed(class) => check_class_set(&class.kind),
        // Rust refuses `{,n}`, which ECMAScript reads as literal text.
        Ast::Repetition(rep) => check_ast(&rep.ast),
        Ast::Group(group) => match &group.kind {
            GroupKind::CaptureIndex(_) => check_ast(&group.ast),
            GroupKind::CaptureName { .. } => Err(forbidden("a named group")),
            GroupKind::NonCapturing(flags) if flags.items.is_empty() => check_ast(&group.ast),
            GroupKind::NonCapturing(_) => Err(forbidden("inline flags such as `(?i:…)`")),
        },
        Ast::Alternation(alt) => alt.asts.iter().try_for_each(check_ast),
        Ast::Concat(cat) => cat.asts.iter().try_for_each(check_ast),
    }
}

fn check_literal(lit: &ast::Literal) -> Result<(), Problem> {
    match &lit.kind {
        LiteralKind::Verbatim | LiteralKind::Meta | LiteralKind::HexFixed(HexLiteralKind::X) => {}
        LiteralKind::HexFixed(HexLiteralKind::UnicodeShort) => {}
        // ECMAScript reads `\<punct>` as the character itself; letters and digits would be escapes.
        LiteralKind::Superfluous if lit.c.is_ascii_punctuation() => {}
        LiteralKind::Special(
            SpecialLiteralKind::Tab
            | SpecialLiteralKind::LineFeed
            | SpecialLiteralKind::CarriageReturn
            | SpecialLiteralKind::FormFeed
            | SpecialLiteralKind::VerticalTab,
        ) => {}
        LiteralKind::Octal => return Err(forbidden("an octal escape")),
        LiteralKind::HexFixed(HexLiteralKind::UnicodeLong) | LiteralKind::HexBrace(_) => {
            return Err(forbidden("a `\\U…` or `\\x{…}` escape (use `\\xhh` or `\\uhhhh`)"));
        }
        _ => return Err(forbidden(&format!("the escape for {:?}", lit.c))),
    }
    if lit.c.is_uppercase() {
        return Err(Problem::UppercaseRegex { found: lit.c });
    }
    Ok(())
}

fn check_class_set(set: &ClassSet) -> Result<(), Problem> {
    match set {
        ClassSet::BinaryOp(_) => Err(forbidden("a class operation (`&&`, `--`, `~~`)")),
        ClassSet::Item(item) => check_class_item(item),
    }
}

fn check_class_item(item: &ClassSetItem) -> Result<(), Problem> {
    match item {
        ClassSetItem::Empty(_) | ClassSetItem::Perl(_) => Ok(()),
        ClassSetItem::Literal(lit) => check_class_literal(lit),
        ClassSetItem::Range(range) => {
            check_class_literal(&range.start)?;
            check_class_literal(&range.end)
        }
        ClassSetItem::Ascii(_) => Err(forbidden("a POSIX class such as `[[:alpha:]]`")),
        ClassSetItem::Unicode(_) => Err(forbidden("a Unicode class such as `\\pL`")),
        ClassSetItem::Bracketed(_) => Err(forbidden("a nested class")),
        ClassSetItem::Union(union) => union.items.iter().try_for_each(check_class_item),
    }
}

/// An unescaped bracket inside a class means different things to the two
/// engines (`[]a]`, `[a[b]`), so brackets in classes must be escaped.
fn check_class_literal(lit: &ast::Literal) -> Result<(), Problem> {
    if lit.kind == LiteralKind::Verbatim && matches!(lit.c, '[' | ']') {
        return Err(forbidden("an unescaped `[` or `]` inside a class"));
    }
    check_literal(lit)
}

fn first_line(s: &str) -> String {
    // regex's errors draw the pattern with a caret over several lines; the
    // last line says what is wrong.
    s.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or(s).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(kind: MatchKind, p: &str) -> Matcher {
        Matcher::compile(kind, p).unwrap()
    }

    #[test]
    fn needles_are_text_every_match_contains() {
        let needle = |p: &str| Matcher::compile(MatchKind::Regex, p).unwrap().needle().map(str::to_string);
        assert_eq!(
            needle("(^|[,/+]) *cn *= *kaspersky anti-virus personal root certificate *($|[,/+])").as_deref(),
            Some("kaspersky anti-virus personal root certificate")
        );
        assert_eq!(needle(r"^avp\d+(\.\d+){1,2}$").as_deref(), Some("avp"));
        assert_eq!(needle(r"\bultraav\b").as_deref(), Some("ultraav"));
        assert_eq!(needle("a|b"), None);
        let glob = Matcher::compile(MatchKind::Glob, "Kaspersky*Agent").unwrap();
        assert_eq!(glob.needle(), Some("kaspersky"));
    }

    #[test]
    fn exact_and_prefix_fold_ascii_case() {
        assert!(m(MatchKind::Exact, "KLIF.sys").matches("klif.SYS"));
        assert!(!m(MatchKind::Exact, "klif.sys").matches("klif.sys.bak"));
        assert!(m(MatchKind::Prefix, "Kaspersky ").matches("KASPERSKY Total Security"));
        assert!(!m(MatchKind::Prefix, "Kaspersky ").matches("Kasperskyx"));
        // A multi-byte character straddling the prefix length is not a panic.
        assert!(!m(MatchKind::Prefix, "ab").matches("aé"));
    }

    #[test]
    fn globs_are_whole_string() {
        let g = m(MatchKind::Glob, "com.kaspersky.*");
        assert!(g.matches("com.kaspersky.kav"));
        assert!(g.matches("COM.Kaspersky."));
        assert!(!g.matches("xcom.kaspersky.kav"));
        assert!(!g.matches("com.kasperskyx"));
        let q = m(MatchKind::Glob, "avp?.exe");
        assert!(q.matches("avp1.exe"));
        assert!(!q.matches("avp12.exe"));
        // Regex metacharacters in a glob are literal.
        assert!(m(MatchKind::Glob, "a.b(c)+*").matches("a.b(c)+zz"));
        assert!(!m(MatchKind::Glob, "a.b*").matches("axb"));
    }

    #[test]
    fn regexes_run_on_the_lowercased_value() {
        let r = m(MatchKind::Regex, r"^avp\d+(\.\d+){1,2}$");
        assert!(r.matches("AVP21.2"));
        assert!(r.matches("avp18.0.0"));
        assert!(!r.matches("avp21"));
        assert!(!r.matches("xavp21.2"));
    }

    #[test]
    fn the_shared_dialect_is_enforced() {
        let refused = |p: &str| Matcher::compile(MatchKind::Regex, p).unwrap_err();
        for p in [
            "(?i)kaspersky",
            "(?i:kaspersky)",
            "(?P<n>kl)if",
            "(?<n>kl)if",
            r"\pL+",
            r"[\p{Greek}]",
            r"[[:alpha:]]",
            r"[a-z&&[^m]]",
            r"\Akl\z",
            r"\<klif\>",
            r"\x{41}",
            r"\101",
        ] {
            assert!(matches!(refused(p), Problem::ForbiddenRegex { .. }), "{p} must be refused");
        }
        assert!(matches!(refused("(?=kl)if"), Problem::ForbiddenRegex { .. }));
        assert!(matches!(refused("(?<!x)kl"), Problem::ForbiddenRegex { .. }));
        assert!(matches!(refused(r"(kl)\1"), Problem::ForbiddenRegex { .. }));
        assert!(matches!(refused("Kaspersky"), Problem::UppercaseRegex { found: 'K' }));
        assert!(matches!(refused("[A-Z]"), Problem::UppercaseRegex { .. }));
        assert!(matches!(refused(r"\x41"), Problem::UppercaseRegex { found: 'A' }));
        assert!(matches!(refused("(unclosed"), Problem::InvalidRegex { .. }));
        assert!(matches!(refused("a{,3}"), Problem::InvalidRegex { .. }));
        // What both engines share is accepted, including uppercase escapes.
        for p in [r"^kl\w+\.sys$", r"\bhikvision\b", r"(?:a|b)+?c{2,}", r"[^\s,/]\D\S\W\B", r"a\/b\-c"] {
            Matcher::compile(MatchKind::Regex, p).unwrap_or_else(|e| panic!("{p}: {e}"));
        }
    }

    #[test]
    fn limits_and_degenerate_globs() {
        assert!(matches!(Matcher::compile(MatchKind::Exact, ""), Err(Problem::EmptyPattern)));
        let long = "a".repeat(MAX_PATTERN_BYTES + 1);
        assert!(matches!(Matcher::compile(MatchKind::Prefix, &long), Err(Problem::PatternTooLong { .. })));
        assert!(Matcher::compile(MatchKind::Exact, &"a".repeat(MAX_PATTERN_BYTES)).is_ok());
        for g in ["*", "**", "?*", "*kasper*", "[ab]*"] {
            assert!(matches!(Matcher::compile(MatchKind::Glob, g), Err(Problem::BadGlob { .. })), "{g}");
        }
    }
}
