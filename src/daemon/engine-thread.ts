// The daemon's engine-thread entry (DESIGN.md §3): the module every engine thread starts from.
// It loads the transports whose sessions run on engine threads, so each registers its session
// factory on the thread (src/transports/fabric.ts registerFabric), then runs the thread. The
// runtime (src/workers) names no transport; this entry is where the daemon names them.
import '../transports/iscsi/ffp-handler';
import { runEngineThread } from '../workers/engine-thread';

runEngineThread();
