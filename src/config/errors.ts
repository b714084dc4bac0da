// The error for a bad configuration (file, MIPROBE_* variable, flag): the CLI prints its message and exits 2.
// Kept apart from the loader so the dispatcher can recognise it without loading the schema libraries.
export class ConfigError extends Error {}
