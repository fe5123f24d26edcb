export * from "./records";
export * from "./kinds";
export * from "./dockerOps";
export * from "./inject";
export * from "./heal";
