#!/usr/bin/env python3
"""An osqueryd stand-in for testing an osquery extension end to end.

It speaks osquery's extension protocol with the Thrift code that PyPI's
`osquery` package generated from osquery's IDL (an implementation
independent of the extension under test):

- it serves `ExtensionManager` on a UNIX socket with a threaded server,
  buffered transport and binary protocol, as osqueryd does;
- it spawns the extension as osqueryd's watcher does
  (`BIN [--verbose] --socket S --timeout T --interval I`, each value its own
  argv token, `OSQUERY_EXTENSION=<its pid>` in the environment) and applies
  osqueryd's registration rules;
- it calls the extension on a fresh connection per call, after a ping on
  another fresh connection, as osquery's `callExtension` does;
- it builds each `generate` context as osquery's `setRequestFromContext`
  does (every column in `constraints` with its affinity, `colsUsed`,
  `colsUsedBitset`) and casts the string rows by column type as osquery's
  `DynamicTableRow::get_column` does.

Two commands (JSON on stdout):

  manager.py calls --ext "BIN ARGS" --calls CALLS.json [--shutdown]
      CALLS is a list of {"table", "action", "where": [[col, op, expr]...],
      "cols": [names], "request": {raw map}}; each result has the status,
      the raw rows and the rows cast as osquery would.
  manager.py sql --ext BIN -f FILE [-f FILE...]
      runs SQL files in SQLite (apsw) with every extension table attached
      as osqueryd attaches it (see osquery_sql.py).
  manager.py bench --ext BIN -f FILE --peer "CMD" [--runs N] [--pause S]
      alternates the SQL in one session with a peer command; medians.

The extension's own arguments (--ext-args "--root ...") follow osqueryd's in argv.
"""

import argparse
import json
import logging
import os
import random
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time

from thrift.Thrift import TType
from thrift.protocol import TBinaryProtocol
from thrift.server import TServer
from thrift.transport import TSocket, TTransport

from osquery.extensions import Extension, ExtensionManager
from osquery.extensions.ttypes import ExtensionResponse, ExtensionStatus, InternalOptionInfo

# osquery's operator codes (osquery/core/tables.h), which are SQLite's
# SQLITE_INDEX_CONSTRAINT_* values.
OPS = {"=": 2, ">": 4, "<=": 8, "<": 16, ">=": 32, "MATCH": 64, "LIKE": 65, "GLOB": 66, "REGEXP": 67}

# ColumnOptions bits (osquery/core/sql/column.h).
INDEX, REQUIRED, ADDITIONAL, HIDDEN = 1, 2, 4, 16

COLUMN_TYPES = ("TEXT", "INTEGER", "BIGINT", "UNSIGNED BIGINT", "DOUBLE", "BLOB", "UNKNOWN")

# A few of osquery 5's built-in tables: an extension table of one of these
# names is refused as osqueryd refuses it (registration is atomic).
BUILTIN_TABLES = (
    "osquery_info", "osquery_extensions", "processes", "users", "deb_packages", "rpm_packages", "programs",
    "services", "systemd_units", "certificates", "apps", "chrome_extensions", "firefox_addons", "file",
    "hash", "os_version", "system_info", "kernel_modules", "homebrew_packages", "drivers", "registry",
)

MIN_SDK = (1, 7, 7)

# thrift logs every refused connection while a socket comes up.
logging.getLogger("thrift").setLevel(logging.CRITICAL)


def log(msg):
    print("manager: " + msg, file=sys.stderr, flush=True)


def version_at_least(version, minimum):
    """osquery's versionAtLeast: a version that is not dotted numbers passes."""
    try:
        parts = tuple(int(p) for p in version.split("-")[0].split("."))
    except ValueError:
        return True
    return parts >= minimum


