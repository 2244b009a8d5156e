//! Writing catalog values into osquery's SQL: text literals, and each
//! indicator's match rule as a condition on a lowercased value.

use embargo_catalog::{MAX_PATTERN_BYTES, MatchKind, check_regex_dialect};

/// `text` as an SQL text literal. SQLite's literals hold any character but
/// NUL (`sqlite3_prepare` would end the statement there), so a value with
/// one is refused.
pub fn lit(text: &str) -> Result<String, String> {
    if text.contains('\0') {
        return Err("it holds a NUL character, which an SQL text literal cannot".into());
    }
    Ok(format!("'{}'", text.replace('\'', "''")))
}

/// A literal of text the generator itself wrote (never a NUL).
pub fn lit_own(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The operand an indicator's pattern becomes, compared with a lowercased
/// value by the operator of its match rule ([`MATCH`]): `exact` the
/// lowercased pattern for `=`, `prefix` the lowercased pattern with
/// `LIKE`'s wildcards escaped and `%` appended, `glob` the lowercased glob
/// (the catalog's have only `*` and `?`, which GLOB reads the same way),
/// `regex` the pattern for osquery's `regex_match`, which is ECMAScript
/// `std::regex` and takes at most 256 bytes.
pub fn operand(kind: MatchKind, pattern: &str) -> Result<String, String> {
    if pattern.len() > MAX_PATTERN_BYTES {
        return Err(format!("the pattern is {} bytes, over osquery's {MAX_PATTERN_BYTES}-byte limit", pattern.len()));
    }
    let lower = pattern.to_ascii_lowercase();
    Ok(match kind {
        MatchKind::Exact => lower,
        MatchKind::Prefix => format!("{}%", lower.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")),
        MatchKind::Glob => {
            if lower.contains(['[', ']']) {
                return Err("a glob with `[` or `]` means a class to GLOB".into());
            }
            lower
        }
        MatchKind::Regex => {
            check_regex_dialect(pattern).map_err(|e| format!("std::regex would not read it as embargo does: {e}"))?;
            pattern.to_string()
        }
    })
}

/// How a value `o.lv` (lowercased) is compared with an indicator's operand
/// `i.lp` ([`operand`]), by its match rule `i.match`; `i.needle` is text
/// every match of a regex contains, or NULL.
pub const MATCH: &str = "CASE i.match
          WHEN 'exact' THEN o.lv = i.lp
          WHEN 'prefix' THEN o.lv LIKE i.lp ESCAPE '\\'
          WHEN 'glob' THEN o.lv GLOB i.lp
          -- instr first: a literal every match contains (the catalog's
          -- needle) is far cheaper to look for than to run std::regex.
          WHEN 'regex' THEN CASE WHEN i.needle IS NULL OR instr(o.lv, i.needle) > 0
                                 THEN regex_match(o.lv, i.lp, 0) IS NOT NULL END
        END";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_double_quotes_and_refuse_nul() {
        assert_eq!(lit("O'Brien").unwrap(), "'O''Brien'");
        assert!(lit("a\0b").is_err());
    }

    #[test]
    fn each_match_rule_becomes_an_operand_for_its_operator() {
        assert_eq!(operand(MatchKind::Exact, "KLIF.sys").unwrap(), "klif.sys");
        assert_eq!(operand(MatchKind::Prefix, "Kaspersky 100%_a\\").unwrap(), r"kaspersky 100\%\_a\\%");
        assert_eq!(operand(MatchKind::Glob, "com.Kaspersky.*").unwrap(), "com.kaspersky.*");
        assert_eq!(operand(MatchKind::Regex, r"\bdahua\b").unwrap(), r"\bdahua\b");
        assert!(MATCH.contains(r"LIKE i.lp ESCAPE '\'"), "{MATCH}");
    }

    #[test]
    fn what_std_regex_lacks_or_is_too_long_is_refused() {
        assert!(operand(MatchKind::Regex, "(?<=a)b").is_err());
        assert!(operand(MatchKind::Regex, &"a".repeat(257)).is_err());
        assert!(operand(MatchKind::Glob, "a[bc]*").is_err());
    }
}
