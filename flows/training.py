"""Training sessions: finding one, and coordinators adding or editing them."""

from __future__ import annotations

from flows.engine import Flow

FLOWS: tuple[Flow, ...] = ()
