"""Services injected by type: each cog registers its domain service once at setup."""

from __future__ import annotations

from typing import Any, TypeVar, cast

T = TypeVar("T")


class ServiceRegistry:
    def __init__(self) -> None:
        self._by_type: dict[type, Any] = {}

    def add(self, service: Any, as_type: type | None = None) -> None:
        key = as_type or type(service)
        if key in self._by_type:
            raise ValueError(f"service {key.__name__} registered twice")
        self._by_type[key] = service

    def get(self, cls: type[T]) -> T:
        try:
            return cast(T, self._by_type[cls])
        except KeyError:
            raise LookupError(f"no service {cls.__name__}; is its cog loaded?") from None

    def find(self, cls: type[T]) -> T | None:
        return cast("T | None", self._by_type.get(cls))
