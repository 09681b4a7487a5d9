import * as ipaddr from 'ipaddr.js';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { OutboundClient, OutboundErrorCode, parseRetryAfter } from './outbound.client';

const LOOPBACK: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [ipaddr.parseCIDR('127.0.0.0/8')];

/** A real receiver on 127.0.0.1 that counts TCP connections and requests. */
class Receiver {
  connections = 0;
  readonly requests: { url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  private readonly server: http.Server;
  base = '';

  constructor(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        handler(req, res);
      });
    });
    this.server.on('connection', () => this.connections++);
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe(OutboundClient.name, () => {
  let sut: OutboundClient;
  const receivers: Receiver[] = [];

  async function receiver(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
    const started = await new Receiver(handler).start();
    receivers.push(started);
    return started;
  }

  beforeEach(() => {
    sut = new OutboundClient(LOOPBACK);
  });

  afterEach(async () => {
    sut.close();
    await Promise.all(receivers.splice(0).map((r) => r.close()));
  });

  describe('overall deadline', () => {
    it('cuts a receiver that sends headers, then trickles a byte every 200 ms', async () => {
      const sink = await receiver((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        const timer = setInterval(() => res.write('x'), 200);
        res.on('close', () => clearInterval(timer));
      });

      const started = Date.now();
      const result = await sut.request({ method: 'POST', url: `${sink.base}/hook`, body: '{}', deadlineMs: 1000 });

      expect(Date.now() - started).toBeLessThan(3000);
      expect(result).toMatchObject({
        timedOut: true,
        errorCode: OutboundErrorCode.TimedOut,
        error: expect.stringContaining('timed out after 1000 ms'),
      });
      // Not an answer: the status line came, the body never finished.
      expect(result.statusCode).toBeUndefined();
      expect(result.durationMs).toBeGreaterThanOrEqual(900);
    });

    it('cuts a receiver that never sends headers', async () => {
      const sink = await receiver(() => undefined);

      const started = Date.now();
      const result = await sut.request({ method: 'POST', url: `${sink.base}/hook`, body: '{}', deadlineMs: 1000 });

      expect(Date.now() - started).toBeLessThan(3000);
      expect(result).toMatchObject({ timedOut: true, error: 'timed out after 1000 ms' });
      expect(sink.requests).toHaveLength(1);
    });

    it('closes the connection it gave up on', async () => {
      let closed = false;
      const sink = await receiver((_req, res) => {
        res.on('close', () => (closed = true));
      });

      await sut.request({ method: 'GET', url: `${sink.base}/`, deadlineMs: 300 });
      await sleep(200);

      expect(closed).toBe(true);
    });
  });

  describe('response cap', () => {
    it('keeps exactly 16 KiB of a 1 MiB answer and closes the socket before the receiver finished writing', async () => {
      const total = 1024 * 1024;
      const chunk = Buffer.alloc(16 * 1024, 'a');
      let written = 0;
      let finished = false;
      let closed = false;
      const sink = await receiver((_req, res) => {
        res.writeHead(200, { 'content-length': String(total) });
        res.on('finish', () => (finished = true));
        res.on('close', () => (closed = true));
        // Paced, so the whole answer cannot sit in the kernel's socket buffers before the client reads.
        const writeNext = () => {
          if (res.destroyed) return;
          if (written >= total) return void res.end();
          res.write(chunk);
          written += chunk.length;
          setTimeout(writeNext, 5);
        };
        writeNext();
      });

      const result = await sut.request({ method: 'GET', url: `${sink.base}/big` });
      await sleep(100);

      expect(result.statusCode).toBe(200);
      expect(result.truncated).toBe(true);
      expect(Buffer.byteLength(result.body ?? '')).toBe(16 * 1024);
      expect(closed).toBe(true);
      expect(finished).toBe(false);
      expect(written).toBeLessThan(total);
    });

    it('honours a smaller cap, and reports an answer under the cap as not truncated', async () => {
      const sink = await receiver((_req, res) => res.end('0123456789'));

      const capped = await sut.request({ method: 'GET', url: `${sink.base}/`, responseCapBytes: 4 });
      const whole = await sut.request({ method: 'GET', url: `${sink.base}/` });

      expect(capped).toMatchObject({ statusCode: 200, body: '0123', truncated: true });
      expect(whole).toMatchObject({ statusCode: 200, body: '0123456789', truncated: false });
    });
  });

  it('reuses pooled connections: 20 sequential requests to one origin use at most 2 sockets', async () => {
    const sink = await receiver((_req, res) => res.end('ok'));

    for (let i = 0; i < 20; i++) {
      const result = await sut.request({
        method: 'POST',
        url: `${sink.base}/hook`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ i }),
      });
      expect(result.statusCode).toBe(200);
    }

    expect(sink.requests).toHaveLength(20);
    expect(sink.connections).toBeLessThanOrEqual(2);
  });

  it('returns a 302 as the answer and does not follow it', async () => {
    const sink = await receiver((req, res) => {
      if (req.url === '/moved') return void res.writeHead(302, { location: '/elsewhere' }).end('see elsewhere');
      res.end('followed');
    });

    const result = await sut.request({ method: 'POST', url: `${sink.base}/moved`, body: '{}' });

    expect(result).toMatchObject({ statusCode: 302, body: 'see elsewhere' });
    expect(result.headers?.location).toBe('/elsewhere');
    expect(sink.requests.map((r) => r.url)).toEqual(['/moved']);
  });

  it('returns 4xx and 5xx answers with their body, without an error', async () => {
    const sink = await receiver((_req, res) => res.writeHead(503, { 'retry-after': '120' }).end('busy'));

    const result = await sut.request({ method: 'POST', url: `${sink.base}/`, body: '{}' });

    expect(result).toMatchObject({ statusCode: 503, body: 'busy', retryAfterSeconds: 120 });
    expect(result.error).toBeUndefined();
  });

  it('parses an HTTP-date Retry-After', async () => {
    const at = new Date(Date.now() + 90_000).toUTCString();
    const sink = await receiver((_req, res) => res.writeHead(429, { 'retry-after': at }).end());

    const result = await sut.request({ method: 'GET', url: `${sink.base}/` });

    expect(result.statusCode).toBe(429);
    expect(result.retryAfterSeconds).toBeGreaterThanOrEqual(88);
    expect(result.retryAfterSeconds).toBeLessThanOrEqual(90);
  });

  it('sends the body byte for byte and the headers it is given', async () => {
    const sink = await receiver((_req, res) => res.end());
    const body = ' {"a": 1}\n';

    await sut.request({
      method: 'POST',
      url: `${sink.base}/hook`,
      headers: { 'content-type': 'application/json', 'webhook-id': 'dlv_1' },
      body,
    });

    expect(sink.requests[0].body).toBe(body);
    expect(sink.requests[0].headers).toMatchObject({ 'content-type': 'application/json', 'webhook-id': 'dlv_1' });
  });

  it('ignores HTTP_PROXY, which would move the SSRF check to the proxy', async () => {
    const sink = await receiver((_req, res) => res.end('direct'));
    const saved = process.env.HTTP_PROXY;
    process.env.HTTP_PROXY = 'http://127.0.0.1:1';
    try {
      expect(await sut.request({ method: 'GET', url: `${sink.base}/` })).toMatchObject({ body: 'direct' });
    } finally {
      if (saved === undefined) delete process.env.HTTP_PROXY;
      else process.env.HTTP_PROXY = saved;
    }
  });

  describe('refused targets', () => {
    let sink: Receiver;
    let strict: OutboundClient;

    beforeEach(async () => {
      sink = await receiver((_req, res) => res.end('reached'));
      strict = new OutboundClient([]);
    });

    afterEach(() => strict.close());

    it.each([
      ['an IP-literal loopback', (port: number) => `http://127.0.0.1:${port}/`],
      ['a hostname resolving to loopback', (port: number) => `http://localhost:${port}/`],
      ['an IPv4-mapped loopback', (port: number) => `http://[::ffff:127.0.0.1]:${port}/`],
      ['an IPv4-compatible loopback', (port: number) => `http://[::127.0.0.1]:${port}/`],
      ['an IPv4-compatible metadata address', (port: number) => `http://[::a9fe:a9fe]:${port}/`],
      ['a NAT64 loopback', (port: number) => `http://[64:ff9b::7f00:1]:${port}/`],
      ['a 6to4 loopback', (port: number) => `http://[2002:7f00:1::1]:${port}/`],
    ])('refuses %s without connecting', async (_what, url) => {
      const result = await strict.request({ method: 'POST', url: url(Number(new URL(sink.base).port)), body: '{}' });

      expect(result).toMatchObject({ refused: true, errorCode: OutboundErrorCode.Refused });
      expect(result.error).toContain('HUB_OUTBOUND_ALLOW');
      expect(result.statusCode).toBeUndefined();
      expect(sink.connections).toBe(0);
    });
  });

  describe('requests that cannot be sent', () => {
    it.each([
      ['CR LF', 'a\r\nx-injected: 1'],
      ['NUL', 'a\u0000b'],
      ['another C0 control', 'a\u0001b'],
      ['DEL', 'a\u007fb'],
      ['a character outside Latin-1', 'caf\u00e9 \u65e5\u672c'],
    ])(
      'returns an error result for %s in a header value, naming the header and not the value',
      async (_what, value) => {
        const sink = await receiver((_req, res) => res.end());

        const result = await sut.request({ method: 'POST', url: `${sink.base}/`, headers: { 'x-team': value } });

        expect(result).toMatchObject({ errorCode: OutboundErrorCode.InvalidRequest });
        expect(result.error).toContain('"x-team"');
        expect(result.error).not.toContain(value);
        expect(sink.connections).toBe(0);
      },
    );

    it('accepts tab and Latin-1 in a header value', async () => {
      const sink = await receiver((_req, res) => res.end());

      const result = await sut.request({ method: 'GET', url: `${sink.base}/`, headers: { 'x-team': 'a\tcaf\u00e9' } });

      expect(result.statusCode).toBe(200);
    });

    it.each(['http://[fe80::1%25lo]/x', 'not a url', 'ftp://127.0.0.1/x'])(
      'returns an error result for %s',
      async (url) => {
        const result = await sut.request({ method: 'GET', url });

        expect(result).toMatchObject({ errorCode: OutboundErrorCode.InvalidRequest, error: expect.any(String) });
      },
    );
  });

  it('returns a network error when nothing listens', async () => {
    const sink = await receiver((_req, res) => res.end());
    const url = `${sink.base}/`;
    await sink.close();
    receivers.splice(receivers.indexOf(sink), 1);

    const result = await sut.request({ method: 'POST', url, body: '{}' });

    expect(result).toMatchObject({
      errorCode: OutboundErrorCode.Network,
      error: expect.stringContaining('ECONNREFUSED'),
    });
    expect(result.statusCode).toBeUndefined();
  });
});

describe(parseRetryAfter.name, () => {
  it('reads delay-seconds and HTTP-dates (RFC 9110 §10.2.3)', () => {
    expect(parseRetryAfter('120')).toBe(120);
    expect(parseRetryAfter(' 5 ')).toBe(5);
    expect(parseRetryAfter(new Date(Date.now() + 60_000).toUTCString())).toBeGreaterThanOrEqual(59);
    expect(parseRetryAfter(new Date(Date.now() - 60_000).toUTCString())).toBe(0);
  });

  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});
