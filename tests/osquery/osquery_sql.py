"""osqueryd's SQL side for an extension's tables, in SQLite through apsw.

Each table the extension registered is attached as osqueryd attaches it
(`CREATE VIRTUAL TABLE temp.NAME USING NAME(...)`, columns from the
registration broadcast), and its virtual-table callbacks follow osquery's
osquery/sql/virtual_table.cpp:

- xBestIndex: a usable constraint on a REQUIRED, INDEX or ADDITIONAL column
  (with --extensions_default_index, osquery's default, every extension
  column whose op is 0 counts as INDEX) is passed to xFilter, except a
  range comparison on a TEXT column; an `=` that is an IN is taken whole
  (sqlite3_vtab_in), so its values arrive as several op-2 entries; the
  columns the query reads become colsUsed / colsUsedBitset; a query that
  reads a required column without constraining it costs the maximum, and
  fails with SQLITE_CONSTRAINT in xFilter;
- xFilter: each value is turned to text as sqlite3_value_text does (a NULL
  or "" value is dropped), the context JSON is built and `generate` is
  called over the socket; a non-zero status fails the statement with its
  message;
- xColumn: values are cast by column type (manager.cast).

osquery's SQL functions the canned queries may use are registered with
osquery's semantics (osquery/sql/sqlite_string.cpp, sqlite_version.cpp).
"""

import re

import apsw

import manager

MAX_COST = 1000000.0
RANGE_OPS = (4, 8, 16, 32)
SQLITE_EQ = 2


def sqlite_text(v):
    """sqlite3_value_text of a Python value from SQLite."""
    if v is None:
        return None
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        # SQLite's "%!.15g": 15 significant digits, always a decimal point.
        r = "%.15g" % v
        if r.lstrip("-").isdigit():
            r += ".0"
        elif "e" in r and "." not in r:
            r = r.replace("e", ".0e")
        return r
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return str(v)


class Table:
    def __init__(self, db, name, columns):
        self.db = db
        self.name = name
        # osquery's --extensions_default_index: op 0 becomes INDEX.
        self.columns = [(n, t, op if op else manager.INDEX) for n, t, op in columns]
        self.plans = {}

    def BestIndexObject(self, info):
        constraints = []
        cost = MAX_COST
        has_required_constraint = False
        argv = 0
        for i in range(info.nConstraint):
            if not info.get_aConstraint_usable(i):
                continue
            col = info.get_aConstraint_iColumn(i)
            if col < 0 or col >= len(self.columns):
                continue
            name, ctype, opts = self.columns[col]
            op = info.get_aConstraint_op(i)
            if ctype == "TEXT" and op in RANGE_OPS:
                cost += 10
                continue
            if opts & manager.REQUIRED:
                has_required_constraint = True
                cost = 1
            elif opts & (manager.INDEX | manager.ADDITIONAL):
                cost = 1
            else:
                continue
            argv += 1
            info.set_aConstraintUsage_argvIndex(i, argv)
            if op == SQLITE_EQ and info.get_aConstraintUsage_in(i):
                info.set_aConstraintUsage_in(i, True)
            constraints.append((name, op))
        used = sorted(c for c in info.colUsed if 0 <= c < len(self.columns)) if info.colUsed else []
        cols_used = [self.columns[c][0] for c in used]
        if any(self.columns[c][2] & manager.REQUIRED for c in used) and not has_required_constraint:
            cost = MAX_COST
        idx = self.db.next_index()
        self.plans[idx] = (constraints, cols_used)
        info.idxNum = idx
        info.estimatedCost = cost
        return True

    def Open(self):
        return Cursor(self)

    def Disconnect(self):
        pass

    Destroy = Disconnect


