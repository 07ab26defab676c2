"""`juragan`: run (long polling), webhook (production), chat (console), migrate, import, role."""

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
    from bot.app import build_app, settle, start_scheduler, stop
    from bot.polling import poll

    app = build_app(settings)
    settle()
    status = None
    if settings.status_port:
        from bot.web import serve_status

        status = await serve_status(app, settings.webhook_host, settings.status_port)
    scheduler = start_scheduler(app)
    try:
        await app.bot.delete_webhook(drop_pending_updates=False)
        await poll(app.dp, app.bot)
    finally:
        if status is not None:
            await status.cleanup()
        await stop(app, scheduler)


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


def _role(settings: Settings, telegram_id: int, role: str, regions: str | None) -> int:
    """Give someone who has started the bot a role, optionally scoped to regions; audited."""
    from flows import regions as places

    codes = [c.strip() for c in (regions or "").split(",") if c.strip()] or None
    for code in codes or []:
        if places.get(code) is None:
            print(f"juragan: unknown region code {code!r} (e.g. 35 or 35.78)", file=sys.stderr)
            return 2
    found = asyncio.run(_set_role(settings, telegram_id, role, codes))
    if not found:
        print(
            f"juragan: nobody with Telegram id {telegram_id} has started the bot yet",
            file=sys.stderr,
        )
        return 1
    scope = ", ".join(codes) if codes else "everywhere"
    print(f"juragan: {telegram_id} is now {role} ({scope})")
    return 0


async def _set_role(
    settings: Settings, telegram_id: int, role: str, codes: list[str] | None
) -> bool:
    from storage import broadcasts, repo
    from storage.db import create_engine, create_sessionmaker

    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            person = await repo.person_by_telegram_id(session, telegram_id=telegram_id)
            if person is None:
                return False
            await repo.set_role(session, person_id=person.id, role=role, regions=codes)
            await broadcasts.audit(
                session,
                actor_id=None,
                action="role.set",
                subject=f"person:{person.id}",
                details={"role": role, "regions": codes, "by": "command line"},
            )
            return True
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="juragan", description="Pulang Juragan bot")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run on Telegram with long polling (needs BOT_TOKEN)")
    sub.add_parser(
        "webhook",
        help="serve Telegram's webhook, /healthz and /metrics (needs BOT_TOKEN, WEBHOOK_URL, "
        "WEBHOOK_SECRET)",
    )
    sub.add_parser("migrate", help="bring the database to the newest schema")
    chat = sub.add_parser("chat", help="talk to the bot in this terminal (no token needed)")
    chat.add_argument("--user", type=int, default=100001, help="be this Telegram user id")
    chat.add_argument(
        "--as", dest="role", choices=["admin", "staff", "coordinator"], help="take this role"
    )
    load = sub.add_parser("import", help="load a directory from a CSV file (all rows or none)")
    load.add_argument("what", choices=["cooperatives", "trainings"])
    load.add_argument("file", help="path of the CSV file")
    grant = sub.add_parser("role", help="give someone a role (they must have started the bot)")
    grant.add_argument("telegram_id", type=int)
    grant.add_argument("role", choices=["returnee", "coordinator", "staff", "admin"])
    grant.add_argument(
        "--regions", help="only these regions, comma-separated codes like 35.78,35.73"
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        if args.command in ("run", "webhook"):
            settings.require_token()
        if args.command == "webhook":
            settings.require_webhook()
    except ConfigError as exc:
        print(f"juragan: {exc}", file=sys.stderr)
        return 2
    serving = args.command in ("run", "webhook")
    logs.setup(settings.log_level if serving else "WARNING", settings.log_format)
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
    if args.command == "role":
        return _role(settings, args.telegram_id, args.role, args.regions)
    if args.command == "chat":
        from bot.console import run_console

        asyncio.run(run_console(settings, user_id=args.user, role=args.role))
        return 0
    from bot.app import run_fast

    if args.command == "webhook":
        from bot.web import serve

        try:
            run_fast(serve(settings))
        except OSError as exc:  # e.g. the port is taken
            print(
                f"juragan: cannot serve on {settings.webhook_host}:{settings.webhook_port}: {exc}",
                file=sys.stderr,
            )
            return 2
        return 0
    run_fast(_poll(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
