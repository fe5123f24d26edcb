export * from "./types";
export * from "./defaults";
export * from "./validate";
export * from "./gpus";
export * from "./names";
export * from "./launch";
export * from "./plan";
export * from "./stackConfig";
