"""The KUR loan journey: readiness check, simulator, bank visit."""

from __future__ import annotations

from flows.engine import Flow

FLOWS: tuple[Flow, ...] = ()
