# One image for web (gunicorn), worker and beat. See docker-compose.yml.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VAR_DIR=/app/var

WORKDIR /app

# Pango and a font for WeasyPrint (the access reviews' evidence PDF).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

# The pinned, hashed runtime lock (make lock), wheels only, in a layer of its own that a code
# change doesn't rebuild; then the project without dependencies, built by the locked setuptools.
COPY requirements.txt ./
RUN pip install --require-hashes --only-binary :all: -r requirements.txt
COPY pyproject.toml README.md ./
COPY dashboard ./dashboard
COPY orgadmin ./orgadmin
RUN pip install --no-deps --no-build-isolation . && pip check

COPY manage.py ./
COPY templates ./templates
COPY static ./static

# Collect hashed, pre-compressed static files for WhiteNoise. The throwaway secrets only let
# settings load at build time; real ones come from the environment at run time.
RUN SECRET_KEY=build-only FIELD_ENCRYPTION_KEYS=YnVpbGQtb25seS1rZXktYnVpbGQtb25seS1rZXktMDA= \
    READ_DOT_ENV=false python manage.py collectstatic --noinput --verbosity 0

# var/ holds the SQLite files and the beat schedule: for the app user alone.
RUN useradd --create-home --uid 1000 app && install -d -m 700 -o app /app/var
USER app

EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=5 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"

CMD ["gunicorn", "dashboard.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4", "--access-logfile", "-"]
