/** The name of the error the mocked api answers a call no test planned (src/lib/__mocks__/api.ts). */
export const UNPLANNED = "UnplannedApiCall";
