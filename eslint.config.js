import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**", "bench/out/**", "test/out/**", ".scratch/**", "rendered/**"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // stdout is the MCP stdio channel: diagnostics go through the stderr logger.
      "no-console": ["error", { allow: ["error", "warn"] }],
    },
  },
  {
    files: ["test/**/*.ts", "bench/**/*.ts", "cli/**/*.ts", "test-server/**/*.ts"],
    rules: { "no-console": "off" },
  },
  {
    // Tests reach deep into structured tool results; typing every shape there adds noise, not safety.
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
