import * as defs from './cdb/defs/spc';
import { spcInquiry } from './inquiry';
import { spcLogSelect, spcLogSense } from './log-pages';
import { spcModeSelect10, spcModeSelect6, spcModeSense10, spcModeSense6 } from './mode-pages';
import { spcReportSupportedOperationCodes, spcReportSupportedTaskManagementFunctions } from './rsoc';
import { Binding, bind } from './types';
import { aluaBindings } from './alua-commands';

/**
 * The SPC-4 commands this module executes, as rows plus execute steps. Device types add them to
 * their tables (with the core commands of the pipeline and their own command set).
 */
export const spcBindings: Binding[] = [
  bind(defs.INQUIRY, spcInquiry),
  bind(defs.MODE_SENSE_6, spcModeSense6),
  bind(defs.MODE_SENSE_10, spcModeSense10),
  bind(defs.MODE_SELECT_6, spcModeSelect6),
  bind(defs.MODE_SELECT_10, spcModeSelect10),
  bind(defs.LOG_SENSE, spcLogSense),
  bind(defs.LOG_SELECT, spcLogSelect),
  bind(defs.REPORT_SUPPORTED_OPERATION_CODES, spcReportSupportedOperationCodes),
  bind(defs.REPORT_SUPPORTED_TASK_MANAGEMENT_FUNCTIONS, spcReportSupportedTaskManagementFunctions),
  ...aluaBindings,
];

