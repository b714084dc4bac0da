// Built-in default lists, kept apart from the schema so docs and tests can cite them.

import { REQUIRED_DNS_NAMES } from '../requirements/platform.js';

/** Names a custom DNS server must resolve (src/requirements/platform.ts). */
export const DEFAULT_REQUIRED_DNS_NAMES: readonly string[] = REQUIRED_DNS_NAMES;
