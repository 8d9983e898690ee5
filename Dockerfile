FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY core core
COPY bot bot
COPY worker worker
COPY migrations migrations
RUN pip install --no-cache-dir .
ENV DATA_DIR=/data
VOLUME /data
CMD ["python", "-m", "bot"]
