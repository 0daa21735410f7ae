/** /exec/{id}/...: start (hijacked), resize, inspect. Exec create lives with the container routes. */
import { InvalidArgument } from '../../errdefs/index.js';
import type { ExecService } from '../../engine/contract.js';
import type { Handler, HijackHandler } from '../call.js';
import { pipeSession } from '../hijack.js';
import { intParam } from '../query.js';
import { parseJsonObject, sendEmpty, sendJson, streamContentType } from '../reply.js';

type StartBody = Parameters<ExecService['start']>[1];

function startBody(raw: Record<string, unknown> | null): StartBody {
  const body: StartBody = {};
  if (raw === null) return body;
  for (const key of ['Detach', 'Tty'] as const) {
    const value = raw[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'boolean') throw new InvalidArgument(`invalid exec start config: "${key}" must be a boolean`);
    body[key] = value;
  }
  const size = raw.ConsoleSize;
  if (size !== undefined && size !== null) {
    if (!Array.isArray(size) || size.length !== 2 || !size.every((n) => Number.isInteger(n) && n >= 0)) {
      throw new InvalidArgument('invalid exec start config: "ConsoleSize" must be [height, width]');
    }
    body.ConsoleSize = [size[0] as number, size[1] as number];
  }
  return body;
}

export const execStart: HijackHandler = async (call) => {
  const body = startBody(parseJsonObject(await call.conn.readBody(), 'exec start config'));
  const session = await call.engine.exec.start(call.param, body);
  if (session === null) {
    call.conn.finish(200);
    return;
  }
  const socket = call.conn.takeOver(streamContentType(session.tty, call.version));
  await pipeSession(socket, session, call.settings.logger);
};

export const execRoutes = {
  async execResize(call) {
    const h = intParam(call.query, 'h');
    const w = intParam(call.query, 'w');
    if (h === undefined || w === undefined || h < 0 || w < 0) throw new InvalidArgument('query parameters "h" and "w" must be non-negative integers');
    await call.engine.exec.resize(call.param, h, w);
    sendEmpty(call.res, 200);
  },
  async execInspect(call) {
    sendJson(call.res, 200, await call.engine.exec.inspect(call.param));
  },
} satisfies Record<string, Handler>;
