# dtbot: the API server (and the CLI, for `kubectl exec … dtbot keys create`).
# Build: docker build -t dtbot:1.0.0 .   Run: see docs/deploy.md.

# --- build: the project and its dependencies in a virtual environment ---
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/dtbot
COPY pyproject.toml README.md ./
COPY dtbot ./dtbot
COPY dingtalk_bot_sdk ./dingtalk_bot_sdk
RUN /opt/dtbot/bin/pip install --no-cache-dir . \
    && /opt/dtbot/bin/python -m compileall -q /opt/dtbot

# --- run: only the virtual environment, as an unprivileged user ---
FROM python:3.11-slim-bookworm
ENV PATH=/opt/dtbot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOST=0.0.0.0 \
    PORT=3000 \
    LOG_FORMAT=json \
    DTBOT_WORKERS=1 \
    DATABASE_URL=sqlite:////data/dtbot.db
RUN useradd --system --uid 10001 --home-dir /data --create-home --shell /usr/sbin/nologin dtbot
COPY --from=build /opt/dtbot /opt/dtbot
USER 10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 3000
# Liveness: the process answers (no database check; /api/health is the readiness check).
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '3000')}/api/health/live\", timeout=2)"]
CMD ["dtbot", "serve"]
