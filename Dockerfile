FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY core core
COPY bot bot
COPY worker worker
COPY migrations migrations
# Editable, so the code and migrations/ stay together in /app (migrations are read from there).
RUN pip install --no-cache-dir -e . --config-settings editable_mode=compat
ENV DATA_DIR=/data
VOLUME /data
CMD ["python", "-m", "bot"]
