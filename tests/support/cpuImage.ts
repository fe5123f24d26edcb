import { cpuImage } from "../../scripts/benchRuns";

/** Builds the CPU training image if its recipe changed (reuses it otherwise) and returns its tag. */
export const ensureCpuImage = cpuImage;