class Manager(ExtensionManager.Iface):
    """The manager side of the protocol with osqueryd's registration rules."""

    def __init__(self, socket_path, builtins, refuse_first=0):
        self.socket_path = socket_path
        self.builtins = set(builtins)
        # Answer this many registrations "Duplicate extension registered", as
        # osqueryd does while a respawned extension's old registration lingers.
        self.refuse_first = refuse_first
        self.lock = threading.Condition()
        self.extensions_ = {}  # uuid -> InternalExtensionInfo
        self.registries = {}  # uuid -> registry
        self.registrations = []  # every attempt: (name, code, message)
        self.pings = 0

    # Extension service (the manager is one too).
    def ping(self):
        with self.lock:
            self.pings += 1
        return ExtensionStatus(code=0, message="pong")

    def call(self, registry, item, request):
        return ExtensionResponse(status=ExtensionStatus(code=1, message="Not implemented by the test manager"),
                                 response=[])

    def shutdown(self):
        pass

    # ExtensionManager service.
    def extensions(self):
        with self.lock:
            return dict(self.extensions_)

    def options(self):
        return {"extensions_socket": InternalOptionInfo(value=self.socket_path, default_value="", type="string"),
                "config_plugin": InternalOptionInfo(value="filesystem", default_value="filesystem", type="string"),
                "logger_plugin": InternalOptionInfo(value="filesystem", default_value="filesystem", type="string")}

    def registerExtension(self, info, registry):
        status = self._register(info, registry)
        with self.lock:
            self.registrations.append((info.name, status.code, status.message))
            self.lock.notify_all()
        return status

    def _register(self, info, registry):
        with self.lock:
            if self.refuse_first > 0:
                self.refuse_first -= 1
                return ExtensionStatus(code=1, message="Duplicate extension registered")
            if any(e.name == info.name for e in self.extensions_.values()):
                return ExtensionStatus(code=1, message="Duplicate extension registered")
        if not version_at_least(info.sdk_version or "", MIN_SDK):
            return ExtensionStatus(code=1, message="Incompatible extension SDK version")
        for reg, routes in (registry or {}).items():
            if reg not in ("table", "config", "logger", "distributed"):
                return ExtensionStatus(code=1, message="Failed adding registry: Unknown registry: " + reg)
            for item, route in routes.items():
                if not route:
                    return ExtensionStatus(code=1, message="Failed adding registry: Invalid route info")
                if reg == "table" and (item in self.builtins or self._taken(item)):
                    return ExtensionStatus(code=1, message="Failed adding registry: Registry item %s conflicts "
                                           "with another item of the same name." % item)
        with self.lock:
            uuid = random.randint(1, 65535)
            while uuid in self.extensions_:
                uuid = random.randint(1, 65535)
            self.extensions_[uuid] = info
            self.registries[uuid] = registry
        return ExtensionStatus(code=0, message="OK", uuid=uuid)

    def _taken(self, item):
        with self.lock:
            return any(item in r.get("table", {}) for r in self.registries.values())

    def deregisterExtension(self, uuid):
        with self.lock:
            if uuid not in self.extensions_:
                return ExtensionStatus(code=1, message="No extension UUID found")
            del self.extensions_[uuid]
            del self.registries[uuid]
        return ExtensionStatus(code=0, message="OK", uuid=uuid)

    def query(self, sql):
        return ExtensionResponse(status=ExtensionStatus(code=1, message="No SQL in the test manager"), response=[])

    def getQueryColumns(self, sql):
        return self.query(sql)


class TrackedServerSocket(TSocket.TServerSocket):
    """Remembers what it accepted, so that osqueryd dying can be played by
    closing every connection, not only the listening socket."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.accepted = []

    def accept(self):
        client = super().accept()
        if client is not None:
            self.accepted.append(client)
        return client

    def kill_all(self):
        self.close()
        for c in self.accepted:
            try:
                c.handle.shutdown(2)
            except (OSError, AttributeError):
                pass
            c.close()


def serve(handler, socket_path):
    """osqueryd's manager server: threaded, buffered, binary."""
    sock = TrackedServerSocket(unix_socket=socket_path)
    server = TServer.TThreadedServer(
        ExtensionManager.Processor(handler), sock,
        TTransport.TBufferedTransportFactory(), TBinaryProtocol.TBinaryProtocolFactory(), daemon=True)
    threading.Thread(target=server.serve, daemon=True).start()
    deadline = time.time() + 5
    while not os.path.exists(socket_path):
        if time.time() > deadline:
            raise RuntimeError("manager socket did not appear")
        time.sleep(0.005)
    return sock


def _fast_args(ttype, args):
    """A Thrift 0.10 type spec as today's fastbinary reads it: struct
    arguments as [class, spec] lists, all the way down."""
    if ttype == TType.STRUCT:
        cls, spec = args
        return [cls, _fast_spec(spec)]
    if ttype in (TType.LIST, TType.SET):
        etype, eargs = args[0], args[1]
        return (etype, _fast_args(etype, eargs)) + tuple(args[2:])
    if ttype == TType.MAP:
        ktype, kargs, vtype, vargs = args[:4]
        return (ktype, _fast_args(ktype, kargs), vtype, _fast_args(vtype, vargs)) + tuple(args[4:])
    return args


