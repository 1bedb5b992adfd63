# redflags: the web service and API. Build: docker build -t redflags .
# Run:   docker run -p 8000:8000 -v redflags-data:/app/data redflags
# The install steps are make's (pip install of the project, then `redflags rules build`).

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install .
COPY rules ./rules
# The spaCy pipeline is assembled from the rules now, so containers start without building it.
RUN REDFLAGS_RULES_DIR=/src/rules REDFLAGS_MODELS_DIR=/src/models/pipeline redflags rules build

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    REDFLAGS_RULES_DIR=/app/rules \
    REDFLAGS_MODELS_DIR=/app/models/pipeline \
    REDFLAGS_DATA_DIR=/app/data \
    REDFLAGS_HOST=0.0.0.0 \
    REDFLAGS_PORT=8000 \
    REDFLAGS_WORKERS=2
RUN groupadd --system --gid 10001 redflags \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /app redflags
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --from=build /src/rules ./rules
COPY --from=build /src/models ./models
RUN mkdir data && chown 10001:10001 data
USER 10001:10001
VOLUME ["/app/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# `redflags serve` migrates the database once, then starts uvicorn with REDFLAGS_WORKERS workers.
CMD ["redflags", "serve"]
