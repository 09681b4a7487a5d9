import { INestApplicationContext, ValidationPipe } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { AppModule } from './app.module';
import { generateCorrelationId } from './common/correlation';
import { HubExceptionFilter } from './common/hub-exception.filter';
import { MAX_JSON_DEPTH, scanJson } from './common/json-depth';
import { PinoNestLogger } from './common/logger';
import { registerConsole } from './console/console-static';
import { HubConfig } from './config/hub-config';
import { MetricsService } from './metrics/metrics.service';

/** DESIGN §6: bodies over 1 MiB get 413. */
export const MAX_BODY_BYTES = 1024 * 1024;

export const isHookRoute = (url: string | undefined) => (url ?? '').startsWith('/hooks/');

/** Builds the HTTP application (roles api and all). Tests call this with their own config. */
export async function createHttpApp(config: HubConfig, logger: Logger): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: MAX_BODY_BYTES,
    genReqId: generateCorrelationId,
    requestIdHeader: false,
    trustProxy: false,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, logger), adapter, {
    // Body parsing is ours (below): the ingest route must see raw bytes, and verify before it parses.
    bodyParser: false,
    logger: new PinoNestLogger(logger.child({ component: 'nest' })),
    abortOnError: false,
  });
  recordRoutes(app);
  installBodyParsing(app.getHttpAdapter().getInstance());
  rejectNulInUrls(app.getHttpAdapter().getInstance());
  registerConsole(app.getHttpAdapter().getInstance(), config);
  app.useGlobalFilters(new HubExceptionFilter(app.get(HttpAdapterHost), logger, app.get(MetricsService)));
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  app.enableShutdownHooks();

  const openApi = new DocumentBuilder()
    .setTitle('Switchboard')
    .setDescription(
      'Management API of the Switchboard webhook hub. Every /api route takes Authorization: Bearer <key>, or the ' +
        'console session cookie from POST /api/session (then mutating requests also need x-csrf-token).',
    )
    .addBearerAuth()
    .addCookieAuth(
      'sb_session',
      { type: 'apiKey', in: 'cookie', description: 'Console session (POST /api/session)' },
      'session',
    )
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, openApi));
  return app;
}

/** One route as Fastify registered it: the method and the URL pattern (`/api/sources/:id`). */
export interface RegisteredRoute {
  method: string;
  url: string;
}

const ROUTES = new WeakMap<NestFastifyApplication, RegisteredRoute[]>();

/**
 * Every route the HTTP server really serves, recorded by Fastify's onRoute hook as Nest (and the Swagger module)
 * register them. The route-walk test proves auth and documentation over this list, so a new controller is
 * covered without being named anywhere. Filled once the app is initialised (listen or init).
 */
export function registeredRoutes(app: NestFastifyApplication): readonly RegisteredRoute[] {
  return ROUTES.get(app) ?? [];
}

function recordRoutes(app: NestFastifyApplication): void {
  const routes: RegisteredRoute[] = [];
  ROUTES.set(app, routes);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) routes.push({ method, url: route.url });
    });
}

/** The worker role needs no HTTP server: an application context runs the queue workers and reconciler. */
export async function createWorkerContext(config: HubConfig, logger: Logger): Promise<INestApplicationContext> {
  const context = await NestFactory.createApplicationContext(AppModule.forRoot(config, logger), {
    logger: new PinoNestLogger(logger.child({ component: 'nest' })),
    abortOnError: false,
  });
  context.enableShutdownHooks();
  return context;
}

/**
 * One catch-all parser keeps raw bytes. On /hooks/* the Buffer goes to the controller untouched, so the
 * verifier sees exactly what was signed and the rejection order stays 415 → 401 → 400 (DESIGN §7).
 * Elsewhere JSON is parsed here. Parser errors reach HubExceptionFilter like any other.
 */
function installBodyParsing(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES }, (req, body, done) => {
    const buffer = body as Buffer;
    if (isHookRoute(req.url)) return done(null, buffer);
    if (!buffer.length) return done(null, undefined);
    if (!/^application\/([\w.+-]+\+)?json\b/i.test(req.headers['content-type'] ?? '')) {
      return done(Object.assign(new Error('Content-Type must be application/json'), { statusCode: 415 }), undefined);
    }
    const text = buffer.toString('utf8');
    // Checked before parsing: recursive code downstream (validation, pg) overflows on deep bodies, and Postgres
    // text and jsonb columns cannot hold U+0000, so both would otherwise end as a 500 after the parse.
    const scan = scanJson(text, MAX_JSON_DEPTH);
    if (scan.depth > MAX_JSON_DEPTH) {
      return done(badRequest(`Body is nested deeper than ${MAX_JSON_DEPTH} levels`), undefined);
    }
    if (scan.nul) return done(badRequest('Body must not contain NUL characters (U+0000)'), undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(badRequest('Body is not valid JSON'), undefined);
    }
  });
}

/**
 * A NUL in a path parameter or query value reaches Postgres, whose text columns cannot hold it, and the query
 * fails with a 500. /hooks is left alone: there an id with a NUL is simply an unknown source (404, DESIGN §7).
 */
function rejectNulInUrls(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (req, _reply, done) => {
    if (!isHookRoute(req.url) && /%00/i.test(req.url)) {
      return done(badRequest('URL must not contain NUL characters (%00)'));
    }
    done();
  });
}

const badRequest = (message: string) => Object.assign(new Error(message), { statusCode: 400 });
