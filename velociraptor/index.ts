export * from "./config.js";
export * from "./errors.js";
export * from "./query.js";
export * from "./retry.js";
export * from "./client.js";
export * from "./diagnose.js";
export * from "./roles.js";
export * from "./server-facts.js";