class Cursor:
    def __init__(self, table):
        self.table = table
        self.rows = []
        self.i = 0

    def Filter(self, idx, idxstr, args):
        t = self.table
        constraints, cols_used = t.plans.get(idx, ([], [n for n, _, _ in t.columns]))
        where = []
        for (name, op), value in zip(constraints, args):
            values = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else [value]
            for v in values:
                text = sqlite_text(v)
                if text is None or text == "":
                    continue  # "SQLite did not expose the expression value"
                where.append((name, op, text))
        required = [n for n, _, o in t.columns if o & manager.REQUIRED]
        if required and not any(n in required for n, _ in constraints):
            raise apsw.ConstraintError("%s: a required column has no constraint" % t.name)
        ctx, resp = t.db.session.generate(t.name, where, cols_used, t.columns)
        t.db.generate_calls.append({"table": t.name, "context": ctx})
        if resp.status is not None and resp.status.code not in (None, 0):
            raise apsw.SQLError(resp.status.message or "Extension call failed")
        # Cast when SQLite asks for a cell, as osquery's xColumn does
        # (DynamicTableRow::get_column), not every cell of every row up front.
        self.types = [(n, ty) for n, ty, _ in t.columns]
        self.rows = resp.response or []
        self.i = 0

    def Eof(self):
        return self.i >= len(self.rows)

    def Rowid(self):
        return self.i

    def Column(self, n):
        if n == -1:
            return self.i
        name, ctype = self.types[n]
        return manager.cast(self.rows[self.i].get(name), ctype)

    def Next(self):
        self.i += 1

    def Close(self):
        self.rows = []


class Module:
    def __init__(self, db, name, columns):
        self.db, self.name, self.columns = db, name, columns

    def Create(self, connection, modulename, databasename, tablename, *args):
        t = Table(self.db, self.name, self.columns)
        cols = ", ".join('"%s" %s%s' % (n, ty, " HIDDEN" if op & manager.HIDDEN else "")
                         for n, ty, op in self.columns)
        return "CREATE TABLE x(%s)" % cols, t

    Connect = Create


class Db:
    def __init__(self, session):
        self.session = session
        self.conn = apsw.Connection(":memory:")
        self.generate_calls = []
        self._idx = 0

    def next_index(self):
        self._idx += 1
        return self._idx


def attach(session):
    db = Db(session)
    register_functions(db.conn)
    for name, columns in session.tables().items():
        db.conn.create_module(name, Module(db, name, columns), use_bestindex_object=True)
        db.conn.execute('CREATE VIRTUAL TABLE temp."%s" USING "%s"' % (name, name))
    return db


def run(db, sql):
    """Rows of the last statement of `sql` as lists of column name -> value."""
    rows = []
    cur = db.conn.cursor()
    for stmt_rows in [cur.execute(sql)]:
        for row in stmt_rows:
            names = [d[0] for d in cur.getdescription()]
            rows.append(dict(zip(names, row)))
    return rows


# --- osquery's SQL functions ------------------------------------------------

REGEX_MAX = 256  # --regex_max_size


def _text(v):
    return sqlite_text(v)


def _compile(pattern):
    if len(pattern.encode()) > REGEX_MAX:
        raise apsw.SQLError("Invalid regex: too big, max size is %d bytes" % REGEX_MAX)
    try:
        # std::regex's ECMAScript grammar: `$` is the end of the input only.
        return re.compile(re.sub(r"(?<!\\)\$$", r"\\Z", pattern))
    except re.error:
        raise apsw.SQLError("Invalid regex")


_regex_cache = {}


def regex_match(value, pattern, index):
    if value is None or pattern is None or index is None:
        return None
    pattern = _text(pattern)
    rx = _regex_cache.get(pattern)
    if rx is None:
        rx = _regex_cache[pattern] = _compile(pattern)
    m = rx.search(_text(value))
    index = int(index) & 0xFFFFFFFFFFFFFFFF  # static_cast<size_t>(int)
    if m is None or index > (rx.groups):
        return None
    g = m.group(index)
    return "" if g is None else g  # an unmatched group is an empty sub_match


def split(value, tokens, index):
    """osquery::split: split at any token character, drop empty pieces, trim."""
    if value is None or tokens is None or index is None:
        return None
    value, tokens = _text(value), _text(tokens)
    if tokens == "":
        raise apsw.SQLError("Invalid input to split function")
    pieces = [p for p in re.split("[" + re.escape(tokens) + "]", value) if p]
    pieces = [p.strip(" \t\n\v\f\r") for p in pieces]
    index = int(index) & 0xFFFFFFFFFFFFFFFF
    return pieces[index] if index < len(pieces) else None


def regex_split(value, pattern, index):
    if value is None or pattern is None or index is None:
        return None
    pieces = _compile(_text(pattern)).split(_text(value))
    index = int(index) & 0xFFFFFFFFFFFFFFFF
    return pieces[index] if index < len(pieces) else None


