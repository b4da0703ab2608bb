# syntax=docker/dockerfile:1
# The Raasel server: `raasel serve` (HTTPS + WSS on 8443, HTTP redirect on 8080).
# Configuration and secrets come from the environment at run time (README, "Configuration");
# none is baked in. Build: docker build -t raasel-server .

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/raasel
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN /opt/raasel/bin/pip install --no-cache-dir .

FROM python:3.11-slim
LABEL org.opencontainers.image.title="raasel-server" \
      org.opencontainers.image.licenses="AGPL-3.0-or-later"
RUN groupadd --system --gid 10001 raasel \
    && useradd --system --uid 10001 --gid raasel --home-dir /var/lib/raasel --no-create-home raasel \
    && mkdir -p /var/lib/raasel /etc/raasel/tls \
    && chown raasel:raasel /var/lib/raasel /etc/raasel/tls
COPY --from=build /opt/raasel /opt/raasel
ENV PATH=/opt/raasel/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    RAASEL_VAR_DIR=/var/lib/raasel \
    RAASEL_HTTPS_PORT=8443 \
    RAASEL_HTTP_PORT=8080
USER 10001:10001
WORKDIR /var/lib/raasel
VOLUME ["/var/lib/raasel"]
EXPOSE 8443 8080
# Liveness over HTTPS on loopback: the probe checks the process answers, not the
# certificate (which may be self-signed or issued for the public name).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, ssl, urllib.request as u; c = ssl.create_default_context(); c.check_hostname = False; c.verify_mode = ssl.CERT_NONE; u.urlopen('https://127.0.0.1:%s/healthz' % os.environ.get('RAASEL_HTTPS_PORT', '8443'), context=c, timeout=2)"]
CMD ["raasel", "serve"]
