from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..prefetch.templates import TEMPLATES, PrefetchTemplate


@dataclass(frozen=True)
class CdsService:
    id: str
    hook: str
    title: str
    description: str
    usage_requirements: str
    evaluate: Callable[..., list]  # (the patient's record, the clinical engine) -> issued cards
    # What the service reads: advertised in discovery, and what resolution checks prefetch against and fetches.
    prefetch: tuple[PrefetchTemplate, ...] = TEMPLATES

    def discovery_entry(self) -> dict:
        return {
            "hook": self.hook,
            "title": self.title,
            "description": self.description,
            "id": self.id,
            "prefetch": {template.key: template.query for template in self.prefetch},
            "usageRequirements": self.usage_requirements,
        }
