export * from "./verdict";
export * from "./snapshot";
export * from "./watch";
export * from "./report";
export * from "./liveLine";
