"""The AST rewrite of a learner's module, and the hooks the rewritten code calls.

Owns: inserting a scheduling point before every access chain that reads shared state
(attribute, subscript, or a global/nonlocal name that some function rebinds), between the
evaluation and the store of every assignment to shared state, splitting `x += v` on shared
state into a read, a point and a write, and a point at the top of every `while` body; mapping
`import threading` / `queue` / `time` / `_thread` / `multiprocessing` / `importlib` / `sys` /
`collections` / `concurrent.futures` (and `from ... import`) to the shims; the site tables (`places.SITES`,
`SITE_ATTR`); and the hooks (`point`, `access`, `store`, `point_value`), which are no-ops when
no exploration runs. Line numbers, module names and qualnames are unchanged. It must not
import the shims or install anything: `instrument` (the import hook) sits above it and above
`shims`.
"""

from __future__ import annotations

import ast
import threading
from typing import Any

from grader.explore import runtime
from grader.explore.places import SITES

# The standard modules an instrumented module gets a shim for (built in `grader.explore.shims`).
SHIMMED = ("threading", "queue", "time", "_thread", "importlib", "sys", "multiprocessing",
           "collections", "_threading_local", "concurrent", "concurrent.futures")

# Site id -> attribute name, for sites that read or write `name.attr` (the race detector's
# locations are (object, attribute) pairs).
SITE_ATTR: dict[int, str] = {}
_sites_lock = threading.Lock()

_MANAGED = runtime.MANAGED
_get_ident = threading.get_ident


def point(site: int) -> None:
    """The hook before a shared access: a no-op outside an exploration. Returns None."""
    if _MANAGED:
        mt = _MANAGED.get(_get_ident())
        if mt is not None:
            mt.sched.point(mt, site)


def access(site: int, obj: Any) -> Any:
    """The hook before reading `obj.attr...`: a point, then the access (for the race
    detector). Returns `obj`."""
    if _MANAGED:
        mt = _MANAGED.get(_get_ident())
        if mt is not None:
            sched = mt.sched
            attr = SITE_ATTR.get(site)
            # a read that may go on to mutate `obj.attr` in place: a write, for the reduction
            sched.point(mt, site, None if attr is None else (obj,))
            if attr is not None and sched.hb is not None:
                sched.hb.access(mt, obj, attr, False, site)
    return obj


def store(site: int, value: Any, obj: Any) -> Any:
    """The hook between computing `value` and storing it to `obj.attr`. Returns `value`."""
    if _MANAGED:
        mt = _MANAGED.get(_get_ident())
        if mt is not None:
            sched = mt.sched
            attr = SITE_ATTR.get(site)
            sched.storing = True
            try:
                sched.point(mt, site, None if attr is None else (obj,))
            finally:
                sched.storing = False
            if attr is not None and sched.hb is not None:
                sched.hb.access(mt, obj, attr, True, site)
    return value


def point_value(site: int, value: Any) -> Any:
    """The hook between computing a value and storing it to shared state."""
    if _MANAGED:
        mt = _MANAGED.get(_get_ident())
        if mt is not None:
            mt.sched.point(mt, site)
            mt.quiet = 0
    return value



_INPLACE = {
    ast.Add: "iadd", ast.Sub: "isub", ast.Mult: "imul", ast.Div: "itruediv",
    ast.FloorDiv: "ifloordiv", ast.Mod: "imod", ast.Pow: "ipow", ast.LShift: "ilshift",
    ast.RShift: "irshift", ast.BitOr: "ior", ast.BitXor: "ixor", ast.BitAnd: "iand",
    ast.MatMult: "imatmul",
}


def _declared(node: ast.AST, kind: type) -> set[str]:
    names: set[str] = set()
    for child in ast.walk(node):
        if isinstance(child, kind):
            names.update(child.names)  # type: ignore[attr-defined]
    return names