_SPECS = {}


def _fast_spec(spec):
    key = id(spec)
    if key not in _SPECS:
        _SPECS[key] = (spec, tuple(None if f is None else f[:3] + (_fast_args(f[1], f[3]),) + f[4:]
                                   for f in spec))
    return _SPECS[key][1]


class FastProtocol(TBinaryProtocol.TBinaryProtocolAccelerated):
    """Thrift's C binary codec (fastbinary), as osqueryd's is C++: the pure
    Python decoder would be most of a canned query's time. The package's
    code, generated by Thrift 0.10, hands the codec (class, spec) tuples
    where today's fastbinary wants lists."""

    def __init__(self, trans):
        super().__init__(trans)
        enc, dec = self._fast_encode, self._fast_decode
        if enc is not None:
            self._fast_encode = lambda obj, spec: enc(obj, _fast_args(TType.STRUCT, spec))
            self._fast_decode = lambda obj, prot, spec: dec(obj, prot, _fast_args(TType.STRUCT, spec))


class Connection:
    """One client connection to an extension, as osquery opens for each call."""

    def __init__(self, path, timeout_s=300):
        sock = TSocket.TSocket(unix_socket=path)
        sock.setTimeout(timeout_s * 1000)
        self.transport = TTransport.TBufferedTransport(sock)
        self.client = Extension.Client(FastProtocol(self.transport))
        self.transport.open()

    def __enter__(self):
        return self.client

    def __exit__(self, *exc):
        self.transport.close()


def build_context(columns, where, cols_used):
    """osquery's TablePlugin::setRequestFromContext for a table's columns.

    `columns` is [(name, type, op)] in declaration order; `where` is
    [(column, op code, expr)]; `cols_used` the names the query reads (None:
    every column)."""
    constraints = {name: {"list": [], "affinity": ctype} for name, ctype, _ in columns}
    for col, op, expr in where:
        constraints[col]["list"].append({"op": op, "expr": expr})
    used = [n for n, _, _ in columns] if cols_used is None else list(cols_used)
    bitset = 0
    for i, (name, _, _) in enumerate(columns):
        if name in used:
            bitset |= 1 << min(i, 63)
    # A std::map: constraints sorted by column name; rapidjson's compact writer.
    doc = {"constraints": [dict(name=n, **constraints[n]) for n in sorted(constraints)],
           "colsUsed": used, "colsUsedBitset": bitset}
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def _strtol(value, bits):
    """osquery's tryTo<long>(value, 0): strtol base 0 over the whole string."""
    s = value.lstrip(" \t\n\v\f\r")
    sign = 1
    if s[:1] in "+-" and s:
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if s[:2] in ("0x", "0X") and len(s) > 2:
        base, digits = 16, s[2:]
    elif s.startswith("0"):
        base, digits = 8, s
    else:
        base, digits = 10, s
    try:
        n = sign * int(digits, base) if digits and digits.isalnum() else None
    except ValueError:
        n = None
    if n is None or not -(1 << (bits - 1)) <= n < (1 << (bits - 1)):
        return None
    return n


def cast(value, ctype):
    """DynamicTableRow::get_column: a string from the extension as SQLite sees it."""
    if value is None:
        return None
    if ctype in ("TEXT", "BLOB"):
        return value
    if ctype == "INTEGER":
        n = _strtol(value, 64)
        if n is None:
            return None
        # sqlite3_result_int: the long goes through a C int.
        n &= 0xFFFFFFFF
        return n - (1 << 32) if n >= 1 << 31 else n
    if ctype in ("BIGINT", "UNSIGNED BIGINT"):
        return _strtol(value, 64)
    if ctype == "DOUBLE":
        # strtod: leading blanks are skipped, anything after the number fails.
        if value != value.rstrip() or "_" in value:
            return None
        try:
            return float(value)
        except ValueError:
            return None
    return None  # UNKNOWN: osquery logs an error and leaves the cell unset


