"""Founding a cooperative with fellow returnees: the plan, the founders, the legal steps."""

from __future__ import annotations

from flows.engine import Flow

FLOWS: tuple[Flow, ...] = ()
