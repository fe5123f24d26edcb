export * from "./ddpCluster";
export * from "./plan";
export * from "./configError";
export { defaultOwner } from "./owner";
export { hostReading, dockerHostOf } from "./hostReading";
export { resetGpuClaims } from "./gpuClaims";
