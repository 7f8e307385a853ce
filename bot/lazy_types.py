"""aiogram's Telegram types get their pydantic validators when first used, not all at import.

``aiogram.types`` ends its import by calling ``model_rebuild()`` on each of its ~400 types
(declared ``defer_build=True``), which builds every validator and serializer at once, each
with its own copy of every type it reaches: about 105 MB of the 167 MB of a bare aiogram bot,
for types a reporter's bot never sees (payments, stickers, business accounts, rich text...).

``defer()``, run before the first import of aiogram (``bot/__init__.py``; it installs an import
hook, importing nothing), lets that loop only record the names it resolves forward references with (the ``if TYPE_CHECKING:`` imports of
each type's module), puts them into the types' modules, and leaves each type's schema to
pydantic's own deferred build: the first validation of an ``Update``, a ``Message``... builds
what it needs (a few MB for the types Kua uses; ``warm_up()`` builds those at start). The
schemas are the same ones; only when they are built differs (tests/test_memory.py).
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any

_PREFIX = "aiogram.types."


def defer() -> bool:
    """Have the first import of aiogram defer its types' schemas (nothing is imported now: the
    quick health check never loads aiogram). False when aiogram was imported already."""
    if "aiogram" in sys.modules:
        return False
    if not any(isinstance(finder, _AiogramFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AiogramFinder())
    return True


class _AiogramFinder(importlib.abc.MetaPathFinder):
    """Finds aiogram as usual, once, and has its loader run the import deferring schemas."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "aiogram":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _DeferringLoader(spec.loader)
        return spec


class _DeferringLoader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def __getattr__(self, name: str) -> Any:  # get_resource_reader, is_package...
        return getattr(self._loader, name)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        with _rebuilds_recorded() as namespace:
            self._loader.exec_module(module)
        # Each type's forward references resolve in its own module, as in aiogram's namespace.
        for name, types_module in list(sys.modules.items()):
            if name.startswith(_PREFIX) and types_module is not None:
                for key, value in namespace.items():
                    types_module.__dict__.setdefault(key, value)
        # A method's schema, built before the types were complete (aiogram.methods imports
        # them first), may have met a forward reference and been left to pydantic's rebuild on
        # first use: the names are there now.


@contextlib.contextmanager
def _rebuilds_recorded() -> Iterator[dict[str, Any]]:
    """While aiogram imports: its types' model_rebuild(_types_namespace=...) only records."""
    from pydantic import BaseModel

    original = BaseModel.__dict__["model_rebuild"]
    rebuild = original.__func__
    namespace: dict[str, Any] = {}

    def model_rebuild(
        cls: type[BaseModel],
        *,
        force: bool = False,
        raise_errors: bool = True,
        _parent_namespace_depth: int = 2,
        _types_namespace: Any = None,
    ) -> bool | None:
        if _types_namespace is not None and not force and cls.__module__.startswith(_PREFIX):
            namespace.update(_types_namespace)  # aiogram.types' loop: the same names each time
            return None
        depth = _parent_namespace_depth + 1 if _parent_namespace_depth > 0 else 0  # this frame
        result: bool | None = rebuild(
            cls,
            force=force,
            raise_errors=raise_errors,
            _parent_namespace_depth=depth,
            _types_namespace=_types_namespace,
        )
        return result

    BaseModel.model_rebuild = classmethod(model_rebuild)  # type: ignore[assignment,method-assign]
    try:
        yield namespace
    finally:
        BaseModel.model_rebuild = original  # type: ignore[method-assign]


def warm_up() -> None:
    """Build the schemas every update needs now, not while the first reporter waits."""
    from aiogram.methods import AnswerCallbackQuery, EditMessageText, GetUpdates, SendMessage
    from aiogram.methods.base import Response
    from aiogram.types import Message, Update

    for model in (Update, Message, SendMessage, EditMessageText, AnswerCallbackQuery, GetUpdates):
        model.model_rebuild()
    Response[list[Update]].model_rebuild()
    Response[Message].model_rebuild()
