// Writes docs/findings.md from the compiled catalog (run `npm run build` first).
import { writeFileSync } from 'node:fs';
import { CATALOG } from '../dist/diagnosis/catalog/index.js';
import { renderCatalogMarkdown } from '../dist/report/catalog-doc.js';

writeFileSync(new URL('../docs/findings.md', import.meta.url), renderCatalogMarkdown(CATALOG));
console.log(`docs/findings.md: ${CATALOG.length} findings`);
