/**
 * The ids of every command package.json contributes, in its order (`test/unit/commands.test.ts` checks the two
 * agree). `commands.ts` keys its table by {@link CommandId}, so an id here without a handler does not compile.
 */
export const COMMAND_IDS = [
  "hearth.openChat",
  "hearth.newChat",
  "hearth.showHistory",
  "hearth.importContinue",
  "hearth.startLocalServer",
  "hearth.stopLocalServer",
  "hearth.checkEngines",
  "hearth.setEngineApiKey",
  "hearth.setupModels",
  "hearth.selectChatModel",
  "hearth.stopGeneration",
  "hearth.addSelectionToChat",
  "hearth.addFileToChat",
  "hearth.restartSidecar",
  "hearth.showLog",
  "hearth.showStats",
  "hearth.whyNoCompletion",
  "hearth.toggleCompletions",
  "hearth.searchCode",
  "hearth.indexWorkspace",
  "hearth.reindexWorkspace",
  "hearth.pauseIndexing",
  "hearth.cancelIndexing",
  "hearth.indexActions",
  "hearth.deleteOldIndexes",
  "hearth.explainSelection",
  "hearth.fixSelection",
  "hearth.documentSelection",
  "hearth.generateTests",
  "hearth.editSelection",
  "hearth.askAboutFile",
  "hearth.openChatWithSelection",
  "hearth.runPrompt",
  "hearth.customizePrompt",
  "hearth.acceptEdit",
  "hearth.rejectEdit",
  "hearth.nextEdit.tab",
  "hearth.nextEdit.dismiss",
] as const;

/** A contributed command's id. */
export type CommandId = (typeof COMMAND_IDS)[number];
