# The Wegwijs app: the officials' web app, the Telegram bot and the delivery worker in one
# process (`wegwijs run`). Rasa runs in its own container: see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PYTHONPATH=/app DATA_DIR=/app/data WEB_HOST=0.0.0.0 WEB_PORT=8000
WORKDIR /app

COPY requirements.lock ./
RUN pip install --requirement requirements.lock && useradd --create-home wegwijs

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY web ./web
COPY wegwijs ./wegwijs
COPY knowledge ./knowledge
RUN mkdir -p /app/data && chown wegwijs /app/data
USER wegwijs

EXPOSE 8000 8443
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
# Alembic migrations run on every start, before anything is served.
CMD ["python", "-m", "wegwijs", "run"]
