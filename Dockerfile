# Pulang Juragan: `juragan webhook` behind a reverse proxy that terminates TLS.
#   docker build -t pulang-juragan .
#   docker run --init --env-file /etc/juragan/juragan.env -p 127.0.0.1:8081:8080 \
#     --stop-timeout 60 --restart on-failure pulang-juragan
# The container migrates the database on start (juragan does it before serving).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /app

# Dependencies first, read from pyproject.toml alone, so a change to the code reuses this layer.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The code stays in /app and is installed editable: bot/app.py finds the catalogs at
# <source tree>/locales, and a plain `pip install .` would put bot/ in site-packages, where
# there is no locales/ beside it. The catalogs are compiled here (*.mo are not in git).
COPY README.md ./
COPY bot ./bot
COPY flows ./flows
COPY storage ./storage
COPY locales ./locales
RUN pip install --no-deps -e . \
    && pybabel compile -d locales -D messages \
    && python -m compileall -q bot flows storage

# A user of its own; the code stays owned by root, so the bot cannot change it. /data is only
# for a one-instance SQLite trial: DATABASE_URL=sqlite+aiosqlite:////data/juragan.db and a volume.
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/juragan \
        --shell /usr/sbin/nologin juragan \
    && mkdir -p /data \
    && chown juragan:juragan /data
USER juragan
# matplotlib (the /statistik chart) needs a writable cache; build its font list once, here.
ENV MPLCONFIGDIR=/home/juragan/.cache/matplotlib
RUN python -c "import matplotlib.font_manager"

# In a container the server must listen on every interface; publish the port only to the proxy.
ENV WEBHOOK_HOST=0.0.0.0 \
    WEBHOOK_PORT=8080
EXPOSE 8080

# 503 (database, scheduler or Redis failing) or no answer makes the container unhealthy.
# start-period covers the migration that runs before the server answers.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; r.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('WEBHOOK_PORT', '8080'), timeout=4)"]

# SIGTERM: stop taking updates, finish those in flight, stop the sender, exit. Give it time:
# `docker run --stop-timeout 60` or compose `stop_grace_period: 60s` (Docker's default is 10 s).
STOPSIGNAL SIGTERM
CMD ["juragan", "webhook"]
