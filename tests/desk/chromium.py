"""Debian's Chromium driven by Playwright, for the desk's browser tests.

The browser runs on an event loop of its own in a thread (one browser per test module), so the
test's loop stays free to serve the desk the browser talks to. `Remote` wraps Playwright's
objects: a call made from the test returns an awaitable run on the browser's loop.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import threading
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "desk"


def unavailable() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing (`make setup` installs Debian's chromium with apt-get)"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (`make setup`)"
    return None


class Remote:
    """A Playwright object on the browser's loop, used from the test's loop."""

    def __init__(self, target: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._target, self._loop = target, loop

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            if inspect.isawaitable(result):
                return self._await(result)
            return Remote(result, self._loop) if _playwrights(result) else result

        return call

    async def _await(self, awaitable: Any) -> Any:
        async def run() -> Any:
            return await awaitable

        value = await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(run(), self._loop))
        return Remote(value, self._loop) if _playwrights(value) else value


def _playwrights(value: Any) -> bool:
    return type(value).__module__.startswith("playwright.")


async def download(page: Remote, selector: str, folder: Path) -> Path:
    """Click `selector` on the page and keep the file the browser downloads (Playwright's
    `expect_download`, run on the browser's loop) in `folder` under its suggested name."""

    async def run() -> Path:
        async with page._target.expect_download() as info:
            await page._target.click(selector)
        got = await info.value
        path = folder / got.suggested_filename
        await got.save_as(path)
        return path

    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(run(), page._loop))


class Chromium:
    """One headless Chromium for a module's tests; `await chromium.page(width)` for a page in a
    fresh context (its own cookies)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.playwright, self.browser = self._run(self._launch()).result(timeout=120)

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    async def _launch(self) -> tuple[Any, Any]:
        from playwright.async_api import async_playwright

        playwright = await async_playwright().start()
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        return playwright, browser

    async def page(
        self, width: int = 1280, height: int = 900, *, bypass_csp: bool = False
    ) -> Remote:
        """bypass_csp: for the accessibility test only (axe-core is injected as an inline script,
        which the desk's Content-Security-Policy rightly forbids)."""

        async def make() -> Any:
            context = await self.browser.new_context(
                viewport={"width": width, "height": height}, bypass_csp=bypass_csp
            )
            return await context.new_page()

        page = await asyncio.wrap_future(self._run(make()))
        return Remote(page, self.loop)

    def close(self) -> None:
        async def shut() -> None:
            await self.browser.close()
            await self.playwright.stop()

        try:
            self._run(shut()).result(timeout=60)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)
