// The daemon's engine-thread entry (DESIGN.md §3): the module every engine thread starts from.
// It loads the transports whose sessions run on engine threads, so each registers its session
// factory on the thread (src/transports/fabric.ts registerFabric), gives them the daemon's logger,
// then runs the thread. The runtime (src/workers) names no transport; this entry is where the
// daemon names them.
import '../transports/iscsi/ffp-handler';
import { useLoggerFactory } from '../transports/fabric';
import { runEngineThread } from '../workers/engine-thread';
import { createLogger } from './log';

useLoggerFactory((level) => createLogger({ level }));
runEngineThread();
