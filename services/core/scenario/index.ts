// The scenario model's public face: parse/load a scenario file, validate it, and build the
// RunPlan. Import from here rather than from the individual modules.

export { parseScenario } from './load.js';
export { buildPlan, UnknownHostError, type BuildPlanOptions } from './plan.js';
export { ScenarioError, ScenarioFileError, formatIssue, type ScenarioIssue } from './errors.js';
export { ScenarioSchema, type Scenario, type GeoSection, type GraphSection, type ChurnSpec } from './schema.js';
