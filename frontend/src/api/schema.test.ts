// @vitest-environment node
import { readFile } from 'node:fs/promises';

import { describe, expect, it } from 'vitest';

// @ts-expect-error: a plain Node script without type declarations
import { generateSchema, SCHEMA_PATH } from '../../scripts/gen-api.mjs';

describe('src/api/schema.ts', () => {
  it('matches what openapi-typescript generates from src/api/openapi.json (run `npm run gen:api` if not)', async () => {
    const committed = await readFile(SCHEMA_PATH as string, 'utf8');
    const fresh = (await (generateSchema as () => Promise<string>)()) as string;
    expect(committed === fresh, 'src/api/schema.ts is stale: run `npm run gen:api` and commit it').toBe(true);
  }, 30_000);
});
