# The Wegwijs app: the officials' web app, the Telegram bot and the delivery worker in one
# process (`wegwijs run`). The Rasa server runs in its own container (docker-compose.yml);
# this image carries Rasa's own Python 3.10 environment too, only to train, validate and test
# models when an admin retrains (Rasa is never imported by the app).
FROM python:3.10-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PYTHONPATH=/app DATA_DIR=/app/data WEB_HOST=0.0.0.0 WEB_PORT=8000 \
    RASA_EXECUTABLE=/opt/rasa/bin/rasa RASA_MODEL_DIR=/models PATH=/opt/app/bin:$PATH
WORKDIR /app

# The app on Debian's Python 3.11, Rasa on the image's Python 3.10.
RUN apt-get update && apt-get install -y --no-install-recommends python3.11 python3.11-venv \
    && rm -rf /var/lib/apt/lists/*
COPY rasa_project/requirements.lock ./rasa-requirements.lock
RUN python3.10 -m venv /opt/rasa && /opt/rasa/bin/pip install --requirement rasa-requirements.lock
COPY requirements.lock ./
# deduce (masking personal data for the NLU inbox) builds its lookup structures once, into
# its own package folder: here, as root, instead of failing at the first use as wegwijs.
RUN python3.11 -m venv /opt/app && /opt/app/bin/pip install --requirement requirements.lock \
    && /opt/app/bin/python -c 'from deduce import Deduce; Deduce()' \
    && useradd --create-home wegwijs

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY web ./web
COPY wegwijs ./wegwijs
COPY knowledge ./knowledge
COPY rasa_project ./rasa_project
RUN mkdir -p /app/data /models && chown wegwijs /app/data /models
USER wegwijs

EXPOSE 8000 8443
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
# Alembic migrations run on every start, before anything is served; the first start trains
# the first model into /models and has the Rasa container load it (PUT /model).
CMD ["python", "-m", "wegwijs", "run"]
