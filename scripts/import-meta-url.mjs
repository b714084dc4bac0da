// esbuild inject for the CommonJS bundle: what import.meta.url is in the ES modules
// (__filename is the bundle's own path, dist/miprobe.cjs).
import { pathToFileURL } from 'node:url';

export const import_meta_url = pathToFileURL(__filename).href;