class Session:
    """One spawned extension registered with this manager."""

    def __init__(self, ext_argv, ext_args=(), timeout=3, interval=1, verbose=True, wait=20,
                 builtins=BUILTIN_TABLES, refuse_first=0):
        self.dir = tempfile.mkdtemp(prefix="osq-")
        self.socket = os.path.join(self.dir, "osquery.em")
        self.handler = Manager(self.socket, builtins, refuse_first)
        self.server_socket = serve(self.handler, self.socket)
        self.interval = interval
        argv = list(ext_argv) + (["--verbose"] if verbose else []) + [
            "--socket", self.socket, "--timeout", str(timeout), "--interval", str(interval)] + list(ext_args)
        self.argv = argv
        self.stderr = open(os.path.join(self.dir, "extension.log"), "w+")
        def child_env():
            # osqueryd's launchExtension sets it in the forked child: the extension's own pid.
            os.environ["OSQUERY_EXTENSION"] = str(os.getpid())

        self.proc = subprocess.Popen(argv, preexec_fn=child_env, stdin=subprocess.DEVNULL, stdout=self.stderr,
                                     stderr=self.stderr)
        deadline = time.time() + wait
        with self.handler.lock:
            while not self.handler.extensions_:
                if self.proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("no registration (exit %s, registrations %r): %s" % (
                        self.proc.poll(), self.handler.registrations, self.log_text()))
                self.handler.lock.wait(0.05)
            self.uuid, self.info = next(iter(self.handler.extensions_.items()))
            self.registry = self.handler.registries[self.uuid]
        self.path = "%s.%d" % (self.socket, self.uuid)
        deadline = time.time() + max(timeout, 1)
        while not self._ping_ok():
            if time.time() > deadline:
                raise RuntimeError("extension socket %s does not answer" % self.path)
            time.sleep(0.02)

    def log_text(self):
        self.stderr.flush()
        self.stderr.seek(0)
        return self.stderr.read()[-4000:]

    def _ping_ok(self):
        try:
            with Connection(self.path, 10) as c:
                return c.ping().code == 0
        except Exception:
            return False

    def tables(self):
        """{table: [(name, type, op)]} from the registration broadcast."""
        out = {}
        for table, routes in self.registry.get("table", {}).items():
            out[table] = [(r["name"], r["type"], int(r.get("op", "0"))) for r in routes if r.get("id") == "column"]
        return out

    def call(self, table, request):
        """osquery's callExtension: a ping on its own connection, then the call."""
        with Connection(self.path, 10) as c:
            c.ping()
        with Connection(self.path) as c:
            return c.call("table", table, request)

    def generate(self, table, where=(), cols_used=None, columns=None):
        cols = columns or self.tables()[table]
        ctx = build_context(cols, where, cols_used)
        return ctx, self.call(table, {"action": "generate", "context": ctx})

    def shutdown(self, wait=5):
        """Extension.shutdown() as osqueryd sends it when it stops; the exit code or None."""
        try:
            with Connection(self.path, 5) as c:
                c.shutdown()
        except Exception as e:
            log("shutdown() raised %s" % e)
        try:
            return self.proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            return None

    def manager_gone(self):
        """osqueryd dies: every manager connection closes and its socket goes;
        the extension's exit code, or None if it is still running after
        3 intervals and 2 s (osquery's test_extension_dies)."""
        self.server_socket.kill_all()
        if os.path.exists(self.socket):
            os.unlink(self.socket)
        try:
            return self.proc.wait(timeout=3 * self.interval + 2)
        except subprocess.TimeoutExpired:
            return None

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()
        for f in os.listdir(self.dir):
            try:
                os.unlink(os.path.join(self.dir, f))
            except OSError:
                pass
        os.rmdir(self.dir)


def status_json(st):
    return None if st is None else {"code": st.code, "message": st.message, "uuid": st.uuid}


def parse_op(op):
    op = str(op)
    return OPS[op.upper()] if op.upper() in OPS else int(op)


def run_calls(session, calls):
    tables = session.tables()
    results = []
    for call in calls:
        table, action = call["table"], call.get("action", "generate")
        res = {"table": table, "action": action}
        if "request" in call:
            request = call["request"]
        elif action == "generate" and table in tables:
            where = [(c, parse_op(o), str(e)) for c, o, e in call.get("where", [])]
            res["context"] = build_context(tables[table], where, call.get("cols"))
            request = {"action": "generate", "context": res["context"]}
        else:
            request = {"action": action}
        try:
            resp = session.call(table, request)
        except Exception as e:
            res["exception"] = "%s: %s" % (type(e).__name__, e)
            results.append(res)
            continue
        res["status"] = status_json(resp.status)
        res["rows"] = resp.response
        if action == "columns" or request.get("action") == "columns":
            res["columns"] = [(r.get("name"), r.get("type"), r.get("op")) for r in resp.response or []
                              if r.get("id") == "column"]
        elif table in tables:
            types = {n: t for n, t, _ in tables[table]}
            res["typed"] = [{n: cast(row.get(n), t) for n, t in types.items()} for row in resp.response or []]
        results.append(res)
    return results