def _local_names(fn: ast.AST) -> set[str]:
    """Names bound in a function's own scope (parameters and stores, not nested scopes)."""
    names: set[str] = set()
    args = getattr(fn, "args", None)
    if args is not None:
        for a in args.posonlyargs + args.args + args.kwonlyargs:
            names.add(a.arg)
        if args.vararg:
            names.add(args.vararg.arg)
        if args.kwarg:
            names.add(args.kwarg.arg)
    stack = list(ast.iter_child_nodes(fn))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            continue
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
                             ast.GeneratorExp)):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        stack.extend(ast.iter_child_nodes(node))
    return names


class _Rewriter(ast.NodeTransformer):
    """Rewrites imports everywhere and inserts scheduling points inside functions."""

    def __init__(self, path: str, points: bool, tree: ast.Module) -> None:
        self.path = path
        self.points = points
        self.shared_globals = _declared(tree, ast.Global) | _declared(tree, ast.Nonlocal)
        self.scopes: list[tuple[set[str], set[str]]] = []  # (locals, global/nonlocal names)

    # -- sites and hooks ---------------------------------------------------------------------
    def site(self, node: ast.AST, operation: str) -> ast.Constant:
        with _sites_lock:
            SITES.append((self.path, getattr(node, "lineno", 0), operation))
            return ast.Constant(len(SITES) - 1)

    def hook_point(self, node: ast.AST, operation: str) -> ast.Call:
        return ast.Call(ast.Name("__grader_point__", ast.Load()), [self.site(node, operation)],
                        [])

    def before(self, node: ast.expr, operation: str) -> ast.expr:
        """`(point(site) or node)`: a point, then the original expression."""
        return ast.BoolOp(ast.Or(), [self.hook_point(node, operation), node])

    def value_hook(self, node: ast.AST, operation: str, value: ast.expr) -> ast.Call:
        return ast.Call(ast.Name("__grader_value__", ast.Load()),
                        [self.site(node, operation), value], [])

    @property
    def in_function(self) -> bool:
        return self.points and bool(self.scopes)

    def is_shared_name(self, name: str) -> bool:
        if not self.scopes:
            return False
        local, declared = self.scopes[-1]
        if name in declared:
            return True
        return name in self.shared_globals and name not in local

    # -- imports -----------------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> Any:
        out: list[ast.stmt] = []
        keep: list[ast.alias] = []
        for alias in node.names:
            top = alias.name.split(".")[0]
            if alias.name in SHIMMED and (alias.asname or "." not in alias.name):
                target = alias.asname or alias.name
                call = ast.Call(ast.Name("__grader_shim__", ast.Load()),
                                [ast.Constant(alias.name)], [])
                out.append(ast.Assign([ast.Name(target, ast.Store())], call))
            elif top in SHIMMED and alias.asname is None:
                # `import importlib.util` binds `importlib`: the package's shim, after the import
                keep.append(alias)
                call = ast.Call(ast.Name("__grader_shim__", ast.Load()), [ast.Constant(top)], [])
                out.append(ast.Assign([ast.Name(top, ast.Store())], call))
            else:
                keep.append(alias)
        if keep:
            out.insert(0, ast.Import(keep))  # before the shims: `import importlib.util` first
        for stmt in out:
            ast.copy_location(stmt, node)
            ast.fix_missing_locations(stmt)
        return out

    def visit_ImportFrom(self, node: ast.ImportFrom) -> Any:
        if node.level or node.module not in SHIMMED:
            return node
        if any(a.name == "*" for a in node.names):
            call = ast.Call(ast.Name("__grader_star__", ast.Load()),
                            [ast.Constant(node.module),
                             ast.Call(ast.Name("globals", ast.Load()), [], [])], [])
            stmt = ast.Expr(call)
            ast.copy_location(stmt, node)
            ast.fix_missing_locations(stmt)
            return stmt
        out = []
        for alias in node.names:
            call = ast.Call(ast.Name("__grader_shim__", ast.Load()), [ast.Constant(node.module)],
                            [])
            value = ast.Attribute(call, alias.name, ast.Load())
            stmt = ast.Assign([ast.Name(alias.asname or alias.name, ast.Store())], value)
            ast.copy_location(stmt, node)
            ast.fix_missing_locations(stmt)
            out.append(stmt)
        return out

    # -- scopes ------------------------------------------------------------------------------
    def visit_function(self, node: Any) -> Any:
        # Decorators, defaults and annotations run in the enclosing scope.
        node.decorator_list = [self.visit(d) for d in node.decorator_list]
        node.args = self.visit(node.args)
        if getattr(node, "returns", None) is not None:
            node.returns = self.visit(node.returns)
        declared = set()
        for stmt in ast.walk(node):
            if isinstance(stmt, (ast.Global, ast.Nonlocal)):
                declared.update(stmt.names)
        self.scopes.append((_local_names(node) - declared, declared))
        try:
            body = node.body if isinstance(node.body, list) else [node.body]
            new_body: list[Any] = []
            for stmt in body:
                result = self.visit(stmt)
                if isinstance(result, list):
                    new_body.extend(result)
                elif result is not None:
                    new_body.append(result)
            node.body = new_body
        finally:
            self.scopes.pop()
        return node

    visit_FunctionDef = visit_function
    visit_AsyncFunctionDef = visit_function

    def visit_Lambda(self, node: ast.Lambda) -> Any:
        node.args = self.visit(node.args)
        self.scopes.append((_local_names(node), set()))
        try:
            node.body = self.visit(node.body)
        finally:
            self.scopes.pop()
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> Any:
        # The class body runs once, at import; only its methods are instrumented.
        saved, self.scopes = self.scopes, []
        try:
            self.generic_visit(node)
        finally:
            self.scopes = saved
        return node

    # -- reads ---------------------------------------------------------------------------------
    def chain(self, node: ast.expr, verb: str) -> ast.expr:
        """Instrument a maximal attribute/subscript chain: one point before it."""
        inner = node
        while isinstance(inner, (ast.Attribute, ast.Subscript)):
            if isinstance(inner, ast.Subscript):
                inner.slice = self.visit(inner.slice)
            inner = inner.value
        text = _text(node)
        root = _root_holder(node)
        # The root (a Name, a call, ...) is visited normally, but a shared Name needs no
        # second point of its own.
        value = root.value
        if not (isinstance(value, ast.Name)):
            root.value = self.visit(value)
        return self.before_chain(node, f"{verb} {text}")

    def before_chain(self, node: ast.expr, operation: str) -> ast.expr:
        holder = _root_holder(node)
        site = self.site(node, operation)
        if isinstance(holder, ast.Attribute):
            SITE_ATTR[site.value] = holder.attr
        call = ast.Call(ast.Name("__grader_access__", ast.Load()), [site, holder.value], [])
        holder.value = ast.copy_location(call, holder.value)
        return node

    def store_hook(self, node: ast.AST, target: ast.expr, operation: str,
                   value: ast.expr) -> ast.expr:
        """The hook before a store: with the target object when it is `name.attr`."""
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            site = self.site(node, operation)
            SITE_ATTR[site.value] = target.attr
            return ast.Call(ast.Name("__grader_store__", ast.Load()),
                            [site, value, ast.Name(target.value.id, ast.Load())], [])
        return self.value_hook(node, operation, value)

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        if not self.in_function or not isinstance(node.ctx, ast.Load):
            return self.generic_visit(node)
        return self.chain(node, "read")

    def visit_Subscript(self, node: ast.Subscript) -> Any:
        if not self.in_function or not isinstance(node.ctx, ast.Load):
            return self.generic_visit(node)
        return self.chain(node, "read")

    def visit_Call(self, node: ast.Call) -> Any:
        if self.in_function and isinstance(node.func, (ast.Attribute, ast.Subscript)):
            node.func = self.chain(node.func, "call")
            node.args = [self.visit(a) for a in node.args]
            node.keywords = [self.visit(k) for k in node.keywords]
            return node
        return self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> Any:
        if (self.in_function and isinstance(node.ctx, ast.Load)
                and self.is_shared_name(node.id)):
            return ast.copy_location(self.before(node, f"read {node.id}"), node)
        return node

    # -- writes --------------------------------------------------------------------------------
    def shared_target(self, target: ast.expr) -> bool:
        if isinstance(target, (ast.Attribute, ast.Subscript)):
            return True
        if isinstance(target, ast.Name):
            return self.is_shared_name(target.id)
        if isinstance(target, (ast.Tuple, ast.List)):
            return any(self.shared_target(t) for t in target.elts)
        if isinstance(target, ast.Starred):
            return self.shared_target(target.value)
        return False

    def visit_Assign(self, node: ast.Assign) -> Any:
        node.value = self.visit(node.value)
        if self.in_function and any(self.shared_target(t) for t in node.targets):
            text = ", ".join(_text(t) for t in node.targets)
            node.value = self.store_hook(node, node.targets[0] if len(node.targets) == 1
                                         else node, f"write {text}", node.value)
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> Any:
        if node.value is not None:
            node.value = self.visit(node.value)
            if self.in_function and self.shared_target(node.target):
                node.value = self.store_hook(node, node.target, f"write {_text(node.target)}",
                                             node.value)
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        value = self.visit(node.value)
        if not self.in_function or not self.shared_target(node.target):
            node.value = value
            return node
        target = node.target
        text = _text(target)
        opname = _INPLACE[type(node.op)]
        if _simple(target):
            read = _as_load(target)
            if isinstance(read, ast.Name):
                read_expr: ast.expr = self.before(read, f"read {text}")
            else:
                read_expr = self.before_chain(read, f"read {text}")
            combined = ast.Call(ast.Attribute(ast.Name("__grader_op__", ast.Load()), opname,
                                              ast.Load()), [read_expr, value], [])
            new = ast.Assign([target], self.store_hook(node, target, f"write {text}", combined))
            ast.copy_location(new, node)
            ast.fix_missing_locations(new)
            return new
        # A target with side effects in it: keep it whole, with one point before it.
        node.value = value
        pre = ast.Expr(self.hook_point(node, f"update {text}"))
        ast.copy_location(pre, node)
        ast.fix_missing_locations(pre)
        return [pre, node]

    def visit_While(self, node: ast.While) -> Any:
        node = self.generic_visit(node)  # type: ignore[assignment]
        if self.in_function:
            spin = ast.Expr(self.hook_point(node, "loop"))
            ast.copy_location(spin, node.body[0] if node.body else node)
            ast.fix_missing_locations(spin)
            node.body.insert(0, spin)
        return node

    def visit_Delete(self, node: ast.Delete) -> Any:
        if self.in_function and any(self.shared_target(t) for t in node.targets):
            text = ", ".join(_text(t) for t in node.targets)
            pre = ast.Expr(self.hook_point(node, f"delete {text}"))
            ast.copy_location(pre, node)
            ast.fix_missing_locations(pre)
            return [pre, node]
        return node


