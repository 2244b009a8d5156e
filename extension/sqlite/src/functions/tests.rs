//! Expected values are osquery's, never embargo's: the cases marked
//! `sql.cpp` are ported from osquery's own tests (osquery/osquery,
//! `osquery/sql/tests/sql.cpp`, master a5b14f63d), the others read off
//! osquery's code (`osquery/sql/sqlite_string.cpp`, `sqlite_version.cpp`,
//! `osquery/utils/conversions/split.cpp`). osquery's test rows show a NULL
//! as ''; where its code returns NULL the case below says NULL.

use rusqlite::Connection;
use rusqlite::types::Value;

use super::register_functions;

fn conn() -> Connection {
    let c = Connection::open_in_memory().unwrap();
    register_functions(&c).unwrap();
    c
}

fn eval(c: &Connection, expr: &str) -> std::result::Result<Value, String> {
    c.query_row(&format!("SELECT {expr}"), [], |r| r.get::<_, Value>(0)).map_err(|e| e.to_string())
}

fn t(s: &str) -> Value {
    Value::Text(s.into())
}

const NULL: Value = Value::Null;

fn check(cases: &[(&str, Value)]) {
    let c = conn();
    let bad: Vec<String> = cases
        .iter()
        .filter_map(|(expr, want)| match eval(&c, expr) {
            Ok(got) if &got == want => None,
            got => Some(format!("{expr}: got {got:?}, want {want:?}")),
        })
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

fn check_errors(cases: &[(&str, &str)]) {
    let c = conn();
    for (expr, want) in cases {
        match eval(&c, expr) {
            Err(e) => assert!(e.contains(want), "{expr}: error {e:?}, want {want:?}"),
            Ok(v) => panic!("{expr}: got {v:?}, want the error {want:?}"),
        }
    }
}

#[test]
fn regex_match_as_osquery() {
    check(&[
        // sql.cpp test_regex_match_multiple
        ("regex_match('hello world', '(l)(o).*', 0)", t("lo world")),
        ("regex_match('hello world', '(l)(o).*', 1)", t("l")),
        ("regex_match('hello world', '(l)(o).*', 2)", t("o")),
        ("regex_match('hello world', '(l)(o).*', 3)", NULL),
        // sql.cpp test_regex_match_complex
        (r"regex_match('hello world', '(\w+) .*(or|ld)', 0)", t("hello world")),
        (r"regex_match('hello world', '(\w+) .*(or|ld)', 1)", t("hello")),
        (r"regex_match('hello world', '(\w+) .*(or|ld)', 2)", t("ld")),
        (r"regex_match('hello world', '(\w+) .*(or|ld)', 3)", NULL),
        // sql.cpp test_regex_match_fileextract
        ("regex_match('/filesystem/path/download.extension.zip', '.+/([^./]+)', 1)", t("download")),
        // sql.cpp test_regex_match_empty, test_regex_match_invalid3
        ("regex_match('hello world', '', 0)", t("")),
        ("regex_match('foo/bar', '|', 0)", t("")),
        // No match, and a NULL anywhere: NULL.
        ("regex_match('klogd', '^kaspersky', 0)", NULL),
        ("regex_match(NULL, 'a', 0)", NULL),
        ("regex_match('a', NULL, 0)", NULL),
        ("regex_match('a', 'a', NULL)", NULL),
        // A group that took no part in the match is '' (std::smatch's
        // empty sub_match), not NULL.
        ("regex_match('a', '(b)?a', 1)", t("")),
        ("regex_match('ab', 'a(x)|a(b)', 1)", t("")),
        ("regex_match('ab', 'a(x)|a(b)', 2)", t("b")),
        // The index is sqlite3_value_int's: text parsed, reals truncated,
        // 64-bit cut to 32, negative past the end.
        ("regex_match('kaspersky-endpoint', '^kaspersky-(.*)$', '1')", t("endpoint")),
        ("regex_match('kaspersky-endpoint', '^kaspersky-(.*)$', 1.9)", t("endpoint")),
        ("regex_match('kaspersky-endpoint', '^kaspersky-(.*)$', 4294967297)", t("endpoint")),
        ("regex_match('kaspersky-endpoint', '^kaspersky-(.*)$', 'x')", t("kaspersky-endpoint")),
        ("regex_match('kaspersky-endpoint', '^kaspersky-(.*)$', -1)", NULL),
        // Numbers and blobs are matched as SQLite's text of them.
        ("regex_match(1.5, '^1\\.5$', 0)", t("1.5")),
        ("regex_match(12, '2', 0)", t("2")),
        ("regex_match(x'6b6c6f6764', 'log', 0)", t("log")),
        // A C string: the value ends at its first NUL.
        ("regex_match('ab' || char(0) || 'cd', 'c', 0)", NULL),
        // 256 bytes is the largest pattern (FLAGS_regex_max_size).
        (&format!("regex_match('a', '{}a', 0)", "b?".repeat(127) + "b"), NULL),
    ]);
    check_errors(&[
        // sql.cpp test_regex_match_invalid1, invalid2, too_big
        ("regex_match('foo/bar', '(/', 0)", "Invalid regex"),
        ("regex_match('foo/bar', '+', 0)", "Invalid regex"),
        (
            &format!("regex_match('foo/bar', '{}', 0)", "|".repeat(100_000)),
            "Invalid regex: too big, max size is 256 bytes",
        ),
        (&format!("regex_match('a', '{}', 0)", "a".repeat(257)), "Invalid regex: too big"),
        // The pattern's errors come before the index is looked at.
        ("regex_match('a', '(', -1)", "Invalid regex"),
    ]);
}

#[test]
fn split_as_osquery() {
    check(&[
        // sql.cpp test_split_slash
        ("split('/foo/bar', '/', 0)", t("foo")),
        ("split('/foo/bar', '/', 1)", t("bar")),
        ("split('/foo/bar', '/', 2)", NULL),
        // sql.cpp test_split_double_semicolon: the tokens are a set of bytes
        ("split('foo;;bar', ';;', 0)", t("foo")),
        ("split('foo;;bar', ';;', 1)", t("bar")),
        ("split('foo;;bar', ';;', 2)", NULL),
        // osquery::split trims every piece (boost::trim) after dropping
        // the empty ones, so a piece of spaces is ''.
        ("split(' a, b ,c', ',', 1)", t("b")),
        ("split(' a, b ,c', ',', 0)", t("a")),
        ("split('a, ,b', ',', 1)", t("")),
        ("split('a, ,b', ',', 2)", t("b")),
        (&format!("split('{}x{}', ',', 0)", "\t\n\r", "\x0b\x0c "), t("x")),
        ("split('', ',', 0)", NULL),
        ("split(',,', ',', 0)", NULL),
        ("split(NULL, ',', 0)", NULL),
        ("split('a', NULL, 0)", NULL),
        ("split('a', ',', NULL)", NULL),
        ("split('a,b', ',', -1)", NULL),
        ("split('a,b', ',', '1')", t("b")),
        ("split('a,b', ',', x'31')", t("b")),
        ("split(192.5, '.', 1)", t("5")),
        ("split('192.168.0.1', '.0', 0)", t("192")),
    ]);
    // sql.cpp test_split_empty
    check_errors(&[("split('foo;;bar', '', 0)", "Invalid input to split function")]);
}

#[test]
fn concat_as_osquery() {
    check(&[
        // sql.cpp test_concat (t0 is NULL: concatFunc returns no result)
        ("concat()", NULL),
        ("concat('hello')", t("hello")),
        ("concat('hello', 'world')", t("helloworld")),
        ("concat('hello', NULL, 'world')", t("helloworld")),
        ("concat(1, 2, 3, 'go')", t("123go")),
        ("concat('')", t("")),
        ("concat(NULL)", t("")),
        ("concat(1.5, x'41')", t("1.5A")),
        // sql.cpp test_concat_ws (t0, t1 are NULL: nothing after the separator)
        ("concat_ws('')", NULL),
        ("concat_ws(NULL)", NULL),
        ("concat_ws(', ', 'hello', 'world', 1, 2, 3)", t("hello, world, 1, 2, 3")),
        ("concat_ws('', 'hello', 'world', 1, 2, 3)", t("helloworld123")),
        ("concat_ws(NULL, 'hello', 'world', 1, 2, 3)", t("helloworld123")),
        ("concat_ws(' ', 'hello', NULL, 'world')", t("hello world")),
        ("concat_ws('x', 'hello')", t("hello")),
        ("concat_ws('x', '', '')", t("x")),
        // The separator follows each non-NULL argument that is not the last.
        ("concat_ws('-', 'a', NULL)", t("a-")),
        ("concat_ws('-', NULL, 'a')", t("a")),
        ("concat_ws('-', 'a', NULL, NULL, 'b')", t("a-b")),
        ("concat_ws('-', NULL)", t("")),
    ]);
    // sql.cpp test_concat_ws_fail
    check_errors(&[("concat_ws()", "Missing separator to concat_ws")]);
}

#[test]
fn version_compare_as_osquery() {
    check(&[
        // sql.cpp test_version_compare
        ("version_compare('1.0', '1.0')", Value::Integer(0)),
        ("version_compare('1:2.0-10', '1:2.0-10', 'DPKG')", Value::Integer(0)),
        ("version_compare('4:1.1.0', '4:1.1.0-3', 'arCH')", Value::Integer(0)),
        ("version_compare('50.4.1b', '50.4.1c')", Value::Integer(-1)),
        ("version_compare('1.0.8-4', '1.0.8-6', 'arch')", Value::Integer(-1)),
        ("version_compare('1.0.0~rc2^2021', '1.0.0', 'RHEL')", Value::Integer(-1)),
        ("version_compare('1.1.0~BETA2^1', '1.1.0~CR1', 'RhEl')", Value::Integer(-1)),
        ("version_compare('1.0.1.1', '1.0.1^2021', 'rhel')", Value::Integer(1)),
        ("version_compare('1.9.9-1ubuntu2.4', '1.9.9-1ubuntu2.3', 'dpkg')", Value::Integer(1)),
        ("version_compare('1:1.2.13-2', '4.2.1', 'ARCH')", Value::Integer(1)),
        ("version_compare('106.32.1', '106:32.1')", Value::Integer(0)),
        // The result is clamped to -1, 0, 1; arguments past the third are ignored.
        ("version_compare('9', '1')", Value::Integer(1)),
        ("version_compare('', 'a')", Value::Integer(-1)),
        ("version_compare('1.0', '1.0', 'DPKG', 'anything', 42)", Value::Integer(0)),
    ]);
    let two = "Must provide two version strings to compare.";
    check_errors(&[
        ("version_compare()", two),
        ("version_compare('1.0')", two),
        ("version_compare(NULL, '1.0')", two),
        ("version_compare('1.0', 2)", two),
        ("version_compare(x'31', '1')", two),
        ("version_compare('1', '1', NULL)", "The optional third parameter is not a string."),
        ("version_compare('1', '1', 1)", "The optional third parameter is not a string."),
        (
            "version_compare('1', '1', 'semver')",
            "The optional third parameter does not match one of: (ARCH, DPKG, RHEL).",
        ),
        // The operator form of an unmerged osquery branch is not osquery's.
        ("version_compare('1.0', '<', '2.0')", "The optional third parameter does not match one of"),
    ]);
}

/// Each case is `left op right COLLATE name`, which osquery's tests expect
/// to be true.
fn check_collation(name: &str, cases: &[(&str, &str, &str)]) {
    let c = conn();
    for (l, op, r) in cases {
        let expr = format!("'{l}' {op} '{r}' COLLATE {name}");
        assert_eq!(eval(&c, &expr), Ok(Value::Integer(1)), "{expr}");
        // The flipped comparison must then be false.
        let flipped = match *op {
            "<" => ">=",
            ">" => "<=",
            _ => "<>",
        };
        let expr = format!("'{l}' {flipped} '{r}' COLLATE {name}");
        assert_eq!(eval(&c, &expr), Ok(Value::Integer(0)), "{expr}");
    }
}

#[test]
fn collations_as_osquery() {
    // sql.cpp test_collate_version_eq, _lt, _gt
    check_collation(
        "version",
        &[
            ("1.0", "=", "1.0"),
            ("1:0.0", "=", "1.0.0"),
            ("2.50^1a", "=", "2.50~1a"),
            ("1.0", "<", "1.1"),
            ("1.1", "<", "1.a"),
            ("50.4.1b", "<", "50.4.1c"),
            ("1.0.0", "<", "1.0.0-2"),
            ("1.0.0-2", "<", "1:0.0.3"),
            ("1.12.1", "<", "1.13"),
            ("1.1", ">", "1.0"),
            ("190.10a", ">", "20.10a"),
            ("20.10a", ">", "20.102"),
            ("57:4", ">", "6.87.5"),
            ("98.100.21-1b", ">", "98.100.21-1a"),
            ("8.11", ">", "8.10.24"),
        ],
    );
    // sql.cpp test_collate_version_arch_eq, _lt, _gt
    check_collation(
        "version_arch",
        &[
            ("1.0", "=", "1.0"),
            ("1.0", "=", "1.0-4"),
            ("4:2", "=", "4:2-1"),
            ("1.0", "<", "1.1"),
            ("1.6.1-9", "<", "1.6.1-10"),
            ("20220713-1", "<", "20221123-1"),
            ("2-2pre", "<", "2-2rc"),
            ("2.38-6", "<", "2.39-4"),
            ("1.0.8-4", "<", "1.0.8-5"),
            ("20210603-1", "<", "20220905-1"),
            ("41.1-2", "<", "43alpha+r8+g1de47dbc-1"),
            ("9.1-1", "<", "9.1-3"),
            ("1:42.3.1-1", "<", "1:43.2-1"),
            ("42.3-1", "<", "43.2-1"),
            ("1.1", ">", "1.0"),
            ("3.46.7-1", ">", "3.44.1-1"),
            ("6.0.12.arch1-1", ">", "5.18.14.arch1-1"),
            ("5.6.0-2", ">", "5.3.0-2"),
            ("6.0.2-5", ">", "6.0.1-5"),
            ("3:0.164.r3095.baee400-4", ">", "3:0.164.r3081.19856cc-2"),
            ("2022.2-1", ">", "2022.1-1"),
            ("5.2.9-1", ">", "5.2.5-3"),
            ("42.2-1", ">", "42.1-2"),
            ("0.23.90-1", ">", "0.23.1-9"),
            ("1:1.2.13-2", ">", "4.2.1"),
        ],
    );
    // sql.cpp test_collate_version_dpkg_eq, _lt, _gt
    check_collation(
        "version_dpkg",
        &[
            ("1.0", "=", "1.0"),
            ("1.0-0", "=", "1.0-0"),
            ("1:2.0-10", "=", "1:2.0-10"),
            ("1.0", "<", "1.1"),
            ("22.07.5-2ubuntu1.3", "<", "22.07.5-2ubuntu1.4"),
            ("12ubuntu4.2", "<", "12ubuntu4.3"),
            ("2.38-4ubuntu2.1", "<", "2.38-4ubuntu2.2"),
            ("1.19.2-2ubuntu0.1", "<", "1.19.2-2ubuntu0.2"),
            ("2.5.13+dfsg-0ubuntu0.22.04.1", "<", "2.5.14+dfsg-0ubuntu0.22.04.2"),
            ("1.1", ">", "1.0"),
            ("1.21.1ubuntu2.2", ">", "1.21.1ubuntu2.1"),
            ("3.0.2-0ubuntu1.10", ">", "3.0.2-0ubuntu1.8"),
            ("5.34.0-3ubuntu1.2", ">", "5.34.0-3ubuntu1.1"),
            ("1.9.9-1ubuntu2.4", ">", "1.9.9-1ubuntu2.3"),
            ("2:8.2.3995-1ubuntu2.9", ">", "2:8.2.3995-1ubuntu2.3"),
        ],
    );
    // sql.cpp test_collate_version_rhel_eq, _lt, _gt
    check_collation(
        "version_rhel",
        &[
            ("1.0", "=", "1.0"),
            ("0.5.0~rc1^202", "=", "0.5.0~rc1^202"),
            ("1:1.0.0~rc2", "=", "1:1.0.0~rc2"),
            ("1.0", "<", "1.1"),
            ("1.0.0~rc2^2021", "<", "1.0.0"),
            ("1.0.0", "<", "1.0.1"),
            ("1.0.1", "<", "1.0.1^2021"),
            ("1.0.1^2021", "<", "1.0.1.security1"),
            ("1.0.1", "<", "pkg-1.0.1.security1"),
            ("1.1.0~BETA2", "<", "1.1.0~CR1"),
            ("1.1.0.2021.SP1", "<", "1.1.0.2021.SP1_CP1"),
            ("9.11.4-26.P2.el7_9.10", "<", "32:9.11.4-26.P2.el7_9.13"),
            ("1:1.8.0.352.b08-2.el7_9", "<", "1:1.8.0.372.b07-1.el7_9"),
            ("5.6.0-1.linux", "<", "5.9.1-1.linux"),
            ("1.1", ">", "1.0"),
            ("1.0.0~rc2", ">", "1.0.0~rc1"),
            ("1.0.0", ">", "1.0.0~rc2"),
            ("1.0.1.security1", ">", "1.0.0~rc2"),
            ("1.1.0~BETA", ">", "1.0.1.security1"),
            ("1.1.0~CR1", ">", "1.1.0~BETA"),
            ("1.1.0.20201001.GA1", ">", "1.1.0~CR1"),
            ("1.0.0~rc2^20210101gf00fabd", ">", "1.0.0~rc2"),
            ("1.0.0", ">", "1.0.0~rc2^20210101gf00fabd"),
            ("1.0.1^20210203gbbbccc0", ">", "1.0.1"),
            ("1.0.1.security1", ">", "1.0.1^20210203gbbbccc0"),
        ],
    );
}

#[test]
fn collations_order_rows() {
    // ORDER BY … COLLATE version_rhel: the order of sql.cpp's
    // test_collate_version_rhel_gt chain, given shuffled.
    let c = conn();
    let got: Vec<String> = c
        .prepare(
            "SELECT column1 FROM (VALUES ('1.1.0~CR1'), ('1.0.0~rc1'), ('1.0.1.security1'), ('1.0.0'), ('1.1.0~BETA'), \
             ('1.0.0~rc2')) ORDER BY column1 COLLATE version_rhel",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(got, ["1.0.0~rc1", "1.0.0~rc2", "1.0.0", "1.0.1.security1", "1.1.0~BETA", "1.1.0~CR1"]);
}
