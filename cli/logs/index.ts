export * from "./logLine";
export * from "./logParsers";
export * from "./errorLine";
export * from "./logFacts";
