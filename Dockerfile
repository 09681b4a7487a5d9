FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev
ENV NODE_ENV=production
# The hub defaults to loopback; a container must listen on every interface to be reachable through its port.
ENV HOST=0.0.0.0
EXPOSE 3000
CMD ["node", "dist/src/main.js"]
