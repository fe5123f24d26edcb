export * from "./nodeSelect";
export * from "./docker";
