// Generates src/api/schema.ts (TypeScript types of the REST API) from the committed OpenAPI
// snapshot src/api/openapi.json, with openapi-typescript. `npm run gen:api` writes the file;
// src/api/schema.test.ts calls generateSchema() to check that the committed file is current.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';

export const OPENAPI_PATH = fileURLToPath(new URL('../src/api/openapi.json', import.meta.url));
export const SCHEMA_PATH = fileURLToPath(new URL('../src/api/schema.ts', import.meta.url));

export async function generateSchema() {
  const spec = JSON.parse(await readFile(OPENAPI_PATH, 'utf8'));
  const ast = await openapiTS(spec, { alphabetize: true });
  return COMMENT_HEADER + astToString(ast);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await writeFile(SCHEMA_PATH, await generateSchema());
  console.log(`wrote ${SCHEMA_PATH}`);
}
