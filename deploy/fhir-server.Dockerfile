# syntax=docker/dockerfile:1
#
# A FHIR R4 test server for the compose stack: SEKMET (PyPI sekmet-fhir, the server the integration tests
# use; it has no published image). Synthetic data only, never production. Build from the repository root:
#
#   docker build -f deploy/fhir-server.Dockerfile -t sekmet-fhir:0.1.1-local .
#
# Settings: deploy/fhir-server/settings.yaml (fails closed: no bearer token is accepted until a settings file
# listing one is mounted at /etc/sekmet/settings.yaml, as compose.yaml does).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
FROM ${PYTHON_IMAGE}

ENV PATH=/opt/venv/bin:$PATH \
    VIRTUAL_ENV=/opt/venv \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONUNBUFFERED=1 \
    NO_COLOR=1 \
    SEKMET_CONFIG=/etc/sekmet/settings.yaml \
    SEKMET_DB=/var/lib/sekmet/sekmet.db \
    HEALTHCHECK_URL=http://127.0.0.1:8090/fhir/metadata

RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir sekmet-fhir==0.1.1 \
    && groupadd --system --gid 10002 sekmet \
    && useradd --system --uid 10002 --gid sekmet --home-dir /var/lib/sekmet --no-create-home \
        --shell /usr/sbin/nologin sekmet \
    && install -d -o sekmet -g sekmet -m 0750 /var/lib/sekmet

COPY deploy/fhir-server/settings.yaml /etc/sekmet/settings.yaml
COPY deploy/healthcheck.py /usr/local/lib/sekmet-healthcheck.py

# SEKMET writes its database, data/ and keys/ here (relative paths resolve against the working directory).
WORKDIR /var/lib/sekmet
USER 10002:10002

EXPOSE 8090

HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=5 \
    CMD ["python", "/usr/local/lib/sekmet-healthcheck.py"]

ENTRYPOINT ["sekmet", "serve", "--host", "0.0.0.0", "--port", "8090"]
