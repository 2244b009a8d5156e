//! Printing rows. Every format but `table` streams: a million rows never sit
//! in memory at once.

use std::borrow::Cow;
use std::io::{self, Write};

use rusqlite::types::ValueRef;

use crate::args::Format;

/// A cell copied out of SQLite.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
}

impl Cell {
    pub fn from_sql(v: ValueRef<'_>) -> Cell {
        let mut cell = Cell::Null;
        cell.set(v);
        cell
    }

    /// Overwrites the cell with `v`, reusing its text buffer: a row loop
    /// then allocates nothing per cell.
    pub fn set(&mut self, v: ValueRef<'_>) {
        match v {
            ValueRef::Null => *self = Cell::Null,
            ValueRef::Integer(i) => *self = Cell::Integer(i),
            ValueRef::Real(f) => *self = Cell::Real(f),
            ValueRef::Text(t) => {
                let text = String::from_utf8_lossy(t);
                match self {
                    Cell::Text(s) => {
                        s.clear();
                        s.push_str(&text);
                    }
                    _ => *self = Cell::Text(text.into_owned()),
                }
            }
            // Blobs are rare here (digests are hex text); show them as hex.
            ValueRef::Blob(b) => *self = Cell::Text(b.iter().map(|x| format!("{x:02x}")).collect()),
        }
    }

    fn display(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Integer(i) => i.to_string(),
            Cell::Real(f) => f.to_string(),
            Cell::Text(s) => s.clone(),
        }
    }

    /// [`Cell::display`] made safe for a terminal ([`terminal_safe`]).
    fn shown(&self) -> String {
        match self {
            Cell::Text(s) => terminal_safe(s).into_owned(),
            other => other.display(),
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Cell::Null => serde_json::Value::Null,
            Cell::Integer(i) => (*i).into(),
            Cell::Real(f) => serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into),
            Cell::Text(s) => s.clone().into(),
        }
    }
}

/// Receives the rows of one statement after another: `begin`, `row`s and
/// `end` for each, then `finish` once.
pub trait RowSink {
    fn begin(&mut self, columns: &[String]) -> io::Result<()>;
    fn row(&mut self, cells: &[Cell]) -> io::Result<()>;
    fn end(&mut self) -> io::Result<()>;
    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}

pub fn sink<'w>(format: Format, out: &'w mut dyn Write) -> Box<dyn RowSink + 'w> {
    match format {
        Format::Table => Box::new(TableSink { out, columns: vec![], rows: vec![] }),
        Format::Json => Box::new(JsonSink { out, columns: vec![], lines: false, first: true, open: false }),
        Format::Jsonl => Box::new(JsonSink { out, columns: vec![], lines: true, first: true, open: false }),
        // Flexible: each statement writes its own header and rows, of its own width.
        Format::Csv => Box::new(CsvSink { writer: csv::WriterBuilder::new().flexible(true).from_writer(out) }),
        Format::Line => Box::new(LineSink { out, columns: vec![], width: 0, first: true }),
    }
}

struct JsonSink<'w> {
    out: &'w mut dyn Write,
    /// Each column's `"name": `, escaped once.
    columns: Vec<Vec<u8>>,
    lines: bool,
    first: bool,
    /// `--format json` prints one array, whatever the number of statements.
    open: bool,
}

impl RowSink for JsonSink<'_> {
    fn begin(&mut self, columns: &[String]) -> io::Result<()> {
        self.columns = columns
            .iter()
            .map(|c| {
                let mut key = serde_json::to_vec(c).unwrap_or_default();
                key.extend_from_slice(b": ");
                key
            })
            .collect();
        if !self.lines && !self.open {
            self.out.write_all(b"[")?;
            self.open = true;
        }
        Ok(())
    }

    fn row(&mut self, cells: &[Cell]) -> io::Result<()> {
        if !self.lines {
            self.out.write_all(if self.first { b"\n  " } else { b",\n  " })?;
        }
        self.first = false;
        self.out.write_all(b"{")?;
        for (i, (key, cell)) in self.columns.iter().zip(cells).enumerate() {
            if i > 0 {
                self.out.write_all(b", ")?;
            }
            self.out.write_all(key)?;
            match cell {
                Cell::Null => self.out.write_all(b"null")?,
                Cell::Integer(v) => write!(self.out, "{v}")?,
                Cell::Text(t) => serde_json::to_writer(&mut *self.out, t)?,
                Cell::Real(_) => serde_json::to_writer(&mut *self.out, &cell.to_json())?,
            }
        }
        self.out.write_all(b"}")?;
        if self.lines {
            self.out.write_all(b"\n")?;
        }
        Ok(())
    }

    fn end(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        if self.open {
            self.out.write_all(if self.first { b"]\n" } else { b"\n]\n" })?;
            self.open = false;
        }
        Ok(())
    }
}

struct CsvSink<'w> {
    writer: csv::Writer<&'w mut dyn Write>,
}

