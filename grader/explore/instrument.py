"""The import hook that makes a learner's modules explorable: rewritten at import.

Owns: the meta-path finder that rewrites only modules whose file lies under the installed
folders (the rewrite itself is `rewrite`), the namespace an instrumented module starts with
(`shims.hook_globals`: the hooks and an `__import__` that hands out the shims), and routing
the standard library's own locks to the models when it is installed. It must not change a
module already imported, and must not rewrite the grader's own files.

When no exploration runs, the inserted hooks return at once and the shims are the real
primitives, so the module behaves as uninstrumented; line numbers, module names and qualnames
are unchanged (functions and classes stay picklable). Nothing is written to `__pycache__`.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from grader.explore import places, shims
from grader.explore.rewrite import rewrite


class _Loader(importlib.machinery.SourceFileLoader):
    def get_code(self, fullname: str) -> Any:
        source = self.get_data(self.path)
        return self.source_to_code(source, self.path)

    def source_to_code(self, data: Any, path: Any, *, _optimize: int = -1) -> Any:
        tree = rewrite(data, path)
        return compile(tree, path, "exec", dont_inherit=True)

    def exec_module(self, module: ModuleType) -> None:
        module.__dict__.update(shims.hook_globals())
        places.LEARNER_FILES.add(os.path.abspath(self.path))
        super().exec_module(module)


class _Finder(importlib.abc.MetaPathFinder):
    def __init__(self) -> None:
        self.roots: list[str] = []

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: Any = None
                  ) -> Any:
        if not self.roots:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            return None
        origin = os.path.realpath(spec.origin)
        if origin.startswith(_GRADER_PACKAGE + os.sep):
            return None
        if not any(origin.startswith(root + os.sep) for root in self.roots):
            return None
        spec.loader = _Loader(fullname, spec.origin)
        return spec


_GRADER_PACKAGE = os.path.realpath(os.path.dirname(os.path.dirname(__file__)))
_finder = _Finder()


def install(paths: list[str]) -> None:
    """Instrument every module later imported from a file under one of `paths`.

    Idempotent, and safe to call before any import; a module already imported stays as it is.
    """
    for path in paths:
        root = os.path.realpath(os.fspath(path))
        if root not in _finder.roots:
            _finder.roots.append(root)
        if root not in places.ROOTS:
            places.ROOTS.append(root)
    shims.route_standard_library()
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)


def uninstall() -> None:
    """Stop instrumenting new imports (modules already imported keep their hooks)."""
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    _finder.roots.clear()


def instrument_source(source: str, path: str, module_name: str) -> ModuleType:
    """Build an instrumented module from source text (for tests and benchmarks)."""
    shims.route_standard_library()
    module = ModuleType(module_name)
    module.__file__ = path
    module.__dict__.update(shims.hook_globals())
    places.LEARNER_FILES.add(os.path.abspath(path))
    sys.modules[module_name] = module
    exec(compile(rewrite(source, path), path, "exec", dont_inherit=True), module.__dict__)
    return module
