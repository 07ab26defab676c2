"""The staff desk: the office's front door, beside the bot's.

Server-rendered pages (aiohttp, Jinja2 through aiohttp-jinja2, the bot's Babel catalogs,
Indonesian first) that work without JavaScript. Staff sign in with a one-time link from the bot
(/meja); a session lives in the database and ends when its person's role is revoked or changed.
A change goes through the operations layer (`operations/`), never storage directly, and what
people must hear is written as outbox rows the bot sends (`bot/notice_sender.py`).

- `app`: the aiohttp application, its middlewares (session, CSRF, headers, language), and
  `juragan desk`.
- `signin`: the sign-in and sign-out pages.
- `review`: the review queue, one submission, decisions one by one and in bulk.
- `trainings`: training sessions: the list, add and change, cancel, participants, attendance,
  the participant list downloaded.
- `announcements`: announcements with their counts; pause, resume, cancel; compose, count,
  preview, send now or schedule.
- `stats`: the funnels as SVG charts beside readable tables.
- `exports`: the bot's CSV and XLSX downloaded in the browser, audited like /ekspor.
- `admin`: roles and invitations, and the audit log (admins).
"""
