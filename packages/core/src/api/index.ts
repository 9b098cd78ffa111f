export * from "./client.js";
export * from "./conditions.js";
export * from "./errors.js";
export * from "./types.js";
