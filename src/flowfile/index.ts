export { labelOf, RouteError, routePrompt } from './actions.ts'
export { FlowFileError, type Problem } from './errors.ts'
export { FLOW_FILE, type FlowFileResult, flowFromText, loadFlowFile } from './load.ts'
export { quoted, render } from './template.ts'
