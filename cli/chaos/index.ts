export * from "./scenario";
export * from "./metrics";
export * from "./analysis";
export * from "./report";
export * from "./reference";
export * from "./runner";