def bench(session, opts):
    """Alternates the SQL through this session with a peer command: medians in ms."""
    import statistics
    import osquery_sql
    db = osquery_sql.attach(session)
    sql = [open(p).read() for p in opts.file]
    ours, peer, rows = [], [], None
    for i in range(opts.runs + 1):  # the first round warms both up
        for which in ("ours", "peer"):
            if opts.pause:
                time.sleep(opts.pause)
            t0 = time.perf_counter()
            if which == "ours":
                rows = [osquery_sql.run(db, q) for q in sql]
            else:
                with open(os.devnull, "w") as null:
                    subprocess.run(shlex.split(opts.peer), stdout=null, check=True)
            dt = (time.perf_counter() - t0) * 1000
            if i:
                (ours if which == "ours" else peer).append(dt)
    med = statistics.median
    return {"runs": opts.runs, "harness_ms": med(ours), "peer_ms": med(peer), "ratio": med(ours) / med(peer),
            "harness_all_ms": ours, "peer_all_ms": peer, "rows": [len(r) for r in rows],
            "generate_calls_per_run": len(db.generate_calls) // (opts.runs + 1)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=("calls", "sql", "bench"))
    ap.add_argument("--ext", required=True, help="the extension's executable (an interpreter and script for "
                    "the SDK example); osqueryd's flags follow it")
    ap.add_argument("--ext-args", default="", help="the extension's own arguments, after osqueryd's flags")
    ap.add_argument("--calls", help="JSON file of calls (command calls)")
    ap.add_argument("-f", "--file", action="append", default=[], help="SQL file (command sql)")
    ap.add_argument("--timeout", type=int, default=3)
    ap.add_argument("--interval", type=int, default=1)
    ap.add_argument("--quiet-ext", action="store_true", help="do not pass --verbose")
    ap.add_argument("--refuse-first", type=int, default=0,
                    help="answer the first N registrations 'Duplicate extension registered'")
    ap.add_argument("--shutdown", action="store_true", help="end with Extension.shutdown() and report the exit")
    ap.add_argument("--manager-gone", action="store_true",
                    help="end by closing the manager (osqueryd dying) and report the exit")
    ap.add_argument("--peer", help="command bench alternates with the SQL (output to /dev/null)")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--pause", type=float, default=0.0,
                    help="seconds to wait before each run (past the extension's row cache: a cold run)")
    opts = ap.parse_args()

    session = Session(shlex.split(opts.ext), shlex.split(opts.ext_args), opts.timeout, opts.interval,
                      not opts.quiet_ext, refuse_first=opts.refuse_first)
    try:
        out = {"argv": session.argv, "uuid": session.uuid,
               "info": {"name": session.info.name, "version": session.info.version,
                        "sdk_version": session.info.sdk_version, "min_sdk_version": session.info.min_sdk_version},
               "registrations": session.handler.registrations,
               "broadcast": {t: [(n, ty, op) for n, ty, op in cols] for t, cols in session.tables().items()},
               "registry_names": sorted(session.registry)}
        if opts.command == "calls":
            with open(opts.calls) as f:
                out["results"] = run_calls(session, json.load(f))
        elif opts.command == "bench":
            out["bench"] = bench(session, opts)
        else:
            import osquery_sql
            db = osquery_sql.attach(session)
            out["sql"] = {}
            for path in opts.file:
                with open(path) as f:
                    out["sql"][path] = osquery_sql.run(db, f.read())
            out["generate_calls"] = db.generate_calls
        out["pings_from_extension"] = session.handler.pings
        if opts.shutdown:
            out["shutdown_exit"] = session.shutdown()
        elif opts.manager_gone:
            out["manager_gone_exit"] = session.manager_gone()
        out["extension_log"] = session.log_text()
    finally:
        session.close()
    json.dump(out, sys.stdout, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
