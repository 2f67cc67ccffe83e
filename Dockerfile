# fanloop in a container: `docker compose up -d` (compose.yaml) runs PostgreSQL, the migrations,
# Telegram webhook workers behind nginx and, with --profile discord, the Discord process.
# docs/deploy.md explains every variable. Build alone: docker build -t fanloop .

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# Extras to install beside the defaults, e.g. --build-arg FANLOOP_EXTRAS=semantic. PostgreSQL
# needs none: its driver (asyncpg) is a default dependency.
ARG FANLOOP_EXTRAS=""
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY cogs ./cogs
COPY storage ./storage
COPY config ./config
RUN python -m venv /opt/fanloop \
 && /opt/fanloop/bin/pip install ".${FANLOOP_EXTRAS:+[$FANLOOP_EXTRAS]}"

FROM python:3.11-slim
ENV PATH=/opt/fanloop/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    FANLOOP_DATA_DIR=/data \
    FANLOOP_LOG_FORMAT=json \
    FANLOOP_METRICS_HOST=0.0.0.0 \
    FANLOOP_METRICS_PORT=9464 \
    FANLOOP_TELEGRAM_WEBHOOK_LISTEN=0.0.0.0 \
    FANLOOP_TELEGRAM_WEBHOOK_PORT=8443
RUN groupadd --system --gid 10001 fanloop \
 && useradd --system --uid 10001 --gid fanloop --home-dir /data --shell /usr/sbin/nologin fanloop \
 && mkdir -p /data && chown fanloop:fanloop /data
COPY --from=build /opt/fanloop /opt/fanloop
USER fanloop
WORKDIR /data
VOLUME ["/data"]
# 8443: the Telegram webhook (webhook mode); 9464: GET /healthz and GET /metrics.
EXPOSE 8443 9464
# Healthy while GET /healthz answers 200: the database answers and every platform is connected.
# (With FANLOOP_METRICS_PORT=0 nothing is served, and nothing is checked.)
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD python -c "import os, sys, urllib.request as r; p = os.environ.get('FANLOOP_METRICS_PORT') or '0'; p == '0' and sys.exit(0); r.urlopen(f'http://127.0.0.1:{p}/healthz', timeout=4)"
STOPSIGNAL SIGTERM
CMD ["fanloop", "run"]
