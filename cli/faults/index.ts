export * from "./records";
export * from "./kinds";
