// Files that survive a crash at any instant, and private modes for what holds secrets or env values.
export { makePrivate, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, syncDirectory, writeAll, writeFileDurably } from './durable-file.js'
