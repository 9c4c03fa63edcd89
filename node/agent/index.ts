// The agent's public face: start one (Agent), and its data directory as the CLI sets it up and reads it.
export { Agent } from './agent.js'
export { CONTROL_SOCKET_FILE, dataDirLayout, defaultDataDir, initDataDir } from './data-dir.js'
export { BUILT_IN_LABELS, builtInLabels, ownLabelsProblem, RESERVED_LABEL_PREFIX } from './peer-labels.js'
export { keepBytecode } from './bytecode.js'
export { trimYoungGeneration, YOUNG_GENERATION_DEFAULTS, type YoungGenerationTrimInit } from './young-generation.js'
