/** Nexus public API: the engine, embedded mode, the topology loader and the daemon. */
export { Engine } from './engine/engine';
export type { EngineOptions } from './engine/engine';
export { EmbeddedTarget } from './embedded';
export type { EmbeddedOptions } from './embedded';
export { LocalSession } from './transports/local/session';
export type { ExecuteOptions, ExecuteResult } from './transports/local/session';
export { Status, TaskAttr, TmfFunction, TmfResponse, SenseKey } from './engine/spec/status';
export { ResidualKind } from './engine/command';
export type * from './engine/topology';
/** The topology's `iscsi` section (it adds itself to Topology by declaration merging). */
export type { IscsiSettings } from './transports/iscsi/settings';
export { normalizeTopology, loadTopologyFile } from './daemon/config/load';