impl RowSink for CsvSink<'_> {
    fn begin(&mut self, columns: &[String]) -> io::Result<()> {
        // Column names come from pasted SQL: guarded like data.
        self.writer.write_record(columns.iter().map(|c| csv_safe(c).into_owned())).map_err(io::Error::other)
    }

    fn row(&mut self, cells: &[Cell]) -> io::Result<()> {
        for c in cells {
            let field = match c {
                Cell::Text(s) => csv_safe(s),
                // Numbers stay numbers, a negative one too.
                other => Cow::Owned(other.display()),
            };
            self.writer.write_field(field.as_bytes()).map_err(io::Error::other)?;
        }
        self.writer.write_record(std::iter::empty::<&[u8]>()).map_err(io::Error::other)
    }

    fn end(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

struct LineSink<'w> {
    out: &'w mut dyn Write,
    columns: Vec<String>,
    width: usize,
    first: bool,
}

impl RowSink for LineSink<'_> {
    fn begin(&mut self, columns: &[String]) -> io::Result<()> {
        self.width = columns.iter().map(|c| c.chars().count()).max().unwrap_or(0);
        self.columns = columns.to_vec();
        Ok(())
    }

    fn row(&mut self, cells: &[Cell]) -> io::Result<()> {
        if !self.first {
            writeln!(self.out)?;
        }
        self.first = false;
        for (name, cell) in self.columns.iter().zip(cells) {
            writeln!(self.out, "{name:>w$} = {}", cell.shown(), w = self.width)?;
        }
        Ok(())
    }

    fn end(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Text from a scanned image, made safe to print on a terminal: a hostile
/// image can put escape sequences in a host name, a package version or a
/// file name, and a terminal would obey them (clear the screen, retitle the
/// window, overwrite a finding). Tabs and line breaks become spaces; other
/// control characters and the bidirectional overrides that can reorder what
/// is shown ("Trojan Source") become visible escapes such as `\x1b`.
pub fn terminal_safe(s: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\t' | '\n' | '\r' => out.push(' '),
            c if unsafe_char(c) && (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Text from a scanned image made safe for a CSV file, which often ends up
/// in a spreadsheet. Control characters (line breaks and tabs too) become
/// visible escapes as in [`terminal_safe`], and a cell a spreadsheet would
/// run as a formula (starting with `=`, `+`, `-` or `@`, per OWASP's advice
/// on CSV injection) gets a leading `'`. A plain number written as text
/// (`-1`, `+2.5`) is no formula and stays as it is.
pub fn csv_safe(s: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    let formula = s.starts_with(['=', '+', '-', '@']) && !is_plain_number(s);
    if !formula && !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    if formula {
        out.push('\'');
    }
    for c in s.chars() {
        match c {
            c if unsafe_char(c) && (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `-12`, `+3.5`: an optional sign, digits, at most one decimal point.
fn is_plain_number(s: &str) -> bool {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    !int.is_empty() && int.bytes().all(|b| b.is_ascii_digit()) && frac.bytes().all(|b| b.is_ascii_digit())
}

/// Widest a column is padded to. A wider cell is printed whole, unpadded,
/// and the others of its column are not padded to it: output stays linear
/// in the input (a 60 MB value padded into every row made 692 MB).
pub const MAX_PADDED_WIDTH: usize = 80;

/// Boxed columns, as osqueryi prints them. Needs every row before the first
/// line, to know the widths.
struct TableSink<'w> {
    out: &'w mut dyn Write,
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl RowSink for TableSink<'_> {
    fn begin(&mut self, columns: &[String]) -> io::Result<()> {
        self.columns = columns.to_vec();
        self.rows.clear();
        Ok(())
    }

    fn row(&mut self, cells: &[Cell]) -> io::Result<()> {
        self.rows.push(cells.iter().map(Cell::shown).collect());
        Ok(())
    }

    fn end(&mut self) -> io::Result<()> {
        if self.columns.is_empty() {
            return Ok(());
        }
        let width = |s: &str| unicode_width::UnicodeWidthStr::width(s);
        let mut widths: Vec<usize> = self.columns.iter().map(|c| width(c).min(MAX_PADDED_WIDTH)).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(cell).min(MAX_PADDED_WIDTH));
            }
        }
        let rule: String = widths.iter().map(|w| format!("+{}", "-".repeat(w + 2))).collect::<String>() + "+";
        let line = |cells: &[String]| -> String {
            let mut s = String::new();
            for (cell, w) in cells.iter().zip(&widths) {
                s.push_str("| ");
                s.push_str(cell);
                s.push_str(&" ".repeat(w.saturating_sub(width(cell)) + 1));
            }
            s.push('|');
            s
        };
        writeln!(self.out, "{rule}")?;
        writeln!(self.out, "{}", line(&self.columns))?;
        writeln!(self.out, "{rule}")?;
        for row in &self.rows {
            writeln!(self.out, "{}", line(row))?;
        }
        writeln!(self.out, "{rule}")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(format: Format) -> String {
        let mut buf = Vec::new();
        {
            let mut s = sink(format, &mut buf);
            s.begin(&["name".into(), "n".into()]).unwrap();
            s.row(&[Cell::Text("a\"b".into()), Cell::Integer(3)]).unwrap();
            s.row(&[Cell::Text("ü".into()), Cell::Null]).unwrap();
            s.end().unwrap();
            s.finish().unwrap();
        }
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn json_keeps_types() {
        let v: serde_json::Value = serde_json::from_str(&render(Format::Json)).unwrap();
        assert_eq!(v, serde_json::json!([{"name": "a\"b", "n": 3}, {"name": "ü", "n": null}]));
        let lines: Vec<serde_json::Value> =
            render(Format::Jsonl).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines[1], serde_json::json!({"name": "ü", "n": null}));
    }

    #[test]
    fn text_for_a_terminal_carries_no_control_characters() {
        let hostile = "ok\x1b]0;pwned\x07\x1b[2J\u{9b}31m\u{202e}gpj.exe\tx\ny";
        assert_eq!(terminal_safe(hostile), "ok\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u{202e}gpj.exe x y");
        assert!(matches!(terminal_safe("Kaspersky Lab ü 東京"), Cow::Borrowed(_)));
        for format in [Format::Table, Format::Line] {
            let mut buf = Vec::new();
            {
                let mut s = sink(format, &mut buf);
                s.begin(&["v".into()]).unwrap();
                s.row(&[Cell::Text(hostile.into())]).unwrap();
                s.end().unwrap();
                s.finish().unwrap();
                s.finish().unwrap();
            }
            let text = String::from_utf8(buf).unwrap();
            assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{format:?}: {text:?}");
            assert!(!text.contains('\u{202e}'), "{format:?}");
        }
        // Data formats keep the value as it is; their consumers escape it.
        let mut buf = Vec::new();
        {
            let mut s = sink(Format::Json, &mut buf);
            s.begin(&["v".into()]).unwrap();
            s.row(&[Cell::Text(hostile.into())]).unwrap();
            s.end().unwrap();
            s.finish().unwrap();
        }
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(v[0]["v"], hostile);
    }

    fn render_rows(format: Format, statements: &[(&[&str], Vec<Vec<Cell>>)]) -> String {
        let mut buf = Vec::new();
        {
            let mut s = sink(format, &mut buf);
            for (columns, rows) in statements {
                s.begin(&columns.iter().map(|c| c.to_string()).collect::<Vec<_>>()).unwrap();
                for r in rows {
                    s.row(r).unwrap();
                }
                s.end().unwrap();
            }
            s.finish().unwrap();
        }
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn csv_is_safe_for_terminals_and_spreadsheets() {
        let t = |s: &str| Cell::Text(s.into());
        let out = render_rows(
            Format::Csv,
            &[(
                &["v", "n"],
                vec![
                    vec![t("=HYPERLINK(\"http://x\")"), Cell::Integer(-5)],
                    vec![t("+1+cmd|' /C calc'!A0"), Cell::Real(-2.5)],
                    vec![t("-2+3"), t("-12")],
                    vec![t("@SUM(A1)"), t("+3.5")],
                    vec![t("\tx\ry"), t("\x1b]0;t\x07\0\u{9b}\u{202e}")],
                    vec![t("Kaspersky, Lab"), t("kesl")],
                ],
            )],
        );
        assert_eq!(
            out,
            "v,n\n\"'=HYPERLINK(\"\"http://x\"\")\",-5\n'+1+cmd|' /C calc'!A0,-2.5\n'-2+3,-12\n'@SUM(A1),+3.5\n\
             \\x09x\\x0dy,\\x1b]0;t\\x07\\x00\\x9b\\u{202e}\n\"Kaspersky, Lab\",kesl\n"
        );
        assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out:?}");
    }

    #[test]
    fn csv_takes_statements_of_different_widths() {
        let out = render_rows(
            Format::Csv,
            &[(&["a"], vec![vec![Cell::Integer(1)]]), (&["b", "c"], vec![vec![Cell::Integer(2), Cell::Integer(3)]])],
        );
        assert_eq!(out, "a\n1\nb,c\n2,3\n");
    }

    #[test]
    fn a_wide_cell_is_printed_whole_but_pads_nothing() {
        let wide = "x".repeat(100_000);
        let rows: Vec<Vec<Cell>> =
            (0..1000).map(|i| vec![Cell::Text(if i == 0 { wide.clone() } else { "y".into() })]).collect();
        let out = render_rows(Format::Table, &[(&["v"], rows)]);
        assert!(out.contains(&wide));
        // Each short row padded to at most MAX_PADDED_WIDTH, not to 100,000.
        assert!(out.len() < wide.len() + 1000 * (MAX_PADDED_WIDTH + 8) + 4 * (MAX_PADDED_WIDTH + 8), "{}", out.len());
        assert!(out.contains(&format!("| y{} |\n", " ".repeat(MAX_PADDED_WIDTH - 1))), "short cells still align");
    }

    #[test]
    fn text_formats() {
        assert_eq!(render(Format::Csv), "name,n\n\"a\"\"b\",3\nü,\n");
        assert_eq!(render(Format::Line), "name = a\"b\n   n = 3\n\nname = ü\n   n = \n");
        assert_eq!(
            render(Format::Table),
            "+------+---+\n| name | n |\n+------+---+\n| a\"b  | 3 |\n| ü    |   |\n+------+---+\n"
        );
    }
}
