// Checks an AsyncAPI document (proto/asyncapi.json by default) with the AsyncAPI
// initiative's own parser: it must be valid AsyncAPI, every reference resolving, with no
// diagnostic worse than a hint. Prints each diagnostic; exits 1 on any.

import { readFileSync } from 'node:fs';
import { Parser } from '@asyncapi/parser';

const file = process.argv[2] ?? new URL('../../proto/asyncapi.json', import.meta.url).pathname;
const { document, diagnostics } = await new Parser().parse(readFileSync(file, 'utf8'));
// Spectral's severities: 0 error, 1 warning, 2 information, 3 hint.
const serious = diagnostics.filter((d) => d.severity < 3);
for (const d of serious) console.error(`${file}: ${d.code} at /${d.path.join('/')}: ${d.message}`);
if (!document || serious.length > 0) process.exit(1);
console.log(`${file}: valid AsyncAPI ${document.version()}, ${document.channels().length} channels, ${document.messages().length} messages`);
