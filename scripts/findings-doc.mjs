// Writes docs/findings.md and docs/checks.md from the compiled catalog and check table (run `npm run build` first).
import { writeFileSync } from 'node:fs';
import { CATALOG } from '../dist/diagnosis/catalog/index.js';
import { CHECK_TABLE } from '../dist/checks/table.js';
import { renderCatalogMarkdown } from '../dist/report/catalog-doc.js';
import { renderChecksMarkdown } from '../dist/report/checks-doc.js';

writeFileSync(new URL('../docs/findings.md', import.meta.url), renderCatalogMarkdown(CATALOG));
console.log(`docs/findings.md: ${CATALOG.length} findings`);
writeFileSync(new URL('../docs/checks.md', import.meta.url), renderChecksMarkdown(CHECK_TABLE));
console.log(`docs/checks.md: ${CHECK_TABLE.length} checks`);
