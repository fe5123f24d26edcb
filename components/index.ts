export * from "./ddpCluster";
export * from "./plan";
