// A local stand-in for Wikipedia's REST API (the two endpoints the researcher's tool calls), so the
// browser tests run with no network and still show research with source links.
import http from 'node:http';

function summary(title) {
  const url = `https://en.wikipedia.org/wiki/${encodeURIComponent(title.replace(/ /g, '_'))}`;
  return {
    title,
    description: 'Article',
    extract: `${title} is described in this stub article. It exists for the browser tests.`,
    content_urls: { desktop: { page: url } },
  };
}

export function startWikipediaStub() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stub');
    res.setHeader('content-type', 'application/json');
    if (url.pathname === '/w/rest.php/v1/search/page') {
      const q = (url.searchParams.get('q') ?? '').trim();
      const main = q.split(/\s+/).slice(0, 3).join(' ') || 'Nothing';
      res.end(JSON.stringify({ pages: [
        { title: main, excerpt: `${main} in history`, description: 'Subject' },
        { title: `${main} (film)`, excerpt: `Films about ${main}`, description: 'Related' },
      ] }));
    } else if (url.pathname.startsWith('/api/rest_v1/page/summary/')) {
      const title = decodeURIComponent(url.pathname.split('/').pop() ?? '').replace(/_/g, ' ');
      res.end(JSON.stringify(summary(title)));
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      resolve({ url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r(undefined))) });
    });
  });
}
