export * from "./source";
export * from "./nodeSelect";
export * from "./open";
export * from "./docker";
