// troupe/inspect: look into a running system — the questions (Inspector), their answers over a
// system in this process, over HTTP, and the server that serves them and the web view.
// The AWS table's own inspector is in troupe/aws (aws/table-inspector.ts), beside the SDK it needs.
export type { ActorRow, CostView, DeadRow, GraphView, Inspector, InspectorSource, InstanceRow, JoinRow, MessageNode, MessageView, Page, TraceNode } from './inspector.js'
export { SystemInspector, type SystemInspectorOptions } from './system-inspector.js'
export { HttpInspector } from './http-inspector.js'
export { serveInspection, type InspectionServer, type InspectionServerOptions } from './inspection-server.js'
export { TrafficLog } from './traffic-log.js'
