# audience-export: one image for the API and the workers (the command picks the role).
# The sources run through tsx (a runtime dependency), so there is no separate build step.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY bin ./bin
COPY src ./src
COPY tsconfig.json ./
USER node
ENTRYPOINT ["node", "bin/audience-export.mjs"]
CMD ["api"]
