import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { correlationIdOf } from '../common/correlation';
import { projectRoot } from '../common/project-root';
import { HubConfig } from '../config/hub-config';

export const CONSOLE_PREFIX = '/console';
/** index.html carries this placeholder where each response puts its own CSP nonce (see console/index.html). */
const NONCE_PLACEHOLDER = '__CSP_NONCE__';

/**
 * Strict headers for every console response. Scripts only from the hub itself, nothing from a CDN (the console
 * works offline). Style sheets from the hub, plus the `<style>` elements CodeMirror mounts, which carry the
 * per-response nonce (EditorView.cspNonce). No framing, no referrer, nothing sniffed.
 */
export function consoleSecurityHeaders(nonce: string): Record<string, string> {
  return {
    'content-security-policy': [
      "default-src 'none'",
      "script-src 'self'",
      `style-src 'self' 'nonce-${nonce}'`,
      `style-src-elem 'self' 'nonce-${nonce}'`,
      // Style attributes only (they cannot run script): Chromium's own contenteditable editing writes them when
      // text replaces a selection in the editor, and blocking them only fills the console with reports.
      "style-src-attr 'unsafe-inline'",
      "img-src 'self' data:",
      "font-src 'self'",
      "connect-src 'self'",
      "manifest-src 'self'",
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join('; '),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
  };
}

/**
 * Serves the built single-page console (issue 10) from the hub's own process: hashed assets under
 * /console/assets/ (cached for good), and index.html for /console and every other /console/* path, so a deep
 * link such as /console/events/in_… opens the right page. `GET /` sends newcomers to the console.
 */
export function registerConsole(fastify: FastifyInstance, config: HubConfig): void {
  const root = config.consoleDir ?? join(projectRoot(), 'console', 'dist');

  fastify.get('/', (_req, reply) => reply.redirect(`${CONSOLE_PREFIX}/`, 302));

  void fastify.register(
    async (child) => {
      child.addHook('onSend', async (_req, reply, payload) => {
        const nonce = (reply as FastifyReply & { cspNonce?: string }).cspNonce ?? randomBytes(16).toString('base64');
        for (const [name, value] of Object.entries(consoleSecurityHeaders(nonce))) reply.header(name, value);
        return payload;
      });
      await child.register(fastifyStatic, {
        root,
        prefix: '/',
        index: false,
        wildcard: true,
        decorateReply: false,
        // index.html is served by serveIndex below, with its nonce; never raw.
        allowedPath: (path) => path !== '/index.html',
        setHeaders: (res, path) => {
          res.header(
            'cache-control',
            path.includes(`${join(root, 'assets')}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
          );
        },
      });
      const serveIndex = async (req: FastifyRequest, reply: FastifyReply) => {
        let html: string;
        try {
          html = await readFile(join(root, 'index.html'), 'utf8');
        } catch {
          return reply.code(503).send({
            statusCode: 503,
            error: 'Service Unavailable',
            message: 'The console is not built: run `npm run build`',
            correlationId: correlationIdOf(req),
          });
        }
        const nonce = randomBytes(16).toString('base64');
        (reply as FastifyReply & { cspNonce?: string }).cspNonce = nonce;
        return reply
          .header('cache-control', 'no-store')
          .type('text/html; charset=utf-8')
          .send(html.replaceAll(NONCE_PLACEHOLDER, nonce));
      };
      child.get('/', serveIndex);
      child.setNotFoundHandler((req, reply) => {
        // A missing asset is a real 404 (a stale tab after a deploy); any other path is a page of the app.
        const path = req.url.split('?')[0];
        if ((req.method === 'GET' || req.method === 'HEAD') && !path.startsWith(`${CONSOLE_PREFIX}/assets/`)) {
          return serveIndex(req, reply);
        }
        return reply.code(404).send({
          statusCode: 404,
          error: 'Not Found',
          message: `No console file at ${path}`,
          correlationId: correlationIdOf(req),
        });
      });
    },
    { prefix: CONSOLE_PREFIX },
  );
}
