export * from "./ddpCluster";
export * from "./plan";
export * from "./configError";
export { defaultOwner } from "./owner";
export { hostReading, dockerHostOf } from "./hostReading";
export { resetGpuClaims } from "./gpuClaims";
export * from "./ddpKubernetesJob";
export { DEFAULT_TARGET, readTarget, Target, targetProblems, TARGETS } from "./targets/targetKeys";
export { checkKubernetesStack } from "./targets/kubernetesSettings";
