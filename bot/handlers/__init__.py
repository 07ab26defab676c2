"""Routers, one per audience or concern. Order matters: commands first, the flow's catch-all
for typed answers after them, and the fallback for everything else last."""

from __future__ import annotations

from aiogram import Router

from bot.handlers import fallback, flow, menu, privacy, start


def get_routers() -> list[Router]:
    return [start.router(), menu.router(), privacy.router(), flow.router(), fallback.router()]
