"""`juragan`: run (long polling), chat (console), migrate."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from bot import logs
from bot.config import ConfigError, Settings, load_settings


def _migrate(settings: Settings) -> None:
    from storage.migrate import upgrade

    upgrade(settings.database_url)


async def _poll(settings: Settings) -> None:
    from bot.app import build_app, settle, start_scheduler

    app = build_app(settings)
    settle()
    scheduler = start_scheduler(app)
    try:
        await app.bot.delete_webhook(drop_pending_updates=False)
        await app.dp.start_polling(app.bot, handle_signals=True, close_bot_session=False)
    finally:
        scheduler.shutdown(wait=False)
        await app.close()


def _import(settings: Settings, path: str, what: str = "cooperatives") -> int:
    """Validate every row, then load all of them in one transaction, or none."""
    from storage.importers import parse_cooperatives, parse_trainings

    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"juragan: cannot read {path}: {exc}", file=sys.stderr)
        return 2
    rows, errors = (parse_trainings if what == "trainings" else parse_cooperatives)(text)
    if errors:
        for error in errors:
            print(f"{path}: {error}", file=sys.stderr)
        print(f"juragan: nothing loaded: {len(errors)} problem(s) in {path}", file=sys.stderr)
        return 1
    added, updated = asyncio.run(_load(settings, rows, what))
    print(f"juragan: {len(rows)} {what} loaded ({added} new, {updated} updated)")
    return 0


async def _load(
    settings: Settings, rows: list[dict[str, Any]], what: str = "cooperatives"
) -> tuple[int, int]:
    from storage.db import create_engine, create_sessionmaker
    from storage.importers import load_cooperatives, load_trainings

    load = load_trainings if what == "trainings" else load_cooperatives

    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            return await load(session, rows)
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="juragan", description="Pulang Juragan bot")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run on Telegram with long polling (needs BOT_TOKEN)")
    sub.add_parser("migrate", help="bring the database to the newest schema")
    chat = sub.add_parser("chat", help="talk to the bot in this terminal (no token needed)")
    chat.add_argument("--user", type=int, default=100001, help="be this Telegram user id")
    chat.add_argument(
        "--as", dest="role", choices=["admin", "staff", "coordinator"], help="take this role"
    )
    load = sub.add_parser("import", help="load a directory from a CSV file (all rows or none)")
    load.add_argument("what", choices=["cooperatives", "trainings"])
    load.add_argument("file", help="path of the CSV file")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        if args.command == "run":
            settings.require_token()
    except ConfigError as exc:
        print(f"juragan: {exc}", file=sys.stderr)
        return 2
    logs.setup(settings.log_level if args.command == "run" else "WARNING")
    try:
        _migrate(settings)
    except Exception as exc:  # e.g. the database server is down
        print(f"juragan: cannot open the database at DATABASE_URL: {exc}", file=sys.stderr)
        return 2
    if args.command == "migrate":
        print("juragan: database is up to date")
        return 0
    if args.command == "import":
        return _import(settings, args.file, args.what)
    if args.command == "chat":
        from bot.console import run_console

        asyncio.run(run_console(settings, user_id=args.user, role=args.role))
        return 0
    from bot.app import run_fast

    run_fast(_poll(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
