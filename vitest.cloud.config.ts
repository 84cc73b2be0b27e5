import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/cloud/**/*.test.ts"],
    pool: "forks",
    testTimeout: 60 * 60_000,
    hookTimeout: 60 * 60_000,
    server: { deps: { external: [/@pulumi\//] } },
  },
});
