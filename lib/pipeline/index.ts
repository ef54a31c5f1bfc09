export { pipeline } from './pipeline.js'
export type { ForkedPipeline, OutputOf, Pipeline, PipelineInfo, PipelineStart } from './pipeline.js'
export { toDot, toMermaid } from './graph.js'
export type { GraphEdge, GraphNode, PipelineGraph, StageKind } from './graph.js'
