"""Finding a cooperative and asking to join it."""

from __future__ import annotations

from flows.engine import Flow

FLOWS: tuple[Flow, ...] = ()
