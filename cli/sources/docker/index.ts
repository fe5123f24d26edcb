export * from "./source";
export * from "./connect";
export * from "./cluster";
export * from "./demux";
export * from "./logs";
export * from "./faults/dockerOps";
export * from "./faults/inject";
export * from "./faults/heal";
