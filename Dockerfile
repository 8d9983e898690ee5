# One image for the bot, the worker and the API; docker-compose.yml runs each as a service.
# Dependencies come only from requirements.lock (scripts/lock.sh makes it from pyproject.toml):
# exact versions, every file checked against its sha256, wheels only (the slim image has no
# compiler). tests/test_image.py repeats this install in a fresh virtualenv.

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
COPY requirements.lock /tmp/requirements.lock
RUN /opt/venv/bin/pip install --require-hashes --only-binary=:all: -r /tmp/requirements.lock
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY core core
COPY bot bot
COPY worker worker
COPY api api
COPY fakevk fakevk
COPY migrations migrations
# The project without its dependencies (locked above) and without dev extras. Editable: the code
# stays in /app beside migrations/, where core/db.py looks for them.
RUN /opt/venv/bin/pip install --no-deps --no-build-isolation -e .

FROM python:3.11-slim-bookworm
# pg_dump and pg_restore for the backup and restore jobs: Debian bookworm's client is 15, the
# major version of compose's postgres:15 (pg_dump refuses a newer server).
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 --user-group app \
    && mkdir /data && chown app:app /data
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 DATA_DIR=/data
WORKDIR /app
USER app
VOLUME /data
# The bot's check (Redis and the database answer); compose gives the worker and the API their own.
HEALTHCHECK --interval=30s --timeout=25s --start-period=60s --retries=3 \
    CMD ["python", "-m", "bot", "--check"]
CMD ["python", "-m", "bot"]
