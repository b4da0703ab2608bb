# syntax=docker/dockerfile:1
# The Raasel web app (web/): a static build served by nginx over TLS, as a non-root user.
# Build from the repository root: docker build -f deploy/web.Dockerfile -t raasel-web .
# The certificate comes from a volume at run time (compose.yaml mounts the internal one).

FROM node:22.12-bookworm-slim AS build
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY web/ ./
RUN npm run build

FROM nginxinc/nginx-unprivileged:1.27-alpine
COPY deploy/nginx/web.conf /etc/nginx/conf.d/default.conf
COPY --from=build /web/dist /usr/share/nginx/html
USER 101:101
EXPOSE 8443
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["curl", "-fsk", "-o", "/dev/null", "https://127.0.0.1:8443/"]
