"""A static check that SQL text is never built from values: every value must travel as a parameter.

A small, flow-insensitive taint analysis over the AST of the given modules:

* Every expression gets a *taint*: the set of things its text may come from.  ``!`` means "outside data"
  (anything not provably a constant: user input, environment, database contents, unknown calls);
  ``p:<name>`` means "the function's parameter <name>".  String constants, module-level names assigned
  from constants (``REPORTS``, ``_HEAVY_SQL``), numbers (``int(…)``, ``len(…)``) and trusted helpers
  (:data:`TRUSTED`) are clean.
* A *sink* is the SQL text argument of ``.execute``/``.executemany``/``.sql``/``.query`` (DuckDB).  A
  function whose parameter reaches a sink is itself a sink for that parameter (``snap_query(sql, …)`` →
  ``_fetch(con, sql, …)`` → ``con.sql(sql)``), checked at its call sites.
* Violations: a sink's text tainted by ``!`` (directly, or through the arguments of a call of such a
  function), or a function whose parameter reaches SQL text, that nothing calls (so no call can be
  checked), unless the parameter's name says it carries SQL text (:data:`SQL_PARAMS`, ``*_sql``).  So
  ``con.execute(f"… WHERE unit = '{name}'")`` fails whether ``name`` comes from a widget, the database or
  the parameter of an uncalled function.

Subscripts take the taint of the container, not of the key: ``MEASURES[measure]`` picks one of a
constant table's SQL snippets (a wrong key raises KeyError, it cannot inject text).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

BAD = "!"
SINK_METHODS = {"execute", "executemany", "sql", "query"}
# Parameters whose purpose is to carry SQL text (their callers are checked instead).
SQL_PARAMS = {"sql", "query", "script", "stmt", "statement", "where", "key_filter", "clause", "cond"}
NUMERIC = {"int", "float", "len", "round", "bool", "abs", "hash", "id", "isinstance", "callable", "ord"}
PASS_THROUGH = {"str", "list", "tuple", "set", "frozenset", "sorted", "reversed", "dict", "min", "max", "sum",
                "enumerate", "zip", "range", "repr", "map", "filter", "any", "all", "next", "iter"}
# Calls whose result is trusted SQL text or data shipped with the code (reviewed):
TRUSTED = {
    "_sql_literal": "quotes a file path for ATTACH, which takes no parameters; the path comes from the "
                    "deployment's NIANBAO_DB setting, not from users",
    "s3_leaf_rows": "row keys from ingest/templates/keys.tsv (shipped with the code)",
    "key_infos": "key table from ingest/templates/keys.tsv (shipped with the code)",
    "template_keys": "keys from ingest/templates/keys.tsv (shipped with the code)",
    "template_ids": "template ids from ingest/templates/layout.toml (shipped with the code)",
    "keys_for": "keys from ingest/templates/keys.tsv (shipped with the code)",
    "s3_row_order": "row keys from ingest/templates/keys.tsv (shipped with the code)",
    "s3_group_rows": "row keys from ingest/templates/layout.toml (shipped with the code)",
    "s4_rows": "row keys from ingest/templates/layout.toml (shipped with the code)",
    "s3_columns": "column keys from ingest/templates/layout.toml (shipped with the code)",
    "s3_applicant_columns": "column keys from ingest/templates/layout.toml (shipped with the code)",
}
BUILTIN_NAMES = {"True", "False", "None", "__file__", "__name__"}
Taint = frozenset


@dataclass
class Func:
    module: str
    name: str
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Module
    params: list[str] = field(default_factory=list)
    is_method: bool = False
    env: dict[str, frozenset] = field(default_factory=dict)
    ret: frozenset | tuple = frozenset()
    sinks: set[str] = field(default_factory=set)       # parameters that reach SQL text


@dataclass
class Violation:
    file: str
    line: int
    call: str
    why: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.call}: {self.why}"


class Analysis:
    def __init__(self, sources: dict[str, str]) -> None:
        """``sources``: module name (e.g. ``dashboard.data.overview``) → source text."""
        self.trees = {m: ast.parse(src) for m, src in sources.items()}
        self.funcs: dict[tuple[str, str], Func] = {}
        self.imports: dict[str, dict[str, tuple[str, str | None]]] = {}   # module → local name → (module, name)
        for mod, tree in self.trees.items():
            self._collect(mod, tree)
        self.violations: list[Violation] = []

    # ------------------------------------------------------------ collection

    def _collect(self, mod: str, tree: ast.Module) -> None:
        imports: dict[str, tuple[str, str | None]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                for a in node.names:
                    full = f"{node.module}.{a.name}"
                    if full in self.trees:
                        imports[a.asname or a.name] = (full, None)          # a module
                    else:
                        imports[a.asname or a.name] = (node.module, a.name)
            elif isinstance(node, ast.Import):
                for a in node.names:
                    imports[a.asname or a.name.split(".")[0]] = (a.name, None)
        self.imports[mod] = imports
        self.funcs[(mod, "<module>")] = Func(mod, "<module>", tree)
        for node in tree.body:
            self._add_def(mod, node, in_class=False)
            if isinstance(node, ast.ClassDef):
                for sub in node.body:
                    self._add_def(mod, sub, in_class=True)

    def _add_def(self, mod: str, node: ast.AST, in_class: bool) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            a = node.args
            params = [p.arg for p in [*a.posonlyargs, *a.args, *a.kwonlyargs]]
            params += [p.arg for p in (a.vararg, a.kwarg) if p is not None]
            self.funcs[(mod, node.name)] = Func(mod, node.name, node, params, in_class)

    # ------------------------------------------------------------ resolution

    def _func_for_call(self, mod: str, func: ast.expr) -> Func | None:
        if isinstance(func, ast.Name):
            if (mod, func.id) in self.funcs:
                return self.funcs[(mod, func.id)]
            src = self.imports[mod].get(func.id)
            if src and src[1] is not None:
                return self.funcs.get((src[0], src[1]))
            return None
        if isinstance(func, ast.Attribute):
            if isinstance(func.value, ast.Name):
                src = self.imports[mod].get(func.value.id)
                if src and src[1] is None and src[0] in self.trees:
                    return self.funcs.get((src[0], func.attr))
                if func.value.id in ("self", "cls"):
                    return self.funcs.get((mod, func.attr))
            return None
        return None

    def _global(self, mod: str, name: str) -> frozenset | None:
        g = self.funcs[(mod, "<module>")].env
        if name in g:
            return g[name]
        if (mod, name) in self.funcs:
            return frozenset()                      # a function object
        src = self.imports[mod].get(name)
        if src is not None:
            m, n = src
            if n is None:
                return frozenset() if m in self.trees else frozenset({BAD})   # a module object
            if m in self.trees:
                return self._global(m, n) if m != mod else None
            return frozenset({BAD})
        return None

    # ------------------------------------------------------------ taint of an expression

    def taint(self, f: Func, e: ast.expr | None) -> frozenset:
        if e is None:
            return frozenset()
        t = self._taint(f, e)
        return t if isinstance(t, frozenset) else frozenset().union(*t) if t else frozenset()

    def _name(self, f: Func, name: str) -> frozenset:
        if name in f.env:
            return f.env[name]
        if name in f.params:
            return frozenset({f"p:{name}"})
        if name in BUILTIN_NAMES or name in NUMERIC or name in PASS_THROUGH:
            return frozenset()
        g = self._global(f.module, name)
        return g if g is not None else frozenset({BAD})

    def _taint(self, f: Func, e: ast.expr) -> frozenset | tuple:
        t = self.taint
        if isinstance(e, ast.Constant):
            return frozenset()
        if isinstance(e, ast.JoinedStr):
            return frozenset().union(*(t(f, v) for v in e.values))
        if isinstance(e, ast.FormattedValue):
            return t(f, e.value) | t(f, e.format_spec)
        if isinstance(e, ast.Name):
            return self._name(f, e.id)
        if isinstance(e, ast.Attribute):
            key = ast.unparse(e)
            if key in f.env:
                return f.env[key]
            if isinstance(e.value, ast.Name):
                src = self.imports[f.module].get(e.value.id)
                if src and src[1] is None and src[0] in self.trees:
                    g = self._global(src[0], e.attr)
                    return g if g is not None else frozenset({BAD})
            return t(f, e.value)
        if isinstance(e, ast.Subscript):
            return t(f, e.value)
        if isinstance(e, ast.Starred):
            return t(f, e.value)
        if isinstance(e, ast.BinOp):
            return t(f, e.left) | t(f, e.right)
        if isinstance(e, ast.UnaryOp):
            return t(f, e.operand)
        if isinstance(e, ast.BoolOp):
            return frozenset().union(*(t(f, v) for v in e.values))
        if isinstance(e, ast.Compare):
            return frozenset()
        if isinstance(e, ast.IfExp):
            return t(f, e.body) | t(f, e.orelse)
        if isinstance(e, ast.Tuple):
            return tuple(t(f, v) for v in e.elts)
        if isinstance(e, ast.List | ast.Set):
            return frozenset().union(*(t(f, v) for v in e.elts))
        if isinstance(e, ast.Dict):
            return frozenset().union(*(t(f, v) for v in [*e.keys, *e.values] if v is not None))
        if isinstance(e, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            for g in e.generators:
                self._bind(f, g.target, t(f, g.iter))
            if isinstance(e, ast.DictComp):
                return t(f, e.key) | t(f, e.value)
            return t(f, e.elt)
        if isinstance(e, ast.Lambda):
            return frozenset()
        if isinstance(e, ast.NamedExpr):
            v = t(f, e.value)
            self._bind(f, e.target, v)
            return v
        if isinstance(e, ast.Call):
            return self._call(f, e)
        if isinstance(e, ast.Await):
            return t(f, e.value)
        return frozenset({BAD})

    def _args(self, f: Func, call: ast.Call) -> frozenset:
        return frozenset().union(*(self.taint(f, a) for a in call.args),
                                 *(self.taint(f, k.value) for k in call.keywords))

    def _call(self, f: Func, call: ast.Call) -> frozenset | tuple:
        self._check_sink(f, call)
        fn = call.func
        if isinstance(fn, ast.Name):
            if fn.id in NUMERIC:
                return frozenset()
            if fn.id in TRUSTED:
                return frozenset()
            if fn.id in PASS_THROUGH:
                return self._args(f, call)
        elif isinstance(fn, ast.Attribute) and fn.attr in TRUSTED:
            return frozenset()
        target = self._func_for_call(f.module, fn)
        if target is not None:
            return self._apply(f, target, call, fn)
        if isinstance(fn, ast.Attribute):
            if fn.attr in SINK_METHODS or fn.attr.startswith("fetch"):
                return frozenset({BAD})             # rows from the database: outside data
            return self.taint(f, fn.value) | self._args(f, call)
        return frozenset({BAD})

    def _bound_args(self, f: Func, target: Func, call: ast.Call, fn: ast.expr) -> dict[str, frozenset]:
        params = target.params[1:] if target.is_method and isinstance(fn, ast.Attribute) else target.params
        out: dict[str, frozenset] = {}
        for p, a in zip(params, call.args, strict=False):
            out[p] = self.taint(f, a)
        for k in call.keywords:
            if k.arg is not None:
                out[k.arg] = self.taint(f, k.value)
        return out

    def _apply(self, f: Func, target: Func, call: ast.Call, fn: ast.expr) -> frozenset | tuple:
        bound = self._bound_args(f, target, call, fn)

        def subst(t: frozenset) -> frozenset:
            out = {x for x in t if not x.startswith("p:")}
            for x in t:
                if x.startswith("p:"):
                    out |= bound.get(x[2:], frozenset())      # a default value is a constant
            return frozenset(out)

        if isinstance(target.ret, tuple):
            return tuple(subst(x) for x in target.ret)
        return subst(target.ret)

    # ------------------------------------------------------------ sinks

    def _sink_text(self, f: Func, call: ast.Call) -> list[tuple[str, frozenset]]:
        """(what, taint) of the SQL text arguments of this call, if it is a sink."""
        fn = call.func
        out = []
        if isinstance(fn, ast.Attribute) and fn.attr in SINK_METHODS and self._func_for_call(f.module, fn) is None:
            arg = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "query"), None)
            if arg is not None:
                out.append((f".{fn.attr}()", self.taint(f, arg)))
        target = self._func_for_call(f.module, fn)
        if target is not None and target.sinks:
            bound = self._bound_args(f, target, call, fn)
            for p in sorted(target.sinks):
                if p in bound:
                    out.append((f"{target.name}({p}=…)", bound[p]))
        return out

    def _check_sink(self, f: Func, call: ast.Call) -> None:
        for _what, t in self._sink_text(f, call):
            for x in t:
                if x.startswith("p:"):
                    f.sinks.add(x[2:])

    def _report(self, file: str, f: Func, call: ast.Call) -> None:
        target = self._func_for_call(f.module, call.func)
        if target is not None:
            self.called.add((target.module, target.name))
        for what, t in self._sink_text(f, call):
            if BAD in t:
                self.violations.append(Violation(file, call.lineno, what,
                                                 "SQL text built from data from outside (not a constant)"))

    # ------------------------------------------------------------ statements

    def _bind(self, f: Func, target: ast.expr, value: frozenset | tuple) -> bool:
        changed = False
        if isinstance(target, ast.Tuple | ast.List):
            for i, el in enumerate(target.elts):
                part = value[i] if isinstance(value, tuple) and len(value) == len(target.elts) else (
                    frozenset().union(*value) if isinstance(value, tuple) else value)
                changed |= self._bind(f, el, part)
            return changed
        if isinstance(target, ast.Starred):
            return self._bind(f, target.value, value)
        if isinstance(value, tuple):
            value = frozenset().union(*value) if value else frozenset()
        if isinstance(target, ast.Name | ast.Attribute):
            key = target.id if isinstance(target, ast.Name) else ast.unparse(target)
        elif isinstance(target, ast.Subscript):      # d[k] = v: v flows into d
            return self._bind(f, target.value, value)
        else:
            return False
        old = f.env.get(key)
        new = value if old is None else old | value
        if new != old:
            f.env[key] = new
            changed = True
        return changed

    def _body(self, f: Func) -> list[ast.stmt]:
        return f.node.body

    def _walk(self, f: Func) -> bool:
        """One pass over a function's statements; True when anything changed."""
        before = (dict(f.env), f.ret, set(f.sinks))
        rets: list[frozenset | tuple] = []
        nested = set()
        for node in self._statements(f.node, nested):
            if isinstance(node, ast.Assign):
                v = self._taint(f, node.value)
                for tgt in node.targets:
                    self._bind(f, tgt, v)
            elif isinstance(node, ast.AugAssign | ast.AnnAssign) and node.value is not None:
                self._bind(f, node.target, self._taint(f, node.value))
            elif isinstance(node, ast.For | ast.AsyncFor):
                self._bind(f, node.target, self.taint(f, node.iter))
            elif isinstance(node, ast.With | ast.AsyncWith):
                for item in node.items:
                    v = self.taint(f, item.context_expr)
                    if item.optional_vars is not None:
                        self._bind(f, item.optional_vars, v)
            elif isinstance(node, ast.Return) and node.value is not None:
                rets.append(self._taint(f, node.value))
            elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                call = node.value
                if (isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name | ast.Attribute)
                        and call.func.attr in ("append", "extend", "add", "insert", "update", "appendleft")):
                    self._bind(f, call.func.value, self._args(f, call))
            for sub in ast.walk(node) if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else []:
                if isinstance(sub, ast.Call):
                    self._check_sink(f, sub)
        if rets:
            if all(isinstance(r, tuple) for r in rets) and len({len(r) for r in rets}) == 1:
                f.ret = tuple(frozenset().union(*(r[i] for r in rets)) for i in range(len(rets[0])))
            else:
                f.ret = frozenset().union(*(r if isinstance(r, frozenset) else frozenset().union(*r) for r in rets))
        return (dict(f.env), f.ret, set(f.sinks)) != before

    def _statements(self, node: ast.AST, nested: set) -> list[ast.AST]:
        """Every statement of a function body, nested blocks included, nested functions excluded."""
        out = []
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
                if node is not child and not isinstance(node, ast.Module):
                    nested.add(child)
                continue
            if isinstance(child, ast.stmt):
                out.append(child)
            out.extend(self._statements(child, nested))
        return out

    # ------------------------------------------------------------ run

    def _import_order(self) -> list[str]:
        """The analysed modules, each after the analysed modules it imports from (cycles: source order)."""
        order: list[str] = []
        seen: set[str] = set()

        def visit(mod: str) -> None:
            if mod in seen:
                return
            seen.add(mod)
            for src_mod, _ in self.imports[mod].values():
                if src_mod in self.trees:
                    visit(src_mod)
            order.append(mod)

        for mod in self.trees:
            visit(mod)
        return order

    def run(self, files: dict[str, str] | None = None) -> list[Violation]:
        """Fixpoint over every function and module body, then report the sinks.  ``files``: module → path."""
        # Module bodies first, each after the modules it imports from: a name imported from a module whose
        # body has not been walked yet would read as unknown (tainted), and taint never shrinks.
        bodies = [self.funcs[(m, "<module>")] for m in self._import_order()]
        funcs = bodies + [f for f in self.funcs.values() if f.name != "<module>"]
        for _ in range(50):
            changed = False
            for f in funcs:
                changed |= self._walk(f)
            if not changed:
                break
        else:
            raise RuntimeError("taint analysis did not converge")
        self.violations = []
        self.called: set[tuple[str, str]] = set()
        for f in funcs:
            nested: set = set()
            for node in self._statements(f.node, nested):
                for sub in ast.walk(node):
                    if isinstance(sub, ast.Call):
                        self._report((files or {}).get(f.module, f.module), f, sub)
            # nested functions and lambdas: analysed in the enclosing function's environment
            for inner in nested:
                for sub in ast.walk(inner):
                    if isinstance(sub, ast.Call):
                        self._report((files or {}).get(f.module, f.module), f, sub)
        # a parameter that reaches SQL text is checked at the calls; without any call, only an SQL-ish name
        # (SQL_PARAMS, *_sql) says it is meant to carry SQL text
        for f in funcs:
            if (f.module, f.name) in self.called:
                continue
            for p in sorted(f.sinks):
                if p not in SQL_PARAMS and not p.endswith("_sql"):
                    self.violations.append(Violation(
                        (files or {}).get(f.module, f.module), f.node.lineno, f"{f.name}({p}=…)",
                        f"parameter '{p}' reaches SQL text and no call of {f.name}() is checked"))
        seen = set()
        out = []
        for v in self.violations:
            if (v.file, v.line, v.call) not in seen:
                seen.add((v.file, v.line, v.call))
                out.append(v)
        return out


def check_files(root: Path, paths: list[Path]) -> list[Violation]:
    sources, files = {}, {}
    for p in paths:
        rel = p.relative_to(root)
        mod = ".".join(rel.with_suffix("").parts)
        sources[mod] = p.read_text(encoding="utf-8")
        files[mod] = str(rel)
    return Analysis(sources).run(files)


def check_source(source: str, module: str = "snippet", extra: dict[str, str] | None = None) -> list[Violation]:
    return Analysis({module: source, **(extra or {})}).run()
