# The Wegwijs app (bot). Rasa runs in its own container: see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY requirements.lock ./
RUN pip install --requirement requirements.lock

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY wegwijs ./wegwijs
COPY knowledge ./knowledge
RUN pip install --no-deps . && useradd --create-home wegwijs
USER wegwijs

# Migrations run on every start, before the bot takes messages.
CMD ["wegwijs", "bot"]
