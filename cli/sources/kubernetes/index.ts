export * from "./client";
export * from "./jobs";
export * from "./source";
export * from "./claims";
