# syntax=docker/dockerfile:1
# One image for every role: `serve` (the bot), `worker --vantage NAME`, `check`, `lab`, `demo`.
# The build context is an allowlist (.dockerignore); test/deploy/docker-context.test.ts checks
# both files.

# --- build: compile TypeScript with the dev dependencies ---
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# tsc is plain JavaScript: no package needs its install script to build.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- runtime: production dependencies only, non-root ---
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: nothing is compiled in the image, as on the Windows ECE servers (the optional
# native parts, msgpackr-extract and restify's dtrace-provider, fall back to plain JavaScript).
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY cards ./cards
COPY examples ./examples
# The files above stay owned by root: the process can read its code but not change it.
USER node
# The bot's port (`ecebot serve`, the Bot Framework's customary 3978; PORT or --port change it).
# The health check calls the liveness endpoint with Node itself: the slim image has no curl.
# Other roles (worker, check) serve no HTTP: run them with `--no-healthcheck` (compose.yaml
# disables it for the workers).
EXPOSE 3978
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD ["node", "-e", "require('http').get('http://127.0.0.1:' + (process.env.PORT || 3978) + '/healthz', r => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))"]
ENTRYPOINT ["node", "/app/bin/ecebot.js"]
CMD ["help"]
