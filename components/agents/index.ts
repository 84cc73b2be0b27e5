export * from "./ssh-agents.js";
export * from "./generators.js";