def _concat(sep, args):
    if not args:
        return None
    out = []
    for i, a in enumerate(args):
        if a is None:
            continue
        out.append(_text(a))
        # osquery appends the separator after every non-NULL argument but the last.
        if sep and i + 1 < len(args):
            out.append(sep)
    return "".join(out)


def concat(*args):
    return _concat("", list(args))


def concat_ws(*args):
    if not args:
        raise apsw.SQLError("Missing separator to concat_ws")
    sep = _text(args[0]) if args[0] is not None else ""
    return _concat(sep, list(args[1:]))


def _delim(c):
    return {"~": 1, "-": 2, "^": 3, ".": 4, ":": 5}.get(c, 0)


def version_cmp(l, r, epoch=False, delim_precedence=False, comp_remaining=False, remainder_precedence=False):
    """osquery's versionCompare (sqlite_version.cpp), on bytes."""
    l, r = l.encode(), r.encode()
    if not l and not r:
        return 0
    if not l:
        return -1
    if not r:
        return 1
    if l == r:
        return 0
    if epoch:
        le, re_ = l.find(b":"), r.find(b":")
        if le >= 0 and re_ >= 0:
            if le != re_:
                return le - re_
        elif le >= 0:
            return 1
        elif re_ >= 0:
            return -1
    first = 0
    n = min(len(l), len(r))
    for i in range(n):
        ld, rd = _delim(chr(l[i])), _delim(chr(r[i]))
        if ld == 0 and rd == 0:
            first = first or (l[i] - r[i])
            continue
        if ld == 0:
            return 1
        if rd == 0:
            return -1
        if first:
            return first
        if delim_precedence and ld != rd:
            return ld - rd
    if len(l) == len(r):
        return first
    if comp_remaining:
        digit = lambda b: 48 <= b <= 57
        if len(l) == n:
            c = chr(r[n])
            if c == "~":
                return 1
            if c == "-":
                return 0
            if c == "^":
                return -1
            if first and (not remainder_precedence or not digit(l[n - 1])):
                return first
        if len(r) == n:
            c = chr(l[n])
            if c == "~":
                return -1
            if c == "-":
                return 0
            if c == "^":
                return 1
            if first and (not remainder_precedence or not digit(r[n - 1])):
                return first
    return len(l) - len(r)


def version_compare(*args):
    """version_compare(left, right[, flavor]): -1, 0 or 1, as osquery's master and every release since
    5.11.0 define it (osquery/sql/sqlite_version.cpp; docs/wiki/introduction/sql.md). Flavor ARCH, DPKG or
    RHEL, in any case, sets the same switches as the collations; arguments after the third are ignored."""
    if len(args) < 2 or not all(isinstance(a, str) for a in args[:2]):
        raise apsw.SQLError("Must provide two version strings to compare.")
    flags = (False, False, False, False)
    if len(args) > 2:
        if not isinstance(args[2], str):
            raise apsw.SQLError("The optional third parameter is not a string.")
        flavors = {"ARCH": (True, False, True, True), "DPKG": (True, True, False, False),
                   "RHEL": (True, True, True, False)}
        if args[2].upper() not in flavors:
            raise apsw.SQLError("The optional third parameter does not match one of: (ARCH, DPKG, RHEL).")
        flags = flavors[args[2].upper()]
    rc = version_cmp(args[0], args[1], *flags)
    return (rc > 0) - (rc < 0)


def register_functions(conn):
    conn.create_scalar_function("regex_match", regex_match, 3, deterministic=True)
    conn.create_scalar_function("split", split, 3, deterministic=True)
    conn.create_scalar_function("regex_split", regex_split, 3, deterministic=True)
    conn.create_scalar_function("concat", concat, -1, deterministic=True)
    conn.create_scalar_function("concat_ws", concat_ws, -1, deterministic=True)
    conn.create_scalar_function("version_compare", version_compare, -1, deterministic=True)
    conn.create_collation("version", lambda a, b: version_cmp(a, b))
    conn.create_collation("version_arch", lambda a, b: version_cmp(a, b, True, False, True, True))
    conn.create_collation("version_dpkg", lambda a, b: version_cmp(a, b, True, True, False, False))
    conn.create_collation("version_rhel", lambda a, b: version_cmp(a, b, True, True, True, False))