def _root_holder(node: ast.expr) -> Any:
    """The innermost Attribute/Subscript of a chain (the one whose .value is the root)."""
    holder = node
    while isinstance(holder.value, (ast.Attribute, ast.Subscript)):  # type: ignore[attr-defined]
        holder = holder.value  # type: ignore[attr-defined]
    return holder


def _simple(target: ast.expr) -> bool:
    """A target safe to evaluate twice (names, attributes, constant/name subscripts)."""
    if isinstance(target, ast.Name):
        return True
    if isinstance(target, ast.Attribute):
        return _simple(target.value)
    if isinstance(target, ast.Subscript):
        return _simple(target.value) and isinstance(target.slice, (ast.Name, ast.Constant))
    return False


def _as_load(target: ast.expr) -> ast.expr:
    import copy

    node = copy.deepcopy(target)
    for child in ast.walk(node):
        if hasattr(child, "ctx"):
            child.ctx = ast.Load()  # type: ignore[attr-defined]
    return node


def _text(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # pragma: no cover - unparse handles every expression node
        return "?"
    return text if len(text) <= 60 else text[:57] + "..."


def rewrite(source: str | bytes, path: str, *, points: bool = True) -> ast.Module:
    """The instrumented AST of a module's source."""
    return rewrite_tree(ast.parse(source, filename=path), path, points=points)


def rewrite_tree(tree: ast.Module, path: str, *, points: bool = True) -> ast.Module:
    """`rewrite` for an AST already parsed (and perhaps cut down) from the file at `path`."""
    tree = _Rewriter(path, points, tree).visit(tree)
    ast.fix_missing_locations(tree)
    return tree
