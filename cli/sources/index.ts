export * from "./source";
export * from "./labels";
export * from "./nodeSelect";
export * from "./open";
export * from "./docker";
