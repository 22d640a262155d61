// Writes docs/methods.md from the method catalogue: npm run docs:methods
import fs from 'node:fs';
import { catalogueMarkdown } from '../src/modules/channels/catalogue.doc.ts';

fs.writeFileSync(new URL('../docs/methods.md', import.meta.url), catalogueMarkdown());
