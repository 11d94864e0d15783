from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..prefetch.templates import discovery_prefetch


@dataclass(frozen=True)
class CdsService:
    id: str
    hook: str
    title: str
    description: str
    usage_requirements: str
    evaluate: Callable[..., list[dict]]  # (parsed record, request body, engine, now) -> cards
    prefetch: Mapping[str, str] = field(default_factory=discovery_prefetch)

    def discovery_entry(self) -> dict:
        return {
            "hook": self.hook,
            "title": self.title,
            "description": self.description,
            "id": self.id,
            "prefetch": dict(self.prefetch),
            "usageRequirements": self.usage_requirements,
        }
