"""`juragan`: run (long polling), webhook (production), desk (the staff desk), chat (console),
migrate, import, role, desk-link (the demo's), content check."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Iterable
from typing import Any

from bot import logs
from bot.config import INT64_MAX, ConfigError, Settings, load_settings


def _migrate(settings: Settings) -> None:
    from storage.migrate import upgrade

    upgrade(settings.database_url)


async def _poll(settings: Settings) -> None:
    from bot.app import build_app, settle, start_scheduler, stop
    from bot.polling import poll
    from bot.preflight import reach_telegram

    app = build_app(settings)
    settle()
    status: Any = None  # web.AppRunner when STATUS_PORT is set
    scheduler: Any = None
    try:
        if settings.status_port:
            from bot.web import serve_status

            status = await serve_status(app, settings.webhook_host, settings.status_port)
        await reach_telegram(
            app.bot, within=settings.telegram_start_seconds, api_url=settings.telegram_api_url
        )
        scheduler = start_scheduler(app)
        await app.bot.delete_webhook(drop_pending_updates=False)
        await poll(app.dp, app.bot)
    finally:
        if status is not None:
            await status.cleanup()
        await stop(app, scheduler)


def _import(settings: Settings, path: str, what: str = "cooperatives") -> int:
    """Check every row and load them all in one transaction, or none (exit 2, each problem
    by line). The file is read row by row, never whole."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with open(path, encoding="utf-8", newline="") as lines:
            report = asyncio.run(_load(settings, lines, what))
    except OSError as exc:
        print(f"juragan: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:  # its message may quote a row: only its kind is said
        print(f"juragan: nothing loaded: the database refused it ({type(exc).__name__})",
              file=sys.stderr)  # fmt: skip
        return 2
    if report.problems:
        for error in report.errors:
            print(f"{path}: {error}", file=sys.stderr)
        if report.problems > len(report.errors):
            print(f"{path}: ... and {report.problems - len(report.errors)} more", file=sys.stderr)
        print(f"juragan: nothing loaded: {report.problems} problem(s) in {path}", file=sys.stderr)
        return 2
    print(f"juragan: {report.rows} {what} loaded ({report.added} new, {report.updated} updated)")
    if report.skipped:
        lines = ", ".join(map(str, report.skipped[:10])) + (
            ", ..." if len(report.skipped) > 10 else ""
        )
        print(f"juragan: {len(report.skipped)} sample session(s) already over, not loaded "
              f"(line {lines})")  # fmt: skip
    return 0


async def _load(settings: Settings, lines: Iterable[str], what: str) -> Any:
    """One transaction, committed only when no row was bad."""
    from sqlalchemy.exc import SQLAlchemyError

    from storage.db import create_engine, create_sessionmaker
    from storage.importers import import_file, refresh_statistics

    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            report = await import_file(session, what, lines)
            await (session.rollback() if report.problems else session.commit())
        if not report.problems:
            try:
                await refresh_statistics(engine, what)
            except SQLAlchemyError as exc:  # loaded all the same; autovacuum will catch up
                print(f"juragan: (statistics not refreshed: {type(exc).__name__})", file=sys.stderr)
        return report
    finally:
        await engine.dispose()


def _role(settings: Settings, telegram_id: int, role: str, regions: str | None) -> int:
    """Give someone who has started the bot a role, optionally scoped to regions; audited."""
    codes = [c.strip() for c in (regions or "").split(",") if c.strip()] or None
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
    from flows import clock
    from operations import roles as operations
    from storage import repo
    from storage.db import create_engine, create_sessionmaker

    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            person = await repo.person_by_telegram_id(session, telegram_id=telegram_id)
            if person is None:
                return False
            await operations.grant(
                session, actor_id=None, person_id=person.id, role=role, regions=codes,
                now=clock.now(), via="command line", action="role.set", tell=False,
            )  # fmt: skip
            return True
    finally:
        await engine.dispose()


def _desk_link(settings: Settings, demo: bool) -> int:
    """`desk-link --demo`: a sign-in link to the staff desk for the demo's admin (the console's
    `/as admin`, made on first use), printed; only for a desk on this machine (DESK_URL plain
    http:// on a loopback address), never a server's: there staff send /meja to the bot."""
    if not demo:
        print("juragan: desk-link makes a link only for the demo's admin (--demo); on a server, "
              "staff, coordinators and admins send /meja to the bot", file=sys.stderr)  # fmt: skip
        return 2
    if not settings.desk_url or settings.desk_secure:
        print("juragan: desk-link --demo is only for a desk on this machine: DESK_URL must be "
              "plain http:// on a loopback address, like http://127.0.0.1:8081/",
              file=sys.stderr)  # fmt: skip
        return 2
    name, url = asyncio.run(_demo_link(settings))
    print(f"juragan: the staff desk as {name} (the demo's admin, `/as admin` in the chat): "
          f"with `make desk` running, open\n  {url}\n(it works once, for 10 minutes; "
          "another: `make desk-link`, or `/as admin` then `/meja` in the chat)")  # fmt: skip
    return 0


async def _demo_link(settings: Settings) -> tuple[str, str]:
    from bot.console import DEMO_USER, ROLE_PEOPLE, grant
    from bot.handlers.desk import link
    from flows import clock
    from operations import desk
    from storage.db import create_engine, create_sessionmaker

    offset, name = ROLE_PEOPLE["admin"]
    engine = create_engine(settings.database_url)
    try:
        sessionmaker = create_sessionmaker(engine)
        person_id = await grant(
            sessionmaker, DEMO_USER + offset, "admin", name, settings.default_locale
        )
        async with sessionmaker() as session, session.begin():
            token = await desk.issue_link(session, person_id=person_id, now=clock.now())
        return name, link(settings, token)
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
    sub.add_parser("desk", help="serve the staff desk on DESK_HOST:DESK_PORT (needs DESK_URL)")
    sub.add_parser("migrate", help="bring the database to the newest schema")
    chat = sub.add_parser("chat", help="talk to the bot in this terminal (no token needed)")
    chat.add_argument(  # 100001: bot.console.DEMO_USER
        "--user", type=_user_arg, default=100001, help="be this Telegram user id"
    )
    link = sub.add_parser(
        "desk-link", help="print a sign-in link to a desk on this machine for the demo's admin"
    )
    link.add_argument("--demo", action="store_true", help="for the demo's admin (`/as admin`)")
    chat.add_argument(
        "--as", dest="role", choices=["admin", "staff", "coordinator"], help="take this role"
    )
    load = sub.add_parser("import", help="load a directory from a CSV file (all rows or none)")
    load.add_argument("what", choices=["cooperatives", "trainings"])
    load.add_argument("file", help="path of the CSV file")
    grant = sub.add_parser("role", help="give someone a role (they must have started the bot)")
    grant.add_argument("telegram_id")
    grant.add_argument("role", choices=["returnee", "coordinator", "staff", "admin"])
    grant.add_argument(
        "--regions", help="only these regions, comma-separated codes like 35.78,35.73"
    )
    content = sub.add_parser("content", help="check the facts in flows/content/*.toml")
    content.add_argument("action", choices=["check"])
    args = parser.parse_args(argv)
    if args.command == "content":  # needs no database and no settings
        from bot.content_check import run as check_content

        return check_content()
    try:
        settings = load_settings()
        if args.command in ("run", "webhook"):
            settings.require_token()
        if args.command == "webhook":
            settings.require_webhook()
        if args.command == "desk":
            settings.require_desk()
    except ConfigError as exc:
        print(f"juragan: {exc}", file=sys.stderr)
        return 2
    serving = args.command in ("run", "webhook", "desk")
    logs.setup(
        settings.log_level if serving else "WARNING", settings.log_format, settings.secrets()
    )
    refusal = _refuse_role(args.telegram_id, args.regions) if args.command == "role" else None
    if refusal:
        print(f"juragan: {refusal}", file=sys.stderr)
        return 2
    try:
        _migrate(settings)
    except Exception as exc:  # e.g. the database server is down
        print(
            f"juragan: cannot open the database at DATABASE_URL: {logs.describe(exc)}",
            file=sys.stderr,
        )
        return 2
    if args.command == "migrate":
        print("juragan: database is up to date")
        return 0
    if args.command == "import":
        return _import(settings, args.file, args.what)
    if args.command == "role":
        return _role(settings, int(args.telegram_id), args.role, args.regions)
    if args.command == "desk-link":
        return _desk_link(settings, args.demo)
    if args.command == "chat":
        from bot.console import run_console

        asyncio.run(run_console(settings, user_id=args.user, role=args.role))
        return 0
    return _serve(settings, args.command)


def _serve(settings: Settings, command: str) -> int:
    """`run` or `webhook` until stopped: exit 2 with one sentence when it cannot start (Telegram
    unreachable, the token refused, a port taken), 1 after a logged (safe) traceback."""
    from bot.app import run_fast

    try:
        if command == "webhook":
            from bot.web import serve

            run_fast(serve(settings))
        elif command == "desk":
            from desk.app import serve as serve_desk

            run_fast(serve_desk(settings))
        else:
            run_fast(_poll(settings))
    except ConfigError as exc:
        print(f"juragan: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    except Exception:
        logging.getLogger("juragan").critical("stopped by an error", exc_info=True)
        return 1
    return 0


def _refuse_role(telegram_id: str, regions: str | None) -> str | None:
    """Why `juragan role` must not run with these arguments, or None."""
    from flows import regions as places

    if _user_id(telegram_id) is None:
        return f"TELEGRAM_ID must be a Telegram user id, a whole number from 1 to {INT64_MAX}."
    if regions is None:
        return None
    codes = [c.strip() for c in regions.split(",") if c.strip()]
    if not codes:  # `--regions ''` must not mean "everywhere"
        return (
            "--regions is empty: give region codes like 35.78,35.73, "
            "or leave --regions out for a role everywhere."
        )
    for code in codes:
        if places.get(code) is None:
            return f"unknown region code {code!r} in --regions (e.g. 35 or 35.78)."
    return None


def _user_arg(text: str) -> int:
    """argparse's type for a Telegram user id (a number too big for the database is refused
    here, not by a traceback from it)."""
    value = _user_id(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {INT64_MAX}")
    return value


def _user_id(text: str) -> int | None:
    """A Telegram user id typed on the command line, or None (not 1 to 2^63-1)."""
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if 0 < value <= INT64_MAX else None


if __name__ == "__main__":
    sys.exit(main())
