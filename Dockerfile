# The mllineage collector. Build: docker build -t mllineage .
# Runs migrations on start (`mllineage serve`), then serves on port 5000.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY emitter ./emitter
COPY collector ./collector
COPY client ./client
COPY schemas ./schemas
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[collector]"

FROM python:3.11-slim
RUN useradd --system --create-home --uid 10001 mllineage \
    && mkdir /data && chown mllineage /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links=/wheels "mllineage[collector]" \
    && rm -rf /wheels
USER mllineage
WORKDIR /data
ENV MLLINEAGE_DATABASE_URL=sqlite:////data/mllineage.db \
    MLLINEAGE_LOG_JSON=true \
    PYTHONUNBUFFERED=1
EXPOSE 5000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/ready', timeout=2)"]
CMD ["mllineage", "serve", "--host", "0.0.0.0", "--port", "5000", "--wait-for-db", "60"]
