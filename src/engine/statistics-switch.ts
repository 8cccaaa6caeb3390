// Whether the data path counts what the control socket's statistics show (per unit beyond log
// page 19h, per I_T nexus, per iSCSI connection). On by default; the topology's
// `engine.statistics: false` turns it off on every thread, which only the benchmark's counter-cost
// comparison uses (bench/e2e, `--counters`): the counters' cost is measured against none at all.
// Log page 19h (SPC-4 7.3.6) is counted either way: initiators read it.

export const dataPathStatistics = { enabled: true };

/** Set once per thread at start, from the topology. */
export function setDataPathStatistics(enabled: boolean): void {
  dataPathStatistics.enabled = enabled;
}
