// Writes the nginx snippet of the UI's security headers for a built index.html: the committed
// template nginx/security-headers.conf (generated from the API's own SecurityHeaders, see
// backend/tests/test_deploy.py) with the CSP hash of each inline script of the page filled in,
// as the API allows them (api/guards/headers.py, inline_script_hashes).
//   node scripts/nginx-headers.mjs dist/index.html nginx/security-headers.conf out.conf
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const PLACEHOLDER = '__SCRIPT_HASHES__';
// The same pattern as the API's: <script> elements without src, their bytes as written.
const INLINE_SCRIPT = /<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi;

/** 'sha256-...' of each inline script of the page, in page order. */
export function scriptHashes(html) {
  return [...html.toString('latin1').matchAll(INLINE_SCRIPT)].map(
    (m) => `'sha256-${createHash('sha256').update(Buffer.from(m[1], 'latin1')).digest('base64')}'`,
  );
}

export function renderSnippet(template, html) {
  const hashes = scriptHashes(html);
  if (!template.includes(PLACEHOLDER)) throw new Error(`the template has no ${PLACEHOLDER}`);
  // No inline script: no hash, and no stray space in script-src.
  return hashes.length ? template.replaceAll(PLACEHOLDER, hashes.join(' ')) : template.replaceAll(` ${PLACEHOLDER}`, '');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [page, template, out] = process.argv.slice(2);
  if (!out) throw new Error('usage: nginx-headers.mjs INDEX_HTML TEMPLATE OUT');
  await writeFile(out, renderSnippet(await readFile(template, 'utf8'), await readFile(page)));
  console.log(`wrote ${out}`);
}
