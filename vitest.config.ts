import { defineConfig } from "vitest/config";

// Cloud suites need real credentials and a Pulumi CLI; they run only through `npm run test:cloud`.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/cloud/**", "node_modules/**", "dist/**"],
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    server: { deps: { external: [/@pulumi\//] } },
  },
});
